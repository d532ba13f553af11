//! Each entity's own rules, applied to the record as it will be after a write. They run
//! after the generic field checks, so they see parsed, normalised values.

mod activities;
mod companies;
mod contacts;
mod deals;

use std::collections::BTreeSet;

use crate::error::FieldErrors;
use crate::schema::EntityDef;
use crate::validate::WriteContext;
use crate::value::Record;

pub use deals::{DEFAULT_CURRENCY, stage_probability};

pub fn apply(
    entity: &EntityDef,
    before: Option<&Record>,
    after: &mut Record,
    explicit: &BTreeSet<String>,
    ctx: &WriteContext,
    errors: &mut FieldErrors,
) {
    match entity.name.as_str() {
        "companies" => companies::apply(before, after, explicit, errors),
        "contacts" => contacts::apply(after, errors),
        "deals" => deals::apply(entity, before, after, explicit, ctx, errors),
        "activities" => activities::apply(before, after, ctx),
        "users" => {
            // `has_default` promises a role on create: the least privileged one.
            if before.is_none() && after.get("role").is_null() {
                after.set("role", crate::value::Value::Text(DEFAULT_ROLE.to_string()));
            }
            if explicit.contains("time_zone") {
                time_zone(after, errors);
            }
        }
        _ => {}
    }
}

/// A user's `time_zone` is an IANA name (`Europe/Berlin`, `Pacific/Auckland`, `UTC`);
/// empty means none (UTC).
fn time_zone(after: &mut Record, errors: &mut FieldErrors) {
    let Some(raw) = after.text("time_zone").map(str::trim) else { return };
    if raw.is_empty() {
        after.set("time_zone", crate::value::Value::Null);
        return;
    }
    match raw.parse::<chrono_tz::Tz>() {
        Ok(tz) => after.set("time_zone", crate::value::Value::Text(tz.name().to_string())),
        Err(_) => errors.push(
            "time_zone",
            "invalid_time_zone",
            "Time zone must be an IANA time-zone name such as Europe/Berlin, America/New_York or UTC",
        ),
    }
}

/// The role of a user created without one.
pub const DEFAULT_ROLE: &str = "rep";

/// Required fields that a rule fills in when the caller leaves them out (on create).
pub fn has_default(entity: &EntityDef, field: &str) -> bool {
    matches!((entity.name.as_str(), field), ("deals", "stage") | ("users", "role"))
}
