//! Save-time checks of a workflow definition against the schema metadata: the trigger
//! names a real entity and field (and a real option for select fields), conditions name
//! fields the context has, every template renders over the context's shape, and each
//! action's fields make sense. Errors name the place, e.g. `actions[0].subject`.

use keel_domain::schema::Access;
use keel_domain::{EntityDef, FieldErrors, FieldType, Schema};
use serde_json::Value as Json;

use crate::context::{lookup, shape};
use crate::definition::{Action, Definition, Trigger};
use crate::template::{self, Flavor};

/// Entities an activity can be attached to, by the activity's reference field.
pub fn activity_link(entity: &str) -> Option<&'static str> {
    match entity {
        "companies" => Some("company_id"),
        "contacts" => Some("contact_id"),
        "deals" => Some("deal_id"),
        _ => None,
    }
}

/// What templates may use and which record actions act on, by trigger.
struct Checked {
    /// The record a record or manual trigger runs on (None for schedules).
    entity: Option<EntityDef>,
    shape: Json,
}

fn check_trigger(schema: &Schema, trigger: &Trigger, errors: &mut FieldErrors) -> Option<Checked> {
    if let Trigger::Schedule { cron, time_zone, query } = trigger {
        if let Err(e) = crate::schedule::Schedule::parse(cron, time_zone) {
            errors.0.extend(e.0);
        }
        if let Some(q) = query {
            crate::schedule::check_query(schema, q, errors)?;
        }
        return Some(Checked { entity: None, shape: crate::schedule::shape(schema, query.as_ref()) });
    }
    let entity = check_record_trigger(schema, trigger, errors)?;
    let shape = shape(schema, &entity);
    Some(Checked { entity: Some(entity), shape })
}

fn check_record_trigger(schema: &Schema, trigger: &Trigger, errors: &mut FieldErrors) -> Option<EntityDef> {
    match trigger {
        Trigger::Schedule { .. } => None,
        Trigger::Record { entity, field, from, to, .. } => {
            let Some(def) = schema.entity(entity) else {
                errors.push("trigger.entity", "unknown_entity", format!("there is no entity `{entity}`"));
                return None;
            };
            match field.as_deref() {
                None if from.is_some() || to.is_some() => {
                    errors.push("trigger.field", "required", "`from` and `to` need the `field` they are about")
                }
                None => {}
                Some(f) => match def.field(f).filter(|f| !f.hidden) {
                    None => errors.push("trigger.field", "unknown_field", format!("{entity} have no field `{f}`")),
                    Some(fd) if fd.ty == FieldType::Select => {
                        for (name, v) in [("from", from), ("to", to)] {
                            if let Some(v) = v
                                && v.as_str().is_none_or(|s| fd.option(s).is_none())
                            {
                                let options: Vec<&str> = fd.options.iter().map(|o| o.value.as_str()).collect();
                                errors.push(
                                    format!("trigger.{name}"),
                                    "invalid_option",
                                    format!("`{v}` is not a {f}; choose one of {}", options.join(", ")),
                                );
                            }
                        }
                    }
                    Some(_) => {}
                },
            }
            Some(def.clone())
        }
        Trigger::Manual { entity } => match schema.entity(entity) {
            Some(def) => Some(def.clone()),
            None => {
                errors.push("trigger.entity", "unknown_entity", format!("there is no entity `{entity}`"));
                None
            }
        },
    }
}

fn check_url(field: String, url: &str, errors: &mut FieldErrors) {
    let ok = url.starts_with("https://") || url.starts_with("http://");
    if !ok || url.len() > 2048 {
        errors.push(field, "invalid_url", "an http:// or https:// URL of at most 2048 characters");
    }
}

