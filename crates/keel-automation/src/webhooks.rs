//! Outbound webhooks: admins subscribe a URL to record events (`deals.updated`, `*`),
//! optionally narrowed by a condition tree over the record (the workflows' conditions).
//! A dispatcher reads the change log after its own cursor and queues one delivery job
//! per matching subscription in the cursor's transaction (dedupe key
//! `webhook:<id>:change:<seq>`); workers POST the event, signed Stripe-style, through the
//! automation queue (leases, backoff, dead letter) and log every try. A subscription
//! whose deliveries keep failing is disabled and its owner emailed (docs/API.md).

use std::time::Instant;

use keel_domain::{FieldErrors, Schema};
use keel_service::automation::{
    Attempt, Delivery, Job, JobOutcome, NewJob, PlannedDelivery, StoredWebhook, WEBHOOK_ENTITIES, WebhookEvent,
    WebhookInput,
};
use keel_service::{Ctx, ServiceError};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json, json};
use uuid::Uuid;

use crate::Automation;
use crate::actions::{ActionError, Runtime, email, http::signature};
use crate::condition::Condition;
use crate::config::AutomationConfig;
use crate::context::lookup;
use crate::engine::rfc3339;

/// The change-log cursor the webhook dispatcher keeps.
pub const CURSOR: &str = "webhooks";
/// The job kind of one delivery.
pub const DELIVER_KIND: &str = "webhook.deliver";
/// The job kind of the email telling an owner their subscription was disabled.
pub const NOTICE_KIND: &str = "webhook.disabled_email";
/// The event type of a test delivery.
pub const TEST_EVENT: &str = "webhook.test";
/// Operations a subscription can name, and the change-log operation of each.
const OPS: [(&str, &str); 4] =
    [("created", "create"), ("updated", "update"), ("deleted", "delete"), ("restored", "restore")];
/// How much of a receiver's answer the log keeps.
const SNIPPET_CHARS: usize = 1000;

/// A delivery job's payload (the delivery's id is the job's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Payload {
    pub webhook_id: Uuid,
}

fn op_name(change_op: &str) -> Option<&'static str> {
    OPS.iter().find(|(_, c)| *c == change_op).map(|(n, _)| *n)
}

/// Does the subscription's event list take `entity`.`op` (`deals.updated`)?
fn subscribed(events: &Json, event_type: &str) -> bool {
    let entity = event_type.split('.').next().unwrap_or_default();
    events
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Json::as_str)
        .any(|e| e == "*" || e == event_type || e.strip_suffix(".*").is_some_and(|x| x == entity))
}

/// The entities an event list covers.
fn entities_of(events: &[String]) -> Vec<&'static str> {
    WEBHOOK_ENTITIES
        .iter()
        .copied()
        .filter(|entity| events.iter().any(|e| e == "*" || e.split('.').next() == Some(*entity)))
        .collect()
}

/// What a filter is evaluated over: the record under its singular name and as `record`,
/// `previous`, and `event` (`type`, `entity`, `op`).
fn filter_context(singular: &str, record: &Map<String, Json>, previous: &Map<String, Json>, event: Json) -> Json {
    json!({
        singular: Json::Object(record.clone()),
        "record": Json::Object(record.clone()),
        "previous": Json::Object(previous.clone()),
        "event": event,
    })
}

