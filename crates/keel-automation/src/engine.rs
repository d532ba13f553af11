//! The worker: one tokio task per `keel serve` process. Each round it moves the
//! dispatcher's cursor (change log → jobs), then claims due jobs and runs them one at a
//! time. A run records each action's result before starting the next, so a job that is
//! retried — after an error, or after a crash once its lease runs out — never repeats
//! an action recorded as done. Several processes on one PostgreSQL share the queue.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

use keel_domain::policy::{self, AdminPower};
use keel_service::automation::{Job, JobOutcome, Run, Step};
use keel_service::{Ctx, Service, ServiceError};
use serde_json::{Value as Json, json};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::actions::{ActionError, Runtime, Target};
use crate::config::AutomationConfig;
use crate::context::{Builder, Event};
use crate::definition::Definition;
use crate::dispatch::{self, JOB_KIND, Payload};

/// Change-log entries the dispatcher reads per round.
const DISPATCH_BATCH: u32 = 200;
/// Jobs claimed per round. One: a job's lease starts when it is claimed, so a batch would
/// eat into the later jobs' leases, and a stopping worker holds nothing it has not begun.
const CLAIM_BATCH: i64 = 1;

/// Why a run stopped short.
#[derive(Debug)]
pub(crate) enum RunError {
    Action(ActionError),
    Service(ServiceError),
}

impl From<ActionError> for RunError {
    fn from(e: ActionError) -> Self {
        RunError::Action(e)
    }
}

impl From<ServiceError> for RunError {
    fn from(e: ServiceError) -> Self {
        RunError::Service(e)
    }
}

/// Start the worker; it stops (after the job in hand) when `shutdown` turns true.
pub fn spawn(service: Service, config: AutomationConfig, mut shutdown: watch::Receiver<bool>) -> JoinHandle<()> {
    let config = Arc::new(config);
    let runtime = Runtime::new(service, config.clone());
    tokio::spawn(async move {
        tracing::info!(worker = %config.worker_id, "automation worker started");
        loop {
            if *shutdown.borrow() {
                break;
            }
            let busy = match round(&runtime).await {
                Ok(busy) => busy,
                Err(e) => {
                    tracing::warn!(error = %e, "automation round failed; will retry");
                    false
                }
            };
            if !busy {
                tokio::select! {
                    () = tokio::time::sleep(config.poll_interval) => {}
                    _ = shutdown.changed() => {}
                }
            }
        }
        tracing::info!("automation worker stopped");
    })
}

/// One round: dispatch new changes, then run due jobs. True when there was work.
async fn round(rt: &Runtime) -> Result<bool, ServiceError> {
    let config = rt.config.clone();
    let now = rt.service.now();
    let read = rt
        .service
        .dispatch_changes(dispatch::CURSOR, DISPATCH_BATCH, |entry, workflows| {
            dispatch::plan(entry, workflows, &config, now)
        })
        .await?;
    let schema = rt.service.schema();
    let delivered = rt
        .service
        .dispatch_webhooks(crate::webhooks::CURSOR, DISPATCH_BATCH, |event, subscriptions| {
            crate::webhooks::plan(std::ops::Deref::deref(&schema), event, subscriptions, &config, now)
        })
        .await?;
    let ticked = crate::scheduled::tick(rt).await?;
    let jobs = rt.service.claim_jobs(&config.worker_id, CLAIM_BATCH, config.lease).await?;
    let busy = read > 0 || delivered > 0 || ticked || !jobs.is_empty();
    for job in jobs {
        let outcome = run_job(rt, &job).await;
        match rt.service.settle_job(job.id, &config.worker_id, &outcome).await {
            Ok(true) => {}
            Ok(false) => tracing::warn!(job = %job.id, "lease lost before the job was settled"),
            Err(e) => tracing::warn!(job = %job.id, error = %e, "could not settle job; it will run again"),
        }
    }
    Ok(busy)
}

async fn run_job(rt: &Runtime, job: &Job) -> JobOutcome {
    // Webhook jobs keep their own log (deliveries and tries), not a workflow run.
    match job.kind.as_str() {
        crate::webhooks::DELIVER_KIND => {
            return match crate::webhooks::deliver(rt, job).await {
                Ok(outcome) => outcome,
                Err(e @ (ServiceError::Busy | ServiceError::Internal(_))) => retry_or_die(rt, job, e.to_string()).1,
                Err(e) => JobOutcome::Dead { error: e.to_string() },
            };
        }
        crate::webhooks::NOTICE_KIND => {
            return match crate::webhooks::send_notice(rt, job).await {
                Ok(()) => JobOutcome::Done,
                Err(ActionError::Transient(e)) => retry_or_die(rt, job, e).1,
                Err(ActionError::Permanent(e)) => JobOutcome::Dead { error: e },
            };
        }
        _ => {}
    }
    let result = match job.kind.as_str() {
        JOB_KIND => run_workflow(rt, job).await,
        crate::scheduled::JOB_KIND => crate::scheduled::run(rt, job).await,
        other => return JobOutcome::Dead { error: format!("no worker handles jobs of kind `{other}`") },
    };
    let (status, outcome) = match result {
        Ok(status) => (status, JobOutcome::Done),
        Err(RunError::Action(ActionError::Permanent(e))) => ("failed", JobOutcome::Dead { error: e }),
        Err(RunError::Action(ActionError::Transient(e))) => retry_or_die(rt, job, e),
        Err(RunError::Service(e @ (ServiceError::Busy | ServiceError::Internal(_)))) => {
            retry_or_die(rt, job, e.to_string())
        }
        Err(RunError::Service(e)) => ("failed", JobOutcome::Dead { error: e.to_string() }),
    };
    let error = match &outcome {
        JobOutcome::Done => None,
        JobOutcome::Retry { error, .. } | JobOutcome::Dead { error } => Some(error.as_str()),
    };
    let finished = !matches!(outcome, JobOutcome::Retry { .. });
    if let Err(e) = rt.service.set_run_status(job.id, status, error, finished).await {
        tracing::warn!(job = %job.id, error = %e, "could not record the run's status");
    }
    outcome
}

