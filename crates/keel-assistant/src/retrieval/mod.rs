//! Semantic retrieval: embeddings of companies, contacts, deals and activities from an
//! OpenAI-compatible `POST {base}/embeddings` endpoint (OpenAI, Ollama, vLLM, …).
//!
//! - `Embedder`: the HTTP client (one request per batch of texts).
//! - `indexer`: keeps the stored vectors current from the change log with a stored cursor
//!   (run by `keel serve`): batches, retries with backoff, deletes on delete/purge, and
//!   skips records whose embedded text did not change (content hash).
//! - `nearest`: the k nearest records to a question among the rows the asking user may see,
//!   streamed from the database in keyset chunks into a top-k heap.
//!
//! A brute-force scan is used on purpose: neither SQLite nor PostgreSQL here ships a vector
//! index (pgvector, sqlite-vec are not available on every install); the scan is bounded by
//! the rows the user may see and measured in docs/BENCHMARKS.md.

pub mod indexer;
mod text;

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Duration;

use keel_service::embeddings::EMBEDDED;
use keel_service::{Ctx, Service};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::engine::ModelError;

pub use text::{content_hash, embed_text};

/// How Keel reaches the embeddings endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct EmbeddingsConfig {
    /// e.g. `https://api.openai.com/v1`, `http://localhost:11434/v1` (Ollama).
    pub base_url: String,
    /// e.g. `text-embedding-3-small`, `nomic-embed-text`.
    pub model: String,
    pub api_key: Option<String>,
    /// Per request.
    pub timeout: Duration,
    /// Texts per request to the endpoint.
    pub batch: usize,
    /// Change-log entries the indexer reads at a time.
    pub log_batch: u32,
    /// How often the indexer looks for new changes when it is caught up.
    pub poll_interval: Duration,
    /// The longest wait between retries after the endpoint failed.
    pub max_backoff: Duration,
    /// Cosine similarity below which a record is not a semantic match.
    pub min_score: f32,
}

impl EmbeddingsConfig {
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            model: model.into(),
            api_key: None,
            timeout: Duration::from_secs(30),
            batch: 64,
            log_batch: 500,
            poll_interval: Duration::from_secs(2),
            max_backoff: Duration::from_secs(300),
            min_score: 0.3,
        }
    }
}

/// The embeddings endpoint's client.
pub struct Embedder {
    config: EmbeddingsConfig,
    client: reqwest::Client,
    url: String,
}

#[derive(Debug, Deserialize)]
struct EmbeddingsBody {
    data: Vec<EmbeddingItem>,
}

#[derive(Debug, Deserialize)]
struct EmbeddingItem {
    #[serde(default)]
    index: Option<usize>,
    embedding: Vec<f32>,
}

/// Scale `v` to length 1 (so a dot product is the cosine); None for a zero or non-finite vector.
pub fn normalise(mut v: Vec<f32>) -> Option<Vec<f32>> {
    let norm = v.iter().map(|x| f64::from(*x) * f64::from(*x)).sum::<f64>().sqrt();
    if !norm.is_finite() || norm == 0.0 {
        return None;
    }
    for x in &mut v {
        *x = (f64::from(*x) / norm) as f32;
    }
    Some(v)
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

impl Embedder {
    pub fn new(config: EmbeddingsConfig) -> Result<Self, ModelError> {
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .build()
            .map_err(|e| ModelError::Client(e.to_string()))?;
        let url = format!("{}/embeddings", config.base_url.trim_end_matches('/'));
        Ok(Self { config, client, url })
    }

    pub fn config(&self) -> &EmbeddingsConfig {
        &self.config
    }

    /// One vector (unit length) per input, in order.
    pub async fn embed(&self, inputs: &[String]) -> Result<Vec<Vec<f32>>, ModelError> {
        if inputs.is_empty() {
            return Ok(Vec::new());
        }
        let mut req = self.client.post(&self.url).json(&json!({ "model": self.config.model, "input": inputs }));
        if let Some(key) = &self.config.api_key {
            req = req.bearer_auth(key);
        }
        let transport = |e: reqwest::Error| {
            if e.is_timeout() {
                ModelError::Timeout(self.config.timeout.as_secs().max(1))
            } else {
                ModelError::Unreachable(e.without_url().to_string())
            }
        };
        let res = req.send().await.map_err(transport)?;
        let status = res.status().as_u16();
        if status == 429 {
            return Err(ModelError::RateLimited);
        }
        if status >= 500 {
            return Err(ModelError::Server(status));
        }
        if !(200..300).contains(&status) {
            return Err(ModelError::Refused(status));
        }
        let body: EmbeddingsBody = res.json().await.map_err(|e| ModelError::Malformed(e.without_url().to_string()))?;
        if body.data.len() != inputs.len() {
            return Err(ModelError::Malformed(format!("{} embeddings for {} inputs", body.data.len(), inputs.len())));
        }
        let mut items = body.data;
        if items.iter().all(|i| i.index.is_some()) {
            items.sort_by_key(|i| i.index);
        }
        let dims = items.first().map_or(0, |i| i.embedding.len());
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            if item.embedding.len() != dims {
                return Err(ModelError::Malformed("embeddings of different lengths".into()));
            }
            out.push(normalise(item.embedding).ok_or_else(|| ModelError::Malformed("an empty embedding".into()))?);
        }
        Ok(out)
    }
}

