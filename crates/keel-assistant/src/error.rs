//! What can go wrong in the assistant, as types; the API maps each to one HTTP answer.

use keel_domain::FieldErrors;
use keel_service::ServiceError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum AssistantError {
    /// From the service: not found (or not visible), forbidden, invalid, busy…
    #[error(transparent)]
    Service(#[from] ServiceError),
    /// The request itself is malformed; the errors name the fields.
    #[error("invalid input: {0}")]
    Invalid(FieldErrors),
    /// The proposal was confirmed, cancelled or is being confirmed already.
    #[error("this proposal is already {status}")]
    AlreadyDecided { status: String },
    #[error("this proposal expired at {at}")]
    Expired { at: String },
}

impl AssistantError {
    /// A single bad field.
    pub fn field(field: &str, code: &'static str, message: impl Into<String>) -> Self {
        AssistantError::Invalid(FieldErrors::single(field, code, message))
    }
}
