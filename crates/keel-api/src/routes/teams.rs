//! A team's listed managers: `GET`/`PUT /api/v1/teams/{id}/managers`.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::AppState;
use crate::context::RequestCtx;
use crate::error::ApiError;
use crate::extract::{JsonObject, parse_id, typed};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/teams/{id}/managers", get(list).put(replace))
}

async fn list(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let managers = state.service.team_managers(&ctx, parse_id(&id)?).await?;
    Ok(Json(json!({ "user_ids": managers })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Managers {
    user_ids: Vec<Uuid>,
}

async fn replace(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    Path(id): Path<String>,
    JsonObject(body): JsonObject,
) -> Result<Json<Value>, ApiError> {
    let req: Managers = typed(body)?;
    let managers = state.service.set_team_managers(&ctx, parse_id(&id)?, &req.user_ids).await?;
    Ok(Json(json!({ "user_ids": managers })))
}
