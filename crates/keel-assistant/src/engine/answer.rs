//! Turning tool results into answers: short markdown-ish text plus the records cited.
//! Every figure and name here comes from a tool result; nothing is invented.

use crate::citation::{Citation, push_unique};
use crate::entry::{CompanyMatch, ContactDraft};
use crate::parse::amount::format_money;
use crate::parse::vocab::{LOST, OPEN_STAGES, WON};
use crate::tools::{
    CompanyHits, ContactHits, DateField, DealFilters, DealHits, DealRow, DealSummary, DealTotals, Found, Measure,
    RecordHits, Semantic, WriteOutcome,
};

use super::Reply;
use super::intent::Decline;

pub const EXAMPLES: &[&str] = &[
    "Show me all deals with tech companies over $50K",
    "Who is the contact at Acme Corp?",
    "What deals are closing this month?",
    "Show me my deals closing this week",
    "How much did we win last quarter?",
    "Which deals are in negotiation?",
    "Summarize the Acme Corp deal",
    "Create a new contact at TechStart Inc",
    "Add John Smith, VP of Sales at Acme Corp, john@acme.com",
    "Log a call with Sarah Johnson",
    "Move the Acme Corp deal to Negotiation",
];

fn examples() -> String {
    EXAMPLES.iter().map(|e| format!("- “{e}”")).collect::<Vec<_>>().join("\n")
}

pub fn help() -> Reply {
    Reply {
        text: format!(
            "I can look up companies, contacts and deals you have access to, total up deals, and prepare new contacts, deals, activities and deal updates for you to confirm. Try:\n\n{}",
            examples()
        ),
        ..Reply::default()
    }
}

pub fn decline(why: &Decline) -> Reply {
    let lead = match why {
        Decline::Unknown => {
            "I can't answer that yet. I only know what's in your CRM, and I understand a limited set of questions."
        }
        Decline::Delete => {
            "I can't delete records. Use the Delete action on the record's page (it goes to the trash, where it can be restored)."
        }
        Decline::Send => {
            "I can't send messages. I can draft an email for a contact (Compose email on the contact's page) for you to edit and send yourself."
        }
        Decline::Forecast => {
            "I can't make forecasts or predictions; I only report what your records say. I can total up deals by stage or close date instead."
        }
    };
    Reply { text: format!("{lead}\n\nHere are things I can do:\n\n{}", examples()), ..Reply::default() }
}

