//! The audit log for admins: query it (by user, entity, record, action and time, newest
//! first, keyset-paged by `seq`) and verify its hash chain.

use std::collections::BTreeSet;

use axum::extract::{RawQuery, State};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use keel_domain::FieldErrors;
use keel_domain::value::{parse_date, parse_timestamp};
use keel_service::audit::{AuditAction, AuditFilter, MAX_LIST_LIMIT};
use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::AppState;
use crate::context::RequestCtx;
use crate::error::ApiError;
use crate::extract::query_pairs;

/// Entries per page when `limit` is not given.
pub const DEFAULT_LIMIT: u32 = 100;
const PARAMS: &str = "user_id, entity, record_id, action, since, until, limit and cursor";

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/audit", get(list)).route("/api/v1/audit/verify", get(verify))
}

fn uuid_param(errors: &mut FieldErrors, name: &str, v: &str, what: &str) -> Option<Uuid> {
    let parsed = Uuid::parse_str(v).ok();
    if parsed.is_none() {
        errors.push(name, "invalid", format!("{name} must be {what} (a UUID)"));
    }
    parsed
}

/// RFC 3339 (`2026-01-31T09:00:00Z`) or a date (`2026-01-31`, midnight UTC).
fn time_param(errors: &mut FieldErrors, name: &str, v: &str) -> Option<OffsetDateTime> {
    let parsed = parse_timestamp(v).or_else(|| parse_date(v).map(|d| d.midnight().assume_utc()));
    if parsed.is_none() {
        errors.push(
            name,
            "invalid",
            format!("{name} must be an RFC 3339 time such as 2026-01-31T09:00:00Z, or a date"),
        );
    }
    parsed
}

/// Entity names are lowercase identifiers (`deals`); anything else cannot match.
fn valid_entity(v: &str) -> bool {
    (1..=64).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

async fn list(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    RawQuery(raw): RawQuery,
) -> Result<impl IntoResponse, ApiError> {
    let mut filter = AuditFilter::default();
    let mut limit = DEFAULT_LIMIT;
    let mut errors = FieldErrors::new();
    let mut seen = BTreeSet::new();
    for (k, v) in query_pairs(raw.as_deref()) {
        if !seen.insert(k.clone()) {
            errors.push(k.as_str(), "repeated_parameter", format!("`{k}` may be given only once"));
            continue;
        }
        match k.as_str() {
            "user_id" => filter.actor_id = uuid_param(&mut errors, "user_id", &v, "a user id"),
            "record_id" => filter.record_id = uuid_param(&mut errors, "record_id", &v, "a record id"),
            "entity" if valid_entity(&v) => filter.entity = Some(v),
            "entity" => errors.push("entity", "invalid", "entity must be an entity name such as `deals`"),
            "action" => match AuditAction::parse(&v) {
                Some(a) => filter.action = Some(a.as_str().to_string()),
                None => {
                    let known: Vec<&str> = AuditAction::ALL.iter().map(|a| a.as_str()).collect();
                    errors.push("action", "invalid", format!("action must be one of {}", known.join(", ")));
                }
            },
            "since" => filter.since = time_param(&mut errors, "since", &v),
            "until" => filter.until = time_param(&mut errors, "until", &v),
            "limit" => match v.parse::<u32>() {
                Ok(n) if (1..=MAX_LIST_LIMIT).contains(&n) => limit = n,
                _ => errors.push(
                    "limit",
                    "invalid_limit",
                    format!("limit must be a whole number from 1 to {MAX_LIST_LIMIT}"),
                ),
            },
            "cursor" => match v.parse::<i64>() {
                Ok(n) if n >= 1 => filter.before_seq = Some(n),
                _ => errors.push("cursor", "invalid_cursor", "cursor must be the `next_cursor` of the previous page"),
            },
            other => errors.push(other, "unknown_parameter", format!("unknown parameter `{other}`; use {PARAMS}")),
        }
    }
    if let (Some(since), Some(until)) = (filter.since, filter.until)
        && until <= since
    {
        errors.push("until", "invalid_range", "until must be later than since");
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid_query(errors));
    }
    let page = state.service.audit_list(&ctx, &filter, limit).await?;
    Ok(Json(json!({ "data": page.entries, "next_cursor": page.next_cursor.map(|s| s.to_string()) })))
}

async fn verify(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    RawQuery(raw): RawQuery,
) -> Result<impl IntoResponse, ApiError> {
    let mut errors = FieldErrors::new();
    for (k, _) in query_pairs(raw.as_deref()) {
        errors.push(k.as_str(), "unknown_parameter", format!("unknown parameter `{k}`; verify takes none"));
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid_query(errors));
    }
    Ok(Json(state.service.audit_verify(&ctx).await?))
}
