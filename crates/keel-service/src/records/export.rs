//! CSV export of a list view (issue 3, item 5): the rows a list with the same filters,
//! search and sort would show the actor (row-level security and the filter/sort guards of
//! `read.rs`), each presented exactly as the JSON API presents it (`present`: fields the
//! actor may not read are empty cells), as RFC 4180 CSV after a watermark comment line.
//!
//! Who may export and how much is `policy::can_export`; the numbers are `ServiceConfig`
//! (`export_max_rows`, `exports_per_day`).
//!
//! **Streaming, and why the audit entry is written first.** The body is streamed, never
//! built in memory: `ExportBody::next_chunk` reads one keyset page of `BATCH` rows at a
//! time, when the HTTP body asks for more, from one read snapshot (SQLite's WAL snapshot;
//! PostgreSQL REPEATABLE READ). Before the first byte is sent, in that same snapshot, a
//! COUNT gives the exact number of rows the file will hold; the `export.completed` audit
//! entry is then committed with that count (and the per-day limit is checked in the same
//! write transaction, so two parallel exports cannot both slip under it). The stream
//! never emits more rows than were counted. So the audit log can over-report — a client
//! that disconnects half-way is still recorded as having exported every row — but it can
//! never under-report: no row leaves the server that an audit entry does not already cover.
//! Recording when the stream completes instead would lose the entry whenever the client
//! (or the server) stops in the middle, after rows had already left.

use std::sync::Arc;

use keel_domain::policy::{self, ExportLimit, RowScope};
use keel_domain::query::{Cursor, Filter, ListQuery};
use keel_domain::{EntityDef, Schema};
use keel_store::audit as audit_store;
use keel_store::{StoreError, Tx, records};
use serde_json::{Value as Json, json};
use time::{Duration, OffsetDateTime, UtcOffset};

use super::present;
use crate::audit::{AuditAction, Event, Source};
use crate::{Ctx, Service, ServiceError};

/// Rows per export for roles with a limited export, unless configured (the CRM guide's 1,000).
pub const DEFAULT_MAX_ROWS: u64 = 1_000;
/// Exports per user per rolling 24 hours for roles with a limited export (the guide's 5).
pub const DEFAULT_PER_DAY: u32 = 5;
/// Rows read from the database per page while streaming.
const BATCH: u32 = 500;
/// The rolling window of the per-day limit.
const WINDOW: Duration = Duration::days(1);

/// Starting an export needs two pooled connections at once (the snapshot, then the write
/// transaction for the limit check and the audit entry). Were many exports to start
/// together, each could hold a snapshot while waiting for a second connection that only a
/// finished export would free: a pool deadlock. Starts therefore take turns (one at a time
/// per process); streaming afterwards holds one connection and runs in parallel.
static STARTING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);

/// Why an export was refused, beyond the errors every use case has.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Service(#[from] ServiceError),
    /// More rows match than the actor may export at once: nothing was exported or audited.
    #[error("{count} records match; an export may hold at most {limit}")]
    TooLarge { count: u64, limit: u64 },
    /// The actor already exported `limit` times in the last 24 hours.
    #[error("at most {limit} exports per 24 hours; retry in {retry_after} s")]
    LimitReached { limit: u32, retry_after: u64 },
}

impl From<StoreError> for ExportError {
    fn from(e: StoreError) -> Self {
        ExportError::Service(e.into())
    }
}

impl From<policy::Denied> for ExportError {
    fn from(d: policy::Denied) -> Self {
        ExportError::Service(d.into())
    }
}

/// An export that was allowed and audited; `body` yields the file.
pub struct Export {
    /// `deals-2026-11-24.csv`.
    pub filename: String,
    /// Data rows the file holds (the header and watermark not counted).
    pub rows: u64,
    pub body: ExportBody,
}

