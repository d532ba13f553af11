use keel_domain::Record;
use keel_store::changes::{self, ChangeOp, NewChange};
use keel_store::records;

use crate::{Service, ServiceError, diff};

/// Rows per INSERT: under SQLite's bound-parameter limit for our widest table.
const CHUNK: usize = 400;

impl Service {
    /// Write complete, already-valid records (the demo seeder's) in one transaction per
    /// call, with their change-log entries. This skips per-record validation and
    /// uniqueness look-ups, which is what makes a million contacts take minutes: only
    /// trusted generators may call it, never request input.
    pub async fn load_trusted(&self, entity_name: &str, batch: &[Record]) -> Result<(), ServiceError> {
        let schema_entity = self.schema();
        let entity = schema_entity.entity(entity_name).ok_or(crate::ServiceError::NotFound)?;
        let now = self.clock.now();
        let mut tx = self.db.write().await?;
        for chunk in batch.chunks(CHUNK) {
            records::insert_many(&mut tx, entity, chunk).await?;
            let log: Vec<NewChange> = chunk
                .iter()
                .filter_map(|r| {
                    Some(NewChange {
                        at: now,
                        actor_id: None,
                        entity: entity.name.clone(),
                        record_id: r.id()?,
                        op: ChangeOp::Create,
                        diff: diff::diff(entity, None, Some(r)),
                        request_id: None,
                    })
                })
                .collect();
            changes::append_many(&mut tx, &log).await?;
        }
        // One audit entry for the whole batch, not one per record: see `records_loaded`.
        crate::audit::records_loaded(&mut tx, entity, batch, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// How many records an entity holds, trash included (for "is this database empty?").
    pub async fn count_all(&self, entity_name: &str) -> Result<i64, ServiceError> {
        let schema_entity = self.schema();
        let entity = schema_entity.entity(entity_name).ok_or(crate::ServiceError::NotFound)?;
        let mut tx = self.db.read().await?;
        Ok(records::count_all(&mut tx, entity).await?)
    }
}
