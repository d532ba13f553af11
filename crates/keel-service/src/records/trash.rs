use keel_domain::policy::{self, Action};
use keel_domain::value::Value;
use keel_domain::{EntityDef, Record};
use keel_store::changes::ChangeOp;
use keel_store::{Tx, records};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{access, is_trashed, load, save};
use crate::{Ctx, Service, ServiceError, refs};

impl Service {
    /// Move a record to the trash. A company that still has deals answers 409 with the
    /// count unless `cascade`, which trashes its deals with it.
    pub async fn delete(&self, ctx: &Ctx, entity_name: &str, id: Uuid, cascade: bool) -> Result<(), ServiceError> {
        let schema_entity = self.schema();
        let entity = schema_entity.entity(entity_name).ok_or(crate::ServiceError::NotFound)?;
        let mut tx = self.db.write().await?;
        let now = self.clock.now();
        self.trash_one(&mut tx, ctx, entity, id, cascade, now).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn trash_one(
        &self,
        tx: &mut Tx,
        ctx: &Ctx,
        entity: &EntityDef,
        id: Uuid,
        cascade: bool,
        now: OffsetDateTime,
    ) -> Result<(), ServiceError> {
        let before = load(tx, ctx, entity, id).await?;
        if is_trashed(&before) {
            return Err(ServiceError::NotFound);
        }
        let record_access = access(tx, ctx, entity, &before).await?;
        policy::can_modify(&ctx.actor, entity, &record_access, Action::Delete)?;
        if entity.name == "companies" {
            let schema_deals = self.schema();
            let deals = schema_deals.entity("deals").ok_or(crate::ServiceError::NotFound)?;
            let deal_ids = records::referencing_ids(tx, deals, "company_id", id, true).await?;
            if !deal_ids.is_empty() && !cascade {
                let mut details = serde_json::Map::new();
                details.insert("deal_count".into(), deal_ids.len().into());
                return Err(ServiceError::Conflict {
                    code: "has_deals",
                    message: format!(
                        "this company still has {} deal(s); delete with cascade=true to trash them too",
                        deal_ids.len()
                    ),
                    details,
                });
            }
            for deal_id in deal_ids {
                // A deal the actor cannot see still blocks: trashing the company would hide it.
                let deal = load(tx, ctx, deals, deal_id)
                    .await
                    .map_err(|_| ServiceError::Forbidden("this company has deals you may not delete".into()))?;
                let deal_access = access(tx, ctx, deals, &deal).await?;
                policy::can_modify(&ctx.actor, deals, &deal_access, Action::Delete)?;
                let mut after = deal.clone();
                after.set("deleted_at", Value::Timestamp(now));
                save(tx, ctx, deals, ChangeOp::Delete, &deal, after, now).await?;
            }
        }
        let mut after = before.clone();
        after.set("deleted_at", Value::Timestamp(now));
        save(tx, ctx, entity, ChangeOp::Delete, &before, after, now).await?;
        Ok(())
    }

    /// Bring a record back from the trash. Deals trashed together with a company (same
    /// moment) come back with it.
    pub async fn restore(
        &self,
        ctx: &Ctx,
        entity_name: &str,
        id: Uuid,
    ) -> Result<serde_json::Map<String, serde_json::Value>, ServiceError> {
        let schema_entity = self.schema();
        let entity = schema_entity.entity(entity_name).ok_or(crate::ServiceError::NotFound)?;
        let mut tx = self.db.write().await?;
        let before = load(&mut tx, ctx, entity, id).await?;
        if !is_trashed(&before) {
            return Err(ServiceError::conflict(
                "not_in_trash",
                format!("this {} is not in the trash", entity.singular),
            ));
        }
        let record_access = access(&mut tx, ctx, entity, &before).await?;
        policy::can_modify(&ctx.actor, entity, &record_access, Action::Restore)?;
        let now = self.clock.now();
        let trashed_at = before.get("deleted_at").clone();
        let restored = self.restore_one(&mut tx, ctx, entity, before, now).await?;

        if entity.name == "companies" {
            let schema_deals = self.schema();
            let deals = schema_deals.entity("deals").ok_or(crate::ServiceError::NotFound)?;
            for deal in records::referencing(&mut tx, deals, "company_id", id).await? {
                if deal.get("deleted_at") == &trashed_at {
                    self.restore_one(&mut tx, ctx, deals, deal, now).await?;
                }
            }
        }
        tx.commit().await?;
        Ok(super::present(ctx, entity, &restored))
    }

    pub(super) async fn restore_one(
        &self,
        tx: &mut Tx,
        ctx: &Ctx,
        entity: &EntityDef,
        before: Record,
        now: OffsetDateTime,
    ) -> Result<Record, ServiceError> {
        let mut after = before.clone();
        after.set("deleted_at", Value::Null);
        // The record must still fit: unique values free, required references alive.
        let fields = entity
            .fields
            .iter()
            .filter(|f| f.unique || (f.required && f.reference.is_some()))
            .map(|f| f.name.clone())
            .collect();
        let id = before.id();
        refs::check(tx, &self.schema(), entity, &after, &fields, id).await.map_err(|e| match e {
            ServiceError::Invalid(errors) => ServiceError::Conflict {
                code: "cannot_restore",
                message: format!("cannot restore: {errors}"),
                details: serde_json::Map::new(),
            },
            other => other,
        })?;
        save(tx, ctx, entity, ChangeOp::Restore, &before, after, now).await
    }
}
