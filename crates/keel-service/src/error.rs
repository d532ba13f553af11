use keel_domain::FieldErrors;
use keel_domain::policy::Denied;
use keel_store::StoreError;
use thiserror::Error;

/// Business outcomes of a use case. The API maps each to one HTTP status.
#[derive(Debug, Error)]
pub enum ServiceError {
    #[error("not found")]
    NotFound,
    #[error("authentication required")]
    Unauthenticated,
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The actor may not set these fields (field-level security, protected fields).
    #[error("forbidden fields: {0}")]
    ForbiddenFields(FieldErrors),
    #[error("invalid input: {0}")]
    Invalid(FieldErrors),
    /// The request clashes with the current state (has deals, duplicate, in trash…).
    #[error("{message}")]
    Conflict { code: &'static str, message: String, details: serde_json::Map<String, serde_json::Value> },
    #[error("the record changed since version {expected}; it is now at version {current}")]
    PreconditionFailed { expected: i64, current: i64 },
    #[error("the database is busy; retry shortly")]
    Busy,
    /// Too many failed sign-ins for this account or address: locked for `retry_after` seconds.
    #[error("too many failed sign-in attempts; retry in {retry_after} s")]
    TooManyAttempts { retry_after: u64 },
    /// The password was right but the account has two-factor authentication: send a code.
    #[error("a two-factor code is required")]
    TwoFactorRequired,
    #[error("internal error: {0}")]
    Internal(String),
}

impl ServiceError {
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        ServiceError::Conflict { code, message: message.into(), details: serde_json::Map::new() }
    }
}

impl From<FieldErrors> for ServiceError {
    fn from(e: FieldErrors) -> Self {
        ServiceError::Invalid(e)
    }
}

impl From<Denied> for ServiceError {
    fn from(d: Denied) -> Self {
        ServiceError::Forbidden(d.0)
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            // A unique index caught what the pre-check did not (a race): a conflict, not a crash.
            StoreError::Duplicate(_) => {
                ServiceError::conflict("duplicate", "a record with the same unique value already exists")
            }
            StoreError::ForeignKey(_) => {
                ServiceError::conflict("reference_missing", "a referenced record does not exist")
            }
            StoreError::Busy(_) => ServiceError::Busy,
            StoreError::LeaseLost => {
                ServiceError::conflict(crate::imports::LEASE_LOST, "the import is being run by another Keel process")
            }
            other => ServiceError::Internal(other.to_string()),
        }
    }
}
