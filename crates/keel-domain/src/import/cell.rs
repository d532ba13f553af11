//! One CSV cell → the JSON value `validate::prepare_write` takes for its field, so an
//! imported row meets exactly the checks an API request meets. Spreadsheets write
//! numbers, money, dates and booleans in many ways; this accepts the common ones when
//! they can be read one way only, and refuses the rest with a message naming the form.
//!
//! Money ("$50,000.00", "50000", "50.000,00", "1'234.50", "EUR 99"): currency signs,
//! codes, spaces and apostrophes are dropped. When both `.` and `,` appear, the last one
//! is the decimal mark. When only one of them appears: more than once, it groups
//! thousands; once and followed by exactly three digits, it groups thousands too
//! ("1,500" and "1.500" are 1500); otherwise it is the decimal mark ("12,5" is 12.50).
//! The result is in minor units of the row's currency (USD when none): 2 decimals for
//! most, 0 for JPY, KRW and the like, 3 for BHD, KWD and the like. More decimals than the
//! currency has is an error, never rounded.
//!
//! Dates: `YYYY-MM-DD` (also with `/` or `.`, or followed by a time that is ignored),
//! `D.M.YYYY` (dots are day-first everywhere), `M/D/YYYY` or `D/M/YYYY` (also with `-`)
//! only when one part is above 12 or both are equal, and month names ("15 Dec 2025",
//! "Dec 15, 2025", "December 15 2025"). Two-digit years and `03/04/2025` are refused:
//! guessing would silently move dates by months.

use serde_json::Value as Json;
use time::{Date, Month};
use uuid::Uuid;

use crate::schema::{FieldDef, FieldType};

/// Why a cell was refused: a stable code and a message.
pub type Rejection = (&'static str, String);

/// What a cell becomes.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// A value for `prepare_write`.
    Value(Json),
    /// A reference given by name, domain or email, which the service resolves to an id.
    Lookup(String),
}

/// Convert `text` for `field`. `currency` is the row's currency cell, if the file has one.
pub fn convert(field: &FieldDef, text: &str, currency: Option<&str>) -> Result<Cell, Rejection> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(Cell::Value(Json::Null));
    }
    let value = match field.ty {
        FieldType::Money => Json::from(parse_money(t, minor_unit_digits(currency.unwrap_or("USD")))?),
        FieldType::Integer => Json::from(parse_integer(t, false).ok_or_else(|| not_a("a whole number", field))?),
        FieldType::Percent => Json::from(parse_integer(t, true).ok_or_else(|| not_a("a whole percent", field))?),
        FieldType::Boolean => Json::from(parse_bool(t).ok_or_else(|| {
            ("invalid_boolean", format!("{} must be yes/no, true/false, y/n or 1/0, not `{t}`", field.label))
        })?),
        FieldType::Date => Json::from(crate::value::format_date(
            parse_date(t).map_err(|m| ("invalid_date", format!("{}: {m}", field.label)))?,
        )),
        FieldType::Timestamp => match crate::value::parse_timestamp(t) {
            Some(_) => Json::from(t),
            None => {
                let d = parse_date(t).map_err(|m| ("invalid_datetime", format!("{}: {m}", field.label)))?;
                Json::from(format!("{}T00:00:00Z", crate::value::format_date(d)))
            }
        },
        FieldType::Reference | FieldType::Id => match Uuid::parse_str(t) {
            Ok(id) => Json::from(id.to_string()),
            Err(_) if field.ty == FieldType::Reference => return Ok(Cell::Lookup(t.to_string())),
            Err(_) => return Err(("invalid_id", format!("{} must be a Keel id (a UUID), not `{t}`", field.label))),
        },
        // A multi-select cell lists its options separated by `;` (or `,` when there is no `;`).
        FieldType::MultiSelect => {
            let sep = if t.contains(';') { ';' } else { ',' };
            Json::Array(t.split(sep).map(str::trim).filter(|s| !s.is_empty()).map(Json::from).collect())
        }
        _ => Json::from(t),
    };
    Ok(Cell::Value(value))
}

fn not_a(what: &str, field: &FieldDef) -> Rejection {
    ("wrong_type", format!("{} must be {what}", field.label))
}

fn parse_integer(t: &str, percent: bool) -> Option<i64> {
    let t = if percent { t.trim_end_matches('%').trim_end() } else { t };
    if let Ok(i) = t.parse::<i64>() {
        return Some(i);
    }
    // "75.0" from a spreadsheet is 75; "75.5" is not a whole number.
    let (whole, frac) = t.split_once('.')?;
    frac.bytes().all(|b| b == b'0').then(|| whole.parse().ok()).flatten()
}

