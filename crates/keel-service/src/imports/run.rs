//! The two passes of an import over the file: check every row (the dry run), then
//! write batch by batch. Rows are read on a thread of their own and handed over a
//! bounded channel, so parsing overlaps with the database and memory stays flat.

use std::collections::{HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::{Duration, Instant};

use keel_domain::import::cell::{self, Cell};
use keel_domain::import::mapping::{self, ColumnMapping, MatchedBy};
use keel_domain::policy;
use keel_domain::validate::WriteContext;
use keel_domain::{EntityDef, FieldErrors};
use keel_store::imports::{self as store, ImportRow};
use keel_store::{Tx, records};
use serde_json::{Map, Value as Json, json};
use uuid::Uuid;

use super::reader::{CsvFile, RawRow, encoding_for, separator_for};
use super::resolve::{self, Lookups};
use super::{Format, ImportMode, ImportOptions, ImportReport, ImportSource, MAX_REPORTED_ERRORS, RowError};
use crate::records::batch::{BatchCounts, BatchItem, BatchOp, BatchWrite, Prepared};
use crate::{Ctx, Service, ServiceError};

/// Batches read ahead of the database: enough to keep the writer busy, few enough to
/// keep memory small.
const READ_AHEAD: usize = 2;

/// Where an import is, after each batch.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// `validating` (the dry run) or `importing`.
    pub phase: &'static str,
    /// Data rows done in this phase.
    pub rows: u64,
    /// Data rows in the file, once the dry run has counted them (the import phase).
    pub total: Option<u64>,
    pub elapsed: Duration,
}

/// A background import's hold on its `imports` row: progress goes to the row as it
/// happens, the lease is renewed with it, and the runner's stop signal ends the run
/// between batches (the row keeps where it was; the next runner resumes it).
pub(crate) struct Held {
    pub stop: tokio::sync::watch::Receiver<bool>,
    /// The file was partly imported by an earlier runner: rows before `resume_from` are
    /// already in the row's counts (created, skipped …).
    pub resuming: bool,
}

/// While the checker is ahead, the writer keeps adding its batches to one transaction
/// up to this many rows or this long. Each commit writes every index page the
/// transaction touched to the WAL and checkpoints it; an index keyed by company (three
/// on contacts) takes a few rows per page per batch, so fewer, larger commits write far
/// fewer pages: measured at a million rows on SQLite, commits took 17 s instead of 28 s.
/// The cost is that other writers may wait up to about this long for the write lock.
const GROUP_ROWS: usize = 20_000;
const GROUP_TIME: Duration = Duration::from_secs(1);

/// How long a runner holds an import without renewing its lease (every batch does).
pub const LEASE: Duration = Duration::from_secs(60);
/// The dry run writes its progress at most this often.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

pub(crate) fn open_file(source: &ImportSource, format: &Format) -> Result<CsvFile, ServiceError> {
    let encoding = format.encoding.as_deref().map(encoding_for).transpose()?;
    let separator = format.separator.as_deref().map(separator_for).transpose()?;
    CsvFile::open(source.open()?, encoding, separator)
}

/// The fields that may key an update, per entity (unique, or the id).
fn key_fields(entity: &str) -> &'static [&'static str] {
    match entity {
        "contacts" => &["email", "id"],
        "companies" => &["domain", "name", "id"],
        _ => &["id"],
    }
}

fn param_error(field: &str, code: &'static str, message: impl Into<String>) -> ServiceError {
    FieldErrors::single(field, code, message).into()
}

/// Counts and errors of one pass.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    rows: u64,
    counts: BatchCounts,
    skipped: u64,
    failed: u64,
    companies_created: u64,
    error_count: u64,
    errors: Vec<RowError>,
}

impl Tally {
    fn add_errors(&mut self, errors: Vec<RowError>) {
        let mut rows: Vec<u64> = errors.iter().map(|e| e.row).collect();
        rows.dedup();
        self.failed += rows.len() as u64;
        self.error_count += errors.len() as u64;
        let room = MAX_REPORTED_ERRORS.saturating_sub(self.errors.len());
        self.errors.extend(errors.into_iter().take(room));
    }
}

/// What the file has taught us so far, across batches of one pass.
#[derive(Debug, Default)]
struct FileState {
    lookups: Lookups,
    /// Companies this import creates (lowercased name → id), and those it cannot.
    new_companies: HashMap<String, Uuid>,
    bad_companies: HashMap<String, String>,
    /// Unique values and updated records seen, by hash, with the row that had them
    /// (8 bytes a key instead of the text: a million keys stay a few tens of MiB).
    seen: HashMap<u64, u64>,
}

fn fingerprint(kind: &str, value: &str) -> u64 {
    let mut h = DefaultHasher::new();
    kind.hash(&mut h);
    value.hash(&mut h);
    h.finish()
}

/// One batch, checked.
struct CheckedRows {
    errors: Vec<RowError>,
    /// Companies the rows name that the import creates, to write before the rows.
    companies: Vec<(u64, Prepared)>,
    ready: Vec<(u64, Prepared)>,
}

/// A clean batch on its way to the writer, ready to write.
struct WriteJob {
    /// Companies the rows name that the import creates, written first.
    companies: BatchWrite,
    records: BatchWrite,
    /// Data rows read so far (this batch's included) and skipped so far.
    rows: u64,
    skipped: u64,
}

