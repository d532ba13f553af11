//! Storage for login hardening: failed sign-in counters (lockout), session idle times and
//! revocation, TOTP secrets and recovery codes. Everything lives in the database so that
//! several Keel processes sharing it agree. Callers run these inside a write transaction
//! (which serialises writers on both backends) whenever they read-modify-write.

use keel_domain::FieldType;
use keel_domain::value::Value;
use sea_query::{Alias, Expr, ExprTrait, Func, OnConflict, Query, SimpleExpr};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::db::{Row, Tx};
use crate::error::{Result, StoreError};

fn a(s: &str) -> Alias {
    Alias::new(s)
}

fn ts(tx: &Tx, t: OffsetDateTime) -> SimpleExpr {
    tx.encode(FieldType::Timestamp, &Value::Timestamp(t)).into()
}

fn opt_ts(tx: &Tx, t: Option<OffsetDateTime>) -> SimpleExpr {
    tx.encode(FieldType::Timestamp, &t.map_or(Value::Null, Value::Timestamp)).into()
}

fn uid(tx: &Tx, id: Uuid) -> SimpleExpr {
    tx.encode(FieldType::Id, &Value::Uuid(id)).into()
}

fn opt_int(row: &Row, col: &str) -> Result<Option<i64>> {
    match row.value(col, FieldType::Integer)? {
        Value::Int(i) => Ok(Some(i)),
        _ => Ok(None),
    }
}

fn required<T>(v: Option<T>, what: &str) -> Result<T> {
    v.ok_or_else(|| StoreError::Corrupt(format!("{what} is missing")))
}

// ---------------------------------------------------------------------------------------
// Failed sign-in counters

/// What a counter is keyed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThrottleScope {
    Account,
    Ip,
}

impl ThrottleScope {
    pub fn as_str(self) -> &'static str {
        match self {
            ThrottleScope::Account => "account",
            ThrottleScope::Ip => "ip",
        }
    }
}

/// One counter: failures since `window_started_at`, and a lock when they reached the limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Throttle {
    pub failures: i64,
    pub window_started_at: OffsetDateTime,
    pub locked_until: Option<OffsetDateTime>,
}

pub async fn throttle_get(tx: &mut Tx, scope: ThrottleScope, key: &str) -> Result<Option<Throttle>> {
    let mut q = Query::select();
    q.from(a("login_throttle"))
        .columns(["failures", "window_started_at", "locked_until"].map(a))
        .and_where(Expr::col(a("scope")).eq(scope.as_str()))
        .and_where(Expr::col(a("key")).eq(key));
    let Some(row) = tx.fetch_optional(&q).await? else {
        return Ok(None);
    };
    Ok(Some(Throttle {
        failures: row.i64("failures")?,
        window_started_at: required(row.timestamp("window_started_at")?, "login_throttle.window_started_at")?,
        locked_until: row.timestamp("locked_until")?,
    }))
}

/// Insert or replace a counter. `expires_at` is when it stops mattering (for pruning).
pub async fn throttle_put(
    tx: &mut Tx,
    scope: ThrottleScope,
    key: &str,
    t: &Throttle,
    expires_at: OffsetDateTime,
) -> Result<()> {
    let mut q = Query::insert();
    q.into_table(a("login_throttle"))
        .columns(["scope", "key", "failures", "window_started_at", "locked_until", "expires_at"].map(a))
        .values(vec![
            scope.as_str().into(),
            key.into(),
            t.failures.into(),
            ts(tx, t.window_started_at),
            opt_ts(tx, t.locked_until),
            ts(tx, expires_at),
        ])
        .map_err(|e| StoreError::Corrupt(e.to_string()))?
        .on_conflict(
            OnConflict::columns([a("scope"), a("key")])
                .update_columns(["failures", "window_started_at", "locked_until", "expires_at"].map(a))
                .to_owned(),
        );
    tx.execute(&q).await?;
    Ok(())
}

pub async fn throttle_clear(tx: &mut Tx, scope: ThrottleScope, key: &str) -> Result<()> {
    let mut q = Query::delete();
    q.from_table(a("login_throttle"))
        .and_where(Expr::col(a("scope")).eq(scope.as_str()))
        .and_where(Expr::col(a("key")).eq(key));
    tx.execute(&q).await?;
    Ok(())
}

