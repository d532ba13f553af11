//! The built-in engine's parser: an everyday request → which tool to call with which
//! arguments. Pure and deterministic (today's date is an input), so every phrasing it
//! understands is a unit test, and anything it does not understand is declined rather
//! than guessed.

use time::{Date, Duration};

use crate::entry::{ParsedContact, parse_contact_text};
use crate::parse::amount::{find_amount, find_range};
use crate::parse::period::{Period, find_due_date, find_period};
use crate::parse::text::{
    Word, capitalised_before, find_phrase, has_any, padded, phrase_after, phrase_from, quoted, words,
};
use crate::parse::vocab::{
    LOST, OPEN_STAGES, WON, find_activity_type, find_industry, find_sizes, find_stages, is_industry_phrase, stage_named,
};
use crate::tools::{
    ActivityInput, DateField, DealFilters, DealInput, DealUpdate, Measure, SearchCompanies, SearchContacts,
};

/// Why a request is declined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decline {
    /// Not something the built-in engine understands.
    Unknown,
    /// Deleting is not an assistant action.
    Delete,
    /// The assistant drafts emails but does not send them.
    Send,
    /// No forecasts or predictions: only what the records say.
    Forecast,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intent {
    Help,
    Decline(Decline),
    SearchDeals {
        filters: DealFilters,
        period: Option<String>,
    },
    DealTotals {
        filters: DealFilters,
        measure: Measure,
        period: Option<String>,
    },
    SearchCompanies(SearchCompanies),
    SearchContacts(SearchContacts),
    DealSummary {
        deal: String,
    },
    CreateContact(ParsedContact),
    /// None: no company was named.
    CreateDeal(Option<DealInput>),
    LogActivity(ActivityInput),
    UpdateDeal(DealUpdate),
}

const DEAL_WORDS: &[&str] = &["deal", "deals", "opportunity", "opportunities", "pipeline"];
const COMPANY_WORDS: &[&str] = &[
    "company",
    "companies",
    "account",
    "accounts",
    "customers",
    "clients",
    "firms",
    "businesses",
    "organisations",
    "organizations",
];
const CONTACT_WORDS: &[&str] = &["contact", "contacts", "people", "person", "someone"];
/// Leading words a request may start with that change nothing.
const POLITE: &[&str] = &[
    "please",
    "can you",
    "could you",
    "would you",
    "hey",
    "hi",
    "ok",
    "okay",
    "assistant",
    "kindly",
    "i want to",
    "i'd like to",
    "i need to",
];
/// Requests starting with these are outside what the engine does.
const UNSUPPORTED_VERBS: &[&str] = &[
    "write",
    "compose",
    "translate",
    "book",
    "play",
    "sing",
    "draw",
    "generate",
    "imagine",
    "pretend",
    "buy",
    "order",
    "tell",
];
/// A phrase that names no company even after "with" or "for".
const GENERIC: &[&str] = &[
    "me",
    "us",
    "you",
    "them",
    "it",
    "my team",
    "our team",
    "team",
    "amount",
    "amounts",
    "value",
    "values",
    "stage",
    "everyone",
    "anyone",
    "all",
    "companies",
    "company",
    "customers",
    "clients",
    "a close date",
    "close date",
];

fn strip_polite(text: &str) -> &str {
    let mut t = text.trim();
    loop {
        let before = t;
        for p in POLITE {
            if t.len() > p.len() && t[..p.len()].eq_ignore_ascii_case(p) && t[p.len()..].starts_with([' ', ',', '!']) {
                t = t[p.len()..].trim_start_matches([' ', ',', '!']);
            }
        }
        if t == before {
            return t;
        }
    }
}

fn generic(phrase: &str) -> bool {
    let lower = phrase.to_lowercase();
    GENERIC.contains(&lower.as_str()) || is_industry_phrase(phrase) || !find_stages(&padded(phrase)).is_empty()
}

fn index_of_any(ws: &[Word], set: &[&str]) -> Option<usize> {
    ws.iter().position(|w| set.contains(&w.norm.as_str()))
}