/// What the writer wrote.
#[derive(Default)]
struct Written {
    counts: BatchCounts,
    companies_created: u64,
    /// All or nothing: the one transaction, not yet committed, and the import row as
    /// that transaction has it.
    open: Option<(Tx, ImportRow)>,
}

/// One row, converted: the input for the write path, its references still as text.
struct RowInput {
    row: u64,
    line: u64,
    input: Map<String, Json>,
    /// (field, text) to resolve.
    lookups: Vec<(String, String)>,
    key: Option<String>,
}

pub(crate) struct Importer<'a> {
    service: &'a Service,
    ctx: &'a Ctx,
    /// The schema this import runs against (one snapshot for the whole run).
    schema: std::sync::Arc<keel_domain::Schema>,
    entity_name: String,
    source: ImportSource,
    opts: ImportOptions,
    key: Option<String>,
    columns: Vec<ColumnMapping>,
    currency_column: Option<usize>,
    encoding: String,
    separator: String,
    started: Instant,
    held: Option<Held>,
}

impl<'a> Importer<'a> {
    /// The entity being imported (present: `new` checked it in this same schema).
    fn entity(&self) -> &EntityDef {
        match self.schema.entity(&self.entity_name) {
            Some(e) => e,
            None => unreachable_entity(),
        }
    }

