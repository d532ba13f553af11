//! Keel's HTTP surface (axum): authenticate → Actor, decode, call the service, map errors
//! to RFC 9457 problem+json. Never touches SQL: everything goes through `keel-service`.

mod context;
mod csrf;
mod error;
mod extract;
pub mod graphql;
pub mod openapi;
mod request_id;
mod routes;
mod security_headers;
mod web_assets;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use keel_service::Service;
use tokio::net::TcpListener;

pub use error::ApiError;
/// For `keel serve` and the tests, which configure the assistant's model.
pub use keel_assistant;

/// Largest request body we accept; more is a 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub service: Service,
    /// Mark the session cookie `Secure` (set when Keel is served over HTTPS).
    pub secure_cookies: bool,
    /// The OpenAPI document and the schema it was built from: rebuilt when the running
    /// schema (custom fields, options) is swapped.
    openapi: Arc<std::sync::Mutex<(Arc<keel_domain::Schema>, Arc<serde_json::Value>)>>,
    /// Workflows: CRUD, manual and dry runs (the workers run in `keel serve`).
    pub automation: keel_automation::Automation,
    /// The assistant's chat engine: the built-in one, or a configured model provider.
    pub assistant: Arc<dyn keel_assistant::ChatEngine>,
    /// The MCP server (`/mcp`) and its HTTP sessions.
    pub mcp: Arc<keel_assistant::mcp::http::McpHttp>,
    /// The GraphQL schema built from the current metadata (rebuilt when it changes).
    graphql: Arc<graphql::SchemaCache>,
    /// The embeddings endpoint for the assistant's semantic retrieval, when configured.
    pub embedder: Option<Arc<keel_assistant::Embedder>>,
}

impl AppState {
    pub fn new(service: Service, secure_cookies: bool) -> Self {
        let schema = service.schema();
        let openapi = Arc::new(std::sync::Mutex::new((schema.clone(), Arc::new(openapi::document(&schema)))));
        let automation = keel_automation::Automation::new(service.clone(), Default::default());
        let assistant = Arc::new(keel_assistant::BuiltinEngine);
        let mcp = Arc::new(keel_assistant::mcp::http::McpHttp::new(keel_assistant::mcp::McpServer::new(
            service.clone(),
            None,
        )));
        Self { service, secure_cookies, openapi, automation, assistant, mcp, graphql: Arc::default(), embedder: None }
    }

    /// Answer assistant chats with `engine` (e.g. a `keel_assistant::ModelEngine`).
    pub fn with_assistant(mut self, engine: Arc<dyn keel_assistant::ChatEngine>) -> Self {
        self.assistant = engine;
        self
    }

    /// Let the assistant's retrieval find records by meaning through this endpoint.
    pub fn with_embedder(mut self, embedder: Arc<keel_assistant::Embedder>) -> Self {
        self.embedder = Some(embedder);
        self
    }

    /// Use this automation configuration (public URL for links, retry limits). Its public
    /// URL also makes the MCP server's record links absolute.
    pub fn with_automation(mut self, config: keel_automation::AutomationConfig) -> Self {
        let server = keel_assistant::mcp::McpServer::new(self.service.clone(), Some(config.public_url.clone()));
        self.mcp = Arc::new(keel_assistant::mcp::http::McpHttp::new(server));
        self.automation = keel_automation::Automation::new(self.service.clone(), config);
        self
    }
}

impl AppState {
    /// The OpenAPI document of the running schema (built once per schema version).
    pub fn openapi(&self) -> Arc<serde_json::Value> {
        let schema = self.service.schema();
        let mut cached = self.openapi.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if !Arc::ptr_eq(&cached.0, &schema) {
            *cached = (schema.clone(), Arc::new(openapi::document(&schema)));
        }
        cached.1.clone()
    }
}

/// Notice schema changes other Keel processes made (a cheap, rate-limited check).
async fn refresh_schema(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    if let Err(e) = state.service.refresh_schema().await {
        tracing::warn!(error = %e, "could not check the schema version");
    }
    next.run(req).await
}

/// The whole application: used by `keel serve` and by the tests alike.
pub fn app(state: AppState) -> Router {
    routes::router(state.clone())
        // What no route answers: the embedded web app for pages (GET/HEAD outside `/api`,
        // `/healthz`, `/readyz`), the API's problem+json 404 for everything else.
        .fallback(web_assets::fallback)
        .layer(axum::middleware::from_fn_with_state(state.clone(), security_headers::middleware))
        .layer(axum::middleware::from_fn_with_state(state.clone(), refresh_schema))
        .layer(axum::middleware::from_fn(request_id::middleware))
        .with_state(state)
}

/// Serve until `shutdown` resolves, then finish in-flight requests.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app(state).into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}
