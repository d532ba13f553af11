//! API tests: the real server over HTTP, each test on SQLite and on PostgreSQL.

mod assistant;
mod assistant_model;
mod audit;
mod auth;
mod bad_input;
mod changes;
mod dashboard;
mod export;
mod import;
mod lists;
mod login_security;
mod permissions;
mod records;
mod roles;
mod schema_conformance;
mod trash;
mod validation;
mod web_assets;
mod workflows;
