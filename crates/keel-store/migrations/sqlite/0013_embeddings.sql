-- Semantic retrieval for the assistant: one embedding per CRM record (companies,
-- contacts, deals, activities), kept current from the change log by the embeddings
-- indexer (its cursor is the `embeddings` row of automation_cursors). The vector is
-- little-endian f32s, normalised to length 1 (so a dot product is the cosine);
-- content_hash is over the model name and the embedded text, so a write that does not
-- change the text is not embedded again.
CREATE TABLE embeddings (
    entity TEXT NOT NULL,
    record_id BLOB NOT NULL,
    content_hash TEXT NOT NULL,
    model TEXT NOT NULL,
    dims INTEGER NOT NULL,
    vector BLOB NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (entity, record_id)
);
