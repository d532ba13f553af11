//! What the API calls: workflow CRUD with save-time validation, manual and dry runs,
//! run history, dead jobs and built-in templates. Decoding errors name the place in the
//! body (`trigger`, `actions[1]`, `actions[0].subject`); permissions are the service's.

use std::sync::Arc;

use keel_domain::FieldErrors;
use keel_service::automation::{Job, JobStatus, NewJob, NewRun, StoredWorkflow, WorkflowInput};
use keel_service::{Ctx, Service, ServiceError};
use serde_json::{Map, Value as Json, json};
use uuid::Uuid;

use crate::actions::Runtime;
use crate::builtin;
use crate::config::AutomationConfig;
use crate::definition::{ActionSpec, Definition};
use crate::dispatch::{JOB_KIND, Payload};
use crate::validate::validate;

/// The automation surface: cheap to clone, shared by the API's handlers.
#[derive(Clone)]
pub struct Automation {
    pub(crate) runtime: Arc<Runtime>,
}

fn invalid(field: impl Into<String>, code: &'static str, message: impl Into<String>) -> ServiceError {
    ServiceError::Invalid(FieldErrors::single(field, code, message))
}

/// Decode one action, refusing fields no action of its type has.
fn parse_action(i: usize, v: &Json) -> Result<ActionSpec, FieldErrors> {
    let at = format!("actions[{i}]");
    let spec: ActionSpec = serde_json::from_value(v.clone())
        .map_err(|e| FieldErrors::single(at.clone(), "invalid", format!("not an action: {e}")))?;
    let known = serde_json::to_value(&spec).unwrap_or_default();
    let mut errors = FieldErrors::new();
    if let (Some(given), Some(known)) = (v.as_object(), known.as_object()) {
        for (k, val) in given {
            if !known.contains_key(k) && !val.is_null() {
                errors.push(
                    format!("{at}.{k}"),
                    "unknown_field",
                    format!("a {} action has no field `{k}`", spec.action.kind()),
                );
            }
        }
    }
    errors.into_result().map(|()| spec)
}

/// Decode a definition part by part, so an error names the part.
fn parse_definition(body: &Map<String, Json>) -> Result<Definition, ServiceError> {
    let mut errors = FieldErrors::new();
    let trigger = match body.get("trigger") {
        None => {
            errors.push("trigger", "required", "a workflow needs a trigger");
            None
        }
        Some(t) => serde_json::from_value(t.clone())
            .map_err(|e| errors.push("trigger", "invalid", format!("not a trigger: {e}")))
            .ok(),
    };
    let conditions = match body.get("conditions") {
        None | Some(Json::Null) => None,
        Some(c) => serde_json::from_value(c.clone())
            .map_err(|e| errors.push("conditions", "invalid", format!("not a condition: {e}")))
            .ok(),
    };
    let mut actions = Vec::new();
    match body.get("actions") {
        Some(Json::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                match parse_action(i, item) {
                    Ok(a) => actions.push(a),
                    Err(e) => errors.0.extend(e.0),
                }
            }
        }
        _ => errors.push("actions", "required", "a workflow needs a list of actions"),
    }
    match (trigger, errors.is_empty()) {
        (Some(trigger), true) => Ok(Definition { trigger, conditions, actions }),
        _ => Err(ServiceError::Invalid(errors)),
    }
}

const KNOWN: [&str; 6] = ["name", "description", "enabled", "trigger", "conditions", "actions"];

impl Automation {
    pub fn new(service: Service, config: AutomationConfig) -> Self {
        Self { runtime: Arc::new(Runtime::new(service, Arc::new(config))) }
    }

    fn service(&self) -> &Service {
        &self.runtime.service
    }

    /// A workflow as the API shows it.
    pub fn view(w: &StoredWorkflow) -> Json {
        let mut out = json!({
            "id": w.id,
            "name": w.name,
            "description": w.description,
            "enabled": w.enabled,
            "created_by": w.created_by,
            "updated_by": w.updated_by,
            "created_at": w.created_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
            "updated_at": w.updated_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
            "version": w.version,
        });
        if let (Some(o), Some(d)) = (out.as_object_mut(), w.definition.as_object()) {
            o.extend(d.clone());
        }
        out
    }

