//! Field diffs for the change log: `{ field: { "from": …, "to": … } }`.

use keel_domain::{EntityDef, Record};
use serde_json::{Map, Value as Json, json};

/// Fields whose value differs between `before` and `after` (hidden fields never appear;
/// a changed password shows as `"changed"` without the hash).
pub fn diff(entity: &EntityDef, before: Option<&Record>, after: Option<&Record>) -> Json {
    let empty = Record::new();
    let b = before.unwrap_or(&empty);
    let a = after.unwrap_or(&empty);
    let mut out = Map::new();
    for f in &entity.fields {
        let (old, new) = (b.get(&f.name), a.get(&f.name));
        if old == new {
            continue;
        }
        if f.hidden {
            out.insert(f.name.clone(), json!({ "changed": true }));
        } else {
            out.insert(f.name.clone(), json!({ "from": old.to_json(), "to": new.to_json() }));
        }
    }
    Json::Object(out)
}

/// The fields that changed, with their new values, for an UPDATE statement.
pub fn changed_fields(entity: &EntityDef, before: &Record, after: &Record) -> Vec<(String, keel_domain::Value)> {
    entity
        .fields
        .iter()
        .filter(|f| before.get(&f.name) != after.get(&f.name))
        .map(|f| (f.name.clone(), after.get(&f.name).clone()))
        .collect()
}
