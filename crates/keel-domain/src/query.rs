//! List queries: filters, sort and keyset cursor, parsed from URL query pairs against the
//! entity's metadata. Anything not in the metadata is refused here, so the store only
//! ever sees known field names and typed values.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value as Json;
use uuid::Uuid;

use crate::error::FieldErrors;
use crate::schema::{EntityDef, FieldDef, FieldType};
use crate::validate::parse_value;
use crate::value::Value;

pub const MAX_LIMIT: u32 = 200;
pub const DEFAULT_LIMIT: u32 = 25;
const MAX_IN_VALUES: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Lte,
    Gt,
    Gte,
    In,
    Contains,
    IsNull,
}

impl Op {
    fn parse(s: &str) -> Option<Op> {
        Some(match s {
            "eq" => Op::Eq,
            "ne" => Op::Ne,
            "lt" => Op::Lt,
            "lte" => Op::Lte,
            "gt" => Op::Gt,
            "gte" => Op::Gte,
            "in" => Op::In,
            "contains" => Op::Contains,
            "is_null" => Op::IsNull,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operand {
    One(Value),
    Many(Vec<Value>),
    Flag(bool),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub field: String,
    pub op: Op,
    pub operand: Operand,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sort {
    pub field: String,
    pub desc: bool,
    /// Whether the sort column can hold NULL (NULLs sort last either way).
    pub nullable: bool,
}

/// Where the previous page ended: the last row's sort value and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub value: Value,
    pub id: Uuid,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    pub filters: Vec<Filter>,
    pub q: Option<String>,
    pub sort: Sort,
    pub limit: u32,
    pub cursor: Option<Cursor>,
    pub count: bool,
    /// List the trash instead of live records.
    pub trashed: bool,
}

impl ListQuery {
    /// A query with no filters, the entity's default sort and the default page size.
    pub fn default_for(entity: &EntityDef) -> Self {
        let sort = parse_sort(entity, &entity.default_sort).unwrap_or(Sort {
            field: "id".into(),
            desc: false,
            nullable: false,
        });
        ListQuery {
            filters: Vec::new(),
            q: None,
            sort,
            limit: DEFAULT_LIMIT,
            cursor: None,
            count: false,
            trashed: false,
        }
    }
}

/// Parse `field=value`, `field[op]=value`, `q`, `sort`, `limit`, `cursor`, `count`, `trashed`.
pub fn parse_list_query(entity: &EntityDef, pairs: &[(String, String)]) -> Result<ListQuery, FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut query = ListQuery::default_for(entity);
    let mut raw_cursor = None;

    for (key, raw) in pairs {
        match key.as_str() {
            "q" => {
                let t = raw.trim();
                if t.chars().count() > 200 {
                    errors.push("q", "too_long", "Search text must be at most 200 characters");
                } else if !t.is_empty() {
                    query.q = Some(t.to_string());
                }
            }
            "sort" => match parse_sort(entity, raw) {
                Ok(s) => query.sort = s,
                Err(e) => errors.0.extend(e.0),
            },
            "limit" => match raw.parse::<u32>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => query.limit = n,
                _ => {
                    errors.push("limit", "invalid_limit", format!("limit must be a whole number from 1 to {MAX_LIMIT}"))
                }
            },
            "cursor" => raw_cursor = Some(raw.clone()),
            "count" => match parse_bool(raw) {
                Some(b) => query.count = b,
                None => errors.push("count", "wrong_type", "count must be true or false"),
            },
            "trashed" => match parse_bool(raw) {
                Some(b) => query.trashed = b,
                None => errors.push("trashed", "wrong_type", "trashed must be true or false"),
            },
            _ => match parse_filter(entity, key, raw) {
                Ok(f) => query.filters.push(f),
                Err((field, code, msg)) => errors.push(field, code, msg),
            },
        }
    }
    if let Some(c) = raw_cursor {
        match decode_cursor(entity, &query.sort, &c) {
            Some(cur) => query.cursor = Some(cur),
            None => errors.push(
                "cursor",
                "invalid_cursor",
                "cursor is not one this list handed out (it must come from next_cursor with the same sort)",
            ),
        }
    }
    errors.into_result()?;
    Ok(query)
}

fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

pub fn parse_sort(entity: &EntityDef, raw: &str) -> Result<Sort, FieldErrors> {
    let (desc, name) = match raw.strip_prefix('-') {
        Some(n) => (true, n),
        None => (false, raw),
    };
    match entity.field(name).filter(|f| !f.hidden) {
        Some(f) if f.sortable => Ok(Sort { field: f.name.clone(), desc, nullable: f.nullable() }),
        Some(_) => {
            let sortable: Vec<&str> = entity.fields.iter().filter(|f| f.sortable).map(|f| f.name.as_str()).collect();
            Err(FieldErrors::single(
                "sort",
                "not_sortable",
                format!("`{name}` is not sortable; sort by one of: {}", sortable.join(", ")),
            ))
        }
        None => Err(FieldErrors::single("sort", "unknown_field", format!("{} has no field `{name}`", entity.label))),
    }
}

type FilterError = (String, &'static str, String);

fn parse_filter(entity: &EntityDef, key: &str, raw: &str) -> Result<Filter, FilterError> {
    let (name, op) = match key.split_once('[') {
        Some((name, rest)) => {
            let Some(op_name) = rest.strip_suffix(']') else {
                return Err((
                    key.to_string(),
                    "invalid_filter",
                    format!("`{key}` is not a filter; write `field[op]=value`"),
                ));
            };
            let op = Op::parse(op_name).ok_or_else(|| {
                (
                    key.to_string(),
                    "unknown_operator",
                    format!(
                        "unknown filter operator `{op_name}`; use eq, ne, lt, lte, gt, gte, in, contains or is_null"
                    ),
                )
            })?;
            (name, op)
        }
        None => (key, Op::Eq),
    };
    let field = entity.field(name).filter(|f| !f.hidden).ok_or_else(|| {
        (key.to_string(), "unknown_field", format!("cannot filter: {} has no field `{name}`", entity.label))
    })?;
    if field.ty == FieldType::MultiSelect && op != Op::IsNull {
        // "Has this option": the stored JSON array contains the quoted value.
        if !matches!(op, Op::Eq | Op::Contains) {
            return Err((
                key.to_string(),
                "invalid_filter",
                format!("`{name}` takes eq or contains (has the option) and is_null"),
            ));
        }
        let Some(o) = field.options.iter().find(|o| o.value.eq_ignore_ascii_case(raw.trim())) else {
            let allowed: Vec<&str> = field.options.iter().map(|o| o.value.as_str()).collect();
            return Err((
                key.to_string(),
                "invalid_option",
                format!("{} must be one of: {}", field.label, allowed.join(", ")),
            ));
        };
        let needle = serde_json::to_string(&o.value).unwrap_or_default();
        return Ok(Filter { field: field.name.clone(), op: Op::Contains, operand: Operand::One(Value::Text(needle)) });
    }
    let operand = match op {
        Op::IsNull => Operand::Flag(
            parse_bool(raw)
                .ok_or_else(|| (key.to_string(), "wrong_type", "is_null takes true or false".to_string()))?,
        ),
        Op::In => {
            let parts: Vec<&str> = raw.split(',').map(str::trim).filter(|p| !p.is_empty()).collect();
            if parts.is_empty() || parts.len() > MAX_IN_VALUES {
                return Err((
                    key.to_string(),
                    "invalid_filter",
                    format!("`in` takes 1 to {MAX_IN_VALUES} comma-separated values"),
                ));
            }
            let mut values = Vec::with_capacity(parts.len());
            for p in parts {
                values.push(filter_value(field, p).map_err(|(c, m)| (key.to_string(), c, m))?);
            }
            Operand::Many(values)
        }
        Op::Contains => {
            if !field.ty.is_textual() {
                return Err((
                    key.to_string(),
                    "invalid_filter",
                    format!("`contains` only works on text fields; `{name}` is {:?}", field.ty).to_lowercase(),
                ));
            }
            if raw.contains('\0') || raw.chars().count() > 200 {
                return Err((
                    key.to_string(),
                    "invalid_filter",
                    "`contains` takes up to 200 characters of text".into(),
                ));
            }
            Operand::One(Value::Text(raw.to_string()))
        }
        _ => Operand::One(filter_value(field, raw).map_err(|(c, m)| (key.to_string(), c, m))?),
    };
    Ok(Filter { field: field.name.clone(), op, operand })
}

/// Filter values arrive as text; decode them by the field's type (exactly, no normalising
/// beyond what lookups need: emails and currencies compare in their stored case).
fn filter_value(field: &FieldDef, raw: &str) -> Result<Value, (&'static str, String)> {
    if raw.contains('\0') {
        return Err(("invalid_filter", "filter values must not contain NUL characters".into()));
    }
    let json = match field.ty {
        FieldType::Decimal => Json::String(raw.trim().to_string()),
        FieldType::Integer | FieldType::Money | FieldType::Percent => match raw.trim().parse::<i64>() {
            Ok(i) => Json::from(i),
            Err(_) => {
                return Err(("wrong_type", format!("{} filter must be a whole number", field.label)));
            }
        },
        FieldType::Boolean => match parse_bool(raw.trim()) {
            Some(b) => Json::Bool(b),
            None => {
                return Err(("wrong_type", format!("{} filter must be true or false", field.label)));
            }
        },
        _ => Json::String(raw.to_string()),
    };
    let v = parse_value(field, &json)?;
    Ok(match (field.ty, v) {
        (FieldType::Email, Value::Text(s)) => Value::Text(s.to_lowercase()),
        (FieldType::Currency, Value::Text(s)) => Value::Text(s.to_ascii_uppercase()),
        (FieldType::Select, Value::Text(s)) => match field.options.iter().find(|o| o.value.eq_ignore_ascii_case(&s)) {
            Some(o) => Value::Text(o.value.clone()),
            None => {
                let allowed: Vec<&str> = field.options.iter().map(|o| o.value.as_str()).collect();
                return Err(("invalid_option", format!("{} must be one of: {}", field.label, allowed.join(", "))));
            }
        },
        (_, v) => v,
    })
}

pub fn encode_cursor(value: &Value, id: Uuid) -> String {
    encode_cursor_json(&value.to_json(), id)
}

/// The cursor after a record the API has already rendered: `value` is its sort field as
/// JSON (what `Value::to_json` made of it). GraphQL gives every edge a cursor this way.
pub fn encode_cursor_json(value: &Json, id: Uuid) -> String {
    let payload = Json::Array(vec![value.clone(), Json::String(id.to_string())]);
    URL_SAFE_NO_PAD.encode(payload.to_string())
}

fn decode_cursor(entity: &EntityDef, sort: &Sort, raw: &str) -> Option<Cursor> {
    let bytes = URL_SAFE_NO_PAD.decode(raw).ok()?;
    let json: Json = serde_json::from_slice(&bytes).ok()?;
    let arr = json.as_array()?;
    if arr.len() != 2 {
        return None;
    }
    let id = Uuid::parse_str(arr[1].as_str()?).ok()?;
    let field = entity.field(&sort.field)?;
    let value = parse_value(field, &arr[0]).ok()?;
    if value.is_null() && !sort.nullable {
        return None;
    }
    // Cursors come back from clients: a forged NUL would reach PostgreSQL as a 500.
    if matches!(&value, Value::Text(s) if s.contains('\0')) {
        return None;
    }
    Some(Cursor { value, id })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::builtin_schema;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn filters_parse_with_types_from_the_metadata() {
        let s = builtin_schema();
        let deals = s.entity("deals").expect("deals");
        let q = parse_list_query(
            deals,
            &pairs(&[("amount[gte]", "5000"), ("stage[in]", "Proposal,negotiation"), ("sort", "-amount")]),
        )
        .expect("valid");
        assert_eq!(q.filters[0].operand, Operand::One(Value::Int(5000)));
        assert_eq!(
            q.filters[1].operand,
            Operand::Many(vec![Value::Text("Proposal".into()), Value::Text("Negotiation".into())])
        );
        assert!(q.sort.desc && q.sort.field == "amount");
    }

    #[test]
    fn unknown_fields_operators_and_bad_values_are_refused_by_name() {
        let s = builtin_schema();
        let deals = s.entity("deals").expect("deals");
        let err = parse_list_query(
            deals,
            &pairs(&[("nope", "1"), ("amount[gt]", "1;DROP TABLE deals"), ("title[regex]", "x"), ("sort", "notes")]),
        )
        .expect_err("invalid");
        let fields: Vec<&str> = err.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["nope", "amount[gt]", "title[regex]", "sort"]);
    }

    #[test]
    fn hidden_fields_cannot_be_filtered() {
        let s = builtin_schema();
        let users = s.entity("users").expect("users");
        assert!(parse_list_query(users, &pairs(&[("password_hash[contains]", "$argon")])).is_err());
    }

    #[test]
    fn cursors_round_trip_and_forgeries_are_refused() {
        let s = builtin_schema();
        let deals = s.entity("deals").expect("deals");
        let id = Uuid::now_v7();
        let c = encode_cursor(&Value::Int(42), id);
        let q = parse_list_query(deals, &pairs(&[("sort", "amount"), ("cursor", &c)])).expect("valid");
        assert_eq!(q.cursor, Some(Cursor { value: Value::Int(42), id }));
        assert!(parse_list_query(deals, &pairs(&[("cursor", "garbage")])).is_err());
        let nul = encode_cursor(&Value::Text("a\0b".into()), id);
        assert!(parse_list_query(deals, &pairs(&[("sort", "title"), ("cursor", &nul)])).is_err());
        assert!(parse_list_query(deals, &pairs(&[("title[eq", "x")])).is_err());
    }
}