fn plural(n: i64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn stage_words(stages: &[String]) -> Option<String> {
    if stages.is_empty() {
        return None;
    }
    if stages.len() == OPEN_STAGES.len() && OPEN_STAGES.iter().all(|s| stages.iter().any(|x| x == s)) {
        return Some("open".into());
    }
    if stages.len() == 1 && stages[0] == WON {
        return Some("won".into());
    }
    if stages.len() == 1 && stages[0] == LOST {
        return Some("lost".into());
    }
    Some(format!("in {}", stages.join(" or ")))
}

/// "your open deals with Technology companies over $50,000 closing this month".
pub fn describe(f: &DealFilters, period: Option<&str>) -> String {
    let mut out = String::new();
    match f.owner.as_deref() {
        Some("me") => out.push_str("your "),
        Some(name) => out.push_str(&format!("{name}'s ")),
        None => {}
    }
    let stage = stage_words(&f.stages);
    let prefix_stage = matches!(stage.as_deref(), Some("open" | "won" | "lost"));
    if prefix_stage && let Some(s) = &stage {
        out.push_str(s);
        out.push(' ');
    }
    out.push_str("deals");
    if !prefix_stage && let Some(s) = &stage {
        out.push_str(&format!(" {s}"));
    }
    if let Some(c) = &f.company {
        out.push_str(&format!(" with {c}"));
    }
    if let Some(i) = &f.industry {
        out.push_str(&format!(" with {i} companies"));
    }
    if let Some(a) = &f.amount {
        for (word, v) in [("over", a.gt), ("of at least", a.gte), ("under", a.lt), ("of at most", a.lte)] {
            if let Some(v) = v {
                out.push_str(&format!(" {word} {}", format_money(v, "USD")));
            }
        }
    }
    if let Some(q) = &f.query {
        out.push_str(&format!(" named “{q}”"));
    }
    if let Some(p) = period {
        let verb = match (f.date_field, p) {
            (_, "overdue") => "",
            (DateField::ActualCloseDate, _) => "closed ",
            (DateField::ExpectedCloseDate, _) => "closing ",
        };
        out.push_str(&format!(" {verb}{p}"));
    }
    out
}

fn money(d: &DealRow) -> String {
    match (d.amount, d.amount_hidden) {
        (_, true) => "amount hidden".into(),
        (Some(a), false) => format_money(a, &d.currency),
        (None, false) => "no amount".into(),
    }
}

fn deal_line(i: usize, d: &DealRow) -> String {
    let date = match (&d.actual_close_date, &d.expected_close_date) {
        (Some(a), _) if !d.is_open() => format!(" · closed {a}"),
        (_, Some(e)) => format!(" · closes {e}"),
        _ => String::new(),
    };
    format!("{}. **{}** — {} · {}{date}", i + 1, d.label(), money(d), d.stage)
}

fn notes(text: &mut String, notes: &[String]) {
    for n in notes {
        text.push_str(&format!("\n\n_{n}_"));
    }
}

pub fn deals(hits: &DealHits, filters: &DealFilters, period: Option<&str>) -> Reply {
    let what = describe(filters, period);
    let mut text = if hits.total == 0 {
        format!("I found no {what}.")
    } else {
        let mut t = format!("I found {} ({what}):\n\n", plural(hits.total, "deal", "deals"));
        t.push_str(&hits.deals.iter().enumerate().map(|(i, d)| deal_line(i, d)).collect::<Vec<_>>().join("\n"));
        if hits.total > hits.deals.len() as i64 {
            t.push_str(&format!("\n\nShowing {} of {}.", hits.deals.len(), hits.total));
        }
        t
    };
    notes(&mut text, &hits.notes);
    Reply { text, citations: hits.deals.iter().map(DealRow::citation).collect(), ..Reply::default() }
}

pub fn totals(t: &DealTotals, filters: &DealFilters, measure: Measure, period: Option<&str>) -> Reply {
    let what = describe(filters, period);
    let mut text = match measure {
        Measure::Count => format!(
            "There {} {}.",
            if t.count == 1 { "is" } else { "are" },
            plural(t.count, &what.replace("deals", "deal"), &what)
        ),
        Measure::Sum => format!(
            "{}: {} across {}.",
            capitalise(&what),
            format_money(t.amount, "USD"),
            plural(t.count, "deal", "deals")
        ),
    };
    notes(&mut text, &t.notes);
    Reply { text, ..Reply::default() }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

pub fn contacts(hits: &ContactHits, company: Option<&str>, query: Option<&str>) -> Reply {
    let mut citations = Vec::new();
    if let Some(companies) = &hits.companies {
        for c in companies {
            push_unique(&mut citations, c.citation());
        }
    }
    let text = match (hits.total, company, query) {
        (0, Some(c), _) if hits.companies.as_ref().is_none_or(Vec::is_empty) => {
            format!("I couldn't find a company matching “{c}” that you can see.")
        }
        (0, Some(c), _) => format!("I found no contacts at {c}."),
        (0, None, Some(q)) => format!("I found no contacts matching “{q}”."),
        (0, None, None) => "I found no contacts.".into(),
        (n, _, _) => {
            let head = match (company, n) {
                (Some(_), 1) => {
                    let c = &hits.contacts[0];
                    format!("Your contact at {} is **{}**", c.company.as_deref().unwrap_or("that company"), c.name)
                }
                (Some(c), _) => format!("I found {} at {c}:", plural(n, "contact", "contacts")),
                (None, _) => format!("I found {}:", plural(n, "contact", "contacts")),
            };
            if company.is_some() && n == 1 {
                let c = &hits.contacts[0];
                let mut t = head;
                if let Some(title) = &c.title {
                    t.push_str(&format!(", {title}"));
                }
                t.push('.');
                for (label, v) in [("Email", &c.email), ("Phone", &c.phone)] {
                    if let Some(v) = v {
                        t.push_str(&format!("\n{label}: {v}"));
                    }
                }
                t
            } else {
                let lines: Vec<String> = hits
                    .contacts
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        let mut l = format!("{}. **{}**", i + 1, c.name);
                        let extra: Vec<String> = [c.title.clone(), c.company.clone(), c.email.clone(), c.phone.clone()]
                            .into_iter()
                            .flatten()
                            .collect();
                        if !extra.is_empty() {
                            l.push_str(&format!(" — {}", extra.join(" · ")));
                        }
                        if c.is_primary {
                            l.push_str(" (primary)");
                        }
                        l
                    })
                    .collect();
                let mut t = format!("{head}\n\n{}", lines.join("\n"));
                if n > hits.contacts.len() as i64 {
                    t.push_str(&format!("\n\nShowing {} of {n}.", hits.contacts.len()));
                }
                t
            }
        }
    };
    for c in &hits.contacts {
        push_unique(&mut citations, c.citation());
    }
    Reply { text, citations, ..Reply::default() }
}

