//! Keel's HTTP surface (axum): authenticate → Actor, decode, call the service, map errors
//! to RFC 9457 problem+json. Never touches SQL: everything goes through `keel-service`.

mod context;
mod csrf;
mod error;
mod extract;
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
    openapi: Arc<serde_json::Value>,
    /// Workflows: CRUD, manual and dry runs (the workers run in `keel serve`).
    pub automation: keel_automation::Automation,
    /// The assistant's chat engine: the built-in one, or a configured model provider.
    pub assistant: Arc<dyn keel_assistant::ChatEngine>,
}

impl AppState {
    pub fn new(service: Service, secure_cookies: bool) -> Self {
        let openapi = Arc::new(openapi::document(service.schema()));
        let automation = keel_automation::Automation::new(service.clone(), Default::default());
        let assistant = Arc::new(keel_assistant::BuiltinEngine);
        Self { service, secure_cookies, openapi, automation, assistant }
    }

    /// Answer assistant chats with `engine` (e.g. a `keel_assistant::ModelEngine`).
    pub fn with_assistant(mut self, engine: Arc<dyn keel_assistant::ChatEngine>) -> Self {
        self.assistant = engine;
        self
    }

    /// Use this automation configuration (public URL for links, retry limits).
    pub fn with_automation(mut self, config: keel_automation::AutomationConfig) -> Self {
        self.automation = keel_automation::Automation::new(self.service.clone(), config);
        self
    }
}

/// The whole application: used by `keel serve` and by the tests alike.
pub fn app(state: AppState) -> Router {
    routes::router(state.clone())
        // What no route answers: the embedded web app for pages (GET/HEAD outside `/api`,
        // `/healthz`, `/readyz`), the API's problem+json 404 for everything else.
        .fallback(web_assets::fallback)
        .layer(axum::middleware::from_fn_with_state(state.clone(), security_headers::middleware))
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
