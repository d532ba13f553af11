//! Record use cases, one file per verb. All entities share them; their differences are
//! metadata and the domain rules.

mod aggregate;
pub mod batch;
mod bulk;
mod create;
pub mod export;
mod load;
pub mod merge;
mod purge;
mod read;
mod share;
mod trash;
mod update;

use keel_domain::policy::{self, Access, SharePermission};
use keel_domain::value::Value;
use keel_domain::{EntityDef, Record};
use keel_store::changes::{self, ChangeOp, NewChange};
use keel_store::{Tx, records, shares};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{Ctx, ServiceError, diff};

pub use create::{Created, IdempotencyKey};
pub use share::{Grantee, ShareView};

/// A page of records as the actor may see them (field rules applied).
#[derive(Debug, Clone)]
pub struct PageView {
    pub data: Vec<serde_json::Map<String, serde_json::Value>>,
    pub next_cursor: Option<String>,
    pub total: Option<i64>,
}

fn owns(ctx: &Ctx, entity: &EntityDef, record: &Record) -> bool {
    policy::owner_fields(&entity.name).iter().any(|f| record.get(f).as_uuid() == Some(ctx.actor.user_id))
}

/// A record as the actor may see it: fields they may not read are null and listed in
/// `_redacted`, so a client can tell "hidden" from "empty".
pub(crate) fn present(ctx: &Ctx, entity: &EntityDef, record: &Record) -> serde_json::Map<String, serde_json::Value> {
    let mut json = entity.public_json(record);
    let hidden = policy::redacted_fields(&ctx.actor, entity, owns(ctx, entity, record));
    if !hidden.is_empty() {
        for f in &hidden {
            json.insert(f.clone(), serde_json::Value::Null);
        }
        json.insert("_redacted".into(), serde_json::json!(hidden));
    }
    json
}

/// The facts the policy needs about one record the actor can see.
async fn access(tx: &mut Tx, ctx: &Ctx, entity: &EntityDef, record: &Record) -> Result<Access, ServiceError> {
    let owned = owns(ctx, entity, record);
    let mut teammate = false;
    let teams = ctx.actor.teams();
    if !teams.is_empty() {
        for f in policy::owner_fields(&entity.name) {
            if let Some(owner) = record.get(f).as_uuid()
                && shares::team_of(tx, owner).await?.is_some_and(|t| teams.contains(&t))
            {
                teammate = true;
                break;
            }
        }
    }
    let mut share = None;
    if policy::shareable(&entity.name)
        && let Some(id) = record.id()
    {
        for p in shares::granted(tx, &entity.name, id, ctx.actor.user_id, ctx.actor.team_id).await? {
            match SharePermission::parse(&p) {
                Some(SharePermission::Edit) => share = Some(SharePermission::Edit),
                Some(SharePermission::View) if share.is_none() => share = Some(SharePermission::View),
                _ => {}
            }
        }
    }
    Ok(Access { owned, teammate, share })
}

/// Load a record for a write: absent (or invisible to the actor) is `NotFound`.
async fn load(tx: &mut Tx, ctx: &Ctx, entity: &EntityDef, id: Uuid) -> Result<Record, ServiceError> {
    let scope = policy::read_scope(&ctx.actor, entity);
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
    changes::append(tx, &entry).await?;
    // The audit entry (same diff, plus IP and user agent) commits with the change.
    crate::audit::record_changed(tx, ctx, &entry).await
}

/// Write `after` over `before` (version check included) and log it.
pub(crate) async fn save(
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