/// A company named in a deal question: "with Acme Corp", "for TechStart", "Globex deals".
fn deal_company(ws: &[Word]) -> Option<String> {
    let after = phrase_after(ws, &["with", "at", "for", "from"]).filter(|p| !generic(p));
    after.or_else(|| index_of_any(ws, DEAL_WORDS).and_then(|i| capitalised_before(ws, i)).filter(|p| !generic(p)))
}

fn owner(ws: &[Word], p: &str) -> Option<String> {
    if has_any(p, &["my", "mine", "i own", "owned by me", "assigned to me", "for me"]) {
        return Some("me".into());
    }
    for phrase in ["owned by", "assigned to", "belonging to"] {
        if let Some(i) = find_phrase(ws, phrase) {
            return phrase_from(ws, i + phrase.split(' ').count());
        }
    }
    None
}

fn iso(d: Date) -> String {
    keel_domain::value::format_date(d)
}

/// The filters of a question about deals, and the period it named.
fn deal_filters(ws: &[Word], p: &str, today: Date, for_totals: bool) -> (DealFilters, Option<String>) {
    let mut f =
        DealFilters { stages: find_stages(p).iter().map(|s| s.to_string()).collect(), ..DealFilters::default() };
    let closing = has_any(p, &["closing", "close", "closes", "due to close", "expected to close"]);
    if for_totals && f.stages.is_empty() && has_any(p, &["revenue", "sold", "sell", "bring in", "brought in", "closed"])
    {
        f.stages = vec![WON.into()];
    }
    if f.stages.is_empty() && closing {
        // A deal that is already won or lost is not "closing".
        f.stages = OPEN_STAGES.iter().map(|s| s.to_string()).collect();
    }
    f.owner = owner(ws, p);
    f.amount = find_range(ws);
    f.industry = find_industry(p).map(str::to_string);
    f.company = deal_company(ws);
    f.query = quoted(&ws.iter().map(|w| w.raw.as_str()).collect::<Vec<_>>().join(" "))
        .or_else(|| phrase_after(ws, &["named", "called", "titled"]));
    let closed_only = !f.stages.is_empty() && f.stages.iter().all(|s| s == WON || s == LOST);
    f.date_field = if closed_only { DateField::ActualCloseDate } else { DateField::ExpectedCloseDate };
    let mut label = None;
    if has_any(p, &["overdue", "past due", "slipped", "late"]) {
        f.stages = OPEN_STAGES.iter().map(|s| s.to_string()).collect();
        f.date_field = DateField::ExpectedCloseDate;
        f.close_to = Some(iso(today - Duration::days(1)));
        label = Some("overdue".to_string());
    } else if let Some(Period { from, to, label: l }) =
        find_period(&ws.iter().map(|w| w.raw.as_str()).collect::<Vec<_>>().join(" "), today)
    {
        f.close_from = Some(iso(from));
        f.close_to = Some(iso(to));
        label = Some(l);
    }
    (f, label)
}

/// A deal named in a request: "the Acme Corp deal", "deal with Globex", "Move Acme to …".
fn deal_ref(ws: &[Word]) -> Option<String> {
    let strip = |s: String| {
        let t = s
            .trim()
            .trim_end_matches(" deals")
            .trim_end_matches(" deal")
            .trim_end_matches(" opportunity")
            .trim_start_matches("deal ")
            .trim()
            .to_string();
        (!t.is_empty() && !GENERIC.contains(&t.to_lowercase().as_str())).then_some(t)
    };
    if let Some(i) = index_of_any(ws, &["deal", "opportunity"]) {
        if let Some(c) = capitalised_before(ws, i).and_then(strip) {
            return Some(c);
        }
        // "the deal with Acme", "deal Acme Expansion"
        if let Some(c) = phrase_after(&ws[i..], &["with", "for", "at"]).and_then(strip) {
            return Some(c);
        }
    }
    if let Some(q) = quoted(&ws.iter().map(|w| w.raw.as_str()).collect::<Vec<_>>().join(" ")) {
        return Some(q);
    }
    phrase_after(ws, &["about", "of", "on", "for", "with"])
        .and_then(strip)
        .or_else(|| phrase_from(ws, 1).and_then(strip))
}

