-- Workflow automation (issue 5). Mirrors ../postgres/0009_automation.sql table for table.
-- Types as in 0001_init.sql: ids are 16-byte UUID blobs, timestamps fixed-width UTC text
-- (text order is time order, which the job claim relies on), JSON documents as text.

-- Workflows are data: a trigger, conditions and ordered actions in `definition` (the
-- shape of keel_automation::definition::Definition). `trigger_entity` and `trigger_on`
-- repeat what the dispatcher matches on, so it never parses a disabled workflow.
CREATE TABLE workflows (
    id BLOB PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT,
    definition TEXT NOT NULL,
    trigger_entity TEXT,
    enabled INTEGER NOT NULL,
    created_by BLOB,
    updated_by BLOB,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX workflows_trigger ON workflows (trigger_entity, enabled);

-- The durable job queue. One row per unit of work; `dedupe_key` makes enqueueing the
-- same event twice a no-op. Status: queued → running → done, or back to queued (retry
-- after `run_after`), or dead after `max_attempts`. A running job whose `locked_until`
-- has passed (its worker died) is claimed again.
CREATE TABLE jobs (
    id BLOB PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    dedupe_key TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL,
    run_after TEXT NOT NULL,
    locked_by TEXT,
    locked_until TEXT,
    last_error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX jobs_dedupe_key ON jobs (dedupe_key);
CREATE INDEX jobs_ready ON jobs (status, run_after);

-- One run per workflow job (the run's id is the job's id). The definition and the
-- rendering context are snapshotted on the first attempt, so a retry renders the same
-- messages. No foreign key to workflows: history outlives a deleted workflow.
CREATE TABLE workflow_runs (
    id BLOB PRIMARY KEY,
    workflow_id BLOB NOT NULL,
    entity TEXT,
    record_id BLOB,
    trigger_event TEXT NOT NULL,
    depth BIGINT NOT NULL,
    status TEXT NOT NULL,
    definition TEXT,
    context TEXT,
    conditions_met INTEGER,
    error TEXT,
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT
);
CREATE INDEX workflow_runs_workflow ON workflow_runs (workflow_id, created_at);

-- Each try of each action. An action with a `done` row is never run again.
CREATE TABLE workflow_run_steps (
    run_id BLOB NOT NULL REFERENCES workflow_runs (id) ON DELETE CASCADE,
    action_index BIGINT NOT NULL,
    attempt BIGINT NOT NULL,
    action_type TEXT NOT NULL,
    status TEXT NOT NULL,
    input TEXT NOT NULL,
    output TEXT NOT NULL,
    error TEXT,
    duration_ms BIGINT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (run_id, action_index, attempt)
);

-- Where each change-log reader has got to. The workflow dispatcher starts at the log's
-- current end: history from before automation existed triggers nothing.
CREATE TABLE automation_cursors (
    name TEXT PRIMARY KEY,
    seq BIGINT NOT NULL
);
INSERT INTO automation_cursors (name, seq) SELECT 'workflows', COALESCE(MAX(seq), 0) FROM change_log;