    pub fn new(
        service: &'a Service,
        ctx: &'a Ctx,
        source: ImportSource,
        opts: ImportOptions,
    ) -> Result<Importer<'a>, ServiceError> {
        let schema = service.schema();
        let entity = schema.entity(&opts.entity).ok_or(crate::ServiceError::NotFound)?;
        let key = match opts.mode {
            ImportMode::Create => None,
            _ => {
                let key = opts.key.clone().unwrap_or_else(|| key_fields(&entity.name)[0].to_string());
                if !key_fields(&entity.name).contains(&key.as_str()) {
                    return Err(param_error(
                        "key",
                        "invalid_key",
                        format!("{} are matched by one of: {}", entity.name, key_fields(&entity.name).join(", ")),
                    ));
                }
                Some(key)
            }
        };
        if opts.mode != ImportMode::Update {
            policy::can_create(&ctx.actor, entity)?;
        }
        let file = open_file(&source, &opts.format)?;
        let mut columns =
            mapping::apply_overrides(entity, mapping::auto_map(entity, &file.headers), &opts.format.mapping)?;
        // An id column is a key, never a value: Keel makes ids.
        for c in columns.iter_mut().filter(|c| c.field.as_deref() == Some("id") && key.as_deref() != Some("id")) {
            if c.matched_by == Some(MatchedBy::Explicit) {
                return Err(param_error(
                    &format!("mapping.{}", c.header),
                    "read_only",
                    "ids are made by Keel: map `id` only to update or upsert with key=id",
                ));
            }
            c.field = None;
            c.matched_by = None;
        }
        if let Some(k) = &key
            && !columns.iter().any(|c| c.field.as_deref() == Some(k.as_str()))
        {
            return Err(param_error("key", "key_not_mapped", format!("no column feeds the key field `{k}`")));
        }
        let currency_column = columns.iter().find(|c| c.field.as_deref() == Some("currency")).map(|c| c.column);
        let batch_size = opts.batch_size.clamp(1, 5000);
        let opts = ImportOptions { batch_size, ..opts };
        let entity_name = entity.name.clone();
        Ok(Importer {
            service,
            ctx,
            schema: schema.clone(),
            entity_name,
            source,
            key,
            columns,
            currency_column,
            encoding: file.encoding.name().to_lowercase(),
            separator: super::separator_name(file.separator),
            opts,
            started: Instant::now(),
            held: None,
        })
    }

    /// Run as a background import holding its `imports` row.
    pub fn held(self, held: Held) -> Self {
        Self { held: Some(held), ..self }
    }

    fn lease_until(&self) -> time::OffsetDateTime {
        self.service.clock.now() + LEASE
    }

    fn stopping(&self) -> Result<(), ServiceError> {
        match &self.held {
            Some(h) if *h.stop.borrow() => {
                Err(ServiceError::conflict(super::INTERRUPTED, "Keel stopped; the import resumes when it starts again"))
            }
            _ => Ok(()),
        }
    }

    fn write_context(&self) -> WriteContext {
        WriteContext { import: true, ..self.service.write_context() }
    }

    fn report(&self, id: Option<Uuid>, status: &'static str, tally: Tally, next_row: Option<u64>) -> ImportReport {
        ImportReport {
            id,
            status,
            entity: self.entity().name.clone(),
            mode: self.opts.mode.as_str(),
            key: self.key.clone(),
            dry_run: self.opts.dry_run,
            encoding: self.encoding.clone(),
            separator: self.separator.clone(),
            mapping: self.columns.clone(),
            rows: tally.rows,
            created: tally.counts.created,
            updated: tally.counts.updated,
            unchanged: tally.counts.unchanged,
            skipped: tally.skipped,
            failed: tally.failed,
            companies_created: tally.companies_created,
            next_row,
            error_count: tally.error_count,
            errors: tally.errors,
            elapsed_ms: u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX),
        }
    }

    /// Check the file, then import it. `held`: the `imports` row of a background import
    /// (queued, or part-way when resumed); without it the row is made after the dry run.
    pub async fn run(
        self,
        progress: Option<&(dyn Fn(super::Progress) + Send + Sync)>,
        held: Option<ImportRow>,
    ) -> Result<ImportReport, ServiceError> {
        let mut held = held;
        let checked = self.pass(held.as_mut(), false, progress).await?;
        let tally = checked.0;
        if self.opts.dry_run {
            let status = if tally.error_count == 0 { "valid" } else { "invalid" };
            return Ok(self.report(None, status, tally, None));
        }
        let background = held.is_some();
        let mut row = match held {
            Some(mut row) => {
                row.total_rows = tally.rows as i64;
                row.failed = tally.failed as i64;
                row.errors = json!(tally.errors);
                row.error_count = tally.error_count as i64;
                row.next_row = Some(self.opts.resume_from.unwrap_or(1) as i64);
                row
            }
            None => self.import_row(&tally),
        };
        if tally.error_count > 0 {
            row.status = "rejected".into();
            row.phase = "done".into();
            row.finished_at = Some(self.service.clock.now());
            row.locked_until = None;
            let mut tx = self.service.db.side_write().await?;
            if background {
                store::update(&mut tx, &row).await?;
                store::delete_file(&mut tx, row.id).await?;
            } else {
                store::insert(&mut tx, &row).await?;
            }
            tx.commit().await?;
            return Ok(self.report(Some(row.id), "rejected", tally, None));
        }
        {
            row.phase = "importing".into();
            row.rows_done = 0;
            if background {
                row.locked_until = Some(self.lease_until());
            }
            let mut tx = self.service.db.side_write().await?;
            if background {
                store::update(&mut tx, &row).await?;
            } else {
                store::insert(&mut tx, &row).await?;
            }
            tx.commit().await?;
        }
        let result = self.pass(Some(&mut row), true, progress).await;
        let (tally, next_row, failure) = match result {
            Ok((tally, next_row)) => (tally, next_row, None),
            Err(e) if super::background::hands_over(&e) => return Err(e),
            Err(e) => (Tally::default(), row.next_row.map(|n| n as u64), Some(e)),
        };
        let status = if failure.is_none() && next_row.is_none() { "completed" } else { "failed" };
        // Counts as committed (with an earlier runner's, when resumed); errors of this run.
        let mut report_tally =
            Tally { error_count: tally.error_count, failed: tally.failed, errors: tally.errors, ..self.tally_of(&row) };
        if let Some(e) = &failure {
            report_tally.error_count += 1;
            report_tally.errors.push(RowError {
                row: row.next_row.map_or(0, |n| n as u64),
                line: 0,
                column: None,
                field: None,
                code: "import_stopped".into(),
                message: super::background::stopped_because(e),
            });
        }
        row.status = status.into();
        row.phase = "done".into();
        row.next_row = next_row.map(|n| n as i64);
        row.finished_at = Some(self.service.clock.now());
        row.locked_until = None;
        row.error_count = report_tally.error_count as i64;
        row.failed = report_tally.failed as i64;
        row.errors = json!(report_tally.errors);
        self.finish(&row).await?;
        if let Some(e) = failure {
            return Err(e);
        }
        Ok(self.report(Some(row.id), status, report_tally, next_row))
    }

    /// Counts as the `imports` row holds them (after a failure that lost the tally).
    fn tally_of(&self, row: &ImportRow) -> Tally {
        Tally {
            rows: row.total_rows as u64,
            counts: BatchCounts {
                created: row.created as u64,
                updated: row.updated as u64,
                unchanged: row.unchanged as u64,
            },
            skipped: row.skipped as u64,
            companies_created: row.companies_created as u64,
            ..Tally::default()
        }
    }

    pub(crate) fn import_row(&self, tally: &Tally) -> ImportRow {
        let mapping: Vec<Json> = self.columns.iter().map(|c| json!({ "header": c.header, "field": c.field })).collect();
        ImportRow {
            id: Uuid::now_v7(),
            user_id: self.ctx.actor.user_id,
            file_name: self.opts.file_name.as_ref().map(|f| f.chars().take(255).collect()),
            entity: self.entity().name.clone(),
            mode: self.opts.mode.as_str().into(),
            key_field: self.key.clone(),
            status: "running".into(),
            total_rows: tally.rows as i64,
            created: 0,
            updated: 0,
            unchanged: 0,
            skipped: 0,
            failed: tally.failed as i64,
            companies_created: 0,
            next_row: Some(self.opts.resume_from.unwrap_or(1) as i64),
            options: json!({
                "encoding": self.encoding,
                "separator": self.separator,
                "mapping": mapping,
                "create_missing_companies": self.opts.create_missing_companies,
                "resume_from": self.opts.resume_from,
                "batch_size": self.opts.batch_size,
                "all_or_nothing": self.opts.all_or_nothing,
            }),
            errors: json!(tally.errors),
            error_count: tally.error_count as i64,
            started_at: self.service.clock.now(),
            finished_at: None,
            phase: "validating".into(),
            rows_done: 0,
            locked_by: None,
            locked_until: None,
        }
    }

    /// Record the outcome and audit it, in one transaction (a background import's stored
    /// file goes with it).
    async fn finish(&self, row: &ImportRow) -> Result<(), ServiceError> {
        let mut tx = self.service.db.write().await?;
        store::update(&mut tx, row).await?;
        store::delete_file(&mut tx, row.id).await?;
        let event = crate::audit::Event {
            action: crate::audit::AuditAction::ImportCompleted,
            entity: Some(&self.entity().name),
            record_id: Some(row.id),
            details: json!({
                "import_id": row.id,
                "file_name": row.file_name,
                "mode": row.mode,
                "status": row.status,
                "rows": row.total_rows,
                "created": row.created,
                "updated": row.updated,
                "unchanged": row.unchanged,
                "skipped": row.skipped,
                "failed": row.failed,
                "companies_created": row.companies_created,
                "next_row": row.next_row,
            }),
        };
        crate::audit::append(&mut tx, crate::audit::Source::of(self.ctx), self.service.clock.now(), vec![event])
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Read the whole file: check every row (the dry run, `writing` false), or check and
    /// write batch by batch into `import`. Returns the tally and, when a write stopped
    /// early, the first row not written.
    ///
    /// A background import passes its row to the dry run too, which records its progress
    /// there (at most every `PROGRESS_EVERY`) and renews the lease.
    ///
    /// When writing, checking and writing overlap: this task checks batch N+1 on a read
    /// snapshot (and makes its diffs and audit entries) while a `Writer` task writes batch
    /// N. The database's side of a write (index upkeep, the WAL) and ours (parsing,
    /// validation, diffs, audit hashes) took about the same time one after the other; now
    /// they run at once, on two threads. Checking outside the writer's transaction is
    /// safe: what that snapshot cannot see yet is this file's own earlier rows, which
    /// `FileState` accounts for (unique values seen, companies the import creates). A
    /// concurrent writer that takes a unique value, or changes a record being updated,
    /// between the check and the write makes that write fail (the unique index, the
    /// version check): the import stops there and reports the row to resume from, as any
    /// failed write does.
    async fn pass(
        &self,
        import: Option<&mut ImportRow>,
        writing: bool,
        progress: Option<&(dyn Fn(super::Progress) + Send + Sync)>,
    ) -> Result<(Tally, Option<u64>), ServiceError> {
        let file = open_file(&self.source, &self.opts.format)?;
        let (sender, batches) = tokio::sync::mpsc::channel::<Result<Vec<RawRow>, ServiceError>>(READ_AHEAD);
        let batch_size = self.opts.batch_size;
        let reader = std::thread::spawn(move || read_batches(file, batch_size, sender));
        let result = match (writing, import) {
            (true, None) => Err(ServiceError::Internal("an import's write pass needs its imports row".into())),
            (true, Some(row)) => {
                let (jobs, queue) = tokio::sync::mpsc::channel::<WriteJob>(1);
                let (done, mut batches_done) = tokio::sync::mpsc::unbounded_channel::<u64>();
                let writer = tokio::spawn(self.writer(row.clone()).run(queue, done));
                let report = async {
                    while let Some(rows) = batches_done.recv().await {
                        if let Some(report) = progress {
                            let (total, elapsed) = (Some(row.total_rows as u64), self.started.elapsed());
                            report(super::Progress { phase: "importing", rows, total, elapsed });
                        }
                    }
                };
                let (checked, ()) = tokio::join!(self.check_batches(batches, None, Some(jobs), None), report);
                let (committed_row, written) = writer
                    .await
                    .map_err(|e| ServiceError::Internal(format!("the import writer stopped unexpectedly: {e}")))?;
                *row = committed_row;
                // A writer that failed hung up, so the checker stopped too: its error wins.
                let written = written?;
                checked.map(|(mut tally, mut stopped_at)| {
                    tally.counts = written.counts;
                    tally.companies_created = written.companies_created;
                    match written.open {
                        Some((tx, pending)) if stopped_at.is_none() => {
                            *row = pending;
                            return (tally, stopped_at, Some(tx));
                        }
                        Some(_) => {
                            // All or nothing, and a batch failed: the one transaction is
                            // dropped, so nothing of the file is in.
                            tally.counts = BatchCounts::default();
                            tally.companies_created = 0;
                            stopped_at = Some(self.opts.resume_from.unwrap_or(1));
                        }
                        None => {}
                    }
                    (tally, stopped_at, None)
                })
            }
            (false, import) => self.check_batches(batches, import, None, progress).await.map(|(t, s)| (t, s, None)),
        };
        if reader.join().is_err() {
            return Err(ServiceError::Internal("the import file reader stopped unexpectedly".into()));
        }
        let (tally, stopped_at, open) = result?;
        if let Some(tx) = open {
            tx.commit().await?;
        }
        Ok((tally, stopped_at))
    }

    /// Check the file's batches as they arrive. With `jobs`, hand each clean batch to the
    /// writer and stop at the first batch with errors; without, count what a write would
    /// do and go on to the end. `import`: a background import's row, for the dry run's
    /// progress and lease.
    async fn check_batches(
        &self,
        mut batches: tokio::sync::mpsc::Receiver<Result<Vec<RawRow>, ServiceError>>,
        mut import: Option<&mut ImportRow>,
        jobs: Option<tokio::sync::mpsc::Sender<WriteJob>>,
        progress: Option<&(dyn Fn(super::Progress) + Send + Sync)>,
    ) -> Result<(Tally, Option<u64>), ServiceError> {
        let mut noted = Instant::now();
        let mut state = FileState::default();
        let mut tally = Tally::default();
        let mut stopped_at = None;
        let schema = self.service.schema();
        let companies = schema.entity("companies").ok_or(ServiceError::NotFound)?;
        let backend = self.service.db.backend();
        while let Some(batch) = batches.recv().await {
            self.stopping()?;
            let batch = batch?;
            let Some(first_row) = batch.first().map(|r| r.row) else { continue };
            let mut tx = self.service.db.read().await?;
            let checked = self.batch(&mut tx, &mut state, &mut tally, batch).await?;
            drop(tx);
            if let Some(jobs) = &jobs {
                if !checked.errors.is_empty() {
                    // Nothing of this batch is written; report why and where to resume.
                    tally.add_errors(checked.errors);
                    stopped_at = Some(first_row);
                    break;
                }
                // Wait for room before making the write ready: a made batch holds its
                // statements and audit entries (~10 KB a row), and two in flight (one
                // queued, one being written) are enough to keep the writer busy.
                let Ok(slot) = jobs.reserve().await else {
                    break; // the writer failed; its error is the pass's
                };
                let now = self.write_context().now;
                let job = WriteJob {
                    companies: BatchWrite::new(backend, self.ctx, companies, checked.companies, now)?,
                    records: BatchWrite::new(backend, self.ctx, self.entity(), checked.ready, now)?,
                    rows: tally.rows,
                    skipped: tally.skipped,
                };
                slot.send(job);
                continue;
            }
            tally.companies_created += checked.companies.len() as u64;
            for (_, p) in &checked.ready {
                match p {
                    Prepared::Create(_) => tally.counts.created += 1,
                    Prepared::Update { .. } => tally.counts.updated += 1,
                    Prepared::Unchanged(_) => tally.counts.unchanged += 1,
                }
            }
            tally.add_errors(checked.errors);
            if let Some(row) = import.as_deref_mut()
                && self.held.is_some()
                && noted.elapsed() >= PROGRESS_EVERY
            {
                row.phase = "validating".into();
                row.rows_done = tally.rows as i64;
                row.locked_until = Some(self.lease_until());
                let mut side = self.service.db.side_write().await?;
                store::update(&mut side, row).await?;
                side.commit().await?;
                noted = Instant::now();
            }
            if let Some(report) = progress {
                report(super::Progress {
                    phase: "validating",
                    rows: tally.rows,
                    total: None,
                    elapsed: self.started.elapsed(),
                });
            }
        }
        Ok((tally, stopped_at))
    }

    /// The writer of this import's write pass, starting from `import` as it stands.
    fn writer(&self, import: ImportRow) -> Writer {
        // Counts an earlier runner committed (a resumed background import).
        let base = match &self.held {
            Some(h) if h.resuming => self.tally_of(&import),
            _ => Tally::default(),
        };
        Writer {
            service: self.service.clone(),
            schema: self.schema.clone(),
            entity: self.entity_name.clone(),
            leased: self.held.is_some(),
            all_or_nothing: self.opts.all_or_nothing,
            batch_size: self.opts.batch_size as u64,
            base: (base.counts, base.skipped, base.companies_created),
            import,
        }
    }

    /// Check one batch: its rows' errors, the companies it creates and the rows ready to
    /// write. Companies an earlier batch creates count as existing (they are written, or
    /// will be, before this batch).
    async fn batch(
        &self,
        tx: &mut Tx,
        state: &mut FileState,
        tally: &mut Tally,
        rows: Vec<RawRow>,
    ) -> Result<CheckedRows, ServiceError> {
        let mut errors = Vec::new();
        let mut inputs = Vec::with_capacity(rows.len());
        let mut lines = HashMap::new();
        for raw in rows {
            tally.rows += 1;
            if self.opts.resume_from.is_some_and(|from| raw.row < from) {
                // A resumed background import's earlier rows are in the counts already.
                if !self.held.as_ref().is_some_and(|h| h.resuming) {
                    tally.skipped += 1;
                }
                continue;
            }
            if raw.is_blank() {
                tally.skipped += 1;
                continue;
            }
            lines.insert(raw.row, raw.line);
            match self.convert(&raw) {
                Ok(input) => inputs.push(input),
                Err(mut e) => errors.append(&mut e),
            }
        }
        let wc = self.write_context();
        let mut companies = Vec::new();
        let items = self.resolve(tx, state, inputs, &mut errors, &wc, &mut companies).await?;
        let pending: HashSet<Uuid> = state.new_companies.values().copied().collect();
        let mut checked = self.service.check_batch(tx, self.ctx, self.entity(), items, &wc, &pending).await?;
        for (row, e) in std::mem::take(&mut checked.refused) {
            errors.extend(self.row_errors(row, lines.get(&row).copied().unwrap_or(0), e));
        }
        // Duplicates across batches (within one batch, `check_batch` found them).
        let mut ready = Vec::with_capacity(checked.ready.len());
        for (row, p) in checked.ready {
            match self.first_seen(state, row, &p) {
                Ok(()) => ready.push((row, p)),
                Err(e) => errors.extend(self.row_errors(row, lines.get(&row).copied().unwrap_or(0), e)),
            }
        }
        errors.sort_by_key(|e| e.row);
        Ok(CheckedRows { errors, companies, ready })
    }

    /// Unique values and updated records must not repeat across the file. A row that
    /// updates a record an earlier row updated is reported as that alone.
    fn first_seen(&self, state: &mut FileState, row: u64, p: &Prepared) -> Result<(), FieldErrors> {
        let earlier = |state: &FileState, mark: u64| state.seen.get(&mark).copied().filter(|first| *first != row);
        let id_mark = match (p, p.id()) {
            (Prepared::Update { .. } | Prepared::Unchanged(_), Some(id)) => Some(fingerprint("#id", &id.to_string())),
            _ => None,
        };
        if let Some(first) = id_mark.and_then(|m| earlier(state, m)) {
            let key = self.key.clone().unwrap_or_else(|| "id".into());
            let message = format!("row {first} of this file already updates this {}", self.entity().singular);
            return Err(FieldErrors::single(key, "duplicate_key", message));
        }
        let mut marks: Vec<u64> = id_mark.into_iter().collect();
        let mut errors = FieldErrors::new();
        for f in self.entity().fields.iter().filter(|f| f.unique) {
            let Some(text) = p.record().and_then(|r| r.text(&f.name)) else { continue };
            let mark = fingerprint(&f.name, &text.to_lowercase());
            match earlier(state, mark) {
                Some(first) => errors.push(
                    f.name.clone(),
                    "duplicate",
                    format!("row {first} of this file has the same {} `{text}`", f.label.to_lowercase()),
                ),
                None => marks.push(mark),
            }
        }
        errors.into_result()?;
        for mark in marks {
            state.seen.insert(mark, row);
        }
        Ok(())
    }

    fn column_of(&self, field: &str) -> Option<String> {
        self.columns.iter().find(|c| c.field.as_deref() == Some(field)).map(|c| c.header.clone())
    }

    fn row_errors(&self, row: u64, line: u64, errors: FieldErrors) -> Vec<RowError> {
        errors
            .0
            .into_iter()
            .map(|e| RowError {
                row,
                line,
                column: self.column_of(&e.field),
                field: Some(e.field),
                code: e.code.to_string(),
                message: e.message,
            })
            .collect()
    }

    /// Cells → the write path's input; references stay text until `resolve`.
    fn convert(&self, raw: &RawRow) -> Result<RowInput, Vec<RowError>> {
        let error = |column: Option<usize>, field: Option<&str>, code: &str, message: String| RowError {
            row: raw.row,
            line: raw.line,
            column: column.and_then(|c| self.columns.get(c)).map(|c| c.header.clone()),
            field: field.map(str::to_string),
            code: code.to_string(),
            message,
        };
        if let Some((code, message, column)) = &raw.problem {
            let field = column.and_then(|c| self.columns.get(c)).and_then(|c| c.field.as_deref());
            return Err(vec![error(*column, field, code, message.clone())]);
        }
        let currency = self.currency_column.and_then(|c| raw.cells.get(c)).map(|s| s.trim()).filter(|s| !s.is_empty());
        let mut out = RowInput { row: raw.row, line: raw.line, input: Map::new(), lookups: Vec::new(), key: None };
        let mut errors = Vec::new();
        for c in &self.columns {
            let (Some(name), Some(text)) = (c.field.as_deref(), raw.cells.get(c.column)) else { continue };
            let Some(field) = self.entity().field(name) else { continue };
            if self.key.as_deref() == Some(name) {
                let k = text.trim();
                out.key = (!k.is_empty()).then(|| if name == "id" { k.to_string() } else { k.to_lowercase() });
                if name == "id" {
                    continue;
                }
            }
            match cell::convert(field, text, currency) {
                Ok(Cell::Value(v)) => {
                    out.input.insert(name.to_string(), v);
                }
                Ok(Cell::Lookup(t)) => out.lookups.push((name.to_string(), t)),
                Err((code, message)) => errors.push(error(Some(c.column), Some(name), code, message)),
            }
        }
        if errors.is_empty() { Ok(out) } else { Err(errors) }
    }

    /// Resolve references and keys, check the missing companies the rows name (into
    /// `companies`, to be created before the rows), and make the batch items.
    #[allow(clippy::too_many_arguments)]
    async fn resolve(
        &self,
        tx: &mut Tx,
        state: &mut FileState,
        mut inputs: Vec<RowInput>,
        errors: &mut Vec<RowError>,
        wc: &WriteContext,
        companies: &mut Vec<(u64, Prepared)>,
    ) -> Result<Vec<BatchItem>, ServiceError> {
        // References by text, one query per target entity.
        let schema = self.service.schema();
        let mut by_field: HashMap<String, Vec<String>> = HashMap::new();
        for i in &inputs {
            for (field, text) in &i.lookups {
                by_field.entry(field.clone()).or_default().push(text.to_lowercase());
            }
        }
        for (field, texts) in &by_field {
            if let Some(target) = self.target(field).and_then(|t| schema.entity(t)) {
                state.lookups.resolve(tx, self.ctx, target, texts).await?;
            }
        }
        // Missing companies: made in this transaction, before the rows that name them.
        let mut to_create: Vec<(Uuid, String)> = Vec::new();
        let mut failed = HashSet::new();
        for (n, input) in inputs.iter_mut().enumerate() {
            let mut row_errors = FieldErrors::new();
            for (field, text) in std::mem::take(&mut input.lookups) {
                let target = self.target(&field).unwrap_or_default();
                let lower = text.to_lowercase();
                let id = state.lookups.get(target, &lower).or_else(|| {
                    if target != "companies" || !self.opts.create_missing_companies {
                        return None;
                    }
                    if let Some(id) = state.new_companies.get(&lower) {
                        return Some(*id);
                    }
                    let id = Uuid::now_v7();
                    state.new_companies.insert(lower.clone(), id);
                    to_create.push((id, text.clone()));
                    Some(id)
                });
                match (id, state.bad_companies.get(&lower)) {
                    (Some(_), Some(why)) if target == "companies" => {
                        row_errors.push(field.clone(), "invalid_company", why.clone());
                    }
                    (Some(id), _) => {
                        input.input.insert(field.clone(), Json::from(id.to_string()));
                    }
                    (None, _) => {
                        let hint = if target == "companies" { " (create_missing_companies makes it)" } else { "" };
                        row_errors.push(
                            field.clone(),
                            "not_found",
                            format!(
                                "no {} with the {} `{text}` that you can see{hint}",
                                schema.entity(target).map_or(target, |e| e.singular.as_str()),
                                resolve::described(target)
                            ),
                        );
                    }
                }
            }
            if !row_errors.is_empty() {
                failed.insert(n);
                errors.extend(self.row_errors(input.row, input.line, row_errors));
            }
        }
        if !to_create.is_empty() {
            companies.extend(self.check_companies(tx, state, to_create, wc).await?);
            // Rows naming a company that cannot be made fail with it.
            for (n, input) in inputs.iter().enumerate() {
                if failed.contains(&n) {
                    continue;
                }
                for (field, v) in &input.input {
                    if self.target(field) == Some("companies")
                        && let Some(id) = v.as_str().and_then(|s| Uuid::parse_str(s).ok())
                        && let Some(why) = state
                            .new_companies
                            .iter()
                            .find(|(_, made)| **made == id)
                            .and_then(|(name, _)| state.bad_companies.get(name))
                    {
                        failed.insert(n);
                        errors.extend(self.row_errors(
                            input.row,
                            input.line,
                            FieldErrors::single(field.clone(), "invalid_company", why.clone()),
                        ));
                    }
                }
            }
        }
        // Update keys, one query per batch.
        let found = match &self.key {
            Some(key) => {
                let values: Vec<String> = inputs.iter().filter_map(|i| i.key.clone()).collect();
                resolve::by_key(tx, self.ctx, self.entity(), key, &values).await?
            }
            None => HashMap::new(),
        };
        let mut items = Vec::with_capacity(inputs.len());
        for (n, input) in inputs.into_iter().enumerate() {
            if failed.contains(&n) {
                continue;
            }
            let op = match (&self.key, &input.key) {
                (None, _) => BatchOp::Create { id: Uuid::now_v7(), input: input.input },
                (Some(_), Some(k)) if found.contains_key(k) => match found.get(k) {
                    Some(before) => BatchOp::Update { before: Box::new(before.clone()), input: input.input },
                    None => continue,
                },
                (Some(key), k) if self.opts.mode == ImportMode::Update || (key == "id" && k.is_some()) => {
                    let message = match k {
                        Some(k) => format!("no {} with {key} `{k}` that you can see", self.entity().singular),
                        None => format!("the key `{key}` is empty: an update needs it"),
                    };
                    let code = if k.is_some() { "not_found" } else { "required" };
                    errors.extend(self.row_errors(
                        input.row,
                        input.line,
                        FieldErrors::single(key.clone(), code, message),
                    ));
                    continue;
                }
                (Some(_), _) => BatchOp::Create { id: Uuid::now_v7(), input: input.input },
            };
            items.push(BatchItem { row: input.row, op });
        }
        Ok(items)
    }

    /// Check the companies rows named but none matched: those that may be created, and
    /// (in `state.bad_companies`) why the others may not.
    async fn check_companies(
        &self,
        tx: &mut Tx,
        state: &mut FileState,
        to_create: Vec<(Uuid, String)>,
        wc: &WriteContext,
    ) -> Result<Vec<(u64, Prepared)>, ServiceError> {
        let schema_companies = self.service.schema();
        let companies = schema_companies.entity("companies").ok_or(crate::ServiceError::NotFound)?;
        let items: Vec<BatchItem> = to_create
            .iter()
            .enumerate()
            .map(|(i, (id, name))| {
                let mut input = Map::new();
                input.insert("name".into(), Json::from(name.clone()));
                BatchItem { row: i as u64, op: BatchOp::Create { id: *id, input } }
            })
            .collect();
        let checked = self.service.check_batch(tx, self.ctx, companies, items, wc, &HashSet::new()).await?;
        for (i, e) in &checked.refused {
            if let Some((_, name)) = to_create.get(*i as usize) {
                state.bad_companies.insert(name.to_lowercase(), format!("cannot create company `{name}`: {e}"));
            }
        }
        Ok(checked.ready)
    }

    /// The entity a reference field points at.
    fn target(&self, field: &str) -> Option<&str> {
        self.entity().field(field).and_then(|f| f.reference.as_deref())
    }
}

