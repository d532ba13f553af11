//! Keel's storage: one interface over SQLite and PostgreSQL (sqlx + sea-query). Statements
//! are built once with sea-query and rendered per backend; the few real dialect
//! differences (value encoding, full-text search, write locking) live in `db.rs` and
//! `search.rs`. Nothing above this crate sees SQL.

pub mod assistant;
pub mod audit;
pub mod auth;
pub mod automation;
pub mod changes;
pub mod custom_fields;
pub mod db;
pub mod duplicates;
pub mod embeddings;
pub mod error;
pub mod idempotency;
pub mod imports;
pub mod invites;
pub mod login_security;
pub mod merges;
pub mod records;
pub mod roles;
mod search;
pub mod shares;

pub use db::{Backend, Db, Pool, Tx};
pub use error::StoreError;
