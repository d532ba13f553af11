//! The embeddings indexer: a change-log reader with a stored cursor, like the workflow
//! dispatcher. Each step reads a batch of entries, loads the records they touched as they
//! are now, embeds those whose text changed (content hash), and writes the vectors, the
//! deletions (records deleted or purged) and the new cursor in one transaction. When the
//! endpoint fails nothing is written and the step is retried with exponential backoff;
//! a crash anywhere repeats at most one batch.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use keel_service::embeddings::NewEmbedding;
use keel_service::{Service, ServiceError};
use thiserror::Error;
use tokio::sync::watch;
use uuid::Uuid;

use super::{Embedder, content_hash, embed_text};
use crate::engine::ModelError;

#[derive(Debug, Error)]
pub enum IndexError {
    #[error(transparent)]
    Service(#[from] ServiceError),
    #[error("the embeddings endpoint failed: {0}")]
    Endpoint(#[from] ModelError),
}

/// What one step did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Step {
    /// Whether change-log entries were read (false: caught up).
    pub entries: bool,
    /// Records embedded (new or changed text).
    pub embedded: usize,
    /// Records whose text had not changed.
    pub unchanged: usize,
    /// Embeddings removed (records deleted or purged).
    pub removed: usize,
}

/// Handle one batch of the change log. `Ok(Step { entries: false, .. })` when caught up.
pub async fn step(service: &Service, embedder: &Embedder) -> Result<Step, IndexError> {
    let config = embedder.config();
    let Some(work) = service.embedding_work(config.log_batch).await? else { return Ok(Step::default()) };
    let mut by_entity: BTreeMap<&str, Vec<(Uuid, String, String)>> = BTreeMap::new();
    for (entity, record) in &work.live {
        let Some(id) = record.id() else { continue };
        let text = embed_text(entity, record);
        let hash = content_hash(&config.model, &text);
        by_entity.entry(entity.as_str()).or_default().push((id, text, hash));
    }
    let mut todo: Vec<(&str, Uuid, String, String)> = Vec::new();
    let mut unchanged = 0;
    for (entity, rows) in by_entity {
        let ids: Vec<Uuid> = rows.iter().map(|r| r.0).collect();
        let stored = service.embedding_hashes(entity, &ids).await?;
        for (id, text, hash) in rows {
            if stored.get(&id) == Some(&hash) || text.is_empty() {
                unchanged += 1;
            } else {
                todo.push((entity, id, text, hash));
            }
        }
    }
    let mut upserts = Vec::with_capacity(todo.len());
    for batch in todo.chunks(config.batch.max(1)) {
        let inputs: Vec<String> = batch.iter().map(|t| t.2.clone()).collect();
        let vectors = embedder.embed(&inputs).await?;
        for ((entity, id, _, hash), vector) in batch.iter().zip(vectors) {
            upserts.push(NewEmbedding {
                entity: (*entity).to_string(),
                record_id: *id,
                content_hash: hash.clone(),
                model: config.model.clone(),
                vector,
            });
        }
    }
    let applied = service.embedding_apply(&work, &upserts).await?;
    Ok(Step {
        entries: true,
        embedded: if applied { upserts.len() } else { 0 },
        unchanged,
        removed: if applied { work.gone.len() } else { 0 },
    })
}

/// The wait before retry number `failures` (1, 2, …): 1 s doubling up to `max`.
pub fn backoff(failures: u32, max: Duration) -> Duration {
    let secs = 1u64.checked_shl(failures.saturating_sub(1).min(20)).unwrap_or(u64::MAX);
    Duration::from_secs(secs).min(max)
}

/// Run the indexer until `stopping` turns true (`keel serve`, the test apps).
pub fn spawn(
    service: Service,
    embedder: Arc<Embedder>,
    mut stopping: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut failures = 0u32;
        loop {
            if *stopping.borrow() {
                break;
            }
            let wait = match step(&service, &embedder).await {
                Ok(s) if s.entries => {
                    failures = 0;
                    if s.embedded + s.removed > 0 {
                        tracing::debug!(embedded = s.embedded, removed = s.removed, "embeddings updated");
                    }
                    continue;
                }
                Ok(_) => {
                    failures = 0;
                    embedder.config().poll_interval
                }
                Err(e) => {
                    failures = failures.saturating_add(1);
                    let wait = backoff(failures, embedder.config().max_backoff);
                    tracing::warn!(error = %e, retry_in_s = wait.as_secs(), "embeddings indexer step failed");
                    wait
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                changed = stopping.changed() => if changed.is_err() { break },
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::backoff;
    use std::time::Duration;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let max = Duration::from_secs(300);
        assert_eq!(backoff(1, max), Duration::from_secs(1));
        assert_eq!(backoff(2, max), Duration::from_secs(2));
        assert_eq!(backoff(5, max), Duration::from_secs(16));
        assert_eq!(backoff(30, max), max);
    }
}
