//! Templates: minijinja 2 with the guide's syntax — `{{ deal.title }}`,
//! `{{ deal.amount | currency }}`, `{{ deal.expected_close_date | date }}`,
//! `{{ deal.url }}`, `{{ deal.previous_stage }}`, `{{ user.name }}`.
//!
//! Undefined variables are refused when a workflow is saved (every variable a template
//! names is looked up in the context's shape for the trigger entity) and are an error,
//! never a blank, at run time (strict undefined). Empty values print as nothing. A fuel
//! limit stops a runaway loop.

use minijinja::value::Value;
use minijinja::{Environment, Error, ErrorKind, State, UndefinedBehavior};
use serde_json::Value as Json;

use crate::context::lookup;

/// Instructions one render may execute.
const FUEL: u64 = 200_000;

/// Global names templates may use without their being context variables.
const GLOBALS: &[&str] = &["range", "dict", "namespace", "debug", "loop", "self", "super", "varargs", "kwargs"];

/// How a template's output is escaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Text,
    /// HTML email bodies: values are HTML-escaped.
    Html,
}

fn name(flavor: Flavor) -> &'static str {
    match flavor {
        Flavor::Text => "template.txt",
        Flavor::Html => "template.html",
    }
}

pub fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_fuel(Some(FUEL));
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html") { minijinja::AutoEscape::Html } else { minijinja::AutoEscape::None }
    });
    env.set_formatter(|out, state, value| {
        if value.is_none() {
            return Ok(());
        }
        minijinja::escape_formatter(out, state, value)
    });
    env.add_filter("currency", currency);
    env.add_filter("date", date);
    env.add_filter("add_days", add_days);
    env
}

/// Minor units as money: `{{ deal.amount | currency }}` → `$50,000.00`, in the record's
/// currency (or the code given: `currency("EUR")`). Written by hand: the few currencies'
/// symbols and minor-unit exponents are a table, not worth a dependency.
fn currency(state: &State, value: Value, code: Option<String>) -> Result<String, Error> {
    if value.is_none() || value.is_undefined() {
        return Ok(String::new());
    }
    let minor = i64::try_from(value.clone())
        .map_err(|_| Error::new(ErrorKind::InvalidOperation, "currency expects an amount in minor units"))?;
    let code = code
        .or_else(|| {
            state
                .lookup("record")
                .and_then(|r| r.get_attr("currency").ok())
                .and_then(|c| c.as_str().map(str::to_string))
        })
        .unwrap_or_else(|| "USD".into())
        .to_uppercase();
    Ok(format_money(minor, &code))
}

pub fn format_money(minor: i64, code: &str) -> String {
    let exponent: u32 = match code {
        "JPY" | "KRW" | "VND" | "CLP" | "ISK" | "UGX" | "XAF" | "XOF" => 0,
        "BHD" | "KWD" | "OMR" | "JOD" | "TND" | "LYD" | "IQD" => 3,
        _ => 2,
    };
    let symbol = match code {
        "USD" => Some("$"),
        "EUR" => Some("€"),
        "GBP" => Some("£"),
        "JPY" => Some("¥"),
        "INR" => Some("₹"),
        _ => None,
    };
    let unit = 10i64.pow(exponent);
    let (sign, abs) = if minor < 0 { ("-", minor.unsigned_abs()) } else { ("", minor.unsigned_abs()) };
    let whole = abs / unit.unsigned_abs();
    let frac = abs % unit.unsigned_abs();
    let digits = whole.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let number = if exponent == 0 { grouped } else { format!("{grouped}.{frac:0width$}", width = exponent as usize) };
    match symbol {
        Some(s) => format!("{sign}{s}{number}"),
        None => format!("{sign}{code} {number}"),
    }
}

/// A date or timestamp as a date: `{{ deal.expected_close_date | date }}` → `December 15,
/// 2026`; `date("[year]-[month]")` takes a `time` format description.
fn date(value: Value, format: Option<String>) -> Result<String, Error> {
    if value.is_none() || value.is_undefined() {
        return Ok(String::new());
    }
    let text = value.as_str().ok_or_else(|| Error::new(ErrorKind::InvalidOperation, "date expects a date"))?;
    let day = keel_domain::value::parse_date(text)
        .or_else(|| keel_domain::value::parse_timestamp(text).map(|t| t.date()))
        .ok_or_else(|| Error::new(ErrorKind::InvalidOperation, format!("`{text}` is not a date")))?;
    let spec = format.unwrap_or_else(|| "[month repr:long] [day padding:none], [year]".into());
    let description = time::format_description::parse_borrowed::<2>(&spec)
        .map_err(|e| Error::new(ErrorKind::InvalidOperation, format!("bad date format: {e}")))?;
    day.format(&description).map_err(|e| Error::new(ErrorKind::InvalidOperation, format!("cannot format date: {e}")))
}

