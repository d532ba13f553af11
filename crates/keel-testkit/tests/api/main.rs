//! API tests: the real server over HTTP, each test on SQLite and on PostgreSQL.

mod assistant;
mod assistant_model;
mod assistant_retrieval;
mod audit;
mod auth;
mod bad_input;
mod changes;
mod custom_fields;
mod dashboard;
mod export;
mod graphql;
mod import;
mod lists;
mod login_security;
mod merge;
mod permissions;
mod records;
mod roles;
mod schema_conformance;
mod trash;
mod validation;
mod web_assets;
mod webhooks;
mod workflows;
