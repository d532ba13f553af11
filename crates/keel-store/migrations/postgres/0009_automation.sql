-- Workflow automation (issue 5). Mirrors ../sqlite/0009_automation.sql table for table.
-- Types as in 0001_init.sql: `uuid`, `timestamptz`, JSON documents as JSONB. Workers
-- claim jobs with FOR UPDATE SKIP LOCKED, so several Keel processes share the queue.

-- Workflows are data: a trigger, conditions and ordered actions in `definition` (the
-- shape of keel_automation::definition::Definition). `trigger_entity` and `trigger_on`
-- repeat what the dispatcher matches on, so it never parses a disabled workflow.
CREATE TABLE workflows (
    id UUID PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT,
    definition JSONB NOT NULL,
    trigger_entity TEXT,
    enabled BOOLEAN NOT NULL,
    created_by UUID,
    updated_by UUID,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX workflows_trigger ON workflows (trigger_entity, enabled);

-- The durable job queue. One row per unit of work; `dedupe_key` makes enqueueing the
-- same event twice a no-op. Status: queued → running → done, or back to queued (retry
-- after `run_after`), or dead after `max_attempts`. A running job whose `locked_until`
-- has passed (its worker died) is claimed again.
CREATE TABLE jobs (
    id UUID PRIMARY KEY,
    kind TEXT NOT NULL,
    payload JSONB NOT NULL,
    dedupe_key TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL,
    run_after TIMESTAMPTZ NOT NULL,
    locked_by TEXT,
    locked_until TIMESTAMPTZ,
    last_error TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX jobs_dedupe_key ON jobs (dedupe_key);
CREATE INDEX jobs_ready ON jobs (status, run_after);

-- One run per workflow job (the run's id is the job's id). The definition and the
-- rendering context are snapshotted on the first attempt, so a retry renders the same
-- messages. No foreign key to workflows: history outlives a deleted workflow.
CREATE TABLE workflow_runs (
    id UUID PRIMARY KEY,
    workflow_id UUID NOT NULL,
    entity TEXT,
    record_id UUID,
    trigger_event JSONB NOT NULL,
    depth BIGINT NOT NULL,
    status TEXT NOT NULL,
    definition JSONB,
    context JSONB,
    conditions_met BOOLEAN,
    error TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    started_at TIMESTAMPTZ,
    finished_at TIMESTAMPTZ
);
CREATE INDEX workflow_runs_workflow ON workflow_runs (workflow_id, created_at);

-- Each try of each action. An action with a `done` row is never run again.
CREATE TABLE workflow_run_steps (
    run_id UUID NOT NULL REFERENCES workflow_runs (id) ON DELETE CASCADE,
    action_index BIGINT NOT NULL,
    attempt BIGINT NOT NULL,
    action_type TEXT NOT NULL,
    status TEXT NOT NULL,
    input JSONB NOT NULL,
    output JSONB NOT NULL,
    error TEXT,
    duration_ms BIGINT NOT NULL,
    at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (run_id, action_index, attempt)
);

-- Where each change-log reader has got to. The workflow dispatcher starts at the log's
-- current end: history from before automation existed triggers nothing.
CREATE TABLE automation_cursors (
    name TEXT PRIMARY KEY,
    seq BIGINT NOT NULL
);
INSERT INTO automation_cursors (name, seq) SELECT 'workflows', COALESCE(MAX(seq), 0) FROM change_log;