/// Forget counters whose window and lock are both over.
pub async fn throttle_prune(tx: &mut Tx, now: OffsetDateTime) -> Result<u64> {
    let mut q = Query::delete();
    q.from_table(a("login_throttle")).and_where(Expr::col(a("expires_at")).lte(ts(tx, now)));
    tx.execute(&q).await
}

// ---------------------------------------------------------------------------------------
// Sessions: idle time and revocation

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionTimes {
    pub user_id: Uuid,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    /// None until the first time it is recorded; read as `created_at`.
    pub last_seen_at: Option<OffsetDateTime>,
}

impl SessionTimes {
    pub fn last_active(&self) -> OffsetDateTime {
        self.last_seen_at.unwrap_or(self.created_at)
    }
}

pub async fn session_times(tx: &mut Tx, token_hash: &str) -> Result<Option<SessionTimes>> {
    let mut q = Query::select();
    q.from(a("sessions"))
        .columns(["user_id", "created_at", "expires_at", "last_seen_at"].map(a))
        .and_where(Expr::col(a("token_hash")).eq(token_hash));
    let Some(row) = tx.fetch_optional(&q).await? else {
        return Ok(None);
    };
    Ok(Some(SessionTimes {
        user_id: required(row.uuid("user_id")?, "sessions.user_id")?,
        created_at: required(row.timestamp("created_at")?, "sessions.created_at")?,
        expires_at: required(row.timestamp("expires_at")?, "sessions.expires_at")?,
        last_seen_at: row.timestamp("last_seen_at")?,
    }))
}

fn last_active_expr() -> SimpleExpr {
    Func::coalesce([Expr::col(a("last_seen_at")).into(), Expr::col(a("created_at")).into()]).into()
}

/// Record that a session was used at `now`, unless that was already recorded after
/// `unless_after` (so concurrent requests write once).
pub async fn touch_session(
    tx: &mut Tx,
    token_hash: &str,
    now: OffsetDateTime,
    unless_after: OffsetDateTime,
) -> Result<u64> {
    let mut q = Query::update();
    q.table(a("sessions"))
        .value(a("last_seen_at"), ts(tx, now))
        .and_where(Expr::col(a("token_hash")).eq(token_hash))
        .and_where(last_active_expr().lt(ts(tx, unless_after)));
    tx.execute(&q).await
}

/// Delete sessions last used at or before `cutoff` (the idle timeout).
pub async fn delete_idle_sessions(tx: &mut Tx, cutoff: OffsetDateTime) -> Result<u64> {
    let mut q = Query::delete();
    q.from_table(a("sessions")).and_where(last_active_expr().lte(ts(tx, cutoff)));
    tx.execute(&q).await
}

/// End all of a user's sessions, except the one hashed as `keep` (the caller's own).
pub async fn delete_user_sessions(tx: &mut Tx, user_id: Uuid, keep: Option<&str>) -> Result<u64> {
    let mut q = Query::delete();
    q.from_table(a("sessions")).and_where(Expr::col(a("user_id")).eq(uid(tx, user_id)));
    if let Some(keep) = keep {
        q.and_where(Expr::col(a("token_hash")).ne(keep));
    }
    tx.execute(&q).await
}

/// Revoke all of a user's personal API tokens.
pub async fn delete_user_tokens(tx: &mut Tx, user_id: Uuid) -> Result<u64> {
    let mut q = Query::delete();
    q.from_table(a("api_tokens")).and_where(Expr::col(a("user_id")).eq(uid(tx, user_id)));
    tx.execute(&q).await
}

// ---------------------------------------------------------------------------------------
// TOTP and recovery codes

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpSecret {
    /// Base32, as shown to the user.
    pub secret: String,
    pub created_at: OffsetDateTime,
    /// None while set up but not yet confirmed with a code.
    pub enabled_at: Option<OffsetDateTime>,
    pub last_used_step: Option<i64>,
}

pub async fn totp_get(tx: &mut Tx, user_id: Uuid) -> Result<Option<TotpSecret>> {
    let mut q = Query::select();
    q.from(a("user_totp"))
        .columns(["secret", "created_at", "enabled_at", "last_used_step"].map(a))
        .and_where(Expr::col(a("user_id")).eq(uid(tx, user_id)));
    let Some(row) = tx.fetch_optional(&q).await? else {
        return Ok(None);
    };
    Ok(Some(TotpSecret {
        secret: required(row.text("secret")?, "user_totp.secret")?,
        created_at: required(row.timestamp("created_at")?, "user_totp.created_at")?,
        enabled_at: row.timestamp("enabled_at")?,
        last_used_step: opt_int(&row, "last_used_step")?,
    }))
}

