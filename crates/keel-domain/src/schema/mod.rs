//! Schema as data: every entity and field is described by metadata. Validation, list
//! filters, sorting, the OpenAPI document and `GET /api/v1/schema` all derive from it.
//! Custom fields are more `FieldDef`s in the same registry (`custom`): the running
//! schema is the built-in one, with stored option lists applied, plus the stored custom
//! field definitions.

mod builtin;
pub mod custom;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use builtin::{
    ACTIVITY_TYPES, COMPANY_SIZES, DEAL_SOURCES, DEPARTMENTS, INDUSTRIES, PRIORITIES, ROLES, builtin_schema,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    /// A record's own UUIDv7 id.
    Id,
    Text,
    LongText,
    Email,
    Phone,
    Url,
    Select,
    Integer,
    /// Integer minor units (cents); the currency is the record's `currency` field.
    Money,
    /// ISO 4217 code.
    Currency,
    /// Whole percent, 0–100.
    Percent,
    Boolean,
    Date,
    Timestamp,
    /// UUID of a record of `reference` entity.
    Reference,
    /// An exact decimal number (4 places), stored as an integer of 1/10 000.
    Decimal,
    /// Any number of `options`, as a JSON array of option values.
    MultiSelect,
}

impl FieldType {
    /// Values of this type are text (stored and compared as strings).
    pub fn is_textual(self) -> bool {
        matches!(
            self,
            FieldType::Text
                | FieldType::LongText
                | FieldType::Email
                | FieldType::Phone
                | FieldType::Url
                | FieldType::Select
                | FieldType::Currency
        )
    }

    /// The JSON Schema type a value of this field takes on the wire.
    pub fn json_type(self) -> &'static str {
        match self {
            FieldType::Integer | FieldType::Money | FieldType::Percent => "integer",
            FieldType::Boolean => "boolean",
            FieldType::Decimal => "number",
            FieldType::MultiSelect => "array",
            _ => "string",
        }
    }
    /// The JSON Schema `format`, where one applies.
    pub fn json_format(self) -> Option<&'static str> {
        match self {
            FieldType::Id | FieldType::Reference => Some("uuid"),
            FieldType::Email => Some("email"),
            FieldType::Url => Some("uri"),
            FieldType::Date => Some("date"),
            FieldType::Timestamp => Some("date-time"),
            FieldType::Money => Some("int64"),
            _ => None,
        }
    }
}

/// Who may write a field through the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    /// Users write it.
    Writable,
    /// Set by the system (ids, timestamps, version, audit fields).
    System,
    /// Computed from other fields (contacts.full_name).
    Derived,
}

/// What happens to a reference when the referenced record is purged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OnDelete {
    SetNull,
    Cascade,
    Restrict,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelectOption {
    pub value: String,
    #[serde(default)]
    pub label: String,
    /// Deal stages carry the win probability the stage implies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<i64>,
    /// Deal stages that close a deal: "won" or "lost".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    /// Retired options stay valid on records that hold them but cannot be chosen anew.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub retired: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldDef {
    pub name: String,
    pub label: String,
    #[serde(rename = "type")]
    pub ty: FieldType,
    pub required: bool,
    pub access: Access,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_length: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<i64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<SelectOption>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_delete: Option<OnDelete>,
    /// Unique among live (not trashed) records, compared case-insensitively.
    pub unique: bool,
    /// Backed by an index, so it can be a sort key.
    pub sortable: bool,
    /// Part of the full-text `q` search.
    pub searchable: bool,
    /// Never returned by the API (password hashes).
    #[serde(skip)]
    pub hidden: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// Defined by an admin at run time (`custom_fields`); its column is the field's name.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub custom: bool,
    /// The admin-facing type of a custom field where it says more than `type` does
    /// (`rating`, `currency`, `datetime`, …): forms pick their widget by it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The value a create gets when the field is left out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<serde_json::Value>,
    /// Only these roles (and admins) may read the field; elsewhere it is redacted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_roles: Option<Vec<String>>,
    /// Only these roles (and admins) may write the field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write_roles: Option<Vec<String>>,
}

