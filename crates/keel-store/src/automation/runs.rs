//! Workflow run history: one run per workflow job (same id), and one step row per try of
//! each action, with its rendered input, output, error and duration.

use sea_query::{Expr, Order, Query};
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{a, json, opt_text, opt_ts, opt_uuid, read_bool, read_opt_json, required, ts, uuid, values_err};
use crate::db::{Row, Tx};
use crate::error::Result;

#[derive(Debug, Clone, PartialEq)]
pub struct NewRun {
    /// The job's id.
    pub id: Uuid,
    pub workflow_id: Uuid,
    pub entity: Option<String>,
    pub record_id: Option<Uuid>,
    /// What started it: the change-log entry, or a manual run.
    pub trigger_event: serde_json::Value,
    /// How many workflow runs led to this one (0: a person's change).
    pub depth: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Run {
    pub id: Uuid,
    pub workflow_id: Uuid,
    pub entity: Option<String>,
    pub record_id: Option<Uuid>,
    #[serde(rename = "trigger")]
    pub trigger_event: serde_json::Value,
    pub depth: i64,
    /// queued, running, retrying, succeeded, skipped, failed, dead
    pub status: String,
    #[serde(skip)]
    pub definition: Option<serde_json::Value>,
    #[serde(skip)]
    pub context: Option<serde_json::Value>,
    pub conditions_met: Option<bool>,
    pub error: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub started_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub finished_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    #[serde(skip)]
    pub run_id: Uuid,
    pub action_index: i64,
    pub attempt: i64,
    pub action_type: String,
    /// done or failed
    pub status: String,
    pub input: serde_json::Value,
    pub output: serde_json::Value,
    pub error: Option<String>,
    pub duration_ms: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

const COLUMNS: [&str; 14] = [
    "id",
    "workflow_id",
    "entity",
    "record_id",
    "trigger_event",
    "depth",
    "status",
    "definition",
    "context",
    "conditions_met",
    "error",
    "created_at",
    "started_at",
    "finished_at",
];

const STEP_COLUMNS: [&str; 10] =
    ["run_id", "action_index", "attempt", "action_type", "status", "input", "output", "error", "duration_ms", "at"];

fn decode(r: &Row) -> Result<Run> {
    Ok(Run {
        id: required(r.uuid("id")?, "id")?,
        workflow_id: required(r.uuid("workflow_id")?, "workflow_id")?,
        entity: r.text("entity")?,
        record_id: r.uuid("record_id")?,
        trigger_event: r.json("trigger_event")?,
        depth: r.i64("depth")?,
        status: r.text("status")?.unwrap_or_default(),
        definition: read_opt_json(r, "definition")?,
        context: read_opt_json(r, "context")?,
        conditions_met: read_bool(r, "conditions_met")?,
        error: r.text("error")?,
        created_at: required(r.timestamp("created_at")?, "created_at")?,
        started_at: r.timestamp("started_at")?,
        finished_at: r.timestamp("finished_at")?,
    })
}

fn decode_step(r: &Row) -> Result<Step> {
    Ok(Step {
        run_id: required(r.uuid("run_id")?, "run_id")?,
        action_index: r.i64("action_index")?,
        attempt: r.i64("attempt")?,
        action_type: r.text("action_type")?.unwrap_or_default(),
        status: r.text("status")?.unwrap_or_default(),
        input: r.json("input")?,
        output: r.json("output")?,
        error: r.text("error")?,
        duration_ms: r.i64("duration_ms")?,
        at: required(r.timestamp("at")?, "at")?,
    })
}

pub async fn insert(tx: &mut Tx, run: &NewRun, now: OffsetDateTime) -> Result<()> {
    let mut q = Query::insert();
    q.into_table(a("workflow_runs"))
        .columns(["id", "workflow_id", "entity", "record_id", "trigger_event", "depth", "status", "created_at"].map(a))
        .values(vec![
            uuid(tx, run.id),
            uuid(tx, run.workflow_id),
            opt_text(tx, run.entity.as_deref()),
            opt_uuid(tx, run.record_id),
            json(tx, &run.trigger_event),
            run.depth.into(),
            "queued".into(),
            ts(tx, now),
        ])
        .map_err(values_err)?;
    tx.execute(&q).await?;
    Ok(())
}

pub async fn get(tx: &mut Tx, id: Uuid) -> Result<Option<Run>> {
    let mut q = Query::select();
    q.from(a("workflow_runs")).columns(COLUMNS.map(a)).and_where(Expr::col(a("id")).eq(uuid(tx, id)));
    tx.fetch_optional(&q).await?.as_ref().map(decode).transpose()
}

/// A workflow's runs, newest first.
pub async fn of_workflow(tx: &mut Tx, workflow_id: Uuid, limit: u64) -> Result<Vec<Run>> {
    let mut q = Query::select();
    q.from(a("workflow_runs"))
        .columns(COLUMNS.map(a))
        .and_where(Expr::col(a("workflow_id")).eq(uuid(tx, workflow_id)))
        .order_by(a("created_at"), Order::Desc)
        .order_by(a("id"), Order::Desc)
        .limit(limit);
    tx.fetch_all(&q).await?.iter().map(decode).collect()
}

/// Mark a run started; on its first attempt also store the snapshot its retries reuse.
pub async fn start(
    tx: &mut Tx,
    id: Uuid,
    snapshot: Option<(&serde_json::Value, &serde_json::Value, bool)>,
    now: OffsetDateTime,
) -> Result<()> {
    let mut q = Query::update();
    q.table(a("workflow_runs")).value(a("status"), "running").and_where(Expr::col(a("id")).eq(uuid(tx, id)));
    if let Some((definition, context, met)) = snapshot {
        q.value(a("definition"), json(tx, definition))
            .value(a("context"), json(tx, context))
            .value(a("conditions_met"), met)
            .value(a("started_at"), ts(tx, now));
    }
    tx.execute(&q).await?;
    Ok(())
}

/// Set a run's status (and error); `finished` stamps the end time.
pub async fn set_status(
    tx: &mut Tx,
    id: Uuid,
    status: &str,
    error: Option<&str>,
    finished: Option<OffsetDateTime>,
) -> Result<()> {
    let mut q = Query::update();
    q.table(a("workflow_runs"))
        .values([
            (a("status"), status.into()),
            (a("error"), opt_text(tx, error)),
            (a("finished_at"), opt_ts(tx, finished)),
        ])
        .and_where(Expr::col(a("id")).eq(uuid(tx, id)));
    tx.execute(&q).await?;
    Ok(())
}

pub async fn insert_step(tx: &mut Tx, step: &Step) -> Result<()> {
    let mut q = Query::insert();
    q.into_table(a("workflow_run_steps"))
        .columns(STEP_COLUMNS.map(a))
        .values(vec![
            uuid(tx, step.run_id),
            step.action_index.into(),
            step.attempt.into(),
            step.action_type.clone().into(),
            step.status.clone().into(),
            json(tx, &step.input),
            json(tx, &step.output),
            opt_text(tx, step.error.as_deref()),
            step.duration_ms.into(),
            ts(tx, step.at),
        ])
        .map_err(values_err)?;
    tx.execute(&q).await?;
    Ok(())
}

/// Every try of every action of a run, in order.
pub async fn steps(tx: &mut Tx, run_id: Uuid) -> Result<Vec<Step>> {
    let mut q = Query::select();
    q.from(a("workflow_run_steps"))
        .columns(STEP_COLUMNS.map(a))
        .and_where(Expr::col(a("run_id")).eq(uuid(tx, run_id)))
        .order_by(a("action_index"), Order::Asc)
        .order_by(a("attempt"), Order::Asc);
    tx.fetch_all(&q).await?.iter().map(decode_step).collect()
}
