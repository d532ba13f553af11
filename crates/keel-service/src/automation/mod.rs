//! Workflow automation's use cases: workflow definitions (admins, audited), the
//! dispatcher's step (change log → jobs, with the cursor, in one transaction), and the
//! queue and run-history calls the workers make. Workflow semantics (triggers,
//! conditions, templates, actions) live in keel-automation, which calls these.

mod dispatch;
mod queue;
mod webhooks;
mod workflows;

pub use dispatch::Planned;
pub use keel_store::automation::jobs::{Job, JobStatus, NewJob};
pub use keel_store::automation::runs::{NewRun, Run, Step};
pub use keel_store::automation::webhooks::{Attempt, Delivery, StoredWebhook};
pub use keel_store::automation::workflows::StoredWorkflow;
pub use queue::JobOutcome;
pub use webhooks::{PlannedDelivery, WEBHOOK_ENTITIES, WebhookEvent, WebhookInput};
pub use workflows::WorkflowInput;

use keel_domain::policy::{self, AdminPower};

use crate::{Ctx, ServiceError};

fn may_manage(ctx: &Ctx) -> Result<(), ServiceError> {
    Ok(policy::can_administer(&ctx.actor, AdminPower::ManageWorkflows)?)
}

impl crate::Service {
    /// May the actor manage workflows? Asked before a request body is even looked at.
    pub fn list_workflows_allowed(&self, ctx: &Ctx) -> Result<(), ServiceError> {
        may_manage(ctx)
    }
}
