//! Turning untrusted JSON into a valid record: parse each field by its metadata, apply the
//! generic checks every field type has, then the entity's own rules (`crate::rules`).
//! Checks that need the database (uniqueness, references) are the service's job.

use std::collections::BTreeSet;

use serde_json::{Map, Value as Json};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::error::FieldErrors;
use crate::schema::{EntityDef, FieldDef, FieldType};
use crate::value::{Record, Value, parse_date, parse_decimal, parse_timestamp};

/// What the rules need to know about "now".
#[derive(Debug, Clone, Copy)]
pub struct WriteContext {
    pub now: OffsetDateTime,
    pub today: Date,
    /// ISO 3166 region used for phone numbers written without a country code.
    pub default_region: &'static str,
    /// The write loads existing data (a CSV import): rules that guard against typos in
    /// live data entry (a deal's expected close date in the past) let history through.
    pub import: bool,
}

/// The outcome of validating a write: the full record after the change and the names of
/// the fields the caller set explicitly.
#[derive(Debug, Clone)]
pub struct PreparedWrite {
    pub after: Record,
    pub explicit: BTreeSet<String>,
}

/// Validate a create (`before` is None) or a partial update of `before`.
pub fn prepare_write(
    entity: &EntityDef,
    before: Option<&Record>,
    input: &Map<String, Json>,
    ctx: &WriteContext,
) -> Result<PreparedWrite, FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut after = before.cloned().unwrap_or_default();
    let mut explicit = BTreeSet::new();
    let region = region_for(entity, before, input, ctx);

    for (name, raw) in input {
        let Some(field) = entity.field(name).filter(|f| !f.hidden) else {
            errors.push(name.clone(), "unknown_field", format!("{} has no field `{name}`", entity.label));
            continue;
        };
        if !field.is_writable() {
            errors.push(name.clone(), "read_only", format!("`{name}` is set by the system and cannot be written"));
            continue;
        }
        match parse_value(field, raw).and_then(|v| normalize_value(field, v, &region)) {
            Ok(v) => {
                after.set(name.clone(), v);
                explicit.insert(name.clone());
            }
            Err((code, message)) => errors.push(name.clone(), code, message),
        }
    }

    // Custom fields' defaults fill in on create when the caller leaves them out.
    if before.is_none() {
        for field in entity.fields.iter().filter(|f| f.default.is_some() && !input.contains_key(&f.name)) {
            let Some(d) = &field.default else { continue };
            match parse_value(field, d).and_then(|v| normalize_value(field, v, &region)) {
                Ok(v) => after.set(field.name.clone(), v),
                Err((code, message)) => errors.push(field.name.clone(), code, message),
            }
        }
    }

    for field in &entity.fields {
        if !field.required || !field.is_writable() {
            continue;
        }
        let touched = before.is_none() || explicit.contains(&field.name);
        // A rule fills a default in on create only: clearing the field later is an error
        // (else a PATCH of `stage: null` would reach the database's NOT NULL as a 500).
        let defaulted = before.is_none() && crate::rules::has_default(entity, &field.name);
        if touched && after.get(&field.name).is_null() && !errors.has(&field.name) && !defaulted {
            errors.push(field.name.clone(), "required", format!("{} is required", field.label));
        }
    }

    crate::rules::apply(entity, before, &mut after, &explicit, ctx, &mut errors);
    errors.into_result()?;
    Ok(PreparedWrite { after, explicit })
}

