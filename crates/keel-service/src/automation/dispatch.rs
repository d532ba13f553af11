//! The dispatcher's step: read the change log after the stored cursor, let the caller
//! decide which workflow runs each entry starts, enqueue them and advance the cursor —
//! all in one transaction. A crash before the commit loses nothing (the entries are read
//! again); after it, nothing is enqueued twice (the cursor moved, and each job's dedupe
//! key is unique anyway).

use keel_store::automation::{cursor, jobs, runs, workflows};
use keel_store::changes;

use super::{NewJob, NewRun, StoredWorkflow};
use crate::{ChangeEntry, Service, ServiceError};

/// A job and its run, as the dispatcher's planner returns them.
pub type Planned = (NewJob, NewRun);

impl Service {
    /// Every enabled workflow, for the scheduler (no policy: the system runs them).
    pub async fn enabled_workflows_for_worker(&self) -> Result<Vec<StoredWorkflow>, ServiceError> {
        let mut tx = self.db.read().await?;
        Ok(workflows::enabled(&mut tx).await?)
    }

    /// A schedule's last tick (unix seconds); a schedule seen for the first time starts at
    /// `now`, so it does not run for ticks from before it existed.
    pub async fn schedule_cursor(&self, name: &str, now: i64) -> Result<i64, ServiceError> {
        {
            let mut tx = self.db.read().await?;
            if let Some(at) = cursor::find(&mut tx, name).await? {
                return Ok(at);
            }
        }
        let mut tx = self.db.side_write().await?;
        let at = match cursor::find(&mut tx, name).await? {
            Some(at) => at,
            None => {
                cursor::set(&mut tx, name, now).await?;
                now
            }
        };
        tx.commit().await?;
        Ok(at)
    }

    /// Enqueue a schedule's tick (unix seconds) and move its cursor there, in one
    /// transaction; nothing when the cursor is already there (another process did it).
    pub async fn schedule_tick(&self, name: &str, tick: i64, planned: Planned) -> Result<bool, ServiceError> {
        let now = self.clock.now();
        let mut tx = self.db.side_write().await?;
        if cursor::find(&mut tx, name).await?.is_some_and(|at| at >= tick) {
            return Ok(false);
        }
        let (job, run) = planned;
        if jobs::enqueue(&mut tx, &job, now).await? {
            runs::insert(&mut tx, &run, now).await?;
        }
        cursor::set(&mut tx, name, tick).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The next turn (0, 1, 2, …) of a round robin named `name` (territory teams).
    pub async fn next_turn(&self, name: &str) -> Result<i64, ServiceError> {
        let mut tx = self.db.side_write().await?;
        let turn = cursor::find(&mut tx, name).await?.unwrap_or(0);
        cursor::set(&mut tx, name, turn + 1).await?;
        tx.commit().await?;
        Ok(turn)
    }

    /// The turn `next_turn` would hand out, without taking it (dry runs).
    pub async fn peek_turn(&self, name: &str) -> Result<i64, ServiceError> {
        let mut tx = self.db.read().await?;
        Ok(cursor::find(&mut tx, name).await?.unwrap_or(0))
    }

    /// Enqueue a job a worker derived from another (a scheduled run's per-group runs).
    /// False when its dedupe key was already queued.
    pub async fn enqueue_derived(&self, planned: Planned) -> Result<bool, ServiceError> {
        let now = self.clock.now();
        let (job, run) = planned;
        let mut tx = self.db.side_write().await?;
        let new = jobs::enqueue(&mut tx, &job, now).await?;
        if new {
            runs::insert(&mut tx, &run, now).await?;
        }
        tx.commit().await?;
        Ok(new)
    }

    /// Handle up to `batch` change-log entries after cursor `name`. `plan` is asked, for
    /// each entry, which runs it starts, given the enabled record-triggered workflows.
    /// Returns how many entries were read (0: the reader is caught up).
    pub async fn dispatch_changes(
        &self,
        name: &str,
        batch: u32,
        mut plan: impl FnMut(&ChangeEntry, &[StoredWorkflow]) -> Vec<Planned>,
    ) -> Result<usize, ServiceError> {
        {
            // The common case is nothing new: check with a read before taking the write lock.
            let mut tx = self.db.read().await?;
            let at = cursor::get(&mut tx, name).await?;
            if changes::after(&mut tx, at, 1).await?.is_empty() {
                return Ok(0);
            }
        }
        let mut tx = self.db.write().await?;
        let at = cursor::get(&mut tx, name).await?;
        let entries = changes::after(&mut tx, at, batch.clamp(1, 1000)).await?;
        let Some(last) = entries.last().map(|e| e.seq) else { return Ok(0) };
        let candidates = workflows::enabled_record_triggered(&mut tx).await?;
        let now = self.clock.now();
        for entry in &entries {
            for (job, run) in plan(entry, &candidates) {
                if jobs::enqueue(&mut tx, &job, now).await? {
                    runs::insert(&mut tx, &run, now).await?;
                }
            }
        }
        cursor::set(&mut tx, name, last).await?;
        tx.commit().await?;
        Ok(entries.len())
    }
}
