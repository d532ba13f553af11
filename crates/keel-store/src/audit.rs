//! The audit log's storage: append rows, read them back newest first (admin queries) or
//! oldest first (verification), and cut a prefix for retention. The hash chain itself
//! (canonical form, hashing, verification) lives in `keel-service/src/audit/chain.rs`;
//! this module only stores what it is given.
//!
//! Appends must run inside a write transaction (`Db::write()`): the caller reads the
//! head, chains new rows to it and inserts them before anyone else can append.

use keel_domain::FieldType;
use keel_domain::value::{Value, format_timestamp};
use sea_query::{Alias, Expr, Func, Order, Query, SimpleExpr};
use serde::{Serialize, Serializer};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::db::{Backend, Built, Row, Tx, encode};
use crate::error::{Result, StoreError};

const TABLE: &str = "audit_log";
const COLUMNS: [&str; 12] = [
    "seq",
    "at",
    "actor_id",
    "action",
    "entity",
    "record_id",
    "details",
    "ip",
    "user_agent",
    "request_id",
    "prev_hash",
    "hash",
];
/// Rows per INSERT: 12 parameters each stays far below SQLite's bound-parameter limit.
const INSERT_CHUNK: usize = 500;

fn a(s: &str) -> Alias {
    Alias::new(s)
}

fn serialize_at<S: Serializer>(at: &OffsetDateTime, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&format_timestamp(*at))
}

/// One row of the audit log, as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    pub seq: i64,
    /// UTC, microsecond precision (what both backends keep).
    #[serde(serialize_with = "serialize_at")]
    pub at: OffsetDateTime,
    /// Who did it; None for the system (CLI, jobs) or an anonymous caller (failed login).
    pub actor_id: Option<Uuid>,
    pub action: String,
    pub entity: Option<String>,
    pub record_id: Option<Uuid>,
    pub details: serde_json::Value,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

/// What an admin query filters on; every field narrows the result (AND).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub actor_id: Option<Uuid>,
    pub entity: Option<String>,
    pub record_id: Option<Uuid>,
    pub action: Option<String>,
    /// Inclusive.
    pub since: Option<OffsetDateTime>,
    /// Exclusive.
    pub until: Option<OffsetDateTime>,
    /// Keyset cursor: only rows with a smaller `seq` (the next, older page).
    pub before_seq: Option<i64>,
}

/// What a retention purge removed: rows `..=last_seq`, the last of which hashed to `last_hash`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurgedPrefix {
    pub count: u64,
    pub last_seq: i64,
    pub last_hash: String,
}

fn opt_uuid(backend: Backend, id: Option<Uuid>) -> SimpleExpr {
    encode(backend, FieldType::Id, &id.map_or(Value::Null, Value::Uuid)).into()
}

fn opt_text(backend: Backend, s: Option<&String>) -> SimpleExpr {
    encode(backend, FieldType::Text, &s.map_or(Value::Null, |s| Value::Text(s.clone()))).into()
}

fn timestamp(backend: Backend, t: OffsetDateTime) -> sea_query::Value {
    encode(backend, FieldType::Timestamp, &Value::Timestamp(t))
}

/// The newest row's `seq` and `hash`: what the next row chains to. None when empty.
pub async fn head(tx: &mut Tx) -> Result<Option<(i64, String)>> {
    let mut q = Query::select();
    q.from(a(TABLE)).columns(["seq", "hash"].map(a)).order_by(a("seq"), Order::Desc).limit(1);
    match tx.fetch_optional(&q).await? {
        Some(r) => Ok(Some((r.i64("seq")?, r.text("hash")?.unwrap_or_default()))),
        None => Ok(None),
    }
}

/// Insert rows whose `seq`, `prev_hash` and `hash` the caller has already chained;
/// `details_json[i]` is entry i's `details` as JSON text (the entries' own `details` are
/// not read: a bulk writer keeps the text, a fraction of the value tree's memory).
pub async fn insert(tx: &mut Tx, entries: &[AuditEntry], details_json: &[String]) -> Result<()> {
    for stmt in insert_statements(tx.backend(), entries, details_json)? {
        tx.run(stmt).await?;
    }
    Ok(())
}

