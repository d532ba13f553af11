//! The `imports` table: one row per CSV import that was refused or started. Readers are
//! keyed by user unless the caller may see everyone's (the service decides).

use keel_domain::FieldType;
use keel_domain::value::Value;
use sea_query::{Alias, Expr, Order, Query, SimpleExpr};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::db::{Backend, Row, Tx};
use crate::error::{Result, StoreError};

const TABLE: &str = "imports";
const COLUMNS: [&str; 24] = [
    "id",
    "user_id",
    "file_name",
    "entity",
    "mode",
    "key_field",
    "status",
    "total_rows",
    "created_count",
    "updated_count",
    "unchanged_count",
    "skipped_count",
    "failed_count",
    "companies_created",
    "next_row",
    "options",
    "errors",
    "error_count",
    "started_at",
    "finished_at",
    "phase",
    "rows_done",
    "locked_by",
    "locked_until",
];

fn a(s: &str) -> Alias {
    Alias::new(s)
}

/// One import as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportRow {
    pub id: Uuid,
    pub user_id: Uuid,
    pub file_name: Option<String>,
    pub entity: String,
    pub mode: String,
    pub key_field: Option<String>,
    pub status: String,
    pub total_rows: i64,
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub skipped: i64,
    pub failed: i64,
    pub companies_created: i64,
    pub next_row: Option<i64>,
    pub options: serde_json::Value,
    pub errors: serde_json::Value,
    pub error_count: i64,
    pub started_at: OffsetDateTime,
    pub finished_at: Option<OffsetDateTime>,
    /// queued, validating, importing, done.
    pub phase: String,
    /// Data rows the current phase has finished.
    pub rows_done: i64,
    /// The runner holding a background import, and until when (its lease).
    pub locked_by: Option<String>,
    pub locked_until: Option<OffsetDateTime>,
}

fn json(tx: &Tx, v: &serde_json::Value) -> SimpleExpr {
    match tx.backend() {
        Backend::Sqlite => sea_query::Value::String(Some(Box::new(v.to_string()))).into(),
        Backend::Postgres => sea_query::Value::Json(Some(Box::new(v.clone()))).into(),
    }
}

fn text(tx: &Tx, s: Option<&String>) -> SimpleExpr {
    tx.encode(FieldType::Text, &s.map_or(Value::Null, |s| Value::Text(s.clone()))).into()
}

fn ts(tx: &Tx, t: Option<OffsetDateTime>) -> SimpleExpr {
    tx.encode(FieldType::Timestamp, &t.map_or(Value::Null, Value::Timestamp)).into()
}

fn values(tx: &Tx, r: &ImportRow) -> Vec<SimpleExpr> {
    vec![
        tx.encode(FieldType::Id, &Value::Uuid(r.id)).into(),
        tx.encode(FieldType::Id, &Value::Uuid(r.user_id)).into(),
        text(tx, r.file_name.as_ref()),
        r.entity.clone().into(),
        r.mode.clone().into(),
        text(tx, r.key_field.as_ref()),
        r.status.clone().into(),
        r.total_rows.into(),
        r.created.into(),
        r.updated.into(),
        r.unchanged.into(),
        r.skipped.into(),
        r.failed.into(),
        r.companies_created.into(),
        tx.encode(FieldType::Integer, &r.next_row.map_or(Value::Null, Value::Int)).into(),
        json(tx, &r.options),
        json(tx, &r.errors),
        r.error_count.into(),
        ts(tx, Some(r.started_at)),
        ts(tx, r.finished_at),
        r.phase.clone().into(),
        r.rows_done.into(),
        text(tx, r.locked_by.as_ref()),
        ts(tx, r.locked_until),
    ]
}

pub async fn insert(tx: &mut Tx, row: &ImportRow) -> Result<()> {
    let mut q = Query::insert();
    q.into_table(a(TABLE))
        .columns(COLUMNS.map(a))
        .values(values(tx, row))
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    tx.execute(&q).await?;
    Ok(())
}

/// Write every column but the id and the user (progress, status, errors). A row held by
/// a runner (`locked_by`) is written only while that runner still holds it: a runner
/// whose lease ran out and was taken over gets `StoreError::LeaseLost`, and its caller
/// rolls back the batch it was writing.
pub async fn update(tx: &mut Tx, row: &ImportRow) -> Result<()> {
    let all = values(tx, row);
    let mut q = Query::update();
    q.table(a(TABLE))
        .values(COLUMNS.iter().zip(all).skip(2).map(|(c, v)| (a(c), v)))
        .and_where(Expr::col(a("id")).eq(tx.encode(FieldType::Id, &Value::Uuid(row.id))));
    if let Some(by) = &row.locked_by {
        q.and_where(Expr::col(a("locked_by")).eq(by.clone()));
    }
    if tx.execute(&q).await? == 0 && row.locked_by.is_some() {
        return Err(StoreError::LeaseLost);
    }
    Ok(())
}

