-- One-time invitations: an admin invites a user, who sets their own password with the
-- token. Only the token's SHA-256 is stored.
CREATE TABLE invites (
    token_hash TEXT PRIMARY KEY,
    user_id BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_by BLOB,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT
);
CREATE INDEX invites_user ON invites (user_id);
