//! Record use cases, one file per verb. All entities share them; their differences are
//! metadata and the domain rules.

mod bulk;
mod create;
mod load;
mod purge;
mod read;
mod trash;
mod update;

use keel_domain::value::Value;
use keel_domain::{EntityDef, Record};
use keel_store::changes::{self, ChangeOp, NewChange};
use keel_store::{Tx, records};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{Ctx, ServiceError, diff};

pub use create::{Created, IdempotencyKey};

/// Load a record for a write: absent (or invisible to the actor) is `NotFound`.
async fn load(tx: &mut Tx, ctx: &Ctx, entity: &EntityDef, id: Uuid) -> Result<Record, ServiceError> {
    let scope = keel_domain::policy::read_scope(&ctx.actor, entity);
    records::get(tx, entity, id, &scope).await?.ok_or(ServiceError::NotFound)
}

fn is_trashed(record: &Record) -> bool {
    !record.get("deleted_at").is_null()
}

/// Append the change-log entry for one mutation.
async fn log(
    tx: &mut Tx,
    ctx: &Ctx,
    entity: &EntityDef,
    op: ChangeOp,
    at: OffsetDateTime,
    before: Option<&Record>,
    after: Option<&Record>,
) -> Result<(), ServiceError> {
    let record_id = after
        .or(before)
        .and_then(Record::id)
        .ok_or_else(|| ServiceError::Internal("change without a record id".into()))?;
    let entry = NewChange {
        at,
        // The nil id is the system (CLI, first run): recorded as no actor.
        actor_id: Some(ctx.actor.user_id).filter(|id| !id.is_nil()),
        entity: entity.name.clone(),
        record_id,
        op,
        diff: diff::diff(entity, before, after),
        request_id: ctx.request_id.clone(),
    };
    Ok(changes::append(tx, &entry).await?)
}

/// Write `after` over `before` (version check included) and log it.
async fn save(
    tx: &mut Tx,
    ctx: &Ctx,
    entity: &EntityDef,
    op: ChangeOp,
    before: &Record,
    mut after: Record,
    now: OffsetDateTime,
) -> Result<Record, ServiceError> {
    let id = before.id().ok_or(ServiceError::NotFound)?;
    after.set("updated_at", Value::Timestamp(now));
    after.set("version", Value::Int(before.version() + 1));
    let changes = diff::changed_fields(entity, before, &after);
    if !records::update(tx, entity, id, before.version(), &changes).await? {
        let current =
            records::get(tx, entity, id, &keel_domain::policy::RowScope::All).await?.map_or(0, |r| r.version());
        return Err(ServiceError::PreconditionFailed { expected: before.version(), current });
    }
    log(tx, ctx, entity, op, now, Some(before), Some(&after)).await?;
    Ok(after)
}