/// `insert`'s statements, built ahead.
pub fn insert_statements(backend: Backend, entries: &[AuditEntry], details_json: &[String]) -> Result<Vec<Built>> {
    if entries.len() != details_json.len() {
        return Err(StoreError::Corrupt("audit entries and their details do not match".into()));
    }
    let mut out = Vec::new();
    for (chunk, details) in entries.chunks(INSERT_CHUNK).zip(details_json.chunks(INSERT_CHUNK)) {
        let mut q = Query::insert();
        q.into_table(a(TABLE)).columns(COLUMNS.map(a));
        for (e, details) in chunk.iter().zip(details) {
            let row: Vec<SimpleExpr> = vec![
                e.seq.into(),
                timestamp(backend, e.at).into(),
                opt_uuid(backend, e.actor_id),
                e.action.clone().into(),
                opt_text(backend, e.entity.as_ref()),
                opt_uuid(backend, e.record_id),
                json_text(backend, details),
                opt_text(backend, e.ip.as_ref()),
                opt_text(backend, e.user_agent.as_ref()),
                opt_text(backend, e.request_id.as_ref()),
                e.prev_hash.clone().into(),
                e.hash.clone().into(),
            ];
            q.values(row).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        }
        out.push(crate::db::build(backend, &q));
    }
    Ok(out)
}

/// JSON text for a JSON column: SQLite keeps the text; PostgreSQL's JSONB takes it cast.
fn json_text(backend: Backend, json: &str) -> SimpleExpr {
    let text = SimpleExpr::from(json.to_string());
    match backend {
        Backend::Sqlite => text,
        Backend::Postgres => text.cast_as(a("jsonb")),
    }
}

fn decode(r: &Row) -> Result<AuditEntry> {
    Ok(AuditEntry {
        seq: r.i64("seq")?,
        at: r.timestamp("at")?.ok_or_else(|| StoreError::Corrupt("audit entry without time".into()))?,
        actor_id: r.uuid("actor_id")?,
        action: r.text("action")?.unwrap_or_default(),
        entity: r.text("entity")?,
        record_id: r.uuid("record_id")?,
        details: r.json("details")?,
        ip: r.text("ip")?,
        user_agent: r.text("user_agent")?,
        request_id: r.text("request_id")?,
        prev_hash: r.text("prev_hash")?.unwrap_or_default(),
        hash: r.text("hash")?.unwrap_or_default(),
    })
}

/// Rows matching `filter`, newest first, at most `limit`.
pub async fn list(tx: &mut Tx, filter: &AuditFilter, limit: u32) -> Result<Vec<AuditEntry>> {
    let mut q = Query::select();
    q.from(a(TABLE)).columns(COLUMNS.map(a));
    if let Some(actor) = filter.actor_id {
        q.and_where(Expr::col(a("actor_id")).eq(tx.encode(FieldType::Id, &Value::Uuid(actor))));
    }
    if let Some(entity) = &filter.entity {
        q.and_where(Expr::col(a("entity")).eq(entity.clone()));
    }
    if let Some(record) = filter.record_id {
        q.and_where(Expr::col(a("record_id")).eq(tx.encode(FieldType::Id, &Value::Uuid(record))));
    }
    if let Some(action) = &filter.action {
        q.and_where(Expr::col(a("action")).eq(action.clone()));
    }
    if let Some(since) = filter.since {
        q.and_where(Expr::col(a("at")).gte(timestamp(tx.backend(), since)));
    }
    if let Some(until) = filter.until {
        q.and_where(Expr::col(a("at")).lt(timestamp(tx.backend(), until)));
    }
    if let Some(before) = filter.before_seq {
        q.and_where(Expr::col(a("seq")).lt(before));
    }
    q.order_by(a("seq"), Order::Desc).limit(u64::from(limit));
    tx.fetch_all(&q).await?.iter().map(decode).collect()
}

