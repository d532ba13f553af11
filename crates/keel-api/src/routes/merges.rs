//! Duplicates and merges: suggestions, merging records and undoing a merge.

use std::collections::BTreeMap;

use axum::extract::{Path, RawQuery, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use keel_domain::FieldErrors;
use keel_service::ServiceError;
use keel_service::records::merge::MergeRequest;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::AppState;
use crate::context::RequestCtx;
use crate::error::ApiError;
use crate::extract::{JsonObject, parse_id, query_pairs};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/merges", get(list_merges))
        .route("/api/v1/merges/{id}/undo", post(undo))
        .route("/api/v1/{entity}/duplicates", get(duplicates))
        .route("/api/v1/{entity}/merge", post(merge))
        .route("/api/v1/{entity}/{id}/duplicates", get(duplicates_of))
}

/// `limit` (1–100, default `default`) and `cursor` from a query string; nothing else.
fn paging(raw: Option<&str>, default: u32) -> Result<(u32, Option<String>), ApiError> {
    let mut limit = default;
    let mut cursor = None;
    let mut errors = FieldErrors::new();
    for (k, v) in query_pairs(raw) {
        match k.as_str() {
            "limit" => match v.parse::<u32>() {
                Ok(n) if (1..=100).contains(&n) => limit = n,
                _ => errors.push("limit", "out_of_range", "limit must be a whole number from 1 to 100"),
            },
            "cursor" => cursor = Some(v),
            other => errors.push(other, "unknown_parameter", "Only `limit` and `cursor` are accepted"),
        }
    }
    if errors.is_empty() { Ok((limit, cursor)) } else { Err(ApiError::invalid_query(errors)) }
}

fn bad_cursor() -> ApiError {
    ApiError::invalid_query(FieldErrors::single(
        "cursor",
        "invalid_cursor",
        "Pass a `next_cursor` from an earlier page",
    ))
}

async fn duplicates(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    Path(name): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let (limit, cursor) = paging(raw.as_deref(), 25)?;
    let cursor = cursor.map(|c| Uuid::parse_str(&c).map_err(|_| bad_cursor())).transpose()?;
    let page = state.service.duplicates(&ctx, &name, cursor, limit).await?;
    Ok(Json(json!(page)))
}

async fn duplicates_of(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    Path((name, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let matches = state.service.duplicates_of(&ctx, &name, parse_id(&id)?).await?;
    Ok(Json(json!({ "data": matches })))
}

fn uuid_field(v: &Value, field: &str, errors: &mut FieldErrors) -> Option<Uuid> {
    match v.as_str().map(Uuid::parse_str) {
        Some(Ok(id)) => Some(id),
        _ => {
            errors.push(field, "invalid_id", format!("`{field}` must be a record id (a UUID)"));
            None
        }
    }
}

/// The merge body, each mistake named by its field.
fn merge_request(body: Map<String, Value>) -> Result<MergeRequest, ApiError> {
    let mut errors = FieldErrors::new();
    let mut req = MergeRequest::default();
    for key in body.keys() {
        if !matches!(key.as_str(), "survivor" | "others" | "fields") {
            errors.push(key.clone(), "unknown_field", "A merge takes `survivor`, `others` and `fields`");
        }
    }
    match body.get("survivor") {
        None | Some(Value::Null) => errors.push("survivor", "required", "Name the record that survives"),
        Some(v) => req.survivor = uuid_field(v, "survivor", &mut errors).unwrap_or_default(),
    }
    match body.get("others") {
        None | Some(Value::Null) => errors.push("others", "required", "List the records to merge into the survivor"),
        Some(Value::Array(items)) => {
            for (i, v) in items.iter().enumerate() {
                if let Some(id) = uuid_field(v, &format!("others[{i}]"), &mut errors) {
                    req.others.push(id);
                }
            }
        }
        Some(_) => errors.push("others", "wrong_type", "`others` must be a list of record ids"),
    }
    match body.get("fields") {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            let mut fields = BTreeMap::new();
            for (k, v) in map {
                if let Some(id) = uuid_field(v, &format!("fields.{k}"), &mut errors) {
                    fields.insert(k.clone(), id);
                }
            }
            req.fields = fields;
        }
        Some(_) => errors.push(
            "fields",
            "wrong_type",
            "`fields` maps a field name to the id of the record whose value survives",
        ),
    }
    if errors.is_empty() { Ok(req) } else { Err(ServiceError::Invalid(errors).into()) }
}

async fn merge(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    Path(name): Path<String>,
    JsonObject(body): JsonObject,
) -> Result<Json<Value>, ApiError> {
    state.service.schema().entity(&name).ok_or_else(ApiError::not_found)?;
    let req = merge_request(body)?;
    let outcome = state.service.merge(&ctx, &name, req).await?;
    Ok(Json(json!(outcome)))
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

async fn list_merges(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let (limit, cursor) = paging(raw.as_deref(), 25)?;
    let before = match cursor {
        None => None,
        Some(c) => {
            let (at, id) = c.rsplit_once('_').ok_or_else(bad_cursor)?;
            let at =
                OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339).map_err(|_| bad_cursor())?;
            Some((at, Uuid::parse_str(id).map_err(|_| bad_cursor())?))
        }
    };
    let (data, next) = state.service.merges(&ctx, before, limit).await?;
    let next_cursor = next.map(|(at, id)| format!("{}_{id}", rfc3339(at)));
    Ok(Json(json!({ "data": data, "next_cursor": next_cursor })))
}

async fn undo(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let outcome = state.service.undo_merge(&ctx, parse_id(&id)?).await?;
    Ok(Json(json!(outcome)))
}
