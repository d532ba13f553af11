-- Outbound webhooks (issue 7). Mirrors ../postgres/0012_webhooks.sql table for table.
-- Deliveries are jobs in the automation queue (kind `webhook.deliver`, the job's id is the
-- delivery's); these tables hold the subscriptions, what each delivery sends and every try.

-- A subscription: where to POST, which events (`deals.updated`, `*`, …, a JSON list), an
-- optional condition tree over the record (keel_automation::condition), the signing secret.
-- `failures` counts consecutive failed deliveries; at the configured limit the
-- subscription is disabled (`active` false, `disabled_reason`) and its owner emailed.
CREATE TABLE webhooks (
    id BLOB PRIMARY KEY,
    url TEXT NOT NULL,
    description TEXT,
    events TEXT NOT NULL,
    filter TEXT,
    active INTEGER NOT NULL,
    secret TEXT NOT NULL,
    failures BIGINT NOT NULL DEFAULT 0,
    disabled_reason TEXT,
    created_by BLOB,
    updated_by BLOB,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX webhooks_active ON webhooks (active);

-- One row per delivery (the id is its job's id; `X-Keel-Delivery`). `payload` is the
-- exact event document; a redelivery is a new delivery of the same payload. No foreign
-- key to webhooks: the log outlives a deleted subscription.
CREATE TABLE webhook_deliveries (
    id BLOB PRIMARY KEY,
    webhook_id BLOB NOT NULL,
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    change_seq BIGINT,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    manual INTEGER NOT NULL,
    redelivery_of BLOB,
    response_code BIGINT,
    error TEXT,
    created_at TEXT NOT NULL,
    finished_at TEXT
);
-- The delivery log, newest first, keyset-paged by id (UUIDv7: time order).
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, id);

-- Every try of every delivery.
CREATE TABLE webhook_attempts (
    delivery_id BLOB NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempt BIGINT NOT NULL,
    at TEXT NOT NULL,
    succeeded INTEGER NOT NULL,
    response_code BIGINT,
    latency_ms BIGINT NOT NULL,
    error TEXT,
    response_snippet TEXT,
    PRIMARY KEY (delivery_id, attempt)
);

-- The webhook dispatcher's change-log cursor starts at the log's current end.
INSERT INTO automation_cursors (name, seq) SELECT 'webhooks', COALESCE(MAX(seq), 0) FROM change_log;
