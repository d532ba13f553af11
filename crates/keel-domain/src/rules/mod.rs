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
        // `has_default` promises a role on create: the least privileged one.
        "users" if before.is_none() && after.get("role").is_null() => {
            after.set("role", crate::value::Value::Text(DEFAULT_ROLE.to_string()));
        }
        _ => {}
    }
}

/// The role of a user created without one.
pub const DEFAULT_ROLE: &str = "rep";

/// Required fields that a rule fills in when the caller leaves them out (on create).
pub fn has_default(entity: &EntityDef, field: &str) -> bool {
    matches!((entity.name.as_str(), field), ("deals", "stage") | ("users", "role"))
}
