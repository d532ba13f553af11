//! The generic record endpoints, one set for every entity in the schema:
//! list · create · get · patch · delete (trash) · restore · purge · bulk · related lists.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use keel_domain::policy::SharePermission;
use keel_domain::query::{ListQuery, parse_list_query};
use keel_service::records::{Created, IdempotencyKey};
use keel_service::records::{Grantee, PageView};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::AppState;
use crate::context::RequestCtx;
use crate::error::ApiError;
use crate::extract::{JsonObject, etag, idempotency_key, if_match, parse_id, query_pairs, typed};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/{entity}", get(list).post(create))
        .route("/api/v1/{entity}/aggregate", get(aggregate))
        .route("/api/v1/{entity}/bulk/delete", post(bulk_delete))
        .route("/api/v1/{entity}/bulk/owner", post(bulk_owner))
        .route("/api/v1/{entity}/{id}", get(read).patch(update).delete(remove))
        .route("/api/v1/{entity}/{id}/restore", post(restore))
        .route("/api/v1/{entity}/{id}/purge", post(purge))
        .route("/api/v1/{entity}/{id}/shares", get(list_shares).post(share))
        .route("/api/v1/{entity}/{id}/shares/{share_id}", axum::routing::delete(unshare))
        .route("/api/v1/{entity}/{id}/{related}", get(related))
}

fn entity<'a>(state: &'a AppState, name: &str) -> Result<&'a keel_domain::EntityDef, ApiError> {
    state.service.schema().entity(name).ok_or_else(ApiError::not_found)
}

fn list_query(entity: &keel_domain::EntityDef, raw: Option<&str>) -> Result<ListQuery, ApiError> {
    parse_list_query(entity, &query_pairs(raw)).map_err(ApiError::invalid_query)
}

fn page_json(page: PageView) -> Value {
    let data: Vec<Value> = page.data.into_iter().map(Value::Object).collect();
    let mut body = json!({ "data": data, "next_cursor": page.next_cursor });
    if let (Some(total), Some(map)) = (page.total, body.as_object_mut()) {
        map.insert("total".into(), total.into());
    }
    body
}

/// A record with its version as ETag, for `If-Match` on the next PATCH.
fn record_response(status: StatusCode, record: Map<String, Value>) -> Response {
    let version = record.get("version").and_then(Value::as_i64).unwrap_or(0);
    let mut res = (status, Json(Value::Object(record))).into_response();
    if let Ok(v) = HeaderValue::from_str(&etag(version)) {
        res.headers_mut().insert(header::ETAG, v);
    }
    res
}

async fn list(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    Path(name): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let e = entity(&state, &name)?;
    let query = list_query(e, raw.as_deref())?;
    let page = state.service.list(&ctx, &name, &query).await?;
    Ok(Json(page_json(page)))
}

async fn related(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    Path((name, id, child)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    entity(&state, &name)?;
    let c = entity(&state, &child)?;
    let query = list_query(c, raw.as_deref())?;
    let page = state.service.related(&ctx, &name, parse_id(&id)?, &child, &query).await?;
    Ok(Json(page_json(page)))
}

async fn create(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    Path(name): Path<String>,
    headers: HeaderMap,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    entity(&state, &name)?;
    let key = idempotency_key(&headers)?.map(IdempotencyKey);
    match state.service.create(&ctx, &name, body, key).await? {
        Created::New(record) => {
            let location = record.get("id").and_then(Value::as_str).map(|id| format!("/api/v1/{name}/{id}"));
            let mut res = record_response(StatusCode::CREATED, record);
            if let Some(v) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
                res.headers_mut().insert(header::LOCATION, v);
            }
            Ok(res)
        }
        Created::Replayed { status, body } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            let mut res = (status, [(header::CONTENT_TYPE, "application/json")], body).into_response();
            res.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
            Ok(res)
        }
    }
}

