-- The audit log (security issue, item 4): who did what, when, from where. Mirrors
-- ../postgres/0005_audit_log.sql column for column. Types as in 0001_init.sql: ids are
-- 16-byte UUID blobs, `at` is UTC text with six fractional digits (text order is time
-- order), `details` is JSON text.
--
-- Append-only and tamper-evident: each row carries `hash`, a SHA-256 over `prev_hash` and
-- the row's canonical form (the byte layout is documented in
-- keel-service/src/audit/chain.rs), chained to the previous row. `seq` is assigned by the
-- writer as the previous row's seq + 1 under the write lock, so a missing row shows as a
-- gap; it is not AUTOINCREMENT because PostgreSQL sequences skip numbers on rollback and
-- both backends must number alike. The only deletion is the retention purge, which
-- removes a prefix of the chain and records an `audit.purged` row that anchors it.
CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor_id BLOB,
    action TEXT NOT NULL,
    entity TEXT,
    record_id BLOB,
    details TEXT NOT NULL,
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

-- Rows are never changed once written. This stops mistakes in application code; someone
-- with direct database access can drop the trigger, which is what the hash chain is for.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
