//! Scheduled workflows at run time: each worker round enqueues due ticks (one job per
//! workflow and tick, whoever looks), and a tick's job loads the records its query names.
//! With `group_by`, the tick's job fans out into one job per group (one email per owner),
//! each deduplicated by tick and group, so a retried fan-out adds nothing.

use keel_domain::{EntityDef, FieldType};
use keel_service::ServiceError;
use keel_service::automation::{Job, NewJob, NewRun};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json, json};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::actions::{ActionError, Runtime};
use crate::context::Builder;
use crate::definition::{Definition, ScheduleQuery, Trigger};
use crate::engine::{RunError, actor, rfc3339, run_actions};
use crate::schedule::{self, Schedule};

/// The job kind of a scheduled run.
pub const JOB_KIND: &str = "workflow.schedule";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SchedulePayload {
    pub workflow_id: Uuid,
    /// The tick, unix seconds.
    pub tick: i64,
    /// The group this job is for (the `group_by` field's value), once fanned out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

fn planned(
    rt: &Runtime,
    payload: &SchedulePayload,
    dedupe_key: String,
    trigger: Json,
    entity: Option<String>,
) -> (NewJob, NewRun) {
    let id = Uuid::now_v7();
    let job = NewJob {
        id,
        kind: JOB_KIND.into(),
        payload: serde_json::to_value(payload).unwrap_or_default(),
        dedupe_key,
        max_attempts: rt.config.max_attempts,
        run_after: rt.service.now(),
    };
    let run =
        NewRun { id, workflow_id: payload.workflow_id, entity, record_id: None, trigger_event: trigger, depth: 1 };
    (job, run)
}

/// Enqueue every due tick. True when one was enqueued.
pub async fn tick(rt: &Runtime) -> Result<bool, ServiceError> {
    let now = rt.service.now();
    let mut any = false;
    for w in rt.service.enabled_workflows_for_worker().await? {
        let Ok(def) = serde_json::from_value::<Definition>(w.definition.clone()) else { continue };
        let Trigger::Schedule { cron, time_zone, query } = &def.trigger else { continue };
        let Ok(schedule) = Schedule::parse(cron, time_zone) else { continue };
        let name = format!("schedule:{}", w.id);
        let last = rt.service.schedule_cursor(&name, now.unix_timestamp()).await?;
        let Ok(last) = OffsetDateTime::from_unix_timestamp(last) else { continue };
        let Some(due) = schedule.due(last, now) else { continue };
        let payload = SchedulePayload { workflow_id: w.id, tick: due.unix_timestamp(), group: None };
        let trigger = json!({ "type": "schedule", "tick": rfc3339(due), "cron": cron, "time_zone": time_zone });
        let key = format!("workflow:{}:tick:{}", w.id, due.unix_timestamp());
        let job = planned(rt, &payload, key, trigger, query.as_ref().map(|q| q.entity.clone()));
        any |= rt.service.schedule_tick(&name, due.unix_timestamp(), job).await?;
    }
    Ok(any)
}

fn permanent(msg: impl Into<String>) -> RunError {
    RunError::Action(ActionError::Permanent(msg.into()))
}

/// Run (or resume) a scheduled job. Returns the run's final status.
pub async fn run(rt: &Runtime, job: &Job) -> Result<&'static str, RunError> {
    let payload: SchedulePayload =
        serde_json::from_value(job.payload.clone()).map_err(|e| permanent(format!("bad job payload: {e}")))?;
    let (run, steps) = rt.service.run_state(job.id).await?.ok_or_else(|| permanent("the job has no run"))?;
    let schema = rt.service.schema().clone();
    let (definition, context, met) = match (&run.definition, &run.context, run.conditions_met) {
        (Some(d), Some(c), Some(m)) => (d.clone(), c.clone(), m),
        _ => {
            let Some(workflow) = rt.service.workflow_for_worker(payload.workflow_id).await? else {
                return Ok("skipped");
            };
            if !workflow.enabled {
                return Ok("skipped");
            }
            let ctx = actor(rt, workflow.updated_by, 1, job.id).await?;
            let def: Definition = serde_json::from_value(workflow.definition.clone())
                .map_err(|e| permanent(format!("stored definition does not parse: {e}")))?;
            let Trigger::Schedule { cron, time_zone, query } = &def.trigger else {
                return Ok("skipped");
            };
            let schedule = Schedule::parse(cron, time_zone).map_err(|e| permanent(e.to_string()))?;
            let tick = OffsetDateTime::from_unix_timestamp(payload.tick).map_err(|e| permanent(e.to_string()))?;
            let (today, local) = schedule.local(tick);
            let mut base = Map::new();
            base.insert("today".into(), json!(today));
            base.insert("tick".into(), json!({ "at": rfc3339(tick), "local": local, "time_zone": time_zone }));
            base.insert("workflow".into(), json!({ "id": workflow.id, "name": workflow.name }));
            base.insert("now".into(), json!(rfc3339(rt.service.now())));
            let vars = Json::Object(base.clone());

            let entity = match query {
                Some(q) => Some(schema.entity(&q.entity).cloned().ok_or_else(|| permanent("unknown entity"))?),
                None => None,
            };
            let mut records = Vec::new();
            let mut group = None;
            if let (Some(q), Some(entity)) = (query, &entity) {
                let mut pairs = schedule::pairs(&rt_env(), q, &vars).map_err(|(_, e)| permanent(e))?;
                if let (Some(g), None) = (&q.group_by, &payload.group) {
                    let all = schedule::load(&rt.service, &ctx, entity, pairs, &rt.config.public_url).await?;
                    fan_out(rt, job, &run.trigger_event, &payload, q, &all, g).await?;
                    return Ok("succeeded");
                }
                if let (Some(g), Some(value)) = (&q.group_by, &payload.group) {
                    pairs.push((g.clone(), value.clone()));
                    group = Some(group_record(rt, &ctx, entity, g, value).await?);
                }
                records = schedule::load(&rt.service, &ctx, entity, pairs, &rt.config.public_url).await?;
            }
            let context = schedule::context(&schema, query.as_ref(), records, group, base);
            let met = def.conditions.as_ref().is_none_or(|c| c.eval(&context));
            rt.service.start_run(job.id, Some((&workflow.definition, &context, met))).await?;
            (workflow.definition, context, met)
        }
    };
    if !met {
        return Ok("skipped");
    }
    rt.service.start_run(job.id, None).await?;
    let def: Definition = serde_json::from_value(definition)
        .map_err(|e| permanent(format!("snapshotted definition does not parse: {e}")))?;
    let owner = rt.service.workflow_for_worker(payload.workflow_id).await?.and_then(|w| w.updated_by);
    let ctx = actor(rt, owner, 1, job.id).await?;
    // Scheduled workflows only send messages (checked on save): no record is written.
    let placeholder = schema.entity("users").cloned().ok_or_else(|| permanent("no users entity"))?;
    run_actions(rt, job, &run, &steps, &def, &placeholder, Uuid::nil(), &context, &ctx).await?;
    Ok("succeeded")
}

