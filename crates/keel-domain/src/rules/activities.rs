use crate::validate::WriteContext;
use crate::value::{Record, Value};

/// `completed_at` records when `completed` flipped to true, and is cleared when reopened.
pub fn apply(before: Option<&Record>, after: &mut Record, ctx: &WriteContext) {
    let was = before.and_then(|b| b.get("completed").as_bool()).unwrap_or(false);
    let is = after.get("completed").as_bool().unwrap_or(false);
    if after.get("completed").is_null() {
        after.set("completed", Value::Bool(false));
    }
    match (was, is) {
        (false, true) => after.set("completed_at", Value::Timestamp(ctx.now)),
        (true, false) => after.set("completed_at", Value::Null),
        _ => {}
    }
}
