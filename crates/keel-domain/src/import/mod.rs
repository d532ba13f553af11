//! CSV import, the pure part: which column feeds which field (`mapping`) and how a cell's
//! text becomes the JSON value the write path validates (`cell`). Reading files,
//! looking up companies and writing records are the service's job.

pub mod cell;
pub mod mapping;

/// Entities a CSV file can be imported into.
pub const IMPORTABLE: &[&str] = &["companies", "contacts", "deals"];

pub fn importable(entity: &str) -> bool {
    IMPORTABLE.contains(&entity)
}