/// The CSV file, produced a page at a time from the export's read snapshot.
pub struct ExportBody {
    /// The open snapshot; None once the last page has been read.
    tx: Option<Tx>,
    schema: Arc<Schema>,
    entity: String,
    ctx: Ctx,
    query: ListQuery,
    scope: RowScope,
    extra: Vec<Filter>,
    columns: Vec<String>,
    /// The watermark line and the header row, sent first.
    preamble: Option<Vec<u8>>,
    /// Rows still allowed out: the audited count.
    remaining: u64,
}

/// A writer for one piece of the file (a fresh one per page: `into_inner` hands its bytes over).
fn csv_writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new())
}

fn csv_bytes(writer: csv::Writer<Vec<u8>>) -> Result<Vec<u8>, ServiceError> {
    writer.into_inner().map_err(|e| csv_error(e.error()))
}

fn csv_error(e: impl std::fmt::Display) -> ServiceError {
    ServiceError::Internal(format!("writing CSV: {e}"))
}

/// Spreadsheet tools run a cell that starts with `=`, `+`, `-` or `@` (or a tab or carriage
/// return before one) as a formula ("CSV injection"). Such text cells get a leading `'`,
/// which those tools read as "this is text" and do not display. Numbers and booleans come
/// from typed fields and are never prefixed (`-5` stays a number).
pub fn neutralise(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{text}") } else { text.to_string() }
}

/// One cell, formatted as the JSON API formats the value: dates and times ISO 8601, money
/// integer minor units (the currency is its own column), empty for null or redacted.
fn cell(value: Option<&Json>) -> String {
    match value {
        None | Some(Json::Null) => String::new(),
        Some(Json::String(s)) => neutralise(s),
        Some(Json::Bool(b)) => b.to_string(),
        Some(Json::Number(n)) => n.to_string(),
        Some(other) => neutralise(&other.to_string()),
    }
}

/// Control characters (a forged newline) must not break out of the comment line.
fn one_line(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).collect()
}

impl ExportBody {
    /// The next piece of the file; None when it is complete. An error ends the stream
    /// (the HTTP response is then cut short, which clients see as an incomplete body).
    pub async fn next_chunk(&mut self) -> Option<Result<Vec<u8>, ServiceError>> {
        if let Some(preamble) = self.preamble.take() {
            return Some(Ok(preamble));
        }
        self.tx.as_ref()?;
        match self.page().await {
            Ok(bytes) => Some(Ok(bytes)),
            Err(e) => {
                self.tx = None;
                Some(Err(e))
            }
        }
    }

    /// Read and write one page; closes the snapshot after the last one.
    async fn page(&mut self) -> Result<Vec<u8>, ServiceError> {
        let entity = self.schema.entity(&self.entity).ok_or(ServiceError::NotFound)?;
        let Some(tx) = self.tx.as_mut() else {
            return Ok(Vec::new());
        };
        let page = records::list(tx, entity, &self.query, &self.scope, &self.extra).await?;
        let mut writer = csv_writer();
        let mut last = None;
        for record in &page.records {
            if self.remaining == 0 {
                // Cannot happen inside one snapshot; if it did, the audit entry's count holds.
                tracing::warn!(entity = %self.entity, "export found more rows than it counted; stopping at the count");
                break;
            }
            self.remaining -= 1;
            let json = present(&self.ctx, entity, record);
            writer.write_record(self.columns.iter().map(|c| cell(json.get(c)))).map_err(csv_error)?;
            last = Some(record);
        }
        let next = match (page.next_cursor.is_some() && self.remaining > 0, last) {
            (true, Some(r)) => r.id().map(|id| Cursor { value: r.get(&self.query.sort.field).clone(), id }),
            _ => None,
        };
        match next {
            Some(cursor) => self.query.cursor = Some(cursor),
            None => {
                if self.remaining > 0 {
                    tracing::warn!(entity = %self.entity, missing = self.remaining, "export ended before its count");
                }
                if let Some(tx) = self.tx.take() {
                    tx.commit().await?;
                }
            }
        }
        csv_bytes(writer)
    }
}

