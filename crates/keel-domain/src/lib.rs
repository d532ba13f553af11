//! Keel's domain: what a CRM record is, which fields it has, what makes it valid,
//! and who may do what with it. Pure functions and data, no I/O: the store and the
//! service crates build on this, and every rule lives here exactly once.

pub mod clock;
pub mod duplicates;
pub mod error;
pub mod import;
pub mod policy;
pub mod query;
pub mod rules;
pub mod schema;
pub mod validate;
pub mod value;

pub use error::{FieldError, FieldErrors};
pub use schema::{EntityDef, FieldDef, FieldType, Schema};
pub use value::{Record, Value};
