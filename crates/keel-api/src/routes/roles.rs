//! Roles as data: list and read (everyone signed in), define, change, delete (admins).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::AppState;
use crate::context::RequestCtx;
use crate::error::ApiError;
use crate::extract::JsonObject;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/roles", get(list).post(create))
        .route("/api/v1/roles/{name}", get(read).patch(update).delete(remove))
}

async fn list(State(state): State<AppState>, RequestCtx(ctx): RequestCtx) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({ "data": state.service.list_roles(&ctx).await? })))
}

async fn read(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(state.service.get_role(&ctx, &name).await?)))
}

async fn create(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    JsonObject(body): JsonObject,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    Ok((StatusCode::CREATED, Json(json!(state.service.create_role(&ctx, body).await?))))
}

async fn update(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    Path(name): Path<String>,
    JsonObject(body): JsonObject,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(state.service.update_role(&ctx, &name, body).await?)))
}

async fn remove(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.service.delete_role(&ctx, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}