    /// Validate a body (`name`, `description`, `enabled`, `trigger`, `conditions`, `actions`).
    fn input(&self, body: &Map<String, Json>) -> Result<WorkflowInput, ServiceError> {
        let mut errors = FieldErrors::new();
        for k in body.keys() {
            if !KNOWN.contains(&k.as_str())
                && !["id", "created_by", "updated_by", "created_at", "updated_at", "version"].contains(&k.as_str())
            {
                errors.push(k.clone(), "unknown_field", format!("a workflow has no field `{k}`"));
            }
        }
        let name = body.get("name").and_then(Json::as_str).map(str::trim).unwrap_or_default().to_string();
        if name.is_empty() || name.chars().count() > 200 {
            errors.push("name", "invalid_length", "a workflow's name is 1 to 200 characters");
        }
        let description = match body.get("description") {
            None | Some(Json::Null) => None,
            Some(Json::String(s)) if s.chars().count() <= 2000 => Some(s.clone()),
            Some(_) => {
                errors.push("description", "invalid", "a description is text of at most 2000 characters");
                None
            }
        };
        let enabled = match body.get("enabled") {
            None => true,
            Some(Json::Bool(b)) => *b,
            Some(_) => {
                errors.push("enabled", "invalid_type", "`enabled` is true or false");
                true
            }
        };
        let definition = match parse_definition(body) {
            Ok(d) => match validate(&self.service().schema(), &d) {
                Ok(entity) => Some((d, entity)),
                Err(e) => {
                    errors.0.extend(e.0);
                    None
                }
            },
            Err(ServiceError::Invalid(e)) => {
                errors.0.extend(e.0);
                None
            }
            Err(e) => return Err(e),
        };
        if let (Some((def, entity)), true) = (definition, errors.is_empty()) {
            let trigger_entity = match def.trigger {
                crate::definition::Trigger::Record { .. } => entity,
                _ => None,
            };
            let definition = serde_json::to_value(&def).map_err(|e| ServiceError::Internal(e.to_string()))?;
            return Ok(WorkflowInput { name, description, definition, trigger_entity, enabled });
        }
        Err(ServiceError::Invalid(errors))
    }

    pub async fn list(&self, ctx: &Ctx) -> Result<Vec<Json>, ServiceError> {
        Ok(self.service().list_workflows(ctx).await?.iter().map(Self::view).collect())
    }

    pub async fn get(&self, ctx: &Ctx, id: Uuid) -> Result<Json, ServiceError> {
        Ok(Self::view(&self.service().get_workflow(ctx, id).await?))
    }

    pub async fn create(&self, ctx: &Ctx, body: Map<String, Json>) -> Result<Json, ServiceError> {
        // Ask the policy before judging the body: a non-admin learns nothing from errors.
        self.service().list_workflows_allowed(ctx)?;
        let input = self.input(&body)?;
        Ok(Self::view(&self.service().create_workflow(ctx, input).await?))
    }

    /// Change some of a workflow's fields (`{"enabled": false}` disables it).
    pub async fn update(
        &self,
        ctx: &Ctx,
        id: Uuid,
        patch: Map<String, Json>,
        if_match: Option<i64>,
    ) -> Result<Json, ServiceError> {
        let current = self.service().get_workflow(ctx, id).await?;
        let mut merged = Self::view(&current).as_object().cloned().unwrap_or_default();
        merged.extend(patch);
        let input = self.input(&merged)?;
        Ok(Self::view(&self.service().update_workflow(ctx, id, input, if_match).await?))
    }

    pub async fn delete(&self, ctx: &Ctx, id: Uuid) -> Result<(), ServiceError> {
        self.service().delete_workflow(ctx, id).await
    }

    fn record_of(w: &StoredWorkflow) -> Result<String, ServiceError> {
        let def: Definition = serde_json::from_value(w.definition.clone())
            .map_err(|e| ServiceError::Internal(format!("stored definition does not parse: {e}")))?;
        def.trigger
            .entity()
            .map(str::to_string)
            .ok_or_else(|| invalid("trigger", "unsupported", "this workflow's trigger has no record to run on"))
    }