/// Claim the oldest import that is queued, or running under a lease that ran out (its
/// runner died), for `runner` until `locked_until`. SQLite: the caller's write
/// transaction holds the one write lock; PostgreSQL: rows another runner is claiming are
/// skipped.
pub async fn claim(
    tx: &mut Tx,
    runner: &str,
    now: OffsetDateTime,
    locked_until: OffsetDateTime,
) -> Result<Option<ImportRow>> {
    let mut q = Query::select();
    q.from(a(TABLE))
        .columns(COLUMNS.map(a))
        .cond_where(
            sea_query::Cond::any().add(Expr::col(a("status")).eq("queued")).add(
                sea_query::Cond::all()
                    .add(Expr::col(a("status")).eq("running"))
                    .add(Expr::col(a("locked_until")).lt(ts(tx, Some(now)))),
            ),
        )
        .order_by(a("started_at"), Order::Asc)
        .limit(1);
    if tx.backend() == Backend::Postgres {
        q.lock_with_behavior(sea_query::LockType::Update, sea_query::LockBehavior::SkipLocked);
    }
    let Some(mut row) = tx.fetch_optional(&q).await?.as_ref().map(decode).transpose()? else {
        return Ok(None);
    };
    row.status = "running".into();
    row.locked_by = None;
    let mut u = Query::update();
    u.table(a(TABLE))
        .values([
            (a("status"), SimpleExpr::from("running")),
            (a("locked_by"), SimpleExpr::from(runner.to_string())),
            (a("locked_until"), ts(tx, Some(locked_until))),
        ])
        .and_where(Expr::col(a("id")).eq(tx.encode(FieldType::Id, &Value::Uuid(row.id))));
    tx.execute(&u).await?;
    row.locked_by = Some(runner.to_string());
    row.locked_until = Some(locked_until);
    Ok(Some(row))
}

/// Largest part of a stored import file.
pub const FILE_PART_BYTES: usize = 1024 * 1024;

/// Store part `part` of import `id`'s file.
pub async fn insert_file_part(tx: &mut Tx, id: Uuid, part: i64, data: Vec<u8>) -> Result<()> {
    let mut q = Query::insert();
    q.into_table(a("import_files"))
        .columns([a("import_id"), a("part"), a("data")])
        .values([
            tx.encode(FieldType::Id, &Value::Uuid(id)).into(),
            part.into(),
            sea_query::Value::Bytes(Some(Box::new(data))).into(),
        ])
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    tx.execute(&q).await?;
    Ok(())
}

/// Part `part` of import `id`'s file, if there is one.
pub async fn file_part(tx: &mut Tx, id: Uuid, part: i64) -> Result<Option<Vec<u8>>> {
    let mut q = Query::select();
    q.from(a("import_files"))
        .column(a("data"))
        .and_where(Expr::col(a("import_id")).eq(tx.encode(FieldType::Id, &Value::Uuid(id))))
        .and_where(Expr::col(a("part")).eq(part));
    Ok(match tx.fetch_optional(&q).await? {
        Some(Row::Sqlite(r)) => Some(sqlx::Row::try_get::<Vec<u8>, _>(&r, "data")?),
        Some(Row::Postgres(r)) => Some(sqlx::Row::try_get::<Vec<u8>, _>(&r, "data")?),
        None => None,
    })
}

/// Forget import `id`'s file (it ended).
pub async fn delete_file(tx: &mut Tx, id: Uuid) -> Result<()> {
    let mut q = Query::delete();
    q.from_table(a("import_files")).and_where(Expr::col(a("import_id")).eq(tx.encode(FieldType::Id, &Value::Uuid(id))));
    tx.execute(&q).await?;
    Ok(())
}

fn need<T>(v: Option<T>, col: &str) -> Result<T> {
    v.ok_or_else(|| StoreError::Corrupt(format!("imports.{col} is unexpectedly empty")))
}

fn decode(r: &Row) -> Result<ImportRow> {
    let next_row = match r.value("next_row", FieldType::Integer)? {
        Value::Int(i) => Some(i),
        _ => None,
    };
    Ok(ImportRow {
        id: need(r.uuid("id")?, "id")?,
        user_id: need(r.uuid("user_id")?, "user_id")?,
        file_name: r.text("file_name")?,
        entity: r.text("entity")?.unwrap_or_default(),
        mode: r.text("mode")?.unwrap_or_default(),
        key_field: r.text("key_field")?,
        status: r.text("status")?.unwrap_or_default(),
        total_rows: r.i64("total_rows")?,
        created: r.i64("created_count")?,
        updated: r.i64("updated_count")?,
        unchanged: r.i64("unchanged_count")?,
        skipped: r.i64("skipped_count")?,
        failed: r.i64("failed_count")?,
        companies_created: r.i64("companies_created")?,
        next_row,
        options: r.json("options")?,
        errors: r.json("errors")?,
        error_count: r.i64("error_count")?,
        started_at: need(r.timestamp("started_at")?, "started_at")?,
        finished_at: r.timestamp("finished_at")?,
        phase: r.text("phase")?.unwrap_or_default(),
        rows_done: r.i64("rows_done")?,
        locked_by: r.text("locked_by")?,
        locked_until: r.timestamp("locked_until")?,
    })
}

/// The import `id`; only if it is `user`'s when a user is given.
pub async fn get(tx: &mut Tx, id: Uuid, user: Option<Uuid>) -> Result<Option<ImportRow>> {
    let mut q = Query::select();
    q.from(a(TABLE))
        .columns(COLUMNS.map(a))
        .and_where(Expr::col(a("id")).eq(tx.encode(FieldType::Id, &Value::Uuid(id))));
    if let Some(u) = user {
        q.and_where(Expr::col(a("user_id")).eq(tx.encode(FieldType::Id, &Value::Uuid(u))));
    }
    tx.fetch_optional(&q).await?.as_ref().map(decode).transpose()
}

/// Imports newest first (only `user`'s when a user is given).
pub async fn list(tx: &mut Tx, user: Option<Uuid>, limit: u64) -> Result<Vec<ImportRow>> {
    let mut q = Query::select();
    q.from(a(TABLE))
        .columns(COLUMNS.map(a))
        .order_by(a("started_at"), Order::Desc)
        .order_by(a("id"), Order::Desc)
        .limit(limit);
    if let Some(u) = user {
        q.and_where(Expr::col(a("user_id")).eq(tx.encode(FieldType::Id, &Value::Uuid(u))));
    }
    tx.fetch_all(&q).await?.iter().map(decode).collect()
}
