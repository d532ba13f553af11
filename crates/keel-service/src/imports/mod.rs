//! CSV import: a file of companies, contacts or deals, mapped to fields, checked row by
//! row through the write path's own validation, then written in batches.
//!
//! The guarantee ("never half-applied without a report"): an import first reads the
//! whole file as a dry run — every row through the same checks as the write — and
//! refuses to start if any row fails (status `rejected`, nothing written). It then
//! checks again and writes in batches of `batch_size` rows, each with its records'
//! change-log and audit entries and the import's progress (counts, `next_row`), in the
//! same transaction. A transaction holds one batch, or several (up to 20,000 rows or
//! about a second) when the checking runs ahead of the writing. If a batch still fails
//! (someone changed the data in between, the database went away), the import stops as
//! `failed`: rows before `next_row` are in, none from it on, and running it again with
//! `resume_from = next_row` finishes it. `all_or_nothing` writes the whole file in one
//! transaction instead (on SQLite it holds the write lock throughout).
//!
//! - `reader`: bytes → rows (encoding, separator, quoting), streaming.
//! - `resolve`: companies, owners and contacts by name/domain/email; update keys.
//! - `run`: the two passes, batches, bookkeeping and the report.
//! - `background`: imports queued over the API, run by `keel serve` with progress, and
//!   resumed after a restart.

mod background;
mod reader;
mod resolve;
mod run;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use keel_domain::FieldErrors;
use keel_domain::import::mapping::{self, ColumnMapping};
use keel_domain::policy::Role;
use keel_store::imports::{self as store, ImportRow};
use serde::Serialize;
use uuid::Uuid;

use crate::{Ctx, Service, ServiceError};

pub use background::{INTERRUPTED, LEASE_LOST, spawn_runner};
pub use reader::{encoding_for, separator_for};
pub use run::Progress;

/// Rows shown by a preview.
pub const PREVIEW_ROWS: usize = 20;
/// Row errors kept in a report and in the `imports` table (all are counted).
pub const MAX_REPORTED_ERRORS: usize = 1000;
/// Rows per batch (checked together, written in one transaction) unless asked otherwise.
pub const DEFAULT_BATCH_SIZE: usize = 5000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportMode {
    /// Every row is a new record.
    Create,
    /// Every row changes the record its key names; no record is created.
    Update,
    /// Rows whose key names a record change it, the others create one.
    Upsert,
}

impl ImportMode {
    pub fn parse(s: &str) -> Option<ImportMode> {
        match s {
            "create" => Some(ImportMode::Create),
            "update" => Some(ImportMode::Update),
            "upsert" => Some(ImportMode::Upsert),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            ImportMode::Create => "create",
            ImportMode::Update => "update",
            ImportMode::Upsert => "upsert",
        }
    }
}

/// Where the file is: read twice (dry run, then import), never held whole in memory.
#[derive(Debug, Clone)]
pub enum ImportSource {
    Path(PathBuf),
    Bytes(Arc<[u8]>),
}

impl ImportSource {
    fn open(&self) -> Result<Box<dyn Read + Send>, ServiceError> {
        match self {
            ImportSource::Path(p) => std::fs::File::open(p)
                .map(|f| Box::new(f) as Box<dyn Read + Send>)
                .map_err(|e| FieldErrors::single("file", "unreadable", format!("cannot open the file: {e}")).into()),
            ImportSource::Bytes(b) => Ok(Box::new(std::io::Cursor::new(b.clone()))),
        }
    }
}

/// How to read the file and map its columns (shared by preview and import).
#[derive(Debug, Clone, Default)]
pub struct Format {
    /// An encoding label; None: detect (valid UTF-8, else Windows-1252).
    pub encoding: Option<String>,
    /// `,` `;` `|` or `tab`; None: detect from the header line.
    pub separator: Option<String>,
    /// Edits to the automatic mapping: header → field, or None to ignore the column.
    pub mapping: BTreeMap<String, Option<String>>,
}