type Rejection = (&'static str, String);

fn wrong_type(field: &FieldDef, expected: &str) -> Rejection {
    ("wrong_type", format!("{} must be {expected}", field.label))
}

/// Decode one JSON value by the field's type. Empty strings mean "no value".
pub fn parse_value(field: &FieldDef, raw: &Json) -> Result<Value, Rejection> {
    if raw.is_null() {
        return Ok(Value::Null);
    }
    match field.ty {
        FieldType::Text
        | FieldType::LongText
        | FieldType::Email
        | FieldType::Phone
        | FieldType::Url
        | FieldType::Select
        | FieldType::Currency => {
            let s = raw.as_str().ok_or_else(|| wrong_type(field, "a string"))?;
            let s = s.trim();
            if s.is_empty() { Ok(Value::Null) } else { Ok(Value::Text(s.to_string())) }
        }
        FieldType::Integer | FieldType::Money | FieldType::Percent => match raw.as_i64() {
            Some(i) => Ok(Value::Int(i)),
            None if raw.is_number() => Err((
                "wrong_type",
                if field.ty == FieldType::Money {
                    format!("{} must be a whole number of minor units (cents), not {raw}", field.label)
                } else {
                    format!("{} must be a whole number", field.label)
                },
            )),
            None => Err(wrong_type(field, "an integer")),
        },
        FieldType::Boolean => raw.as_bool().map(Value::Bool).ok_or_else(|| wrong_type(field, "true or false")),
        FieldType::Date => {
            let s = raw.as_str().ok_or_else(|| wrong_type(field, "a date string (YYYY-MM-DD)"))?;
            if s.trim().is_empty() {
                return Ok(Value::Null);
            }
            parse_date(s.trim())
                .filter(|d| storable_year(*d))
                .map(Value::Date)
                .ok_or_else(|| ("invalid_date", format!("{} must be a date as YYYY-MM-DD", field.label)))
        }
        FieldType::Timestamp => {
            let s = raw.as_str().ok_or_else(|| wrong_type(field, "an RFC 3339 date-time string"))?;
            if s.trim().is_empty() {
                return Ok(Value::Null);
            }
            parse_timestamp(s.trim()).filter(|t| storable_year(t.date())).map(Value::Timestamp).ok_or_else(|| {
                (
                    "invalid_datetime",
                    format!("{} must be an RFC 3339 date-time, e.g. 2026-03-01T09:00:00Z", field.label),
                )
            })
        }
        FieldType::Decimal => {
            let text = match raw {
                Json::Number(n) => n.to_string(),
                Json::String(s) if s.trim().is_empty() => return Ok(Value::Null),
                Json::String(s) => s.clone(),
                _ => return Err(wrong_type(field, "a number")),
            };
            parse_decimal(&text).map(Value::Decimal).ok_or_else(|| {
                ("invalid_number", format!("{} must be a number with at most 4 decimal places", field.label))
            })
        }
        FieldType::MultiSelect => {
            let items = raw.as_array().ok_or_else(|| wrong_type(field, "an array of option values"))?;
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                let s = item.as_str().ok_or_else(|| wrong_type(field, "an array of option values"))?;
                out.push(s.trim().to_string());
            }
            Ok(if out.is_empty() { Value::Null } else { Value::List(out) })
        }
        FieldType::Id | FieldType::Reference => {
            let s = raw.as_str().ok_or_else(|| wrong_type(field, "a UUID string"))?;
            if s.trim().is_empty() {
                return Ok(Value::Null);
            }
            Uuid::parse_str(s.trim())
                .map(Value::Uuid)
                .map_err(|_| ("invalid_id", format!("{} must be a UUID", field.label)))
        }
    }
}

/// Years 1 to 9999 (in UTC): what `YYYY-MM-DD` can write and read back on both backends.
/// `-0001-01-01` would be stored as `-001-01-01` and poison every read of the record.
fn storable_year(d: Date) -> bool {
    (1..=9999).contains(&d.year())
}