/// Text after the first `:` or after "about"/"regarding", for activity subjects.
fn topic(text: &str, ws: &[Word]) -> Option<String> {
    if let Some((_, rest)) = text.split_once(':') {
        let t = rest.trim();
        if !t.is_empty() {
            return Some(t.to_string());
        }
    }
    for marker in ["about", "regarding", "re"] {
        if let Some(i) = ws.iter().position(|w| w.norm == marker) {
            let rest: Vec<&str> = ws[i + 1..].iter().map(|w| w.raw.as_str()).collect();
            if !rest.is_empty() {
                return Some(rest.join(" "));
            }
        }
    }
    None
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

fn log_activity(text: &str, ws: &[Word], p: &str, today: Date) -> Intent {
    let remind = has_any(p, &["remind me", "reminder", "schedule", "follow up with", "follow-up with", "todo", "task"]);
    let kind = if remind { "Task" } else { find_activity_type(p).unwrap_or("Note") };
    let mut with = phrase_after(ws, &["with", "to", "for", "on"]).filter(|w| !generic(w));
    // "Remind me to call Sarah Johnson tomorrow": the person follows the verb.
    if remind
        && with.as_deref().is_none_or(|w| {
            w.split_whitespace()
                .next()
                .is_some_and(|f| matches!(f.to_lowercase().as_str(), "call" | "email" | "meet" | "ping" | "follow"))
        })
    {
        with = phrase_after(ws, &["call", "email", "meet", "ping", "contact"]).filter(|w| !generic(w)).or(with);
        if let Some(w) = &with
            && let Some(rest) = w.strip_prefix("up with ")
        {
            with = Some(rest.to_string());
        }
    }
    let due = if remind { find_due_date(text, today).map(iso) } else { None };
    let mut subject = topic(text, ws).map(|t| capitalise(t.trim_end_matches(['.', '?', '!'])));
    if remind && subject.is_none() {
        let verb = ["call", "email", "meet", "ping"].into_iter().find(|v| has_any(p, &[v]));
        if let (Some(v), Some(w)) = (verb, &with) {
            subject = Some(format!("{} {w}", capitalise(v)));
        }
    }
    Intent::LogActivity(ActivityInput { kind: kind.into(), with, subject, description: None, due_date: due })
}

fn update_deal(text: &str, ws: &[Word], p: &str, today: Date) -> Intent {
    let Some(deal) = deal_ref(ws) else { return Intent::Decline(Decline::Unknown) };
    // Read the changes from after the deal's name, so a stage word in a title does not count.
    let from = index_of_any(ws, &["deal", "opportunity"]).map_or(1, |i| i + 1);
    let tail: Vec<Word> = ws[from.min(ws.len())..].to_vec();
    let tail_text = tail.iter().map(|w| w.raw.as_str()).collect::<Vec<_>>().join(" ");
    let tail_p = padded(&tail_text);
    let mut u = DealUpdate { deal, ..DealUpdate::default() };
    if has_any(&tail_p, &["to", "as", "into", "stage"]) || ws[0].norm == "close" {
        u.stage = stage_named(&tail_p).map(str::to_string);
    }
    if has_any(p, &["amount", "value", "worth"]) || tail.iter().any(|w| w.norm.starts_with('$')) {
        u.amount = find_amount(&tail);
    }
    if has_any(p, &["close date", "closing date", "expected close", "push", "close on", "closes on", "closing on"]) {
        u.expected_close_date = find_due_date(&tail_text, today).map(iso);
    }
    for level in ["low", "medium", "high"] {
        if has_any(p, &[&format!("{level} priority"), &format!("priority {level}"), &format!("priority to {level}")]) {
            u.priority = Some(capitalise(level));
        }
    }
    let _ = text;
    Intent::UpdateDeal(u)
}

fn create_deal(ws: &[Word], p: &str, today: Date) -> Intent {
    let company = phrase_after(ws, &["for", "with", "at"]).filter(|c| !generic(c));
    let Some(company) = company else { return Intent::CreateDeal(None) };
    let raw: String = ws.iter().map(|w| w.raw.as_str()).collect::<Vec<_>>().join(" ");
    let title = quoted(&raw).or_else(|| phrase_after(ws, &["called", "named", "titled"]));
    let stage = if has_any(p, &["in", "stage", "at"]) { stage_named(p).map(str::to_string) } else { None };
    let close = if has_any(p, &["closing", "close", "closes"]) { find_due_date(&raw, today).map(iso) } else { None };
    Intent::CreateDeal(Some(DealInput { title, company, amount: find_amount(ws), stage, expected_close_date: close }))
}

/// A person's name in a contact question: "Sarah Johnson" in "What is Sarah Johnson's email?".
fn person(ws: &[Word]) -> Option<String> {
    if let Some(q) = phrase_after(ws, &["named", "called"]) {
        return Some(q);
    }
    const SKIP: &[&str] = &[
        "what",
        "what's",
        "whats",
        "who",
        "who's",
        "find",
        "show",
        "search",
        "look",
        "get",
        "give",
        "where",
        "is",
        "the",
        "me",
        "i",
        "contact",
        "contacts",
        "email",
        "phone",
        "number",
        "for",
        "of",
        "up",
        "a",
        "an",
        "address",
        "details",
        "info",
        "information",
        "do",
        "we",
        "have",
        "our",
    ];
    let start = ws
        .iter()
        .position(|w| w.raw.chars().next().is_some_and(char::is_uppercase) && !SKIP.contains(&w.norm.as_str()))?;
    let mut parts = Vec::new();
    for w in &ws[start..] {
        if !w.raw.chars().next().is_some_and(char::is_uppercase) {
            break;
        }
        parts.push(w.raw.trim_end_matches("'s").trim_end_matches("’s").to_string());
        if w.ends_clause || w.raw.ends_with("'s") {
            break;
        }
    }
    (!parts.is_empty()).then(|| parts.join(" "))
}

fn is_help(p: &str, n_words: usize) -> bool {
    has_any(p, &["help", "what can you do", "what can i ask", "what do you know", "examples", "how do i use this"])
        && n_words <= 8
}

/// Words that mark a message as refining the previous question ("only the ones over
/// $50K", "what about next month?", "and mine?").
const FOLLOW_UP: &[&str] = &[
    "only",
    "just",
    "what about",
    "how about",
    "and",
    "those",
    "these",
    "the ones",
    "of them",
    "same",
    "instead",
    "also",
    "then",
];

/// The earlier deal question a follow-up refines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Earlier {
    Search(DealFilters),
    Totals(DealFilters, Measure),
}

