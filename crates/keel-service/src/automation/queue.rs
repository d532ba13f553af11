//! The job queue and run history as the workers and admins use them. Worker calls take
//! no `Ctx`: the worker is the system. Each call is its own short transaction, so a
//! step's result is durable before the next step starts.

use keel_domain::policy::Actor;
use keel_store::automation::{jobs, runs, workflows};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{Job, JobStatus, Run, Step, StoredWorkflow, may_manage};
use crate::audit::{AuditAction, Event, Source};
use crate::{Ctx, Service, ServiceError};

/// How a worker's try of a job ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    Done,
    /// Try again at `at`.
    Retry {
        at: OffsetDateTime,
        error: String,
    },
    /// No more tries: dead-lettered until an admin retries it.
    Dead {
        error: String,
    },
}

impl Service {
    /// The actor a user acts as (role, teams, custom role), if they are active.
    pub async fn actor_of_user(&self, user_id: Uuid) -> Result<Actor, ServiceError> {
        self.actor_for(user_id).await
    }

    /// Jobs, newest first (admins): `status` narrows to queued, running, done or dead.
    pub async fn list_jobs(&self, ctx: &Ctx, status: Option<JobStatus>, limit: u32) -> Result<Vec<Job>, ServiceError> {
        may_manage(ctx)?;
        let mut tx = self.db.read().await?;
        Ok(jobs::list(&mut tx, status, u64::from(limit.clamp(1, 500))).await?)
    }

    /// Put a dead job back in the queue with fresh attempts (admins; audited). Actions its
    /// run already did stay done.
    pub async fn retry_job(&self, ctx: &Ctx, id: Uuid) -> Result<Job, ServiceError> {
        may_manage(ctx)?;
        let now = self.clock.now();
        let mut tx = self.db.write().await?;
        let job = jobs::get(&mut tx, id).await?.ok_or(ServiceError::NotFound)?;
        if !jobs::requeue_dead(&mut tx, id, now).await? {
            return Err(ServiceError::conflict(
                "not_dead",
                format!("only dead jobs can be retried; this one is {}", job.status.as_str()),
            ));
        }
        if runs::get(&mut tx, id).await?.is_some() {
            runs::set_status(&mut tx, id, "queued", job.last_error.as_deref(), None).await?;
        }
        let event = Event {
            action: AuditAction::SettingsChanged,
            entity: Some("jobs"),
            record_id: Some(id),
            details: serde_json::json!({ "kind": "job.retried", "job_kind": job.kind, "attempts": job.attempts }),
        };
        crate::audit::append(&mut tx, Source::of(ctx), now, vec![event]).await?;
        let job = jobs::get(&mut tx, id).await?.ok_or(ServiceError::NotFound)?;
        tx.commit().await?;
        Ok(job)
    }

    /// Claim up to `limit` ready jobs for `worker`, leased for `lease`.
    pub async fn claim_jobs(&self, worker: &str, limit: i64, lease: time::Duration) -> Result<Vec<Job>, ServiceError> {
        let now = self.clock.now();
        {
            // Idle workers poll: a plain read first keeps them off the write lock.
            let mut tx = self.db.read().await?;
            if !jobs::any_ready(&mut tx, now).await? {
                return Ok(Vec::new());
            }
        }
        let mut tx = self.db.side_write().await?;
        let claimed = jobs::claim(&mut tx, worker, limit, now, now + lease).await?;
        tx.commit().await?;
        Ok(claimed)
    }

    /// Renew `worker`'s lease on a running job for another `lease`. False when another
    /// worker took it over (this one's lease ran out): stop working on it.
    pub async fn extend_lease(&self, id: Uuid, worker: &str, lease: time::Duration) -> Result<bool, ServiceError> {
        let until = self.clock.now() + lease;
        let mut tx = self.db.side_write().await?;
        let held = jobs::extend_lease(&mut tx, id, worker, until).await?;
        tx.commit().await?;
        Ok(held)
    }

    /// Settle a job `worker` holds. False when its lease was lost to another worker.
    pub async fn settle_job(&self, id: Uuid, worker: &str, outcome: &JobOutcome) -> Result<bool, ServiceError> {
        let now = self.clock.now();
        let (status, run_after, error) = match outcome {
            JobOutcome::Done => (JobStatus::Done, None, None),
            JobOutcome::Retry { at, error } => (JobStatus::Queued, Some(*at), Some(error.as_str())),
            JobOutcome::Dead { error } => (JobStatus::Dead, None, Some(error.as_str())),
        };
        let mut tx = self.db.side_write().await?;
        let settled = jobs::settle(&mut tx, id, worker, status, run_after, error, now).await?;
        tx.commit().await?;
        Ok(settled)
    }

    /// A workflow by id, for the worker (no policy: the system runs it).
    pub async fn workflow_for_worker(&self, id: Uuid) -> Result<Option<StoredWorkflow>, ServiceError> {
        let mut tx = self.db.read().await?;
        Ok(workflows::get(&mut tx, id).await?)
    }

    /// A run and the tries of its actions so far.
    pub async fn run_state(&self, run_id: Uuid) -> Result<Option<(Run, Vec<Step>)>, ServiceError> {
        let mut tx = self.db.read().await?;
        let Some(run) = runs::get(&mut tx, run_id).await? else { return Ok(None) };
        let steps = runs::steps(&mut tx, run_id).await?;
        Ok(Some((run, steps)))
    }

    /// Mark a run running; on its first try store the definition, the rendering context
    /// and whether the conditions held, for its retries to reuse.
    pub async fn start_run(
        &self,
        run_id: Uuid,
        snapshot: Option<(&serde_json::Value, &serde_json::Value, bool)>,
    ) -> Result<(), ServiceError> {
        let mut tx = self.db.side_write().await?;
        runs::start(&mut tx, run_id, snapshot, self.clock.now()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Record one try of one action (committed before the next action starts).
    pub async fn record_step(&self, step: &Step) -> Result<(), ServiceError> {
        let mut tx = self.db.side_write().await?;
        runs::insert_step(&mut tx, step).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Set a run's status; `finished` stamps its end.
    pub async fn set_run_status(
        &self,
        run_id: Uuid,
        status: &str,
        error: Option<&str>,
        finished: bool,
    ) -> Result<(), ServiceError> {
        let now = self.clock.now();
        let mut tx = self.db.side_write().await?;
        runs::set_status(&mut tx, run_id, status, error, finished.then_some(now)).await?;
        tx.commit().await?;
        Ok(())
    }
}