fn parse_bool(t: &str) -> Option<bool> {
    match t.to_ascii_lowercase().as_str() {
        "true" | "yes" | "y" | "1" | "t" | "x" => Some(true),
        "false" | "no" | "n" | "0" | "f" => Some(false),
        _ => None,
    }
}

/// Decimal digits of a currency's minor unit (ISO 4217), 2 unless listed.
pub fn minor_unit_digits(currency: &str) -> u32 {
    match currency.trim().to_ascii_uppercase().as_str() {
        "JPY" | "KRW" | "VND" | "CLP" | "ISK" | "UGX" | "XAF" | "XOF" | "PYG" | "RWF" | "KMF" | "GNF" | "VUV"
        | "XPF" | "BIF" | "DJF" => 0,
        "BHD" | "KWD" | "OMR" | "JOD" | "TND" | "IQD" | "LYD" => 3,
        _ => 2,
    }
}

fn invalid_amount(t: &str, why: &str) -> Rejection {
    ("invalid_amount", format!("`{t}` is not an amount: {why}"))
}

/// Money text → minor units (see the module comment for the rule).
pub fn parse_money(t: &str, digits: u32) -> Result<i64, Rejection> {
    let mut s: String = t.trim().to_string();
    let mut negative = false;
    if s.starts_with('(') && s.ends_with(')') {
        negative = true;
        s = s[1..s.len() - 1].to_string();
    }
    // Currency codes and signs before or after the number, spaces and apostrophes between
    // digit groups ("1 234,50", "1'234.50").
    let s: String = s
        .trim_matches(|c: char| c.is_alphabetic() || c.is_whitespace())
        .chars()
        .filter(|c| !matches!(c, '$' | '€' | '£' | '¥' | '₹' | '\'' | '’') && !c.is_whitespace())
        .collect();
    let s = match s.strip_prefix('-') {
        Some(rest) => {
            negative = !negative;
            rest.to_string()
        }
        None => s,
    };
    if s.is_empty() || !s.chars().all(|c| c.is_ascii_digit() || c == '.' || c == ',') {
        return Err(invalid_amount(t, "use digits with an optional currency sign, e.g. 50000 or $50,000.00"));
    }
    let dots = s.matches('.').count();
    let commas = s.matches(',').count();
    let decimal_mark = match (dots, commas) {
        (0, 0) => None,
        (_, 0) | (0, _) => {
            let mark = if dots > 0 { '.' } else { ',' };
            let after = s.rsplit(mark).next().map_or(0, str::len);
            let before = s.split(mark).next().unwrap_or_default();
            if dots + commas > 1 || (after == 3 && !before.is_empty() && before != "0") { None } else { Some(mark) }
        }
        _ => s.chars().rev().find(|c| *c == '.' || *c == ','),
    };
    let (whole, frac) = match decimal_mark {
        Some(mark) => {
            let (w, f) = s.rsplit_once(mark).unwrap_or((&s, ""));
            if w.contains(mark) {
                return Err(invalid_amount(t, "two decimal marks"));
            }
            (w.to_string(), f.to_string())
        }
        None => (s.clone(), String::new()),
    };
    // Thousands groups: 1 to 3 digits, then groups of exactly 3 ("1,234,567").
    let groups: Vec<&str> = whole.split(['.', ',']).collect();
    if groups.len() > 1 && (groups[0].is_empty() || groups[0].len() > 3 || groups[1..].iter().any(|g| g.len() != 3)) {
        return Err(invalid_amount(t, "digit groups must be of three digits, as in 1,234,567.89"));
    }
    let whole = whole.replace(['.', ','], "");
    if whole.is_empty() && frac.is_empty() {
        return Err(invalid_amount(t, "no digits"));
    }
    let frac_trimmed = frac.trim_end_matches('0');
    if frac_trimmed.len() > digits as usize {
        return Err(invalid_amount(t, &format!("more than {digits} decimal places")));
    }
    let scale = 10_i64.pow(digits);
    let whole_units: i64 =
        if whole.is_empty() { 0 } else { whole.parse().map_err(|_| invalid_amount(t, "too large"))? };
    let mut frac_units: i64 = 0;
    for (i, d) in frac_trimmed.bytes().enumerate() {
        frac_units += i64::from(d - b'0') * 10_i64.pow(digits - 1 - i as u32);
    }
    let total = whole_units
        .checked_mul(scale)
        .and_then(|w| w.checked_add(frac_units))
        .ok_or_else(|| invalid_amount(t, "too large"))?;
    Ok(if negative { -total } else { total })
}

