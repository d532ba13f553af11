//! Outbound webhook subscriptions, their deliveries and every try of each. The events,
//! filter and payload are opaque JSON here; keel-automation gives them meaning. The
//! deliveries themselves are jobs in the queue (`jobs`); a delivery's id is its job's.

use keel_domain::FieldType;
use sea_query::{Expr, Order, Query};
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{a, json, opt_text, opt_ts, opt_uuid, read_bool, read_opt_json, required, ts, uuid, values_err};
use crate::db::{Backend, Row, Tx};
use crate::error::Result;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredWebhook {
    pub id: Uuid,
    pub url: String,
    pub description: Option<String>,
    /// `["deals.updated", "companies.*", "*"]`
    pub events: serde_json::Value,
    /// A condition tree over the record, or None.
    pub filter: Option<serde_json::Value>,
    pub active: bool,
    pub secret: String,
    /// Consecutive failed deliveries.
    pub failures: i64,
    /// Why it was disabled automatically (None while active or disabled by hand).
    pub disabled_reason: Option<String>,
    pub created_by: Option<Uuid>,
    /// Who saved it last: the admin who owns it (emailed when it is disabled).
    pub updated_by: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    pub version: i64,
}

const COLUMNS: [&str; 14] = [
    "id",
    "url",
    "description",
    "events",
    "filter",
    "active",
    "secret",
    "failures",
    "disabled_reason",
    "created_by",
    "updated_by",
    "created_at",
    "updated_at",
    "version",
];

fn decode(r: &Row) -> Result<StoredWebhook> {
    Ok(StoredWebhook {
        id: required(r.uuid("id")?, "id")?,
        url: r.text("url")?.unwrap_or_default(),
        description: r.text("description")?,
        events: r.json("events")?,
        filter: read_opt_json(r, "filter")?,
        active: read_bool(r, "active")?.unwrap_or(false),
        secret: r.text("secret")?.unwrap_or_default(),
        failures: r.i64("failures")?,
        disabled_reason: r.text("disabled_reason")?,
        created_by: r.uuid("created_by")?,
        updated_by: r.uuid("updated_by")?,
        created_at: required(r.timestamp("created_at")?, "created_at")?,
        updated_at: required(r.timestamp("updated_at")?, "updated_at")?,
        version: r.i64("version")?,
    })
}

/// JSON or a NULL of the column's type (JSONB on PostgreSQL, which refuses a text NULL).
fn opt_json(tx: &Tx, v: Option<&serde_json::Value>) -> sea_query::SimpleExpr {
    match (v, tx.backend()) {
        (Some(v), _) => json(tx, v),
        (None, Backend::Sqlite) => sea_query::Value::String(None).into(),
        (None, Backend::Postgres) => sea_query::Value::Json(None).into(),
    }
}

pub async fn get(tx: &mut Tx, id: Uuid) -> Result<Option<StoredWebhook>> {
    let mut q = Query::select();
    q.from(a("webhooks")).columns(COLUMNS.map(a)).and_where(Expr::col(a("id")).eq(uuid(tx, id)));
    tx.fetch_optional(&q).await?.as_ref().map(decode).transpose()
}

/// Every subscription, newest first (an admin's list: a handful, not a million).
pub async fn all(tx: &mut Tx) -> Result<Vec<StoredWebhook>> {
    let mut q = Query::select();
    q.from(a("webhooks")).columns(COLUMNS.map(a)).order_by(a("created_at"), Order::Desc).order_by(a("id"), Order::Desc);
    tx.fetch_all(&q).await?.iter().map(decode).collect()
}

/// Active subscriptions: what the dispatcher matches changes against.
pub async fn active(tx: &mut Tx) -> Result<Vec<StoredWebhook>> {
    let mut q = Query::select();
    q.from(a("webhooks"))
        .columns(COLUMNS.map(a))
        .and_where(Expr::col(a("active")).eq(true))
        .order_by(a("created_at"), Order::Asc);
    tx.fetch_all(&q).await?.iter().map(decode).collect()
}

pub async fn insert(tx: &mut Tx, w: &StoredWebhook) -> Result<()> {
    let mut q = Query::insert();
    q.into_table(a("webhooks"))
        .columns(COLUMNS.map(a))
        .values(vec![
            uuid(tx, w.id),
            w.url.clone().into(),
            opt_text(tx, w.description.as_deref()),
            json(tx, &w.events),
            opt_json(tx, w.filter.as_ref()),
            w.active.into(),
            w.secret.clone().into(),
            w.failures.into(),
            opt_text(tx, w.disabled_reason.as_deref()),
            opt_uuid(tx, w.created_by),
            opt_uuid(tx, w.updated_by),
            ts(tx, w.created_at),
            ts(tx, w.updated_at),
            w.version.into(),
        ])
        .map_err(values_err)?;
    tx.execute(&q).await?;
    Ok(())
}

