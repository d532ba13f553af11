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
const COLUMNS: [&str; 20] = [
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

/// Write every column but the id and the user (progress, status, errors).
pub async fn update(tx: &mut Tx, row: &ImportRow) -> Result<()> {
    let all = values(tx, row);
    let mut q = Query::update();
    q.table(a(TABLE))
        .values(COLUMNS.iter().zip(all).skip(2).map(|(c, v)| (a(c), v)))
        .and_where(Expr::col(a("id")).eq(tx.encode(FieldType::Id, &Value::Uuid(row.id))));
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