async fn read(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    Path((name, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    entity(&state, &name)?;
    let record = state.service.get(&ctx, &name, parse_id(&id)?).await?;
    Ok(record_response(StatusCode::OK, record))
}

async fn update(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    Path((name, id)): Path<(String, String)>,
    headers: HeaderMap,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    entity(&state, &name)?;
    let id = parse_id(&id)?;
    let record = state.service.update(&ctx, &name, id, body, if_match(&headers)?).await?;
    Ok(record_response(StatusCode::OK, record))
}

fn flag(raw: Option<&str>, name: &str) -> Result<bool, ApiError> {
    let mut value = false;
    for (k, v) in query_pairs(raw) {
        if k != name {
            return Err(ApiError::bad_request(
                "unknown_parameter",
                format!("unknown parameter `{k}`; only `{name}` is accepted"),
            ));
        }
        value = match v.as_str() {
            "true" | "1" => true,
            "false" | "0" => false,
            _ => {
                return Err(ApiError::bad_request("invalid_parameter", format!("`{name}` must be true or false")));
            }
        };
    }
    Ok(value)
}

async fn remove(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    Path((name, id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<StatusCode, ApiError> {
    entity(&state, &name)?;
    let cascade = flag(raw.as_deref(), "cascade")?;
    state.service.delete(&ctx, &name, parse_id(&id)?, cascade).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn restore(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    Path((name, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    entity(&state, &name)?;
    let record = state.service.restore(&ctx, &name, parse_id(&id)?).await?;
    Ok(record_response(StatusCode::OK, record))
}

async fn purge(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    Path((name, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    entity(&state, &name)?;
    state.service.purge(&ctx, &name, parse_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BulkDelete {
    ids: Vec<Uuid>,
    #[serde(default)]
    cascade: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BulkOwner {
    ids: Vec<Uuid>,
    owner_id: Uuid,
}

async fn bulk_delete(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    Path(name): Path<String>,
    JsonObject(body): JsonObject,
) -> Result<Json<Value>, ApiError> {
    entity(&state, &name)?;
    let req: BulkDelete = typed(body)?;
    let n = state.service.bulk_delete(&ctx, &name, &req.ids, req.cascade).await?;
    Ok(Json(json!({ "deleted": n })))
}

async fn bulk_owner(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    Path(name): Path<String>,
    JsonObject(body): JsonObject,
) -> Result<Json<Value>, ApiError> {
    entity(&state, &name)?;
    let req: BulkOwner = typed(body)?;
    let n = state.service.bulk_change_owner(&ctx, &name, &req.ids, req.owner_id).await?;
    Ok(Json(json!({ "updated": n })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ShareRequest {
    user_id: Option<Uuid>,
    team_id: Option<Uuid>,
    permission: String,
}

async fn share(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    Path((name, id)): Path<(String, String)>,
    JsonObject(body): JsonObject,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    entity(&state, &name)?;
    let req: ShareRequest = typed(body)?;
    let mut errors = keel_domain::FieldErrors::new();
    let grantee = match (req.user_id, req.team_id) {
        (Some(u), None) => Some(Grantee::User(u)),
        (None, Some(t)) => Some(Grantee::Team(t)),
        _ => {
            errors.push("user_id", "one_grantee", "Give exactly one of user_id or team_id");
            None
        }
    };
    let permission = SharePermission::parse(&req.permission);
    if permission.is_none() {
        errors.push("permission", "invalid_option", "permission must be view or edit");
    }
    let (Some(grantee), Some(permission)) = (grantee, permission) else {
        return Err(keel_service::ServiceError::Invalid(errors).into());
    };
    let created = state.service.share(&ctx, &name, parse_id(&id)?, grantee, permission).await?;
    Ok((StatusCode::CREATED, Json(json!(created))))
}

async fn list_shares(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    Path((name, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    entity(&state, &name)?;
    let shares = state.service.shares(&ctx, &name, parse_id(&id)?).await?;
    Ok(Json(json!({ "data": shares })))
}

async fn unshare(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    Path((name, id, share_id)): Path<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    entity(&state, &name)?;
    state.service.unshare(&ctx, &name, parse_id(&id)?, parse_id(&share_id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/{entity}/aggregate?group_by=stage&…filters`: counts and money sums.
async fn aggregate(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    Path(name): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let e = entity(&state, &name)?;
    let mut pairs = query_pairs(raw.as_deref());
    let group_by = pairs.iter().position(|(k, _)| k == "group_by").map(|i| pairs.remove(i).1);
    let query = parse_list_query(e, &pairs).map_err(ApiError::invalid_query)?;
    Ok(Json(state.service.aggregate(&ctx, &name, &query, group_by.as_deref()).await?))
}
