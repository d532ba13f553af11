//! `GET /api/v1/dashboard?today=YYYY-MM-DD`: the dashboard's figures, computed in SQL
//! over the deals the viewer may see (see `keel_service::dashboard`).

use axum::extract::{RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use keel_domain::FieldErrors;
use keel_service::dashboard::{Dashboard, parse_today};

use crate::AppState;
use crate::context::RequestCtx;
use crate::error::ApiError;
use crate::extract::query_pairs;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/dashboard", get(dashboard))
}

async fn dashboard(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    RawQuery(raw): RawQuery,
) -> Result<Json<Dashboard>, ApiError> {
    let mut today = None;
    let mut errors = FieldErrors::new();
    let mut seen_today = false;
    for (k, v) in query_pairs(raw.as_deref()) {
        match k.as_str() {
            "today" if seen_today => errors.push("today", "repeated_parameter", "`today` may be given only once"),
            "today" => {
                seen_today = true;
                match parse_today(&v) {
                    Some(d) => today = Some(d),
                    None => errors.push("today", "invalid", "today must be a date such as 2026-11-24 (YYYY-MM-DD)"),
                }
            }
            other => errors.push(
                other,
                "unknown_parameter",
                format!("unknown parameter `{other}`; the dashboard takes today"),
            ),
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid_query(errors));
    }
    Ok(Json(state.service.dashboard(&ctx, today).await?))
}