/// Rows with `seq` above `after`, oldest first: the verifier's page.
pub async fn after(tx: &mut Tx, after: i64, limit: u32) -> Result<Vec<AuditEntry>> {
    let mut q = Query::select();
    q.from(a(TABLE))
        .columns(COLUMNS.map(a))
        .and_where(Expr::col(a("seq")).gt(after))
        .order_by(a("seq"), Order::Asc)
        .limit(u64::from(limit));
    tx.fetch_all(&q).await?.iter().map(decode).collect()
}

/// The `details` of every row with `action`, oldest first (the verifier reads the
/// retention anchors from the `audit.purged` rows; there is at most one a day).
pub async fn details_of(tx: &mut Tx, action: &str) -> Result<Vec<(i64, serde_json::Value)>> {
    let mut q = Query::select();
    q.from(a(TABLE))
        .columns(["seq", "details"].map(a))
        .and_where(Expr::col(a("action")).eq(action))
        .order_by(a("seq"), Order::Asc);
    tx.fetch_all(&q).await?.iter().map(|r| Ok((r.i64("seq")?, r.json("details")?))).collect()
}

/// Delete the oldest rows: every row up to and including the newest one written before
/// `cutoff`. Always a prefix of the chain (even if clocks disagreed slightly between
/// writers), so the rest still links up. None when nothing is that old.
pub async fn purge_before(tx: &mut Tx, cutoff: OffsetDateTime) -> Result<Option<PurgedPrefix>> {
    let mut last = Query::select();
    last.from(a(TABLE))
        .columns(["seq", "hash"].map(a))
        .and_where(Expr::col(a("at")).lt(timestamp(tx.backend(), cutoff)))
        .order_by(a("seq"), Order::Desc)
        .limit(1);
    let Some(row) = tx.fetch_optional(&last).await? else {
        return Ok(None);
    };
    let (last_seq, last_hash) = (row.i64("seq")?, row.text("hash")?.unwrap_or_default());
    let mut q = Query::delete();
    q.from_table(a(TABLE)).and_where(Expr::col(a("seq")).lte(last_seq));
    let count = tx.execute(&q).await?;
    Ok(Some(PurgedPrefix { count, last_seq, last_hash }))
}

/// How many rows the log holds.
pub async fn count(tx: &mut Tx) -> Result<i64> {
    let mut q = Query::select();
    q.from(a(TABLE)).expr_as(Func::count(Expr::col(a("seq"))), a("n"));
    match tx.fetch_optional(&q).await? {
        Some(r) => r.i64("n"),
        None => Ok(0),
    }
}

/// Make a read transaction see one snapshot for all its statements, so a verification
/// that pages through the log is not confused by a purge committing halfway. SQLite's
/// read transactions already do (WAL keeps the snapshot of the first read); PostgreSQL's
/// default READ COMMITTED takes a new snapshot per statement. Call first in the transaction.
pub async fn single_snapshot(tx: &mut Tx) -> Result<()> {
    if tx.backend() == crate::db::Backend::Postgres {
        tx.count_statement();
    }
    if let crate::db::TxConn::Postgres(t) = &mut tx.conn {
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut **t).await?;
    }
    Ok(())
}

/// The time of `actor`'s `n`-th newest entry with `action` at or after `since` (n ≥ 1);
/// None when they have fewer. Rate limits count from the log with this: the actor is at
/// the limit `n` when it is Some, and may go again once that entry is older than the window.
pub async fn nth_newest_since(
    tx: &mut Tx,
    actor: Uuid,
    action: &str,
    since: OffsetDateTime,
    n: u32,
) -> Result<Option<OffsetDateTime>> {
    let mut q = Query::select();
    q.from(a(TABLE))
        .column(a("at"))
        .and_where(Expr::col(a("actor_id")).eq(tx.encode(FieldType::Id, &Value::Uuid(actor))))
        .and_where(Expr::col(a("action")).eq(action))
        .and_where(Expr::col(a("at")).gte(timestamp(tx.backend(), since)))
        .order_by(a("seq"), Order::Desc)
        .limit(1)
        .offset(u64::from(n.max(1) - 1));
    match tx.fetch_optional(&q).await? {
        Some(r) => r.timestamp("at"),
        None => Ok(None),
    }
}
