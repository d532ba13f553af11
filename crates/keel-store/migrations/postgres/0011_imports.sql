-- CSV imports (issue 7): one row per import that was refused or started, with who ran
-- it, what it did and where it stopped. Counts and `next_row` are updated in the same
-- transaction as each batch of records, so they always match what was committed.
-- Not a CRM entity: the records an import writes have their own change-log and audit
-- entries, and a finished import is audited as `import.completed`.
-- Mirrors ../sqlite/0011_imports.sql.
CREATE TABLE imports (
    id UUID PRIMARY KEY,
    user_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    file_name TEXT,
    entity TEXT NOT NULL,
    mode TEXT NOT NULL,
    key_field TEXT,
    -- rejected (the dry run found errors; nothing written), running, completed, failed
    status TEXT NOT NULL,
    total_rows BIGINT NOT NULL,
    created_count BIGINT NOT NULL,
    updated_count BIGINT NOT NULL,
    unchanged_count BIGINT NOT NULL,
    skipped_count BIGINT NOT NULL,
    failed_count BIGINT NOT NULL,
    companies_created BIGINT NOT NULL,
    -- The first data row not imported yet (pass it as `resume_from`); NULL when done.
    next_row BIGINT,
    -- JSON: encoding, separator, mapping and flags the import ran with.
    options JSONB NOT NULL,
    -- JSON array of row errors, at most 1000; `error_count` counts them all.
    errors JSONB NOT NULL,
    error_count BIGINT NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ
);
CREATE INDEX imports_user ON imports (user_id, started_at);
CREATE INDEX imports_started ON imports (started_at);
