//! One router per area, merged here.

mod assistant;
mod audit;
mod auth;
mod dashboard;
mod imports;
mod invites;
mod login_security;
mod meta;
mod records;
mod roles;
mod teams;
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
        .merge(teams::router())
        .merge(invites::router())
        .merge(dashboard::router())
        .merge(assistant::router())
        .merge(workflows::router())
        .merge(imports::router())
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
