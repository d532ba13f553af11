//! Workflow automation (admins, or roles the policy grants `ManageWorkflows`): workflows,
//! manual and dry runs, run history, dead jobs and built-in templates. Everything is
//! decided in keel-automation and keel-service; this only decodes and encodes.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use keel_domain::FieldErrors;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::AppState;
use crate::context::RequestCtx;
use crate::error::ApiError;
use crate::extract::{JsonObject, etag, if_match, parse_id, query_pairs};

/// Runs and jobs per page when `limit` is not given.
const DEFAULT_LIMIT: u32 = 50;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/workflows", get(list).post(create))
        .route("/api/v1/workflows/templates", get(templates))
        .route("/api/v1/workflows/templates/{key}/install", post(install))
        .route("/api/v1/workflows/{id}", get(read).patch(update).delete(remove))
        .route("/api/v1/workflows/{id}/run", post(run))
        .route("/api/v1/workflows/{id}/dry-run", post(dry_run))
        .route("/api/v1/workflows/{id}/runs", get(runs))
        .route("/api/v1/jobs", get(jobs))
        .route("/api/v1/jobs/{id}/retry", post(retry))
}

fn with_etag(body: Value) -> Response {
    let version = body["version"].as_i64().unwrap_or(0);
    let mut res = Json(body).into_response();
    if let Ok(v) = HeaderValue::from_str(&etag(version)) {
        res.headers_mut().insert(header::ETAG, v);
    }
    res
}

/// `limit` (1–200) and, for jobs, `status`; anything else is a 400.
fn params(raw: Option<&str>, allowed: &[&str]) -> Result<(u32, Option<String>), ApiError> {
    let mut errors = FieldErrors::new();
    let (mut limit, mut status) = (DEFAULT_LIMIT, None);
    for (k, v) in query_pairs(raw) {
        match k.as_str() {
            "limit" if allowed.contains(&"limit") => match v.parse::<u32>() {
                Ok(n) if (1..=200).contains(&n) => limit = n,
                _ => errors.push("limit", "invalid", "limit is a number from 1 to 200"),
            },
            "status" if allowed.contains(&"status") => status = Some(v),
            other => errors.push(other, "unknown_parameter", format!("known parameters: {}", allowed.join(", "))),
        }
    }
    if errors.is_empty() { Ok((limit, status)) } else { Err(ApiError::invalid_query(errors)) }
}

/// `{"record_id": "…"}`.
fn record_id(body: &Map<String, Value>) -> Result<Uuid, ApiError> {
    let raw = body.get("record_id").and_then(Value::as_str);
    raw.and_then(|s| Uuid::parse_str(s).ok()).ok_or_else(|| {
        let mut e = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", "Some fields are not valid");
        e.errors.push("record_id", "required", "the id (a UUID) of the record to run on");
        e
    })
}

async fn list(State(state): State<AppState>, RequestCtx(ctx): RequestCtx) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({ "data": state.automation.list(&ctx).await? })))
}

async fn create(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let w = state.automation.create(&ctx, body).await?;
    let mut res = with_etag(w);
    *res.status_mut() = StatusCode::CREATED;
    Ok(res)
}

async fn read(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    Ok(with_etag(state.automation.get(&ctx, parse_id(&id)?).await?))
}

async fn update(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    Ok(with_etag(state.automation.update(&ctx, id, body, if_match(&headers)?).await?))
}

async fn remove(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.automation.delete(&ctx, parse_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn run(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    Path(id): Path<String>,
    JsonObject(body): JsonObject,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let id = parse_id(&id)?;
    let job = state.automation.run(&ctx, id, record_id(&body)?).await?;
    Ok((StatusCode::ACCEPTED, Json(json!(job))))
}

async fn dry_run(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    Path(id): Path<String>,
    JsonObject(body): JsonObject,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id)?;
    Ok(Json(state.automation.dry_run(&ctx, id, record_id(&body)?).await?))
}

async fn runs(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id)?;
    let (limit, _) = params(raw.as_deref(), &["limit"])?;
    Ok(Json(json!({ "data": state.automation.runs(&ctx, id, limit).await? })))
}

async fn jobs(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let (limit, status) = params(raw.as_deref(), &["limit", "status"])?;
    let jobs = state.automation.jobs(&ctx, status.as_deref(), limit).await.map_err(|e| match e {
        keel_service::ServiceError::Invalid(errors) => ApiError::invalid_query(errors),
        other => other.into(),
    })?;
    Ok(Json(json!({ "data": jobs })))
}

async fn retry(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(state.automation.retry(&ctx, parse_id(&id)?).await?)))
}

async fn templates(State(state): State<AppState>, RequestCtx(ctx): RequestCtx) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({ "data": state.automation.templates(&ctx)? })))
}

/// Install a built-in template. The body is `{}` or overrides (`name`, `description`,
/// `enabled`, `slack_webhook_url`).
async fn install(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    Path(key): Path<String>,
    JsonObject(overrides): JsonObject,
) -> Result<Response, ApiError> {
    let w = state.automation.install(&ctx, &key, overrides).await?;
    let mut res = with_etag(w);
    *res.status_mut() = StatusCode::CREATED;
    Ok(res)
}
