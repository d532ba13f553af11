//! `search_records(query)`: retrieval over companies, contacts, deals and activities,
//! combining full-text search (the list API's `q`, word prefixes) with semantic nearest
//! neighbours when an embeddings endpoint is configured. Both run as the asking user: the
//! full-text half through `Service::list`, the semantic half through
//! `Service::semantic_chunk` (row scope in SQL), and every hit's title is read back
//! through the list API again, so nothing the user may not see is named.
//! The two rankings are merged by reciprocal rank fusion (hand-written: a dozen lines,
//! no crate does only this).

use std::collections::BTreeMap;

use keel_service::embeddings::EMBEDDED;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Tools, pair, str_of, uuid_of};
use crate::citation::Citation;
use crate::error::AssistantError;
use crate::retrieval;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchRecords {
    /// Words or a question, e.g. "who wanted solar panels?".
    pub query: String,
}

/// How a record was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Found {
    Text,
    Meaning,
    Both,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordHit {
    pub entity: &'static str,
    pub id: Uuid,
    pub title: String,
    pub found: Found,
}

impl RecordHit {
    pub fn citation(&self) -> Citation {
        Citation::new(self.entity, self.id, &self.title)
    }
}

/// Whether semantic retrieval took part.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Semantic {
    /// No embeddings endpoint is configured.
    #[default]
    Off,
    Used,
    /// The endpoint failed; full-text search answered alone.
    Failed(String),
}

#[derive(Debug, Clone, Default)]
pub struct RecordHits {
    pub query: String,
    pub hits: Vec<RecordHit>,
    pub semantic: Semantic,
}

/// Words that carry no meaning for a search ("who", "the", "about"…).
const STOP: &[&str] = &[
    "a",
    "about",
    "all",
    "an",
    "and",
    "any",
    "anyone",
    "anything",
    "are",
    "at",
    "be",
    "by",
    "can",
    "did",
    "do",
    "does",
    "find",
    "for",
    "from",
    "had",
    "has",
    "have",
    "how",
    "i",
    "in",
    "interested",
    "is",
    "it",
    "me",
    "mentioned",
    "of",
    "on",
    "or",
    "our",
    "records",
    "show",
    "some",
    "tell",
    "that",
    "the",
    "there",
    "to",
    "us",
    "was",
    "we",
    "were",
    "what",
    "when",
    "where",
    "which",
    "who",
    "whom",
    "with",
    "about",
    "someone",
    "something",
    "anybody",
    "talked",
    "wanted",
    "asked",
    "any",
];

/// The words of `query` worth searching for.
pub fn keywords(query: &str) -> Vec<String> {
    query
        .split(|c: char| !c.is_alphanumeric())
        .map(str::to_lowercase)
        .filter(|w| w.chars().count() >= 2 && !STOP.contains(&w.as_str()))
        .take(8)
        .collect()
}

fn title_field(entity: &str) -> &'static str {
    match entity {
        "companies" => "name",
        "contacts" => "full_name",
        "deals" => "title",
        _ => "subject",
    }
}

/// A hit being fused: score, found by text, found by meaning, title (from the text hit).
type Fused = (f64, bool, bool, Option<String>);

/// Reciprocal rank fusion's constant (the usual 60).
const RRF_K: f64 = 60.0;

impl Tools {
    /// Full-text hits per entity, best first (as the list API orders them).
    async fn text_hits(
        &self,
        words: &[String],
        per_entity: u32,
    ) -> Result<Vec<(&'static str, Uuid, String)>, AssistantError> {
        let mut out = Vec::new();
        let phrase = words.join(" ");
        for entity in EMBEDDED {
            let pairs = vec![pair("q", phrase.clone()), pair("limit", per_entity.to_string())];
            for row in self.list(entity, &pairs).await?.data {
                if let (Some(id), Some(t)) = (uuid_of(&row, "id"), str_of(&row, title_field(entity))) {
                    out.push((entity, id, t.to_string()));
                }
            }
        }
        Ok(out)
    }

    pub async fn search_records(&mut self, args: &SearchRecords) -> Result<RecordHits, AssistantError> {
        self.record("search_records", args);
        let k = self.config().max_results as usize;
        let words = keywords(&args.query);
        let mut out = RecordHits { query: args.query.trim().to_string(), ..RecordHits::default() };
        if words.is_empty() && args.query.trim().is_empty() {
            return Ok(out);
        }
        let text = if words.is_empty() { Vec::new() } else { self.text_hits(&words, 5).await? };
        let mut semantic = Vec::new();
        if let Some(embedder) = self.embedder() {
            match embedder.embed(&[args.query.trim().to_string()]).await {
                Ok(mut v) => {
                    let q = v.pop().unwrap_or_default();
                    let min = embedder.config().min_score;
                    semantic = retrieval::nearest(self.service(), self.ctx(), &q, k, min).await?;
                    out.semantic = Semantic::Used;
                }
                Err(e) => out.semantic = Semantic::Failed(e.to_string()),
            }
        }
        // Fuse: each list contributes 1 / (K + rank).
        let mut fused: BTreeMap<(&'static str, Uuid), Fused> = BTreeMap::new();
        for (rank, (entity, id, title)) in text.into_iter().enumerate() {
            let e = fused.entry((entity, id)).or_insert((0.0, false, false, None));
            e.0 += 1.0 / (RRF_K + rank as f64 + 1.0);
            e.1 = true;
            e.3 = Some(title);
        }
        for (rank, hit) in semantic.iter().enumerate() {
            let e = fused.entry((hit.entity, hit.id)).or_insert((0.0, false, false, None));
            e.0 += 1.0 / (RRF_K + rank as f64 + 1.0);
            e.2 = true;
        }
        let mut ranked: Vec<_> = fused.into_iter().collect();
        ranked.sort_by(|a, b| b.1.0.total_cmp(&a.1.0).then_with(|| a.0.1.cmp(&b.0.1)));
        ranked.truncate(k);
        // Titles of semantic-only hits, one scoped query per entity.
        let mut names: BTreeMap<&str, BTreeMap<Uuid, String>> = BTreeMap::new();
        for entity in EMBEDDED {
            let ids: Vec<Uuid> =
                ranked.iter().filter(|((e, _), v)| *e == entity && v.3.is_none()).map(|((_, id), _)| *id).collect();
            if !ids.is_empty() {
                names.insert(entity, self.names(entity, &ids, title_field(entity)).await?);
            }
        }
        for ((entity, id), (_, by_text, by_meaning, title)) in ranked {
            let title = match title {
                Some(t) => t,
                None => match names.get(entity).and_then(|m| m.get(&id)) {
                    Some(t) => t.clone(),
                    None => continue, // not visible (or gone) when read back: never named
                },
            };
            let found = match (by_text, by_meaning) {
                (true, true) => Found::Both,
                (true, false) => Found::Text,
                _ => Found::Meaning,
            };
            out.hits.push(RecordHit { entity, id, title, found });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::keywords;

    #[test]
    fn questions_lose_their_stop_words() {
        assert_eq!(keywords("Who was interested in solar panels?"), vec!["solar", "panels"]);
        assert!(keywords("who is it?").is_empty());
    }
}