/// How the file is laid out: which columns (default: every field the API returns, in
/// schema order) and whether it starts with a UTF-8 byte-order mark, which Excel needs to
/// read UTF-8 instead of the machine's legacy code page.
#[derive(Debug, Clone, Default)]
pub struct ExportLayout {
    pub columns: Option<Vec<String>>,
    pub bom: bool,
}

impl Service {
    /// Start a CSV export of what `list` would return for `query` (its cursor, limit and
    /// count are ignored: an export holds every matching row). `query_string` is the list
    /// URL's query as the client sent it, for the watermark and the audit entry. Checks the
    /// policy and the limits, counts the rows and records `export.completed` before
    /// returning the body (see the module comment).
    pub async fn export_csv(
        &self,
        ctx: &Ctx,
        entity_name: &str,
        query: &ListQuery,
        query_string: &str,
        layout: &ExportLayout,
    ) -> Result<Export, ExportError> {
        let schema_entity = self.schema();
        let entity = schema_entity.entity(entity_name).ok_or(crate::ServiceError::NotFound)?;
        let columns: Vec<String> = match &layout.columns {
            Some(cols) => {
                let unknown: Vec<&str> = cols
                    .iter()
                    .filter(|c| entity.visible_fields().all(|f| &f.name != *c))
                    .map(String::as_str)
                    .collect();
                if !unknown.is_empty() || cols.is_empty() {
                    return Err(ServiceError::Invalid(keel_domain::FieldErrors::single(
                        "columns",
                        "unknown_field",
                        format!(
                            "columns must name fields of {}; unknown: {}",
                            entity.label,
                            if cols.is_empty() { "(none given)".to_string() } else { unknown.join(", ") }
                        ),
                    ))
                    .into());
                }
                cols.clone()
            }
            None => entity.visible_fields().map(|f| f.name.clone()).collect(),
        };
        let limit = policy::can_export(&ctx.actor, entity)?;
        let extra = super::read::guard_filters(ctx, entity, query)?;
        let scope = policy::read_scope(&ctx.actor, entity);
        let mut query = query.clone();
        query.cursor = None;
        query.count = false;
        query.limit = BATCH;
        let _turn = STARTING.acquire().await.map_err(|e| ServiceError::Internal(format!("export gate: {e}")))?;
        let now = self.clock.now().to_offset(UtcOffset::UTC);
        // One snapshot for the count and every page.
        let mut snapshot = self.db.read().await?;
        audit_store::single_snapshot(&mut snapshot).await?;
        let rows = count(&mut snapshot, entity, &query, &scope, &extra).await?;
        let max_rows = self.config.export_max_rows;
        if limit == ExportLimit::Limited && rows > max_rows {
            return Err(ExportError::TooLarge { count: rows, limit: max_rows });
        }
        let exporter = exporter_email(&mut snapshot, &self.schema(), ctx).await?;

        // The per-day limit and the audit entry, in one serialised write transaction.
        let mut tx = self.db.write().await?;
        if limit == ExportLimit::Limited {
            self.check_daily_limit(&mut tx, ctx, now).await?;
        }
        let event = Event {
            action: AuditAction::ExportCompleted,
            entity: Some(&entity.name),
            record_id: None,
            details: json!({ "format": "csv", "query": query_string, "count": rows }),
        };
        crate::audit::append(&mut tx, Source::of(ctx), now, vec![event]).await?;
        tx.commit().await?;

        let stamp = now.replace_nanosecond(0).unwrap_or(now);
        let stamp = stamp.format(&time::format_description::well_known::Rfc3339).map_err(csv_error)?;
        let from = if query_string.is_empty() {
            format!("/api/v1/{}", entity.name)
        } else {
            format!("/api/v1/{}?{}", entity.name, one_line(query_string))
        };
        let mut preamble = if layout.bom { "\u{feff}".as_bytes().to_vec() } else { Vec::new() };
        preamble.extend(
            format!("# Exported by {} ({}) at {stamp} from {from}\r\n", one_line(&exporter), ctx.actor.user_id)
                .into_bytes(),
        );
        let mut writer = csv_writer();
        writer.write_record(&columns).map_err(csv_error)?;
        preamble.extend(csv_bytes(writer)?);

        let filename = format!("{}-{}.csv", entity.name, keel_domain::value::format_date(now.date()));
        let body = ExportBody {
            tx: Some(snapshot),
            schema: self.schema(),
            entity: entity.name.clone(),
            ctx: ctx.clone(),
            query,
            scope,
            extra,
            columns,
            preamble: Some(preamble),
            remaining: rows,
        };
        Ok(Export { filename, rows, body })
    }

