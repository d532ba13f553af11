-- Keel's initial schema for SQLite. Mirrors ../postgres/0001_init.sql table for table,
-- column for column; a conformance test compares both with the entity metadata.
-- Types: ids are 16-byte UUID blobs; timestamps are UTC text with six fractional digits
-- (fixed width, so text order is time order); dates are YYYY-MM-DD text; booleans 0/1.
-- Every CRM table has `rid INTEGER PRIMARY KEY`: a stable rowid that the FTS5 index
-- points at (an implicit rowid may change on VACUUM). It never leaves the store.

CREATE TABLE teams (
    rid INTEGER PRIMARY KEY,
    id BLOB NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    deleted_at TEXT,
    name TEXT NOT NULL
);
CREATE UNIQUE INDEX teams_name_unique ON teams (lower(name)) WHERE deleted_at IS NULL;
CREATE INDEX teams_name_sort ON teams (name, id);
CREATE INDEX teams_created_at ON teams (created_at, id);
CREATE INDEX teams_updated_at ON teams (updated_at, id);

CREATE TABLE users (
    rid INTEGER PRIMARY KEY,
    id BLOB NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    deleted_at TEXT,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    team_id BLOB REFERENCES teams (id) ON DELETE SET NULL,
    is_active INTEGER,
    time_zone TEXT,
    password_hash TEXT
);
CREATE UNIQUE INDEX users_email_unique ON users (lower(email)) WHERE deleted_at IS NULL;
CREATE INDEX users_email_sort ON users (email, id);
CREATE INDEX users_name_sort ON users (name, id);
CREATE INDEX users_team_id ON users (team_id, id);
CREATE INDEX users_created_at ON users (created_at, id);
CREATE INDEX users_updated_at ON users (updated_at, id);

CREATE TABLE companies (
    rid INTEGER PRIMARY KEY,
    id BLOB NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    deleted_at TEXT,
    owner_id BLOB REFERENCES users (id),
    name TEXT NOT NULL,
    domain TEXT,
    industry TEXT,
    size TEXT,
    address TEXT,
    city TEXT,
    state TEXT,
    country TEXT,
    phone TEXT,
    website TEXT
);
CREATE UNIQUE INDEX companies_name_unique ON companies (lower(name)) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX companies_domain_unique ON companies (lower(domain)) WHERE deleted_at IS NULL AND domain IS NOT NULL;
CREATE INDEX companies_name_sort ON companies (name, id);
CREATE INDEX companies_domain_sort ON companies (domain, id);
CREATE INDEX companies_industry ON companies (industry, id);
CREATE INDEX companies_size ON companies (size, id);
CREATE INDEX companies_owner_id ON companies (owner_id, id);
CREATE INDEX companies_created_at ON companies (created_at, id);
CREATE INDEX companies_updated_at ON companies (updated_at, id);

CREATE TABLE contacts (
    rid INTEGER PRIMARY KEY,
    id BLOB NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    deleted_at TEXT,
    owner_id BLOB REFERENCES users (id),
    company_id BLOB REFERENCES companies (id) ON DELETE SET NULL,
    first_name TEXT,
    last_name TEXT,
    full_name TEXT,
    email TEXT,
    phone TEXT,
    mobile TEXT,
    title TEXT,
    department TEXT,
    is_primary INTEGER,
    linkedin_url TEXT,
    notes TEXT
);
CREATE UNIQUE INDEX contacts_email_unique ON contacts (lower(email)) WHERE deleted_at IS NULL AND email IS NOT NULL;
CREATE INDEX contacts_email_sort ON contacts (email, id);
CREATE INDEX contacts_last_name ON contacts (last_name, id);
CREATE INDEX contacts_full_name ON contacts (full_name, id);
CREATE INDEX contacts_company_id ON contacts (company_id, id);
CREATE INDEX contacts_owner_id ON contacts (owner_id, id);
CREATE INDEX contacts_created_at ON contacts (created_at, id);
CREATE INDEX contacts_updated_at ON contacts (updated_at, id);

