//! The two backends behind one type. `Db` is a pool; `Tx` a transaction on it. Every
//! query, read or write, runs inside a `Tx`, so a list and its count see one snapshot
//! and a write and its change-log entry commit together.

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use keel_domain::FieldType;
use keel_domain::value::{Value, format_date, format_timestamp, parse_date, parse_timestamp};
use sea_query::{PostgresQueryBuilder, SqliteQueryBuilder};
use sea_query_binder::{SqlxBinder, SqlxValues};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous};
use sqlx::{PgPool, Postgres, Row as _, Sqlite, SqlitePool, Transaction};
use uuid::Uuid;

use crate::error::{Result, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The connection pool and a count of the statements run through it.
#[derive(Debug, Clone)]
pub struct Db {
    pool: Pool,
    /// Statements sent through this pool's transactions (see `Db::statements`).
    statements: Arc<AtomicU64>,
}

#[derive(Debug, Clone)]
pub enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// When this process last saw the table layout change (custom fields: ALTER TABLE), in ms
/// since the Unix epoch; 0 = never. Connections opened before it are closed on their next
/// checkout instead of reused: their cached prepared statements may describe a column's
/// old type (PostgreSQL refuses those with "cached plan must not change result type").
/// One value for the process: a pool that did not change merely reconnects.
static LAYOUT_CHANGED_MS: AtomicI64 = AtomicI64::new(0);

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Record that table layouts changed: pooled connections opened until now are retired.
pub fn layout_changed() {
    LAYOUT_CHANGED_MS.store(now_ms(), Ordering::SeqCst);
}

/// May a pooled connection of this age be reused?
fn opened_after_layout_change(age: Duration) -> bool {
    let changed = LAYOUT_CHANGED_MS.load(Ordering::SeqCst);
    changed == 0 || now_ms() - i64::try_from(age.as_millis()).unwrap_or(i64::MAX) > changed
}

/// Advisory-lock key that serialises writers on PostgreSQL, so change-log sequence
/// numbers commit in order (SQLite has a single writer already).
const WRITE_LOCK_KEY: i64 = 0x6b65_656c; // "keel"

impl Db {
    /// Connect by URL: `sqlite://path.db` (created if missing) or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Db> {
        if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // NORMAL in WAL mode: a commit survives a process crash (SIGKILL); only an
                // OS crash or power loss can lose the last transactions.
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
                .pragma("cache_size", "-65536");
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .before_acquire(|_, meta| Box::pin(async move { Ok(opened_after_layout_change(meta.age)) }))
                .connect_with(opts)
                .await?;
            Ok(Db::with_pool(Pool::Sqlite(pool)))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            // JIT compilation pays off for long analytical queries, not for a CRM's short
            // ones: on a 1M-row scope query it added ~85 ms of compile time to a 400 ms plan.
            let opts = PgConnectOptions::from_str(url)?.options([("jit", "off")]);
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .before_acquire(|_, meta| Box::pin(async move { Ok(opened_after_layout_change(meta.age)) }))
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts)
                .await?;
            Ok(Db::with_pool(Pool::Postgres(pool)))
        } else {
            Err(StoreError::Other(sqlx::Error::Configuration(
                format!("unsupported DATABASE_URL `{url}`: use sqlite://… or postgres://…").into(),
            )))
        }
    }

    fn with_pool(pool: Pool) -> Db {
        Db { pool, statements: Arc::new(AtomicU64::new(0)) }
    }

    /// The sqlx pool, for tests and tools that must run raw SQL.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// How many statements this pool's transactions have run so far (a monotonic count,
    /// shared by clones of this `Db`). Tests take the difference around a request to
    /// prove a query's statement count does not grow with its data (no N+1).
    pub fn statements(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    fn tx(&self, conn: TxConn) -> Tx {
        Tx { conn, statements: self.statements.clone() }
    }

    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Apply the embedded migrations for this backend.
    pub async fn migrate(&self) -> Result<()> {
        match &self.pool {
            Pool::Sqlite(p) => sqlx::migrate!("./migrations/sqlite").run(p).await?,
            Pool::Postgres(p) => sqlx::migrate!("./migrations/postgres").run(p).await?,
        }
        Ok(())
    }

    /// A read-only snapshot.
    pub async fn read(&self) -> Result<Tx> {
        Ok(match &self.pool {
            Pool::Sqlite(p) => self.tx(TxConn::Sqlite(p.begin().await?)),
            Pool::Postgres(p) => self.tx(TxConn::Postgres(p.begin().await?)),
        })
    }

    /// A write transaction. SQLite takes the write lock up front (BEGIN IMMEDIATE) so two
    /// writers never deadlock upgrading read locks; PostgreSQL takes the writer lock.
    pub async fn write(&self) -> Result<Tx> {
        Ok(match &self.pool {
            Pool::Sqlite(p) => self.tx(TxConn::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?)),
            Pool::Postgres(p) => {
                let mut tx = p.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(WRITE_LOCK_KEY).execute(&mut *tx).await?;
                self.tx(TxConn::Postgres(tx))
            }
        })
    }

    /// A write transaction for bookkeeping that appends nothing to the change log or the
    /// audit log (the job queue, run history): on PostgreSQL it skips the writers'
    /// advisory lock, so workers do not queue behind record writes; SQLite still has one
    /// writer (BEGIN IMMEDIATE).
    pub async fn side_write(&self) -> Result<Tx> {
        Ok(match &self.pool {
            Pool::Sqlite(p) => self.tx(TxConn::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?)),
            Pool::Postgres(p) => self.tx(TxConn::Postgres(p.begin().await?)),
        })
    }

    /// Is the database answering? For `/readyz`.
    pub async fn ping(&self) -> Result<()> {
        match &self.pool {
            Pool::Sqlite(p) => {
                sqlx::query("SELECT 1").execute(p).await?;
            }
            Pool::Postgres(p) => {
                sqlx::query("SELECT 1").execute(p).await?;
            }
        }
        Ok(())
    }

    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
        }
    }
}

