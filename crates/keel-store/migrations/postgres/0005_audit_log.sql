-- The audit log (security issue, item 4): who did what, when, from where. Mirrors
-- ../sqlite/0005_audit_log.sql column for column. Types as in 0001_init.sql: `uuid`,
-- `timestamptz` (microseconds), `details` as JSONB.
--
-- Append-only and tamper-evident: each row carries `hash`, a SHA-256 over `prev_hash` and
-- the row's canonical form (the byte layout is documented in
-- keel-service/src/audit/chain.rs), chained to the previous row. `seq` is assigned by the
-- writer as the previous row's seq + 1 while holding the writers' advisory lock, so a
-- missing row shows as a gap; an identity column would skip numbers on rollback. The only
-- deletion is the retention purge, which removes a prefix of the chain and records an
-- `audit.purged` row that anchors it.
CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY,
    at TIMESTAMPTZ NOT NULL,
    actor_id UUID,
    action TEXT NOT NULL,
    entity TEXT,
    record_id UUID,
    details JSONB NOT NULL,
    ip TEXT,
    user_agent TEXT,
    request_id TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
-- Admin queries filter by user, by record, by action or by time and page newest first.
CREATE INDEX audit_log_actor ON audit_log (actor_id, seq);
CREATE INDEX audit_log_record ON audit_log (entity, record_id, seq);
CREATE INDEX audit_log_action ON audit_log (action, seq);
CREATE INDEX audit_log_at ON audit_log (at, seq);

-- Rows are never changed once written, and the table is never truncated. This stops
-- mistakes in application code; someone with direct database access can drop the
-- trigger, which is what the hash chain is for.
CREATE FUNCTION keel_audit_log_append_only() RETURNS trigger
    LANGUAGE plpgsql
    AS $$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION keel_audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION keel_audit_log_append_only();
