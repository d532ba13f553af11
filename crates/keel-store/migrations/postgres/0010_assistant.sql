-- The assistant (issue 6): conversation history per user, and proposals — writes the
-- assistant suggested, stored with the exact input until the same user confirms or
-- cancels them. Not CRM entities: no change log of their own (a confirmed proposal's
-- writes are logged by the normal write path). Mirrors ../sqlite/0010_assistant.sql.
CREATE TABLE assistant_conversations (
    id UUID PRIMARY KEY,
    user_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX assistant_conversations_user ON assistant_conversations (user_id, updated_at);

-- One row per turn: `role` is user or assistant; `data` (JSON) holds what the reply cited,
-- proposed and which tools it called.
CREATE TABLE assistant_messages (
    id UUID PRIMARY KEY,
    conversation_id UUID NOT NULL REFERENCES assistant_conversations (id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    content TEXT NOT NULL,
    data JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX assistant_messages_conversation ON assistant_messages (conversation_id, id);

-- `status`: pending → running (claimed by one confirm) → confirmed, or back to pending
-- when a step fails; pending → cancelled. `steps` (JSON) is the exact input of each write;
-- `result` (JSON) the records written so far, so a retried confirm resumes, never repeats.
CREATE TABLE assistant_proposals (
    id UUID PRIMARY KEY,
    user_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    conversation_id UUID REFERENCES assistant_conversations (id) ON DELETE SET NULL,
    kind TEXT NOT NULL,
    summary TEXT NOT NULL,
    steps JSONB NOT NULL,
    status TEXT NOT NULL,
    result JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    decided_at TIMESTAMPTZ
);
CREATE INDEX assistant_proposals_user ON assistant_proposals (user_id, created_at);
