-- A team's managers, beyond the managers who are members of it: a manager's `team`
-- scope covers their own team and every team they are listed for here.
CREATE TABLE team_managers (
    team_id BLOB NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_managers_user ON team_managers (user_id, team_id);
