//! What an answer cites: the records it used, with a link into the web app.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Citation {
    pub entity: String,
    pub id: Uuid,
    pub title: String,
    /// The record's page in the web app (activities link to the tasks page, having none).
    pub url: String,
}

impl Citation {
    pub fn new(entity: &str, id: Uuid, title: &str) -> Self {
        let url = match entity {
            "companies" | "contacts" | "deals" => format!("/{entity}/{id}"),
            _ => "/activities".to_string(),
        };
        Self { entity: entity.to_string(), id, title: title.to_string(), url }
    }
}

/// Add `c` unless a citation of the same record is already there.
pub fn push_unique(list: &mut Vec<Citation>, c: Citation) {
    if !list.iter().any(|x| x.entity == c.entity && x.id == c.id) {
        list.push(c);
    }
}
