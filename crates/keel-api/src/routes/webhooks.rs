//! Outbound webhooks (admins: `AdminPower::ManageWebhooks`): subscriptions, their
//! secrets, the delivery log, redelivery and test events. Everything is decided in
//! keel-automation and keel-service; this only decodes and encodes.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use keel_domain::FieldErrors;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::AppState;
use crate::context::RequestCtx;
use crate::error::ApiError;
use crate::extract::{JsonObject, etag, if_match, parse_id, query_pairs};

/// Deliveries per page when `limit` is not given.
const DEFAULT_LIMIT: u32 = 50;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/webhooks", get(list).post(create))
        .route("/api/v1/webhooks/{id}", get(read).patch(update).delete(remove))
        .route("/api/v1/webhooks/{id}/rotate-secret", post(rotate))
        .route("/api/v1/webhooks/{id}/test", post(test))
        .route("/api/v1/webhooks/{id}/deliveries", get(deliveries))
        .route("/api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver", post(redeliver))
}

fn with_etag(body: Value, status: StatusCode) -> Response {
    let version = body["version"].as_i64().unwrap_or(0);
    let mut res = (status, Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&etag(version)) {
        res.headers_mut().insert(header::ETAG, v);
    }
    res
}

/// `limit` (1–200) and `before` (a delivery id: the page after it); anything else is a 400.
fn page(raw: Option<&str>) -> Result<(u32, Option<Uuid>), ApiError> {
    let mut errors = FieldErrors::new();
    let (mut limit, mut before) = (DEFAULT_LIMIT, None);
    for (k, v) in query_pairs(raw) {
        match k.as_str() {
            "limit" => match v.parse::<u32>() {
                Ok(n) if (1..=200).contains(&n) => limit = n,
                _ => errors.push("limit", "invalid", "limit is a number from 1 to 200"),
            },
            "before" => match Uuid::parse_str(&v) {
                Ok(id) => before = Some(id),
                Err(_) => errors.push("before", "invalid", "before is a delivery id (a UUID)"),
            },
            other => errors.push(other, "unknown_parameter", "known parameters: limit, before"),
        }
    }
    if errors.is_empty() { Ok((limit, before)) } else { Err(ApiError::invalid_query(errors)) }
}

async fn list(State(state): State<AppState>, RequestCtx(ctx): RequestCtx) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({ "data": state.automation.list_webhooks(&ctx).await? })))
}

async fn create(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    Ok(with_etag(state.automation.create_webhook(&ctx, body).await?, StatusCode::CREATED))
}

async fn read(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(with_etag(state.automation.get_webhook(&ctx, parse_id(&id)?).await?, StatusCode::OK))
}

async fn update(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let w = state.automation.update_webhook(&ctx, id, body, if_match(&headers)?).await?;
    Ok(with_etag(w, StatusCode::OK))
}

async fn remove(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.automation.delete_webhook(&ctx, parse_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn rotate(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(with_etag(state.automation.rotate_webhook_secret(&ctx, parse_id(&id)?).await?, StatusCode::OK))
}

async fn test(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    Ok((StatusCode::ACCEPTED, Json(state.automation.test_webhook(&ctx, parse_id(&id)?).await?)))
}

async fn deliveries(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id)?;
    let (limit, before) = page(raw.as_deref())?;
    let data = state.automation.webhook_deliveries(&ctx, id, before, limit).await?;
    // The next page starts after this one's last delivery, while the page is full.
    let next = (data.len() == limit as usize).then(|| data.last().map(|d| d["id"].clone())).flatten();
    Ok(Json(json!({ "data": data, "next_before": next })))
}

async fn redeliver(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    Path((id, delivery_id)): Path<(String, String)>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (id, delivery_id) = (parse_id(&id)?, parse_id(&delivery_id)?);
    Ok((StatusCode::ACCEPTED, Json(state.automation.redeliver(&ctx, id, delivery_id).await?)))
}
