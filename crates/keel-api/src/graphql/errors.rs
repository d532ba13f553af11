//! Errors in GraphQL's shape with REST's content: the problem+json `code` (and `status`,
//! the per-field `errors`, and any extra members such as `current_version`) go into the
//! error's `extensions`, so clients switch on the same codes on both APIs.

use async_graphql::{ErrorExtensionValues, Value as GqlValue};
use keel_service::ServiceError;
use serde_json::{Value, json};

use crate::error::ApiError;

pub fn api_error(e: ApiError) -> async_graphql::Error {
    let mut ext = ErrorExtensionValues::default();
    ext.set("code", e.code);
    ext.set("status", e.status.as_u16());
    if !e.errors.is_empty()
        && let Ok(v) = GqlValue::from_json(json!(e.errors))
    {
        ext.set("errors", v);
    }
    for (k, v) in e.extra {
        if let Ok(v) = GqlValue::from_json(v) {
            ext.set(k, v);
        }
    }
    async_graphql::Error { message: e.detail, source: None, extensions: Some(ext) }
}

pub fn service_error(e: ServiceError) -> async_graphql::Error {
    api_error(e.into())
}

/// A whole response that failed before execution (authentication, a malformed body), as
/// GraphQL clients expect it: `{"errors": [...]}`.
pub fn response_body(e: ApiError) -> Value {
    let mut err = json!({ "message": e.detail, "extensions": { "code": e.code, "status": e.status.as_u16() } });
    if !e.errors.is_empty() {
        err["extensions"]["errors"] = json!(e.errors);
    }
    json!({ "errors": [err] })
}