const MONTHS: [(&str, Month); 12] = [
    ("jan", Month::January),
    ("feb", Month::February),
    ("mar", Month::March),
    ("apr", Month::April),
    ("may", Month::May),
    ("jun", Month::June),
    ("jul", Month::July),
    ("aug", Month::August),
    ("sep", Month::September),
    ("oct", Month::October),
    ("nov", Month::November),
    ("dec", Month::December),
];

const MONTH_NAMES: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// "Dec", "dec.", "December", "Sept" → the month.
fn month_named(word: &str) -> Option<Month> {
    let w = word.trim_end_matches('.').to_ascii_lowercase();
    MONTHS
        .iter()
        .zip(MONTH_NAMES)
        .find(|((abbr, _), full)| w == *abbr || w == *full)
        .map(|((_, m), _)| *m)
        .or_else(|| (w == "sept").then_some(Month::September))
}

fn date(year: i32, month: u8, day: u8) -> Result<Date, String> {
    let month = Month::try_from(month).map_err(|_| format!("there is no month {month}"))?;
    if !(1..=9999).contains(&year) {
        return Err(format!("year {year} is out of range"));
    }
    Date::from_calendar_date(year, month, day).map_err(|_| format!("{month} {year} has no day {day}"))
}

fn year(s: &str) -> Result<i32, String> {
    if s.len() != 4 {
        return Err("write the year with four digits".into());
    }
    s.parse().map_err(|_| "the year is not a number".into())
}

fn num(s: &str) -> Option<u8> {
    (!s.is_empty() && s.len() <= 2).then(|| s.parse().ok()).flatten()
}

const DATE_FORMS: &str = "use YYYY-MM-DD (e.g. 2025-12-15)";