/// A statement built ahead of running it: its SQL text and arguments. A bulk writer
/// builds its next statements on one thread while the database runs the current ones.
pub struct Built {
    sql: String,
    values: SqlxValues,
}

/// Build `stmt` for `backend`, to `Tx::run` later.
pub fn build<S: SqlxBinder>(backend: Backend, stmt: &S) -> Built {
    let (sql, values) = match backend {
        Backend::Sqlite => stmt.build_sqlx(SqliteQueryBuilder),
        Backend::Postgres => stmt.build_sqlx(PostgresQueryBuilder),
    };
    Built { sql, values }
}

/// A transaction on either backend; counts its statements into its `Db`'s counter.
pub struct Tx {
    pub(crate) conn: TxConn,
    statements: Arc<AtomicU64>,
}

pub(crate) enum TxConn {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// A result row from either backend; decoding by field type happens in `Row::value`.
pub enum Row {
    Sqlite(SqliteRow),
    Postgres(PgRow),
}

impl Tx {
    pub fn backend(&self) -> Backend {
        match self.conn {
            TxConn::Sqlite(_) => Backend::Sqlite,
            TxConn::Postgres(_) => Backend::Postgres,
        }
    }

    pub async fn commit(self) -> Result<()> {
        match self.conn {
            TxConn::Sqlite(t) => t.commit().await?,
            TxConn::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }

    /// Count one statement (every query this module sends calls it; raw-SQL call sites too).
    pub(crate) fn count_statement(&self) {
        self.statements.fetch_add(1, Ordering::Relaxed);
    }

    fn build<S: SqlxBinder>(&self, stmt: &S) -> (String, SqlxValues) {
        self.count_statement();
        let Built { sql, values } = build(self.backend(), stmt);
        (sql, values)
    }

    pub async fn execute<S: SqlxBinder>(&mut self, stmt: &S) -> Result<u64> {
        self.run(build(self.backend(), stmt)).await
    }

    /// Run a statement `build` made (for this transaction's backend).
    pub async fn run(&mut self, stmt: Built) -> Result<u64> {
        self.count_statement();
        let Built { sql, values } = stmt;
        Ok(match &mut self.conn {
            TxConn::Sqlite(t) => sqlx::query_with(&sql, values).execute(&mut **t).await?.rows_affected(),
            TxConn::Postgres(t) => sqlx::query_with(&sql, values).execute(&mut **t).await?.rows_affected(),
        })
    }

    /// Run one statement of SQL text without parameters (schema changes: ALTER TABLE,
    /// CREATE INDEX, whose identifiers the caller has checked).
    pub async fn execute_sql(&mut self, sql: &str) -> Result<u64> {
        self.count_statement();
        Ok(match &mut self.conn {
            TxConn::Sqlite(t) => sqlx::query(sql).execute(&mut **t).await?.rows_affected(),
            TxConn::Postgres(t) => sqlx::query(sql).execute(&mut **t).await?.rows_affected(),
        })
    }

    pub async fn fetch_all<S: SqlxBinder>(&mut self, stmt: &S) -> Result<Vec<Row>> {
        let (sql, values) = self.build(stmt);
        Ok(match &mut self.conn {
            TxConn::Sqlite(t) => {
                sqlx::query_with(&sql, values).fetch_all(&mut **t).await?.into_iter().map(Row::Sqlite).collect()
            }
            TxConn::Postgres(t) => {
                sqlx::query_with(&sql, values).fetch_all(&mut **t).await?.into_iter().map(Row::Postgres).collect()
            }
        })
    }

    pub async fn fetch_optional<S: SqlxBinder>(&mut self, stmt: &S) -> Result<Option<Row>> {
        let (sql, values) = self.build(stmt);
        Ok(match &mut self.conn {
            TxConn::Sqlite(t) => sqlx::query_with(&sql, values).fetch_optional(&mut **t).await?.map(Row::Sqlite),
            TxConn::Postgres(t) => sqlx::query_with(&sql, values).fetch_optional(&mut **t).await?.map(Row::Postgres),
        })
    }

    /// Encode a domain value for a column of type `ty` on this backend. NULLs are typed,
    /// because PostgreSQL refuses an untyped text NULL in a uuid or date column.
    pub fn encode(&self, ty: FieldType, v: &Value) -> sea_query::Value {
        encode(self.backend(), ty, v)
    }
}

pub fn encode(backend: Backend, ty: FieldType, v: &Value) -> sea_query::Value {
    use sea_query::Value as Q;
    let sqlite = backend == Backend::Sqlite;
    match (v, ty) {
        (Value::Null, FieldType::Id | FieldType::Reference) => Q::Uuid(None),
        (Value::Null, FieldType::Integer | FieldType::Money | FieldType::Percent | FieldType::Decimal) => {
            Q::BigInt(None)
        }
        (Value::Null, FieldType::Boolean) => Q::Bool(None),
        (Value::Null, FieldType::Date) if !sqlite => Q::TimeDate(None),
        (Value::Null, FieldType::Timestamp) if !sqlite => Q::TimeDateTimeWithTimeZone(None),
        (Value::Null, _) => Q::String(None),
        (Value::Text(s), _) => Q::String(Some(Box::new(s.clone()))),
        (Value::Int(i), _) => Q::BigInt(Some(*i)),
        (Value::Bool(b), _) => Q::Bool(Some(*b)),
        (Value::Uuid(u), _) => Q::Uuid(Some(Box::new(*u))),
        (Value::Date(d), _) if sqlite => Q::String(Some(Box::new(format_date(*d)))),
        (Value::Date(d), _) => Q::TimeDate(Some(Box::new(*d))),
        (Value::Timestamp(t), _) if sqlite => Q::String(Some(Box::new(format_timestamp(*t)))),
        (Value::Timestamp(t), _) => Q::TimeDateTimeWithTimeZone(Some(Box::new(*t))),
        (Value::Decimal(units), _) => Q::BigInt(Some(*units)),
        // A multi-select is a JSON array as text on both backends: `["A","B"]`.
        (Value::List(items), _) => {
            Q::String(Some(Box::new(serde_json::to_string(items).unwrap_or_else(|_| "[]".into()))))
        }
    }
}

fn corrupt(col: &str, what: &str) -> StoreError {
    StoreError::Corrupt(format!("column `{col}` holds an invalid {what}"))
}

fn decode_list(col: &str, text: Option<String>) -> Result<Value> {
    match text {
        None => Ok(Value::Null),
        Some(t) => {
            let items: Vec<String> = serde_json::from_str(&t).map_err(|_| corrupt(col, "option list"))?;
            Ok(if items.is_empty() { Value::Null } else { Value::List(items) })
        }
    }
}

impl Row {
    /// Decode column `col` as a value of field type `ty`.
    pub fn value(&self, col: &str, ty: FieldType) -> Result<Value> {
        Ok(match (self, ty) {
            (Row::Sqlite(r), FieldType::Id | FieldType::Reference) => {
                r.try_get::<Option<Uuid>, _>(col)?.map_or(Value::Null, Value::Uuid)
            }
            (Row::Postgres(r), FieldType::Id | FieldType::Reference) => {
                r.try_get::<Option<Uuid>, _>(col)?.map_or(Value::Null, Value::Uuid)
            }
            (Row::Sqlite(r), FieldType::Integer | FieldType::Money | FieldType::Percent) => {
                r.try_get::<Option<i64>, _>(col)?.map_or(Value::Null, Value::Int)
            }
            (Row::Postgres(r), FieldType::Integer | FieldType::Money | FieldType::Percent) => {
                r.try_get::<Option<i64>, _>(col)?.map_or(Value::Null, Value::Int)
            }
            (Row::Sqlite(r), FieldType::Boolean) => r.try_get::<Option<bool>, _>(col)?.map_or(Value::Null, Value::Bool),
            (Row::Postgres(r), FieldType::Boolean) => {
                r.try_get::<Option<bool>, _>(col)?.map_or(Value::Null, Value::Bool)
            }
            (Row::Sqlite(r), FieldType::Date) => match r.try_get::<Option<String>, _>(col)? {
                None => Value::Null,
                Some(s) => Value::Date(parse_date(&s).ok_or_else(|| corrupt(col, "date"))?),
            },
            (Row::Postgres(r), FieldType::Date) => {
                r.try_get::<Option<time::Date>, _>(col)?.map_or(Value::Null, Value::Date)
            }
            (Row::Sqlite(r), FieldType::Timestamp) => match r.try_get::<Option<String>, _>(col)? {
                None => Value::Null,
                Some(s) => Value::Timestamp(parse_timestamp(&s).ok_or_else(|| corrupt(col, "timestamp"))?),
            },
            (Row::Postgres(r), FieldType::Timestamp) => {
                r.try_get::<Option<time::OffsetDateTime>, _>(col)?.map_or(Value::Null, Value::Timestamp)
            }
            (Row::Sqlite(r), FieldType::Decimal) => {
                r.try_get::<Option<i64>, _>(col)?.map_or(Value::Null, Value::Decimal)
            }
            (Row::Postgres(r), FieldType::Decimal) => {
                r.try_get::<Option<i64>, _>(col)?.map_or(Value::Null, Value::Decimal)
            }
            (Row::Sqlite(r), FieldType::MultiSelect) => decode_list(col, r.try_get::<Option<String>, _>(col)?)?,
            (Row::Postgres(r), FieldType::MultiSelect) => decode_list(col, r.try_get::<Option<String>, _>(col)?)?,
            (Row::Sqlite(r), _) => r.try_get::<Option<String>, _>(col)?.map_or(Value::Null, Value::Text),
            (Row::Postgres(r), _) => r.try_get::<Option<String>, _>(col)?.map_or(Value::Null, Value::Text),
        })
    }

