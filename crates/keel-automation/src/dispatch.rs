//! Which workflow runs a change-log entry starts: record triggers matched on entity,
//! operation and the changed field's from/to, stopped at the depth limit. Pure: the
//! service's `dispatch_changes` enqueues what this returns in the cursor's transaction.

use keel_service::ChangeEntry;
use keel_service::automation::{NewJob, NewRun, Planned, StoredWorkflow};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::config::AutomationConfig;
use crate::definition::{Definition, Trigger};

/// The change-log cursor the workflow dispatcher keeps.
pub const CURSOR: &str = "workflows";
/// The job kind of a workflow run.
pub const JOB_KIND: &str = "workflow.run";

/// A workflow job's payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Payload {
    pub workflow_id: Uuid,
    pub entity: String,
    pub record_id: Uuid,
    /// 1 for a run started by a person's change; n + 1 for one started by a depth-n run.
    pub depth: i64,
    /// Run by hand: runs even when the workflow is disabled.
    #[serde(default)]
    pub manual: bool,
}

/// The request id that changes made by a run carry: `wf:<depth>:<job id>`. The change
/// log stores it, so the dispatcher knows how deep a change is.
pub fn request_id(depth: i64, job_id: Uuid) -> String {
    format!("wf:{depth}:{job_id}")
}

/// How deep a change is: 0 for a person's, n for one made by a depth-n run.
pub fn depth_of(request_id: Option<&str>) -> i64 {
    request_id
        .and_then(|r| r.strip_prefix("wf:"))
        .and_then(|r| r.split(':').next())
        .and_then(|d| d.parse().ok())
        .unwrap_or(0)
}

fn matches(trigger: &Trigger, entry: &ChangeEntry) -> bool {
    let Trigger::Record { entity, on, field, from, to } = trigger else { return false };
    if *entity != entry.entity || !on.matches(&entry.op) {
        return false;
    }
    let Some(field) = field else { return true };
    let Some(change) = entry.diff.get(field) else { return false };
    from.as_ref().is_none_or(|f| change.get("from") == Some(f))
        && to.as_ref().is_none_or(|t| change.get("to") == Some(t))
}

/// The job and run a (workflow, entry) pair makes.
fn planned(
    w: &StoredWorkflow,
    entry: &ChangeEntry,
    depth: i64,
    config: &AutomationConfig,
    now: time::OffsetDateTime,
) -> Planned {
    let id = Uuid::now_v7();
    let payload =
        Payload { workflow_id: w.id, entity: entry.entity.clone(), record_id: entry.record_id, depth, manual: false };
    let job = NewJob {
        id,
        kind: JOB_KIND.into(),
        payload: serde_json::to_value(&payload).unwrap_or_default(),
        // One job per workflow and event, whoever dispatches it and however often.
        dedupe_key: format!("workflow:{}:change:{}", w.id, entry.seq),
        max_attempts: config.max_attempts,
        run_after: now,
    };
    let run = NewRun {
        id,
        workflow_id: w.id,
        entity: Some(entry.entity.clone()),
        record_id: Some(entry.record_id),
        trigger_event: json!({
            "type": "change",
            "seq": entry.seq,
            "op": entry.op,
            "at": entry.at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
            "actor_id": entry.actor_id,
            "diff": entry.diff,
            "request_id": entry.request_id,
        }),
        depth,
    };
    (job, run)
}

/// The runs `entry` starts among `workflows` (enabled, record-triggered).
pub fn plan(
    entry: &ChangeEntry,
    workflows: &[StoredWorkflow],
    config: &AutomationConfig,
    now: time::OffsetDateTime,
) -> Vec<Planned> {
    let depth = depth_of(entry.request_id.as_deref());
    let mut out = Vec::new();
    for w in workflows {
        let Ok(def) = serde_json::from_value::<Definition>(w.definition.clone()) else {
            tracing::warn!(workflow = %w.id, "stored workflow definition does not parse; skipped");
            continue;
        };
        if !matches(&def.trigger, entry) {
            continue;
        }
        if depth >= config.max_depth {
            tracing::warn!(
                workflow = %w.id, seq = entry.seq, depth,
                "not running: the change was made {depth} workflow runs deep (limit {})", config.max_depth
            );
            continue;
        }
        out.push(planned(w, entry, depth + 1, config, now));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_travels_in_the_request_id() {
        assert_eq!(depth_of(None), 0);
        assert_eq!(depth_of(Some("3f2a-request")), 0);
        assert_eq!(depth_of(Some(&request_id(2, Uuid::nil()))), 2);
    }
}
