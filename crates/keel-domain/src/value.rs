//! A record is a map from field name to a typed `Value`. Records are shaped by the
//! schema metadata rather than by one Rust struct per entity, so custom fields, the
//! change log, filters and the API all work from the same description.

use std::collections::BTreeMap;

use serde_json::Value as Json;
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Null,
    Text(String),
    Int(i64),
    Bool(bool),
    Date(Date),
    Timestamp(OffsetDateTime),
    Uuid(Uuid),
    /// A decimal number in units of 10^-`DECIMAL_SCALE` (exact, sortable as an integer).
    Decimal(i64),
    /// The chosen options of a multi-select field, in the options' order.
    List(Vec<String>),
}

/// Decimal places a `number` field keeps: values are stored as integers of 1/10 000.
pub const DECIMAL_SCALE: u32 = 4;
const DECIMAL_UNIT: i64 = 10_000;

/// Parse `-12.5` / `3` / `0.0001` exactly into units of 10^-4; more places are refused.
pub fn parse_decimal(s: &str) -> Option<i64> {
    let s = s.trim();
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (whole, frac) = match digits.split_once('.') {
        Some((w, f)) => (w, f),
        None => (digits, ""),
    };
    if (whole.is_empty() && frac.is_empty())
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > DECIMAL_SCALE as usize
    {
        return None;
    }
    let w: i64 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let mut f: i64 = if frac.is_empty() { 0 } else { frac.parse().ok()? };
    for _ in frac.len()..DECIMAL_SCALE as usize {
        f *= 10;
    }
    let units = w.checked_mul(DECIMAL_UNIT)?.checked_add(f)?;
    Some(if neg { -units } else { units })
}

/// The shortest exact text of a decimal in units of 10^-4: `12.5`, `3`, `-0.0001`.
pub fn format_decimal(units: i64) -> String {
    let sign = if units < 0 { "-" } else { "" };
    let abs = units.unsigned_abs();
    let unit = DECIMAL_UNIT as u64;
    let (whole, frac) = (abs / unit, abs % unit);
    if frac == 0 {
        format!("{sign}{whole}")
    } else {
        let f = format!("{frac:04}");
        format!("{sign}{whole}.{}", f.trim_end_matches('0'))
    }
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
    pub fn as_uuid(&self) -> Option<Uuid> {
        match self {
            Value::Uuid(u) => Some(*u),
            _ => None,
        }
    }
    pub fn as_date(&self) -> Option<Date> {
        match self {
            Value::Date(d) => Some(*d),
            _ => None,
        }
    }

    pub fn to_json(&self) -> Json {
        match self {
            Value::Null => Json::Null,
            Value::Text(s) => Json::String(s.clone()),
            Value::Int(i) => Json::from(*i),
            Value::Bool(b) => Json::Bool(*b),
            Value::Date(d) => Json::String(format_date(*d)),
            Value::Timestamp(t) => Json::String(format_timestamp(*t)),
            Value::Uuid(u) => Json::String(u.to_string()),
            // A JSON number; the text form is exact, so clients that parse decimals keep it.
            Value::Decimal(d) => {
                serde_json::from_str::<serde_json::Number>(&format_decimal(*d)).map_or(Json::Null, Json::Number)
            }
            Value::List(items) => Json::Array(items.iter().cloned().map(Json::String).collect()),
        }
    }
}

/// Dates travel as ISO 8601 `YYYY-MM-DD`.
pub fn format_date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

pub fn parse_date(s: &str) -> Option<Date> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s, fmt).ok()
}

/// Timestamps are UTC with exactly six fractional digits, so their text form sorts in
/// time order (SQLite stores them as text).
pub fn format_timestamp(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!("{}T{:02}:{:02}:{:02}.{:06}Z", format_date(t.date()), t.hour(), t.minute(), t.second(), t.microsecond())
}

pub fn parse_timestamp(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).ok().map(|t| truncate_to_micros(t.to_offset(time::UtcOffset::UTC)))
}

pub fn truncate_to_micros(t: OffsetDateTime) -> OffsetDateTime {
    let micros = t.microsecond();
    t.replace_microsecond(micros).unwrap_or(t)
}

/// A record's fields. System fields (id, created_at, version, …) are entries like any other.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Record {
    pub fields: BTreeMap<String, Value>,
}

impl Record {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn get(&self, field: &str) -> &Value {
        self.fields.get(field).unwrap_or(&Value::Null)
    }
    pub fn set(&mut self, field: impl Into<String>, value: Value) {
        self.fields.insert(field.into(), value);
    }
    pub fn id(&self) -> Option<Uuid> {
        self.get("id").as_uuid()
    }
    pub fn version(&self) -> i64 {
        self.get("version").as_int().unwrap_or(0)
    }
    pub fn owner_id(&self) -> Option<Uuid> {
        self.get("owner_id").as_uuid()
    }
    pub fn text(&self, field: &str) -> Option<&str> {
        self.get(field).as_text()
    }
    pub fn to_json(&self) -> serde_json::Map<String, Json> {
        self.fields.iter().map(|(k, v)| (k.clone(), v.to_json())).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_format_with_fixed_width_so_text_order_is_time_order() {
        let a = parse_timestamp("2026-01-02T03:04:05Z").expect("valid");
        let b = parse_timestamp("2026-01-02T03:04:05.5+00:00").expect("valid");
        assert_eq!(format_timestamp(a), "2026-01-02T03:04:05.000000Z");
        assert_eq!(format_timestamp(b), "2026-01-02T03:04:05.500000Z");
        assert!(format_timestamp(a) < format_timestamp(b));
    }

    #[test]
    fn timestamps_with_offsets_are_stored_in_utc() {
        let t = parse_timestamp("2026-01-02T03:04:05+02:00").expect("valid");
        assert_eq!(format_timestamp(t), "2026-01-02T01:04:05.000000Z");
    }

    #[test]
    fn decimals_are_exact_to_four_places() {
        assert_eq!(parse_decimal("12.5"), Some(125_000));
        assert_eq!(parse_decimal("-0.0001"), Some(-1));
        assert_eq!(parse_decimal("3"), Some(30_000));
        assert_eq!(parse_decimal("1.23456"), None);
        assert_eq!(parse_decimal("abc"), None);
        assert_eq!(parse_decimal("."), None);
        assert_eq!(format_decimal(125_000), "12.5");
        assert_eq!(format_decimal(-1), "-0.0001");
        assert_eq!(format_decimal(30_000), "3");
    }

    #[test]
    fn dates_round_trip() {
        let d = parse_date("2026-02-28").expect("valid");
        assert_eq!(format_date(d), "2026-02-28");
        assert!(parse_date("2026-02-30").is_none());
        assert!(parse_date("28/02/2026").is_none());
    }
}
