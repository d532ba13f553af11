//! The hand-written migrations must match the metadata on both backends: the same
//! columns, NOT NULL where required, an index led by every sortable field, a unique index
//! for every unique field and a full-text index over exactly the searchable fields.

use std::collections::BTreeSet;

use keel_domain::schema::{Access, builtin_schema};
use keel_store::Db;
use keel_testkit::{TestApp, both_backends};
use sqlx::Row;

struct TableShape {
    columns: BTreeSet<String>,
    not_null: BTreeSet<String>,
    /// First key column of each index (expression indexes by name).
    index_leads: BTreeSet<String>,
    index_names: BTreeSet<String>,
    search_columns: BTreeSet<String>,
}

async fn shape(db: &Db, table: &str) -> TableShape {
    let mut s = TableShape {
        columns: BTreeSet::new(),
        not_null: BTreeSet::new(),
        index_leads: BTreeSet::new(),
        index_names: BTreeSet::new(),
        search_columns: BTreeSet::new(),
    };
    match db {
        Db::Sqlite(pool) => {
            for r in sqlx::query(&format!("PRAGMA table_info({table})")).fetch_all(pool).await.expect("table_info") {
                let name: String = r.get("name");
                if name == "rid" {
                    continue;
                }
                if r.get::<i64, _>("notnull") == 1 {
                    s.not_null.insert(name.clone());
                }
                s.columns.insert(name);
            }
            for r in sqlx::query(&format!("PRAGMA index_list({table})")).fetch_all(pool).await.expect("index_list") {
                let name: String = r.get("name");
                let cols =
                    sqlx::query(&format!("PRAGMA index_info({name})")).fetch_all(pool).await.expect("index_info");
                if let Some(first) = cols.first()
                    && let Ok(Some(c)) = first.try_get::<Option<String>, _>("name")
                {
                    s.index_leads.insert(c);
                }
                s.index_names.insert(name);
            }
            for r in sqlx::query(&format!("PRAGMA table_info({table}_fts)")).fetch_all(pool).await.expect("fts") {
                s.search_columns.insert(r.get("name"));
            }
        }
        Db::Postgres(pool) => {
            let rows = sqlx::query(
                "SELECT column_name::text AS name, is_nullable::text AS nullable, coalesce(generation_expression::text, '') AS expr
                 FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1",
            )
            .bind(table)
            .fetch_all(pool)
            .await
            .expect("columns");
            for r in rows {
                let name: String = r.get("name");
                if name == "search" {
                    let expr: String = r.get("expr");
                    s.search_columns = expr
                        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                        .map(str::to_string)
                        .filter(|w| !w.is_empty())
                        .collect();
                    continue;
                }
                if r.get::<String, _>("nullable") == "NO" {
                    s.not_null.insert(name.clone());
                }
                s.columns.insert(name);
            }
            let rows = sqlx::query(
                "SELECT ic.relname::text AS name,
                        (SELECT attname::text FROM pg_attribute WHERE attrelid = i.indrelid AND attnum = i.indkey[0]) AS lead
                 FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
                 WHERE i.indrelid = $1::regclass",
            )
            .bind(table)
            .fetch_all(pool)
            .await
            .expect("indexes");
            for r in rows {
                if let Ok(Some(lead)) = r.try_get::<Option<String>, _>("lead") {
                    s.index_leads.insert(lead);
                }
                s.index_names.insert(r.get("name"));
            }
        }
    }
    s
}

async fn migrations_match_the_metadata(app: &TestApp) {
    for entity in builtin_schema().entities.values() {
        let s = shape(app.service.db(), &entity.name).await;
        let fields: BTreeSet<String> = entity.fields.iter().map(|f| f.name.clone()).collect();
        assert_eq!(s.columns, fields, "{}: columns differ from the metadata", entity.name);
        for f in &entity.fields {
            if f.required && f.access == Access::Writable {
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
        if let Db::Sqlite(_) = app.service.db() {
            assert_eq!(s.search_columns, searchable, "{}: FTS5 columns differ from the searchable fields", entity.name);
        }
    }
}
both_backends!(migrations_match_the_metadata);