/// Replace everything but the id and the creation facts, if the stored version is
/// `expected_version`. Returns whether a row changed.
pub async fn update(tx: &mut Tx, w: &StoredWebhook, expected_version: i64) -> Result<bool> {
    let mut q = Query::update();
    q.table(a("webhooks"))
        .values([
            (a("url"), w.url.clone().into()),
            (a("description"), opt_text(tx, w.description.as_deref())),
            (a("events"), json(tx, &w.events)),
            (a("filter"), opt_json(tx, w.filter.as_ref())),
            (a("active"), w.active.into()),
            (a("secret"), w.secret.clone().into()),
            (a("failures"), w.failures.into()),
            (a("disabled_reason"), opt_text(tx, w.disabled_reason.as_deref())),
            (a("updated_by"), opt_uuid(tx, w.updated_by)),
            (a("updated_at"), ts(tx, w.updated_at)),
            (a("version"), w.version.into()),
        ])
        .and_where(Expr::col(a("id")).eq(uuid(tx, w.id)))
        .and_where(Expr::col(a("version")).eq(expected_version));
    Ok(tx.execute(&q).await? == 1)
}

/// Count a failed delivery (`failed`) or start the count again (a success). Returns the
/// new count, None when the subscription is gone.
pub async fn count_failure(tx: &mut Tx, id: Uuid, failed: bool) -> Result<Option<i64>> {
    let mut q = Query::update();
    let value = if failed { Expr::col(a("failures")).add(1i64) } else { Expr::val(0i64).into() };
    q.table(a("webhooks")).value(a("failures"), value).and_where(Expr::col(a("id")).eq(uuid(tx, id)));
    if tx.execute(&q).await? == 0 {
        return Ok(None);
    }
    Ok(get(tx, id).await?.map(|w| w.failures))
}

pub async fn delete(tx: &mut Tx, id: Uuid) -> Result<bool> {
    let mut q = Query::delete();
    q.from_table(a("webhooks")).and_where(Expr::col(a("id")).eq(uuid(tx, id)));
    Ok(tx.execute(&q).await? == 1)
}

/// One delivery of one event to one subscription.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Delivery {
    pub id: Uuid,
    pub webhook_id: Uuid,
    pub event_id: String,
    pub event_type: String,
    pub change_seq: Option<i64>,
    pub payload: serde_json::Value,
    /// queued, retrying, succeeded, failed, dead, skipped
    pub status: String,
    /// A test event or a redelivery an admin asked for (not counted toward disabling).
    pub manual: bool,
    pub redelivery_of: Option<Uuid>,
    /// The last try's HTTP status.
    pub response_code: Option<i64>,
    pub error: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub finished_at: Option<OffsetDateTime>,
}

const DELIVERY_COLUMNS: [&str; 13] = [
    "id",
    "webhook_id",
    "event_id",
    "event_type",
    "change_seq",
    "payload",
    "status",
    "manual",
    "redelivery_of",
    "response_code",
    "error",
    "created_at",
    "finished_at",
];

fn opt_i64(r: &Row, col: &str) -> Result<Option<i64>> {
    Ok(r.value(col, FieldType::Integer)?.as_int())
}

fn decode_delivery(r: &Row) -> Result<Delivery> {
    Ok(Delivery {
        id: required(r.uuid("id")?, "id")?,
        webhook_id: required(r.uuid("webhook_id")?, "webhook_id")?,
        event_id: r.text("event_id")?.unwrap_or_default(),
        event_type: r.text("event_type")?.unwrap_or_default(),
        change_seq: opt_i64(r, "change_seq")?,
        payload: r.json("payload")?,
        status: r.text("status")?.unwrap_or_default(),
        manual: read_bool(r, "manual")?.unwrap_or(false),
        redelivery_of: r.uuid("redelivery_of")?,
        response_code: opt_i64(r, "response_code")?,
        error: r.text("error")?,
        created_at: required(r.timestamp("created_at")?, "created_at")?,
        finished_at: r.timestamp("finished_at")?,
    })
}

pub async fn insert_delivery(tx: &mut Tx, d: &Delivery) -> Result<()> {
    let mut q = Query::insert();
    q.into_table(a("webhook_deliveries"))
        .columns(DELIVERY_COLUMNS.map(a))
        .values(vec![
            uuid(tx, d.id),
            uuid(tx, d.webhook_id),
            d.event_id.clone().into(),
            d.event_type.clone().into(),
            d.change_seq.into(),
            json(tx, &d.payload),
            d.status.clone().into(),
            d.manual.into(),
            opt_uuid(tx, d.redelivery_of),
            d.response_code.into(),
            opt_text(tx, d.error.as_deref()),
            ts(tx, d.created_at),
            opt_ts(tx, d.finished_at),
        ])
        .map_err(values_err)?;
    tx.execute(&q).await?;
    Ok(())
}

