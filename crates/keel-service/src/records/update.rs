use std::collections::BTreeSet;

use keel_domain::policy::{self, Action};
use keel_domain::validate::prepare_write;
use keel_domain::value::Value;
use keel_store::changes::ChangeOp;
use serde_json::{Map, Value as Json};
use uuid::Uuid;

use super::{is_trashed, load, save};
use crate::{Ctx, Service, ServiceError, auth::password, refs};

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
        let entity = self.entity(entity_name)?;
        let password_hash = password::take_from_input(entity, &mut input, false)?;
        let mut tx = self.db.write().await?;
        let before = load(&mut tx, ctx, entity, id).await?;
        policy::can_modify(&ctx.actor, entity, &before, Action::Update)?;
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
            policy::can_modify(&ctx.actor, entity, &before, Action::ChangeOwner)?;
            match after.owner_id() {
                Some(owner) => policy::can_assign_owner(&ctx.actor, owner)?,
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
            return Ok(entity.public_json(&before));
        }
        refs::check(&mut tx, &self.schema, entity, &after, &changed, Some(id)).await?;
        let saved = save(&mut tx, ctx, entity, ChangeOp::Update, &before, after, wc.now).await?;
        tx.commit().await?;
        Ok(entity.public_json(&saved))
    }
}
