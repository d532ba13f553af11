-- Custom fields: an admin's field definitions, as JSON text in the shape of
-- keel_domain::schema::custom::CustomFieldSpec. Each live or archived field also is a real
-- column `cf_<name>` of its entity's table, added (with its indexes) by ALTER TABLE when
-- the field is defined. Archived fields keep their column and data.
CREATE TABLE custom_fields (
    entity TEXT NOT NULL,
    name TEXT NOT NULL,
    position BIGINT NOT NULL,
    archived BOOLEAN NOT NULL DEFAULT FALSE,
    definition TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (entity, name)
);

-- Edited option lists of built-in select fields (industries, deal stages, sources, …):
-- a JSON array of keel_domain::schema::SelectOption replacing the built-in list.
CREATE TABLE field_options (
    entity TEXT NOT NULL,
    field TEXT NOT NULL,
    options TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (entity, field)
);

-- One row: bumped by every schema change, so every Keel process sharing the database
-- notices (one cheap read) and reloads its schema.
CREATE TABLE schema_state (
    id INTEGER PRIMARY KEY,
    version BIGINT NOT NULL
);
INSERT INTO schema_state (id, version) VALUES (1, 0);
