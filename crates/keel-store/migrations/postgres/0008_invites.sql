-- One-time invitations: an admin invites a user, who sets their own password with the
-- token. Only the token's SHA-256 is stored.
CREATE TABLE invites (
    token_hash TEXT PRIMARY KEY,
    user_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_by UUID,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ
);
CREATE INDEX invites_user ON invites (user_id);