#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub entity: String,
    pub mode: ImportMode,
    /// The field that finds the record to update: `id`, `email` (contacts), `domain` or
    /// `name` (companies). Defaults per entity: contacts email, companies domain, deals id.
    pub key: Option<String>,
    pub dry_run: bool,
    pub create_missing_companies: bool,
    pub format: Format,
    pub file_name: Option<String>,
    /// Skip data rows before this one (they were imported by an earlier, failed run).
    pub resume_from: Option<u64>,
    pub batch_size: usize,
    /// One transaction for the whole file instead of one per batch.
    pub all_or_nothing: bool,
}

impl ImportOptions {
    pub fn new(entity: &str, mode: ImportMode) -> Self {
        Self {
            entity: entity.to_string(),
            mode,
            key: None,
            dry_run: false,
            create_missing_companies: false,
            format: Format::default(),
            file_name: None,
            resume_from: None,
            batch_size: DEFAULT_BATCH_SIZE,
            all_or_nothing: false,
        }
    }
}

/// One problem with one row. `row` is the 1-based data row (the header is not a row,
/// blank lines are not counted); `line` the physical line the row starts on (the header
/// is line 1). `column` is the file's header, `field` the field it feeds, when known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    pub row: u64,
    pub line: u64,
    pub column: Option<String>,
    pub field: Option<String>,
    pub code: String,
    pub message: String,
}

/// What an import (or its dry run) did or would do.
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    /// The `imports` row (None for dry runs, which record nothing).
    pub id: Option<Uuid>,
    /// Dry runs: `valid` or `invalid`. Imports: `rejected` (the dry run failed, nothing
    /// was written), `completed` or `failed` (see `next_row`).
    pub status: &'static str,
    pub entity: String,
    pub mode: &'static str,
    pub key: Option<String>,
    pub dry_run: bool,
    pub encoding: String,
    pub separator: String,
    pub mapping: Vec<ColumnMapping>,
    /// Data rows read.
    pub rows: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Blank rows, and rows before `resume_from`.
    pub skipped: u64,
    /// Rows with at least one error.
    pub failed: u64,
    pub companies_created: u64,
    /// When an import stopped part-way: the first data row not imported (`resume_from`).
    pub next_row: Option<u64>,
    pub error_count: u64,
    /// The first `MAX_REPORTED_ERRORS` errors, by row.
    pub errors: Vec<RowError>,
    pub elapsed_ms: u64,
}