/// Date text → a date, or why not (see the module comment for the accepted forms).
pub fn parse_date(t: &str) -> Result<Date, String> {
    let t = t.trim();
    // A time after an ISO date ("2025-12-15 00:00:00", "2025-12-15T09:00:00Z") is dropped.
    let head = t.split(['T', ' ']).next().unwrap_or(t);
    let parts: Vec<&str> = head.split(['-', '/', '.']).collect();
    if parts.len() == 3 && parts[0].len() == 4 && parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit())) {
        let (m, d) = (num(parts[1]).ok_or(DATE_FORMS)?, num(parts[2]).ok_or(DATE_FORMS)?);
        return date(year(parts[0])?, m, d);
    }
    let parts: Vec<&str> = t.split(['-', '/', '.']).map(str::trim).collect();
    if parts.len() == 3 && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())) {
        let y = year(parts[2]).map_err(|m| format!("`{t}`: {m}, or {DATE_FORMS}"))?;
        let (a, b) = (num(parts[0]).ok_or(DATE_FORMS)?, num(parts[1]).ok_or(DATE_FORMS)?);
        if t.contains('.') {
            return date(y, b, a);
        }
        return match (a > 12, b > 12) {
            (true, true) => Err(format!("`{t}` is not a date")),
            (true, false) => date(y, b, a),
            (false, true) => date(y, a, b),
            (false, false) if a == b => date(y, a, b),
            (false, false) => {
                Err(format!("`{t}` could be month/day or day/month; {DATE_FORMS} so it cannot be misread"))
            }
        };
    }
    // Month names: "15 Dec 2025", "Dec 15, 2025", "15-Dec-2025", "December 15 2025".
    let words: Vec<&str> = t.split([' ', ',', '-', '/']).filter(|w| !w.is_empty()).collect();
    if words.len() == 3 {
        let y = year(words[2]);
        let named = match (month_named(words[0]), month_named(words[1])) {
            (Some(m), None) => num(words[1].trim_end_matches(['s', 't', 'n', 'd', 'r', 'h'])).map(|d| (m, d)),
            (None, Some(m)) => num(words[0].trim_end_matches(['s', 't', 'n', 'd', 'r', 'h'])).map(|d| (m, d)),
            _ => None,
        };
        if let (Ok(y), Some((m, d))) = (y, named) {
            return date(y, m as u8, d);
        }
    }
    Err(format!("`{t}` is not a date; {DATE_FORMS}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(y: i32, m: u8, d: u8) -> Date {
        date(y, m, d).expect("valid")
    }

    #[test]
    fn money_in_its_common_forms_becomes_minor_units() {
        assert_eq!(parse_money("50000", 2), Ok(5_000_000));
        assert_eq!(parse_money("$50,000.00", 2), Ok(5_000_000));
        assert_eq!(parse_money("50.000,00", 2), Ok(5_000_000));
        assert_eq!(parse_money("50 000,50 €", 2), Ok(5_000_050));
        assert_eq!(parse_money("1'234.5", 2), Ok(123_450));
        assert_eq!(parse_money("1,500", 2), Ok(150_000));
        assert_eq!(parse_money("1.500", 2), Ok(150_000));
        assert_eq!(parse_money("12,5", 2), Ok(1250));
        assert_eq!(parse_money("0.125", 3), Ok(125));
        assert_eq!(parse_money("USD 99.99", 2), Ok(9999));
        assert_eq!(parse_money("1,234,567.89", 2), Ok(123_456_789));
        assert_eq!(parse_money("-5", 2), Ok(-500));
        assert_eq!(parse_money("¥5000", 0), Ok(5000));
    }

    #[test]
    fn money_that_cannot_be_read_one_way_is_refused() {
        assert!(parse_money("12.345", 0).is_ok());
        assert_eq!(parse_money("10.999", 2).map_err(|e| e.0), Ok(1_099_900));
        assert_eq!(parse_money("10.5555,1", 2).map_err(|e| e.0), Err("invalid_amount"));
        assert_eq!(parse_money("ten", 2).map_err(|e| e.0), Err("invalid_amount"));
        assert_eq!(parse_money("0.125", 2).map_err(|e| e.0), Err("invalid_amount"));
        assert_eq!(parse_money("99999999999999999999", 2).map_err(|e| e.0), Err("invalid_amount"));
    }

    #[test]
    fn unambiguous_dates_are_read_and_ambiguous_ones_refused() {
        assert_eq!(parse_date("2025-12-15"), Ok(ymd(2025, 12, 15)));
        assert_eq!(parse_date("2025/12/15"), Ok(ymd(2025, 12, 15)));
        assert_eq!(parse_date("2025-12-15 00:00:00"), Ok(ymd(2025, 12, 15)));
        assert_eq!(parse_date("12/15/2025"), Ok(ymd(2025, 12, 15)));
        assert_eq!(parse_date("15/12/2025"), Ok(ymd(2025, 12, 15)));
        assert_eq!(parse_date("15.12.2025"), Ok(ymd(2025, 12, 15)));
        assert_eq!(parse_date("5.3.2025"), Ok(ymd(2025, 3, 5)));
        assert_eq!(parse_date("04/04/2025"), Ok(ymd(2025, 4, 4)));
        assert_eq!(parse_date("15 Dec 2025"), Ok(ymd(2025, 12, 15)));
        assert_eq!(parse_date("Dec 15, 2025"), Ok(ymd(2025, 12, 15)));
        assert_eq!(parse_date("December 15 2025"), Ok(ymd(2025, 12, 15)));
        assert_eq!(parse_date("15-Dec-2025"), Ok(ymd(2025, 12, 15)));
        assert!(parse_date("03/04/2025").is_err());
        assert!(parse_date("12/15/25").is_err());
        assert!(parse_date("2025-02-30").is_err());
        assert!(parse_date("soon").is_err());
        assert!(parse_date("Decimal 15 2025").is_err());
    }

    #[test]
    fn cells_become_values_or_lookups() {
        let schema = crate::schema::builtin_schema();
        let deals = schema.entity("deals").expect("deals");
        let f = |n: &str| deals.field(n).expect("field");
        assert_eq!(convert(f("amount"), "50000", None), Ok(Cell::Value(Json::from(5_000_000))));
        assert_eq!(convert(f("amount"), "5000", Some("JPY")), Ok(Cell::Value(Json::from(5000))));
        assert_eq!(convert(f("probability"), "75%", None), Ok(Cell::Value(Json::from(75))));
        assert_eq!(convert(f("company_id"), "Acme Corp", None), Ok(Cell::Lookup("Acme Corp".into())));
        assert_eq!(convert(f("title"), "  ", None), Ok(Cell::Value(Json::Null)));
        assert_eq!(convert(f("expected_close_date"), "Dec 15, 2025", None), Ok(Cell::Value(Json::from("2025-12-15"))));
        let contacts = schema.entity("contacts").expect("contacts");
        let primary = contacts.field("is_primary").expect("is_primary");
        assert_eq!(convert(primary, "Yes", None), Ok(Cell::Value(Json::Bool(true))));
        assert_eq!(convert(primary, "maybe", None).map_err(|e| e.0), Err("invalid_boolean"));
    }
}
