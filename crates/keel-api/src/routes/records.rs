//! The generic record endpoints, one set for every entity in the schema:
//! list · create · get · patch · delete (trash) · restore · purge · bulk · related lists.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use keel_domain::policy::SharePermission;
use keel_domain::query::{ListQuery, parse_list_query};
use keel_service::records::export::ExportLayout;
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
        .route("/api/v1/{entity}/export.csv", get(export_csv))
        .route("/api/v1/{entity}/bulk/delete", post(bulk_delete))
        .route("/api/v1/{entity}/bulk/owner", post(bulk_owner))
        .route("/api/v1/{entity}/{id}", get(read).patch(update).delete(remove))
        .route("/api/v1/{entity}/{id}/restore", post(restore))
        .route("/api/v1/{entity}/{id}/purge", post(purge))
        .route("/api/v1/{entity}/{id}/shares", get(list_shares).post(share))
        .route("/api/v1/{entity}/{id}/shares/{share_id}", axum::routing::delete(unshare))
        .route("/api/v1/{entity}/{id}/{related}", get(related))
}

/// The entity (a copy from the running schema, which custom fields can swap).
fn entity(state: &AppState, name: &str) -> Result<keel_domain::EntityDef, ApiError> {
    state.service.schema().entity(name).cloned().ok_or_else(ApiError::not_found)
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
    let e = &entity(&state, &name)?;
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
    let c = &entity(&state, &child)?;
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
    let e = &entity(&state, &name)?;
    let mut pairs = query_pairs(raw.as_deref());
    let group_by = pairs.iter().position(|(k, _)| k == "group_by").map(|i| pairs.remove(i).1);
    let query = parse_list_query(e, &pairs).map_err(ApiError::invalid_query)?;
    Ok(Json(state.service.aggregate(&ctx, &name, &query, group_by.as_deref()).await?))
}

/// Why an export was refused, as problem+json: 422 `export_too_large` (with `count` and
/// `limit`), 429 `export_limit_reached` (with `limit` and `retry_after`, also sent as `Retry-After`).
fn export_error(e: keel_service::records::export::ExportError) -> ApiError {
    use keel_service::records::export::ExportError;
    match e {
        ExportError::Service(e) => e.into(),
        ExportError::TooLarge { count, limit } => {
            let mut extra = Map::new();
            extra.insert("count".into(), count.into());
            extra.insert("limit".into(), limit.into());
            let detail = format!(
                "{count} records match, but one export may hold at most {limit}. Narrow the filter (by owner, \
                 stage or a date range, say) and export in parts."
            );
            ApiError { extra, ..ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "export_too_large", detail) }
        }
        ExportError::LimitReached { limit, retry_after } => {
            let mut extra = Map::new();
            extra.insert("limit".into(), limit.into());
            extra.insert("retry_after".into(), retry_after.into());
            let detail =
                format!("You may export at most {limit} times in 24 hours; try again in {retry_after} seconds.");
            ApiError { extra, ..ApiError::new(StatusCode::TOO_MANY_REQUESTS, "export_limit_reached", detail) }
        }
    }
}

/// `GET /api/v1/{entity}/export.csv?…filters, q, sort[, columns=a,b][, bom=true]`: the list
/// as a CSV download (the chosen columns in that order; `bom` for Excel), with
/// the list's row and field security. The body is streamed page by page from one database
/// snapshot (not built in memory, not staged in a temp file); the export was audited before
/// the first byte (see `keel_service::records::export`). `limit`, `cursor` and `count` are
/// ignored: the file holds every matching row.
async fn export_csv(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    Path(name): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let e = &entity(&state, &name)?;
    let mut layout = ExportLayout::default();
    let mut layout_errors = keel_domain::FieldErrors::new();
    let mut pairs: Vec<(String, String)> = Vec::new();
    for (k, v) in query_pairs(raw.as_deref()) {
        match k.as_str() {
            "limit" | "cursor" | "count" => {}
            "columns" => layout.columns = Some(v.split(',').map(|c| c.trim().to_string()).collect()),
            "bom" => match v.as_str() {
                "true" | "1" => layout.bom = true,
                "false" | "0" => layout.bom = false,
                _ => layout_errors.push("bom", "wrong_type", "bom must be true or false"),
            },
            _ => pairs.push((k, v)),
        }
    }
    let query = match parse_list_query(e, &pairs) {
        Ok(q) if layout_errors.is_empty() => q,
        Ok(_) => return Err(ApiError::invalid_query(layout_errors)),
        Err(mut errors) => {
            errors.0.extend(layout_errors.0);
            return Err(ApiError::invalid_query(errors));
        }
    };
    let export = state
        .service
        .export_csv(&ctx, &name, &query, raw.as_deref().unwrap_or(""), &layout)
        .await
        .map_err(export_error)?;
    let chunks = futures_util::stream::unfold(export.body, |mut body| async move {
        let chunk = body.next_chunk().await?.map(bytes::Bytes::from).inspect_err(|e| {
            // The status line is long gone: cut the body short (clients see it incomplete) and log why.
            tracing::error!(error = %e, "export stream failed");
        });
        Some((chunk, body))
    });
    let mut res = axum::body::Body::from_stream(chunks).into_response();
    let headers = res.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", export.filename)) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Ok(v) = HeaderValue::from_str(&export.rows.to_string()) {
        headers.insert("x-export-rows", v);
    }
    Ok(res)
}
