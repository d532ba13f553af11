//! Test support: `TestApp` runs the real server (the same `keel_api::app` as `keel serve`)
//! on an ephemeral port against a fresh database — a new SQLite file or a new
//! PostgreSQL database, dropped afterwards — and `Client` drives it over HTTP.
//! `both_backends!` turns one test body into a SQLite test and a PostgreSQL test.

mod clock;
pub mod introspect;
pub mod mock_model;
pub mod receiver;
pub mod smtp;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

pub use clock::TestClock;

use keel_api::AppState;
use keel_domain::policy::Role;
use keel_service::{Ctx, Service, ServiceConfig};
use reqwest::{Method, StatusCode, header::HeaderMap};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Where tests find PostgreSQL; `.ci/run` makes sure it is up. An unreachable server
/// fails the PostgreSQL half of every test: it is never skipped.
pub fn postgres_admin_url() -> String {
    std::env::var("KEEL_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn unique_name() -> String {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    format!("keel_test_{}_{}_{n}", std::process::id(), uuid::Uuid::now_v7().simple())
}

/// A fresh, empty database for one test: a SQLite file in a temp dir, or a new
/// PostgreSQL database that is dropped when this value is dropped.
pub enum TestDb {
    /// Held so the directory (and the database file) lives as long as the test.
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres {
        name: String,
    },
}

impl TestDb {
    /// Create the database and return its URL.
    pub async fn create(backend: Backend) -> (String, TestDb) {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let path = dir.path().join("keel.db");
                (format!("sqlite://{}", path.display()), TestDb::Sqlite(dir))
            }
            Backend::Postgres => {
                let name = unique_name();
                let admin = postgres_admin_url();
                let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin)
                    .await
                    .unwrap_or_else(|e| panic!("PostgreSQL at {admin} is required for the test suite: {e}"));
                sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.expect("create test database");
                let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b).to_string();
                (format!("{base}/{name}"), TestDb::Postgres { name })
            }
        }
    }

    async fn drop_now(&mut self) {
        if let TestDb::Postgres { name } = self {
            drop_postgres(name).await;
            name.clear();
        }
    }
}

async fn drop_postgres(name: &str) {
    if name.is_empty() {
        return;
    }
    if let Ok(mut conn) = <sqlx::PgConnection as sqlx::Connection>::connect(&postgres_admin_url()).await {
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn).await;
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // A test that panicked never reached its cleanup: drop its PostgreSQL database anyway.
        if let TestDb::Postgres { name } = self {
            if name.is_empty() {
                return;
            }
            let name = std::mem::take(name);
            let handle = std::thread::spawn(move || {
                if let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    rt.block_on(drop_postgres(&name));
                }
            });
            let _ = handle.join();
        }
    }
}

