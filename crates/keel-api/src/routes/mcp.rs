//! The MCP server's streamable HTTP transport at `/mcp` (the protocol itself is in
//! `keel_assistant::mcp`). POST one JSON-RPC message with `Authorization: Bearer <API
//! token>`; `initialize` opens a session whose id comes back in `Mcp-Session-Id`, which
//! every later message must carry. Answers are JSON, except a `tools/call` in a session
//! whose client declared `elicitation` (and accepts `text/event-stream`): that answer is
//! an event stream carrying our `elicitation/create` request and then the result, the
//! client POSTing its answer to the elicitation meanwhile. GET is 405 (no server-initiated
//! stream); DELETE ends the session.
//!
//! Only API tokens authenticate here (no session cookie, so no cross-site request can
//! ride on a browser's login), and a request from a browser page of another origin is
//! refused (403) as the specification's security notes ask, DNS rebinding included.

use std::convert::Infallible;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use keel_assistant::mcp::http::HttpSession;
use keel_assistant::mcp::{
    self, ChannelPeer, ELICITATION_TIMEOUT, INVALID_REQUEST, Message, PARSE_ERROR, PROTOCOL_VERSIONS, error_response,
    result_response,
};
use keel_service::{Ctx, ServiceError};
use serde_json::Value;

use crate::AppState;
use crate::context::{origin, request_id};
use crate::error::ApiError;

const SESSION_HEADER: &str = "mcp-session-id";
const VERSION_HEADER: &str = "mcp-protocol-version";

pub fn router() -> Router<AppState> {
    Router::new().route("/mcp", post(message).delete(end_session).get(no_stream))
}

fn rpc(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

fn rpc_error(status: StatusCode, code: i64, message: &str) -> Response {
    rpc(status, error_response(Value::Null, code, message, None))
}

/// 401 with the challenge the specification asks for.
fn unauthorized(invalid: bool) -> Response {
    let mut res = ApiError::from(ServiceError::Unauthenticated).into_response();
    let challenge = if invalid {
        r#"Bearer realm="keel", error="invalid_token", error_description="The API token is not valid""#
    } else {
        r#"Bearer realm="keel""#
    };
    res.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
    res
}

/// The caller, from the bearer token (and nothing else), after the Origin check.
async fn authenticate(state: &AppState, parts: &Parts) -> Result<Ctx, Response> {
    crate::csrf::check(parts).map_err(IntoResponse::into_response)?;
    let bearer = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim);
    let Some(token) = bearer else {
        return Err(unauthorized(false));
    };
    match state.service.authenticate_token(token).await {
        Ok(actor) => Ok(Ctx { actor, request_id: request_id(parts), origin: origin(parts) }),
        Err(ServiceError::Unauthenticated) => Err(unauthorized(true)),
        Err(e) => Err(ApiError::from(e).into_response()),
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim)
}

/// The session a message names, or why it has none usable (missing, unknown, another
/// user's, or a protocol version header we do not speak).
fn session(state: &AppState, headers: &HeaderMap, ctx: &Ctx) -> Result<Arc<HttpSession>, (StatusCode, String)> {
    if let Some(v) = header_str(headers, VERSION_HEADER)
        && !PROTOCOL_VERSIONS.contains(&v)
    {
        let message = format!("unsupported MCP-Protocol-Version `{}`: use {}", v, PROTOCOL_VERSIONS.join(" or "));
        return Err((StatusCode::BAD_REQUEST, message));
    }
    let Some(id) = header_str(headers, SESSION_HEADER) else {
        return Err((StatusCode::BAD_REQUEST, "the Mcp-Session-Id header is required".into()));
    };
    state
        .mcp
        .get(id, ctx.actor.user_id)
        .ok_or_else(|| (StatusCode::NOT_FOUND, "no such session (it expired or ended): initialize again".to_string()))
}

async fn message(State(state): State<AppState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let ctx = match authenticate(&state, &parts).await {
        Ok(c) => c,
        Err(res) => return res,
    };
    let Ok(bytes) = axum::body::to_bytes(body, crate::MAX_BODY_BYTES).await else {
        let message = format!("the message must be at most {} bytes", crate::MAX_BODY_BYTES);
        return rpc_error(StatusCode::PAYLOAD_TOO_LARGE, INVALID_REQUEST, &message);
    };
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return rpc_error(StatusCode::BAD_REQUEST, PARSE_ERROR, "the message is not valid UTF-8");
    };
    let message = match mcp::parse(text) {
        Ok(m) => m,
        Err(error) => return rpc(StatusCode::BAD_REQUEST, error),
    };
    if let Message::Request { id, method, params } = &message
        && method == "initialize"
    {
        let (client, result) = state.mcp.server.initialize(params);
        let session = state.mcp.open(ctx.actor.user_id, client);
        let mut res = rpc(StatusCode::OK, result_response(id.clone(), result));
        if let Ok(v) = HeaderValue::from_str(&session.id) {
            res.headers_mut().insert(SESSION_HEADER, v);
        }
        return res;
    }
    let session = match session(&state, &parts.headers, &ctx) {
        Ok(s) => s,
        Err((status, why)) => return rpc_error(status, INVALID_REQUEST, &why),
    };
    let (id, method, params) = match message {
        Message::Response { id, outcome } => {
            session.pending.resolve(&id, outcome);
            return StatusCode::ACCEPTED.into_response();
        }
        Message::Notification { .. } => return StatusCode::ACCEPTED.into_response(),
        Message::Request { id, method, params } => (id, method, params),
    };
    let streams = header_str(&parts.headers, header::ACCEPT.as_str()).is_some_and(|a| a.contains("text/event-stream"));
    if method == "tools/call" && session.client.elicitation && streams {
        // The answer is a stream: our elicitation request first, then the result.
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Value>();
        let server = state.mcp.server.clone();
        tokio::spawn(async move {
            let peer = ChannelPeer::new(session.pending.clone(), tx.clone(), ELICITATION_TIMEOUT);
            let response = server.respond(&ctx, &session.client, id, &method, &params, Some(&peer)).await;
            let _ = tx.send(response);
        });
        let stream = futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv()
                .await
                .map(|m| (Ok::<Event, Infallible>(Event::default().event("message").data(m.to_string())), rx))
        });
        return Sse::new(stream).keep_alive(KeepAlive::default()).into_response();
    }
    let response = state.mcp.server.respond(&ctx, &session.client, id, &method, &params, None).await;
    rpc(StatusCode::OK, response)
}

async fn end_session(State(state): State<AppState>, req: Request) -> Response {
    let (parts, _) = req.into_parts();
    let ctx = match authenticate(&state, &parts).await {
        Ok(c) => c,
        Err(res) => return res,
    };
    let Some(id) = header_str(&parts.headers, SESSION_HEADER) else {
        return rpc_error(StatusCode::BAD_REQUEST, INVALID_REQUEST, "the Mcp-Session-Id header is required");
    };
    if state.mcp.close(id, ctx.actor.user_id) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        rpc_error(StatusCode::NOT_FOUND, INVALID_REQUEST, "no such session")
    }
}

/// No server-initiated stream: everything comes back on the POST that asked.
async fn no_stream() -> Response {
    let mut res = Response::new(Body::empty());
    *res.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    res.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST, DELETE"));
    res
}
