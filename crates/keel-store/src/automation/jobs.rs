//! The durable job queue. Enqueueing is idempotent (a UNIQUE `dedupe_key`); claiming
//! hands each ready job to one worker under a lease: PostgreSQL with `FOR UPDATE SKIP
//! LOCKED` (several processes share the queue without waiting on each other), SQLite
//! inside its single write transaction. A job whose lease ran out (its worker died) is
//! ready again; the work it records per step keeps a re-run from repeating what was done.

use keel_domain::value::format_timestamp;
use sea_query::{Expr, OnConflict, Order, Query};
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{a, json, opt_text, required, ts, uuid, values_err};
use crate::db::{Row, Tx, TxConn};
use crate::error::{Result, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Queued,
    Running,
    Done,
    Dead,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Dead => "dead",
        }
    }
    pub fn parse(s: &str) -> Option<JobStatus> {
        [JobStatus::Queued, JobStatus::Running, JobStatus::Done, JobStatus::Dead].into_iter().find(|j| j.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    pub id: Uuid,
    pub kind: String,
    pub payload: serde_json::Value,
    pub dedupe_key: String,
    pub max_attempts: i64,
    pub run_after: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Job {
    pub id: Uuid,
    pub kind: String,
    pub payload: serde_json::Value,
    pub dedupe_key: String,
    pub status: JobStatus,
    /// Tries so far, counting the one a running job is on.
    pub attempts: i64,
    pub max_attempts: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub run_after: OffsetDateTime,
    pub locked_by: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub locked_until: Option<OffsetDateTime>,
    pub last_error: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

const COLUMNS: [&str; 13] = [
    "id",
    "kind",
    "payload",
    "dedupe_key",
    "status",
    "attempts",
    "max_attempts",
    "run_after",
    "locked_by",
    "locked_until",
    "last_error",
    "created_at",
    "updated_at",
];

fn decode(r: &Row) -> Result<Job> {
    let status = r.text("status")?.unwrap_or_default();
    Ok(Job {
        id: required(r.uuid("id")?, "id")?,
        kind: r.text("kind")?.unwrap_or_default(),
        payload: r.json("payload")?,
        dedupe_key: r.text("dedupe_key")?.unwrap_or_default(),
        status: JobStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("job status `{status}`")))?,
        attempts: r.i64("attempts")?,
        max_attempts: r.i64("max_attempts")?,
        run_after: required(r.timestamp("run_after")?, "run_after")?,
        locked_by: r.text("locked_by")?,
        locked_until: r.timestamp("locked_until")?,
        last_error: r.text("last_error")?,
        created_at: required(r.timestamp("created_at")?, "created_at")?,
        updated_at: required(r.timestamp("updated_at")?, "updated_at")?,
    })
}

/// Enqueue unless a job with the same dedupe key exists. Returns whether it was new.
pub async fn enqueue(tx: &mut Tx, job: &NewJob, now: OffsetDateTime) -> Result<bool> {
    let mut q = Query::insert();
    q.into_table(a("jobs"))
        .columns(
            [
                "id",
                "kind",
                "payload",
                "dedupe_key",
                "status",
                "attempts",
                "max_attempts",
                "run_after",
                "created_at",
                "updated_at",
            ]
            .map(a),
        )
        .values(vec![
            uuid(tx, job.id),
            job.kind.clone().into(),
            json(tx, &job.payload),
            job.dedupe_key.clone().into(),
            JobStatus::Queued.as_str().into(),
            0i64.into(),
            job.max_attempts.into(),
            ts(tx, job.run_after),
            ts(tx, now),
            ts(tx, now),
        ])
        .map_err(values_err)?
        .on_conflict(OnConflict::column(a("dedupe_key")).do_nothing().to_owned());
    Ok(tx.execute(&q).await? == 1)
}

/// Is any job ready (queued and due, or running with an expired lease)? A cheap read that
/// lets an idle worker skip the write transaction a claim needs.
pub async fn any_ready(tx: &mut Tx, now: OffsetDateTime) -> Result<bool> {
    let mut q = Query::select();
    q.from(a("jobs")).column(a("id")).cond_where(ready(tx, now)).limit(1);
    Ok(tx.fetch_optional(&q).await?.is_some())
}

fn ready(tx: &Tx, now: OffsetDateTime) -> sea_query::Condition {
    sea_query::Cond::any()
        .add(
            sea_query::Cond::all()
                .add(Expr::col(a("status")).eq(JobStatus::Queued.as_str()))
                .add(Expr::col(a("run_after")).lte(ts(tx, now))),
        )
        .add(
            sea_query::Cond::all()
                .add(Expr::col(a("status")).eq(JobStatus::Running.as_str()))
                .add(Expr::col(a("locked_until")).lt(ts(tx, now))),
        )
}

/// Claim up to `limit` ready jobs for `worker` until `locked_until`, counting an attempt
/// on each. The claim and the lease are one statement; on PostgreSQL, rows another
/// worker is claiming at the same moment are skipped rather than waited for.
pub async fn claim(
    tx: &mut Tx,
    worker: &str,
    limit: i64,
    now: OffsetDateTime,
    locked_until: OffsetDateTime,
) -> Result<Vec<Job>> {
    let cols = COLUMNS.join(", ");
    tx.count_statement();
    let rows = match &mut tx.conn {
        TxConn::Sqlite(t) => {
            // SQLite: the caller holds the one write lock (BEGIN IMMEDIATE), so the
            // select-then-update cannot race another claim.
            let sql = format!(
                "UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_by = ?1, locked_until = ?2, updated_at = ?3
                 WHERE id IN (SELECT id FROM jobs
                              WHERE (status = 'queued' AND run_after <= ?3) OR (status = 'running' AND locked_until < ?3)
                              ORDER BY run_after LIMIT ?4)
                 RETURNING {cols}"
            );
            sqlx::query(&sql)
                .bind(worker)
                .bind(format_timestamp(locked_until))
                .bind(format_timestamp(now))
                .bind(limit)
                .fetch_all(&mut **t)
                .await?
                .into_iter()
                .map(Row::Sqlite)
                .collect::<Vec<_>>()
        }
        TxConn::Postgres(t) => {
            let sql = format!(
                "UPDATE jobs SET status = 'running', attempts = attempts + 1, locked_by = $1, locked_until = $2, updated_at = $3
                 WHERE id IN (SELECT id FROM jobs
                              WHERE (status = 'queued' AND run_after <= $3) OR (status = 'running' AND locked_until < $3)
                              ORDER BY run_after LIMIT $4
                              FOR UPDATE SKIP LOCKED)
                 RETURNING {cols}"
            );
            sqlx::query(&sql)
                .bind(worker)
                .bind(locked_until)
                .bind(now)
                .bind(limit)
                .fetch_all(&mut **t)
                .await?
                .into_iter()
                .map(Row::Postgres)
                .collect::<Vec<_>>()
        }
    };
    let mut jobs = rows.iter().map(decode).collect::<Result<Vec<_>>>()?;
    jobs.sort_by_key(|j| j.run_after);
    Ok(jobs)
}

/// Settle a job this worker holds: done, back to the queue for `run_after`, or dead.
/// Only the lease holder may settle it (a worker whose lease expired and was taken over
/// changes nothing); returns whether it did.
pub async fn settle(
    tx: &mut Tx,
    id: Uuid,
    worker: &str,
    status: JobStatus,
    run_after: Option<OffsetDateTime>,
    error: Option<&str>,
    now: OffsetDateTime,
) -> Result<bool> {
    let mut q = Query::update();
    q.table(a("jobs"))
        .values([
            (a("status"), status.as_str().into()),
            (a("locked_by"), opt_text(tx, None)),
            (a("locked_until"), super::opt_ts(tx, None)),
            (a("last_error"), opt_text(tx, error)),
            (a("updated_at"), ts(tx, now)),
        ])
        .and_where(Expr::col(a("id")).eq(uuid(tx, id)))
        .and_where(Expr::col(a("locked_by")).eq(worker));
    if let Some(at) = run_after {
        q.value(a("run_after"), ts(tx, at));
    }
    Ok(tx.execute(&q).await? == 1)
}

/// Keep holding a running job: move its lease to `until`, if `worker` still holds it.
pub async fn extend_lease(tx: &mut Tx, id: Uuid, worker: &str, until: OffsetDateTime) -> Result<bool> {
    let mut q = Query::update();
    q.table(a("jobs"))
        .value(a("locked_until"), ts(tx, until))
        .and_where(Expr::col(a("id")).eq(uuid(tx, id)))
        .and_where(Expr::col(a("locked_by")).eq(worker))
        .and_where(Expr::col(a("status")).eq(JobStatus::Running.as_str()));
    Ok(tx.execute(&q).await? == 1)
}

/// Put a dead job back in the queue with a fresh set of attempts (an admin's retry).
pub async fn requeue_dead(tx: &mut Tx, id: Uuid, now: OffsetDateTime) -> Result<bool> {
    let mut q = Query::update();
    q.table(a("jobs"))
        .values([
            (a("status"), JobStatus::Queued.as_str().into()),
            (a("attempts"), 0i64.into()),
            (a("run_after"), ts(tx, now)),
            (a("updated_at"), ts(tx, now)),
        ])
        .and_where(Expr::col(a("id")).eq(uuid(tx, id)))
        .and_where(Expr::col(a("status")).eq(JobStatus::Dead.as_str()));
    Ok(tx.execute(&q).await? == 1)
}

pub async fn get(tx: &mut Tx, id: Uuid) -> Result<Option<Job>> {
    let mut q = Query::select();
    q.from(a("jobs")).columns(COLUMNS.map(a)).and_where(Expr::col(a("id")).eq(uuid(tx, id)));
    tx.fetch_optional(&q).await?.as_ref().map(decode).transpose()
}

/// Jobs, newest first, optionally of one status.
pub async fn list(tx: &mut Tx, status: Option<JobStatus>, limit: u64) -> Result<Vec<Job>> {
    let mut q = Query::select();
    q.from(a("jobs"))
        .columns(COLUMNS.map(a))
        .order_by(a("created_at"), Order::Desc)
        .order_by(a("id"), Order::Desc)
        .limit(limit);
    if let Some(s) = status {
        q.and_where(Expr::col(a("status")).eq(s.as_str()));
    }
    tx.fetch_all(&q).await?.iter().map(decode).collect()
}