CREATE TABLE deals (
    rid INTEGER PRIMARY KEY,
    id BLOB NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    deleted_at TEXT,
    owner_id BLOB REFERENCES users (id),
    company_id BLOB NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    contact_id BLOB REFERENCES contacts (id) ON DELETE SET NULL,
    title TEXT NOT NULL,
    amount INTEGER,
    currency TEXT,
    stage TEXT NOT NULL,
    probability INTEGER,
    expected_close_date TEXT,
    actual_close_date TEXT,
    source TEXT,
    priority TEXT,
    notes TEXT
);
CREATE INDEX deals_title ON deals (title, id);
CREATE INDEX deals_amount ON deals (amount, id);
CREATE INDEX deals_stage ON deals (stage, id);
CREATE INDEX deals_probability ON deals (probability, id);
CREATE INDEX deals_expected_close_date ON deals (expected_close_date, id);
CREATE INDEX deals_actual_close_date ON deals (actual_close_date, id);
CREATE INDEX deals_company_id ON deals (company_id, id);
CREATE INDEX deals_contact_id ON deals (contact_id, id);
CREATE INDEX deals_owner_id ON deals (owner_id, id);
CREATE INDEX deals_created_at ON deals (created_at, id);
CREATE INDEX deals_updated_at ON deals (updated_at, id);

CREATE TABLE activities (
    rid INTEGER PRIMARY KEY,
    id BLOB NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    deleted_at TEXT,
    owner_id BLOB REFERENCES users (id),
    type TEXT NOT NULL,
    subject TEXT NOT NULL,
    description TEXT,
    due_date TEXT,
    completed INTEGER,
    completed_at TEXT,
    company_id BLOB REFERENCES companies (id) ON DELETE SET NULL,
    contact_id BLOB REFERENCES contacts (id) ON DELETE SET NULL,
    deal_id BLOB REFERENCES deals (id) ON DELETE SET NULL,
    created_by BLOB REFERENCES users (id),
    assigned_to BLOB REFERENCES users (id)
);
CREATE INDEX activities_type ON activities (type, id);
CREATE INDEX activities_due_date ON activities (due_date, id);
CREATE INDEX activities_company_id ON activities (company_id, id);
CREATE INDEX activities_contact_id ON activities (contact_id, id);
CREATE INDEX activities_deal_id ON activities (deal_id, id);
CREATE INDEX activities_assigned_to ON activities (assigned_to, id);
CREATE INDEX activities_owner_id ON activities (owner_id, id);
CREATE INDEX activities_created_at ON activities (created_at, id);
CREATE INDEX activities_updated_at ON activities (updated_at, id);

-- Full-text search: external-content FTS5 tables over the searchable fields, kept in
-- step by triggers. unicode61 splits emails and domains into words; `prefix` speeds up
-- the prefix queries that search-as-you-type sends.
CREATE VIRTUAL TABLE teams_fts USING fts5(name, content='teams', content_rowid='rid', tokenize='unicode61 remove_diacritics 2', prefix='2 3');
CREATE TRIGGER teams_fts_ai AFTER INSERT ON teams BEGIN
    INSERT INTO teams_fts (rowid, name) VALUES (new.rid, new.name);
END;
CREATE TRIGGER teams_fts_ad AFTER DELETE ON teams BEGIN
    INSERT INTO teams_fts (teams_fts, rowid, name) VALUES ('delete', old.rid, old.name);
END;
CREATE TRIGGER teams_fts_au AFTER UPDATE OF name ON teams BEGIN
    INSERT INTO teams_fts (teams_fts, rowid, name) VALUES ('delete', old.rid, old.name);
    INSERT INTO teams_fts (rowid, name) VALUES (new.rid, new.name);
END;

CREATE VIRTUAL TABLE users_fts USING fts5(email, name, content='users', content_rowid='rid', tokenize='unicode61 remove_diacritics 2', prefix='2 3');
CREATE TRIGGER users_fts_ai AFTER INSERT ON users BEGIN
    INSERT INTO users_fts (rowid, email, name) VALUES (new.rid, new.email, new.name);
END;
CREATE TRIGGER users_fts_ad AFTER DELETE ON users BEGIN
    INSERT INTO users_fts (users_fts, rowid, email, name) VALUES ('delete', old.rid, old.email, old.name);
END;
CREATE TRIGGER users_fts_au AFTER UPDATE OF email, name ON users BEGIN
    INSERT INTO users_fts (users_fts, rowid, email, name) VALUES ('delete', old.rid, old.email, old.name);
    INSERT INTO users_fts (rowid, email, name) VALUES (new.rid, new.email, new.name);
END;

CREATE VIRTUAL TABLE companies_fts USING fts5(name, domain, content='companies', content_rowid='rid', tokenize='unicode61 remove_diacritics 2', prefix='2 3');
CREATE TRIGGER companies_fts_ai AFTER INSERT ON companies BEGIN
    INSERT INTO companies_fts (rowid, name, domain) VALUES (new.rid, new.name, new.domain);