impl FieldDef {
    pub fn new(name: &str, label: &str, ty: FieldType) -> Self {
        Self {
            name: name.to_string(),
            label: label.to_string(),
            ty,
            required: false,
            access: Access::Writable,
            max_length: match ty {
                FieldType::Text | FieldType::Email | FieldType::Phone | FieldType::Select => Some(255),
                FieldType::Url => Some(2048),
                FieldType::LongText => Some(65_536),
                FieldType::Currency => Some(3),
                _ => None,
            },
            min: match ty {
                FieldType::Money | FieldType::Percent => Some(0),
                _ => None,
            },
            max: match ty {
                FieldType::Percent => Some(100),
                _ => None,
            },
            options: Vec::new(),
            reference: None,
            on_delete: None,
            unique: false,
            sortable: false,
            searchable: false,
            hidden: false,
            help: None,
            custom: false,
            kind: None,
            default: None,
            read_roles: None,
            write_roles: None,
        }
    }
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }
    pub fn system(mut self) -> Self {
        self.access = Access::System;
        self
    }
    pub fn derived(mut self) -> Self {
        self.access = Access::Derived;
        self
    }
    pub fn max_length(mut self, n: usize) -> Self {
        self.max_length = Some(n);
        self
    }
    pub fn unique(mut self) -> Self {
        self.unique = true;
        self
    }
    pub fn sortable(mut self) -> Self {
        self.sortable = true;
        self
    }
    pub fn searchable(mut self) -> Self {
        self.searchable = true;
        self
    }
    pub fn hidden(mut self) -> Self {
        self.hidden = true;
        self
    }
    pub fn help(mut self, text: &str) -> Self {
        self.help = Some(text.to_string());
        self
    }
    pub fn references(mut self, entity: &str, on_delete: OnDelete) -> Self {
        self.reference = Some(entity.to_string());
        self.on_delete = Some(on_delete);
        self
    }
    pub fn options(mut self, options: Vec<SelectOption>) -> Self {
        self.options = options;
        self
    }
    pub fn is_writable(&self) -> bool {
        self.access == Access::Writable
    }
    /// Whether a stored value can be NULL (decides how keyset pagination treats it).
    pub fn nullable(&self) -> bool {
        !(self.required || matches!(self.name.as_str(), "id" | "created_at" | "updated_at" | "version"))
    }
    pub fn option(&self, value: &str) -> Option<&SelectOption> {
        self.options.iter().find(|o| o.value == value)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntityDef {
    /// Plural, also the table name and the URL segment: `companies`.
    pub name: String,
    pub singular: String,
    pub label: String,
    /// Records belong to an owner (`owner_id`), which the policy uses.
    pub owned: bool,
    /// Deleting moves to trash (`deleted_at`) instead of removing.
    pub soft_delete: bool,
    /// Default sort for lists, `-updated_at` style.
    pub default_sort: String,
    pub fields: Vec<FieldDef>,
}

impl EntityDef {
    pub fn field(&self, name: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.name == name)
    }
    pub fn searchable_fields(&self) -> impl Iterator<Item = &FieldDef> {
        self.fields.iter().filter(|f| f.searchable)
    }
    pub fn has_search(&self) -> bool {
        self.fields.iter().any(|f| f.searchable)
    }
    /// Fields that are returned by the API.
    pub fn visible_fields(&self) -> impl Iterator<Item = &FieldDef> {
        self.fields.iter().filter(|f| !f.hidden)
    }
}

/// All entities, keyed by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Schema {
    pub entities: BTreeMap<String, EntityDef>,
}

impl Schema {
    pub fn entity(&self, name: &str) -> Option<&EntityDef> {
        self.entities.get(name)
    }
    /// Entities with a reference field pointing at `target`: the related lists of a record.
    pub fn referencing(&self, target: &str) -> Vec<(&EntityDef, &FieldDef)> {
        let mut out = Vec::new();
        for e in self.entities.values() {
            for f in &e.fields {
                if f.ty == FieldType::Reference
                    && f.reference.as_deref() == Some(target)
                    && f.access == Access::Writable
                    && e.soft_delete
                {
                    out.push((e, f));
                }
            }
        }
        out
    }
}

impl EntityDef {
    /// A record as the API shows it: every visible field, hidden ones (hashes) left out.
    pub fn public_json(&self, record: &crate::value::Record) -> serde_json::Map<String, serde_json::Value> {
        self.visible_fields().map(|f| (f.name.clone(), record.get(&f.name).to_json())).collect()
    }
}

impl Schema {
    /// The schema as clients may see it: hidden fields (password hashes) removed.
    pub fn public(&self) -> Schema {
        let mut s = self.clone();
        for e in s.entities.values_mut() {
            e.fields.retain(|f| !f.hidden);
        }
        s
    }
}
