-- Keel's initial schema for PostgreSQL. Mirrors ../sqlite/0001_init.sql table for table,
-- column for column; a conformance test compares both with the entity metadata.
-- Full-text search uses a generated tsvector column `search` with a GIN index; emails
-- and domains are split at punctuation first so that `acme` finds `john@acme.com`, as
-- SQLite's unicode61 tokenizer does. Accents are stripped on both sides (`muller` finds
-- `Müller`), matching SQLite's remove_diacritics; unaccent() is only STABLE, so an
-- IMMUTABLE wrapper with a fixed dictionary makes it usable in a generated column.

CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE FUNCTION keel_unaccent(text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $$;

CREATE TABLE teams (
    id UUID PRIMARY KEY,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    deleted_at TIMESTAMPTZ,
    name TEXT NOT NULL,
    search TSVECTOR GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, keel_unaccent(coalesce(name, '')))) STORED
);
CREATE UNIQUE INDEX teams_name_unique ON teams (lower(name)) WHERE deleted_at IS NULL;
CREATE INDEX teams_name_sort ON teams (name, id);
CREATE INDEX teams_created_at ON teams (created_at, id);
CREATE INDEX teams_updated_at ON teams (updated_at, id);
CREATE INDEX teams_search ON teams USING GIN (search);

CREATE TABLE users (
    id UUID PRIMARY KEY,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    deleted_at TIMESTAMPTZ,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    team_id UUID REFERENCES teams (id) ON DELETE SET NULL,
    is_active BOOLEAN,
    time_zone TEXT,
    password_hash TEXT,
    search TSVECTOR GENERATED ALWAYS AS (to_tsvector('simple'::regconfig,
        keel_unaccent(coalesce(translate(email, '@.-_+', '     '), '') || ' ' || coalesce(name, '')))) STORED
);
CREATE UNIQUE INDEX users_email_unique ON users (lower(email)) WHERE deleted_at IS NULL;
CREATE INDEX users_email_sort ON users (email, id);
CREATE INDEX users_name_sort ON users (name, id);
CREATE INDEX users_team_id ON users (team_id, id);
CREATE INDEX users_created_at ON users (created_at, id);
CREATE INDEX users_updated_at ON users (updated_at, id);
CREATE INDEX users_search ON users USING GIN (search);

CREATE TABLE companies (
    id UUID PRIMARY KEY,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    deleted_at TIMESTAMPTZ,
    owner_id UUID REFERENCES users (id),
    name TEXT NOT NULL,
    domain TEXT,
    industry TEXT,
    size TEXT,
    address TEXT,
    city TEXT,
    state TEXT,
    country TEXT,
    phone TEXT,
    website TEXT,
    search TSVECTOR GENERATED ALWAYS AS (to_tsvector('simple'::regconfig,
        keel_unaccent(coalesce(name, '') || ' ' || coalesce(translate(domain, '.-_', '   '), '')))) STORED
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
CREATE INDEX companies_search ON companies USING GIN (search);

CREATE TABLE contacts (
    id UUID PRIMARY KEY,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    deleted_at TIMESTAMPTZ,
    owner_id UUID REFERENCES users (id),
    company_id UUID REFERENCES companies (id) ON DELETE SET NULL,
    first_name TEXT,
    last_name TEXT,
    full_name TEXT,
    email TEXT,
    phone TEXT,
    mobile TEXT,
    title TEXT,
    department TEXT,
    is_primary BOOLEAN,
    linkedin_url TEXT,
    notes TEXT,
    search TSVECTOR GENERATED ALWAYS AS (to_tsvector('simple'::regconfig,
        keel_unaccent(coalesce(first_name, '') || ' ' || coalesce(last_name, '') || ' ' ||
        coalesce(translate(email, '@.-_+', '     '), '')))) STORED
);
CREATE UNIQUE INDEX contacts_email_unique ON contacts (lower(email)) WHERE deleted_at IS NULL AND email IS NOT NULL;
CREATE INDEX contacts_email_sort ON contacts (email, id);
CREATE INDEX contacts_last_name ON contacts (last_name, id);
CREATE INDEX contacts_full_name ON contacts (full_name, id);
CREATE INDEX contacts_company_id ON contacts (company_id, id);
CREATE INDEX contacts_owner_id ON contacts (owner_id, id);
CREATE INDEX contacts_created_at ON contacts (created_at, id);
CREATE INDEX contacts_updated_at ON contacts (updated_at, id);
CREATE INDEX contacts_search ON contacts USING GIN (search);

CREATE TABLE deals (
    id UUID PRIMARY KEY,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    deleted_at TIMESTAMPTZ,
    owner_id UUID REFERENCES users (id),
    company_id UUID NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    contact_id UUID REFERENCES contacts (id) ON DELETE SET NULL,
    title TEXT NOT NULL,
    amount BIGINT,
    currency TEXT,
    stage TEXT NOT NULL,
    probability BIGINT,
    expected_close_date DATE,
    actual_close_date DATE,
    source TEXT,
    priority TEXT,
    notes TEXT,
    search TSVECTOR GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, keel_unaccent(coalesce(title, '')))) STORED
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
CREATE INDEX deals_search ON deals USING GIN (search);

CREATE TABLE activities (
    id UUID PRIMARY KEY,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    deleted_at TIMESTAMPTZ,
    owner_id UUID REFERENCES users (id),
    type TEXT NOT NULL,
    subject TEXT NOT NULL,
    description TEXT,
    due_date TIMESTAMPTZ,
    completed BOOLEAN,
    completed_at TIMESTAMPTZ,
    company_id UUID REFERENCES companies (id) ON DELETE SET NULL,
    contact_id UUID REFERENCES contacts (id) ON DELETE SET NULL,
    deal_id UUID REFERENCES deals (id) ON DELETE SET NULL,
    created_by UUID REFERENCES users (id),
    assigned_to UUID REFERENCES users (id),
    search TSVECTOR GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, keel_unaccent(coalesce(subject, '')))) STORED
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
CREATE INDEX activities_search ON activities USING GIN (search);

-- The change log. Writers take a transaction-scoped advisory lock before appending, so
-- sequence numbers become visible in order and `?after=SEQ` readers never skip one.
CREATE TABLE change_log (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at TIMESTAMPTZ NOT NULL,
    actor_id UUID,
    entity TEXT NOT NULL,
    record_id UUID NOT NULL,
    op TEXT NOT NULL,
    diff JSONB NOT NULL,
    request_id TEXT
);
CREATE INDEX change_log_record ON change_log (entity, record_id, seq);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    ip TEXT,
    user_agent TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id UUID PRIMARY KEY,
    user_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE idempotency_keys (
    user_id UUID NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, key)
);