fn check_action(schema: &Schema, entity: Option<&EntityDef>, i: usize, action: &Action, errors: &mut FieldErrors) {
    let at = |f: &str| format!("actions[{i}].{f}");
    let Some(entity) = entity else {
        if matches!(
            action,
            Action::CreateActivity { .. }
                | Action::UpdateRecord { .. }
                | Action::AssignOwner { .. }
                | Action::RunScript { .. }
        ) {
            errors.push(at("type"), "unsupported", "scheduled workflows send messages; they do not write records yet");
        }
        return;
    };
    match action {
        Action::SendEmail { to, subject, text, html, .. } => {
            if to.templates().iter().all(|t| t.trim().is_empty()) {
                errors.push(at("to"), "required", "an email needs at least one recipient");
            }
            if subject.trim().is_empty() {
                errors.push(at("subject"), "required", "an email needs a subject");
            }
            if text.is_none() && html.is_none() {
                errors.push(at("text"), "required", "an email needs a `text` or an `html` body");
            }
        }
        Action::PostSlack { webhook_url, text, .. } | Action::PostTeams { webhook_url, text, .. } => {
            check_url(at("webhook_url"), webhook_url, errors);
            if text.trim().is_empty() {
                errors.push(at("text"), "required", "a message needs text");
            }
        }
        Action::CallWebhook { url, .. } => check_url(at("url"), url, errors),
        Action::CreateActivity { activity_type, subject, .. } => {
            if activity_link(&entity.name).is_none() {
                errors.push(
                    at("type"),
                    "unsupported",
                    format!("activities attach to companies, contacts and deals, not {}", entity.name),
                );
            }
            let types = schema.entity("activities").and_then(|a| a.field("type"));
            if types.is_none_or(|t| t.option(activity_type).is_none()) {
                errors.push(
                    at("activity_type"),
                    "invalid_option",
                    format!("`{activity_type}` is not an activity type"),
                );
            }
            if subject.trim().is_empty() {
                errors.push(at("subject"), "required", "an activity needs a subject");
            }
        }
        Action::AssignOwner { rules, default_user_id } => {
            if !entity.owned {
                errors.push(at("type"), "unsupported", format!("{} have no owner", entity.name));
            }
            let is_id = |s: &str| uuid::Uuid::parse_str(s).is_ok();
            if !is_id(default_user_id) {
                errors.push(at("default_user_id"), "invalid_id", "the owner when no rule matches: a user's id");
            }
            for (r, rule) in rules.iter().enumerate() {
                match (&rule.user_id, &rule.team_id) {
                    (Some(u), None) if is_id(u) => {}
                    (None, Some(t)) if is_id(t) => {}
                    _ => errors.push(
                        at(&format!("rules[{r}]")),
                        "invalid",
                        "a rule names either a `user_id` or a `team_id` (round robin among its active members)",
                    ),
                }
            }
        }
        Action::RunScript { code, timeout_ms, memory_mb } => {
            use crate::actions::script;
            if code.trim().is_empty() || code.chars().count() > script::MAX_CODE_CHARS {
                errors.push(
                    at("code"),
                    "invalid_length",
                    format!("a script is 1 to {} characters", script::MAX_CODE_CHARS),
                );
            } else if let Err(e) = script::check_syntax(code) {
                errors.push(at("code"), "invalid_script", format!("the script does not compile: {e}"));
            }
            if timeout_ms.is_some_and(|t| t == 0 || t > script::MAX_TIMEOUT_MS) {
                errors.push(at("timeout_ms"), "out_of_range", format!("1 to {} ms", script::MAX_TIMEOUT_MS));
            }
            if memory_mb.is_some_and(|m| m == 0 || m > script::MAX_MEMORY_MB) {
                errors.push(at("memory_mb"), "out_of_range", format!("1 to {} MB", script::MAX_MEMORY_MB));
            }
        }
        Action::UpdateRecord { target, fields } => {
            let target_entity = match target.as_deref() {
                None | Some("record") => Some(entity.clone()),
                Some(t) => match entity.field(t).filter(|f| f.ty == FieldType::Reference) {
                    Some(f) => f.reference.as_deref().and_then(|r| schema.entity(r)).cloned(),
                    None => {
                        errors.push(
                            at("target"),
                            "unknown_field",
                            format!("`{t}` is not a reference field of {}: use `record` or one of them", entity.name),
                        );
                        None
                    }
                },
            };
            if fields.is_empty() {
                errors.push(at("fields"), "required", "name at least one field to set");
            }
            if let Some(te) = target_entity {
                for name in fields.keys() {
                    let writable = te.field(name).is_some_and(|f| f.access == Access::Writable && !f.hidden);
                    if !writable {
                        errors.push(
                            at(&format!("fields.{name}")),
                            "unknown_field",
                            format!("{} have no field `{name}` that can be set", te.name),
                        );
                    }
                }
            }
        }
    }
}

/// Check a definition; returns the trigger entity (None for schedules) when it is valid.
pub fn validate(schema: &Schema, def: &Definition) -> Result<Option<String>, FieldErrors> {
    let mut errors = FieldErrors::new();
    let checked = check_trigger(schema, &def.trigger, &mut errors);
    if def.actions.is_empty() {
        errors.push("actions", "required", "a workflow needs at least one action");
    }
    if def.actions.len() > 20 {
        errors.push("actions", "too_many", "a workflow has at most 20 actions");
    }
    if let Some(Checked { entity, shape }) = &checked {
        let entity = entity.as_ref();
        let shape = shape.clone();
        let mut cmps = Vec::new();
        if let Some(conditions) = &def.conditions {
            conditions.comparisons("conditions", &mut cmps);
        }
        for (i, spec) in def.actions.iter().enumerate() {
            if let Some(c) = &spec.only_if {
                c.comparisons(&format!("actions[{i}].only_if"), &mut cmps);
            }
            if let Action::AssignOwner { rules, .. } = &spec.action {
                for (r, rule) in rules.iter().enumerate() {
                    rule.when.comparisons(&format!("actions[{i}].rules[{r}].when"), &mut cmps);
                }
            }
        }
        {
            for (path, field, op, value) in cmps {
                if lookup(&shape, &field).is_none_or(Json::is_object) {
                    errors.push(format!("{path}.field"), "unknown_field", format!("`{field}` is not a field here"));
                }
                if op.takes_value() && value.is_none() {
                    errors.push(format!("{path}.value"), "required", "this comparison needs a `value`");
                }
            }
        }
        let env = template::environment();
        // Actions after an assignment also see the new owner as `assigned`.
        let mut shape = shape;
        for (i, spec) in def.actions.iter().enumerate() {
            let action = &spec.action;
            check_action(schema, entity, i, action, &mut errors);
            for (field, source) in action.templates() {
                let flavor = if field == "html" { Flavor::Html } else { Flavor::Text };
                if let Err(e) = template::check(&env, flavor, source, &shape) {
                    errors.push(format!("actions[{i}].{field}"), "invalid_template", e);
                }
            }
            if matches!(action, Action::AssignOwner { .. })
                && let (Some(users), Some(obj)) = (schema.entity("users"), shape.as_object_mut())
            {
                obj.insert("assigned".into(), Json::Object(crate::context::shape_record(schema, users, 0, true)));
            }
        }
    }
    errors.into_result().map(|()| checked.and_then(|c| c.entity).map(|e| e.name))
}
