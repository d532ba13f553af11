//! Keel's use cases: the one write path. Each verb opens a transaction, asks the policy,
//! validates, writes the row and appends to the change log before committing. REST
//! today, GraphQL, sync, imports, workflows and the assistant later all call these.

pub mod assistant;
pub mod audit;
pub mod auth;
pub mod automation;
pub mod dashboard;
mod diff;
pub mod error;
pub mod imports;
pub mod records;
mod refs;
pub mod roles;
mod teams;

use std::sync::Arc;

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
    schema: Arc<Schema>,
    clock: Arc<dyn Clock>,
    config: ServiceConfig,
}

impl Service {
    pub fn new(db: Db, schema: Schema, clock: Arc<dyn Clock>, config: ServiceConfig) -> Self {
        Self { db, schema: Arc::new(schema), clock, config }
    }

    /// Open the database at `url` (SQLite or PostgreSQL), apply migrations and build the
    /// service with the built-in schema and the wall clock. `keel` and the tests both start here.
    pub async fn connect(url: &str, config: ServiceConfig) -> Result<Self, ServiceError> {
        let db = Db::connect(url).await?;
        db.migrate().await?;
        Ok(Self::new(db, keel_domain::schema::builtin_schema(), Arc::new(keel_domain::clock::SystemClock), config))
    }

    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    fn write_context(&self) -> WriteContext {
        let now = self.clock.now();
        WriteContext { now, today: now.date(), default_region: self.config.default_region, import: false }
    }

    fn entity(&self, name: &str) -> Result<&keel_domain::EntityDef, ServiceError> {
        self.schema.entity(name).ok_or(ServiceError::NotFound)
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