/// Store a new, not yet enabled secret, replacing any earlier one.
pub async fn totp_put_pending(tx: &mut Tx, user_id: Uuid, secret: &str, now: OffsetDateTime) -> Result<()> {
    totp_delete(tx, user_id).await?;
    let mut q = Query::insert();
    q.into_table(a("user_totp"))
        .columns(["user_id", "secret", "created_at", "enabled_at", "last_used_step"].map(a))
        .values(vec![uid(tx, user_id), secret.into(), ts(tx, now), opt_ts(tx, None), Option::<i64>::None.into()])
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    tx.execute(&q).await?;
    Ok(())
}

pub async fn totp_enable(tx: &mut Tx, user_id: Uuid, now: OffsetDateTime) -> Result<()> {
    let mut q = Query::update();
    q.table(a("user_totp")).value(a("enabled_at"), ts(tx, now)).and_where(Expr::col(a("user_id")).eq(uid(tx, user_id)));
    tx.execute(&q).await?;
    Ok(())
}

/// Accept time step `step` for this user if no later or equal step was accepted before;
/// false means the code was already used (a replay).
pub async fn totp_claim_step(tx: &mut Tx, user_id: Uuid, step: i64) -> Result<bool> {
    let mut q = Query::update();
    q.table(a("user_totp"))
        .value(a("last_used_step"), step)
        .and_where(Expr::col(a("user_id")).eq(uid(tx, user_id)))
        .and_where(Expr::col(a("last_used_step")).is_null().or(Expr::col(a("last_used_step")).lt(step)));
    Ok(tx.execute(&q).await? == 1)
}

pub async fn totp_delete(tx: &mut Tx, user_id: Uuid) -> Result<()> {
    let mut q = Query::delete();
    q.from_table(a("user_totp")).and_where(Expr::col(a("user_id")).eq(uid(tx, user_id)));
    tx.execute(&q).await?;
    Ok(())
}

/// Replace a user's recovery codes with these hashes.
pub async fn recovery_codes_replace(tx: &mut Tx, user_id: Uuid, hashes: &[String], now: OffsetDateTime) -> Result<()> {
    recovery_codes_delete(tx, user_id).await?;
    if hashes.is_empty() {
        return Ok(());
    }
    let mut q = Query::insert();
    q.into_table(a("recovery_codes")).columns(["user_id", "code_hash", "created_at"].map(a));
    for h in hashes {
        q.values(vec![uid(tx, user_id), h.as_str().into(), ts(tx, now)])
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    }
    tx.execute(&q).await?;
    Ok(())
}

/// Mark an unused code as used; false when there is no such unused code.
pub async fn recovery_code_use(tx: &mut Tx, user_id: Uuid, code_hash: &str, now: OffsetDateTime) -> Result<bool> {
    let mut q = Query::update();
    q.table(a("recovery_codes"))
        .value(a("used_at"), ts(tx, now))
        .and_where(Expr::col(a("user_id")).eq(uid(tx, user_id)))
        .and_where(Expr::col(a("code_hash")).eq(code_hash))
        .and_where(Expr::col(a("used_at")).is_null());
    Ok(tx.execute(&q).await? == 1)
}

/// How many unused recovery codes the user has left.
pub async fn recovery_codes_left(tx: &mut Tx, user_id: Uuid) -> Result<i64> {
    let mut q = Query::select();
    q.from(a("recovery_codes"))
        .expr_as(Expr::col(a("code_hash")).count(), a("n"))
        .and_where(Expr::col(a("user_id")).eq(uid(tx, user_id)))
        .and_where(Expr::col(a("used_at")).is_null());
    match tx.fetch_optional(&q).await? {
        Some(row) => row.i64("n"),
        None => Ok(0),
    }
}

pub async fn recovery_codes_delete(tx: &mut Tx, user_id: Uuid) -> Result<()> {
    let mut q = Query::delete();
    q.from_table(a("recovery_codes")).and_where(Expr::col(a("user_id")).eq(uid(tx, user_id)));
    tx.execute(&q).await?;
    Ok(())
}
