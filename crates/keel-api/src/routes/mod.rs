//! One router per area, merged here.

mod assistant;
mod audit;
mod auth;
mod dashboard;
mod fields;
mod imports;
mod invites;
mod login_security;
mod mcp;
mod merges;
mod meta;
mod records;
mod roles;
mod teams;
mod webhooks;
mod workflows;

use axum::Router;

use crate::AppState;
use crate::error::ApiError;

pub fn router(_state: AppState) -> Router<AppState> {
    Router::new()
        .merge(meta::router())
        .merge(audit::router())
        .merge(auth::router())
        .merge(login_security::router())
        .merge(roles::router())
        .merge(fields::router())
        .merge(teams::router())
        .merge(invites::router())
        .merge(dashboard::router())
        .merge(assistant::router())
        .merge(mcp::router())
        .merge(workflows::router())
        .merge(webhooks::router())
        .merge(imports::router())
        .merge(merges::router())
        .merge(crate::graphql::router())
        .merge(records::router())
        .fallback(|| async { ApiError::not_found() })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                axum::http::StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "This resource does not support that method",
            )
        })
}