fn retry_or_die(rt: &Runtime, job: &Job, error: String) -> (&'static str, JobOutcome) {
    if job.attempts >= job.max_attempts {
        ("dead", JobOutcome::Dead { error: format!("gave up after {} attempts: {error}", job.attempts) })
    } else {
        ("retrying", JobOutcome::Retry { at: rt.service.now() + rt.config.backoff(job.attempts), error })
    }
}

/// The actor a workflow runs as: the admin who last saved it, while they still are one.
pub(crate) async fn actor(rt: &Runtime, user: Option<Uuid>, depth: i64, job_id: Uuid) -> Result<Ctx, RunError> {
    let user = user.ok_or_else(|| ActionError::Permanent("the workflow has no owner to act as".into()))?;
    let actor = rt.service.actor_of_user(user).await.map_err(|_| {
        ActionError::Permanent(format!("user {user}, whom the workflow acts as, is inactive or gone; re-save it"))
    })?;
    policy::can_administer(&actor, AdminPower::ManageWorkflows)
        .map_err(|d| ActionError::Permanent(format!("user {user}, whom the workflow acts as, may not: {d}")))?;
    let mut ctx = Ctx::system(actor);
    ctx.request_id = Some(dispatch::request_id(depth, job_id));
    Ok(ctx)
}

fn event_of(trigger: &Json) -> Event {
    Event {
        op: trigger["op"].as_str().unwrap_or("manual").to_string(),
        diff: trigger["diff"].as_object().cloned().unwrap_or_default(),
        actor_id: trigger["actor_id"].as_str().and_then(|s| Uuid::parse_str(s).ok()),
        seq: trigger["seq"].as_i64(),
        at: trigger["at"].as_str().unwrap_or_default().to_string(),
    }
}

