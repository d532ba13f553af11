//! `create_activity` and `update_record`: writes through keel-service, the one write
//! path, as the workflow's actor. A created activity carries the job's idempotency key,
//! so a retry after a crash replays the first create instead of adding a second note.

use keel_domain::FieldType;
use keel_service::Ctx;
use keel_service::records::{Created, IdempotencyKey};
use serde_json::{Map, Value as Json, json};
use uuid::Uuid;

use super::{ActionError, Runtime, Target};
use crate::definition::Action;
use crate::validate::activity_link;

/// A rendered string as a value of the field's type ("" clears the field).
fn typed(ty: FieldType, rendered: String) -> Json {
    let t = rendered.trim();
    if t.is_empty() {
        return Json::Null;
    }
    match ty {
        FieldType::Integer | FieldType::Money | FieldType::Percent => {
            t.parse::<i64>().map_or(Json::String(rendered.clone()), Json::from)
        }
        FieldType::Boolean => match t {
            "true" => Json::Bool(true),
            "false" => Json::Bool(false),
            _ => Json::String(rendered.clone()),
        },
        _ => Json::String(rendered),
    }
}

pub(super) async fn render(rt: &Runtime, action: &Action, target: &Target<'_>) -> Result<Json, ActionError> {
    let ctx = target.context;
    match action {
        Action::CreateActivity { activity_type, subject, description } => {
            let link = activity_link(&target.entity.name)
                .ok_or_else(|| ActionError::Permanent(format!("activities cannot attach to {}", target.entity.name)))?;
            let mut fields = Map::new();
            fields.insert("type".into(), json!(activity_type));
            fields.insert("subject".into(), json!(rt.text(subject, ctx)?));
            if let Some(d) = description {
                fields.insert("description".into(), json!(rt.text(d, ctx)?));
            }
            fields.insert(link.into(), json!(target.record_id.to_string()));
            // A deal's note also shows on its company's timeline.
            if link == "deal_id"
                && let Some(company) = ctx["record"]["company_id"].as_str()
            {
                fields.insert("company_id".into(), json!(company));
            }
            // The note belongs to whoever owns the record it is about.
            if let Some(owner) = ctx["record"]["owner_id"].as_str() {
                fields.insert("owner_id".into(), json!(owner));
            }
            Ok(json!({ "entity": "activities", "op": "create", "fields": fields }))
        }
        Action::UpdateRecord { target: which, fields } => {
            let (entity, id) = match which.as_deref() {
                None | Some("record") => (target.entity.clone(), Some(target.record_id.to_string())),
                Some(field) => {
                    let def = target.entity.field(field);
                    let entity = def
                        .and_then(|f| f.reference.as_deref())
                        .and_then(|r| rt.service.schema().entity(r).cloned())
                        .ok_or_else(|| ActionError::Permanent(format!("`{field}` is not a reference field")))?;
                    (entity, ctx["record"][field].as_str().map(str::to_string))
                }
            };
            let Some(id) = id else {
                return Err(ActionError::Permanent("the record to update is empty (its reference is not set)".into()));
            };
            let mut out = Map::new();
            for (name, value) in fields {
                let ty = entity.field(name).map_or(FieldType::Text, |f| f.ty);
                let v = match value {
                    Json::String(s) => typed(ty, rt.text(s, ctx)?),
                    other => rt.json(other, ctx)?,
                };
                out.insert(name.clone(), v);
            }
            Ok(json!({ "entity": entity.name, "op": "update", "id": id, "fields": out }))
        }
        Action::AssignOwner { rules, default_user_id } => {
            let mut owner = None;
            let mut via = json!("default");
            for (i, rule) in rules.iter().enumerate() {
                if !rule.when.eval(ctx) {
                    continue;
                }
                owner = match (&rule.user_id, &rule.team_id) {
                    (Some(user), _) => Some(user.clone()),
                    (None, Some(team)) => Some(next_member(rt, target, team).await?),
                    (None, None) => None,
                };
                via = json!({ "rule": i });
                break;
            }
            let owner = owner.unwrap_or_else(|| default_user_id.clone());
            let mut fields = Map::new();
            fields.insert("owner_id".into(), json!(owner));
            Ok(json!({
                "entity": target.entity.name, "op": "update", "id": target.record_id.to_string(),
                "fields": fields, "assign": true, "via": via
            }))
        }
        _ => Err(ActionError::Permanent("not a record action".into())),
    }
}

/// The next active member of `team`, in turn (by id), counted per team.
async fn next_member(rt: &Runtime, target: &Target<'_>, team: &str) -> Result<String, ActionError> {
    let schema = rt.service.schema();
    let users = schema.entity("users").ok_or_else(|| ActionError::Permanent("no users".into()))?;
    let pairs: Vec<(String, String)> = [("team_id", team), ("is_active", "true"), ("sort", "id"), ("limit", "200")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let query = keel_domain::query::parse_list_query(users, &pairs)
        .map_err(|e| ActionError::Permanent(format!("team `{team}`: {e}")))?;
    let ctx = target.ctx.ok_or_else(|| ActionError::Permanent("no actor to read the team with".into()))?;
    let members: Vec<String> = rt
        .service
        .list(ctx, "users", &query)
        .await?
        .data
        .iter()
        .filter_map(|u| u.get("id").and_then(Json::as_str).map(str::to_string))
        .collect();
    if members.is_empty() {
        return Err(ActionError::Permanent(format!("team {team} has no active members to assign to")));
    }
    let name = format!("round_robin:{team}");
    let turn = if target.dry_run { rt.service.peek_turn(&name).await? } else { rt.service.next_turn(&name).await? };
    let i = usize::try_from(turn).unwrap_or(0) % members.len();
    Ok(members[i].clone())
}

pub(super) async fn execute(rt: &Runtime, input: &Json, key: &str, ctx: &Ctx) -> Result<Json, ActionError> {
    let entity = input["entity"].as_str().unwrap_or_default();
    let fields = input["fields"].as_object().cloned().unwrap_or_default();
    match input["op"].as_str() {
        Some("create") => match rt.service.create(ctx, entity, fields, Some(IdempotencyKey(key.to_string()))).await? {
            Created::New(record) => Ok(json!({ "id": record.get("id"), "replayed": false })),
            Created::Replayed { body, .. } => {
                let record: Json = serde_json::from_str(&body).unwrap_or(Json::Null);
                Ok(json!({ "id": record["id"], "replayed": true }))
            }
        },
        Some("update") => {
            let id = input["id"]
                .as_str()
                .and_then(|s| Uuid::parse_str(s).ok())
                .ok_or_else(|| ActionError::Permanent("no record id to update".into()))?;
            let saved = rt.service.update(ctx, entity, id, fields, None).await?;
            let mut out = json!({ "id": saved.get("id"), "version": saved.get("version") });
            // An assignment tells later actions who the new owner is (`assigned`).
            if input["assign"] == true
                && let Some(owner) = saved.get("owner_id").and_then(Json::as_str).and_then(|s| Uuid::parse_str(s).ok())
            {
                let user = rt.service.get(ctx, "users", owner).await?;
                let first = user
                    .get("name")
                    .and_then(Json::as_str)
                    .and_then(|n| n.split_whitespace().next())
                    .map(str::to_string);
                let mut user = user;
                user.insert("first_name".into(), first.map_or(Json::Null, Json::String));
                user.remove("_redacted");
                out["assigned"] = Json::Object(user);
            }
            Ok(out)
        }
        _ => Err(ActionError::Permanent("unknown record operation".into())),
    }
}