pub struct TestApp {
    pub base: String,
    pub backend: Backend,
    pub service: Service,
    /// The service's clock: `app.clock.advance(…)` moves time for the server.
    pub clock: Arc<TestClock>,
    /// A client signed in as an admin.
    pub admin: Client,
    /// The SMTP server the workflow worker sends to: not running until a test starts it.
    pub smtp: smtp::SmtpServer,
    /// How the worker is configured (retries wait `backoff_base`: move the clock past it).
    pub automation: keel_automation::AutomationConfig,
    workers: Option<(tokio::sync::watch::Sender<bool>, tokio::task::JoinHandle<()>)>,
    /// The background import runner, as `keel serve` runs it (stopped with the workers).
    import_runner: Option<tokio::task::JoinHandle<()>>,
    db: Option<TestDb>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with_model(backend, None).await
    }

    /// A test app whose assistant talks to this model provider (e.g. a `MockModel`).
    pub async fn spawn_with_model(backend: Backend, model: Option<keel_api::keel_assistant::ModelConfig>) -> TestApp {
        Self::spawn_with_ai(backend, model, None).await
    }

    /// A test app whose assistant talks to this model provider and/or finds records by
    /// meaning through this embeddings endpoint (its indexer runs with the workers).
    pub async fn spawn_with_ai(
        backend: Backend,
        model: Option<keel_api::keel_assistant::ModelConfig>,
        embeddings: Option<keel_api::keel_assistant::EmbeddingsConfig>,
    ) -> TestApp {
        let (url, db) = TestDb::create(backend).await;
        let clock = Arc::new(TestClock::default());
        let pool = keel_store::Db::connect(&url).await.expect("open test database");
        pool.migrate().await.expect("migrate test database");
        let service =
            Service::new(pool, keel_domain::schema::builtin_schema(), clock.clone(), ServiceConfig::default());
        service.load_schema().await.expect("load the schema");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = oneshot::channel::<()>();
        let base = format!("http://{addr}");
        // The worker runs in every test app, as in `keel serve`, sending mail to a test
        // SMTP server on a port of its own (started by the tests that need it).
        let smtp = smtp::SmtpServer::stopped();
        let automation = keel_automation::AutomationConfig {
            smtp: Some(keel_automation::SmtpConfig {
                host: "127.0.0.1".into(),
                port: smtp.port,
                username: None,
                password: None,
                tls: keel_automation::SmtpTls::None,
                from: "Keel <keel@test.local>".into(),
                timeout: std::time::Duration::from_secs(5),
            }),
            public_url: base.clone(),
            webhook_secret: Some("test-webhook-secret".into()),
            max_attempts: 3,
            backoff_base: time::Duration::minutes(1),
            poll_interval: std::time::Duration::from_millis(100),
            webhook_disable_after: 3,
            ..keel_automation::AutomationConfig::default()
        };
        let (stop_workers, stopping) = tokio::sync::watch::channel(false);
        let indexer = match embeddings {
            Some(config) => {
                let embedder = Arc::new(keel_api::keel_assistant::Embedder::new(config).expect("embeddings client"));
                let handle = keel_api::keel_assistant::retrieval::indexer::spawn(
                    service.clone(),
                    embedder.clone(),
                    stopping.clone(),
                );
                Some((embedder, handle))
            }
            None => None,
        };
        let import_runner = keel_service::imports::spawn_runner(service.clone(), stopping.clone());
        let worker = keel_automation::spawn(service.clone(), automation.clone(), stopping);
        let embedder = indexer.as_ref().map(|(e, _)| e.clone());
        let worker = match indexer {
            None => worker,
            Some((_, handle)) => tokio::spawn(async move {
                let _ = worker.await;
                let _ = handle.await;
            }),
        };
        let mut state = AppState::new(service.clone(), false).with_automation(automation.clone());
        if let Some(embedder) = embedder {
            state = state.with_embedder(embedder);
        }
        if let Some(config) = model {
            let engine = keel_api::keel_assistant::ModelEngine::new(config).expect("model client");
            state = state.with_assistant(Arc::new(engine));
        }
        let server = tokio::spawn(async move {
            let _ = keel_api::serve(listener, state, async move {
                let _ = rx.await;
            })
            .await;
        });
        let mut app = TestApp {
            base: base.clone(),
            backend,
            service,
            clock,
            admin: Client::anonymous(&base),
            smtp,
            automation,
            workers: Some((stop_workers, worker)),
            import_runner: Some(import_runner),
            db: Some(db),
            shutdown: Some(tx),
            server: Some(server),
        };
        app.admin = app.user(Role::Admin).await.1;
        app
    }

    /// A new user with `role`, and a client signed in as them with a personal API token.
    pub async fn user(&self, role: Role) -> (Value, Client) {
        let email = format!("{}-{}@example.com", role.as_str(), uuid::Uuid::now_v7().simple());
        let user = self
            .service
            .create_user_as_system(
                &email,
                &format!("Test {}", role.as_str()),
                role.as_str(),
                "correct horse battery staple",
            )
            .await
            .expect("create user");
        let id = user.get("id").and_then(Value::as_str).and_then(|s| uuid::Uuid::parse_str(s).ok()).expect("user id");
        let actor = keel_domain::policy::Actor::new(id, role, None);
        let token = self.service.create_token(&Ctx::system(actor), "tests").await.expect("token");
        let mut client = Client::anonymous(&self.base);
        client.token = Some(token.secret);
        (Value::Object(user), client)
    }

    /// A new team; returns its id.
    pub async fn team(&self, name: &str) -> String {
        let team =
            self.admin.create("teams", json!({ "name": format!("{name} {}", uuid::Uuid::now_v7().simple()) })).await;
        team["id"].as_str().expect("team id").to_string()
    }

    /// A new user with `role` in team `team_id`, and a client signed in as them.
    pub async fn member(&self, role: Role, team_id: &str) -> (Value, Client) {
        let (user, client) = self.user(role).await;
        let id = user["id"].as_str().expect("user id");
        let res = self.admin.patch(&format!("/api/v1/users/{id}"), json!({ "team_id": team_id })).await;
        assert_eq!(res.status, StatusCode::OK, "join team: {}", res.text);
        (res.body, client)
    }

    /// A team the admin belongs to, so its managers and reps see what the admin creates.
    pub async fn admin_team(&self) -> String {
        let team = self.team("Admins").await;
        let me = self.admin.get("/api/v1/auth/me").await;
        let id = me.body["id"].as_str().expect("admin id").to_string();
        let res = self.admin.patch(&format!("/api/v1/users/{id}"), json!({ "team_id": team })).await;
        assert_eq!(res.status, StatusCode::OK, "admin joins team: {}", res.text);
        team
    }

    /// Stop the background worker (workflows, webhooks, mail) and wait until the database
    /// is quiet: for tests that count statements (`service.db().statements()`).
    pub async fn stop_workers(&self) {
        if let Some((stop, _)) = &self.workers {
            let _ = stop.send(true);
        }
        let db = self.service.db();
        let mut last = db.statements();
        for _ in 0..100 {
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
            let now = db.statements();
            if now == last {
                return;
            }
            last = now;
        }
        panic!("the database did not go quiet after stopping the worker");
    }

    pub fn anonymous(&self) -> Client {
        Client::anonymous(&self.base)
    }

    /// Stop the server and drop the database.
    pub async fn cleanup(mut self) {
        self.stop().await;
    }

    async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        if let Some((stop, worker)) = self.workers.take() {
            let _ = stop.send(true);
            let _ = worker.await;
        }
        if let Some(runner) = self.import_runner.take() {
            let _ = runner.await;
        }
        self.smtp.stop().await;
        self.service.db().close().await;
        if let Some(mut db) = self.db.take() {
            db.drop_now().await;
        }
    }
}

