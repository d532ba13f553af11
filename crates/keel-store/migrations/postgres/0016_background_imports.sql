-- Background imports (issue 7, item 3): `POST /api/v1/imports` stores the file and
-- answers 202; a task of `keel serve` runs it and records its progress here. A process
-- that dies mid-import leaves `locked_until` to run out; another (or the same, restarted)
-- claims the import and resumes from `next_row`. Mirrors ../sqlite/0016_background_imports.sql.
--
-- locked_by/locked_until: the runner holding the import and until when (its lease,
-- renewed with each progress update; every batch commits only while it holds it).
-- phase: queued, validating, importing, done. rows_done: data rows the phase has
-- finished (of total_rows once known). status gains `queued`.
ALTER TABLE imports ADD COLUMN phase TEXT NOT NULL DEFAULT 'done';
ALTER TABLE imports ADD COLUMN rows_done BIGINT NOT NULL DEFAULT 0;
ALTER TABLE imports ADD COLUMN locked_by TEXT;
ALTER TABLE imports ADD COLUMN locked_until TIMESTAMPTZ;
-- The runner looks for work by status; finished imports are most of the table.
CREATE INDEX imports_pending ON imports (status, started_at) WHERE status IN ('queued', 'running');

-- The file of a queued or running import, in parts of at most 1 MiB, so any Keel process
-- sharing the database can run it and a restart finds it. Deleted when the import ends.
CREATE TABLE import_files (
    import_id UUID NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    part INTEGER NOT NULL,
    data BYTEA NOT NULL,
    PRIMARY KEY (import_id, part)
);