/// Check a subscription's fields; `body` is a whole subscription (a PATCH merged onto
/// the stored one). Errors name the field: `url`, `events[1]`, `filter.all[0].field`.
pub fn input(schema: &Schema, body: &Map<String, Json>) -> Result<WebhookInput, FieldErrors> {
    const KNOWN: [&str; 5] = ["url", "description", "events", "filter", "active"];
    const READ_ONLY: [&str; 9] = [
        "id",
        "secret",
        "failures",
        "disabled_reason",
        "created_by",
        "updated_by",
        "created_at",
        "updated_at",
        "version",
    ];
    let mut errors = FieldErrors::new();
    for k in body.keys() {
        if !KNOWN.contains(&k.as_str()) && !READ_ONLY.contains(&k.as_str()) {
            errors.push(k.clone(), "unknown_field", format!("a webhook has no field `{k}`"));
        }
    }
    let url = body.get("url").and_then(Json::as_str).map(str::trim).unwrap_or_default().to_string();
    let parsed = reqwest::Url::parse(&url).ok();
    let url_ok = parsed
        .as_ref()
        .is_some_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty()));
    if !url_ok || url.len() > 2048 {
        errors.push("url", "invalid_url", "an http:// or https:// URL with a host, at most 2048 characters");
    }
    let description = match body.get("description") {
        None | Some(Json::Null) => None,
        Some(Json::String(s)) if s.chars().count() <= 2000 => Some(s.clone()).filter(|s| !s.trim().is_empty()),
        Some(_) => {
            errors.push("description", "invalid", "a description is text of at most 2000 characters");
            None
        }
    };
    let active = match body.get("active") {
        None => true,
        Some(Json::Bool(b)) => *b,
        Some(_) => {
            errors.push("active", "invalid_type", "`active` is true or false");
            true
        }
    };
    let known_events = || {
        let mut all = vec!["*".to_string()];
        for e in WEBHOOK_ENTITIES {
            all.push(format!("{e}.*"));
            all.extend(OPS.iter().map(|(op, _)| format!("{e}.{op}")));
        }
        all
    };
    let mut events: Vec<String> = Vec::new();
    match body.get("events") {
        Some(Json::Array(items)) if !items.is_empty() => {
            let known = known_events();
            for (i, item) in items.iter().enumerate() {
                match item.as_str() {
                    Some(e) if known.iter().any(|k| k == e) => {
                        if !events.iter().any(|x| x == e) {
                            events.push(e.to_string());
                        }
                    }
                    _ => errors.push(
                        format!("events[{i}]"),
                        "unknown_event",
                        format!(
                            "`{}` is not an event: use `*` or <entity>.<operation> with entity one of {} and operation one of created, updated, deleted, restored (or `*`)",
                            item.as_str().map_or_else(|| item.to_string(), str::to_string),
                            WEBHOOK_ENTITIES.join(", ")
                        ),
                    ),
                }
            }
        }
        _ => errors.push(
            "events",
            "required",
            "a webhook subscribes to at least one event (a list, e.g. [\"deals.updated\"] or [\"*\"])",
        ),
    }
    let filter = match body.get("filter") {
        None | Some(Json::Null) => None,
        Some(f) => match serde_json::from_value::<Condition>(f.clone()) {
            Err(e) => {
                errors.push("filter", "invalid", format!("not a condition: {e}"));
                None
            }
            Ok(c) => {
                let mut cmps = Vec::new();
                c.comparisons("filter", &mut cmps);
                // A path is fine when some subscribed entity's context has it.
                let shapes: Vec<Json> = entities_of(&events)
                    .iter()
                    .filter_map(|e| schema.entity(e))
                    .map(|def| {
                        let fields: Map<String, Json> =
                            def.visible_fields().map(|f| (f.name.clone(), json!("sample"))).collect();
                        filter_context(&def.singular, &fields, &fields, json!({ "type": "", "entity": "", "op": "" }))
                    })
                    .collect();
                for (path, field, op, value) in cmps {
                    if !shapes.iter().any(|s| lookup(s, &field).is_some_and(|v| !v.is_object())) {
                        errors.push(
                            format!("{path}.field"),
                            "unknown_field",
                            format!("`{field}` is not a field of the subscribed events' records"),
                        );
                    }
                    if op.takes_value() && value.is_none() {
                        errors.push(format!("{path}.value"), "required", "this comparison needs a `value`");
                    }
                }
                serde_json::to_value(&c).ok()
            }
        },
    };
    errors.into_result()?;
    Ok(WebhookInput { url, description, events: json!(events), filter, active })
}