fn rt_env() -> minijinja::Environment<'static> {
    crate::template::environment()
}

/// The group's record (a user, for `owner_id`) with its references, for templates.
async fn group_record(
    rt: &Runtime,
    ctx: &keel_service::Ctx,
    entity: &EntityDef,
    field: &str,
    value: &str,
) -> Result<Json, RunError> {
    let target = entity
        .field(field)
        .filter(|f| f.ty == FieldType::Reference)
        .and_then(|f| f.reference.as_deref())
        .and_then(|t| rt.service.schema().entity(t).cloned())
        .ok_or_else(|| permanent(format!("`{field}` is not a reference field")))?;
    let id = Uuid::parse_str(value).map_err(|_| permanent(format!("`{value}` is not an id")))?;
    let builder = Builder { service: &rt.service, ctx, public_url: &rt.config.public_url };
    let found = rt.service.get(ctx, &target.name, id).await?;
    Ok(Json::Object(builder.record(&target, found, 1).await?))
}

/// One job per distinct value of `field` among `records`.
async fn fan_out(
    rt: &Runtime,
    job: &Job,
    trigger: &Json,
    payload: &SchedulePayload,
    query: &ScheduleQuery,
    records: &[Json],
    field: &str,
) -> Result<(), RunError> {
    let mut groups: Vec<String> = records.iter().filter_map(|r| r[field].as_str().map(str::to_string)).collect();
    groups.sort();
    groups.dedup();
    for g in groups {
        let p = SchedulePayload { group: Some(g.clone()), ..payload.clone() };
        let mut t = trigger.clone();
        t["group"] = json!(g);
        let key = format!("{}:group:{g}", job.dedupe_key);
        rt.service.enqueue_derived(planned(rt, &p, key, t, Some(query.entity.clone()))).await?;
    }
    Ok(())
}
