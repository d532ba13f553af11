use crate::error::FieldErrors;
use crate::value::{Record, Value};

pub fn apply(after: &mut Record, errors: &mut FieldErrors) {
    let first = after.text("first_name").map(str::to_string);
    let last = after.text("last_name").map(str::to_string);
    match full_name(first.as_deref(), last.as_deref()) {
        Some(full) => after.set("full_name", Value::Text(full)),
        None => {
            errors.push("first_name", "name_required", "A contact needs a first name or a last name");
            errors.push("last_name", "name_required", "A contact needs a first name or a last name");
        }
    }
}

pub fn full_name(first: Option<&str>, last: Option<&str>) -> Option<String> {
    match (first, last) {
        (Some(f), Some(l)) => Some(format!("{f} {l}")),
        (Some(n), None) | (None, Some(n)) => Some(n.to_string()),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::full_name;

    #[test]
    fn full_name_joins_what_is_there() {
        assert_eq!(full_name(Some("Sarah"), Some("Johnson")).as_deref(), Some("Sarah Johnson"));
        assert_eq!(full_name(None, Some("Johnson")).as_deref(), Some("Johnson"));
        assert_eq!(full_name(None, None), None);
    }
}
