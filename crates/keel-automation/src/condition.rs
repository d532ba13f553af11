//! Conditions as a structured JSON tree, not code: `{"all": […]}`, `{"any": […]}`,
//! `{"not": …}` and comparisons `{"field": "deal.amount", "op": "gte", "value": 5000000}`
//! over the run's context (the record, `previous`, related records, `user`).

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::context::lookup;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Condition {
    All {
        all: Vec<Condition>,
    },
    Any {
        any: Vec<Condition>,
    },
    Not {
        not: Box<Condition>,
    },
    Compare {
        field: String,
        op: Op,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        value: Option<Json>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Gte,
    Lt,
    Lte,
    /// The value is one of a list.
    In,
    NotIn,
    /// Text contains, case-insensitively.
    Contains,
    IsEmpty,
    IsNotEmpty,
    /// The field's value differs from `previous` (the event changed it).
    Changed,
}

impl Op {
    /// Whether the comparison needs a `value`.
    pub fn takes_value(self) -> bool {
        !matches!(self, Op::IsEmpty | Op::IsNotEmpty | Op::Changed)
    }
}

impl Condition {
    /// Every comparison in the tree with its path in the definition (for errors).
    pub fn comparisons(&self, path: &str, out: &mut Vec<(String, String, Op, Option<Json>)>) {
        match self {
            Condition::All { all: items } => {
                for (i, c) in items.iter().enumerate() {
                    c.comparisons(&format!("{path}.all[{i}]"), out);
                }
            }
            Condition::Any { any: items } => {
                for (i, c) in items.iter().enumerate() {
                    c.comparisons(&format!("{path}.any[{i}]"), out);
                }
            }
            Condition::Not { not } => not.comparisons(&format!("{path}.not"), out),
            Condition::Compare { field, op, value } => out.push((path.to_string(), field.clone(), *op, value.clone())),
        }
    }

    /// Evaluate over a run's context. An empty `all` holds; an empty `any` does not.
    pub fn eval(&self, ctx: &Json) -> bool {
        match self {
            Condition::All { all } => all.iter().all(|c| c.eval(ctx)),
            Condition::Any { any } => any.iter().any(|c| c.eval(ctx)),
            Condition::Not { not } => !not.eval(ctx),
            Condition::Compare { field, op, value } => {
                let left = lookup(ctx, field).unwrap_or(&Json::Null);
                compare(ctx, field, left, *op, value.as_ref().unwrap_or(&Json::Null))
            }
        }
    }
}

fn empty(v: &Json) -> bool {
    match v {
        Json::Null => true,
        Json::String(s) => s.is_empty(),
        Json::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// Order two scalars of the same kind: numbers by value, text (also ISO dates and
/// timestamps, whose text order is time order) by text.
fn order(a: &Json, b: &Json) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => x.as_f64().zip(y.as_f64()).and_then(|(x, y)| x.partial_cmp(&y)),
        (Json::String(x), Json::String(y)) => Some(x.cmp(y)),
        (Json::Bool(x), Json::Bool(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

fn compare(ctx: &Json, field: &str, left: &Json, op: Op, right: &Json) -> bool {
    use std::cmp::Ordering::{Equal, Greater, Less};
    match op {
        Op::Eq => left == right,
        Op::Ne => left != right,
        Op::Gt => order(left, right) == Some(Greater),
        Op::Gte => matches!(order(left, right), Some(Greater | Equal)),
        Op::Lt => order(left, right) == Some(Less),
        Op::Lte => matches!(order(left, right), Some(Less | Equal)),
        Op::In => right.as_array().is_some_and(|a| a.contains(left)),
        Op::NotIn => right.as_array().is_some_and(|a| !a.contains(left)),
        Op::Contains => match (left, right) {
            (Json::String(l), Json::String(r)) => l.to_lowercase().contains(&r.to_lowercase()),
            (Json::Array(l), r) => l.contains(r),
            _ => false,
        },
        Op::IsEmpty => empty(left),
        Op::IsNotEmpty => !empty(left),
        Op::Changed => {
            // `deal.stage` changed when `previous.stage` differs from it.
            let Some((_, rest)) = field.split_once('.') else { return false };
            let previous = lookup(ctx, &format!("previous.{rest}")).unwrap_or(&Json::Null);
            previous != left
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cond(v: Json) -> Condition {
        serde_json::from_value(v).expect("condition")
    }

    #[test]
    fn all_any_not_and_comparisons() {
        let ctx = json!({
            "deal": { "amount": 5_000_000, "stage": "Closed Won", "company": { "state": "CA" } },
            "previous": { "amount": 5_000_000, "stage": "Negotiation" }
        });
        assert!(cond(json!({"field": "deal.amount", "op": "gte", "value": 5_000_000})).eval(&ctx));
        assert!(!cond(json!({"field": "deal.amount", "op": "gt", "value": 5_000_000})).eval(&ctx));
        let c = cond(json!({"all": [
            {"field": "deal.company.state", "op": "in", "value": ["CA", "NY"]},
            {"any": [{"field": "deal.stage", "op": "eq", "value": "Closed Lost"}, {"not": {"field": "deal.stage", "op": "is_empty"}}]}
        ]}));
        assert!(c.eval(&ctx));
        assert!(cond(json!({"field": "deal.stage", "op": "changed"})).eval(&ctx));
        assert!(!cond(json!({"field": "deal.amount", "op": "changed"})).eval(&ctx));
        assert!(cond(json!({"field": "deal.nothing", "op": "is_empty"})).eval(&ctx));
    }
}
