//! Custom fields: definitions an admin adds at run time. Each becomes a `FieldDef` in the
//! same registry as the built-in fields (so validation, filters, sorting, the change log,
//! OpenAPI and the web forms all pick it up) and a real column `cf_<name>` in the table.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::{EntityDef, FieldDef, FieldType, OnDelete, Schema, SelectOption};
use crate::error::FieldErrors;
use crate::validate::{normalize_value, parse_value};

/// Custom field names (and their columns) start with this, so they never collide with a
/// built-in field, now or later.
pub const PREFIX: &str = "cf_";

/// Entities that take custom fields.
pub const ENTITIES: [&str; 4] = ["companies", "contacts", "deals", "activities"];

/// Entities a custom reference field may point at.
pub const REFERENCE_TARGETS: [&str; 5] = ["companies", "contacts", "deals", "activities", "users"];

const MAX_OPTIONS: usize = 200;

/// The types an admin chooses from, each stored as one of the schema's field types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CustomType {
    Text,
    LongText,
    /// Decimal number, exact to 4 places.
    Number,
    /// An amount in integer minor units (cents).
    Currency,
    /// Whole percent.
    Percent,
    Date,
    Datetime,
    Boolean,
    Select,
    MultiSelect,
    Email,
    Phone,
    Url,
    /// Whole number 1–5.
    Rating,
    Reference,
}

impl CustomType {
    pub fn field_type(self) -> FieldType {
        match self {
            CustomType::Text => FieldType::Text,
            CustomType::LongText => FieldType::LongText,
            CustomType::Number => FieldType::Decimal,
            CustomType::Currency => FieldType::Money,
            CustomType::Percent => FieldType::Percent,
            CustomType::Date => FieldType::Date,
            CustomType::Datetime => FieldType::Timestamp,
            CustomType::Boolean => FieldType::Boolean,
            CustomType::Select => FieldType::Select,
            CustomType::MultiSelect => FieldType::MultiSelect,
            CustomType::Email => FieldType::Email,
            CustomType::Phone => FieldType::Phone,
            CustomType::Url => FieldType::Url,
            CustomType::Rating => FieldType::Integer,
            CustomType::Reference => FieldType::Reference,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CustomType::Text => "text",
            CustomType::LongText => "long_text",
            CustomType::Number => "number",
            CustomType::Currency => "currency",
            CustomType::Percent => "percent",
            CustomType::Date => "date",
            CustomType::Datetime => "datetime",
            CustomType::Boolean => "boolean",
            CustomType::Select => "select",
            CustomType::MultiSelect => "multi_select",
            CustomType::Email => "email",
            CustomType::Phone => "phone",
            CustomType::Url => "url",
            CustomType::Rating => "rating",
            CustomType::Reference => "reference",
        }
    }

    fn has_options(self) -> bool {
        matches!(self, CustomType::Select | CustomType::MultiSelect)
    }

    fn has_range(self) -> bool {
        matches!(self, CustomType::Number | CustomType::Currency | CustomType::Percent)
    }

    fn has_length(self) -> bool {
        matches!(self, CustomType::Text | CustomType::LongText)
    }

    /// Unique fields use a case-insensitive index on `lower(column)`, as the built-in
    /// unique fields do: text types only.
    fn can_be_unique(self) -> bool {
        matches!(self, CustomType::Text | CustomType::Email | CustomType::Phone | CustomType::Url)
    }

    /// Backed by an index and offered as a sort key (everything but long text and lists).
    pub fn sortable(self) -> bool {
        !matches!(self, CustomType::LongText | CustomType::MultiSelect)
    }
}

