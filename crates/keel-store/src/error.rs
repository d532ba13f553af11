use thiserror::Error;

/// Storage outcomes the service layer acts on; anything else is `Other`.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("unique constraint violated: {0}")]
    Duplicate(String),
    #[error("foreign key violated: {0}")]
    ForeignKey(String),
    /// Lock contention the caller may retry.
    #[error("database busy: {0}")]
    Busy(String),
    #[error("stored data could not be read: {0}")]
    Corrupt(String),
    /// A background import's runner no longer holds it (its lease ran out and another
    /// runner took it over); what it was writing must be rolled back.
    #[error("the import is held by another runner")]
    LeaseLost,
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error(transparent)]
    Other(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let Some(db) = e.as_database_error() {
            let msg = db.message().to_string();
            match db.kind() {
                sqlx::error::ErrorKind::UniqueViolation => return StoreError::Duplicate(msg),
                sqlx::error::ErrorKind::ForeignKeyViolation => return StoreError::ForeignKey(msg),
                _ => {}
            }
            let code = db.code().map(|c| c.to_string()).unwrap_or_default();
            // SQLITE_BUSY (5) / SQLITE_LOCKED (6); PostgreSQL serialization failure / deadlock.
            if matches!(code.as_str(), "5" | "6" | "517" | "40001" | "40P01") {
                return StoreError::Busy(msg);
            }
        }
        if matches!(e, sqlx::Error::PoolTimedOut) {
            return StoreError::Busy("connection pool exhausted".into());
        }
        StoreError::Other(e)
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
