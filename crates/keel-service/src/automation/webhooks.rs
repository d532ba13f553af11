//! Outbound webhooks' use cases: subscriptions (admins, `AdminPower::ManageWebhooks`;
//! every change change-logged as entity `webhooks` and audited), the dispatcher's step
//! (change log → one delivery job per matching subscription, with the cursor, in one
//! transaction), the delivery log, and the calls the worker makes after each try
//! (recording it; counting failures; disabling a subscription that keeps failing and
//! queueing the email to its owner in the same transaction). What matches, what is sent
//! and how it is signed live in keel-automation.

use std::collections::{BTreeMap, HashMap};

use keel_domain::policy::{self, Actor, AdminPower, Role, RowScope};
use keel_store::automation::webhooks::{self as store, Attempt, Delivery, StoredWebhook};
use keel_store::automation::{cursor, jobs};
use keel_store::changes::{self, ChangeOp};
use keel_store::records;
use rand::RngCore;
use serde_json::{Map, Value as Json, json};
use uuid::Uuid;

use super::NewJob;
use crate::{ChangeEntry, Ctx, Service, ServiceError};

/// The entities whose changes webhooks deliver.
pub const WEBHOOK_ENTITIES: [&str; 4] = ["companies", "contacts", "deals", "activities"];

/// A subscription as saved: the validated fields (keel-automation checks them).
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookInput {
    pub url: String,
    pub description: Option<String>,
    pub events: Json,
    pub filter: Option<Json>,
    pub active: bool,
}

/// A record's fields as JSON.
type Fields = Map<String, Json>;

/// A delivery the dispatcher (or an admin's test or redelivery) queues: its job and row.
pub type PlannedDelivery = (NewJob, Delivery);

/// A change-log entry as the webhook planner sees it.
pub struct WebhookEvent<'a> {
    pub entry: &'a ChangeEntry,
    /// The record as this change left it (later changes in the same batch undone).
    pub record: &'a Map<String, Json>,
    /// The record before this change.
    pub previous: &'a Map<String, Json>,
    /// `{id, name, email}` of who made the change; null for the system.
    pub actor: &'a Json,
}

fn may_manage(ctx: &Ctx) -> Result<(), ServiceError> {
    Ok(policy::can_administer(&ctx.actor, AdminPower::ManageWebhooks)?)
}

/// A new signing secret: `whsec_` and 32 random bytes in hex.
fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("whsec_{}", hex::encode(bytes))
}

/// The change-log diff of a subscription. The secret never enters the logs: a rotation
/// shows as `secret: {from: "(hidden)", to: "(rotated)"}`.
fn diff(before: Option<&StoredWebhook>, after: Option<&StoredWebhook>) -> Json {
    let fields = |w: &StoredWebhook| {
        [
            ("url", json!(w.url)),
            ("description", json!(w.description)),
            ("events", w.events.clone()),
            ("filter", w.filter.clone().unwrap_or(Json::Null)),
            ("active", json!(w.active)),
            ("disabled_reason", json!(w.disabled_reason)),
        ]
    };
    let mut out = Map::new();
    let (b, a) = (before.map(fields), after.map(fields));
    for i in 0..6 {
        let from = b.as_ref().map_or(Json::Null, |b| b[i].1.clone());
        let to = a.as_ref().map_or(Json::Null, |a| a[i].1.clone());
        if from != to {
            let name = b.as_ref().or(a.as_ref()).map_or("", |x| x[i].0);
            out.insert(name.into(), json!({ "from": from, "to": to }));
        }
    }
    match (before, after) {
        (Some(b), Some(a)) if b.secret != a.secret => {
            out.insert("secret".into(), json!({ "from": "(hidden)", "to": "(rotated)" }));
        }
        _ => {}
    }
    Json::Object(out)
}

/// The system, for changes no person made (an automatic disable).
fn system_ctx() -> Ctx {
    Ctx::system(Actor::new(Uuid::nil(), Role::Admin, None))
}

impl Service {
    /// May the actor manage webhooks? Asked before a request body is even looked at.
    pub fn webhooks_allowed(&self, ctx: &Ctx) -> Result<(), ServiceError> {
        may_manage(ctx)
    }

    pub async fn list_webhooks(&self, ctx: &Ctx) -> Result<Vec<StoredWebhook>, ServiceError> {
        may_manage(ctx)?;
        let mut tx = self.db.read().await?;
        Ok(store::all(&mut tx).await?)
    }

    pub async fn get_webhook(&self, ctx: &Ctx, id: Uuid) -> Result<StoredWebhook, ServiceError> {
        may_manage(ctx)?;
        let mut tx = self.db.read().await?;
        store::get(&mut tx, id).await?.ok_or(ServiceError::NotFound)
    }