/// The write half of an import's write pass: a task of its own, so that it runs on
/// another thread than the checker (each has about half of the CPU work).
struct Writer {
    service: Service,
    schema: std::sync::Arc<keel_domain::Schema>,
    entity: String,
    /// A background import's runner renews its lease with every batch.
    leased: bool,
    all_or_nothing: bool,
    batch_size: u64,
    /// Counts an earlier runner committed: created/updated/unchanged, skipped, companies.
    base: (BatchCounts, u64, u64),
    import: ImportRow,
}

impl Writer {
    /// Write the checked batches, each with the import row's counts and next row, in
    /// transactions of one or more batches (`GROUP_ROWS`), or all in one (all or nothing);
    /// send the rows done after each batch. Returns the import row as last committed (what
    /// a failed import resumes from) and what was written (with, all or nothing, the
    /// still open transaction).
    async fn run(
        mut self,
        mut queue: tokio::sync::mpsc::Receiver<WriteJob>,
        progress: tokio::sync::mpsc::UnboundedSender<u64>,
    ) -> (ImportRow, Result<Written, ServiceError>) {
        let result = self.write_all(&mut queue, &progress).await;
        (self.import, result)
    }

    async fn write_all(
        &mut self,
        queue: &mut tokio::sync::mpsc::Receiver<WriteJob>,
        progress: &tokio::sync::mpsc::UnboundedSender<u64>,
    ) -> Result<Written, ServiceError> {
        let schema = self.schema.clone();
        let entity = schema.entity(&self.entity).ok_or(ServiceError::NotFound)?;
        let companies = schema.entity("companies").ok_or(ServiceError::NotFound)?;
        let (base, base_skipped, base_companies) = self.base;
        let mut written = Written::default();
        // The import row as the open transaction has it; `self.import` is as committed.
        let mut pending = self.import.clone();
        let mut open: Option<Tx> = None;
        // The open transaction's rows and age, for `GROUP_ROWS` and `GROUP_TIME`.
        let mut tx_rows = 0usize;
        let mut tx_started = Instant::now();
        // Rows written when the table's statistics are next refreshed: after the first
        // batch, then each time the count doubles (a handful of ANALYZEs for a million).
        let mut refresh_at = self.batch_size;
        while let Some(job) = queue.recv().await {
            let mut tx = match open.take() {
                Some(tx) => tx,
                None => {
                    tx_rows = 0;
                    tx_started = Instant::now();
                    self.service.db.write().await?
                }
            };
            tx_rows += job.records.len();
            let made = job.companies.write(&mut tx, companies).await?;
            let counts = job.records.write(&mut tx, entity).await?;
            written.counts.created += counts.created;
            written.counts.updated += counts.updated;
            written.counts.unchanged += counts.unchanged;
            written.companies_created += made.created;
            pending.created = (base.created + written.counts.created) as i64;
            pending.updated = (base.updated + written.counts.updated) as i64;
            pending.unchanged = (base.unchanged + written.counts.unchanged) as i64;
            pending.skipped = (base_skipped + job.skipped) as i64;
            pending.companies_created = (base_companies + written.companies_created) as i64;
            pending.next_row = Some(job.rows as i64 + 1);
            pending.rows_done = job.rows as i64;
            if self.leased {
                pending.locked_until = Some(self.service.clock.now() + LEASE);
            }
            store::update(&mut tx, &pending).await?;
            let group = tx_rows < GROUP_ROWS && tx_started.elapsed() < GROUP_TIME && !queue.is_empty();
            if self.all_or_nothing || group {
                open = Some(tx);
            } else {
                tx.commit().await?;
                self.import = pending.clone();
                let rows = written.counts.created + written.counts.updated;
                if rows >= refresh_at {
                    refresh_at = rows.saturating_mul(2);
                    let mut side = self.service.db.side_write().await?;
                    records::refresh_statistics(&mut side, entity).await?;
                    side.commit().await?;
                }
            }
            // The checker may have finished and stopped listening: nothing to report to.
            let _ = progress.send(job.rows);
        }
        written.open = open.map(|tx| (tx, pending));
        Ok(written)
    }
}

