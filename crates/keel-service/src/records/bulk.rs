use keel_domain::FieldErrors;
use keel_domain::policy::{self, Action};
use keel_domain::value::Value;
use keel_store::changes::ChangeOp;
use keel_store::records;
use uuid::Uuid;

use super::{access, is_trashed, load, save};
use crate::{Ctx, Service, ServiceError};

pub const MAX_BULK: usize = 1000;

fn check_ids(ids: &[Uuid]) -> Result<(), ServiceError> {
    if ids.is_empty() || ids.len() > MAX_BULK {
        return Err(
            FieldErrors::single("ids", "invalid_count", format!("ids must hold 1 to {MAX_BULK} record ids")).into()
        );
    }
    Ok(())
}

/// Name the record a bulk action stopped at, so the caller can fix and retry.
fn at_record(id: Uuid, e: ServiceError) -> ServiceError {
    match e {
        ServiceError::NotFound => {
            ServiceError::Invalid(FieldErrors::single("ids", "not_found", format!("record {id} does not exist")))
        }
        ServiceError::Forbidden(m) => ServiceError::Forbidden(format!("record {id}: {m}")),
        ServiceError::Conflict { code, message, details } => {
            ServiceError::Conflict { code, message: format!("record {id}: {message}"), details }
        }
        other => other,
    }
}

impl Service {
    /// Trash many records at once: all of them or, if any one cannot be, none.
    pub async fn bulk_delete(
        &self,
        ctx: &Ctx,
        entity_name: &str,
        ids: &[Uuid],
        cascade: bool,
    ) -> Result<usize, ServiceError> {
        check_ids(ids)?;
        let schema_entity = self.schema();
        let entity = schema_entity.entity(entity_name).ok_or(crate::ServiceError::NotFound)?;
        let mut tx = self.db.write().await?;
        let now = self.clock.now();
        let mut unique = ids.to_vec();
        unique.sort();
        unique.dedup();
        for id in &unique {
            self.trash_one(&mut tx, ctx, entity, *id, cascade, now).await.map_err(|e| at_record(*id, e))?;
        }
        tx.commit().await?;
        Ok(unique.len())
    }

    /// Give many records a new owner: all of them or none.
    pub async fn bulk_change_owner(
        &self,
        ctx: &Ctx,
        entity_name: &str,
        ids: &[Uuid],
        owner_id: Uuid,
    ) -> Result<usize, ServiceError> {
        check_ids(ids)?;
        let schema_entity = self.schema();
        let entity = schema_entity.entity(entity_name).ok_or(crate::ServiceError::NotFound)?;
        if !entity.owned {
            return Err(ServiceError::NotFound);
        }
        policy::can_assign_owner(&ctx.actor, entity, owner_id).map_err(ServiceError::ForbiddenFields)?;
        let schema_users = self.schema();
        let users = schema_users.entity("users").ok_or(crate::ServiceError::NotFound)?;
        let mut tx = self.db.write().await?;
        if !records::exists_live(&mut tx, users, owner_id).await? {
            return Err(FieldErrors::single("owner_id", "not_found", format!("user {owner_id} does not exist")).into());
        }
        let now = self.clock.now();
        let mut unique = ids.to_vec();
        unique.sort();
        unique.dedup();
        let mut updated = 0;
        for id in &unique {
            let before = load(&mut tx, ctx, entity, *id).await.map_err(|e| at_record(*id, e))?;
            if is_trashed(&before) {
                return Err(at_record(*id, ServiceError::NotFound));
            }
            let record_access = access(&mut tx, ctx, entity, &before).await?;
            policy::can_modify(&ctx.actor, entity, &record_access, Action::ChangeOwner)
                .map_err(|e| at_record(*id, e.into()))?;
            if before.owner_id() == Some(owner_id) {
                continue;
            }
            let mut after = before.clone();
            after.set("owner_id", Value::Uuid(owner_id));
            save(&mut tx, ctx, entity, ChangeOp::Update, &before, after, now).await?;
            updated += 1;
        }
        tx.commit().await?;
        Ok(updated)
    }
}