/// A subscription as the API shows it (with its secret: only admins see this).
pub fn view(w: &StoredWebhook) -> Json {
    json!({
        "id": w.id,
        "url": w.url,
        "description": w.description,
        "events": w.events,
        "filter": w.filter,
        "active": w.active,
        "secret": w.secret,
        "failures": w.failures,
        "disabled_reason": w.disabled_reason,
        "created_by": w.created_by,
        "updated_by": w.updated_by,
        "created_at": rfc3339(w.created_at),
        "updated_at": rfc3339(w.updated_at),
        "version": w.version,
    })
}

/// A delivery as the log shows it, with its tries.
pub fn delivery_view(d: &Delivery, attempts: &[Attempt]) -> Json {
    json!({
        "id": d.id,
        "webhook_id": d.webhook_id,
        "event_id": d.event_id,
        "event_type": d.event_type,
        "change_seq": d.change_seq,
        "status": d.status,
        "manual": d.manual,
        "redelivery_of": d.redelivery_of,
        "response_code": d.response_code,
        "error": d.error,
        "created_at": rfc3339(d.created_at),
        "finished_at": d.finished_at.map(rfc3339),
        "payload": d.payload,
        "attempts": attempts,
    })
}

fn new_job(
    id: Uuid,
    webhook_id: Uuid,
    dedupe_key: String,
    config: &AutomationConfig,
    now: time::OffsetDateTime,
) -> NewJob {
    NewJob {
        id,
        kind: DELIVER_KIND.into(),
        payload: serde_json::to_value(Payload { webhook_id }).unwrap_or_default(),
        dedupe_key,
        max_attempts: config.max_attempts,
        run_after: now,
    }
}

fn new_delivery(id: Uuid, webhook_id: Uuid, payload: Json, seq: Option<i64>, now: time::OffsetDateTime) -> Delivery {
    Delivery {
        id,
        webhook_id,
        event_id: payload["id"].as_str().unwrap_or_default().to_string(),
        event_type: payload["type"].as_str().unwrap_or_default().to_string(),
        change_seq: seq,
        payload,
        status: "queued".into(),
        manual: false,
        redelivery_of: None,
        response_code: None,
        error: None,
        created_at: now,
        finished_at: None,
    }
}

