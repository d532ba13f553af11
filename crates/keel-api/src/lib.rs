//! Keel's HTTP surface (axum): authenticate → Actor, decode, call the service, map errors
//! to RFC 9457 problem+json. Never touches SQL.

pub mod openapi;
