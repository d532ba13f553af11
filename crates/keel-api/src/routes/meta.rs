//! Health, readiness, the schema metadata, the OpenAPI document and the change feed.

use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::AppState;
use crate::context::RequestCtx;
use crate::error::ApiError;
use crate::extract::query_pairs;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { Json(json!({ "status": "ok" })) }))
        .route("/readyz", get(readyz))
        .route("/api/openapi.json", get(openapi))
        .route("/api/docs", get(|| async { Html(crate::openapi::docs_html()) }))
        .route("/api/v1/schema", get(schema))
        .route("/api/v1/changes", get(changes))
}

async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match state.service.ready().await {
        Ok(()) => (StatusCode::OK, Json(json!({ "status": "ready" }))),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable", "reason": "database unreachable" })),
            )
        }
    }
}

async fn openapi(State(state): State<AppState>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], Json((*state.openapi()).clone()))
}

/// The schema as this user may see it: hidden fields removed, and fields their role may
/// read on no record (restricted custom fields) left out, so forms and columns skip them.
async fn schema(State(state): State<AppState>, RequestCtx(ctx): RequestCtx) -> impl IntoResponse {
    let mut schema = state.service.schema().public();
    for entity in schema.entities.values_mut() {
        let unreadable = keel_domain::policy::unreadable(&ctx.actor, entity);
        entity.fields.retain(|f| !unreadable.contains(&f.name));
    }
    Json(json!({ "entities": schema.entities }))
}

async fn changes(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    RawQuery(raw): RawQuery,
) -> Result<impl IntoResponse, ApiError> {
    let mut after = 0i64;
    let mut limit = 100u32;
    let mut errors = keel_domain::FieldErrors::new();
    for (k, v) in query_pairs(raw.as_deref()) {
        match k.as_str() {
            "after" => match v.parse::<i64>() {
                Ok(n) if n >= 0 => after = n,
                _ => errors.push("after", "invalid", "after must be a sequence number (0 or more)"),
            },
            "limit" => match v.parse::<u32>() {
                Ok(n) if (1..=1000).contains(&n) => limit = n,
                _ => errors.push("limit", "invalid_limit", "limit must be a whole number from 1 to 1000"),
            },
            other => {
                errors.push(other, "unknown_parameter", format!("unknown parameter `{other}`; use after and limit"))
            }
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid_query(errors));
    }
    let entries = state.service.changes(&ctx, after, limit).await?;
    let next_after = entries.last().map_or(after, |e| e.seq);
    Ok(Json(json!({ "data": entries, "next_after": next_after })))
}