/// The first rows of a file and how they would be mapped.
#[derive(Debug, Clone, Serialize)]
pub struct Preview {
    pub entity: String,
    pub encoding: String,
    pub separator: String,
    pub headers: Vec<String>,
    pub mapping: Vec<ColumnMapping>,
    /// Required fields no column feeds: every row would fail on them.
    pub unmapped_required: Vec<String>,
    /// Fields a column could feed, for a mapping editor.
    pub fields: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

pub(crate) fn separator_name(b: u8) -> String {
    if b == b'\t' { "tab".into() } else { char::from(b).to_string() }
}

fn importable(service: &Service, name: &str) -> Result<(), ServiceError> {
    if !keel_domain::import::importable(name) || service.schema().entity(name).is_none() {
        return Err(FieldErrors::single(
            "entity",
            "not_importable",
            format!("entity must be one of {}", keel_domain::import::IMPORTABLE.join(", ")),
        )
        .into());
    }
    Ok(())
}

/// An import as stored, for `GET /api/v1/imports`.
pub fn import_json(r: &ImportRow) -> serde_json::Value {
    serde_json::json!({
        "id": r.id,
        "user_id": r.user_id,
        "file_name": r.file_name,
        "entity": r.entity,
        "mode": r.mode,
        "key": r.key_field,
        "status": r.status,
        "rows": r.total_rows,
        "created": r.created,
        "updated": r.updated,
        "unchanged": r.unchanged,
        "skipped": r.skipped,
        "failed": r.failed,
        "companies_created": r.companies_created,
        "next_row": r.next_row,
        "options": r.options,
        "encoding": r.options.get("encoding"),
        "separator": r.options.get("separator"),
        "error_count": r.error_count,
        "errors": r.errors,
        // Progress: `phase` is queued, validating, importing or done; `rows_done` counts
        // the data rows the phase has finished (of `rows` once the dry run counted them).
        "phase": r.phase,
        "rows_done": r.rows_done,
        "started_at": keel_domain::value::format_timestamp(r.started_at),
        "finished_at": r.finished_at.map(keel_domain::value::format_timestamp),
    })
}

impl Service {
    /// Detected encoding and separator, the header, the proposed mapping and the first
    /// `PREVIEW_ROWS` rows. Reads no further than that.
    pub async fn import_preview(
        &self,
        ctx: &Ctx,
        entity_name: &str,
        source: &ImportSource,
        format: &Format,
    ) -> Result<Preview, ServiceError> {
        let _ = ctx;
        importable(self, entity_name)?;
        let schema_entity = self.schema();
        let entity = schema_entity.entity(entity_name).ok_or(crate::ServiceError::NotFound)?;
        let mut file = run::open_file(source, format)?;
        let columns = mapping::apply_overrides(entity, mapping::auto_map(entity, &file.headers), &format.mapping)?;
        let mut rows = Vec::new();
        while rows.len() < PREVIEW_ROWS {
            match file.next_row()? {
                Some(r) => rows.push(r.cells),
                None => break,
            }
        }
        Ok(Preview {
            entity: entity.name.clone(),
            encoding: file.encoding.name().to_lowercase(),
            separator: separator_name(file.separator),
            headers: file.headers.clone(),
            unmapped_required: mapping::unmapped_required(entity, &columns),
            mapping: columns,
            fields: mapping::mappable_fields(entity).map(|f| f.name.clone()).collect(),
            rows,
        })
    }

    /// Import a file (or only check it, with `dry_run`). `progress` hears about every batch.
    pub async fn import(
        &self,
        ctx: &Ctx,
        source: ImportSource,
        options: ImportOptions,
        progress: Option<&(dyn Fn(Progress) + Send + Sync)>,
    ) -> Result<ImportReport, ServiceError> {
        importable(self, &options.entity)?;
        run::Importer::new(self, ctx, source, options)?.run(progress, None).await
    }

    /// Imports newest first: admins see everyone's, others their own.
    pub async fn imports_list(&self, ctx: &Ctx, limit: u32) -> Result<Vec<ImportRow>, ServiceError> {
        let mut tx = self.db.read().await?;
        Ok(store::list(&mut tx, viewer(ctx), u64::from(limit.clamp(1, 200))).await?)
    }

    pub async fn import_get(&self, ctx: &Ctx, id: Uuid) -> Result<ImportRow, ServiceError> {
        let mut tx = self.db.read().await?;
        store::get(&mut tx, id, viewer(ctx)).await?.ok_or(ServiceError::NotFound)
    }

    /// The first admin (oldest), whom `keel import` acts as unless told otherwise.
    pub async fn first_admin(&self) -> Result<Option<Uuid>, ServiceError> {
        let schema_users = self.schema();
        let users = schema_users.entity("users").ok_or(crate::ServiceError::NotFound)?;
        let mut tx = self.db.read().await?;
        let mut q = keel_domain::query::ListQuery::default_for(users);
        q.limit = 1;
        q.sort = keel_domain::query::Sort { field: "created_at".into(), desc: false, nullable: false };
        q.filters.push(keel_domain::query::Filter {
            field: "role".into(),
            op: keel_domain::query::Op::Eq,
            operand: keel_domain::query::Operand::One(keel_domain::Value::Text("admin".into())),
        });
        let page = keel_store::records::list(&mut tx, users, &q, &keel_domain::policy::RowScope::All, &[]).await?;
        Ok(page.records.first().and_then(keel_domain::Record::id))
    }
}

/// Whose imports the actor may read: everyone's for admins (None), else their own.
fn viewer(ctx: &Ctx) -> Option<Uuid> {
    (ctx.actor.role != Role::Admin).then_some(ctx.actor.user_id)
}
