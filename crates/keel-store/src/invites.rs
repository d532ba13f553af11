//! One-time invitation tokens (hashed).

use keel_domain::FieldType;
use keel_domain::value::Value;
use sea_query::{Alias, Expr, Query};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::db::Tx;
use crate::error::{Result, StoreError};

fn a(s: &str) -> Alias {
    Alias::new(s)
}

pub async fn insert(
    tx: &mut Tx,
    token_hash: &str,
    user_id: Uuid,
    created_by: Option<Uuid>,
    now: OffsetDateTime,
    expires_at: OffsetDateTime,
) -> Result<()> {
    let mut q = Query::insert();
    q.into_table(a("invites"))
        .columns(["token_hash", "user_id", "created_by", "created_at", "expires_at"].map(a))
        .values(vec![
            token_hash.into(),
            tx.encode(FieldType::Id, &Value::Uuid(user_id)).into(),
            tx.encode(FieldType::Reference, &created_by.map_or(Value::Null, Value::Uuid)).into(),
            tx.encode(FieldType::Timestamp, &Value::Timestamp(now)).into(),
            tx.encode(FieldType::Timestamp, &Value::Timestamp(expires_at)).into(),
        ])
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    tx.execute(&q).await?;
    Ok(())
}

/// The user of a live (unused, unexpired) invite, without using it up.
pub async fn peek(tx: &mut Tx, token_hash: &str, now: OffsetDateTime) -> Result<Option<Uuid>> {
    let mut q = Query::select();
    q.from(a("invites"))
        .column(a("user_id"))
        .and_where(Expr::col(a("token_hash")).eq(token_hash))
        .and_where(Expr::col(a("used_at")).is_null())
        .and_where(Expr::col(a("expires_at")).gt(tx.encode(FieldType::Timestamp, &Value::Timestamp(now))));
    match tx.fetch_optional(&q).await? {
        Some(row) => row.uuid("user_id"),
        None => Ok(None),
    }
}

/// Use up a live (unused, unexpired) invite; returns its user. Marking it used in the
/// same statement makes a token good for exactly one acceptance.
pub async fn consume(tx: &mut Tx, token_hash: &str, now: OffsetDateTime) -> Result<Option<Uuid>> {
    let now_v = tx.encode(FieldType::Timestamp, &Value::Timestamp(now));
    let mut q = Query::select();
    q.from(a("invites"))
        .column(a("user_id"))
        .and_where(Expr::col(a("token_hash")).eq(token_hash))
        .and_where(Expr::col(a("used_at")).is_null())
        .and_where(Expr::col(a("expires_at")).gt(now_v.clone()));
    let Some(row) = tx.fetch_optional(&q).await? else { return Ok(None) };
    let user = row.uuid("user_id")?;
    let mut u = Query::update();
    u.table(a("invites")).values([(a("used_at"), now_v.into())]).and_where(Expr::col(a("token_hash")).eq(token_hash));
    tx.execute(&u).await?;
    Ok(user)
}