/// The reading thread: rows in batches over the channel until the end of the file, an
/// error, or the receiver hanging up (the import stopped).
fn read_batches(
    mut file: CsvFile,
    batch_size: usize,
    sender: tokio::sync::mpsc::Sender<Result<Vec<RawRow>, ServiceError>>,
) {
    let mut batch = Vec::with_capacity(batch_size);
    loop {
        match file.next_row() {
            Ok(Some(row)) => {
                batch.push(row);
                if batch.len() == batch_size {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(batch_size));
                    if sender.blocking_send(Ok(full)).is_err() {
                        return;
                    }
                }
            }
            Ok(None) => {
                if !batch.is_empty() {
                    let _ = sender.blocking_send(Ok(batch));
                }
                return;
            }
            Err(e) => {
                let _ = sender.blocking_send(Err(e));
                return;
            }
        }
    }
}

/// `Importer::new` found the entity in the schema snapshot the importer keeps, so it is
/// always there; this only satisfies the type checker without a panic path on input.
fn unreachable_entity() -> &'static EntityDef {
    static EMPTY: std::sync::OnceLock<EntityDef> = std::sync::OnceLock::new();
    EMPTY.get_or_init(|| EntityDef {
        name: String::new(),
        singular: String::new(),
        label: String::new(),
        owned: false,
        soft_delete: false,
        default_sort: "id".into(),
        fields: Vec::new(),
    })
}
