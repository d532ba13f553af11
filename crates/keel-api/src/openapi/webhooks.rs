//! Outbound webhooks (`routes/webhooks.rs`) in the OpenAPI document: admins only.

use serde_json::{Map, Value, json};

use super::{API, Operation, add, param, schema_ref};

pub(super) fn paths(paths: &mut Map<String, Value>) {
    let id = param("id", "path", true, json!({ "type": "string", "format": "uuid" }), "The webhook's id.");
    let forbidden = "Only admins may manage webhooks.";
    let invalid = "Not valid: each error names the field (`url`, `events[1]`, `filter.all[0].field`) and the rule (`invalid_url`, `unknown_event`, `unknown_field`).";
    let delivery = json!({ "type": "object", "properties": { "data": { "type": "array", "items": schema_ref("WebhookDelivery") }, "next_before": { "type": ["string", "null"], "format": "uuid" } } });
    let ops = [
        ("/webhooks", "get", Operation::new("listWebhooks", "Webhooks", "Every webhook subscription").reply("200", "The subscriptions, newest first, with their secrets.", Some(json!({ "type": "object", "properties": { "data": { "type": "array", "items": schema_ref("Webhook") } } })))),
        ("/webhooks", "post", Operation::new("createWebhook", "Webhooks", "Subscribe a URL to events").describe("Keel generates the signing secret and shows it in the answer. Created and changed subscriptions are change-logged (entity `webhooks`) and audited; the secret never enters the logs.").body(schema_ref("Webhook")).reply("201", "The subscription (ETag: its version).", Some(schema_ref("Webhook"))).problem("422", invalid)),
        ("/webhooks/{id}", "get", Operation::new("getWebhook", "Webhooks", "One webhook subscription").param(id.clone()).reply("200", "The subscription (ETag: its version).", Some(schema_ref("Webhook"))).problem("404", "No such webhook.")),
        ("/webhooks/{id}", "patch", Operation::new("updateWebhook", "Webhooks", "Change, turn on or off a webhook").describe("Replaces the given keys (`{\"active\": false}` turns it off; turning it on again starts its failure count afresh). The saver becomes its owner. `If-Match` answers 412 when stale.").param(id.clone()).body(schema_ref("Webhook")).reply("200", "The subscription.", Some(schema_ref("Webhook"))).problem("404", "No such webhook.").problem("412", "The webhook changed since that version.").problem("422", invalid)),
        ("/webhooks/{id}", "delete", Operation::new("deleteWebhook", "Webhooks", "Delete a webhook").describe("Its delivery log stays; queued deliveries are skipped.").param(id.clone()).reply("204", "Deleted.", None).problem("404", "No such webhook.")),
        ("/webhooks/{id}/rotate-secret", "post", Operation::new("rotateWebhookSecret", "Webhooks", "Give a webhook a new secret").describe("The old secret stops signing at once.").param(id.clone()).reply("200", "The subscription with its new secret.", Some(schema_ref("Webhook"))).problem("404", "No such webhook.")),
        ("/webhooks/{id}/test", "post", Operation::new("testWebhook", "Webhooks", "Send a test event").describe("Queues a `webhook.test` event (also to a webhook that is off); it does not count toward disabling.").param(id.clone()).reply("202", "The queued delivery.", Some(schema_ref("WebhookDelivery"))).problem("404", "No such webhook.")),
        ("/webhooks/{id}/deliveries", "get", Operation::new("listWebhookDeliveries", "Webhooks", "A webhook's delivery log").describe("Newest first, each with every try (status code, latency, error, the start of the answer). `before` (a delivery id, `next_before` of the previous page) pages on.").param(id.clone()).param(param("limit", "query", false, json!({ "type": "integer", "minimum": 1, "maximum": 200 }), "At most this many (default 50).")).param(param("before", "query", false, json!({ "type": "string", "format": "uuid" }), "Deliveries older than this one.")).reply("200", "The deliveries.", Some(delivery)).problem("404", "No such webhook.")),
        ("/webhooks/{id}/deliveries/{delivery_id}/redeliver", "post", Operation::new("redeliverWebhook", "Webhooks", "Send a delivery's event again").describe("A new delivery (its own `X-Keel-Delivery` id and log) of the same event (the same event `id`).").param(id).param(param("delivery_id", "path", true, json!({ "type": "string", "format": "uuid" }), "The delivery to repeat.")).reply("202", "The queued delivery.", Some(schema_ref("WebhookDelivery"))).problem("404", "No such webhook or delivery.")),
    ];
    for (path, method, op) in ops {
        add(paths, &format!("{API}{path}"), method, op.problem("403", forbidden).build());
    }
}

