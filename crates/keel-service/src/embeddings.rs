//! Embeddings of CRM records for the assistant's semantic retrieval. The indexer (in
//! keel-assistant, run by `keel serve`) reads the change log after its stored cursor
//! (`embedding_work`), embeds what changed and writes the vectors, the deletions and the
//! new cursor in one transaction (`embedding_apply`). Reads (`semantic_chunk`) go through
//! the policy: only vectors of rows the asking user may see, filtered in SQL.

use std::collections::BTreeMap;

use keel_domain::policy::{self, RowScope};
use keel_domain::value::Record;
use keel_store::automation::cursor;
use keel_store::embeddings as store;
use keel_store::{changes, records};
use uuid::Uuid;

pub use keel_store::embeddings::NewEmbedding;

use crate::{Ctx, Service, ServiceError};

/// The entities that are embedded.
pub const EMBEDDED: [&str; 4] = ["companies", "contacts", "deals", "activities"];

/// The indexer's change-log cursor (a row of `automation_cursors`).
pub const CURSOR: &str = "embeddings";

/// What the indexer has to do for one batch of change-log entries.
#[derive(Debug, Clone, Default)]
pub struct EmbeddingWork {
    /// The cursor the batch starts after (checked again when applying it).
    pub from_seq: i64,
    /// The last entry read: the cursor moves here when the batch is applied.
    pub last_seq: i64,
    /// Live records the entries touched, as stored now: (entity, record).
    pub live: Vec<(String, Record)>,
    /// Records the entries touched that are gone or in the trash: (entity, id).
    pub gone: Vec<(String, Uuid)>,
}

impl Service {
    /// Up to `batch` change-log entries after the indexer's cursor, as the records they
    /// touched (each once, in its current state). None when the indexer is caught up.
    /// No policy: the system indexes every record; reads are scoped per user.
    pub async fn embedding_work(&self, batch: u32) -> Result<Option<EmbeddingWork>, ServiceError> {
        let schema = self.schema();
        let mut tx = self.db.read().await?;
        let from_seq = cursor::find(&mut tx, CURSOR).await?.unwrap_or(0);
        let entries = changes::after(&mut tx, from_seq, batch.clamp(1, 1000)).await?;
        let Some(last_seq) = entries.last().map(|e| e.seq) else { return Ok(None) };
        let mut touched: BTreeMap<&str, Vec<Uuid>> = BTreeMap::new();
        for e in &entries {
            if let Some(name) = EMBEDDED.iter().find(|n| **n == e.entity) {
                let ids = touched.entry(name).or_default();
                if !ids.contains(&e.record_id) {
                    ids.push(e.record_id);
                }
            }
        }
        let mut work = EmbeddingWork { from_seq, last_seq, ..EmbeddingWork::default() };
        for (name, ids) in touched {
            let Some(entity) = schema.entity(name) else { continue };
            let live = records::live_by_ids(&mut tx, entity, &ids, &RowScope::All).await?;
            for id in ids {
                if !live.iter().any(|r| r.id() == Some(id)) {
                    work.gone.push((name.to_string(), id));
                }
            }
            work.live.extend(live.into_iter().map(|r| (name.to_string(), r)));
        }
        Ok(Some(work))
    }

    /// The stored content hashes of these records of `entity`.
    pub async fn embedding_hashes(&self, entity: &str, ids: &[Uuid]) -> Result<BTreeMap<Uuid, String>, ServiceError> {
        let mut tx = self.db.read().await?;
        Ok(store::hashes(&mut tx, entity, ids).await?.into_iter().collect())
    }

    /// Write a batch's embeddings and deletions and move the cursor to `work.last_seq`,
    /// in one transaction. False (and nothing written) when another process moved the
    /// cursor since the batch was read.
    pub async fn embedding_apply(&self, work: &EmbeddingWork, upserts: &[NewEmbedding]) -> Result<bool, ServiceError> {
        let now = self.clock.now();
        let mut tx = self.db.side_write().await?;
        if cursor::get(&mut tx, CURSOR).await? != work.from_seq {
            return Ok(false);
        }
        for e in upserts {
            store::upsert(&mut tx, e, now).await?;
        }
        let mut gone: BTreeMap<&str, Vec<Uuid>> = BTreeMap::new();
        for (entity, id) in &work.gone {
            gone.entry(entity.as_str()).or_default().push(*id);
        }
        for (entity, ids) in gone {
            store::delete(&mut tx, entity, &ids).await?;
        }
        cursor::set(&mut tx, CURSOR, work.last_seq).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Up to `limit` stored vectors of `entity` rows the caller may see, after record id
    /// `after` (keyset order): the row scope is part of the query.
    pub async fn semantic_chunk(
        &self,
        ctx: &Ctx,
        entity_name: &str,
        after: Option<Uuid>,
        limit: u64,
    ) -> Result<Vec<(Uuid, Vec<f32>)>, ServiceError> {
        let schema = self.schema();
        let entity = schema.entity(entity_name).ok_or(ServiceError::NotFound)?;
        if !EMBEDDED.contains(&entity_name) {
            return Err(ServiceError::NotFound);
        }
        let scope = policy::read_scope(&ctx.actor, entity);
        let mut tx = self.db.read().await?;
        Ok(store::visible_chunk(&mut tx, entity, &scope, after, limit.clamp(1, 10_000)).await?)
    }
}