/// The checks and normal forms every field of a type gets, whatever its entity.
pub fn normalize_value(field: &FieldDef, value: Value, region: &str) -> Result<Value, Rejection> {
    if let Value::Decimal(units) = value {
        let scale = 10_i64.pow(crate::value::DECIMAL_SCALE);
        if let Some(min) = field.min.filter(|m| units < m.saturating_mul(scale)) {
            return Err(("too_small", format!("{} must be at least {min}", field.label)));
        }
        if let Some(max) = field.max.filter(|m| units > m.saturating_mul(scale)) {
            return Err(("too_large", format!("{} must be at most {max}", field.label)));
        }
        return Ok(value);
    }
    if let Value::List(items) = value {
        // Each item must be a live option; the result keeps the options' order, once each.
        let mut chosen = Vec::new();
        for item in &items {
            match field.options.iter().find(|o| o.value.eq_ignore_ascii_case(item) && !o.retired) {
                Some(o) => chosen.push(o.value.clone()),
                None => {
                    return Err((
                        "invalid_option",
                        format!("{} must list only: {}", field.label, live_options(field).join(", ")),
                    ));
                }
            }
        }
        let ordered: Vec<String> =
            field.options.iter().filter(|o| chosen.contains(&o.value)).map(|o| o.value.clone()).collect();
        return Ok(if ordered.is_empty() { Value::Null } else { Value::List(ordered) });
    }
    let Value::Text(s) = value else {
        if let Value::Int(i) = value {
            if let Some(min) = field.min.filter(|m| i < *m) {
                return Err(("too_small", format!("{} must be at least {min}", field.label)));
            }
            if let Some(max) = field.max.filter(|m| i > *m) {
                return Err(("too_large", format!("{} must be at most {max}", field.label)));
            }
        }
        return Ok(value);
    };
    // PostgreSQL cannot store NUL in text, and no CRM value needs it.
    if s.contains('\0') {
        return Err(("invalid_characters", format!("{} must not contain NUL characters", field.label)));
    }
    if let Some(max) = field.max_length {
        let n = s.chars().count();
        if n > max {
            return Err(("too_long", format!("{} must be at most {max} characters (got {n})", field.label)));
        }
    }
    let s = match field.ty {
        FieldType::Email => normalize_email(&s)
            .ok_or_else(|| ("invalid_email", format!("{} must be a valid email address", field.label)))?,
        FieldType::Phone => normalize_phone(&s, region).ok_or_else(|| {
            (
                "invalid_phone",
                format!(
                    "{} must be a valid phone number; add the country code (+1 415 555 0100) if it is not in {region}",
                    field.label
                ),
            )
        })?,
        FieldType::Url => {
            normalize_url(&s).ok_or_else(|| ("invalid_url", format!("{} must be a valid http(s) URL", field.label)))?
        }
        FieldType::Select => match field.options.iter().find(|o| o.value.eq_ignore_ascii_case(&s) && !o.retired) {
            Some(o) => o.value.clone(),
            None => {
                return Err((
                    "invalid_option",
                    format!("{} must be one of: {}", field.label, live_options(field).join(", ")),
                ));
            }
        },
        FieldType::Currency => {
            let up = s.to_ascii_uppercase();
            if up.len() != 3 || !up.bytes().all(|b| b.is_ascii_uppercase()) {
                return Err((
                    "invalid_currency",
                    format!("{} must be a three-letter ISO 4217 code such as USD", field.label),
                ));
            }
            up
        }
        _ => s,
    };
    Ok(Value::Text(s))
}

/// The options a write may choose (retired ones stay on old records only).
fn live_options(field: &FieldDef) -> Vec<&str> {
    field.options.iter().filter(|o| !o.retired).map(|o| o.value.as_str()).collect()
}

/// Emails are compared and stored lowercased: every mail system treats them that way.
pub fn normalize_email(s: &str) -> Option<String> {
    let lower = s.to_lowercase();
    if lower.len() <= 254 && email_address::EmailAddress::is_valid(&lower) && lower.contains('.') {
        Some(lower)
    } else {
        None
    }
}

/// Parse a phone number and render it as E.164; numbers without a `+` use `region`.
pub fn normalize_phone(s: &str, region: &str) -> Option<String> {
    let id: Option<phonenumber::country::Id> = region.parse().ok();
    let number = phonenumber::parse(id, s).ok()?;
    if !phonenumber::is_valid(&number) {
        return None;
    }
    Some(number.format().mode(phonenumber::Mode::E164).to_string())
}

/// Accept `acme.com` as `https://acme.com`, as every CRM does; insist on http(s) and a host.
pub fn normalize_url(s: &str) -> Option<String> {
    if s.chars().any(char::is_whitespace) {
        return None;
    }
    let candidate = if s.contains("://") { s.to_string() } else { format!("https://{s}") };
    let url = url::Url::parse(&candidate).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let host = url.host_str()?;
    if !host.contains('.') && host != "localhost" {
        return None;
    }
    Some(url.to_string())
}

