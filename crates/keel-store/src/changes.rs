//! The change log: an append-only, monotonic record of every mutation, written in the
//! same transaction as the row it describes. Audit, sync, workflows, webhooks and
//! realtime all read from here.

use keel_domain::FieldType;
use keel_domain::value::Value;
use sea_query::{Alias, Expr, Order, Query, SimpleExpr};
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::db::{Backend, Built, Tx, encode};
use crate::error::{Result, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeOp {
    Create,
    Update,
    Delete,
    Restore,
    Purge,
}

impl ChangeOp {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeOp::Create => "create",
            ChangeOp::Update => "update",
            ChangeOp::Delete => "delete",
            ChangeOp::Restore => "restore",
            ChangeOp::Purge => "purge",
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewChange {
    pub at: OffsetDateTime,
    pub actor_id: Option<Uuid>,
    pub entity: String,
    pub record_id: Uuid,
    pub op: ChangeOp,
    /// `{ field: { "from": …, "to": … } }`
    pub diff: serde_json::Value,
    pub request_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChangeEntry {
    pub seq: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub actor_id: Option<Uuid>,
    pub entity: String,
    pub record_id: Uuid,
    pub op: String,
    pub diff: serde_json::Value,
    pub request_id: Option<String>,
}

const COLUMNS: [&str; 7] = ["at", "actor_id", "entity", "record_id", "op", "diff", "request_id"];

fn json_value(backend: Backend, diff: &serde_json::Value) -> sea_query::Value {
    match backend {
        Backend::Sqlite => sea_query::Value::String(Some(Box::new(diff.to_string()))),
        Backend::Postgres => sea_query::Value::Json(Some(Box::new(diff.clone()))),
    }
}

pub async fn append(tx: &mut Tx, change: &NewChange) -> Result<()> {
    append_many(tx, std::slice::from_ref(change)).await
}

pub async fn append_many(tx: &mut Tx, changes: &[NewChange]) -> Result<()> {
    if let Some(stmt) = append_many_statement(tx.backend(), changes)? {
        tx.run(stmt).await?;
    }
    Ok(())
}

/// `append_many`'s statement, built ahead (None for no changes).
pub fn append_many_statement(backend: Backend, changes: &[NewChange]) -> Result<Option<Built>> {
    if changes.is_empty() {
        return Ok(None);
    }
    let mut q = Query::insert();
    q.into_table(Alias::new("change_log")).columns(COLUMNS.map(Alias::new));
    for c in changes {
        let row: Vec<SimpleExpr> = vec![
            encode(backend, FieldType::Timestamp, &Value::Timestamp(c.at)).into(),
            encode(backend, FieldType::Reference, &c.actor_id.map_or(Value::Null, Value::Uuid)).into(),
            c.entity.clone().into(),
            encode(backend, FieldType::Id, &Value::Uuid(c.record_id)).into(),
            c.op.as_str().into(),
            json_value(backend, &c.diff).into(),
            encode(backend, FieldType::Text, &c.request_id.clone().map_or(Value::Null, Value::Text)).into(),
        ];
        q.values(row).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    }
    Ok(Some(crate::db::build(backend, &q)))
}

/// Entries with a sequence number above `after`, oldest first.
pub async fn after(tx: &mut Tx, after: i64, limit: u32) -> Result<Vec<ChangeEntry>> {
    let mut q = Query::select();
    q.from(Alias::new("change_log"))
        .column(Alias::new("seq"))
        .columns(COLUMNS.map(Alias::new))
        .and_where(Expr::col(Alias::new("seq")).gt(after))
        .order_by(Alias::new("seq"), Order::Asc)
        .limit(u64::from(limit));
    let rows = tx.fetch_all(&q).await?;
    rows.iter()
        .map(|r| {
            Ok(ChangeEntry {
                seq: r.i64("seq")?,
                at: r.timestamp("at")?.ok_or_else(|| StoreError::Corrupt("change without time".into()))?,
                actor_id: r.uuid("actor_id")?,
                entity: r.text("entity")?.unwrap_or_default(),
                record_id: r.uuid("record_id")?.ok_or_else(|| StoreError::Corrupt("change without record".into()))?,
                op: r.text("op")?.unwrap_or_default(),
                diff: r.json("diff")?,
                request_id: r.text("request_id")?,
            })
        })
        .collect()
}