pub async fn get_delivery(tx: &mut Tx, id: Uuid) -> Result<Option<Delivery>> {
    let mut q = Query::select();
    q.from(a("webhook_deliveries")).columns(DELIVERY_COLUMNS.map(a)).and_where(Expr::col(a("id")).eq(uuid(tx, id)));
    tx.fetch_optional(&q).await?.as_ref().map(decode_delivery).transpose()
}

/// Set a delivery's status after a try; `finished` stamps its end.
pub async fn set_delivery_status(
    tx: &mut Tx,
    id: Uuid,
    status: &str,
    response_code: Option<i64>,
    error: Option<&str>,
    finished: Option<OffsetDateTime>,
) -> Result<()> {
    let mut q = Query::update();
    q.table(a("webhook_deliveries"))
        .values([
            (a("status"), status.into()),
            (a("response_code"), response_code.into()),
            (a("error"), opt_text(tx, error)),
            (a("finished_at"), opt_ts(tx, finished)),
        ])
        .and_where(Expr::col(a("id")).eq(uuid(tx, id)));
    tx.execute(&q).await?;
    Ok(())
}

/// A subscription's deliveries, newest first, after the keyset `before` (a delivery id).
pub async fn deliveries_of(tx: &mut Tx, webhook_id: Uuid, before: Option<Uuid>, limit: u64) -> Result<Vec<Delivery>> {
    let mut q = Query::select();
    q.from(a("webhook_deliveries"))
        .columns(DELIVERY_COLUMNS.map(a))
        .and_where(Expr::col(a("webhook_id")).eq(uuid(tx, webhook_id)))
        .order_by(a("id"), Order::Desc)
        .limit(limit);
    if let Some(b) = before {
        q.and_where(Expr::col(a("id")).lt(uuid(tx, b)));
    }
    tx.fetch_all(&q).await?.iter().map(decode_delivery).collect()
}

/// One try of one delivery.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attempt {
    pub delivery_id: Uuid,
    pub attempt: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub succeeded: bool,
    pub response_code: Option<i64>,
    pub latency_ms: i64,
    pub error: Option<String>,
    /// The start of the receiver's answer (at most 1,000 characters).
    pub response_snippet: Option<String>,
}

const ATTEMPT_COLUMNS: [&str; 8] =
    ["delivery_id", "attempt", "at", "succeeded", "response_code", "latency_ms", "error", "response_snippet"];

fn decode_attempt(r: &Row) -> Result<Attempt> {
    Ok(Attempt {
        delivery_id: required(r.uuid("delivery_id")?, "delivery_id")?,
        attempt: r.i64("attempt")?,
        at: required(r.timestamp("at")?, "at")?,
        succeeded: read_bool(r, "succeeded")?.unwrap_or(false),
        response_code: opt_i64(r, "response_code")?,
        latency_ms: r.i64("latency_ms")?,
        error: r.text("error")?,
        response_snippet: r.text("response_snippet")?,
    })
}

/// Record a try; its number is one more than the tries recorded so far.
pub async fn insert_attempt(tx: &mut Tx, t: &Attempt) -> Result<i64> {
    let mut count = Query::select();
    count
        .from(a("webhook_attempts"))
        .expr_as(Expr::col(a("attempt")).max(), a("n"))
        .and_where(Expr::col(a("delivery_id")).eq(uuid(tx, t.delivery_id)));
    let n = match tx.fetch_optional(&count).await? {
        Some(r) => opt_i64(&r, "n")?.unwrap_or(0),
        None => 0,
    } + 1;
    let mut q = Query::insert();
    q.into_table(a("webhook_attempts"))
        .columns(ATTEMPT_COLUMNS.map(a))
        .values(vec![
            uuid(tx, t.delivery_id),
            n.into(),
            ts(tx, t.at),
            t.succeeded.into(),
            t.response_code.into(),
            t.latency_ms.into(),
            opt_text(tx, t.error.as_deref()),
            opt_text(tx, t.response_snippet.as_deref()),
        ])
        .map_err(values_err)?;
    tx.execute(&q).await?;
    Ok(n)
}

/// The tries of these deliveries (one query for a page of the log), oldest first.
pub async fn attempts_of(tx: &mut Tx, deliveries: &[Uuid]) -> Result<Vec<Attempt>> {
    if deliveries.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<sea_query::SimpleExpr> = deliveries.iter().map(|id| uuid(tx, *id)).collect();
    let mut q = Query::select();
    q.from(a("webhook_attempts"))
        .columns(ATTEMPT_COLUMNS.map(a))
        .and_where(Expr::col(a("delivery_id")).is_in(ids))
        .order_by(a("delivery_id"), Order::Asc)
        .order_by(a("attempt"), Order::Asc);
    tx.fetch_all(&q).await?.iter().map(decode_attempt).collect()
}
