//! Storage for workflow automation: workflow definitions, the durable job queue, run
//! history and the change-log cursor. The use cases (policy, audit, matching) live in
//! keel-service and keel-automation; this only stores and claims.

pub mod cursor;
pub mod jobs;
pub mod runs;
pub mod webhooks;
pub mod workflows;

use keel_domain::FieldType;
use keel_domain::value::Value;
use sea_query::{Alias, SimpleExpr};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::db::{Backend, Row, Tx};
use crate::error::{Result, StoreError};

fn a(s: &str) -> Alias {
    Alias::new(s)
}

fn uuid(tx: &Tx, id: Uuid) -> SimpleExpr {
    tx.encode(FieldType::Id, &Value::Uuid(id)).into()
}

fn opt_uuid(tx: &Tx, id: Option<Uuid>) -> SimpleExpr {
    tx.encode(FieldType::Reference, &id.map_or(Value::Null, Value::Uuid)).into()
}

fn ts(tx: &Tx, t: OffsetDateTime) -> SimpleExpr {
    tx.encode(FieldType::Timestamp, &Value::Timestamp(t)).into()
}

fn opt_ts(tx: &Tx, t: Option<OffsetDateTime>) -> SimpleExpr {
    tx.encode(FieldType::Timestamp, &t.map_or(Value::Null, Value::Timestamp)).into()
}

fn opt_text(tx: &Tx, s: Option<&str>) -> SimpleExpr {
    tx.encode(FieldType::Text, &s.map_or(Value::Null, |s| Value::Text(s.to_string()))).into()
}

/// JSON as text (SQLite) or JSONB (PostgreSQL).
fn json(tx: &Tx, v: &serde_json::Value) -> SimpleExpr {
    match tx.backend() {
        Backend::Sqlite => sea_query::Value::String(Some(Box::new(v.to_string()))).into(),
        Backend::Postgres => sea_query::Value::Json(Some(Box::new(v.clone()))).into(),
    }
}

fn read_opt_json(row: &Row, col: &str) -> Result<Option<serde_json::Value>> {
    match row {
        Row::Sqlite(r) => match sqlx::Row::try_get::<Option<String>, _>(r, col)? {
            None => Ok(None),
            Some(s) => serde_json::from_str(&s)
                .map(Some)
                .map_err(|_| StoreError::Corrupt(format!("column `{col}` holds an invalid JSON document"))),
        },
        Row::Postgres(r) => Ok(sqlx::Row::try_get::<Option<serde_json::Value>, _>(r, col)?),
    }
}

fn read_bool(row: &Row, col: &str) -> Result<Option<bool>> {
    Ok(row.value(col, FieldType::Boolean)?.as_bool())
}

fn required<T>(v: Option<T>, col: &str) -> Result<T> {
    v.ok_or_else(|| StoreError::Corrupt(format!("column `{col}` is empty")))
}

fn values_err(e: sea_query::error::Error) -> StoreError {
    StoreError::Corrupt(e.to_string())
}
