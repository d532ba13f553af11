-- Duplicates and merges (issue 7). Mirrors ../sqlite/0014_merges.sql.
--
-- One row per merge: enough to undo it exactly for 30 days. `survivor_fields` holds the
-- survivor's values the merge overwrote ({field: {from, to}}); `repointed` the related rows
-- moved to the survivor ([{entity, field, id, from}]); `shares` the shares moved ([{id, from}]).
-- The merged records themselves stay in the trash (their ids are in `other_ids`).
CREATE TABLE merges (
    id UUID PRIMARY KEY,
    entity TEXT NOT NULL,
    survivor_id UUID NOT NULL,
    other_ids JSONB NOT NULL,
    actor_id UUID REFERENCES users (id) ON DELETE SET NULL,
    merged_at TIMESTAMPTZ NOT NULL,
    survivor_fields JSONB NOT NULL,
    repointed JSONB NOT NULL,
    shares JSONB NOT NULL,
    undone_at TIMESTAMPTZ,
    undone_by UUID REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX merges_recent ON merges (merged_at, id);
CREATE INDEX merges_survivor ON merges (entity, survivor_id);

-- Blocking keys for duplicate candidates: each suggestion query probes one of these
-- with a record's own key, so finding a record's candidates is a few index lookups,
-- never a scan of all pairs. The expressions must stay exactly as keel-store's
-- duplicates.rs writes them (a unit test there compares them with this file).
CREATE INDEX contacts_dupe_last_name ON contacts (company_id, lower(last_name)) WHERE deleted_at IS NULL;
CREATE INDEX contacts_dupe_first_name ON contacts (company_id, lower(first_name)) WHERE deleted_at IS NULL;
CREATE INDEX contacts_dupe_phone ON contacts (phone) WHERE deleted_at IS NULL;
CREATE INDEX contacts_dupe_mobile ON contacts (mobile) WHERE deleted_at IS NULL;
CREATE INDEX companies_dupe_domain ON companies ((CASE WHEN domain LIKE 'www.%' THEN substr(domain, 5) ELSE domain END)) WHERE deleted_at IS NULL;
-- The company name key: lower case, common punctuation and legal forms (Inc, LLC, Ltd, GmbH,
-- Corp…) dropped, spaces removed; and its first five characters for similar names.
CREATE INDEX companies_dupe_name ON companies ((replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(' ' || lower(name) || ' ', '.', ''), '''', ''), ',', ' '), '-', ' '), '&', ' '), '(', ' '), ')', ' '), '/', ' '), ' inc ', ' '), ' incorporated ', ' '), ' llc ', ' '), ' ltd ', ' '), ' limited ', ' '), ' gmbh ', ' '), ' corp ', ' '), ' corporation ', ' '), ' co ', ' '), ' company ', ' '), ' ', ''))) WHERE deleted_at IS NULL;
CREATE INDEX companies_dupe_name_prefix ON companies ((substr(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(' ' || lower(name) || ' ', '.', ''), '''', ''), ',', ' '), '-', ' '), '&', ' '), '(', ' '), ')', ' '), '/', ' '), ' inc ', ' '), ' incorporated ', ' '), ' llc ', ' '), ' ltd ', ' '), ' limited ', ' '), ' gmbh ', ' '), ' corp ', ' '), ' corporation ', ' '), ' co ', ' '), ' company ', ' '), ' ', ''), 1, 5))) WHERE deleted_at IS NULL;
