//! Duplicate suggestions: how alike two contacts or two companies are (a score 0–100 and
//! the reasons). Candidates come from blocking keys in SQL (the store); this module only
//! scores a pair, so the work per pair is constant and nothing here is O(n²).
//!
//! String similarity is Jaro–Winkler from the `strsim` crate; the normalisation of
//! company names (legal-form suffixes, punctuation, case) is ours, as no crate does it.

use serde::Serialize;

use crate::value::Record;

/// Pairs scoring below this are not suggested.
pub const MIN_SCORE: u8 = 60;

/// Entities that duplicate detection and merging cover.
pub fn supported(entity: &str) -> bool {
    matches!(entity, "contacts" | "companies")
}

/// Legal-form words dropped from company names before comparing them.
pub const LEGAL_FORMS: [&str; 13] =
    ["inc", "incorporated", "llc", "ltd", "limited", "gmbh", "corp", "corporation", "co", "company", "plc", "ag", "sa"];

/// One reason two records look alike.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reason {
    /// `same_email`, `same_phone`, `similar_name_same_company`, `same_domain`,
    /// `same_normalized_name` or `similar_name`.
    pub rule: &'static str,
    /// The fields compared.
    pub fields: Vec<&'static str>,
    /// Jaro–Winkler similarity (0–1) for name rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub similarity: Option<f64>,
    /// The score this reason alone gives.
    pub score: u8,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    pub score: u8,
    pub reasons: Vec<Reason>,
}

/// A company name reduced for comparison: lower case, letters and digits only, legal
/// forms dropped ("Acme, Inc." and "ACME LLC" are both `acme`).
pub fn normalize_company_name(name: &str) -> String {
    let lowered: String = name.to_lowercase().chars().filter(|c| !matches!(c, '.' | '\'' | '’')).collect();
    lowered
        .split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty() && !LEGAL_FORMS.contains(t))
        .collect::<Vec<_>>()
        .concat()
}

/// A domain reduced for comparison: lower case, without a leading `www.`.
pub fn normalize_domain(domain: &str) -> String {
    let d = domain.trim().to_lowercase();
    d.strip_prefix("www.").map(str::to_string).unwrap_or(d)
}

