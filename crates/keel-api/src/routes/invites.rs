//! Invitations: admins invite (`POST /api/v1/users/invite`, `POST /api/v1/users/{id}/invite`);
//! the invitee sets a password (`POST /api/v1/auth/accept-invite`, no sign-in needed).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use keel_service::auth::Invite;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::context::RequestCtx;
use crate::error::ApiError;
use crate::extract::{JsonObject, parse_id, typed};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/users/invite", post(invite))
        .route("/api/v1/users/{id}/invite", post(reinvite))
        .route("/api/v1/auth/accept-invite", post(accept))
}

fn invite_json(invite: Invite) -> Value {
    json!({
        "user": invite.user,
        "token": invite.token,
        "expires_at": keel_domain::value::format_timestamp(invite.expires_at),
    })
}

async fn invite(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    JsonObject(body): JsonObject,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let invite = state.service.invite_user(&ctx, body).await?;
    Ok((StatusCode::CREATED, Json(invite_json(invite))))
}

async fn reinvite(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let invite = state.service.reinvite_user(&ctx, parse_id(&id)?).await?;
    Ok((StatusCode::CREATED, Json(invite_json(invite))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Accept {
    token: String,
    password: String,
}

async fn accept(State(state): State<AppState>, JsonObject(body): JsonObject) -> Result<StatusCode, ApiError> {
    let req: Accept = typed(body)?;
    state.service.accept_invite(&req.token, &req.password).await?;
    Ok(StatusCode::NO_CONTENT)
}
