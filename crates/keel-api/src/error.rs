//! One error type for the HTTP layer, rendered as RFC 9457 problem+json. Codes are
//! stable snake_case strings clients can switch on; 5xx bodies say nothing about the
//! cause, which is logged once with the request id.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use keel_domain::FieldErrors;
use keel_service::ServiceError;
use serde_json::{Map, Value, json};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: String,
    pub errors: FieldErrors,
    pub extra: Map<String, Value>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self { status, code, detail: detail.into(), errors: FieldErrors::new(), extra: Map::new() }
    }
    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, detail)
    }
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "No such resource, or you may not see it")
    }
    /// Field errors in a query string (filters, sort, paging): the request is malformed.
    pub fn invalid_query(errors: FieldErrors) -> Self {
        Self { errors, ..Self::bad_request("invalid_query", "The query parameters are not valid") }
    }
    fn title(&self) -> &'static str {
        self.status.canonical_reason().unwrap_or("Error")
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::NotFound => ApiError::not_found(),
            ServiceError::Unauthenticated => {
                ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", "Sign in or send a valid API token")
            }
            ServiceError::Forbidden(m) => ApiError::new(StatusCode::FORBIDDEN, "forbidden", m),
            ServiceError::ForbiddenFields(errors) => ApiError {
                errors,
                ..ApiError::new(StatusCode::FORBIDDEN, "forbidden_fields", "Your role may not set some of these fields")
            },
            ServiceError::Invalid(errors) => ApiError {
                errors,
                ..ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", "Some fields are not valid")
            },
            ServiceError::Conflict { code, message, details } => {
                ApiError { extra: details, ..ApiError::new(StatusCode::CONFLICT, code, message) }
            }
            ServiceError::PreconditionFailed { expected, current } => {
                let mut extra = Map::new();
                extra.insert("current_version".into(), current.into());
                ApiError {
                    extra,
                    ..ApiError::new(
                        StatusCode::PRECONDITION_FAILED,
                        "version_mismatch",
                        format!(
                            "The record changed since version {expected}; it is now at version {current}. Reload and try again."
                        ),
                    )
                }
            }
            ServiceError::TooManyAttempts { retry_after } => {
                let mut extra = Map::new();
                extra.insert("retry_after".into(), retry_after.into());
                ApiError {
                    extra,
                    ..ApiError::new(
                        StatusCode::TOO_MANY_REQUESTS,
                        "too_many_attempts",
                        "Too many failed sign-in attempts; try again later",
                    )
                }
            }
            ServiceError::TwoFactorRequired => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "two_factor_required",
                "This account uses two-factor authentication: send `totp_code` or `recovery_code` too",
            ),
            ServiceError::Busy => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "busy", "The database is busy; retry shortly")
            }
            ServiceError::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "Something went wrong on our side; the request id identifies it in the logs",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // A 429 says when to come back (seconds), in the body and as `Retry-After`.
        let retry_after = (self.status == StatusCode::TOO_MANY_REQUESTS)
            .then(|| self.extra.get("retry_after").and_then(Value::as_u64))
            .flatten();
        let mut body = json!({
            "type": format!("https://keel.invalid/problems/{}", self.code),
            "title": self.title(),
            "status": self.status.as_u16(),
            "detail": self.detail,
            "code": self.code,
        });
        if let Value::Object(map) = &mut body {
            if !self.errors.is_empty() {
                map.insert("errors".into(), json!(self.errors));
            }
            for (k, v) in self.extra {
                map.insert(k, v);
            }
        }
        let mut res = (self.status, Json(body)).into_response();
        res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if let Some(secs) = retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        res
    }
}