/// An HTTP response, decoded.
#[derive(Debug)]
pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    /// `body["errors"]` field names, for asserting on validation failures.
    pub fn error_fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|a| a.iter().filter_map(|e| e["field"].as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    }
    pub fn id(&self) -> String {
        self.body["id"].as_str().unwrap_or_else(|| panic!("no id in {}", self.text)).to_string()
    }
}

#[derive(Clone)]
pub struct Client {
    base: String,
    http: reqwest::Client,
    pub token: Option<String>,
}

impl Client {
    fn anonymous(base: &str) -> Client {
        Client { base: base.to_string(), http: reqwest::Client::new(), token: None }
    }

    pub async fn send(&self, method: Method, path: &str, body: Option<Value>, headers: &[(&str, &str)]) -> Response {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        into_response(req.send().await.expect("request")).await
    }

    /// Send raw bytes with a content type: for malformed input tests.
    pub async fn send_raw(&self, method: Method, path: &str, content_type: &str, body: Vec<u8>) -> Response {
        let mut req =
            self.http.request(method, format!("{}{path}", self.base)).header("content-type", content_type).body(body);
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        into_response(req.send().await.expect("request")).await
    }

    pub async fn get(&self, path: &str) -> Response {
        self.send(Method::GET, path, None, &[]).await
    }
    pub async fn post(&self, path: &str, body: Value) -> Response {
        self.send(Method::POST, path, Some(body), &[]).await
    }
    pub async fn patch(&self, path: &str, body: Value) -> Response {
        self.send(Method::PATCH, path, Some(body), &[]).await
    }
    pub async fn delete(&self, path: &str) -> Response {
        self.send(Method::DELETE, path, None, &[]).await
    }

