//! Everyday words for the CRM's select values: deal stages, industries, company sizes,
//! activity types. The canonical values are the schema's (`keel_domain::schema`).

use super::text::has_any;

pub const OPEN_STAGES: &[&str] = &["Prospecting", "Qualification", "Proposal", "Negotiation"];
pub const WON: &str = "Closed Won";
pub const LOST: &str = "Closed Lost";

/// Stage words, checked on a `padded` request. Order matters: "closed won" before "won".
const STAGE_WORDS: &[(&[&str], &str)] = &[
    (&["closed won", "won", "win", "wins", "winning", "closed-won"], WON),
    (&["closed lost", "lost", "lose", "losses", "closed-lost"], LOST),
    (&["prospecting", "prospect", "prospects", "new leads", "lead stage"], "Prospecting"),
    (&["qualification", "qualified", "qualifying"], "Qualification"),
    (&["proposal", "proposals", "proposal stage", "quote stage", "quoted"], "Proposal"),
    (&["negotiation", "negotiations", "negotiating", "in negotiation"], "Negotiation"),
];

/// The stages a request names: explicit stages, "open" (every open stage) or "closed"
/// (won and lost). Empty when none is named.
pub fn find_stages(padded: &str) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for (words, stage) in STAGE_WORDS {
        if has_any(padded, words) && !out.contains(stage) {
            out.push(stage);
        }
    }
    if out.is_empty() {
        if has_any(padded, &["open", "active", "in progress", "pipeline"]) {
            out.extend_from_slice(OPEN_STAGES);
        } else if has_any(padded, &["closed"]) {
            out.extend_from_slice(&[WON, LOST]);
        }
    }
    out
}

/// The one stage a write names ("move … to negotiation", "mark … as won").
pub fn stage_named(padded: &str) -> Option<&'static str> {
    let found = find_stages(padded);
    (found.len() == 1).then(|| found[0])
}

const INDUSTRY_WORDS: &[(&[&str], &str)] = &[
    (&["tech", "technology", "software", "saas", "it", "hi-tech", "high-tech", "startup", "startups"], "Technology"),
    (
        &["healthcare", "health", "medical", "pharma", "pharmaceutical", "hospital", "hospitals", "biotech"],
        "Healthcare",
    ),
    (&["finance", "financial", "fintech", "bank", "banks", "banking", "insurance", "insurers"], "Finance"),
    (&["retail", "retailer", "retailers", "ecommerce", "e-commerce", "shops", "stores"], "Retail"),
    (&["manufacturing", "manufacturer", "manufacturers", "industrial", "factory", "factories"], "Manufacturing"),
];

/// The industry a request names, by synonym ("tech" → Technology).
pub fn find_industry(padded: &str) -> Option<&'static str> {
    INDUSTRY_WORDS.iter().find(|(words, _)| has_any(padded, words)).map(|(_, industry)| *industry)
}

/// Whether `phrase` is only an industry word and "company" ("tech companies").
pub fn is_industry_phrase(phrase: &str) -> bool {
    let p = super::text::padded(phrase);
    find_industry(&p).is_some()
        && p.split_whitespace().all(|w| {
            INDUSTRY_WORDS.iter().any(|(ws, _)| ws.contains(&w))
                || matches!(
                    w,
                    "company"
                        | "companies"
                        | "firms"
                        | "firm"
                        | "accounts"
                        | "customers"
                        | "clients"
                        | "sector"
                        | "industry"
                )
        })
}

/// Company sizes by the schema's values or everyday words.
pub fn find_sizes(padded: &str) -> Vec<&'static str> {
    for size in keel_domain::schema::COMPANY_SIZES {
        if padded.contains(&format!(" {size} ")) {
            return vec![size];
        }
    }
    if has_any(padded, &["enterprise", "enterprises", "large", "big"]) {
        return vec!["201-1000", "1000+"];
    }
    if has_any(padded, &["small", "tiny", "smb"]) {
        return vec!["1-10", "11-50"];
    }
    if has_any(padded, &["mid-size", "midsize", "medium", "mid-market"]) {
        return vec!["51-200"];
    }
    Vec::new()
}

/// Activity types by everyday words ("phone call" → Call).
pub fn find_activity_type(padded: &str) -> Option<&'static str> {
    const TYPES: &[(&[&str], &str)] = &[
        (&["call", "phone call", "called", "rang", "phoned"], "Call"),
        (&["meeting", "met", "meet", "demo", "lunch"], "Meeting"),
        (&["email", "e-mail", "emailed", "mail"], "Email"),
        (&["task", "todo", "to-do", "reminder", "remind"], "Task"),
        (&["note", "notes"], "Note"),
    ];
    TYPES.iter().find(|(ws, _)| has_any(padded, ws)).map(|(_, t)| *t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::text::padded;

    #[test]
    fn stages_by_name_and_synonym() {
        assert_eq!(find_stages(&padded("Which deals are in negotiation?")), vec!["Negotiation"]);
        assert_eq!(find_stages(&padded("deals we are negotiating")), vec!["Negotiation"]);
        assert_eq!(find_stages(&padded("How much did we win last quarter?")), vec![WON]);
        assert_eq!(find_stages(&padded("show closed won deals")), vec![WON]);
        assert_eq!(find_stages(&padded("lost deals")), vec![LOST]);
        assert_eq!(find_stages(&padded("deals in proposal or qualification")), vec!["Qualification", "Proposal"]);
        assert_eq!(find_stages(&padded("my open deals")), OPEN_STAGES.to_vec());
        assert_eq!(find_stages(&padded("closed deals")), vec![WON, LOST]);
        assert!(find_stages(&padded("What deals are closing this month?")).is_empty());
        assert_eq!(stage_named(&padded("move it to qualified")), Some("Qualification"));
    }

    #[test]
    fn industries_and_sizes_by_synonym() {
        assert_eq!(find_industry(&padded("deals with tech companies over $50K")), Some("Technology"));
        assert_eq!(find_industry(&padded("banks in our pipeline")), Some("Finance"));
        assert_eq!(find_industry(&padded("medical accounts")), Some("Healthcare"));
        assert_eq!(find_industry(&padded("Acme Corp")), None);
        assert!(is_industry_phrase("tech companies"));
        assert!(!is_industry_phrase("Acme Corp"));
        assert_eq!(find_sizes(&padded("companies with 51-200 employees")), vec!["51-200"]);
        assert_eq!(find_sizes(&padded("large companies")), vec!["201-1000", "1000+"]);
        assert_eq!(find_activity_type(&padded("Log a call with Sarah")), Some("Call"));
        assert_eq!(find_activity_type(&padded("log a meeting")), Some("Meeting"));
    }
}