pub fn companies(hits: &CompanyHits) -> Reply {
    let text = if hits.total == 0 {
        "I found no companies matching that.".to_string()
    } else {
        let lines: Vec<String> = hits
            .companies
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let extra: Vec<String> =
                    [c.industry.clone(), c.size.clone().map(|s| format!("{s} employees")), c.city.clone()]
                        .into_iter()
                        .flatten()
                        .collect();
                match extra.is_empty() {
                    true => format!("{}. **{}**", i + 1, c.name),
                    false => format!("{}. **{}** — {}", i + 1, c.name, extra.join(" · ")),
                }
            })
            .collect();
        let mut t = format!("I found {}:\n\n{}", plural(hits.total, "company", "companies"), lines.join("\n"));
        if hits.total > hits.companies.len() as i64 {
            t.push_str(&format!("\n\nShowing {} of {}.", hits.companies.len(), hits.total));
        }
        t
    };
    Reply { text, citations: hits.companies.iter().map(|c| c.citation()).collect(), ..Reply::default() }
}

fn kind_of(entity: &str) -> &'static str {
    match entity {
        "companies" => "company",
        "contacts" => "contact",
        "deals" => "deal",
        _ => "activity",
    }
}

/// Records found by `search_records` (full text and, when configured, by meaning).
pub fn records(hits: &RecordHits) -> Reply {
    let mut text = if hits.hits.is_empty() {
        format!("I found no records about “{}”.", hits.query)
    } else {
        let lines: Vec<String> = hits
            .hits
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let how = match h.found {
                    Found::Text => "matches the words",
                    Found::Meaning => "similar in meaning",
                    Found::Both => "matches the words and the meaning",
                };
                format!("{}. **{}** ({}) — {how}", i + 1, h.title, kind_of(h.entity))
            })
            .collect();
        format!(
            "I found {} related to “{}”:\n\n{}",
            plural(hits.hits.len() as i64, "record", "records"),
            hits.query,
            lines.join("\n")
        )
    };
    if let Semantic::Failed(reason) = &hits.semantic {
        text.push_str(&format!(
            "\n\n(Search by meaning is unavailable right now: {reason}; these are full-text matches only.)"
        ));
    }
    Reply { text, citations: hits.hits.iter().map(|h| h.citation()).collect(), ..Reply::default() }
}

pub fn summary(s: &DealSummary) -> Reply {
    let d = &s.deal;
    let mut t = format!("**{}**\n\n- Stage: {}", d.label(), d.stage);
    if let Some(p) = s.probability {
        t.push_str(&format!(" ({p}%)"));
    }
    t.push_str(&format!("\n- Amount: {}", money(d)));
    match (&d.actual_close_date, &d.expected_close_date) {
        (Some(a), _) if !d.is_open() => t.push_str(&format!("\n- Closed: {a}")),
        (_, Some(e)) => t.push_str(&format!("\n- Expected close: {e}")),
        _ => t.push_str("\n- Expected close: not set"),
    }
    if let Some(c) = &d.company {
        t.push_str(&format!("\n- Company: {c}"));
    }
    if let Some((_, name)) = &s.contact {
        t.push_str(&format!("\n- Contact: {name}"));
    }
    if let Some(o) = &s.owner {
        t.push_str(&format!("\n- Owner: {o}"));
    }
    if let Some(p) = &s.priority {
        t.push_str(&format!("\n- Priority: {p}"));
    }
    for (label, value) in &s.custom {
        t.push_str(&format!("\n- {label}: {value}"));
    }
    if s.activities.is_empty() {
        t.push_str("\n\nNo activities yet.");
    } else {
        t.push_str("\n\nLatest activities:");
        for a in &s.activities {
            let done = if a.completed { "" } else { " (open)" };
            let when = a.when.as_deref().map(|w| format!(" · {w}")).unwrap_or_default();
            t.push_str(&format!("\n- {}: {}{when}{done}", a.kind, a.subject));
        }
    }
    if let Some(n) = &s.notes {
        t.push_str(&format!("\n\nNotes: {n}"));
    }
    let mut citations = vec![d.citation()];
    if let Some(id) = d.company_id
        && let Some(c) = &d.company
    {
        citations.push(Citation::new("companies", id, c));
    }
    if let Some((id, name)) = &s.contact {
        citations.push(Citation::new("contacts", *id, name));
    }
    Reply { text: t, citations, ..Reply::default() }
}