/// A follow-up to an earlier deal question: the earlier filters with what `text` changes
/// (amount, period, stages, owner, industry, company). None when `text` does not read as
/// a follow-up or changes nothing the parser knows.
pub fn follow_up(text: &str, today: Date, earlier: &Earlier) -> Option<Intent> {
    let text = strip_polite(text);
    let ws = words(text);
    let p = padded(text);
    let first = ws.first()?.norm.clone();
    let marked =
        FOLLOW_UP.iter().any(|m| p.starts_with(&format!(" {m} "))) || has_any(&p, &["the ones", "of those", "of them"]);
    if ws.len() > 12 || !(marked || first == "over" || first == "under" || first == "above" || first == "below") {
        return None;
    }
    let (f, label) = deal_filters(&ws, &p, today, matches!(earlier, Earlier::Totals(..)));
    let (mut base, measure) = match earlier {
        Earlier::Search(f) => (f.clone(), None),
        Earlier::Totals(f, m) => (f.clone(), Some(*m)),
    };
    let mut changed = false;
    if f.amount.is_some() {
        base.amount = f.amount;
        changed = true;
    }
    if f.close_from.is_some() || f.close_to.is_some() {
        base.close_from = f.close_from;
        base.close_to = f.close_to;
        changed = true;
    }
    if !find_stages(&p).is_empty() {
        base.stages = f.stages;
        base.date_field = f.date_field;
        changed = true;
    }
    for (new, old) in [(f.owner, &mut base.owner), (f.industry, &mut base.industry), (f.company, &mut base.company)] {
        if new.is_some() {
            *old = new;
            changed = true;
        }
    }
    if !changed {
        return None;
    }
    Some(match measure {
        None => Intent::SearchDeals { filters: base, period: label },
        Some(measure) => Intent::DealTotals { filters: base, measure, period: label },
    })
}