    /// Queue a run on a record now (even when the workflow is disabled). 202 + the job.
    pub async fn run(&self, ctx: &Ctx, id: Uuid, record_id: Uuid) -> Result<Job, ServiceError> {
        let w = self.service().get_workflow(ctx, id).await?;
        let entity = Self::record_of(&w)?;
        self.service().get(ctx, &entity, record_id).await?;
        let job_id = Uuid::now_v7();
        let now = self.service().now();
        let payload = Payload { workflow_id: id, entity: entity.clone(), record_id, depth: 1, manual: true };
        let job = NewJob {
            id: job_id,
            kind: JOB_KIND.into(),
            payload: serde_json::to_value(&payload).map_err(|e| ServiceError::Internal(e.to_string()))?,
            dedupe_key: format!("workflow:{id}:manual:{job_id}"),
            max_attempts: self.runtime.config.max_attempts,
            run_after: now,
        };
        let run = NewRun {
            id: job_id,
            workflow_id: id,
            entity: Some(entity),
            record_id: Some(record_id),
            trigger_event: json!({
                "type": "manual",
                "op": "manual",
                "at": now.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
                "actor_id": ctx.actor.user_id,
                "diff": {},
            }),
            depth: 1,
        };
        self.service().enqueue_workflow_run(ctx, job, run).await
    }

    /// Evaluate the conditions and render every action on a record, doing nothing.
    pub async fn dry_run(&self, ctx: &Ctx, id: Uuid, record_id: Uuid) -> Result<Json, ServiceError> {
        let w = self.service().get_workflow(ctx, id).await?;
        Self::record_of(&w)?;
        crate::engine::dry_run(&self.runtime, &w, ctx, record_id).await
    }

    pub async fn runs(&self, ctx: &Ctx, id: Uuid, limit: u32) -> Result<Vec<Json>, ServiceError> {
        let runs = self.service().workflow_runs(ctx, id, limit).await?;
        Ok(runs
            .into_iter()
            .map(|(run, steps)| {
                let mut v = json!(run);
                v["steps"] = json!(steps);
                v
            })
            .collect())
    }

    pub async fn jobs(&self, ctx: &Ctx, status: Option<&str>, limit: u32) -> Result<Vec<Job>, ServiceError> {
        let status =
            match status {
                None => None,
                Some(s) => Some(JobStatus::parse(s).ok_or_else(|| {
                    invalid("status", "invalid_option", "status is one of queued, running, done, dead")
                })?),
            };
        self.service().list_jobs(ctx, status, limit).await
    }

    pub async fn retry(&self, ctx: &Ctx, id: Uuid) -> Result<Job, ServiceError> {
        self.service().retry_job(ctx, id).await
    }

    /// The built-in templates.
    pub fn templates(&self, ctx: &Ctx) -> Result<Vec<Json>, ServiceError> {
        self.service().list_workflows_allowed(ctx)?;
        Ok(builtin::TEMPLATES
            .iter()
            .map(|t| {
                let mut v = json!({ "key": t.key, "name": t.name, "description": t.description });
                if let (Some(o), Some(d)) = (v.as_object_mut(), (t.definition)().as_object()) {
                    o.extend(d.clone());
                }
                v
            })
            .collect())
    }

    /// Install a built-in template as a new workflow. `overrides` may set `name`,
    /// `enabled` and `slack_webhook_url`.
    pub async fn install(&self, ctx: &Ctx, key: &str, overrides: Map<String, Json>) -> Result<Json, ServiceError> {
        self.service().list_workflows_allowed(ctx)?;
        let t = builtin::find(key).ok_or(ServiceError::NotFound)?;
        let mut body = (t.definition)().as_object().cloned().unwrap_or_default();
        body.insert("name".into(), json!(t.name));
        body.insert("description".into(), json!(t.description));
        for (k, v) in overrides {
            match k.as_str() {
                "name" | "enabled" | "description" => {
                    body.insert(k, v);
                }
                "time_zone" => {
                    if let Some(t) = body.get_mut("trigger").filter(|t| t["type"] == "schedule") {
                        t["time_zone"] = v;
                    }
                }
                "rules" | "default_user_id" => {
                    if let Some(Json::Array(actions)) = body.get_mut("actions") {
                        for a in actions.iter_mut().filter(|a| a["type"] == "assign_owner") {
                            a[k.as_str()] = v.clone();
                        }
                    }
                }
                "slack_webhook_url" => {
                    if let Some(Json::Array(actions)) = body.get_mut("actions") {
                        for a in actions.iter_mut().filter(|a| a["type"] == "post_slack") {
                            a["webhook_url"] = v.clone();
                        }
                    }
                }
                other => {
                    return Err(invalid(
                        other,
                        "unknown_field",
                        "an install takes name, description, enabled, time_zone, slack_webhook_url, rules and default_user_id",
                    ));
                }
            }
        }
        self.create(ctx, body).await
    }
}
