use keel_domain::policy::{self, Action, RowScope};
use keel_domain::schema::OnDelete;
use keel_domain::value::Value;
use keel_domain::{EntityDef, Record};
use keel_store::changes::ChangeOp;
use keel_store::{Tx, records};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{log, save};
use crate::{Ctx, Service, ServiceError};

impl Service {
    /// Remove a record for good (admins). References to it are cleared or, where the
    /// metadata says cascade (a company's deals), purged too, each with its own change-log
    /// entry, rather than left to the database's ON DELETE where nothing would record it.
    pub async fn purge(&self, ctx: &Ctx, entity_name: &str, id: Uuid) -> Result<(), ServiceError> {
        let schema_entity = self.schema();
        let entity = schema_entity.entity(entity_name).ok_or(crate::ServiceError::NotFound)?;
        let mut tx = self.db.write().await?;
        let record = super::load(&mut tx, ctx, entity, id).await?;
        let record_access = super::access(&mut tx, ctx, entity, &record).await?;
        policy::can_modify(&ctx.actor, entity, &record_access, Action::Purge)?;
        let now = self.clock.now();
        self.purge_one(&mut tx, ctx, entity, record, now, 0).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn purge_one(
        &self,
        tx: &mut Tx,
        ctx: &Ctx,
        entity: &EntityDef,
        record: Record,
        now: OffsetDateTime,
        depth: u8,
    ) -> Result<(), ServiceError> {
        let id = record.id().ok_or(ServiceError::NotFound)?;
        if depth > 4 {
            return Err(ServiceError::Internal("purge cascades too deep".into()));
        }
        let schema = self.schema();
        for other in schema.entities.values() {
            for field in other.fields.iter().filter(|f| f.reference.as_deref() == Some(entity.name.as_str())) {
                let dependants = records::referencing(tx, other, &field.name, id).await?;
                if dependants.is_empty() {
                    continue;
                }
                match field.on_delete.unwrap_or(OnDelete::Restrict) {
                    OnDelete::Cascade => {
                        for d in dependants {
                            Box::pin(self.purge_one(tx, ctx, other, d, now, depth + 1)).await?;
                        }
                    }
                    OnDelete::SetNull => {
                        for d in dependants {
                            let mut after = d.clone();
                            after.set(field.name.clone(), Value::Null);
                            save(tx, ctx, other, ChangeOp::Update, &d, after, now).await?;
                        }
                    }
                    OnDelete::Restrict => {
                        return Err(ServiceError::conflict(
                            "still_referenced",
                            format!(
                                "{} {} records still reference this {} through `{}`",
                                dependants.len(),
                                other.name,
                                entity.singular,
                                field.name
                            ),
                        ));
                    }
                }
            }
        }
        // Re-read: a SET NULL above may have touched this very row (self-references).
        let current = records::get(tx, entity, id, &RowScope::All).await?.unwrap_or(record);
        records::purge(tx, entity, id).await?;
        keel_store::shares::delete_for_record(tx, &entity.name, id).await?;
        log(tx, ctx, entity, ChangeOp::Purge, now, Some(&current), None).await
    }
}
