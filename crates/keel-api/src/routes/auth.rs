//! Sign-in with a password (session cookie), sign-out, who-am-I, personal API tokens.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use serde::Deserialize;
use serde_json::json;

use crate::AppState;
use crate::context::{RequestCtx, SESSION_COOKIE};
use crate::error::ApiError;
use crate::extract::{JsonObject, parse_id, typed};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth/login", post(login))
        .route("/api/v1/auth/logout", post(logout))
        .route("/api/v1/auth/me", get(me))
        .route("/api/v1/auth/tokens", get(list_tokens).post(create_token))
        .route("/api/v1/auth/tokens/{id}", delete(revoke_token))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginRequest {
    email: String,
    password: String,
    /// For accounts with two-factor authentication: the current code from the app…
    #[serde(default)]
    totp_code: Option<String>,
    /// …or one of the one-time recovery codes.
    #[serde(default)]
    recovery_code: Option<String>,
}

fn secure(state: &AppState, headers: &HeaderMap) -> bool {
    state.secure_cookies || headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()) == Some("https")
}

async fn login(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    jar: CookieJar,
    JsonObject(body): JsonObject,
) -> Result<impl IntoResponse, ApiError> {
    let req: LoginRequest = typed(body)?;
    let ua = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok());
    let ip = addr.ip().to_string();
    let factor = keel_service::auth::SecondFactor::from_parts(req.totp_code, req.recovery_code)
        .map_err(keel_service::ServiceError::from)?;
    let login =
        state.service.login(&req.email, &req.password, factor.as_ref(), Some(&ip), ua).await.map_err(|e| match e {
            keel_service::ServiceError::Unauthenticated => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                "Email or password is wrong, or the account is disabled",
            ),
            other => other.into(),
        })?;
    let max_age = login.expires_at - time::OffsetDateTime::now_utc();
    let cookie = Cookie::build((SESSION_COOKIE, login.session_token))
        .http_only(true)
        .secure(secure(&state, &headers))
        .same_site(SameSite::Lax)
        .path("/")
        .max_age(time::Duration::seconds(max_age.whole_seconds()))
        .build();
    Ok((jar.add(cookie), Json(json!({ "user": login.user }))))
}

async fn logout(
    State(state): State<AppState>,
    parts: axum::http::request::Parts,
    jar: CookieJar,
) -> Result<impl IntoResponse, ApiError> {
    if let Some(c) = jar.get(SESSION_COOKIE) {
        crate::csrf::check(&parts)?;
        let (origin, request_id) = (crate::context::origin(&parts), crate::context::request_id(&parts));
        state.service.logout(c.value(), &origin, request_id.as_deref()).await?;
    }
    let removal = Cookie::build((SESSION_COOKIE, "")).path("/").build();
    Ok((jar.remove(removal), StatusCode::NO_CONTENT))
}

async fn me(State(state): State<AppState>, RequestCtx(ctx): RequestCtx) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.service.me(&ctx).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenRequest {
    name: String,
}

fn token_json(t: &keel_store_types::ApiToken) -> serde_json::Value {
    json!({
        "id": t.id,
        "name": t.name,
        "created_at": keel_domain::value::format_timestamp(t.created_at),
        "last_used_at": t.last_used_at.map(keel_domain::value::format_timestamp),
    })
}

/// The token type, re-exported by the service so this crate never names the store.
mod keel_store_types {
    pub use keel_service::auth::ApiToken;
}

async fn create_token(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    JsonObject(body): JsonObject,
) -> Result<impl IntoResponse, ApiError> {
    let req: TokenRequest = typed(body)?;
    let created = state.service.create_token(&ctx, &req.name).await?;
    let mut body = token_json(&created.token);
    if let Some(map) = body.as_object_mut() {
        map.insert("token".into(), created.secret.into());
    }
    Ok((StatusCode::CREATED, Json(body)))
}

async fn list_tokens(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
) -> Result<impl IntoResponse, ApiError> {
    let tokens = state.service.list_tokens(&ctx).await?;
    Ok(Json(json!({ "data": tokens.iter().map(token_json).collect::<Vec<_>>() })))
}

async fn revoke_token(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    state.service.revoke_token(&ctx, parse_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