    /// Create a record and return its JSON, failing the test if it is not 201.
    pub async fn create(&self, entity: &str, body: Value) -> Value {
        let res = self.post(&format!("/api/v1/{entity}"), body).await;
        assert_eq!(res.status, StatusCode::CREATED, "create {entity}: {}", res.text);
        res.body
    }

    /// A company with a unique name and domain, plus any extra fields.
    pub async fn company(&self, extra: Value) -> Value {
        let n = uuid::Uuid::now_v7().simple().to_string();
        let mut body = json!({ "name": format!("Company {n}"), "domain": format!("c{}.example.com", &n[20..]) });
        merge(&mut body, extra);
        self.create("companies", body).await
    }

    pub async fn deal(&self, company_id: &str, extra: Value) -> Value {
        let mut body = json!({ "title": "Test deal", "company_id": company_id, "amount": 100_000 });
        merge(&mut body, extra);
        self.create("deals", body).await
    }
}

pub fn merge(base: &mut Value, extra: Value) {
    if let (Some(b), Value::Object(e)) = (base.as_object_mut(), extra) {
        b.extend(e);
    }
}

async fn into_response(res: reqwest::Response) -> Response {
    let status = res.status();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Response { status, headers, body, text }
}

/// Run a test body on SQLite and on PostgreSQL: with `async fn name(app: &TestApp)`,
/// `both_backends!(name);` makes `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! both_backends {
    // A body taking the app and a `MockModel` the app's assistant is configured with
    // (1 s timeout per model request).
    ($mod_name:ident, $body:ident, with_model) => {
        mod $mod_name {
            async fn run(backend: $crate::Backend) {
                let model = $crate::mock_model::MockModel::start().await;
                let config = $crate::keel_assistant_config(&model.base_url);
                let app = $crate::TestApp::spawn_with_model(backend, Some(config)).await;
                super::$body(&app, &model).await;
                app.cleanup().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                run($crate::Backend::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                run($crate::Backend::Postgres).await;
            }
        }
    };
    // A body taking the app and a `MockModel` serving the embeddings (`/v1/embeddings`,
    // deterministic vectors; the indexer polls every 50 ms). Chat uses the built-in engine.
    ($mod_name:ident, $body:ident, with_embeddings) => {
        mod $mod_name {
            async fn run(backend: $crate::Backend) {
                let model = $crate::mock_model::MockModel::start().await;
                let embeddings = $crate::embeddings_config(&model.base_url);
                let app = $crate::TestApp::spawn_with_ai(backend, None, Some(embeddings)).await;
                super::$body(&app, &model).await;
                app.cleanup().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                run($crate::Backend::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                run($crate::Backend::Postgres).await;
            }
        }
    };
    ($name:ident) => {
        $crate::both_backends!($name, $name);
    };
    ($mod_name:ident, $body:ident) => {
        mod $mod_name {

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = $crate::TestApp::spawn($crate::Backend::Sqlite).await;
                super::$body(&app).await;
                app.cleanup().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let app = $crate::TestApp::spawn($crate::Backend::Postgres).await;
                super::$body(&app).await;
                app.cleanup().await;
            }
        }
    };
}

/// The model configuration `both_backends!(…, with_model)` gives the app.
pub fn keel_assistant_config(base_url: &str) -> keel_api::keel_assistant::ModelConfig {
    keel_api::keel_assistant::ModelConfig {
        api_key: Some("test-key".into()),
        temperature: Some(0.2),
        max_tokens: Some(500),
        timeout: std::time::Duration::from_secs(1),
        ..keel_api::keel_assistant::ModelConfig::new(base_url, "mock-model")
    }
}

/// The embeddings configuration `both_backends!(…, with_embeddings)` gives the app: the
/// mock's `/embeddings`, polled often, retried after 1 s at most.
pub fn embeddings_config(base_url: &str) -> keel_api::keel_assistant::EmbeddingsConfig {
    keel_api::keel_assistant::EmbeddingsConfig {
        timeout: std::time::Duration::from_secs(2),
        poll_interval: std::time::Duration::from_millis(50),
        max_backoff: std::time::Duration::from_secs(1),
        ..keel_api::keel_assistant::EmbeddingsConfig::new(base_url, "mock-embeddings")
    }
}