END;
CREATE TRIGGER companies_fts_ad AFTER DELETE ON companies BEGIN
    INSERT INTO companies_fts (companies_fts, rowid, name, domain) VALUES ('delete', old.rid, old.name, old.domain);
END;
CREATE TRIGGER companies_fts_au AFTER UPDATE OF name, domain ON companies BEGIN
    INSERT INTO companies_fts (companies_fts, rowid, name, domain) VALUES ('delete', old.rid, old.name, old.domain);
    INSERT INTO companies_fts (rowid, name, domain) VALUES (new.rid, new.name, new.domain);
END;

CREATE VIRTUAL TABLE contacts_fts USING fts5(first_name, last_name, email, content='contacts', content_rowid='rid', tokenize='unicode61 remove_diacritics 2', prefix='2 3');
CREATE TRIGGER contacts_fts_ai AFTER INSERT ON contacts BEGIN
    INSERT INTO contacts_fts (rowid, first_name, last_name, email) VALUES (new.rid, new.first_name, new.last_name, new.email);
END;
CREATE TRIGGER contacts_fts_ad AFTER DELETE ON contacts BEGIN
    INSERT INTO contacts_fts (contacts_fts, rowid, first_name, last_name, email) VALUES ('delete', old.rid, old.first_name, old.last_name, old.email);
END;
CREATE TRIGGER contacts_fts_au AFTER UPDATE OF first_name, last_name, email ON contacts BEGIN
    INSERT INTO contacts_fts (contacts_fts, rowid, first_name, last_name, email) VALUES ('delete', old.rid, old.first_name, old.last_name, old.email);
    INSERT INTO contacts_fts (rowid, first_name, last_name, email) VALUES (new.rid, new.first_name, new.last_name, new.email);
END;

CREATE VIRTUAL TABLE deals_fts USING fts5(title, content='deals', content_rowid='rid', tokenize='unicode61 remove_diacritics 2', prefix='2 3');
CREATE TRIGGER deals_fts_ai AFTER INSERT ON deals BEGIN
    INSERT INTO deals_fts (rowid, title) VALUES (new.rid, new.title);
END;
CREATE TRIGGER deals_fts_ad AFTER DELETE ON deals BEGIN
    INSERT INTO deals_fts (deals_fts, rowid, title) VALUES ('delete', old.rid, old.title);
END;
CREATE TRIGGER deals_fts_au AFTER UPDATE OF title ON deals BEGIN
    INSERT INTO deals_fts (deals_fts, rowid, title) VALUES ('delete', old.rid, old.title);
    INSERT INTO deals_fts (rowid, title) VALUES (new.rid, new.title);
END;

CREATE VIRTUAL TABLE activities_fts USING fts5(subject, content='activities', content_rowid='rid', tokenize='unicode61 remove_diacritics 2', prefix='2 3');
CREATE TRIGGER activities_fts_ai AFTER INSERT ON activities BEGIN
    INSERT INTO activities_fts (rowid, subject) VALUES (new.rid, new.subject);
END;
CREATE TRIGGER activities_fts_ad AFTER DELETE ON activities BEGIN
    INSERT INTO activities_fts (activities_fts, rowid, subject) VALUES ('delete', old.rid, old.subject);
END;
CREATE TRIGGER activities_fts_au AFTER UPDATE OF subject ON activities BEGIN
    INSERT INTO activities_fts (activities_fts, rowid, subject) VALUES ('delete', old.rid, old.subject);
    INSERT INTO activities_fts (rowid, subject) VALUES (new.rid, new.subject);
END;

-- The change log: every mutation, in the same transaction as the row. AUTOINCREMENT so a
-- sequence number is never reused, even after the newest entries are purged.
CREATE TABLE change_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    actor_id BLOB,
    entity TEXT NOT NULL,
    record_id BLOB NOT NULL,
    op TEXT NOT NULL,
    diff TEXT NOT NULL,
    request_id TEXT
);
CREATE INDEX change_log_record ON change_log (entity, record_id, seq);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    ip TEXT,
    user_agent TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id BLOB PRIMARY KEY,
    user_id BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    last_used_at TEXT
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- Responses to POSTs sent with an Idempotency-Key, stored in the same transaction as the
-- write they answer, so a replay after a crash returns what was committed.
CREATE TABLE idempotency_keys (
    user_id BLOB NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (user_id, key)
);
