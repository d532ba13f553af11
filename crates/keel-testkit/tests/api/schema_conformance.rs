//! The hand-written migrations must match the metadata on both backends: the same
//! columns, NOT NULL where required, an index led by every sortable field, a unique index
//! for every unique field and a full-text index over exactly the searchable fields.

use std::collections::BTreeSet;

use keel_domain::schema::{Access, builtin_schema};
use keel_store::Pool;
use keel_testkit::introspect::shape;
use keel_testkit::{TestApp, both_backends};
use serde_json::json;

async fn migrations_match_the_metadata(app: &TestApp) {
    // Custom fields are columns too: the running schema (built-in plus these) must match.
    for (entity, field) in [
        ("deals", json!({ "name": "region", "label": "Region", "type": "text" })),
        ("contacts", json!({ "name": "alt_email", "label": "Alt email", "type": "email", "unique": true })),
        (
            "companies",
            json!({ "name": "tags", "label": "Tags", "type": "multi_select", "options": [{ "value": "A" }] }),
        ),
    ] {
        let res = app.admin.post(&format!("/api/v1/fields/{entity}"), field).await;
        assert_eq!(res.status.as_u16(), 201, "{}", res.text);
    }
    let schema = app.service.schema();
    assert_eq!(schema.entities.len(), builtin_schema().entities.len());
    for entity in schema.entities.values() {
        let s = shape(app.service.db(), &entity.name).await;
        let fields: BTreeSet<String> = entity.fields.iter().map(|f| f.name.clone()).collect();
        assert_eq!(s.columns, fields, "{}: columns differ from the metadata", entity.name);
        for f in &entity.fields {
            // Custom fields' `required` binds writes, not old rows: their columns stay nullable.
            if f.required && f.access == Access::Writable && !f.custom {
                assert!(s.not_null.contains(&f.name), "{}.{} is required but nullable", entity.name, f.name);
            }
            if f.sortable && f.name != "id" {
                assert!(
                    s.index_leads.contains(&f.name),
                    "{}.{} is sortable but no index starts with it",
                    entity.name,
                    f.name
                );
            }
            if f.unique {
                let name = format!("{}_{}_unique", entity.name, f.name);
                assert!(s.index_names.contains(&name), "{}.{} is unique but has no index {name}", entity.name, f.name);
            }
        }
        let searchable: BTreeSet<String> = entity.searchable_fields().map(|f| f.name.clone()).collect();
        let missing: Vec<&String> = searchable.iter().filter(|f| !s.search_columns.contains(*f)).collect();
        assert!(missing.is_empty(), "{}: searchable fields {missing:?} are not in the full-text index", entity.name);
        if let Pool::Sqlite(_) = app.service.db().pool() {
            assert_eq!(s.search_columns, searchable, "{}: FTS5 columns differ from the searchable fields", entity.name);
        }
    }
}
both_backends!(migrations_match_the_metadata);
