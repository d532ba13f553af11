//! What is embedded for each record: its descriptive text fields, labelled, one per line.
//! Only fields every reader of the record may read are used (no amounts: a rep may not see
//! other people's deal amounts, and a vector must not let them find deals by amount).

use keel_domain::value::Record;
use sha2::{Digest, Sha256};

/// The labelled fields embedded per entity.
fn fields(entity: &str) -> &'static [(&'static str, &'static str)] {
    match entity {
        "companies" => &[
            ("name", "Company"),
            ("industry", "Industry"),
            ("size", "Size"),
            ("domain", "Domain"),
            ("city", "City"),
            ("state", "State"),
            ("country", "Country"),
        ],
        "contacts" => &[
            ("full_name", "Contact"),
            ("title", "Title"),
            ("department", "Department"),
            ("email", "Email"),
            ("notes", "Notes"),
        ],
        "deals" => {
            &[("title", "Deal"), ("stage", "Stage"), ("source", "Source"), ("priority", "Priority"), ("notes", "Notes")]
        }
        "activities" => &[("type", "Activity"), ("subject", "Subject"), ("description", "Description")],
        _ => &[],
    }
}

/// Longest text sent for one record, in characters (embedding models cap their input).
const MAX_CHARS: usize = 4_000;

/// The text embedded for `record` of `entity` (empty when it has none).
pub fn embed_text(entity: &str, record: &Record) -> String {
    let mut out = String::new();
    for (field, label) in fields(entity) {
        if let Some(v) = record.text(field).map(str::trim).filter(|v| !v.is_empty()) {
            out.push_str(label);
            out.push_str(": ");
            out.push_str(v);
            out.push('\n');
        }
    }
    if out.chars().count() > MAX_CHARS {
        out = out.chars().take(MAX_CHARS).collect();
    }
    out.trim_end().to_string()
}

/// SHA-256 over the model and the text: a record is embedded again only when either changes.
pub fn content_hash(model: &str, text: &str) -> String {
    let mut h = Sha256::new();
    h.update(model.as_bytes());
    h.update([0u8]);
    h.update(text.as_bytes());
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;
    use keel_domain::value::Value;

    #[test]
    fn text_is_labelled_fields_and_the_hash_follows_it() {
        let mut r = Record::new();
        r.set("title", Value::Text("Solar roof".into()));
        r.set("amount", Value::Int(5_000_000));
        r.set("notes", Value::Text("  wants panels ".into()));
        assert_eq!(embed_text("deals", &r), "Deal: Solar roof\nNotes: wants panels");
        assert_eq!(content_hash("m", "a"), content_hash("m", "a"));
        assert_ne!(content_hash("m", "a"), content_hash("n", "a"));
    }
}