pub(crate) fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// Run (or resume) a workflow job. Returns the run's final status.
async fn run_workflow(rt: &Runtime, job: &Job) -> Result<&'static str, RunError> {
    let payload: Payload = serde_json::from_value(job.payload.clone())
        .map_err(|e| ActionError::Permanent(format!("bad job payload: {e}")))?;
    let (run, steps) =
        rt.service.run_state(job.id).await?.ok_or_else(|| ActionError::Permanent("the job has no run".into()))?;
    let entity = rt
        .service
        .schema()
        .entity(&payload.entity)
        .cloned()
        .ok_or_else(|| ActionError::Permanent(format!("unknown entity {}", payload.entity)))?;

    // First try: snapshot the definition, the context and the conditions' verdict, so
    // retries render the same messages and do not change their minds.
    let (definition, context, met) = match (&run.definition, &run.context, run.conditions_met) {
        (Some(d), Some(c), Some(m)) => (d.clone(), c.clone(), m),
        _ => {
            let Some(workflow) = rt.service.workflow_for_worker(payload.workflow_id).await? else {
                return Ok("skipped");
            };
            if !workflow.enabled && !payload.manual {
                return Ok("skipped");
            }
            let ctx = actor(rt, workflow.updated_by, payload.depth, job.id).await?;
            let def: Definition = serde_json::from_value(workflow.definition.clone())
                .map_err(|e| ActionError::Permanent(format!("stored definition does not parse: {e}")))?;
            let builder = Builder { service: &rt.service, ctx: &ctx, public_url: &rt.config.public_url };
            let context = builder
                .build(
                    &entity,
                    payload.record_id,
                    &event_of(&run.trigger_event),
                    (workflow.id, &workflow.name),
                    &rfc3339(rt.service.now()),
                )
                .await?;
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
        .map_err(|e| ActionError::Permanent(format!("snapshotted definition does not parse: {e}")))?;
    let owner = rt.service.workflow_for_worker(payload.workflow_id).await?.and_then(|w| w.updated_by);
    let ctx = actor(rt, owner, payload.depth, job.id).await?;
    run_actions(rt, job, &run, &steps, &def, &entity, payload.record_id, &context, &ctx).await?;
    Ok("succeeded")
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn run_actions(
    rt: &Runtime,
    job: &Job,
    run: &Run,
    steps: &[Step],
    def: &Definition,
    entity: &keel_domain::EntityDef,
    record_id: Uuid,
    context: &Json,
    ctx: &Ctx,
) -> Result<(), RunError> {
    let done: BTreeSet<i64> =
        steps.iter().filter(|s| s.status == "done" || s.status == "skipped").map(|s| s.action_index).collect();
    // Tries of each action so far: an action's next try gets the next number, also after
    // an admin's retry of a dead job (which starts the job's attempts afresh).
    let tries = |index: i64| steps.iter().filter(|s| s.action_index == index).count() as i64 + 1;
    // Later actions see an assignment's new owner as `assigned`, also when it was done on
    // an earlier try (its output is in the recorded step).
    let mut context = context.clone();
    for s in steps.iter().filter(|s| s.status == "done") {
        if let Some(a) = s.output.get("assigned")
            && let Some(obj) = context.as_object_mut()
        {
            obj.insert("assigned".into(), a.clone());
        }
    }
    for (i, spec) in def.actions.iter().enumerate() {
        let action = &spec.action;
        let index = i64::try_from(i).unwrap_or(i64::MAX);
        if done.contains(&index) {
            continue;
        }
        // Each action renews the lease, so a long run keeps its job while a dead worker's
        // job is free again soon after.
        if !rt.service.extend_lease(job.id, &rt.config.worker_id, rt.config.lease).await? {
            return Err(ActionError::Transient("another worker took this job over".into()).into());
        }
        if spec.only_if.as_ref().is_some_and(|c| !c.eval(&context)) {
            let step = Step {
                run_id: run.id,
                action_index: index,
                attempt: tries(index),
                action_type: action.kind().into(),
                status: "skipped".into(),
                input: Json::Null,
                output: Json::Null,
                error: None,
                duration_ms: 0,
                at: rt.service.now(),
            };
            rt.service.record_step(&step).await?;
            continue;
        }
        let key = format!("keel-{}-{i}", job.id);
        let started = Instant::now();
        let target = Target { entity, record_id, context: &context, ctx: Some(ctx), dry_run: false };
        let rendered = rt.render(action, &target, &key).await;
        let result = match &rendered {
            Ok(input) => rt.execute(action, input, &key, ctx).await,
            Err(e) => Err(e.clone()),
        };
        let step = Step {
            run_id: run.id,
            action_index: index,
            attempt: tries(index),
            action_type: action.kind().into(),
            status: if result.is_ok() { "done" } else { "failed" }.into(),
            input: rendered.unwrap_or(Json::Null),
            output: result.as_ref().cloned().unwrap_or(Json::Null),
            error: result.as_ref().err().map(ToString::to_string),
            duration_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
            at: rt.service.now(),
        };
        rt.service.record_step(&step).await?;
        let output = result?;
        if let (Some(a), Some(obj)) = (output.get("assigned"), context.as_object_mut()) {
            obj.insert("assigned".into(), a.clone());
        }
    }
    Ok(())
}

/// What a dry run shows: whether the conditions hold and every action rendered.
pub async fn dry_run(
    rt: &Runtime,
    workflow: &keel_service::automation::StoredWorkflow,
    ctx: &Ctx,
    record_id: Uuid,
) -> Result<Json, ServiceError> {
    let def: Definition = serde_json::from_value(workflow.definition.clone())
        .map_err(|e| ServiceError::Internal(format!("stored definition does not parse: {e}")))?;
    let entity_name = def.trigger.entity().ok_or(ServiceError::NotFound)?;
    let entity = rt.service.schema().entity(entity_name).cloned().ok_or(ServiceError::NotFound)?;
    let event = Event {
        op: "manual".into(),
        diff: Default::default(),
        actor_id: Some(ctx.actor.user_id),
        seq: None,
        at: rfc3339(rt.service.now()),
    };
    let builder = Builder { service: &rt.service, ctx, public_url: &rt.config.public_url };
    // Reading the record as the asking admin also answers 404 for a record that is not there.
    rt.service.get(ctx, entity_name, record_id).await?;
    let context =
        builder.build(&entity, record_id, &event, (workflow.id, &workflow.name), &rfc3339(rt.service.now())).await?;
    let met = def.conditions.as_ref().is_none_or(|c| c.eval(&context));
    let target = Target { entity: &entity, record_id, context: &context, ctx: Some(ctx), dry_run: true };
    let mut actions = Vec::new();
    for (i, spec) in def.actions.iter().enumerate() {
        let action = &spec.action;
        if spec.only_if.as_ref().is_some_and(|c| !c.eval(&context)) {
            actions.push(json!({ "index": i, "type": action.kind(), "skipped": true }));
            continue;
        }
        let key = format!("keel-dry-run-{i}");
        actions.push(match rt.render(action, &target, &key).await {
            Ok(input) => json!({ "index": i, "type": action.kind(), "input": input }),
            Err(e) => json!({ "index": i, "type": action.kind(), "error": e.to_string() }),
        });
    }
    Ok(json!({ "conditions_met": met, "actions": actions, "context": context }))
}
