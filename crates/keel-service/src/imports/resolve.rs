//! Turning what a file says into ids: companies by name or domain, owners by user email,
//! contacts by email (each case-insensitively, one query per batch and field), and the
//! records an update's key names. Lookups go through the actor's row scope, so a file
//! cannot reveal or link to a record its importer may not see (users excepted: every
//! role may read users). Answers are cached for the whole file; a million contacts at a
//! few thousand companies cost a few thousand lookups.

use std::collections::HashMap;

use keel_domain::policy::{self, RowScope};
use keel_domain::{EntityDef, Record};
use keel_store::{Tx, records};
use uuid::Uuid;

use crate::{Ctx, ServiceError};

/// What one reference field's texts resolved to. `None`: looked up, not found.
#[derive(Debug, Default)]
pub struct Lookups {
    found: HashMap<(String, String), Option<Uuid>>,
}

/// The fields a reference to `target` is matched on.
fn match_fields(target: &str) -> &'static [&'static str] {
    match target {
        "companies" => &["name", "domain"],
        "contacts" | "users" => &["email"],
        _ => &[],
    }
}

/// What a lookup cell may name, for messages.
pub fn described(target: &str) -> &'static str {
    match target {
        "companies" => "name or domain",
        "contacts" | "users" => "email",
        _ => "id",
    }
}

impl Lookups {
    /// Look up the `texts` (lowercased) of records of `target` not looked up before.
    pub async fn resolve(
        &mut self,
        tx: &mut Tx,
        ctx: &Ctx,
        target: &EntityDef,
        texts: &[String],
    ) -> Result<(), ServiceError> {
        let mut wanted: Vec<String> =
            texts.iter().filter(|t| !self.found.contains_key(&(target.name.clone(), (*t).clone()))).cloned().collect();
        wanted.sort();
        wanted.dedup();
        if wanted.is_empty() {
            return Ok(());
        }
        let scope = if target.name == "users" { RowScope::All } else { policy::read_scope(&ctx.actor, target) };
        for t in &wanted {
            self.found.insert((target.name.clone(), t.clone()), None);
        }
        for field in match_fields(&target.name) {
            for r in records::live_matching(tx, target, field, &wanted, &scope).await? {
                if let (Some(text), Some(id)) = (r.text(field), r.id()) {
                    self.found.insert((target.name.clone(), text.to_lowercase()), Some(id));
                }
            }
        }
        Ok(())
    }

    /// The id `text` (lowercased) resolved to, if any.
    pub fn get(&self, target: &str, text: &str) -> Option<Uuid> {
        self.found.get(&(target.to_string(), text.to_string())).copied().flatten()
    }
}

/// The live records, visible to the actor, that update keys name: lowercased key → record.
pub async fn by_key(
    tx: &mut Tx,
    ctx: &Ctx,
    entity: &EntityDef,
    key: &str,
    values: &[String],
) -> Result<HashMap<String, Record>, ServiceError> {
    let scope = policy::read_scope(&ctx.actor, entity);
    let found = if key == "id" {
        let ids: Vec<Uuid> = values.iter().filter_map(|v| Uuid::parse_str(v).ok()).collect();
        records::live_by_ids(tx, entity, &ids, &scope).await?
    } else {
        records::live_matching(tx, entity, key, values, &scope).await?
    };
    let mut out = HashMap::new();
    for r in found {
        let k = if key == "id" { r.id().map(|id| id.to_string()) } else { r.text(key).map(str::to_lowercase) };
        if let Some(k) = k {
            out.insert(k, r);
        }
    }
    Ok(out)
}