/// The region for phone numbers: the record's two-letter country, else the configured default.
fn region_for(entity: &EntityDef, before: Option<&Record>, input: &Map<String, Json>, ctx: &WriteContext) -> String {
    if entity.field("country").is_none() {
        return ctx.default_region.to_string();
    }
    let country = input
        .get("country")
        .and_then(Json::as_str)
        .map(str::to_string)
        .or_else(|| before.and_then(|b| b.text("country")).map(str::to_string));
    match country {
        Some(c) if c.trim().len() == 2 => {
            let up = c.trim().to_ascii_uppercase();
            if up.parse::<phonenumber::country::Id>().is_ok() { up } else { ctx.default_region.to_string() }
        }
        _ => ctx.default_region.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_are_normalised_to_e164() {
        assert_eq!(normalize_phone("(415) 555-2671", "US").as_deref(), Some("+14155552671"));
        assert_eq!(normalize_phone("+49 30 901820", "US").as_deref(), Some("+4930901820"));
        assert_eq!(normalize_phone("030 901820", "DE").as_deref(), Some("+4930901820"));
    }

    #[test]
    fn unparseable_phone_numbers_are_rejected() {
        assert_eq!(normalize_phone("call me maybe", "US"), None);
        assert_eq!(normalize_phone("123", "US"), None);
    }

    #[test]
    fn urls_without_scheme_get_https_and_junk_is_rejected() {
        assert_eq!(normalize_url("acme.com").as_deref(), Some("https://acme.com/"));
        assert_eq!(normalize_url("http://acme.com/about").as_deref(), Some("http://acme.com/about"));
        assert_eq!(normalize_url("javascript:alert(1)"), None);
        assert_eq!(normalize_url("not a url"), None);
        assert_eq!(normalize_url("ftp://acme.com"), None);
    }

    #[test]
    fn defaults_fill_required_fields_on_create_only() {
        let schema = crate::schema::builtin_schema();
        let deals = schema.entity("deals").expect("deals");
        let now = OffsetDateTime::UNIX_EPOCH;
        let ctx = WriteContext { now, today: now.date(), default_region: "US", import: false };
        let input = |v: Json| v.as_object().cloned().unwrap_or_default();
        let created = prepare_write(
            deals,
            None,
            &input(serde_json::json!({ "title": "T", "company_id": Uuid::nil().to_string() })),
            &ctx,
        )
        .expect("stage defaults on create");
        assert_eq!(created.after.text("stage"), Some("Prospecting"));
        let err = prepare_write(deals, Some(&created.after), &input(serde_json::json!({ "stage": null })), &ctx)
            .expect_err("cleared");
        assert!(err.0.iter().any(|e| e.field == "stage" && e.code == "required"), "{err}");
    }

    #[test]
    fn dates_outside_years_1_to_9999_are_refused() {
        let date = FieldDef::new("d", "D", FieldType::Date);
        let ts = FieldDef::new("t", "T", FieldType::Timestamp);
        for bad in ["-0001-01-01", "0000-01-01", "+10000-01-01"] {
            assert!(parse_value(&date, &Json::from(bad)).is_err(), "{bad}");
        }
        assert!(parse_value(&date, &Json::from("0001-01-01")).is_ok());
        assert!(parse_value(&date, &Json::from("9999-12-31")).is_ok());
        // In UTC, this is 0000-12-31.
        assert!(parse_value(&ts, &Json::from("0001-01-01T00:00:00+14:00")).is_err());
        assert!(parse_value(&ts, &Json::from("9999-12-31T23:59:59Z")).is_ok());
    }

    #[test]
    fn emails_are_lowercased_and_checked() {
        assert_eq!(normalize_email("John.Smith@Acme.COM").as_deref(), Some("john.smith@acme.com"));
        assert_eq!(normalize_email("john@"), None);
        assert_eq!(normalize_email("john smith@acme.com"), None);
    }
}