    /// Create a subscription with a new secret; the creator owns it.
    pub async fn create_webhook(&self, ctx: &Ctx, input: WebhookInput) -> Result<StoredWebhook, ServiceError> {
        may_manage(ctx)?;
        let now = self.clock.now();
        let me = Some(ctx.actor.user_id).filter(|id| !id.is_nil());
        let w = StoredWebhook {
            id: Uuid::now_v7(),
            url: input.url,
            description: input.description,
            events: input.events,
            filter: input.filter,
            active: input.active,
            secret: new_secret(),
            failures: 0,
            disabled_reason: None,
            created_by: me,
            updated_by: me,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let mut tx = self.db.write().await?;
        store::insert(&mut tx, &w).await?;
        self.log_webhook(&mut tx, ctx, ChangeOp::Create, None, Some(&w)).await?;
        tx.commit().await?;
        Ok(w)
    }

    /// Replace a subscription's fields; the saver becomes its owner. Turning it back on
    /// starts its failure count afresh. `if_match`: the version the caller last saw.
    pub async fn update_webhook(
        &self,
        ctx: &Ctx,
        id: Uuid,
        input: WebhookInput,
        if_match: Option<i64>,
    ) -> Result<StoredWebhook, ServiceError> {
        may_manage(ctx)?;
        self.change_webhook(ctx, id, if_match, |before| {
            let reactivated = input.active && !before.active;
            StoredWebhook {
                url: input.url,
                description: input.description,
                events: input.events,
                filter: input.filter,
                active: input.active,
                failures: if reactivated { 0 } else { before.failures },
                disabled_reason: if input.active { None } else { before.disabled_reason.clone() },
                ..before.clone()
            }
        })
        .await
    }

    /// A new secret for the subscription (the old one stops signing at once).
    pub async fn rotate_webhook_secret(&self, ctx: &Ctx, id: Uuid) -> Result<StoredWebhook, ServiceError> {
        may_manage(ctx)?;
        self.change_webhook(ctx, id, None, |before| StoredWebhook { secret: new_secret(), ..before.clone() }).await
    }

    async fn change_webhook(
        &self,
        ctx: &Ctx,
        id: Uuid,
        if_match: Option<i64>,
        change: impl FnOnce(&StoredWebhook) -> StoredWebhook,
    ) -> Result<StoredWebhook, ServiceError> {
        let mut tx = self.db.write().await?;
        let before = store::get(&mut tx, id).await?.ok_or(ServiceError::NotFound)?;
        if let Some(expected) = if_match
            && expected != before.version
        {
            return Err(ServiceError::PreconditionFailed { expected, current: before.version });
        }
        let after = StoredWebhook {
            updated_by: Some(ctx.actor.user_id).filter(|id| !id.is_nil()),
            updated_at: self.clock.now(),
            version: before.version + 1,
            ..change(&before)
        };
        if !store::update(&mut tx, &after, before.version).await? {
            return Err(ServiceError::PreconditionFailed { expected: before.version, current: before.version + 1 });
        }
        self.log_webhook(&mut tx, ctx, ChangeOp::Update, Some(&before), Some(&after)).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Delete a subscription. Its delivery log stays; queued deliveries find it gone and
    /// finish as skipped.
    pub async fn delete_webhook(&self, ctx: &Ctx, id: Uuid) -> Result<(), ServiceError> {
        may_manage(ctx)?;
        let mut tx = self.db.write().await?;
        let before = store::get(&mut tx, id).await?.ok_or(ServiceError::NotFound)?;
        store::delete(&mut tx, id).await?;
        self.log_webhook(&mut tx, ctx, ChangeOp::Purge, Some(&before), None).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A subscription's deliveries, newest first (keyset: `before`, a delivery id), each
    /// with its tries. Two queries per page, whatever its size.
    pub async fn webhook_deliveries(
        &self,
        ctx: &Ctx,
        id: Uuid,
        before: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<(Delivery, Vec<Attempt>)>, ServiceError> {
        may_manage(ctx)?;
        let mut tx = self.db.read().await?;
        store::get(&mut tx, id).await?.ok_or(ServiceError::NotFound)?;
        let page = store::deliveries_of(&mut tx, id, before, u64::from(limit.clamp(1, 200))).await?;
        let ids: Vec<Uuid> = page.iter().map(|d| d.id).collect();
        let mut tries: HashMap<Uuid, Vec<Attempt>> = HashMap::new();
        for t in store::attempts_of(&mut tx, &ids).await? {
            tries.entry(t.delivery_id).or_default().push(t);
        }
        Ok(page
            .into_iter()
            .map(|d| {
                let t = tries.remove(&d.id).unwrap_or_default();
                (d, t)
            })
            .collect())
    }

    /// One delivery of a subscription (admins).
    pub async fn webhook_delivery(&self, ctx: &Ctx, webhook_id: Uuid, id: Uuid) -> Result<Delivery, ServiceError> {
        may_manage(ctx)?;
        let mut tx = self.db.read().await?;
        store::get_delivery(&mut tx, id).await?.filter(|d| d.webhook_id == webhook_id).ok_or(ServiceError::NotFound)
    }

    /// Queue a delivery an admin asked for (a test event, a redelivery).
    pub async fn enqueue_webhook_delivery(
        &self,
        ctx: &Ctx,
        planned: PlannedDelivery,
    ) -> Result<Delivery, ServiceError> {
        may_manage(ctx)?;
        let now = self.clock.now();
        let (job, delivery) = planned;
        let mut tx = self.db.side_write().await?;
        store::get(&mut tx, delivery.webhook_id).await?.ok_or(ServiceError::NotFound)?;
        if !jobs::enqueue(&mut tx, &job, now).await? {
            return Err(ServiceError::conflict("duplicate", "this delivery was already queued"));
        }
        store::insert_delivery(&mut tx, &delivery).await?;
        tx.commit().await?;
        Ok(delivery)
    }

    /// Handle up to `batch` change-log entries after cursor `name`: for each entry of a
    /// webhook entity, `plan` says which deliveries it makes given the active
    /// subscriptions; they are queued and the cursor moved in one transaction. Returns how
    /// many entries were read (0: caught up).
    pub async fn dispatch_webhooks(
        &self,
        name: &str,
        batch: u32,
        mut plan: impl FnMut(&WebhookEvent<'_>, &[StoredWebhook]) -> Vec<PlannedDelivery>,
    ) -> Result<usize, ServiceError> {
        {
            let mut tx = self.db.read().await?;
            let at = cursor::get(&mut tx, name).await?;
            if changes::after(&mut tx, at, 1).await?.is_empty() {
                return Ok(0);
            }
        }
        let schema = self.schema();
        let entities: Vec<keel_domain::EntityDef> =
            WEBHOOK_ENTITIES.iter().filter_map(|e| schema.entity(e).cloned()).collect();
        let users = schema.entity("users").cloned();
        let mut tx = self.db.write().await?;
        let at = cursor::get(&mut tx, name).await?;
        let entries = changes::after(&mut tx, at, batch.clamp(1, 1000)).await?;
        let Some(last) = entries.last().map(|e| e.seq) else { return Ok(0) };
        let subscriptions = store::active(&mut tx).await?;
        let relevant: Vec<&ChangeEntry> = entries
            .iter()
            .filter(|e| {
                entities.iter().any(|d| d.name == e.entity)
                    && matches!(e.op.as_str(), "create" | "update" | "delete" | "restore")
            })
            .collect();
        if !subscriptions.is_empty() && !relevant.is_empty() {
            let now = self.clock.now();
            // The records, one query per entity, and who made the changes, one more.
            let mut state: HashMap<(String, Uuid), Map<String, Json>> = HashMap::new();
            for def in &entities {
                let mut ids: Vec<Uuid> =
                    relevant.iter().filter(|e| e.entity == def.name).map(|e| e.record_id).collect();
                ids.sort();
                ids.dedup();
                if ids.is_empty() {
                    continue;
                }
                for r in records::by_ids(&mut tx, def, &ids).await? {
                    let Some(id) = r.id() else { continue };
                    let visible: Map<String, Json> =
                        def.visible_fields().map(|f| (f.name.clone(), r.get(&f.name).to_json())).collect();
                    state.insert((def.name.clone(), id), visible);
                }
            }
            let mut actors: HashMap<Uuid, Json> = HashMap::new();
            if let Some(users) = &users {
                let mut ids: Vec<Uuid> = relevant.iter().filter_map(|e| e.actor_id).collect();
                ids.sort();
                ids.dedup();
                for u in records::by_ids(&mut tx, users, &ids).await? {
                    if let Some(id) = u.id() {
                        actors.insert(
                            id,
                            json!({ "id": id, "name": u.get("name").to_json(), "email": u.get("email").to_json() }),
                        );
                    }
                }
            }
            // Walk back from the newest entry, undoing each change, so every entry sees
            // the record as it left it and as it was before.
            let mut snapshots: BTreeMap<i64, (Fields, Fields)> = BTreeMap::new();
            for e in relevant.iter().rev() {
                let Some(current) = state.get_mut(&(e.entity.clone(), e.record_id)) else { continue };
                let after = current.clone();
                if let Some(diff) = e.diff.as_object() {
                    for (field, change) in diff {
                        if current.contains_key(field) {
                            current.insert(field.clone(), change.get("from").cloned().unwrap_or(Json::Null));
                        }
                    }
                }
                snapshots.insert(e.seq, (after, current.clone()));
            }
            for e in &relevant {
                let Some((record, previous)) = snapshots.get(&e.seq) else { continue };
                let actor = e.actor_id.and_then(|id| actors.get(&id).cloned()).unwrap_or_else(|| match e.actor_id {
                    Some(id) => json!({ "id": id, "name": null, "email": null }),
                    None => Json::Null,
                });
                let event = WebhookEvent { entry: e, record, previous, actor: &actor };
                for (job, delivery) in plan(&event, &subscriptions) {
                    if jobs::enqueue(&mut tx, &job, now).await? {
                        store::insert_delivery(&mut tx, &delivery).await?;
                    }
                }
            }
        }
        cursor::set(&mut tx, name, last).await?;
        tx.commit().await?;
        Ok(entries.len())
    }

    /// A subscription by id, for the worker (no policy: the system delivers).
    pub async fn webhook_for_worker(&self, id: Uuid) -> Result<Option<StoredWebhook>, ServiceError> {
        let mut tx = self.db.read().await?;
        Ok(store::get(&mut tx, id).await?)
    }

    /// A delivery by id, for the worker.
    pub async fn delivery_for_worker(&self, id: Uuid) -> Result<Option<Delivery>, ServiceError> {
        let mut tx = self.db.read().await?;
        Ok(store::get_delivery(&mut tx, id).await?)
    }

    /// Record one try of a delivery and the delivery's status after it, together.
    /// `attempt` is None when nothing was sent (the subscription is gone or off).
    pub async fn record_webhook_attempt(
        &self,
        delivery_id: Uuid,
        attempt: Option<&Attempt>,
        status: &str,
        error: Option<&str>,
        finished: bool,
    ) -> Result<(), ServiceError> {
        let now = self.clock.now();
        let mut tx = self.db.side_write().await?;
        if let Some(a) = attempt {
            store::insert_attempt(&mut tx, a).await?;
        }
        let code = attempt.and_then(|a| a.response_code);
        store::set_delivery_status(&mut tx, delivery_id, status, code, error, finished.then_some(now)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Count a finished event delivery: a success starts the subscription's failure
    /// count again; a failure adds one, and at `disable_after` consecutive failures the
    /// subscription is disabled (change-logged and audited as the system) and the email
    /// `notice` makes for its owner (`(subscription, owner's address)`) is queued, all in
    /// one transaction. Returns whether it was disabled now.
    pub async fn count_webhook_delivery(
        &self,
        webhook_id: Uuid,
        failed: bool,
        disable_after: i64,
        notice: impl FnOnce(&StoredWebhook, &str) -> NewJob,
    ) -> Result<bool, ServiceError> {
        let now = self.clock.now();
        let mut tx = self.db.write().await?;
        let Some(failures) = store::count_failure(&mut tx, webhook_id, failed).await? else { return Ok(false) };
        let Some(before) = store::get(&mut tx, webhook_id).await? else { return Ok(false) };
        if !failed || failures < disable_after.max(1) || !before.active {
            tx.commit().await?;
            return Ok(false);
        }
        let after = StoredWebhook {
            active: false,
            disabled_reason: Some(format!("disabled after {failures} consecutive failed deliveries")),
            updated_at: now,
            version: before.version + 1,
            ..before.clone()
        };
        if !store::update(&mut tx, &after, before.version).await? {
            return Ok(false);
        }
        self.log_webhook(&mut tx, &system_ctx(), ChangeOp::Update, Some(&before), Some(&after)).await?;
        let owner = after.updated_by.or(after.created_by);
        let email = match (owner, self.schema().entity("users").cloned()) {
            (Some(id), Some(users)) => records::get(&mut tx, &users, id, &RowScope::All)
                .await?
                .and_then(|u| u.text("email").map(str::to_string)),
            _ => None,
        };
        match email {
            Some(to) => {
                let job = notice(&after, &to);
                jobs::enqueue(&mut tx, &job, now).await?;
            }
            None => {
                tracing::warn!(webhook = %webhook_id, "disabled a failing webhook whose owner has no email address")
            }
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn log_webhook(
        &self,
        tx: &mut keel_store::Tx,
        ctx: &Ctx,
        op: ChangeOp,
        before: Option<&StoredWebhook>,
        after: Option<&StoredWebhook>,
    ) -> Result<(), ServiceError> {
        let record_id = after.or(before).map(|w| w.id).ok_or(ServiceError::NotFound)?;
        let entry = ctx.change(self.clock.now(), "webhooks", record_id, op, diff(before, after));
        changes::append(tx, &entry).await?;
        crate::audit::record_changed(tx, ctx, &entry).await
    }
}