/// Map a request to an intent. `today` is the service clock's date.
pub fn parse(text: &str, today: Date) -> Intent {
    let text = strip_polite(text);
    let ws = words(text);
    let p = padded(text);
    let Some(first) = ws.first().map(|w| w.norm.clone()) else { return Intent::Help };
    if is_help(&p, ws.len()) {
        return Intent::Help;
    }
    if has_any(&p, &["delete", "remove", "erase", "purge", "destroy", "wipe"]) {
        return Intent::Decline(Decline::Delete);
    }
    if (first == "send" || has_any(&p, &["send an email", "send a message", "send email", "email them", "text them"]))
        && !matches!(first.as_str(), "log" | "record")
    {
        return Intent::Decline(Decline::Send);
    }
    if has_any(
        &p,
        &[
            "forecast",
            "predict",
            "prediction",
            "projection",
            "project",
            "will we",
            "likely to",
            "chance of",
            "going to win",
        ],
    ) {
        return Intent::Decline(Decline::Forecast);
    }
    if first == "tell" && !has_any(&p, &["tell me about"])
        || (first != "tell" && UNSUPPORTED_VERBS.contains(&first.as_str()))
    {
        return Intent::Decline(Decline::Unknown);
    }

    // Writes: they only ever become proposals.
    match first.as_str() {
        "log" | "record" | "remind" | "schedule" => return log_activity(text, &ws, &p, today),
        "add" | "create" | "new" | "make" | "enter" | "register" | "save" => {
            let second_words: Vec<&str> = ws.iter().skip(1).take(3).map(|w| w.norm.as_str()).collect();
            if has_any(&p, &["deal", "opportunity"]) {
                return create_deal(&ws, &p, today);
            }
            if second_words.iter().any(|w| matches!(*w, "call" | "meeting" | "note" | "task" | "reminder" | "email")) {
                return log_activity(text, &ws, &p, today);
            }
            if second_words.iter().any(|w| matches!(*w, "company" | "account")) {
                return Intent::Decline(Decline::Unknown);
            }
            return Intent::CreateContact(parse_contact_text(text));
        }
        "move" | "mark" | "update" | "change" | "set" | "advance" | "push" | "bump" | "close" | "edit" => {
            return update_deal(text, &ws, &p, today);
        }
        _ => {}
    }

    // Reads.
    let stages = find_stages(&p);
    let about_deals = has_any(&p, DEAL_WORDS) || has_any(&p, &["closing", "revenue"]) || !stages.is_empty();
    let totals = has_any(&p, &["how much", "how many", "total", "sum", "worth", "value of", "number of", "revenue"]);
    if totals && (about_deals || has_any(&p, &["win", "won", "lose", "lost", "sold", "sell", "closed"])) {
        let measure = if has_any(&p, &["how many", "number of", "count"]) { Measure::Count } else { Measure::Sum };
        let (filters, period) = deal_filters(&ws, &p, today, true);
        return Intent::DealTotals { filters, measure, period };
    }
    let contact_question = has_any(&p, CONTACT_WORDS) || has_any(&p, &["who", "who's", "whom", "works at", "work at"]);
    if contact_question
        && let Some(company) =
            phrase_after(&ws, &["at", "from", "for", "in"]).filter(|c| !generic(c) && !has_any(&padded(c), DEAL_WORDS))
    {
        return Intent::SearchContacts(SearchContacts { query: None, company: Some(company) });
    }
    let summary = has_any(
        &p,
        &[
            "summary",
            "summarize",
            "summarise",
            "tell me about",
            "status of",
            "details on",
            "details of",
            "details for",
            "overview of",
            "happening with",
            "update on",
            "what's up with",
            "where are we with",
            "where do we stand",
        ],
    );
    if summary {
        if has_any(&p, &["deal", "opportunity"]) {
            if let Some(deal) = deal_ref(&ws) {
                return Intent::DealSummary { deal };
            }
        } else if let Some(name) = phrase_after(&ws, &["about", "of", "on", "with"]).filter(|n| !generic(n)) {
            return Intent::SearchCompanies(SearchCompanies { query: Some(name), ..SearchCompanies::default() });
        }
    }
    if about_deals {
        let (filters, period) = deal_filters(&ws, &p, today, false);
        return Intent::SearchDeals { filters, period };
    }
    if has_any(&p, COMPANY_WORDS) || (find_industry(&p).is_some() && has_any(&p, &["show", "list", "which", "find"])) {
        let query = phrase_after(&ws, &["named", "called"])
            .or_else(|| phrase_after(&ws, &["company", "account"]))
            .filter(|q| !generic(q));
        return Intent::SearchCompanies(SearchCompanies {
            query,
            industry: find_industry(&p).map(str::to_string),
            size: find_sizes(&p).iter().map(|s| s.to_string()).collect(),
        });
    }
    // "Who is Sarah Johnson?": a name right after "who is", so "who is the president…" is not a lookup.
    if first == "who" || first == "who's" {
        let start = if first == "who's" { 1 } else { 2 };
        let is = first == "who's" || ws.get(1).is_some_and(|w| w.norm == "is");
        return match (is, ws.get(start)) {
            (true, Some(w)) if w.raw.chars().next().is_some_and(char::is_uppercase) => {
                Intent::SearchContacts(SearchContacts { query: person(&ws[start..]), company: None })
            }
            _ => Intent::Decline(Decline::Unknown),
        };
    }
    let asks_person = has_any(&p, CONTACT_WORDS)
        || has_any(&p, &["email", "phone", "mobile", "number", "reach", "find", "look up", "lookup", "search for"]);
    if asks_person
        && let Some(name) = person(&ws).or_else(|| phrase_after(&ws, &["find", "for", "up"]).filter(|n| !generic(n)))
    {
        return Intent::SearchContacts(SearchContacts { query: Some(name), company: None });
    }
    Intent::Decline(Decline::Unknown)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> Date {
        keel_domain::value::parse_date("2026-11-25").expect("date") // a Wednesday
    }

    fn deals(text: &str) -> DealFilters {
        match parse(text, today()) {
            Intent::SearchDeals { filters, .. } => filters,
            other => panic!("{text:?} → {other:?}"),
        }
    }

    #[test]
    fn the_guides_deal_questions() {
        let f = deals("Show me all deals with tech companies over $50K");
        assert_eq!(f.industry.as_deref(), Some("Technology"));
        assert_eq!(f.amount.and_then(|a| a.gt), Some(5_000_000));
        assert_eq!(f.company, None);
        assert!(f.stages.is_empty());

        let f = deals("What deals are closing this month?");
        assert_eq!((f.close_from.as_deref(), f.close_to.as_deref()), (Some("2026-11-01"), Some("2026-11-30")));
        assert_eq!(f.stages, OPEN_STAGES);

        let f = deals("Show me my deals closing this week");
        assert_eq!(f.owner.as_deref(), Some("me"));
        assert_eq!((f.close_from.as_deref(), f.close_to.as_deref()), (Some("2026-11-23"), Some("2026-11-29")));

        let f = deals("Which deals are in negotiation?");
        assert_eq!(f.stages, vec!["Negotiation"]);
        assert_eq!(f.close_from, None);

        let f = deals("deals for Acme Corp");
        assert_eq!(f.company.as_deref(), Some("Acme Corp"));
        let f = deals("Show Globex deals");
        assert_eq!(f.company.as_deref(), Some("Globex"));
        let f = deals("which deals are overdue");
        assert_eq!(f.close_to.as_deref(), Some("2026-11-24"));
        let f = deals("deals owned by Sam Rivera");
        assert_eq!(f.owner.as_deref(), Some("Sam Rivera"));
    }

    #[test]
    fn totals() {
        match parse("How much did we win last quarter?", today()) {
            Intent::DealTotals { filters, measure, .. } => {
                assert_eq!(filters.stages, vec![WON]);
                assert_eq!(filters.date_field, DateField::ActualCloseDate);
                assert_eq!(
                    (filters.close_from.as_deref(), filters.close_to.as_deref()),
                    (Some("2026-07-01"), Some("2026-09-30"))
                );
                assert_eq!(measure, Measure::Sum);
            }
            other => panic!("{other:?}"),
        }
        match parse("How many deals are in proposal?", today()) {
            Intent::DealTotals { filters, measure, .. } => {
                assert_eq!(filters.stages, vec!["Proposal"]);
                assert_eq!(measure, Measure::Count);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn contacts_and_companies() {
        assert_eq!(
            parse("Who is the contact at Acme Corp?", today()),
            Intent::SearchContacts(SearchContacts { query: None, company: Some("Acme Corp".into()) })
        );
        assert_eq!(
            parse("What is Sarah Johnson's email?", today()),
            Intent::SearchContacts(SearchContacts { query: Some("Sarah Johnson".into()), company: None })
        );
        match parse("List healthcare companies", today()) {
            Intent::SearchCompanies(s) => assert_eq!(s.industry.as_deref(), Some("Healthcare")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn writes_become_write_intents() {
        match parse("Log a call with Sarah Johnson", today()) {
            Intent::LogActivity(a) => {
                assert_eq!(a.kind, "Call");
                assert_eq!(a.with.as_deref(), Some("Sarah Johnson"));
            }
            other => panic!("{other:?}"),
        }
        match parse("Remind me to call Sarah Johnson tomorrow", today()) {
            Intent::LogActivity(a) => {
                assert_eq!(a.kind, "Task");
                assert_eq!(a.with.as_deref(), Some("Sarah Johnson"));
                assert_eq!(a.due_date.as_deref(), Some("2026-11-26"));
                assert_eq!(a.subject.as_deref(), Some("Call Sarah Johnson"));
            }
            other => panic!("{other:?}"),
        }
        match parse("Create a new contact at TechStart Inc", today()) {
            Intent::CreateContact(c) => assert_eq!(c.company.as_deref(), Some("TechStart Inc")),
            other => panic!("{other:?}"),
        }
        match parse("Move the Acme Corp deal to Negotiation", today()) {
            Intent::UpdateDeal(u) => {
                assert_eq!(u.deal, "Acme Corp");
                assert_eq!(u.stage.as_deref(), Some("Negotiation"));
            }
            other => panic!("{other:?}"),
        }
        match parse("Create a deal for Acme Corp worth $20K", today()) {
            Intent::CreateDeal(Some(d)) => {
                assert_eq!(d.company, "Acme Corp");
                assert_eq!(d.amount, Some(2_000_000));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn follow_ups_refine_the_earlier_question() {
        let earlier = match parse("Which deals are closing this month?", today()) {
            Intent::SearchDeals { filters, .. } => Earlier::Search(filters),
            other => panic!("{other:?}"),
        };
        match follow_up("only the ones over $50K", today(), &earlier) {
            Some(Intent::SearchDeals { filters, .. }) => {
                assert_eq!(filters.amount.map(|a| a.gt), Some(Some(5_000_000)));
                assert_eq!(filters.close_from.as_deref(), Some("2026-11-01"));
            }
            other => panic!("{other:?}"),
        }
        match follow_up("what about next month?", today(), &earlier) {
            Some(Intent::SearchDeals { filters, period }) => {
                assert_eq!(filters.close_from.as_deref(), Some("2026-12-01"));
                assert_eq!(filters.close_to.as_deref(), Some("2026-12-31"));
                assert_eq!(filters.stages.len(), OPEN_STAGES.len());
                assert!(period.is_some());
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(follow_up("Who is the contact at Acme Corp?", today(), &earlier), None);
        assert_eq!(follow_up("only the nice ones", today(), &earlier), None);
    }

    #[test]
    fn declines() {
        for q in [
            "What's the weather like today?",
            "Write me a poem about sales",
            "Who is the president of France?",
            "Tell me a joke",
            "What is the meaning of life?",
        ] {
            assert_eq!(parse(q, today()), Intent::Decline(Decline::Unknown), "{q}");
        }
        assert_eq!(parse("Delete all deals in prospecting", today()), Intent::Decline(Decline::Delete));
        assert_eq!(parse("Send an email to Sarah Johnson", today()), Intent::Decline(Decline::Send));
        assert_eq!(parse("Predict next quarter's revenue", today()), Intent::Decline(Decline::Forecast));
        assert_eq!(parse("help", today()), Intent::Help);
    }
}
