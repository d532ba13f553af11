use keel_domain::FieldErrors;
use keel_domain::policy::{self, Action, SharePermission};
use keel_store::changes::{self, ChangeOp};
use keel_store::records;
use keel_store::shares::{self, Share};
use serde_json::json;
use uuid::Uuid;

use super::{access, load};
use crate::{Ctx, Service, ServiceError};

/// Who a record is shared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grantee {
    User(Uuid),
    Team(Uuid),
}

pub type ShareView = Share;

/// Shares are recorded in the change log as their own entity, so the audit trail and
/// sync see permission changes like any other change.
const SHARES: &str = "record_shares";

fn share_diff(s: &Share, removed: bool) -> serde_json::Value {
    let value = json!({
        "entity": s.entity, "record_id": s.record_id, "user_id": s.user_id,
        "team_id": s.team_id, "permission": s.permission,
    });
    let mut diff = serde_json::Map::new();
    if let Some(fields) = value.as_object() {
        for (k, v) in fields {
            let (from, to) = if removed { (v.clone(), json!(null)) } else { (json!(null), v.clone()) };
            diff.insert(k.clone(), json!({ "from": from, "to": to }));
        }
    }
    serde_json::Value::Object(diff)
}

impl Service {
    /// Share a company, contact or deal with a user or a team. Sharing again with the
    /// same grantee changes the permission.
    pub async fn share(
        &self,
        ctx: &Ctx,
        entity_name: &str,
        id: Uuid,
        grantee: Grantee,
        permission: SharePermission,
    ) -> Result<Share, ServiceError> {
        let schema_entity = self.schema();
        let entity = schema_entity.entity(entity_name).ok_or(crate::ServiceError::NotFound)?;
        if !policy::shareable(&entity.name) {
            return Err(ServiceError::NotFound);
        }
        let mut tx = self.db.write().await?;
        let record = load(&mut tx, ctx, entity, id).await?;
        let record_access = access(&mut tx, ctx, entity, &record).await?;
        policy::can_modify(&ctx.actor, entity, &record_access, Action::Share)?;
        let (target, field) = match grantee {
            Grantee::User(u) => (u, "users"),
            Grantee::Team(t) => (t, "teams"),
        };
        let schema = self.schema();
        let target_entity = schema.entity(field).ok_or(ServiceError::NotFound)?;
        if !records::exists_live(&mut tx, target_entity, target).await? {
            let name = if field == "users" { "user_id" } else { "team_id" };
            return Err(FieldErrors::single(name, "not_found", format!("{name} {target} does not exist")).into());
        }
        let now = self.clock.now();
        let existing = shares::for_record(&mut tx, &entity.name, id).await?.into_iter().find(|s| match grantee {
            Grantee::User(u) => s.user_id == Some(u),
            Grantee::Team(t) => s.team_id == Some(t),
        });
        let share = match existing {
            Some(mut s) => {
                if s.permission != permission.as_str() {
                    let old = s.clone();
                    shares::set_permission(&mut tx, s.id, permission.as_str()).await?;
                    s.permission = permission.as_str().to_string();
                    let diff = json!({ "permission": { "from": old.permission, "to": s.permission } });
                    self.log_share(&mut tx, ctx, &s, ChangeOp::Update, diff).await?;
                }
                s
            }
            None => {
                let s = Share {
                    id: Uuid::now_v7(),
                    entity: entity.name.clone(),
                    record_id: id,
                    user_id: matches!(grantee, Grantee::User(_)).then_some(target),
                    team_id: matches!(grantee, Grantee::Team(_)).then_some(target),
                    permission: permission.as_str().to_string(),
                    created_by: Some(ctx.actor.user_id),
                    created_at: now,
                };
                shares::insert(&mut tx, &s).await?;
                self.log_share(&mut tx, ctx, &s, ChangeOp::Create, share_diff(&s, false)).await?;
                s
            }
        };
        tx.commit().await?;
        Ok(share)
    }

    /// Who a record is shared with (anyone who can see the record may ask).
    pub async fn shares(&self, ctx: &Ctx, entity_name: &str, id: Uuid) -> Result<Vec<Share>, ServiceError> {
        let schema_entity = self.schema();
        let entity = schema_entity.entity(entity_name).ok_or(crate::ServiceError::NotFound)?;
        if !policy::shareable(&entity.name) {
            return Err(ServiceError::NotFound);
        }
        let mut tx = self.db.read().await?;
        load(&mut tx, ctx, entity, id).await?;
        Ok(shares::for_record(&mut tx, &entity.name, id).await?)
    }

    pub async fn unshare(&self, ctx: &Ctx, entity_name: &str, id: Uuid, share_id: Uuid) -> Result<(), ServiceError> {
        let schema_entity = self.schema();
        let entity = schema_entity.entity(entity_name).ok_or(crate::ServiceError::NotFound)?;
        if !policy::shareable(&entity.name) {
            return Err(ServiceError::NotFound);
        }
        let mut tx = self.db.write().await?;
        let record = load(&mut tx, ctx, entity, id).await?;
        let record_access = access(&mut tx, ctx, entity, &record).await?;
        policy::can_modify(&ctx.actor, entity, &record_access, Action::Share)?;
        let share = shares::for_record(&mut tx, &entity.name, id)
            .await?
            .into_iter()
            .find(|s| s.id == share_id)
            .ok_or(ServiceError::NotFound)?;
        shares::delete(&mut tx, share_id).await?;
        self.log_share(&mut tx, ctx, &share, ChangeOp::Purge, share_diff(&share, true)).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn log_share(
        &self,
        tx: &mut keel_store::Tx,
        ctx: &Ctx,
        share: &Share,
        op: ChangeOp,
        diff: serde_json::Value,
    ) -> Result<(), ServiceError> {
        let now = self.clock.now();
        let event = crate::audit::Event {
            action: crate::audit::AuditAction::PermissionChanged,
            entity: Some(&share.entity),
            record_id: Some(share.record_id),
            details: json!({ "kind": "share", "op": op.as_str(), "share_id": share.id, "diff": diff.clone() }),
        };
        crate::audit::append(tx, crate::audit::Source::of(ctx), now, vec![event]).await?;
        let entry = ctx.change(now, SHARES, share.id, op, diff);
        Ok(changes::append(tx, &entry).await?)
    }
}
