//! What templates and conditions see. At run time the context is built from the trigger
//! record and the records it references (loaded through keel-service as the workflow's
//! actor); at save time from the schema alone (`shape`), with a sample value of the right
//! type in every field, so a template naming a field that does not exist is refused.
//!
//! ```text
//! deal (also `record`)   every field, `previous_<field>`, `url`, and each reference as an
//!                        object: company_id → company, owner_id → owner, created_by →
//!                        created_by_user (two levels: deal.company.owner.email)
//! previous               the record's values before this event
//! user                   who made the change (users get `first_name` too)
//! event                  op, seq, at, changed (field names)
//! workflow               id, name
//! ```

use keel_domain::{EntityDef, FieldType, Schema};
use keel_service::{Ctx, Service, ServiceError};
use serde_json::{Map, Value as Json, json};
use uuid::Uuid;

/// How many reference hops the context follows from the trigger record.
pub const RELATION_DEPTH: usize = 2;

/// What happened, as far as the context is concerned.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// create, update, delete, restore, purge, or manual
    pub op: String,
    /// `{field: {from, to}}` (empty for a manual run)
    pub diff: Map<String, Json>,
    pub actor_id: Option<Uuid>,
    pub seq: Option<i64>,
    pub at: String,
}

/// The value at a dotted path (`deal.company.state`).
pub fn lookup<'a>(ctx: &'a Json, path: &str) -> Option<&'a Json> {
    path.split('.').try_fold(ctx, |v, key| v.get(key))
}

/// The name a reference field's record goes by: `company_id` → `company`,
/// `created_by` → `created_by_user`.
pub fn relation_name(field: &str, target: &str) -> String {
    match field.strip_suffix("_id") {
        Some(base) => base.to_string(),
        None if target == "users" => format!("{field}_user"),
        None => format!("{field}_record"),
    }
}

fn sample(ty: FieldType) -> Json {
    match ty {
        FieldType::Id | FieldType::Reference => json!("00000000-0000-7000-8000-000000000000"),
        FieldType::Integer | FieldType::Money | FieldType::Percent => json!(0),
        FieldType::Boolean => json!(false),
        FieldType::Date => json!("2026-01-31"),
        FieldType::Timestamp => json!("2026-01-31T09:00:00Z"),
        FieldType::Currency => json!("USD"),
        _ => json!("text"),
    }
}

fn extras(entity: &EntityDef, obj: &mut Map<String, Json>, first_name: Option<Json>) {
    obj.insert("url".into(), json!("https://keel.example/"));
    if entity.name == "users" {
        obj.insert("first_name".into(), first_name.unwrap_or_else(|| json!("text")));
    }
}

/// A record of `entity` as the context holds it, with sample values (`sample_values`) or
/// nulls, and its references `depth` levels deep.
pub fn shape_record(schema: &Schema, entity: &EntityDef, depth: usize, sample_values: bool) -> Map<String, Json> {
    let mut obj = Map::new();
    for f in entity.visible_fields() {
        obj.insert(f.name.clone(), if sample_values { sample(f.ty) } else { Json::Null });
    }
    extras(entity, &mut obj, (!sample_values).then_some(Json::Null));
    if !sample_values {
        obj.insert("url".into(), Json::Null);
    }
    if depth > 0 {
        for f in entity.visible_fields().filter(|f| f.ty == FieldType::Reference) {
            if let Some(target) = f.reference.as_deref().and_then(|t| schema.entity(t)) {
                let rel = shape_record(schema, target, depth - 1, sample_values);
                obj.insert(relation_name(&f.name, &target.name), Json::Object(rel));
            }
        }
    }
    obj
}

/// The context's shape for a workflow on `entity`, with sample values: what templates
/// and conditions are checked against when a workflow is saved.
pub fn shape(schema: &Schema, entity: &EntityDef) -> Json {
    let mut record = shape_record(schema, entity, RELATION_DEPTH, true);
    let mut previous = Map::new();
    for f in entity.visible_fields() {
        previous.insert(f.name.clone(), sample(f.ty));
        record.insert(format!("previous_{}", f.name), sample(f.ty));
    }
    let users = schema.entity("users");
    let user = users.map(|u| Json::Object(shape_record(schema, u, 0, true))).unwrap_or_else(|| json!({}));
    json!({
        entity.singular.clone(): Json::Object(record.clone()),
        "record": Json::Object(record),
        "previous": Json::Object(previous),
        "user": user,
        "event": { "op": "update", "seq": 1, "at": "2026-01-31T09:00:00Z", "changed": ["text"] },
        "workflow": { "id": "00000000-0000-7000-8000-000000000000", "name": "text" },
        "now": "2026-01-31T09:00:00Z",
    })
}

/// Turns a service error while loading context into the run's error.
pub type LoadResult<T> = Result<T, ServiceError>;

