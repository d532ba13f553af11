//! Sign-in hardening endpoints: signing out everywhere, an admin ending a user's
//! sessions, changing one's password, and TOTP two-factor authentication.

use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::Cookie;
use keel_service::auth::{Revoked, SecondFactor};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::AppState;
use crate::context::{RequestCtx, SESSION_COOKIE};
use crate::error::ApiError;
use crate::extract::{JsonObject, parse_id, typed};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth/logout-everywhere", post(logout_everywhere))
        .route("/api/v1/auth/password", post(change_password))
        .route("/api/v1/auth/2fa", get(two_factor_status))
        .route("/api/v1/auth/2fa/setup", post(two_factor_setup))
        .route("/api/v1/auth/2fa/enable", post(two_factor_enable))
        .route("/api/v1/auth/2fa/disable", post(two_factor_disable))
        .route("/api/v1/users/{id}/revoke-sessions", post(revoke_sessions))
}

/// A JSON object body that may also be left out entirely (`{}` then). A body that is
/// sent must follow the usual rules (application/json, an object).
struct OptionalJsonObject(Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for OptionalJsonObject {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let h = req.headers();
        let empty = !h.contains_key(header::CONTENT_TYPE)
            && !h.contains_key(header::TRANSFER_ENCODING)
            && h.get(header::CONTENT_LENGTH).is_none_or(|v| v.as_bytes() == b"0");
        if empty {
            return Ok(OptionalJsonObject(Map::new()));
        }
        JsonObject::from_request(req, state).await.map(|JsonObject(map)| OptionalJsonObject(map))
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RevokeRequest {
    /// Also revoke the user's personal API tokens.
    #[serde(default)]
    tokens: bool,
}

fn revoked_json(r: Revoked) -> Json<Value> {
    Json(json!({ "sessions_ended": r.sessions, "tokens_revoked": r.tokens }))
}

fn removal_cookie() -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, "")).path("/").build()
}

async fn logout_everywhere(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    jar: CookieJar,
    OptionalJsonObject(body): OptionalJsonObject,
) -> Result<impl IntoResponse, ApiError> {
    let req: RevokeRequest = typed(body)?;
    let revoked = state.service.logout_everywhere(&ctx, req.tokens).await?;
    Ok((jar.remove(removal_cookie()), revoked_json(revoked)))
}

async fn revoke_sessions(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    Path(id): Path<String>,
    OptionalJsonObject(body): OptionalJsonObject,
) -> Result<impl IntoResponse, ApiError> {
    let req: RevokeRequest = typed(body)?;
    let revoked = state.service.revoke_user_sessions(&ctx, parse_id(&id)?, req.tokens).await?;
    Ok(revoked_json(revoked))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangePasswordRequest {
    current_password: String,
    new_password: String,
}

/// Was this request signed in by the cookie (not a bearer token)? Then that session is
/// the one to keep when the others end.
fn cookie_session(headers: &HeaderMap, jar: &CookieJar) -> Option<String> {
    if headers.contains_key(header::AUTHORIZATION) {
        return None;
    }
    jar.get(SESSION_COOKIE).map(|c| c.value().to_string())
}

async fn change_password(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    headers: HeaderMap,
    jar: CookieJar,
    JsonObject(body): JsonObject,
) -> Result<impl IntoResponse, ApiError> {
    let req: ChangePasswordRequest = typed(body)?;
    let keep = cookie_session(&headers, &jar);
    state.service.change_password(&ctx, &req.current_password, &req.new_password, keep.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn two_factor_status(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
) -> Result<impl IntoResponse, ApiError> {
    let s = state.service.two_factor_status(&ctx).await?;
    Ok(Json(json!({ "enabled": s.enabled, "pending": s.pending, "recovery_codes_left": s.recovery_codes_left })))
}

async fn two_factor_setup(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
) -> Result<impl IntoResponse, ApiError> {
    let setup = state.service.two_factor_setup(&ctx).await?;
    Ok(Json(json!({ "secret": setup.secret, "otpauth_uri": setup.otpauth_uri })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EnableRequest {
    code: String,
}

async fn two_factor_enable(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    JsonObject(body): JsonObject,
) -> Result<impl IntoResponse, ApiError> {
    let req: EnableRequest = typed(body)?;
    let codes = state.service.two_factor_enable(&ctx, &req.code).await?;
    Ok(Json(json!({ "recovery_codes": codes })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DisableRequest {
    password: String,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    recovery_code: Option<String>,
}

async fn two_factor_disable(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    JsonObject(body): JsonObject,
) -> Result<impl IntoResponse, ApiError> {
    let req: DisableRequest = typed(body)?;
    let factor = SecondFactor::from_parts(req.code, req.recovery_code)
        .map_err(keel_service::ServiceError::from)?
        .ok_or_else(|| {
            keel_service::ServiceError::from(keel_domain::FieldErrors::single(
                "code",
                "required",
                "Send the current code from your app as `code`, or a `recovery_code`",
            ))
        })?;
    state.service.two_factor_disable(&ctx, &req.password, &factor).await?;
    Ok(StatusCode::NO_CONTENT)
}
