//! Custom fields (admins): list, define, change (type changes convert or refuse with a
//! report), reorder, archive and unarchive the fields of companies, contacts, deals and
//! activities; edit select options of built-in and custom fields.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use keel_domain::FieldErrors;
use serde_json::{Value, json};

use crate::AppState;
use crate::context::RequestCtx;
use crate::error::ApiError;
use crate::extract::JsonObject;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/fields/{entity}", get(list).post(create))
        .route("/api/v1/fields/{entity}/order", put(reorder))
        .route("/api/v1/fields/{entity}/{name}", get(read).patch(update))
        .route("/api/v1/fields/{entity}/{name}/archive", post(archive))
        .route("/api/v1/fields/{entity}/{name}/unarchive", post(unarchive))
        .route("/api/v1/fields/{entity}/{name}/options", put(options))
}

async fn list(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    Path(entity): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({ "data": state.service.list_fields(&ctx, &entity).await? })))
}

async fn read(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    Path((entity, name)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(state.service.get_field(&ctx, &entity, &name).await?)))
}

async fn create(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    Path(entity): Path<String>,
    JsonObject(body): JsonObject,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    Ok((StatusCode::CREATED, Json(json!(state.service.create_field(&ctx, &entity, body).await?))))
}

async fn update(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    Path((entity, name)): Path<(String, String)>,
    JsonObject(body): JsonObject,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(state.service.update_field(&ctx, &entity, &name, body).await?)))
}

async fn archive(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    Path((entity, name)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(state.service.archive_field(&ctx, &entity, &name, true).await?)))
}

async fn unarchive(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    Path((entity, name)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(state.service.archive_field(&ctx, &entity, &name, false).await?)))
}

async fn reorder(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    Path(entity): Path<String>,
    JsonObject(body): JsonObject,
) -> Result<Json<Value>, ApiError> {
    let order: Option<Vec<String>> = body
        .get("order")
        .and_then(Value::as_array)
        .and_then(|a| a.iter().map(|v| v.as_str().map(str::to_string)).collect());
    let Some(order) = order else {
        return Err(keel_service::ServiceError::from(FieldErrors::single(
            "order",
            "required",
            "order is an array of field names",
        ))
        .into());
    };
    Ok(Json(json!({ "data": state.service.reorder_fields(&ctx, &entity, &order).await? })))
}

async fn options(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    Path((entity, name)): Path<(String, String)>,
    JsonObject(body): JsonObject,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(state.service.set_options(&ctx, &entity, &name, body).await?)))
}
