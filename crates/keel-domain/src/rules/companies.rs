use std::collections::BTreeSet;

use crate::error::FieldErrors;
use crate::value::{Record, Value};

pub fn apply(_before: Option<&Record>, after: &mut Record, explicit: &BTreeSet<String>, errors: &mut FieldErrors) {
    if explicit.contains("domain")
        && let Some(domain) = after.text("domain")
    {
        match normalize_domain(domain) {
            Some(d) => after.set("domain", Value::Text(d)),
            None => errors.push(
                "domain",
                "invalid_domain",
                "Domain must be a host name like acme.com: lowercase letters, digits, dots and hyphens, no spaces",
            ),
        }
    }
}

/// `https://www.Acme.com/about` → `acme.com`? No: we keep `www.` (some companies live on
/// a subdomain) but drop the scheme and path that people paste from the browser.
fn normalize_domain(raw: &str) -> Option<String> {
    if raw.chars().any(char::is_whitespace) {
        return None;
    }
    let without_scheme = raw.split_once("://").map_or(raw, |(_, rest)| rest);
    let host = without_scheme.split(['/', '?', '#']).next()?.trim_end_matches('.').to_lowercase();
    let labels: Vec<&str> = host.split('.').collect();
    let valid = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        && host.len() <= 253;
    valid.then_some(host)
}

#[cfg(test)]
mod tests {
    use super::normalize_domain;

    #[test]
    fn domains_are_lowercased_and_stripped_of_scheme_and_path() {
        assert_eq!(normalize_domain("Acme.COM").as_deref(), Some("acme.com"));
        assert_eq!(normalize_domain("https://www.acme.com/about").as_deref(), Some("www.acme.com"));
    }

    #[test]
    fn domains_with_spaces_or_no_dot_are_rejected() {
        assert_eq!(normalize_domain("acme .com"), None);
        assert_eq!(normalize_domain("localhost"), None);
        assert_eq!(normalize_domain("acme_corp.com"), None);
    }
}