/// Which deal did the user mean? (several matched, or none)
pub fn which_deal(name: &str, candidates: &[DealRow]) -> Reply {
    if candidates.is_empty() {
        return Reply {
            text: format!("I couldn't find a deal matching “{name}” that you can see."),
            ..Reply::default()
        };
    }
    let lines: Vec<String> = candidates.iter().enumerate().map(|(i, d)| deal_line(i, d)).collect();
    Reply {
        text: format!("Several deals match “{name}”; which one do you mean?\n\n{}", lines.join("\n")),
        citations: candidates.iter().map(DealRow::citation).collect(),
        ..Reply::default()
    }
}

pub fn write(outcome: WriteOutcome) -> Reply {
    match outcome {
        WriteOutcome::Proposed(p) => {
            let steps: Vec<String> = p.steps.iter().map(|s| format!("- {}", s.label)).collect();
            Reply {
                text: format!(
                    "Here's what I'll do once you confirm:\n\n{}\n\nNothing has been saved yet. Confirm to save it, or cancel.",
                    steps.join("\n")
                ),
                proposals: vec![*p],
                ..Reply::default()
            }
        }
        WriteOutcome::NeedsInput { message, candidates } => {
            let mut text = message;
            if !candidates.is_empty() {
                let lines: Vec<String> = candidates.iter().map(|c| format!("- {}", c.title)).collect();
                text.push_str(&format!("\n\n{}", lines.join("\n")));
            }
            Reply { text, citations: candidates, ..Reply::default() }
        }
    }
}

pub fn contact_draft(d: ContactDraft) -> Reply {
    let mut citations = Vec::new();
    let mut lines = Vec::new();
    for (label, v) in [
        ("First name", &d.parsed.first_name),
        ("Last name", &d.parsed.last_name),
        ("Title", &d.parsed.title),
        ("Email", &d.parsed.email),
        ("Phone", &d.parsed.phone),
    ] {
        if let Some(v) = v {
            lines.push(format!("- {label}: {v}"));
        }
    }
    match &d.company {
        CompanyMatch::Existing { id, name } => {
            lines.push(format!("- Company: {name} (linked)"));
            citations.push(Citation::new("companies", *id, name));
        }
        CompanyMatch::New { name } => lines.push(format!("- Company: {name} (new: I'll create it too)")),
        CompanyMatch::Ambiguous { name, candidates } => {
            lines.push(format!("- Company: “{name}” matches several companies"));
            citations.extend(candidates.iter().cloned());
        }
        CompanyMatch::None => {}
    }
    let details = if lines.is_empty() { String::new() } else { format!("\n\n{}", lines.join("\n")) };
    let text = if let Some(dup) = &d.duplicate {
        citations.push(dup.clone());
        format!("A contact with this email already exists: **{}**. I haven't prepared a new one.{details}", dup.title)
    } else if !d.missing.is_empty() {
        let at = match &d.company {
            CompanyMatch::Existing { name, .. } | CompanyMatch::New { name } => format!(" at {name}"),
            _ => String::new(),
        };
        format!(
            "I can add a contact{at}. Who is it? Tell me their name (and title, email, phone if you have them), e.g. “Add Jane Doe, CTO{at}, jane@example.com”.{details}"
        )
    } else if let CompanyMatch::Ambiguous { .. } = &d.company {
        format!("Which company do you mean? Say the full company name.{details}")
    } else {
        format!(
            "Does this look correct?{details}\n\nNothing has been saved yet. Confirm to create the contact, or cancel."
        )
    };
    Reply { text, citations, proposals: d.proposal.into_iter().collect(), ..Reply::default() }
}