/// The deliveries a change makes: one per active subscription that names its event and
/// whose filter holds on the record.
pub fn plan(
    schema: &Schema,
    event: &WebhookEvent<'_>,
    subscriptions: &[StoredWebhook],
    config: &AutomationConfig,
    now: time::OffsetDateTime,
) -> Vec<PlannedDelivery> {
    let e = event.entry;
    let (Some(op), Some(def)) = (op_name(&e.op), schema.entity(&e.entity)) else { return Vec::new() };
    let event_type = format!("{}.{op}", e.entity);
    let context = filter_context(
        &def.singular,
        event.record,
        event.previous,
        json!({ "type": event_type, "entity": e.entity, "op": op }),
    );
    // The diff of the fields the record shows (hidden fields stay out of payloads).
    let changes: Map<String, Json> = e
        .diff
        .as_object()
        .map(|d| d.iter().filter(|(k, _)| event.record.contains_key(*k)).map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    let body = json!({
        "id": format!("evt_{}", e.seq),
        "type": event_type,
        "occurred_at": rfc3339(e.at),
        "actor": event.actor,
        "entity": e.entity,
        "record_id": e.record_id,
        "record": event.record,
        "changes": changes,
        "seq": e.seq,
    });
    let mut out = Vec::new();
    for w in subscriptions {
        if !subscribed(&w.events, &event_type) {
            continue;
        }
        let filter = w.filter.as_ref().map(|f| serde_json::from_value::<Condition>(f.clone()));
        match filter {
            Some(Err(err)) => {
                tracing::warn!(webhook = %w.id, error = %err, "stored webhook filter does not parse; skipped");
                continue;
            }
            Some(Ok(c)) if !c.eval(&context) => continue,
            _ => {}
        }
        let id = Uuid::now_v7();
        let job = new_job(id, w.id, format!("webhook:{}:change:{}", w.id, e.seq), config, now);
        out.push((job, new_delivery(id, w.id, body.clone(), Some(e.seq), now)));
    }
    out
}

/// A try's result, as the log keeps it.
struct Tried {
    attempt: Attempt,
    /// Err: (retrying could help, the error).
    result: Result<(), (bool, String)>,
}

async fn post(rt: &Runtime, w: &StoredWebhook, d: &Delivery) -> Tried {
    let body = d.payload.to_string();
    let now = rt.service.now();
    let started = Instant::now();
    let sent = rt
        .http
        .post(&w.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("X-Keel-Signature", signature(&w.secret, now.unix_timestamp(), &body))
        .header("X-Keel-Event", &d.event_type)
        .header("X-Keel-Delivery", d.id.to_string())
        .header("Idempotency-Key", d.id.to_string())
        .body(body)
        .send()
        .await;
    let (code, snippet, result) = match sent {
        Err(e) => (None, None, Err((true, format!("POST {}: {e}", w.url)))),
        Ok(res) => {
            let status = res.status();
            let text: String = res.text().await.unwrap_or_default().chars().take(SNIPPET_CHARS).collect();
            let result = if status.is_success() {
                Ok(())
            } else {
                // As for workflow calls: 5xx, 429 and 408 are worth another try.
                let transient = status.is_server_error() || matches!(status.as_u16(), 408 | 429);
                Err((transient, format!("answered {status}")))
            };
            (Some(i64::from(status.as_u16())), Some(text).filter(|t| !t.is_empty()), result)
        }
    };
    Tried {
        attempt: Attempt {
            delivery_id: d.id,
            attempt: 0,
            at: now,
            succeeded: result.is_ok(),
            response_code: code,
            latency_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
            error: result.as_ref().err().map(|(_, e)| e.clone()),
            response_snippet: snippet,
        },
        result,
    }
}

/// The email to the owner of a subscription that was just disabled.
fn notice(rt: &Runtime, w: &StoredWebhook, to: &str, last_error: &str) -> NewJob {
    let id = Uuid::now_v7();
    let text = format!(
        "Keel stopped sending events to your webhook {url} ({description}): {reason}.\n\nThe last delivery failed: {last_error}\n\nFix the receiver, then turn the webhook back on (Automation → Webhooks): {public}/automation\n",
        url = w.url,
        description = w.description.as_deref().unwrap_or("no description"),
        reason = w.disabled_reason.as_deref().unwrap_or("too many failed deliveries"),
        public = rt.config.public_url,
    );
    NewJob {
        id,
        kind: NOTICE_KIND.into(),
        payload: json!({
            "to": [to], "cc": [],
            "subject": format!("Webhook disabled: {}", w.url).replace(['\r', '\n'], " "),
            "text": text, "html": null,
            "message_id": format!("<keel-webhook-{}-disabled-{}@keel>", w.id, w.version),
        }),
        dedupe_key: format!("webhook:{}:disabled:{}", w.id, w.version),
        max_attempts: rt.config.max_attempts,
        run_after: rt.service.now(),
    }
}

/// Run a delivery job: POST, log the try, then settle (done, retry later, or dead).
pub(crate) async fn deliver(rt: &Runtime, job: &Job) -> Result<JobOutcome, ServiceError> {
    let Some(d) = rt.service.delivery_for_worker(job.id).await? else {
        return Ok(JobOutcome::Dead { error: "the job has no delivery".into() });
    };
    let w = match rt.service.webhook_for_worker(d.webhook_id).await? {
        Some(w) if w.active || d.manual => w,
        found => {
            let why = if found.is_some() { "the webhook is disabled" } else { "the webhook was deleted" };
            rt.service.record_webhook_attempt(d.id, None, "skipped", Some(why), true).await?;
            return Ok(JobOutcome::Done);
        }
    };
    let tried = post(rt, &w, &d).await;
    let (status, outcome) = match &tried.result {
        Ok(()) => ("succeeded", JobOutcome::Done),
        Err((true, e)) if job.attempts < job.max_attempts => {
            ("retrying", JobOutcome::Retry { at: rt.service.now() + rt.config.backoff(job.attempts), error: e.clone() })
        }
        Err((true, e)) => ("dead", JobOutcome::Dead { error: format!("gave up after {} attempts: {e}", job.attempts) }),
        Err((false, e)) => ("failed", JobOutcome::Dead { error: e.clone() }),
    };
    let finished = !matches!(outcome, JobOutcome::Retry { .. });
    let error = tried.attempt.error.clone();
    rt.service.record_webhook_attempt(d.id, Some(&tried.attempt), status, error.as_deref(), finished).await?;
    if finished && !d.manual {
        let last_error = error.unwrap_or_default();
        let disabled = rt
            .service
            .count_webhook_delivery(w.id, status != "succeeded", rt.config.webhook_disable_after, |w, to| {
                notice(rt, w, to, &last_error)
            })
            .await?;
        if disabled {
            tracing::warn!(webhook = %w.id, url = %w.url, "webhook disabled after consecutive failed deliveries");
        }
    }
    Ok(outcome)
}

/// Send the email a disabled subscription's owner gets.
pub(crate) async fn send_notice(rt: &Runtime, job: &Job) -> Result<(), ActionError> {
    email::send(rt, &job.payload).await.map(|_| ())
}

fn invalid(errors: FieldErrors) -> ServiceError {
    ServiceError::Invalid(errors)
}

impl Automation {
    pub async fn list_webhooks(&self, ctx: &Ctx) -> Result<Vec<Json>, ServiceError> {
        Ok(self.runtime.service.list_webhooks(ctx).await?.iter().map(view).collect())
    }

    pub async fn get_webhook(&self, ctx: &Ctx, id: Uuid) -> Result<Json, ServiceError> {
        Ok(view(&self.runtime.service.get_webhook(ctx, id).await?))
    }

    pub async fn create_webhook(&self, ctx: &Ctx, body: Map<String, Json>) -> Result<Json, ServiceError> {
        // Ask the policy before judging the body: a non-admin learns nothing from errors.
        self.runtime.service.webhooks_allowed(ctx)?;
        if let Some(k) = ["secret", "failures", "disabled_reason"].iter().find(|k| body.contains_key(**k)) {
            return Err(invalid(FieldErrors::single(*k, "read_only", format!("`{k}` is set by Keel"))));
        }
        let schema = self.runtime.service.schema();
        let input = input(std::ops::Deref::deref(&schema), &body).map_err(invalid)?;
        Ok(view(&self.runtime.service.create_webhook(ctx, input).await?))
    }

    /// Change some of a subscription's fields (`{"active": false}` turns it off).
    pub async fn update_webhook(
        &self,
        ctx: &Ctx,
        id: Uuid,
        patch: Map<String, Json>,
        if_match: Option<i64>,
    ) -> Result<Json, ServiceError> {
        let current = self.runtime.service.get_webhook(ctx, id).await?;
        let mut merged = view(&current).as_object().cloned().unwrap_or_default();
        if patch.get("secret").is_some_and(|s| *s != json!(current.secret)) {
            return Err(invalid(FieldErrors::single(
                "secret",
                "read_only",
                "the secret is generated: POST /api/v1/webhooks/{id}/rotate-secret for a new one",
            )));
        }
        merged.extend(patch);
        let schema = self.runtime.service.schema();
        let input = input(std::ops::Deref::deref(&schema), &merged).map_err(invalid)?;
        Ok(view(&self.runtime.service.update_webhook(ctx, id, input, if_match).await?))
    }

    pub async fn delete_webhook(&self, ctx: &Ctx, id: Uuid) -> Result<(), ServiceError> {
        self.runtime.service.delete_webhook(ctx, id).await
    }

    pub async fn rotate_webhook_secret(&self, ctx: &Ctx, id: Uuid) -> Result<Json, ServiceError> {
        Ok(view(&self.runtime.service.rotate_webhook_secret(ctx, id).await?))
    }

    /// The delivery log, newest first; `before` continues after a page's last delivery.
    pub async fn webhook_deliveries(
        &self,
        ctx: &Ctx,
        id: Uuid,
        before: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<Json>, ServiceError> {
        let page = self.runtime.service.webhook_deliveries(ctx, id, before, limit).await?;
        Ok(page.iter().map(|(d, a)| delivery_view(d, a)).collect())
    }

    /// Send a delivery's event again, as a new delivery (its own id and log; the same
    /// event id, so receivers that deduplicate by event see it as a repeat).
    pub async fn redeliver(&self, ctx: &Ctx, webhook_id: Uuid, delivery_id: Uuid) -> Result<Json, ServiceError> {
        let original = self.runtime.service.webhook_delivery(ctx, webhook_id, delivery_id).await?;
        let now = self.runtime.service.now();
        let id = Uuid::now_v7();
        let job = new_job(id, webhook_id, format!("webhook:{webhook_id}:redelivery:{id}"), &self.runtime.config, now);
        let mut delivery = new_delivery(id, webhook_id, original.payload.clone(), original.change_seq, now);
        delivery.manual = true;
        delivery.redelivery_of = Some(original.id);
        let d = self.runtime.service.enqueue_webhook_delivery(ctx, (job, delivery)).await?;
        Ok(delivery_view(&d, &[]))
    }

    /// Queue a `webhook.test` event to the subscription (also when it is off).
    pub async fn test_webhook(&self, ctx: &Ctx, webhook_id: Uuid) -> Result<Json, ServiceError> {
        let w = self.runtime.service.get_webhook(ctx, webhook_id).await?;
        let now = self.runtime.service.now();
        let id = Uuid::now_v7();
        let payload = json!({
            "id": format!("evt_test_{}", id.simple()),
            "type": TEST_EVENT,
            "occurred_at": rfc3339(now),
            "actor": { "id": ctx.actor.user_id, "name": null, "email": null },
            "entity": null,
            "record_id": null,
            "record": null,
            "changes": {},
            "webhook": { "id": w.id, "url": w.url, "events": w.events },
        });
        let job = new_job(id, webhook_id, format!("webhook:{webhook_id}:test:{id}"), &self.runtime.config, now);
        let mut delivery = new_delivery(id, webhook_id, payload, None, now);
        delivery.manual = true;
        let d = self.runtime.service.enqueue_webhook_delivery(ctx, (job, delivery)).await?;
        Ok(delivery_view(&d, &[]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_match_exactly_by_entity_or_everything() {
        assert!(subscribed(&json!(["deals.updated"]), "deals.updated"));
        assert!(!subscribed(&json!(["deals.updated"]), "deals.created"));
        assert!(subscribed(&json!(["deals.*"]), "deals.deleted"));
        assert!(!subscribed(&json!(["deals.*"]), "contacts.deleted"));
        assert!(subscribed(&json!(["*"]), "activities.restored"));
    }

    #[test]
    fn bad_urls_events_and_filters_name_their_field() {
        let schema = keel_domain::schema::builtin_schema();
        let body = json!({
            "url": "ftp://example.com/x",
            "events": ["deals.updated", "deals.exploded", "users.created"],
            "filter": { "all": [{ "field": "deal.nope", "op": "eq", "value": 1 }, { "field": "deal.stage", "op": "eq" }] },
        });
        let errors = input(&schema, body.as_object().expect("object")).expect_err("invalid");
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["url", "events[1]", "events[2]", "filter.all[0].field", "filter.all[1].value"]);
        let ok = json!({ "url": "https://example.com/hook", "events": ["deals.updated"],
                         "filter": { "field": "deal.stage", "op": "eq", "value": "Closed Won" } });
        assert!(input(&schema, ok.as_object().expect("object")).is_ok());
    }
}
