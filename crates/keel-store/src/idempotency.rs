//! Stored responses for POSTs carrying an `Idempotency-Key`, keyed by user and key.

use keel_domain::FieldType;
use keel_domain::value::Value;
use sea_query::{Alias, Expr, Query};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::db::Tx;
use crate::error::{Result, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub request_hash: String,
    pub status: u16,
    pub body: String,
}

pub async fn get(tx: &mut Tx, user_id: Uuid, key: &str) -> Result<Option<StoredResponse>> {
    let mut q = Query::select();
    q.from(Alias::new("idempotency_keys"))
        .columns(["request_hash", "status", "body"].map(Alias::new))
        .and_where(Expr::col(Alias::new("user_id")).eq(tx.encode(FieldType::Id, &Value::Uuid(user_id))))
        .and_where(Expr::col(Alias::new("key")).eq(key));
    let Some(row) = tx.fetch_optional(&q).await? else {
        return Ok(None);
    };
    let status = match &row {
        crate::db::Row::Sqlite(_) => row.i64("status")?,
        crate::db::Row::Postgres(r) => i64::from(sqlx::Row::try_get::<i32, _>(r, "status")?),
    };
    Ok(Some(StoredResponse {
        request_hash: row.text("request_hash")?.unwrap_or_default(),
        status: u16::try_from(status).map_err(|_| StoreError::Corrupt("status out of range".into()))?,
        body: row.text("body")?.unwrap_or_default(),
    }))
}

pub async fn put(tx: &mut Tx, user_id: Uuid, key: &str, response: &StoredResponse, now: OffsetDateTime) -> Result<()> {
    let mut q = Query::insert();
    q.into_table(Alias::new("idempotency_keys"))
        .columns(["user_id", "key", "request_hash", "status", "body", "created_at"].map(Alias::new))
        .values(vec![
            tx.encode(FieldType::Id, &Value::Uuid(user_id)).into(),
            key.into(),
            response.request_hash.clone().into(),
            i32::from(response.status).into(),
            response.body.clone().into(),
            tx.encode(FieldType::Timestamp, &Value::Timestamp(now)).into(),
        ])
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    tx.execute(&q).await?;
    Ok(())
}

/// Forget a user's keys older than `before`: a retry comes within minutes, not days.
pub async fn expire(tx: &mut Tx, user_id: Uuid, before: OffsetDateTime) -> Result<u64> {
    let mut q = Query::delete();
    q.from_table(Alias::new("idempotency_keys"))
        .and_where(Expr::col(Alias::new("user_id")).eq(tx.encode(FieldType::Id, &Value::Uuid(user_id))))
        .and_where(Expr::col(Alias::new("created_at")).lt(tx.encode(FieldType::Timestamp, &Value::Timestamp(before))));
    tx.execute(&q).await
}