    pub fn i64(&self, col: &str) -> Result<i64> {
        Ok(match self {
            Row::Sqlite(r) => r.try_get(col)?,
            Row::Postgres(r) => r.try_get(col)?,
        })
    }

    pub fn text(&self, col: &str) -> Result<Option<String>> {
        Ok(match self {
            Row::Sqlite(r) => r.try_get(col)?,
            Row::Postgres(r) => r.try_get(col)?,
        })
    }

    pub fn uuid(&self, col: &str) -> Result<Option<Uuid>> {
        match self.value(col, FieldType::Id)? {
            Value::Uuid(u) => Ok(Some(u)),
            _ => Ok(None),
        }
    }

    pub fn timestamp(&self, col: &str) -> Result<Option<time::OffsetDateTime>> {
        match self.value(col, FieldType::Timestamp)? {
            Value::Timestamp(t) => Ok(Some(t)),
            _ => Ok(None),
        }
    }

    /// JSON stored as text (SQLite) or JSONB (PostgreSQL).
    pub fn json(&self, col: &str) -> Result<serde_json::Value> {
        match self {
            Row::Sqlite(r) => {
                let s: String = r.try_get(col)?;
                serde_json::from_str(&s).map_err(|_| corrupt(col, "JSON document"))
            }
            Row::Postgres(r) => Ok(r.try_get::<serde_json::Value, _>(col)?),
        }
    }
}