/// A custom field's definition, as an admin writes it and as it is stored (JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomFieldSpec {
    /// `cf_` and lowercase letters, digits and `_` (the prefix is added if missing).
    pub name: String,
    pub label: String,
    #[serde(rename = "type")]
    pub ty: CustomType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    #[serde(default)]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Json>,
    #[serde(default)]
    pub unique: bool,
    /// Smallest value (number, currency in minor units, percent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<i64>,
    /// Longest text (text and long text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<usize>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<SelectOption>,
    /// Target entity of a reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Only these roles (and admins) may read it; absent means everyone who sees the record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_roles: Option<Vec<String>>,
    /// Only these roles (and admins) may write it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_roles: Option<Vec<String>>,
}

/// The full name of a field an admin called `name` (`region` → `cf_region`).
pub fn full_name(name: &str) -> String {
    let n = name.trim();
    if n.starts_with(PREFIX) { n.to_string() } else { format!("{PREFIX}{n}") }
}

impl CustomFieldSpec {
    /// The metadata the rest of the system works from.
    pub fn to_field_def(&self) -> FieldDef {
        let ty = self.ty.field_type();
        let mut f = FieldDef::new(&self.name, &self.label, ty);
        f.custom = true;
        f.kind = Some(self.ty.as_str().to_string());
        f.required = self.required;
        f.unique = self.unique;
        f.sortable = self.ty.sortable();
        f.help = self.help.clone();
        f.default = self.default.clone();
        f.read_roles = self.read_roles.clone();
        f.write_roles = self.write_roles.clone();
        if let Some(n) = self.max_length {
            f.max_length = Some(n);
        }
        match self.ty {
            CustomType::Rating => {
                f.min = Some(1);
                f.max = Some(5);
            }
            CustomType::Currency => {
                f.min = self.min;
                f.max = self.max;
            }
            _ if self.ty.has_range() => {
                if self.min.is_some() {
                    f.min = self.min;
                }
                if self.max.is_some() {
                    f.max = self.max;
                }
            }
            _ => {}
        }
        if self.ty.has_options() {
            f.options = self.options.clone();
        }
        if let Some(target) = &self.reference {
            f = f.references(target, OnDelete::SetNull);
        }
        f
    }

