use std::collections::BTreeSet;

use keel_domain::policy::{self, Action};
use keel_domain::validate::prepare_write;
use keel_domain::value::Value;
use keel_store::changes::ChangeOp;
use serde_json::{Map, Value as Json};
use uuid::Uuid;

use super::{access, is_trashed, load, present, save};
use crate::{Ctx, Service, ServiceError, refs};

impl Service {
    /// Partial update. `if_match` is the version the caller last saw (412 when stale).
    pub async fn update(
        &self,
        ctx: &Ctx,
        entity_name: &str,
        id: Uuid,
        mut input: Map<String, Json>,
        if_match: Option<i64>,
    ) -> Result<Map<String, Json>, ServiceError> {
        let schema_entity = self.schema();
        let entity = schema_entity.entity(entity_name).ok_or(crate::ServiceError::NotFound)?;
        let password_hash = self.take_password_for_update(ctx, entity, &mut input, id).await?;
        let mut tx = self.db.write().await?;
        let before = load(&mut tx, ctx, entity, id).await?;
        let record_access = access(&mut tx, ctx, entity, &before).await?;
        policy::can_modify(&ctx.actor, entity, &record_access, Action::Update)?;
        if let Some(expected) = if_match
            && expected != before.version()
        {
            return Err(ServiceError::PreconditionFailed { expected, current: before.version() });
        }
        if is_trashed(&before) {
            return Err(ServiceError::conflict(
                "in_trash",
                format!("this {} is in the trash; restore it before editing", entity.singular),
            ));
        }

        let wc = self.write_context();
        let prepared = prepare_write(entity, Some(&before), &input, &wc)?;
        let mut after = prepared.after;
        if let Some(h) = password_hash {
            after.set("password_hash", Value::Text(h));
        }
        if entity.owned && after.owner_id() != before.owner_id() {
            policy::can_modify(&ctx.actor, entity, &record_access, Action::ChangeOwner).map_err(|d| {
                ServiceError::ForbiddenFields(keel_domain::FieldErrors::single("owner_id", "forbidden", d.0))
            })?;
            match after.owner_id() {
                Some(_) => {}
                None => {
                    return Err(keel_domain::FieldErrors::single(
                        "owner_id",
                        "required",
                        "A record must have an owner",
                    )
                    .into());
                }
            }
        }
        let changed: BTreeSet<String> = entity
            .fields
            .iter()
            .filter(|f| before.get(&f.name) != after.get(&f.name))
            .map(|f| f.name.clone())
            .collect();
        if changed.is_empty() {
            return Ok(present(ctx, entity, &before));
        }
        policy::check_field_writes(&ctx.actor, entity, &record_access, changed.iter().map(String::as_str))
            .map_err(ServiceError::ForbiddenFields)?;
        refs::check(&mut tx, &self.schema(), entity, &after, &changed, Some(id)).await?;
        if entity.name == "users" && changed.contains("role") {
            crate::roles::check_user_role(self, &mut tx, after.text("role")).await?;
        }
        let saved = save(&mut tx, ctx, entity, ChangeOp::Update, &before, after, wc.now).await?;
        crate::auth::after_user_update(&mut tx, entity, &before, &saved).await?;
        permission_changed(&mut tx, ctx, entity, &before, &saved, wc.now).await?;
        tx.commit().await?;
        Ok(present(ctx, entity, &saved))
    }
}

/// A user's role, team or active flag decides what they may do: record the change as
/// `permission.changed` too, so it stands out in the audit log.
async fn permission_changed(
    tx: &mut keel_store::Tx,
    ctx: &Ctx,
    entity: &keel_domain::EntityDef,
    before: &keel_domain::Record,
    after: &keel_domain::Record,
    now: time::OffsetDateTime,
) -> Result<(), ServiceError> {
    if entity.name != "users" {
        return Ok(());
    }
    let mut diff = serde_json::Map::new();
    for field in ["role", "team_id", "is_active"] {
        if before.get(field) != after.get(field) {
            diff.insert(
                field.into(),
                serde_json::json!({ "from": before.get(field).to_json(), "to": after.get(field).to_json() }),
            );
        }
    }
    if diff.is_empty() {
        return Ok(());
    }
    let event = crate::audit::Event {
        action: crate::audit::AuditAction::PermissionChanged,
        entity: Some("users"),
        record_id: after.id(),
        details: serde_json::json!({ "kind": "user", "diff": diff }),
    };
    crate::audit::append(tx, crate::audit::Source::of(ctx), now, vec![event]).await
}
