use std::collections::BTreeSet;

use crate::error::FieldErrors;
use crate::schema::EntityDef;
use crate::validate::WriteContext;
use crate::value::{Record, Value};

pub const DEFAULT_CURRENCY: &str = "USD";
const DEFAULT_STAGE: &str = "Prospecting";

/// The probability a stage implies, from the stage options (which are data).
pub fn stage_probability(entity: &EntityDef, stage: &str) -> Option<i64> {
    entity.field("stage")?.option(stage)?.probability
}

fn is_closed(entity: &EntityDef, stage: Option<&str>) -> bool {
    stage.and_then(|s| entity.field("stage")?.option(s)).is_some_and(|o| o.closed.is_some())
}

pub fn apply(
    entity: &EntityDef,
    before: Option<&Record>,
    after: &mut Record,
    explicit: &BTreeSet<String>,
    ctx: &WriteContext,
    errors: &mut FieldErrors,
) {
    if after.get("stage").is_null() && before.is_none() {
        after.set("stage", Value::Text(DEFAULT_STAGE.to_string()));
    }
    if after.get("currency").is_null() {
        after.set("currency", Value::Text(DEFAULT_CURRENCY.to_string()));
    }
    if after.get("amount").is_null() && before.is_none() {
        after.set("amount", Value::Int(0));
    }

    let old_stage = before.and_then(|b| b.text("stage")).map(str::to_string);
    let new_stage = after.text("stage").map(str::to_string);
    let stage_changed = before.is_none() || old_stage != new_stage;

    // Probability follows the stage unless the caller sets it in the same write.
    if stage_changed
        && !explicit.contains("probability")
        && let Some(p) = new_stage.as_deref().and_then(|s| stage_probability(entity, s))
    {
        after.set("probability", Value::Int(p));
    }

    // A close date in the past is a typo, unless it was already there and untouched, or
    // the record comes from an import of existing data (old deals have past dates).
    if explicit.contains("expected_close_date") && !ctx.import {
        let old = before.and_then(|b| b.get("expected_close_date").as_date());
        if let Some(d) = after.get("expected_close_date").as_date()
            && Some(d) != old
            && d < ctx.today
        {
            errors.push("expected_close_date", "date_in_past", "Expected close date cannot be in the past");
        }
    }

    let was_closed = is_closed(entity, old_stage.as_deref()) && before.is_some();
    let now_closed = is_closed(entity, new_stage.as_deref());
    if now_closed && (!was_closed || stage_changed) && !explicit.contains("actual_close_date") {
        after.set("actual_close_date", Value::Date(ctx.today));
    }
    if !now_closed && was_closed && !explicit.contains("actual_close_date") {
        after.set("actual_close_date", Value::Null);
    }
}
