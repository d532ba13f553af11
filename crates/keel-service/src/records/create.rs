use std::collections::BTreeSet;

use keel_domain::policy;
use keel_domain::value::Value;
use keel_store::changes::ChangeOp;
use keel_store::idempotency::{self, StoredResponse};
use keel_store::records;
use serde_json::{Map, Value as Json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::log;
use crate::{Ctx, Service, ServiceError, auth::password, refs};

/// How long a stored response is replayed (as long as common payment APIs keep theirs).
const KEY_LIFETIME: time::Duration = time::Duration::hours(24);

/// A client-chosen key that makes a POST safe to retry.
#[derive(Debug, Clone)]
pub struct IdempotencyKey(pub String);

/// What a create returns: the new record, or the stored answer to an earlier identical
/// request with the same idempotency key.
#[derive(Debug, Clone)]
pub enum Created {
    New(Map<String, Json>),
    Replayed { status: u16, body: String },
}

fn request_hash(entity: &str, input: &Map<String, Json>) -> String {
    // serde_json's Map is ordered by key, so equal bodies hash equally.
    let mut h = Sha256::new();
    h.update(entity.as_bytes());
    h.update(b"\n");
    h.update(Json::Object(input.clone()).to_string().as_bytes());
    hex::encode(h.finalize())
}

impl Service {
    pub async fn create(
        &self,
        ctx: &Ctx,
        entity_name: &str,
        mut input: Map<String, Json>,
        key: Option<IdempotencyKey>,
    ) -> Result<Created, ServiceError> {
        let schema_entity = self.schema();
        let entity = schema_entity.entity(entity_name).ok_or(crate::ServiceError::NotFound)?;
        policy::can_create(&ctx.actor, entity)?;
        let hash = request_hash(entity_name, &input);
        // Hash the password before taking the write lock: argon2 is slow on purpose.
        let password_hash = password::take_from_input(entity, &mut input, true)?;

        let mut tx = self.db.write().await?;
        if let Some(IdempotencyKey(k)) = &key {
            idempotency::expire(&mut tx, ctx.actor.user_id, self.clock.now() - KEY_LIFETIME).await?;
            if let Some(stored) = idempotency::get(&mut tx, ctx.actor.user_id, k).await? {
                if stored.request_hash != hash {
                    return Err(ServiceError::conflict(
                        "idempotency_key_reused",
                        "this Idempotency-Key was already used for a different request",
                    ));
                }
                return Ok(Created::Replayed { status: stored.status, body: stored.body });
            }
        }

        let wc = self.write_context();
        let prepared = keel_domain::validate::prepare_write(entity, None, &input, &wc)?;
        // Field rules bind creates too (the creator counts as the owner): a field the
        // role may not write anywhere (a restricted custom field) cannot be set.
        let creator = policy::Access { owned: true, ..policy::Access::default() };
        policy::check_field_writes(&ctx.actor, entity, &creator, prepared.explicit.iter().map(String::as_str))
            .map_err(ServiceError::ForbiddenFields)?;
        let mut record = prepared.after;
        let id = Uuid::now_v7();
        stamp_new(ctx, entity, &mut record, id, wc.now).map_err(ServiceError::ForbiddenFields)?;
        if entity.name == "users" {
            if record.get("is_active").is_null() {
                record.set("is_active", Value::Bool(true));
            }
            if let Some(h) = password_hash {
                record.set("password_hash", Value::Text(h));
            }
        }

        let to_check: BTreeSet<String> = entity.fields.iter().map(|f| f.name.clone()).collect();
        refs::check(&mut tx, &self.schema(), entity, &record, &to_check, None).await?;
        if entity.name == "users" {
            crate::roles::check_user_role(self, &mut tx, record.text("role")).await?;
        }
        records::insert(&mut tx, entity, &record).await?;
        log(&mut tx, ctx, entity, ChangeOp::Create, wc.now, None, Some(&record)).await?;

        let body = super::present(ctx, entity, &record);
        if let Some(IdempotencyKey(k)) = &key {
            let stored =
                StoredResponse { request_hash: hash, status: 201, body: Json::Object(body.clone()).to_string() };
            idempotency::put(&mut tx, ctx.actor.user_id, k, &stored, wc.now).await?;
        }
        tx.commit().await?;
        Ok(Created::New(body))
    }
}

/// The system fields of a record about to be inserted (id, timestamps, version 1, live),
/// its owner (the creator unless given, when the policy lets the actor assign it) and its
/// creator. Shared by single creates and batch creates (imports).
pub(crate) fn stamp_new(
    ctx: &Ctx,
    entity: &keel_domain::EntityDef,
    record: &mut keel_domain::Record,
    id: Uuid,
    now: time::OffsetDateTime,
) -> Result<(), keel_domain::FieldErrors> {
    record.set("id", Value::Uuid(id));
    record.set("created_at", Value::Timestamp(now));
    record.set("updated_at", Value::Timestamp(now));
    record.set("version", Value::Int(1));
    record.set("deleted_at", Value::Null);
    if entity.owned {
        match record.owner_id() {
            Some(owner) => policy::can_assign_owner(&ctx.actor, entity, owner)?,
            None => record.set("owner_id", Value::Uuid(ctx.actor.user_id)),
        }
    }
    if entity.field("created_by").is_some() {
        record.set("created_by", Value::Uuid(ctx.actor.user_id));
    }
    Ok(())
}
