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
