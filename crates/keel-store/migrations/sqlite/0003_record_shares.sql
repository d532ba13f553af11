-- Record sharing: a company, contact or deal shared with a user or a whole team, for
-- viewing or editing. Read scopes include shared rows through the grantee indexes.
CREATE TABLE record_shares (
    id BLOB PRIMARY KEY,
    entity TEXT NOT NULL,
    record_id BLOB NOT NULL,
    user_id BLOB REFERENCES users (id) ON DELETE CASCADE,
    team_id BLOB REFERENCES teams (id) ON DELETE CASCADE,
    permission TEXT NOT NULL CHECK (permission IN ('view', 'edit')),
    created_by BLOB,
    created_at TEXT NOT NULL,
    CHECK ((user_id IS NULL) <> (team_id IS NULL))
);
CREATE UNIQUE INDEX record_shares_one_per_user ON record_shares (entity, record_id, user_id) WHERE user_id IS NOT NULL;
CREATE UNIQUE INDEX record_shares_one_per_team ON record_shares (entity, record_id, team_id) WHERE team_id IS NOT NULL;
CREATE INDEX record_shares_user ON record_shares (user_id, entity, record_id);
CREATE INDEX record_shares_team ON record_shares (team_id, entity, record_id);
