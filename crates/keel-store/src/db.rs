//! The two backends behind one type. `Db` is a pool; `Tx` a transaction on it. Every
//! query, read or write, runs inside a `Tx`, so a list and its count see one snapshot
//! and a write and its change-log entry commit together.

use std::str::FromStr;
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

#[derive(Debug, Clone)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
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
            let pool = SqlitePoolOptions::new().max_connections(8).connect_with(opts).await?;
            Ok(Db::Sqlite(pool))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            // JIT compilation pays off for long analytical queries, not for a CRM's short
            // ones: on a 1M-row scope query it added ~85 ms of compile time to a 400 ms plan.
            let opts = PgConnectOptions::from_str(url)?.options([("jit", "off")]);
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts)
                .await?;
            Ok(Db::Postgres(pool))
        } else {
            Err(StoreError::Other(sqlx::Error::Configuration(
                format!("unsupported DATABASE_URL `{url}`: use sqlite://… or postgres://…").into(),
            )))
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Apply the embedded migrations for this backend.
    pub async fn migrate(&self) -> Result<()> {
        match self {
            Db::Sqlite(p) => sqlx::migrate!("./migrations/sqlite").run(p).await?,
            Db::Postgres(p) => sqlx::migrate!("./migrations/postgres").run(p).await?,
        }
        Ok(())
    }

    /// A read-only snapshot.
    pub async fn read(&self) -> Result<Tx> {
        Ok(match self {
            Db::Sqlite(p) => Tx::Sqlite(p.begin().await?),
            Db::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    /// A write transaction. SQLite takes the write lock up front (BEGIN IMMEDIATE) so two
    /// writers never deadlock upgrading read locks; PostgreSQL takes the writer lock.
    pub async fn write(&self) -> Result<Tx> {
        Ok(match self {
            Db::Sqlite(p) => Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(p) => {
                let mut tx = p.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(WRITE_LOCK_KEY).execute(&mut *tx).await?;
                Tx::Postgres(tx)
            }
        })
    }

    /// A write transaction for bookkeeping that appends nothing to the change log or the
    /// audit log (the job queue, run history): on PostgreSQL it skips the writers'
    /// advisory lock, so workers do not queue behind record writes; SQLite still has one
    /// writer (BEGIN IMMEDIATE).
    pub async fn side_write(&self) -> Result<Tx> {
        Ok(match self {
            Db::Sqlite(p) => Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    /// Is the database answering? For `/readyz`.
    pub async fn ping(&self) -> Result<()> {
        match self {
            Db::Sqlite(p) => {
                sqlx::query("SELECT 1").execute(p).await?;
            }
            Db::Postgres(p) => {
                sqlx::query("SELECT 1").execute(p).await?;
            }
        }
        Ok(())
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite(p) => p.close().await,
            Db::Postgres(p) => p.close().await,
        }
    }
}

pub enum Tx {
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
        match self {
            Tx::Sqlite(_) => Backend::Sqlite,
            Tx::Postgres(_) => Backend::Postgres,
        }
    }

    pub async fn commit(self) -> Result<()> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }

    fn build<S: SqlxBinder>(&self, stmt: &S) -> (String, SqlxValues) {
        match self {
            Tx::Sqlite(_) => stmt.build_sqlx(SqliteQueryBuilder),
            Tx::Postgres(_) => stmt.build_sqlx(PostgresQueryBuilder),
        }
    }

    pub async fn execute<S: SqlxBinder>(&mut self, stmt: &S) -> Result<u64> {
        let (sql, values) = self.build(stmt);
        Ok(match self {
            Tx::Sqlite(t) => sqlx::query_with(&sql, values).execute(&mut **t).await?.rows_affected(),
            Tx::Postgres(t) => sqlx::query_with(&sql, values).execute(&mut **t).await?.rows_affected(),
        })
    }

    pub async fn fetch_all<S: SqlxBinder>(&mut self, stmt: &S) -> Result<Vec<Row>> {
        let (sql, values) = self.build(stmt);
        Ok(match self {
            Tx::Sqlite(t) => {
                sqlx::query_with(&sql, values).fetch_all(&mut **t).await?.into_iter().map(Row::Sqlite).collect()
            }
            Tx::Postgres(t) => {
                sqlx::query_with(&sql, values).fetch_all(&mut **t).await?.into_iter().map(Row::Postgres).collect()
            }
        })
    }

    pub async fn fetch_optional<S: SqlxBinder>(&mut self, stmt: &S) -> Result<Option<Row>> {
        let (sql, values) = self.build(stmt);
        Ok(match self {
            Tx::Sqlite(t) => sqlx::query_with(&sql, values).fetch_optional(&mut **t).await?.map(Row::Sqlite),
            Tx::Postgres(t) => sqlx::query_with(&sql, values).fetch_optional(&mut **t).await?.map(Row::Postgres),
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
        (Value::Null, FieldType::Integer | FieldType::Money | FieldType::Percent) => Q::BigInt(None),
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
    }
}

fn corrupt(col: &str, what: &str) -> StoreError {
    StoreError::Corrupt(format!("column `{col}` holds an invalid {what}"))
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
