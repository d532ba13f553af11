-- Login hardening (issue 3, item 6) for PostgreSQL. Mirrors ../sqlite/0004_login_security.sql.

-- Idle timeout: when a session was last used. NULL (sessions from before this migration,
-- or not yet used) means "since created_at". Written at most once a minute per session.
ALTER TABLE sessions ADD COLUMN last_seen_at TIMESTAMPTZ;
CREATE INDEX sessions_expires_at ON sessions (expires_at);

-- Failed sign-in counters, shared by every Keel process on this database. One row per
-- (scope, key): scope `account` keys on a SHA-256 of the normalised email (so unknown
-- emails are throttled exactly like real ones, and no typed email is stored), scope `ip`
-- on the client address. `expires_at` is when the row stops mattering (window and lock
-- both over), so old rows are pruned through an index.
CREATE TABLE login_throttle (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    failures BIGINT NOT NULL,
    window_started_at TIMESTAMPTZ NOT NULL,
    locked_until TIMESTAMPTZ,
    expires_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX login_throttle_expires_at ON login_throttle (expires_at);

-- TOTP two-factor authentication. The secret is stored as base32 text, not encrypted at
-- rest (see docs/SECURITY.md). `enabled_at` is NULL between setup and confirmation;
-- `last_used_step` is the last accepted 30-second time step, so a code works only once.
CREATE TABLE user_totp (
    user_id UUID PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    enabled_at TIMESTAMPTZ,
    last_used_step BIGINT
);

-- One-time recovery codes: only SHA-256 hashes of the (80-bit random) codes are stored.
CREATE TABLE recovery_codes (
    user_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ,
    PRIMARY KEY (user_id, code_hash)
);