/// `{{ today | add_days(7) }}`: a date (`YYYY-MM-DD`) or timestamp (RFC 3339) moved by
/// whole days, in the same form; for schedule filters ("closing within 7 days").
fn add_days(value: Value, days: i64) -> Result<String, Error> {
    let text = value.as_str().ok_or_else(|| Error::new(ErrorKind::InvalidOperation, "add_days expects a date"))?;
    let by = time::Duration::days(days);
    if let Some(d) = keel_domain::value::parse_date(text) {
        let moved = d.checked_add(by).ok_or_else(|| Error::new(ErrorKind::InvalidOperation, "date out of range"))?;
        return Ok(keel_domain::value::format_date(moved));
    }
    let t = keel_domain::value::parse_timestamp(text)
        .ok_or_else(|| Error::new(ErrorKind::InvalidOperation, format!("`{text}` is not a date")))?;
    let moved = t.checked_add(by).ok_or_else(|| Error::new(ErrorKind::InvalidOperation, "time out of range"))?;
    moved
        .format(&time::format_description::well_known::Rfc3339)
        .map_err(|e| Error::new(ErrorKind::InvalidOperation, e.to_string()))
}

/// Render a template over a context (strict: an undefined variable is an error).
pub fn render(env: &Environment<'_>, flavor: Flavor, source: &str, ctx: &Json) -> Result<String, String> {
    env.render_named_str(name(flavor), source, ctx).map_err(describe)
}

fn describe(e: Error) -> String {
    let mut msg = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(inner) = source {
        msg.push_str(": ");
        msg.push_str(&inner.to_string());
        source = inner.source();
    }
    msg
}

/// Check a template when a workflow is saved: it parses, every variable it names exists
/// in `shape` (the context's shape for the trigger entity), and it renders over the
/// shape's sample values (which catches unknown filters).
pub fn check(env: &Environment<'_>, flavor: Flavor, source: &str, shape: &Json) -> Result<(), String> {
    let template = env.template_from_named_str(name(flavor), source).map_err(describe)?;
    let mut used: Vec<String> = template.undeclared_variables(true).into_iter().collect();
    used.sort();
    for path in used {
        let root = path.split('.').next().unwrap_or_default();
        if GLOBALS.contains(&root) {
            continue;
        }
        if lookup(shape, &path).is_none() {
            return Err(format!("`{path}` is not defined: a template may use {}", roots(shape, &path)));
        }
    }
    template.render(shape).map(|_| ()).map_err(describe)
}

/// What exists where a missing name's path stops, for the error message.
fn roots(shape: &Json, path: &str) -> String {
    let mut parent = path.rsplit_once('.').map(|(p, _)| p);
    while let Some(p) = parent
        && lookup(shape, p).is_none()
    {
        parent = p.rsplit_once('.').map(|(p, _)| p);
    }
    let here = match parent {
        Some(p) => lookup(shape, p),
        None => Some(shape),
    };
    match here.and_then(Json::as_object) {
        Some(obj) => {
            let mut keys: Vec<String> =
                obj.keys().map(|k| parent.map_or_else(|| k.clone(), |p| format!("{p}.{k}"))).collect();
            keys.sort();
            keys.truncate(40);
            keys.join(", ")
        }
        None => format!("no attributes of `{}`", parent.unwrap_or_default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn money_is_formatted_by_currency() {
        assert_eq!(format_money(5_000_000, "USD"), "$50,000.00");
        assert_eq!(format_money(123, "EUR"), "€1.23");
        assert_eq!(format_money(1_000, "JPY"), "¥1,000");
        assert_eq!(format_money(-5, "CHF"), "-CHF 0.05");
        assert_eq!(format_money(1_234_567_891, "KWD"), "KWD 1,234,567.891");
    }

    #[test]
    fn renders_the_guides_syntax_strictly() {
        let env = environment();
        let ctx = json!({
            "deal": { "title": "Big", "amount": 5_000_000, "expected_close_date": "2026-12-15", "contact": { "name": null } },
            "record": { "currency": "USD" }
        });
        let out = render(
            &env,
            Flavor::Text,
            "{{ deal.title }} {{ deal.amount | currency }} {{ deal.expected_close_date | date }}[{{ deal.contact.name }}]",
            &ctx,
        );
        assert_eq!(out.as_deref(), Ok("Big $50,000.00 December 15, 2026[]"));
        assert!(render(&env, Flavor::Text, "{{ deal.nope }}", &ctx).is_err());
        let html = render(&env, Flavor::Html, "<b>{{ deal.title }}</b>", &json!({"deal": {"title": "<i>"}}));
        assert_eq!(html.as_deref(), Ok("<b>&lt;i&gt;</b>"));
    }

    #[test]
    fn check_names_the_undefined_variable() {
        let env = environment();
        let shape = json!({ "deal": { "title": "t", "company": { "name": "n" } }, "user": { "name": "u" } });
        assert!(check(&env, Flavor::Text, "{{ deal.company.name }} by {{ user.name }}", &shape).is_ok());
        let err = check(&env, Flavor::Text, "{% if false %}{{ deal.nope }}{% endif %}", &shape).expect_err("undefined");
        assert!(err.contains("deal.nope"), "{err}");
        assert!(check(&env, Flavor::Text, "{{ deal.title | nosuchfilter }}", &shape).is_err());
        assert!(check(&env, Flavor::Text, "{% for i in range(3) %}{{ i }}{% endfor %}", &shape).is_ok());
    }
}
