//! Sessions and personal API tokens. Only hashes of the secrets are stored.

use keel_domain::FieldType;
use keel_domain::value::Value;
use sea_query::{Alias, Expr, Order, Query, SimpleExpr};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::db::Tx;
use crate::error::{Result, StoreError};

fn a(s: &str) -> Alias {
    Alias::new(s)
}

fn ts(tx: &Tx, t: OffsetDateTime) -> SimpleExpr {
    tx.encode(FieldType::Timestamp, &Value::Timestamp(t)).into()
}

fn uid(tx: &Tx, id: Uuid) -> sea_query::Value {
    tx.encode(FieldType::Id, &Value::Uuid(id))
}

fn opt_text(tx: &Tx, s: Option<&str>) -> SimpleExpr {
    tx.encode(FieldType::Text, &s.map_or(Value::Null, |s| Value::Text(s.to_string()))).into()
}

pub struct NewSession<'a> {
    pub token_hash: &'a str,
    pub user_id: Uuid,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
}

pub async fn insert_session(tx: &mut Tx, s: &NewSession<'_>) -> Result<()> {
    let mut q = Query::insert();
    q.into_table(a("sessions"))
        .columns(["token_hash", "user_id", "created_at", "expires_at", "ip", "user_agent"].map(a))
        .values(vec![
            s.token_hash.into(),
            uid(tx, s.user_id).into(),
            ts(tx, s.created_at),
            ts(tx, s.expires_at),
            opt_text(tx, s.ip),
            opt_text(tx, s.user_agent),
        ])
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    tx.execute(&q).await?;
    Ok(())
}

/// The user a live session belongs to.
pub async fn session_user(tx: &mut Tx, token_hash: &str, now: OffsetDateTime) -> Result<Option<Uuid>> {
    let mut q = Query::select();
    q.from(a("sessions"))
        .column(a("user_id"))
        .and_where(Expr::col(a("token_hash")).eq(token_hash))
        .and_where(Expr::col(a("expires_at")).gt(tx.encode(FieldType::Timestamp, &Value::Timestamp(now))));
    match tx.fetch_optional(&q).await? {
        Some(r) => r.uuid("user_id"),
        None => Ok(None),
    }
}

pub async fn delete_session(tx: &mut Tx, token_hash: &str) -> Result<()> {
    let mut q = Query::delete();
    q.from_table(a("sessions")).and_where(Expr::col(a("token_hash")).eq(token_hash));
    tx.execute(&q).await?;
    Ok(())
}

pub async fn delete_expired_sessions(tx: &mut Tx, now: OffsetDateTime) -> Result<u64> {
    let mut q = Query::delete();
    q.from_table(a("sessions"))
        .and_where(Expr::col(a("expires_at")).lte(tx.encode(FieldType::Timestamp, &Value::Timestamp(now))));
    tx.execute(&q).await
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    pub created_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
}

pub async fn insert_token(tx: &mut Tx, token: &ApiToken, token_hash: &str) -> Result<()> {
    let mut q = Query::insert();
    q.into_table(a("api_tokens"))
        .columns(["id", "user_id", "name", "token_hash", "created_at"].map(a))
        .values(vec![
            uid(tx, token.id).into(),
            uid(tx, token.user_id).into(),
            token.name.clone().into(),
            token_hash.into(),
            ts(tx, token.created_at),
        ])
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    tx.execute(&q).await?;
    Ok(())
}

fn token_query() -> sea_query::SelectStatement {
    let mut q = Query::select();
    q.from(a("api_tokens")).columns(["id", "user_id", "name", "created_at", "last_used_at"].map(a));
    q
}

fn decode_token(r: &crate::db::Row) -> Result<ApiToken> {
    Ok(ApiToken {
        id: r.uuid("id")?.ok_or_else(|| StoreError::Corrupt("token without id".into()))?,
        user_id: r.uuid("user_id")?.ok_or_else(|| StoreError::Corrupt("token without user".into()))?,
        name: r.text("name")?.unwrap_or_default(),
        created_at: r.timestamp("created_at")?.ok_or_else(|| StoreError::Corrupt("token without time".into()))?,
        last_used_at: r.timestamp("last_used_at")?,
    })
}

pub async fn token_by_hash(tx: &mut Tx, token_hash: &str) -> Result<Option<ApiToken>> {
    let mut q = token_query();
    q.and_where(Expr::col(a("token_hash")).eq(token_hash));
    tx.fetch_optional(&q).await?.as_ref().map(decode_token).transpose()
}

pub async fn tokens_of(tx: &mut Tx, user_id: Uuid) -> Result<Vec<ApiToken>> {
    let mut q = token_query();
    q.and_where(Expr::col(a("user_id")).eq(uid(tx, user_id))).order_by(a("created_at"), Order::Desc);
    tx.fetch_all(&q).await?.iter().map(decode_token).collect()
}

pub async fn delete_token(tx: &mut Tx, user_id: Uuid, id: Uuid) -> Result<bool> {
    let mut q = Query::delete();
    q.from_table(a("api_tokens"))
        .and_where(Expr::col(a("id")).eq(uid(tx, id)))
        .and_where(Expr::col(a("user_id")).eq(uid(tx, user_id)));
    Ok(tx.execute(&q).await? == 1)
}
