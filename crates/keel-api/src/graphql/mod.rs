//! GraphQL at `POST /api/graphql`: the schema is generated from the entity metadata at
//! run time (`build`), cached per schema and rebuilt when the metadata changes (custom
//! fields). Same authentication as REST (session cookie with the CSRF origin check, or
//! a bearer token); every read and write goes through `keel-service`, so the same
//! policy, validation and error codes apply (the REST `code` is in `extensions.code`).

mod build;
mod errors;
mod loaders;

use std::sync::Mutex;

use async_graphql::dataloader::DataLoader;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use keel_domain::Schema;
use serde_json::Value;

pub use build::{MAX_COMPLEXITY, MAX_DEPTH};

use crate::AppState;
use crate::context::RequestCtx;
use crate::error::ApiError;
use crate::extract::JsonObject;

/// The GraphQL schema (SDL) generated from `schema`, as `keel graphql-schema` prints it.
pub fn sdl(schema: &Schema) -> Result<String, String> {
    build::build(schema).map(|s| s.sdl()).map_err(|e| e.to_string())
}

/// The built schema for the service's current metadata. Keyed by the metadata's address
/// (custom fields swap in a new `Arc<Schema>`) and checked for equality, so a new schema
/// that happens to reuse a freed address is still noticed.
#[derive(Default)]
pub struct SchemaCache {
    built: Mutex<Option<Built>>,
}

struct Built {
    addr: usize,
    source: Schema,
    schema: async_graphql::dynamic::Schema,
}

impl SchemaCache {
    /// Takes `Service::schema()` as it comes (`&Schema` or `Arc<Schema>`).
    fn get(&self, schema: impl std::ops::Deref<Target = Schema>) -> Result<async_graphql::dynamic::Schema, ApiError> {
        let schema: &Schema = &schema;
        let addr = std::ptr::from_ref(schema) as usize;
        let mut built = self.built.lock().map_err(|_| internal("schema cache poisoned"))?;
        if let Some(b) = built.as_ref()
            && b.addr == addr
            && b.source == *schema
        {
            return Ok(b.schema.clone());
        }
        let gql = build::build(schema).map_err(|e| internal(&e.to_string()))?;
        *built = Some(Built { addr, source: schema.clone(), schema: gql.clone() });
        Ok(gql)
    }
}

fn internal(cause: &str) -> ApiError {
    keel_service::ServiceError::Internal(format!("graphql: {cause}")).into()
}

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/api/graphql", get(explorer_page).post(execute))
        .route("/api/graphql/explorer.js", get(explorer_js))
        .route("/api/graphql/explorer.css", get(explorer_css))
        .route("/api/graphql/schema.graphql", get(current_sdl))
}

// The explorer (GET /api/graphql): a small page of our own, shipped in the binary, with
// its script and style as separate files so it runs offline under the API's strict CSP.
// Written by hand because GraphiQL, the usual choice, is a large React bundle that would
// need either a CDN or a second web build; this page only posts queries and shows the SDL.
fn asset(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "no-cache")], body).into_response()
}

async fn explorer_page() -> Response {
    asset("text/html; charset=utf-8", include_str!("explorer/index.html"))
}

async fn explorer_js() -> Response {
    asset("text/javascript; charset=utf-8", include_str!("explorer/explorer.js"))
}

async fn explorer_css() -> Response {
    asset("text/css; charset=utf-8", include_str!("explorer/explorer.css"))
}

/// The SDL of the schema in force (custom fields included), for signed-in users.
async fn current_sdl(State(state): State<AppState>, RequestCtx(_ctx): RequestCtx) -> Result<Response, ApiError> {
    let gql = {
        let schema = state.service.schema();
        state.graphql.get(schema)?
    };
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], gql.sdl()).into_response())
}

/// A failure before execution, in GraphQL's response shape with the HTTP status REST
/// would use (401 unauthenticated, 403 CSRF, 415/400 bad body).
fn refused(e: ApiError) -> Response {
    let status = e.status;
    (status, Json(errors::response_body(e))).into_response()
}

async fn execute(
    State(state): State<AppState>,
    ctx: Result<RequestCtx, ApiError>,
    body: Result<JsonObject, ApiError>,
) -> Response {
    let ctx = match ctx {
        Ok(RequestCtx(ctx)) => ctx,
        Err(e) => return refused(e),
    };
    let body = match body {
        Ok(JsonObject(b)) => b,
        Err(e) => return refused(e),
    };
    let request: async_graphql::Request = match serde_json::from_value(Value::Object(body)) {
        Ok(r) => r,
        Err(e) => {
            return refused(ApiError::bad_request(
                "invalid_graphql_request",
                format!("The body must be {{\"query\": \"…\", \"variables\": {{…}}, \"operationName\": \"…\"}}: {e}"),
            ));
        }
    };
    let gql = {
        let schema = state.service.schema();
        match state.graphql.get(schema) {
            Ok(s) => s,
            Err(e) => return refused(e),
        }
    };
    let service = state.service.clone();
    // A loader waits this long for the keys of sibling resolvers before it loads: long
    // enough that a busy machine still batches a whole level, short next to a query.
    let window = std::time::Duration::from_millis(5);
    let refs = DataLoader::new(loaders::RefLoader { service: service.clone(), ctx: ctx.clone() }, tokio::spawn);
    let lists = DataLoader::new(loaders::RelLoader::new(service.clone(), ctx.clone()), tokio::spawn);
    let request = request.data(refs.delay(window)).data(lists.delay(window)).data(build::Env { service, ctx });
    let response = gql.execute(request).await;
    match serde_json::to_value(&response) {
        Ok(v) => (StatusCode::OK, Json(v)).into_response(),
        Err(e) => refused(internal(&e.to_string())),
    }
}