pub(super) fn schemas(out: &mut Map<String, Value>) {
    let ts = json!({ "type": "string", "format": "date-time", "readOnly": true });
    out.insert("Webhook".into(), json!({
        "type": "object",
        "description": "An outbound webhook subscription (docs/API.md, Webhooks).",
        "required": ["url", "events"],
        "properties": {
            "id": { "type": "string", "format": "uuid", "readOnly": true },
            "url": { "type": "string", "format": "uri", "maxLength": 2048, "description": "http:// or https://" },
            "description": { "type": ["string", "null"], "maxLength": 2000 },
            "events": { "type": "array", "minItems": 1, "items": { "type": "string" }, "description": "`*`, or `<entity>.<operation>` (`<entity>.*`) with entity companies, contacts, deals or activities and operation created, updated, deleted or restored." },
            "filter": { "type": ["object", "null"], "description": "A condition over the record, as workflows' conditions: `{field: \"deal.stage\", op: \"eq\", value: \"Closed Won\"}`, `{all: […]}`, `{any: […]}`, `{not: …}`." },
            "active": { "type": "boolean", "default": true },
            "secret": { "type": "string", "readOnly": true, "description": "Signs every delivery (`X-Keel-Signature`)." },
            "failures": { "type": "integer", "readOnly": true, "description": "Consecutive failed deliveries." },
            "disabled_reason": { "type": ["string", "null"], "readOnly": true },
            "created_by": { "type": ["string", "null"], "format": "uuid", "readOnly": true },
            "updated_by": { "type": ["string", "null"], "format": "uuid", "readOnly": true },
            "created_at": ts, "updated_at": ts,
            "version": { "type": "integer", "readOnly": true },
        }
    }));
    out.insert("WebhookDelivery".into(), json!({
        "type": "object",
        "description": "One delivery of one event to one webhook, with every try.",
        "properties": {
            "id": { "type": "string", "format": "uuid", "description": "Sent as `X-Keel-Delivery`." },
            "webhook_id": { "type": "string", "format": "uuid" },
            "event_id": { "type": "string" },
            "event_type": { "type": "string", "description": "e.g. `deals.updated`, `webhook.test`" },
            "change_seq": { "type": ["integer", "null"] },
            "status": { "type": "string", "enum": ["queued", "retrying", "succeeded", "failed", "dead", "skipped"] },
            "manual": { "type": "boolean", "description": "A test event or a redelivery." },
            "redelivery_of": { "type": ["string", "null"], "format": "uuid" },
            "response_code": { "type": ["integer", "null"] },
            "error": { "type": ["string", "null"] },
            "created_at": { "type": "string", "format": "date-time" },
            "finished_at": { "type": ["string", "null"], "format": "date-time" },
            "payload": { "type": "object", "description": "The event exactly as sent: id, type, occurred_at, actor, entity, record_id, record, changes, seq." },
            "attempts": { "type": "array", "items": { "type": "object", "properties": {
                "attempt": { "type": "integer" }, "at": { "type": "string", "format": "date-time" },
                "succeeded": { "type": "boolean" }, "response_code": { "type": ["integer", "null"] },
                "latency_ms": { "type": "integer" }, "error": { "type": ["string", "null"] },
                "response_snippet": { "type": ["string", "null"] } } } },
        }
    }));
}
