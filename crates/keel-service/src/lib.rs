//! Keel's use cases: the one write path. Each verb opens a transaction, asks the policy,
//! validates, writes the row and appends to the change log before committing. REST
//! today, GraphQL, sync, imports, workflows and the assistant later all call these.

pub mod assistant;
pub mod audit;
pub mod auth;
pub mod automation;
pub mod dashboard;
mod diff;
pub mod embeddings;
pub mod error;
pub mod fields;
pub mod imports;
pub mod records;
mod refs;
pub mod roles;
mod teams;

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use keel_domain::Schema;
use keel_domain::clock::Clock;
use keel_domain::policy::Actor;
use keel_domain::validate::WriteContext;
use keel_store::Db;

pub use error::ServiceError;
pub use keel_store::changes::ChangeEntry;
pub use keel_store::records::Page;

/// Who is asking and which request this is (for the change log and the audit trail).
#[derive(Debug, Clone)]
pub struct Ctx {
    pub actor: Actor,
    pub request_id: Option<String>,
    /// Where the request came from, for the audit trail.
    pub origin: Origin,
}

impl Ctx {
    /// A context for `actor` outside any HTTP request (CLI, tests, jobs).
    pub fn system(actor: Actor) -> Self {
        Self { actor, request_id: None, origin: Origin::default() }
    }

    /// A change-log entry made by this actor in this request (the system's nil id is
    /// recorded as no actor).
    pub(crate) fn change(
        &self,
        at: time::OffsetDateTime,
        entity: &str,
        record_id: uuid::Uuid,
        op: keel_store::changes::ChangeOp,
        diff: serde_json::Value,
    ) -> keel_store::changes::NewChange {
        keel_store::changes::NewChange {
            at,
            actor_id: Some(self.actor.user_id).filter(|id| !id.is_nil()),
            entity: entity.into(),
            record_id,
            op,
            diff,
            request_id: self.request_id.clone(),
        }
    }
}

/// The client's address and user agent, when the request came over HTTP.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// Region for phone numbers written without a country code.
    pub default_region: &'static str,
    /// How long a login session lasts.
    pub session_ttl: time::Duration,
    /// A session unused for this long ends (sign-in hardening).
    pub session_idle_timeout: time::Duration,
    /// Failed sign-in limits and lockouts, per account and per client address.
    pub login_limits: auth::lockout::LoginLimits,
    /// Most rows one CSV export may hold, for roles with a limited export (`KEEL_EXPORT_MAX_ROWS`).
    pub export_max_rows: u64,
    /// Most exports per user in any 24 hours, for roles with a limited export (`KEEL_EXPORTS_PER_DAY`).
    pub exports_per_day: u32,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        Self {
            default_region: "US",
            session_ttl: time::Duration::days(30),
            session_idle_timeout: time::Duration::days(7),
            login_limits: auth::lockout::LoginLimits::default(),
            export_max_rows: records::export::DEFAULT_MAX_ROWS,
            exports_per_day: records::export::DEFAULT_PER_DAY,
        }
    }
}

#[derive(Clone)]
pub struct Service {
    db: Db,
    /// The built-in schema custom fields and edited options are applied to.
    base: Arc<Schema>,
    /// The running schema, swapped whole after every schema change (custom fields, option
    /// lists). Readers take the `Arc` and keep a consistent snapshot for a whole request.
    current: Arc<RwLock<Arc<Schema>>>,
    /// The stored schema version `current` was built from, and when it was last checked
    /// (ms since the Unix epoch), so other processes' changes are noticed cheaply.
    schema_version: Arc<AtomicI64>,
    schema_checked_ms: Arc<AtomicI64>,
    clock: Arc<dyn Clock>,
    config: ServiceConfig,
    /// Wakes this process's background import runner when an import is queued.
    import_wake: Arc<tokio::sync::Notify>,
}

/// How often a process asks the database whether another process changed the schema.
const SCHEMA_CHECK_INTERVAL_MS: i64 = 1000;

impl Service {
    /// A service over the `schema` (the built-in one). Stored custom fields and option
    /// lists apply after `load_schema` (which `connect` calls).
    pub fn new(db: Db, schema: Schema, clock: Arc<dyn Clock>, config: ServiceConfig) -> Self {
        let base = Arc::new(schema);
        Self {
            db,
            current: Arc::new(RwLock::new(base.clone())),
            base,
            schema_version: Arc::new(AtomicI64::new(-1)),
            schema_checked_ms: Arc::new(AtomicI64::new(0)),
            clock,
            config,
            import_wake: Arc::new(tokio::sync::Notify::new()),
        }
    }

    /// Open the database at `url` (SQLite or PostgreSQL), apply migrations and build the
    /// service with the built-in schema (plus stored custom fields) and the wall clock.
    /// `keel` and the tests both start here.
    pub async fn connect(url: &str, config: ServiceConfig) -> Result<Self, ServiceError> {
        let db = Db::connect(url).await?;
        db.migrate().await?;
        let service =
            Self::new(db, keel_domain::schema::builtin_schema(), Arc::new(keel_domain::clock::SystemClock), config);
        service.load_schema().await?;
        Ok(service)
    }

    /// The running schema: built-in entities, edited option lists and live custom fields.
    /// Bind it once (`let schema = svc.schema();`) and borrow from the local.
    pub fn schema(&self) -> Arc<Schema> {
        self.current.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn set_schema(&self, schema: Schema, version: i64) {
        let previous = self.schema_version.load(Ordering::SeqCst);
        if previous >= 0 && previous != version {
            // Columns may have changed type: retire connections with cached statements.
            keel_store::db::layout_changed();
        }
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(schema);
        self.schema_version.store(version, Ordering::SeqCst);
    }

    /// Rebuild the running schema from the database (custom fields, option lists).
    pub async fn load_schema(&self) -> Result<(), ServiceError> {
        let mut tx = self.db.read().await?;
        let (schema, version) = fields::build_schema(&mut tx, &self.base).await?;
        drop(tx);
        self.set_schema(schema, version);
        Ok(())
    }

    /// Reload the schema if another process changed it; asks the database at most once a
    /// second (one single-row read). Called per request by the API.
    pub async fn refresh_schema(&self) -> Result<(), ServiceError> {
        // A cache interval, not domain time: the wall clock, even under a test clock.
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        let last = self.schema_checked_ms.load(Ordering::Relaxed);
        if (now_ms - last).abs() < SCHEMA_CHECK_INTERVAL_MS {
            return Ok(());
        }
        self.schema_checked_ms.store(now_ms, Ordering::Relaxed);
        let mut tx = self.db.read().await?;
        let stored = keel_store::custom_fields::schema_version(&mut tx).await?;
        drop(tx);
        if stored != self.schema_version.load(Ordering::SeqCst) {
            self.load_schema().await?;
        }
        Ok(())
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    fn write_context(&self) -> WriteContext {
        let now = self.clock.now();
        WriteContext { now, today: now.date(), default_region: self.config.default_region, import: false }
    }

    /// Is the database reachable? (`/readyz`)
    pub async fn ready(&self) -> Result<(), ServiceError> {
        Ok(self.db.ping().await?)
    }

    /// Change-log entries after `after`, oldest first.
    pub async fn changes(&self, ctx: &Ctx, after: i64, limit: u32) -> Result<Vec<ChangeEntry>, ServiceError> {
        keel_domain::policy::can_read_changes(&ctx.actor)?;
        let mut tx = self.db.read().await?;
        Ok(keel_store::changes::after(&mut tx, after, limit.clamp(1, 1000)).await?)
    }
}