/// Builds run-time contexts: loads records through the service as the workflow's actor.
pub struct Builder<'a> {
    pub service: &'a Service,
    pub ctx: &'a Ctx,
    /// The web app's address, for `url` (no trailing slash).
    pub public_url: &'a str,
}

impl Builder<'_> {
    fn schema(&self) -> std::sync::Arc<Schema> {
        self.service.schema()
    }

    fn url(&self, entity: &str, id: Option<&Json>) -> Json {
        match id.and_then(Json::as_str) {
            Some(id) => json!(format!("{}/{entity}/{id}", self.public_url)),
            None => Json::Null,
        }
    }

    /// A record with its references `depth` levels deep; a reference that is empty or
    /// gone becomes an object of nulls, so templates render it as blanks.
    pub async fn record(
        &self,
        entity: &EntityDef,
        mut obj: Map<String, Json>,
        depth: usize,
    ) -> LoadResult<Map<String, Json>> {
        let url = self.url(&entity.name, obj.get("id"));
        obj.insert("url".into(), url);
        if entity.name == "users" {
            let first =
                obj.get("name").and_then(Json::as_str).and_then(|n| n.split_whitespace().next()).map(str::to_string);
            obj.insert("first_name".into(), first.map_or(Json::Null, Json::String));
        }
        obj.remove("_redacted");
        if depth == 0 {
            return Ok(obj);
        }
        let schema = self.schema();
        for f in entity.visible_fields().filter(|f| f.ty == FieldType::Reference) {
            let Some(target) = f.reference.as_deref().and_then(|t| schema.entity(t)) else { continue };
            let id = obj.get(&f.name).and_then(Json::as_str).and_then(|s| Uuid::parse_str(s).ok());
            let loaded = match id {
                Some(id) => match self.service.get(self.ctx, &target.name, id).await {
                    Ok(found) => Some(found),
                    Err(ServiceError::NotFound) => None,
                    Err(e) => return Err(e),
                },
                None => None,
            };
            let rel = match loaded {
                Some(found) => Box::pin(self.record(target, found, depth - 1)).await?,
                None => shape_record(&schema, target, depth - 1, false),
            };
            obj.insert(relation_name(&f.name, &target.name), Json::Object(rel));
        }
        Ok(obj)
    }

    /// The context for a run on `entity`/`record_id` for `event`. The event's own values
    /// win over the record's current ones for the fields it changed: a run that starts
    /// after a later change still reports the change it is about.
    pub async fn build(
        &self,
        entity: &EntityDef,
        record_id: Uuid,
        event: &Event,
        workflow: (Uuid, &str),
        now: &str,
    ) -> LoadResult<Json> {
        let mut current = match self.service.get(self.ctx, &entity.name, record_id).await {
            Ok(found) => found,
            // Purged: what the event says is all there is.
            Err(ServiceError::NotFound) => {
                let mut m: Map<String, Json> = entity.visible_fields().map(|f| (f.name.clone(), Json::Null)).collect();
                m.insert("id".into(), json!(record_id.to_string()));
                m
            }
            Err(e) => return Err(e),
        };
        let mut previous = current.clone();
        for (field, change) in &event.diff {
            if entity.field(field).is_some_and(|f| !f.hidden) {
                current.insert(field.clone(), change.get("to").cloned().unwrap_or(Json::Null));
                previous.insert(field.clone(), change.get("from").cloned().unwrap_or(Json::Null));
            }
        }
        if event.op == "create" {
            previous = entity.visible_fields().map(|f| (f.name.clone(), Json::Null)).collect();
        }
        previous.remove("_redacted");
        let mut record = self.record(entity, current, RELATION_DEPTH).await?;
        for (k, v) in &previous {
            record.insert(format!("previous_{k}"), v.clone());
        }
        let user = match event.actor_id {
            Some(id) => match self.service.get(self.ctx, "users", id).await {
                Ok(u) => match self.schema().entity("users").cloned() {
                    Some(users) => Json::Object(self.record(&users, u, 0).await?),
                    None => Json::Object(u),
                },
                Err(ServiceError::NotFound) => system_user(),
                Err(e) => return Err(e),
            },
            None => system_user(),
        };
        let changed: Vec<&String> = event.diff.keys().collect();
        Ok(json!({
            entity.singular.clone(): Json::Object(record.clone()),
            "record": Json::Object(record),
            "previous": Json::Object(previous),
            "user": user,
            "event": { "op": event.op, "seq": event.seq, "at": event.at, "changed": changed },
            "workflow": { "id": workflow.0.to_string(), "name": workflow.1 },
            "now": now,
        }))
    }
}

/// Who `user` is for changes nobody signed in made (the CLI, the system).
fn system_user() -> Json {
    json!({ "id": null, "name": "Keel", "first_name": "Keel", "email": null, "url": null })
}