    /// Check the definition on its own (names of other fields and roles are the
    /// service's to check, against the database).
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::new();
        let bare = self.name.strip_prefix(PREFIX).unwrap_or("");
        let name_ok = (1..=40).contains(&bare.len())
            && bare.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
            && bare.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !name_ok {
            e.push(
                "name",
                "invalid_name",
                "A field name is 1 to 40 characters: a lowercase letter, then a-z, 0-9 and _",
            );
        }
        let label_len = self.label.trim().chars().count();
        if !(1..=100).contains(&label_len) {
            e.push("label", "invalid_length", "A label is 1 to 100 characters");
        }
        if self.help.as_ref().is_some_and(|h| h.chars().count() > 500) {
            e.push("help", "too_long", "Help text is at most 500 characters");
        }
        if self.ty.has_options() {
            if self.options.is_empty() || self.options.len() > MAX_OPTIONS {
                e.push(
                    "options",
                    "invalid_options",
                    format!("A {} field needs 1 to {MAX_OPTIONS} options", self.ty.as_str()),
                );
            }
            check_options(&self.options, false, &mut e);
        } else if !self.options.is_empty() {
            e.push("options", "not_applicable", format!("A {} field has no options", self.ty.as_str()));
        }
        match (self.ty, self.reference.as_deref()) {
            (CustomType::Reference, Some(t)) if REFERENCE_TARGETS.contains(&t) => {}
            (CustomType::Reference, _) => e.push(
                "reference",
                "invalid_reference",
                format!("A reference field names its target: one of {}", REFERENCE_TARGETS.join(", ")),
            ),
            (_, Some(_)) => e.push("reference", "not_applicable", "Only reference fields have a target"),
            _ => {}
        }
        if (self.min.is_some() || self.max.is_some()) && !self.ty.has_range() {
            e.push("min", "not_applicable", format!("A {} field takes no min or max", self.ty.as_str()));
        }
        if let (Some(lo), Some(hi)) = (self.min, self.max)
            && lo > hi
        {
            e.push("min", "invalid_range", "min must not be greater than max");
        }
        if self.ty == CustomType::Percent
            && (self.min.is_some_and(|m| !(0..=100).contains(&m)) || self.max.is_some_and(|m| !(0..=100).contains(&m)))
        {
            e.push("min", "invalid_range", "A percent's min and max lie within 0 to 100");
        }
        if self.ty == CustomType::Number
            && [self.min, self.max].iter().flatten().any(|m| m.checked_mul(10_000).is_none())
        {
            e.push("min", "invalid_range", "min and max of a number must be within ±922 337 203 685 477");
        }
        match self.max_length {
            Some(n) if !self.ty.has_length() => {
                let _ = n;
                e.push("max_length", "not_applicable", format!("A {} field has no max_length", self.ty.as_str()));
            }
            Some(n) if !(1..=65_536).contains(&n) => {
                e.push("max_length", "invalid_range", "max_length is 1 to 65536");
            }
            _ => {}
        }
        if self.unique && !self.ty.can_be_unique() {
            e.push("unique", "not_applicable", "Only text, email, phone and URL fields can be unique");
        }
        for (key, roles) in [("read_roles", &self.read_roles), ("write_roles", &self.write_roles)] {
            if let Some(list) = roles
                && (list.len() > 50 || list.iter().any(|r| r.is_empty() || r.len() > 40))
            {
                e.push(key, "invalid_roles", "A list of up to 50 role names");
            }
        }
        if let Some(d) = &self.default
            && e.is_empty()
        {
            let def = self.to_field_def();
            let ok = parse_value(&def, d).and_then(|v| normalize_value(&def, v, "US"));
            match ok {
                Ok(v) if v.is_null() => {}
                Ok(_) if matches!(self.ty, CustomType::Reference) => {
                    e.push("default", "not_applicable", "A reference field has no default")
                }
                Ok(_) if self.unique => e.push("default", "not_applicable", "A unique field has no default"),
                Ok(_) => {}
                Err((code, message)) => e.push("default", code, format!("default: {message}")),
            }
        }
        e.into_result()
    }

    /// The default in its normal form (`"usd"` for a select stored as `USD`, …).
    pub fn normalized_default(&self) -> Option<Json> {
        let def = self.to_field_def();
        let d = self.default.as_ref()?;
        let v = parse_value(&def, d).and_then(|v| normalize_value(&def, v, "US")).ok()?;
        if v.is_null() { None } else { Some(v.to_json()) }
    }
}

/// Check an option list: values 1 to 255 characters, unique case-insensitively; labels
/// fall back to the value. `stages` allows a probability (0–100) and a closed marker.
pub fn check_options(options: &[SelectOption], stages: bool, e: &mut FieldErrors) {
    let mut seen = std::collections::BTreeSet::new();
    for (i, o) in options.iter().enumerate() {
        let key = format!("options[{i}]");
        let len = o.value.trim().chars().count();
        if len == 0 || len > 255 || o.value.contains('\0') || o.value.trim() != o.value {
            e.push(key.clone(), "invalid_option", "An option value is 1 to 255 characters, without outer spaces");
        } else if !seen.insert(o.value.to_lowercase()) {
            e.push(key.clone(), "duplicate_option", format!("`{}` is listed twice", o.value));
        }
        if o.label.chars().count() > 255 {
            e.push(key.clone(), "too_long", "An option label is at most 255 characters");
        }
        if !stages && (o.probability.is_some() || o.closed.is_some()) {
            e.push(key.clone(), "not_applicable", "Only deal stages carry a probability or a closed marker");
        }
        if o.probability.is_some_and(|p| !(0..=100).contains(&p)) {
            e.push(key.clone(), "invalid_probability", "A probability is 0 to 100");
        }
        if o.closed.as_deref().is_some_and(|c| c != "won" && c != "lost") {
            e.push(key.clone(), "invalid_closed", "closed is `won` or `lost`");
        }
        if o.color.as_ref().is_some_and(|c| c.len() > 20 || !c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'#'))
        {
            e.push(key, "invalid_color", "A color is a name or #hex, at most 20 characters");
        }
    }
}

