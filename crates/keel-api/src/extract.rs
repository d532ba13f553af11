//! Extractors that turn malformed input into our problem+json shape instead of axum's
//! plain-text rejections.

use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, StatusCode, header};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::error::ApiError;

/// A JSON object body: `application/json`, at most 1 MiB, valid UTF-8, an object.
pub struct JsonObject(pub Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for JsonObject {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, ApiError> {
        let is_json =
            req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|ct| {
                ct.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
            });
        if !is_json {
            // Also what keeps cross-site HTML forms from posting with a user's cookie.
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Send the body as application/json",
            ));
        }
        let bytes = axum::body::to_bytes(req.into_body(), crate::MAX_BODY_BYTES).await.map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!("The body must be at most {} bytes", crate::MAX_BODY_BYTES),
            )
        })?;
        let text = std::str::from_utf8(&bytes).map_err(|e| {
            ApiError::bad_request("invalid_utf8", format!("The body is not valid UTF-8 (at byte {})", e.valid_up_to()))
        })?;
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => Ok(JsonObject(map)),
            Ok(_) => Err(ApiError::bad_request("not_an_object", "The body must be a JSON object")),
            Err(e) => Err(ApiError::bad_request("malformed_json", format!("The body is not valid JSON: {e}"))),
        }
    }
}

/// Decode a JSON object into a typed request, naming the offending field on failure.
pub fn typed<T: serde::de::DeserializeOwned>(body: Map<String, Value>) -> Result<T, ApiError> {
    // Typed requests (sign-in, tokens, bulk actions) skip the record validation that
    // refuses NUL; PostgreSQL cannot store or even compare it, so refuse it here.
    let nul_fields: Vec<&String> =
        body.iter().filter(|(k, v)| k.contains('\0') || has_nul(v)).map(|(k, _)| k).collect();
    if !nul_fields.is_empty() {
        let mut err = ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            "Text must not contain NUL characters",
        );
        for k in nul_fields {
            err.errors.push(
                k.clone(),
                "invalid_characters",
                format!("`{}` must not contain NUL characters", k.replace('\0', "\\0")),
            );
        }
        return Err(err);
    }
    serde_json::from_value(Value::Object(body)).map_err(|e| {
        let mut err =
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", format!("The body is not valid: {e}"));
        err.errors.push("body", "invalid", e.to_string());
        err
    })
}

/// Whether any string in `v` (keys included) holds a NUL. The body came from serde_json,
/// whose recursion limit bounds the depth here.
fn has_nul(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(has_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

/// The raw query string as ordered pairs (repeated keys kept), percent-decoded.
pub fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    raw.map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default()
}

pub fn parse_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw)
        .map_err(|_| ApiError::bad_request("invalid_id", format!("`{raw}` is not a record id (a UUID)")))
}

/// `If-Match: "3"` (the ETag we sent) → Some(3); absent or `*` → None.
pub fn if_match(headers: &HeaderMap) -> Result<Option<i64>, ApiError> {
    let Some(v) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let s = v
        .to_str()
        .map_err(|_| ApiError::bad_request("invalid_if_match", "If-Match must be an ETag such as \"3\""))?
        .trim();
    if s == "*" {
        return Ok(None);
    }
    let s = s.strip_prefix("W/").unwrap_or(s).trim_matches('"');
    s.parse::<i64>().map(Some).map_err(|_| {
        ApiError::bad_request("invalid_if_match", "If-Match must be an ETag such as \"3\" (the record's version)")
    })
}

pub fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    match v.to_str() {
        Ok(s) if !s.is_empty() && s.len() <= 255 && s.bytes().all(|b| b.is_ascii_graphic()) => Ok(Some(s.to_string())),
        _ => Err(ApiError::bad_request(
            "invalid_idempotency_key",
            "Idempotency-Key must be 1 to 255 visible ASCII characters",
        )),
    }
}

pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}