/// One record found by meaning.
#[derive(Debug, Clone, PartialEq)]
pub struct SemanticHit {
    pub entity: &'static str,
    pub id: Uuid,
    /// Cosine similarity, -1 to 1.
    pub score: f32,
}

/// Vectors read from the database per query.
pub const SCAN_CHUNK: u64 = 2_000;

/// A heap entry ordered by score (then id, so ties are deterministic).
#[derive(Debug, PartialEq)]
struct Ranked(f32, Uuid, &'static str);

impl Eq for Ranked {}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0).then_with(|| other.1.cmp(&self.1))
    }
}

/// The `k` records nearest to `query` (a unit vector) among the rows `ctx` may see, best
/// first, with at least `min_score`. The vectors are read in chunks of `SCAN_CHUNK`
/// (keyset on the record id, row scope in the query) into a min-heap of size `k`, so
/// memory stays O(k + chunk) however many rows there are.
pub async fn nearest(
    service: &Service,
    ctx: &Ctx,
    query: &[f32],
    k: usize,
    min_score: f32,
) -> Result<Vec<SemanticHit>, keel_service::ServiceError> {
    let mut heap: BinaryHeap<Reverse<Ranked>> = BinaryHeap::with_capacity(k + 1);
    if k == 0 {
        return Ok(Vec::new());
    }
    for entity in EMBEDDED {
        let mut after = None;
        loop {
            let chunk = service.semantic_chunk(ctx, entity, after, SCAN_CHUNK).await?;
            let Some(last) = chunk.last().map(|(id, _)| *id) else { break };
            let full = chunk.len() as u64 == SCAN_CHUNK;
            for (id, v) in chunk {
                if v.len() != query.len() {
                    continue; // embedded by another model: ignored until re-embedded
                }
                let score = dot(query, &v);
                if score < min_score {
                    continue;
                }
                heap.push(Reverse(Ranked(score, id, entity)));
                if heap.len() > k {
                    heap.pop();
                }
            }
            if !full {
                break;
            }
            after = Some(last);
        }
    }
    let mut hits: Vec<SemanticHit> =
        heap.into_iter().map(|Reverse(Ranked(score, id, entity))| SemanticHit { entity, id, score }).collect();
    hits.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
    Ok(hits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_are_normalised() {
        let v = normalise(vec![3.0, 4.0]).expect("non-zero");
        assert!((v[0] - 0.6).abs() < 1e-6 && (v[1] - 0.8).abs() < 1e-6);
        assert!(normalise(vec![0.0, 0.0]).is_none());
        assert!(normalise(vec![f32::NAN]).is_none());
    }

    #[test]
    fn the_heap_keeps_the_best() {
        let mut heap = BinaryHeap::new();
        for (i, s) in [0.1_f32, 0.9, 0.5, 0.7].iter().enumerate() {
            heap.push(Reverse(Ranked(*s, Uuid::from_u128(i as u128), "deals")));
            if heap.len() > 2 {
                heap.pop();
            }
        }
        let mut kept: Vec<f32> = heap.into_iter().map(|Reverse(r)| r.0).collect();
        kept.sort_by(|a, b| b.total_cmp(a));
        assert_eq!(kept, vec![0.9, 0.7]);
    }
}
