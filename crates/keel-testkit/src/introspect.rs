//! What the database really has: a table's columns, NOT NULL columns, index names and
//! leading columns, and full-text columns, read from SQLite's pragmas or PostgreSQL's
//! catalogs. The schema conformance and custom field tests check the metadata against it.

use std::collections::BTreeSet;

use keel_store::{Db, Pool};
use sqlx::Row;

pub struct TableShape {
    pub columns: BTreeSet<String>,
    pub not_null: BTreeSet<String>,
    /// First key column of each index (expression indexes by name).
    pub index_leads: BTreeSet<String>,
    pub index_names: BTreeSet<String>,
    pub search_columns: BTreeSet<String>,
}

pub async fn shape(db: &Db, table: &str) -> TableShape {
    let mut s = TableShape {
        columns: BTreeSet::new(),
        not_null: BTreeSet::new(),
        index_leads: BTreeSet::new(),
        index_names: BTreeSet::new(),
        search_columns: BTreeSet::new(),
    };
    match db.pool() {
        Pool::Sqlite(pool) => {
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
        Pool::Postgres(pool) => {
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
