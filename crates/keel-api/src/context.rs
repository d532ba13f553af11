//! The request context: who is asking (from the session cookie or a bearer token) and
//! which request this is. Every authenticated handler takes a `RequestCtx`.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use axum_extra::extract::CookieJar;
use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use keel_service::{Ctx, Origin};

use crate::AppState;
use crate::error::ApiError;
use crate::request_id::RequestId;

pub const SESSION_COOKIE: &str = "keel_session";

pub struct RequestCtx(pub Ctx);

/// The peer address (as the socket saw it) and the user agent.
pub fn origin(parts: &Parts) -> Origin {
    let ip = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string());
    let user_agent =
        parts.headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(|ua| ua.chars().take(512).collect());
    Origin { ip, user_agent }
}

pub fn request_id(parts: &Parts) -> Option<String> {
    parts.extensions.get::<RequestId>().map(|r| r.0.clone())
}

impl FromRequestParts<AppState> for RequestCtx {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(|t| t.trim().to_string());
        let actor = if let Some(token) = bearer {
            state.service.authenticate_token(&token).await?
        } else {
            let jar = CookieJar::from_headers(&parts.headers);
            match jar.get(SESSION_COOKIE) {
                Some(c) => {
                    // The cookie rides along on cross-site requests too: check where writes come from.
                    crate::csrf::check(parts)?;
                    state.service.authenticate_session(c.value()).await?
                }
                None => return Err(keel_service::ServiceError::Unauthenticated.into()),
            }
        };
        Ok(RequestCtx(Ctx { actor, request_id: request_id(parts), origin: origin(parts) }))
    }
}