/// Fill empty labels with the value.
pub fn label_options(options: &mut [SelectOption]) {
    for o in options {
        if o.label.trim().is_empty() {
            o.label = o.value.clone();
        }
    }
}

/// Built-in select fields whose options an admin may edit.
pub fn editable_builtin_options(entity: &str, field: &str) -> bool {
    matches!(
        (entity, field),
        ("companies", "industry" | "size")
            | ("contacts", "department")
            | ("deals", "stage" | "source" | "priority")
            | ("activities", "type")
    )
}

/// A stored option list replacing a built-in field's options.
#[derive(Debug, Clone, PartialEq)]
pub struct OptionsOverride {
    pub entity: String,
    pub field: String,
    pub options: Vec<SelectOption>,
}

/// A stored custom field: where it lives and whether it is archived.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredField {
    pub entity: String,
    pub position: i64,
    pub archived: bool,
    pub spec: CustomFieldSpec,
}

/// The running schema: the built-in one with stored option lists applied and the live
/// (not archived) custom fields appended in their order.
pub fn assemble(mut base: Schema, overrides: &[OptionsOverride], fields: &[StoredField]) -> Schema {
    for o in overrides {
        if let Some(f) = base.entities.get_mut(&o.entity).and_then(|e| e.fields.iter_mut().find(|f| f.name == o.field))
        {
            f.options = o.options.clone();
        }
    }
    let mut live: Vec<&StoredField> = fields.iter().filter(|f| !f.archived).collect();
    live.sort_by_key(|f| f.position);
    for f in live {
        if let Some(e) = base.entities.get_mut(&f.entity)
            && e.field(&f.spec.name).is_none()
        {
            e.fields.push(f.spec.to_field_def());
        }
    }
    base
}

impl EntityDef {
    /// The live custom fields of this entity, in order.
    pub fn custom_fields(&self) -> impl Iterator<Item = &FieldDef> {
        self.fields.iter().filter(|f| f.custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: Json) -> CustomFieldSpec {
        serde_json::from_value(json).expect("spec")
    }

    #[test]
    fn a_select_needs_options_and_a_rating_is_one_to_five() {
        let s = spec(serde_json::json!({ "name": "cf_tier", "label": "Tier", "type": "select" }));
        assert!(s.validate().is_err());
        let r = spec(serde_json::json!({ "name": "cf_score", "label": "Score", "type": "rating" }));
        assert!(r.validate().is_ok());
        let f = r.to_field_def();
        assert_eq!((f.min, f.max, f.ty), (Some(1), Some(5), FieldType::Integer));
    }

    #[test]
    fn a_bad_default_is_named() {
        let s = spec(serde_json::json!({ "name": "cf_n", "label": "N", "type": "number", "default": "x" }));
        let err = s.validate().expect_err("bad default");
        assert!(err.0.iter().any(|e| e.field == "default"), "{err}");
    }

    #[test]
    fn archived_fields_stay_out_of_the_schema() {
        let base = super::super::builtin_schema();
        let f = |name: &str, archived: bool, position: i64| StoredField {
            entity: "deals".into(),
            position,
            archived,
            spec: spec(serde_json::json!({ "name": name, "label": name, "type": "text" })),
        };
        let s = assemble(base, &[], &[f("cf_b", false, 2), f("cf_a", false, 1), f("cf_c", true, 0)]);
        let names: Vec<&str> = s.entity("deals").expect("deals").custom_fields().map(|f| f.name.as_str()).collect();
        assert_eq!(names, vec!["cf_a", "cf_b"]);
    }
}