    /// Refuse a limited export when the actor already has `exports_per_day` exports in the
    /// last 24 hours, counted from the audit log (so every Keel process sees the same count).
    async fn check_daily_limit(&self, tx: &mut Tx, ctx: &Ctx, now: OffsetDateTime) -> Result<(), ExportError> {
        let limit = self.config.exports_per_day;
        let window_secs = WINDOW.whole_seconds().unsigned_abs();
        if limit == 0 {
            return Err(ExportError::LimitReached { limit, retry_after: window_secs });
        }
        let since = now - WINDOW;
        let action = AuditAction::ExportCompleted.as_str();
        let Some(at) = audit_store::nth_newest_since(tx, ctx.actor.user_id, action, since, limit).await? else {
            return Ok(());
        };
        // Once that export leaves the window the actor is under the limit again.
        let wait = at + WINDOW - now;
        let whole = wait.whole_seconds() + i64::from(wait.subsec_nanoseconds() > 0);
        let retry_after = u64::try_from(whole).unwrap_or(0).max(1);
        Err(ExportError::LimitReached { limit, retry_after })
    }
}

/// How many rows the export holds: the list's own WHERE clause (scope, filters, search), counted.
async fn count(
    tx: &mut Tx,
    entity: &EntityDef,
    query: &ListQuery,
    scope: &RowScope,
    extra: &[Filter],
) -> Result<u64, ServiceError> {
    let groups = records::aggregate(tx, entity, query, scope, extra, None, &[]).await?;
    let n: i64 = groups.iter().map(|g| g.count).sum();
    Ok(u64::try_from(n).unwrap_or(0))
}

/// The exporting user's email for the watermark ("system" outside a user's request).
async fn exporter_email(tx: &mut Tx, schema: &Schema, ctx: &Ctx) -> Result<String, ServiceError> {
    let Some(users) = schema.entity("users") else {
        return Ok("system".into());
    };
    let user = records::get(tx, users, ctx.actor.user_id, &RowScope::All).await?;
    Ok(user.and_then(|u| u.get("email").as_text().map(str::to_string)).unwrap_or_else(|| "system".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised_and_numbers_are_not() {
        assert_eq!(neutralise("=SUM(A1:A9)"), "'=SUM(A1:A9)");
        assert_eq!(neutralise("+1 555"), "'+1 555");
        assert_eq!(neutralise("-2+3"), "'-2+3");
        assert_eq!(neutralise("@cmd"), "'@cmd");
        assert_eq!(neutralise("\t=1"), "'\t=1");
        assert_eq!(neutralise("Acme = fine"), "Acme = fine");
        assert_eq!(cell(Some(&json!(-5))), "-5");
        assert_eq!(cell(Some(&json!(true))), "true");
        assert_eq!(cell(Some(&Json::Null)), "");
        assert_eq!(cell(None), "");
    }

    #[test]
    fn the_watermark_stays_on_one_line() {
        assert_eq!(one_line("a=1\r\n# forged"), "a=1# forged");
    }
}
