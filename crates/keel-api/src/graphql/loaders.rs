//! Dataloaders: every reference (`deal { company }`) and related list (`company {
//! contacts }`) resolved in one request is collected by async-graphql's `DataLoader`
//! and answered with one service call per entity (references) or per entity, field and
//! list arguments (related lists), so a nested query costs a fixed number of statements
//! per level, not one per parent. Both calls go through the service and so the policy.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_graphql::dataloader::Loader;
use keel_domain::query::ListQuery;
use keel_service::{Ctx, Service};
use serde_json::{Map, Value as Json};
use uuid::Uuid;

use super::errors::service_error;

/// A record as the actor may see it (field rules applied), shared between resolvers.
pub type Rec = Arc<Map<String, Json>>;

/// A record of `entity` by id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RefKey {
    pub entity: String,
    pub id: Uuid,
}

pub struct RefLoader {
    pub service: Service,
    pub ctx: Ctx,
}

impl Loader<RefKey> for RefLoader {
    type Value = Rec;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[RefKey]) -> Result<HashMap<RefKey, Rec>, async_graphql::Error> {
        let mut by_entity: HashMap<&str, Vec<Uuid>> = HashMap::new();
        for k in keys {
            by_entity.entry(k.entity.as_str()).or_default().push(k.id);
        }
        let mut out = HashMap::new();
        for (entity, ids) in by_entity {
            let found = self.service.get_many(&self.ctx, entity, &ids).await.map_err(service_error)?;
            for record in found {
                if let Some(id) = record.get("id").and_then(Json::as_str).and_then(|s| Uuid::parse_str(s).ok()) {
                    out.insert(RefKey { entity: entity.to_string(), id }, Arc::new(record));
                }
            }
        }
        Ok(out)
    }
}

/// The `child` records referencing `parent` (a record of `parent_entity`) through `field`,
/// cut and ordered by the list arguments registered under `query_key`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RelKey {
    pub parent_entity: String,
    pub child: String,
    pub field: String,
    pub query_key: String,
    pub parent: Uuid,
}

pub struct RelLoader {
    pub service: Service,
    pub ctx: Ctx,
    /// The parsed list arguments by their canonical form (`RelKey::query_key`).
    pub queries: Mutex<HashMap<String, ListQuery>>,
}

impl RelLoader {
    pub fn new(service: Service, ctx: Ctx) -> Self {
        Self { service, ctx, queries: Mutex::new(HashMap::new()) }
    }

    /// Remember `query` and return the key it is found under.
    pub fn register(&self, query: ListQuery) -> String {
        let key = format!("{query:?}");
        if let Ok(mut q) = self.queries.lock() {
            q.entry(key.clone()).or_insert(query);
        }
        key
    }
}

impl Loader<RelKey> for RelLoader {
    type Value = Arc<Vec<Rec>>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[RelKey]) -> Result<HashMap<RelKey, Arc<Vec<Rec>>>, async_graphql::Error> {
        type Group<'a> = (&'a str, &'a str, &'a str, &'a str);
        let mut groups: HashMap<Group<'_>, Vec<Uuid>> = HashMap::new();
        for k in keys {
            groups
                .entry((k.parent_entity.as_str(), k.child.as_str(), k.field.as_str(), k.query_key.as_str()))
                .or_default()
                .push(k.parent);
        }
        let mut out = HashMap::new();
        for ((parent_entity, child, field, query_key), parents) in groups {
            let query = self
                .queries
                .lock()
                .ok()
                .and_then(|q| q.get(query_key).cloned())
                .ok_or_else(|| async_graphql::Error::new("internal: list arguments went missing"))?;
            let lists = self
                .service
                .related_many(&self.ctx, parent_entity, &parents, child, field, &query)
                .await
                .map_err(service_error)?;
            for (parent, records) in lists {
                let key = RelKey {
                    parent_entity: parent_entity.to_string(),
                    child: child.to_string(),
                    field: field.to_string(),
                    query_key: query_key.to_string(),
                    parent,
                };
                out.insert(key, Arc::new(records.into_iter().map(Arc::new).collect()));
            }
        }
        Ok(out)
    }
}