fn person_part(s: Option<&str>) -> Option<String> {
    let t: String = s?.to_lowercase().chars().filter(|c| c.is_alphanumeric() || c.is_whitespace()).collect();
    let t = t.split_whitespace().collect::<Vec<_>>().join(" ");
    (!t.is_empty()).then_some(t)
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn pct(x: f64) -> u8 {
    (x * 100.0).round().clamp(0.0, 100.0) as u8
}

/// The strongest reason's score, plus 5 for each further reason (at most 100).
fn combine(reasons: Vec<Reason>) -> Option<Verdict> {
    let best = reasons.iter().map(|r| r.score).max()?;
    let extra = u8::try_from((reasons.len() - 1) * 5).unwrap_or(100);
    let score = best.saturating_add(extra).min(100);
    (score >= MIN_SCORE).then_some(Verdict { score, reasons })
}

/// How alike two records of `entity` are; `None` when not enough to suggest them.
pub fn compare(entity: &str, a: &Record, b: &Record) -> Option<Verdict> {
    match entity {
        "contacts" => compare_contacts(a, b),
        "companies" => compare_companies(a, b),
        _ => None,
    }
}

fn compare_contacts(a: &Record, b: &Record) -> Option<Verdict> {
    let mut reasons = Vec::new();
    if let (Some(x), Some(y)) = (a.text("email"), b.text("email"))
        && x.eq_ignore_ascii_case(y)
    {
        reasons.push(Reason { rule: "same_email", fields: vec!["email"], similarity: None, score: 100 });
    }
    let phones = |r: &Record| -> Vec<String> {
        ["phone", "mobile"].iter().filter_map(|f| r.text(f)).filter(|p| !p.is_empty()).map(str::to_string).collect()
    };
    let (pa, pb) = (phones(a), phones(b));
    if pa.iter().any(|p| pb.contains(p)) {
        reasons.push(Reason { rule: "same_phone", fields: vec!["phone", "mobile"], similarity: None, score: 70 });
    }
    let same_company = a.get("company_id").as_uuid().is_some() && a.get("company_id") == b.get("company_id");
    if same_company && let Some(sim) = name_similarity(a, b) {
        reasons.push(Reason {
            rule: "similar_name_same_company",
            fields: vec!["first_name", "last_name", "company_id"],
            similarity: Some(round2(sim)),
            score: pct(sim * 0.95),
        });
    }
    combine(reasons)
}

/// Similarity of two people's names when they are close enough to matter: first and last
/// names compared apart (so "John" and "Jane Smith" do not pass on the shared surname),
/// or the full names when one side lacks a part.
fn name_similarity(a: &Record, b: &Record) -> Option<f64> {
    let parts = |r: &Record| (person_part(r.text("first_name")), person_part(r.text("last_name")));
    let ((fa, la), (fb, lb)) = (parts(a), parts(b));
    match (fa, la, fb, lb) {
        (Some(fa), Some(la), Some(fb), Some(lb)) => {
            let last = strsim::jaro_winkler(&la, &lb);
            let initial = fa.chars().count() == 1 || fb.chars().count() == 1;
            let first =
                if initial && fa.chars().next() == fb.chars().next() { 0.9 } else { strsim::jaro_winkler(&fa, &fb) };
            (last >= 0.92 && first >= 0.85).then_some(0.6 * last + 0.4 * first)
        }
        (fa, la, fb, lb) => {
            let full =
                |f: Option<String>, l: Option<String>| [f, l].into_iter().flatten().collect::<Vec<_>>().join(" ");
            let (x, y) = (full(fa, la), full(fb, lb));
            if x.is_empty() || y.is_empty() {
                return None;
            }
            let sim = strsim::jaro_winkler(&x, &y);
            (sim >= 0.95).then_some(sim)
        }
    }
}

fn compare_companies(a: &Record, b: &Record) -> Option<Verdict> {
    let mut reasons = Vec::new();
    if let (Some(x), Some(y)) = (a.text("domain"), b.text("domain"))
        && !x.trim().is_empty()
        && normalize_domain(x) == normalize_domain(y)
    {
        reasons.push(Reason { rule: "same_domain", fields: vec!["domain"], similarity: None, score: 90 });
    }
    if let (Some(x), Some(y)) = (a.text("name"), b.text("name")) {
        let (nx, ny) = (normalize_company_name(x), normalize_company_name(y));
        if !nx.is_empty() && nx == ny {
            reasons.push(Reason {
                rule: "same_normalized_name",
                fields: vec!["name"],
                similarity: Some(1.0),
                score: 95,
            });
        } else if !nx.is_empty() && !ny.is_empty() {
            let sim = strsim::jaro_winkler(&nx, &ny);
            if sim >= 0.9 {
                reasons.push(Reason {
                    rule: "similar_name",
                    fields: vec!["name"],
                    similarity: Some(round2(sim)),
                    score: pct(sim * 0.9),
                });
            }
        }
    }
    combine(reasons)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;
    use uuid::Uuid;

    fn rec(pairs: &[(&str, Value)]) -> Record {
        let mut r = Record::new();
        for (k, v) in pairs {
            r.set(*k, v.clone());
        }
        r
    }

    fn t(s: &str) -> Value {
        Value::Text(s.into())
    }

    #[test]
    fn company_names_lose_legal_forms_punctuation_and_case() {
        assert_eq!(normalize_company_name("Acme, Inc."), "acme");
        assert_eq!(normalize_company_name("ACME LLC"), "acme");
        assert_eq!(normalize_company_name("Müller GmbH"), "müller");
        assert_eq!(normalize_company_name("Globex Corp"), normalize_company_name("globex corporation"));
        assert_eq!(normalize_domain("WWW.Acme.com"), "acme.com");
    }

    #[test]
    fn companies_with_the_same_normalised_name_are_suggested_and_different_ones_not() {
        let a = rec(&[("name", t("Acme, Inc."))]);
        let b = rec(&[("name", t("ACME LLC"))]);
        let v = compare("companies", &a, &b).expect("a pair");
        assert_eq!(v.score, 95);
        assert_eq!(v.reasons[0].rule, "same_normalized_name");
        let c = rec(&[("name", t("Initech"))]);
        assert!(compare("companies", &a, &c).is_none());
    }

    #[test]
    fn contacts_with_close_names_at_the_same_company_are_suggested() {
        let company = Value::Uuid(Uuid::now_v7());
        let a = rec(&[("first_name", t("John")), ("last_name", t("Smith")), ("company_id", company.clone())]);
        let b = rec(&[("first_name", t("Jon")), ("last_name", t("Smith")), ("company_id", company.clone())]);
        let v = compare("contacts", &a, &b).expect("a pair");
        assert!(v.score >= 85, "{v:?}");
        let c = rec(&[("first_name", t("Jane")), ("last_name", t("Smith")), ("company_id", company)]);
        assert!(compare("contacts", &a, &c).is_none(), "John and Jane are different people");
        let elsewhere = rec(&[("first_name", t("Jon")), ("last_name", t("Smith"))]);
        assert!(compare("contacts", &a, &elsewhere).is_none(), "no company, no name match");
    }

    #[test]
    fn a_shared_phone_adds_to_a_name_match() {
        let company = Value::Uuid(Uuid::now_v7());
        let a = rec(&[
            ("first_name", t("John")),
            ("last_name", t("Smith")),
            ("company_id", company.clone()),
            ("phone", t("+14155550100")),
        ]);
        let b = rec(&[
            ("first_name", t("John")),
            ("last_name", t("Smith")),
            ("company_id", company),
            ("mobile", t("+14155550100")),
        ]);
        let v = compare("contacts", &a, &b).expect("a pair");
        assert_eq!(v.reasons.len(), 2);
        assert_eq!(v.score, 100);
    }
}
