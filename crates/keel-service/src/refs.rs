//! Validation that needs the database: references must point at live records, unique
//! fields must not clash with another live record. Runs inside the write transaction.

use std::collections::BTreeSet;

use keel_domain::schema::FieldType;
use keel_domain::{EntityDef, FieldErrors, Record, Schema};
use keel_store::{Tx, records};
use uuid::Uuid;

use crate::ServiceError;

pub async fn check(
    tx: &mut Tx,
    schema: &Schema,
    entity: &EntityDef,
    record: &Record,
    fields: &BTreeSet<String>,
    except: Option<Uuid>,
) -> Result<(), ServiceError> {
    let mut errors = FieldErrors::new();
    for f in entity.fields.iter().filter(|f| fields.contains(&f.name)) {
        let value = record.get(&f.name);
        if f.ty == FieldType::Reference
            && let (Some(id), Some(target)) = (value.as_uuid(), f.reference.as_deref().and_then(|t| schema.entity(t)))
            && !records::exists_live(tx, target, id).await?
        {
            errors.push(f.name.clone(), "not_found", format!("{} {id} does not exist", target.singular));
        }
        if f.unique
            && let Some(text) = value.as_text()
            && records::find_duplicate(tx, entity, &f.name, text, except).await?.is_some()
        {
            errors.push(
                f.name.clone(),
                "taken",
                format!("another {} already has {} `{text}`", entity.singular, f.label.to_lowercase()),
            );
        }
    }
    Ok(errors.into_result()?)
}
