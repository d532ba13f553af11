//! Workflow definitions: list, read, create, replace, delete. Admins only (the policy's
//! `ManageWorkflows`); every change goes to the change log (entity `workflows`) and the
//! audit log in the same transaction. The definition arrives validated by
//! keel-automation; here it is a JSON document.

use keel_store::automation::{jobs, runs, workflows};
use keel_store::changes::{self, ChangeOp};
use serde_json::{Value as Json, json};
use uuid::Uuid;

use super::{Job, NewJob, NewRun, Run, Step, StoredWorkflow, may_manage};
use crate::{Ctx, Service, ServiceError};

/// A workflow as saved: the validated definition and the facts the store indexes.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkflowInput {
    pub name: String,
    pub description: Option<String>,
    pub definition: Json,
    /// The entity a record trigger watches; None for schedule and manual triggers.
    pub trigger_entity: Option<String>,
    pub enabled: bool,
}

fn diff(before: Option<&StoredWorkflow>, after: Option<&StoredWorkflow>) -> Json {
    let fields = |w: Option<&StoredWorkflow>| {
        w.map(|w| {
            [
                ("name", json!(w.name)),
                ("description", json!(w.description)),
                ("enabled", json!(w.enabled)),
                ("definition", w.definition.clone()),
            ]
        })
    };
    let (b, a) = (fields(before), fields(after));
    let mut out = serde_json::Map::new();
    for i in 0..4 {
        let from = b.as_ref().map_or(Json::Null, |b| b[i].1.clone());
        let to = a.as_ref().map_or(Json::Null, |a| a[i].1.clone());
        if from != to {
            let name = b.as_ref().or(a.as_ref()).map_or("", |x| x[i].0);
            out.insert(name.into(), json!({ "from": from, "to": to }));
        }
    }
    Json::Object(out)
}

impl Service {
    pub async fn list_workflows(&self, ctx: &Ctx) -> Result<Vec<StoredWorkflow>, ServiceError> {
        may_manage(ctx)?;
        let mut tx = self.db.read().await?;
        Ok(workflows::all(&mut tx).await?)
    }

    pub async fn get_workflow(&self, ctx: &Ctx, id: Uuid) -> Result<StoredWorkflow, ServiceError> {
        may_manage(ctx)?;
        let mut tx = self.db.read().await?;
        workflows::get(&mut tx, id).await?.ok_or(ServiceError::NotFound)
    }

    pub async fn create_workflow(&self, ctx: &Ctx, input: WorkflowInput) -> Result<StoredWorkflow, ServiceError> {
        may_manage(ctx)?;
        let now = self.clock.now();
        let w = StoredWorkflow {
            id: Uuid::now_v7(),
            name: input.name,
            description: input.description,
            definition: input.definition,
            trigger_entity: input.trigger_entity,
            enabled: input.enabled,
            created_by: Some(ctx.actor.user_id).filter(|id| !id.is_nil()),
            updated_by: Some(ctx.actor.user_id).filter(|id| !id.is_nil()),
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let mut tx = self.db.write().await?;
        workflows::insert(&mut tx, &w).await?;
        self.log_workflow(&mut tx, ctx, ChangeOp::Create, None, Some(&w)).await?;
        tx.commit().await?;
        Ok(w)
    }

    /// Replace a workflow's name, description, definition and enabled flag. The saver
    /// becomes the user it acts as. `if_match`: the version the caller last saw.
    pub async fn update_workflow(
        &self,
        ctx: &Ctx,
        id: Uuid,
        input: WorkflowInput,
        if_match: Option<i64>,
    ) -> Result<StoredWorkflow, ServiceError> {
        may_manage(ctx)?;
        let mut tx = self.db.write().await?;
        let before = workflows::get(&mut tx, id).await?.ok_or(ServiceError::NotFound)?;
        if let Some(expected) = if_match
            && expected != before.version
        {
            return Err(ServiceError::PreconditionFailed { expected, current: before.version });
        }
        let after = StoredWorkflow {
            name: input.name,
            description: input.description,
            definition: input.definition,
            trigger_entity: input.trigger_entity,
            enabled: input.enabled,
            updated_by: Some(ctx.actor.user_id).filter(|id| !id.is_nil()),
            updated_at: self.clock.now(),
            version: before.version + 1,
            ..before.clone()
        };
        if !workflows::update(&mut tx, &after, before.version).await? {
            return Err(ServiceError::PreconditionFailed { expected: before.version, current: before.version + 1 });
        }
        self.log_workflow(&mut tx, ctx, ChangeOp::Update, Some(&before), Some(&after)).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Delete a workflow for good. Its run history stays; queued jobs find it gone and
    /// finish as skipped.
    pub async fn delete_workflow(&self, ctx: &Ctx, id: Uuid) -> Result<(), ServiceError> {
        may_manage(ctx)?;
        let mut tx = self.db.write().await?;
        let before = workflows::get(&mut tx, id).await?.ok_or(ServiceError::NotFound)?;
        workflows::delete(&mut tx, id).await?;
        self.log_workflow(&mut tx, ctx, ChangeOp::Purge, Some(&before), None).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A workflow's runs, newest first, each with every try of every action.
    pub async fn workflow_runs(&self, ctx: &Ctx, id: Uuid, limit: u32) -> Result<Vec<(Run, Vec<Step>)>, ServiceError> {
        may_manage(ctx)?;
        let mut tx = self.db.read().await?;
        workflows::get(&mut tx, id).await?.ok_or(ServiceError::NotFound)?;
        let mut out = Vec::new();
        for run in runs::of_workflow(&mut tx, id, u64::from(limit.clamp(1, 200))).await? {
            let steps = runs::steps(&mut tx, run.id).await?;
            out.push((run, steps));
        }
        Ok(out)
    }

    /// Queue a run that a person asked for (a manual run on a record).
    pub async fn enqueue_workflow_run(&self, ctx: &Ctx, job: NewJob, run: NewRun) -> Result<Job, ServiceError> {
        may_manage(ctx)?;
        let now = self.clock.now();
        let mut tx = self.db.side_write().await?;
        if !jobs::enqueue(&mut tx, &job, now).await? {
            return Err(ServiceError::conflict("duplicate", "this run was already queued"));
        }
        runs::insert(&mut tx, &run, now).await?;
        let stored = jobs::get(&mut tx, job.id).await?.ok_or(ServiceError::NotFound)?;
        tx.commit().await?;
        Ok(stored)
    }

    async fn log_workflow(
        &self,
        tx: &mut keel_store::Tx,
        ctx: &Ctx,
        op: ChangeOp,
        before: Option<&StoredWorkflow>,
        after: Option<&StoredWorkflow>,
    ) -> Result<(), ServiceError> {
        let record_id = after.or(before).map(|w| w.id).ok_or(ServiceError::NotFound)?;
        let entry = ctx.change(self.clock.now(), "workflows", record_id, op, diff(before, after));
        changes::append(tx, &entry).await?;
        crate::audit::record_changed(tx, ctx, &entry).await
    }
}
