//! Email drafts: with a model configured, the model writes the draft from what the user
//! may see of the contact — their company, open deals and recent activities — and answers
//! a JSON object `{subject, body}`; without one (or when it times out, rate-limits, fails
//! or answers something unreadable) a template per purpose is filled from the same
//! history, and the draft says why (`fallback_reason`). The user edits the draft before
//! sending or copying it; nothing is sent.

use serde::Serialize;
use serde_json::{Map, Value as Json};
use uuid::Uuid;

use crate::citation::{Citation, push_unique};
use crate::engine::{ModelEngine, ModelError};
use crate::error::AssistantError;
use crate::parse::amount::format_money;
use crate::tools::{Tools, pair, str_of, uuid_of};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    FollowUpAfterDemo,
    Proposal,
    CheckIn,
    ThankYou,
    Custom,
}

impl Purpose {
    pub const ALL: &'static [&'static str] = &["follow_up_after_demo", "proposal", "check_in", "thank_you", "custom"];

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "follow_up_after_demo" | "follow_up" => Purpose::FollowUpAfterDemo,
            "proposal" => Purpose::Proposal,
            "check_in" => Purpose::CheckIn,
            "thank_you" => Purpose::ThankYou,
            "custom" => Purpose::Custom,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone)]
pub struct DraftRequest {
    pub contact_id: Uuid,
    pub purpose: Purpose,
    /// What the user wants said (required for `custom`).
    pub notes: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Draft {
    pub subject: String,
    pub body: String,
    pub purpose: Purpose,
    pub to: Option<String>,
    /// The records the draft drew on.
    pub used: Vec<Citation>,
    /// `model` (written by the configured model) or `template`.
    pub engine: &'static str,
    /// Why the configured model's draft was replaced by the template's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback_reason: Option<String>,
}

/// What the templates know about the contact.
#[derive(Debug, Clone, Default)]
pub struct History {
    pub first_name: String,
    pub company: Option<String>,
    /// Open deals: title and amount (None when hidden).
    pub deals: Vec<(String, Option<i64>, String)>,
    /// Recent activities: type, subject, date.
    pub activities: Vec<(String, String, String)>,
    pub sender: String,
}

fn sentence(notes: &Option<String>) -> String {
    match notes.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        Some(n) if n.ends_with(['.', '!', '?']) => format!("{n}\n\n"),
        Some(n) => format!("{n}.\n\n"),
        None => String::new(),
    }
}

/// Fill the template for `purpose`. Pure, so each purpose's wording is tested directly.
pub fn render(purpose: Purpose, h: &History, notes: &Option<String>) -> (String, String) {
    let company = h.company.as_deref();
    let deal = h.deals.first();
    let deal_name = deal.map(|d| d.0.as_str());
    let last = h.activities.first();
    let greeting = format!("Hi {},\n\n", h.first_name);
    let sign = format!("Best,\n{}", h.sender);
    let notes_text = sentence(notes);
    let (subject, middle) = match purpose {
        Purpose::FollowUpAfterDemo => {
            let subject = match company {
                Some(c) => format!("Following up on our demo with {c}"),
                None => "Following up on our demo".into(),
            };
            let mut m = String::from("Thank you for taking the time to see our demo. ");
            m.push_str(&match deal_name {
                Some(d) => format!("I hope it showed how we can help with {d}.\n\n"),
                None => "I hope it was useful for your team.\n\n".into(),
            });
            m.push_str(&notes_text);
            m.push_str("Would a short call next week work to answer questions and talk about next steps?\n\n");
            (subject, m)
        }
        Purpose::Proposal => {
            let subject = match (deal_name, company) {
                (Some(d), _) => format!("Proposal: {d}"),
                (None, Some(c)) => format!("Our proposal for {c}"),
                (None, None) => "Our proposal".into(),
            };
            let mut m = match deal {
                Some((d, Some(amount), currency)) => {
                    format!("As promised, here is our proposal for {d}, at {}.\n\n", format_money(*amount, currency))
                }
                Some((d, None, _)) => format!("As promised, here is our proposal for {d}.\n\n"),
                None => "As promised, here is our proposal.\n\n".into(),
            };
            m.push_str(&notes_text);
            m.push_str("I'd be glad to walk you through it; when would suit you for a call?\n\n");
            (subject, m)
        }
        Purpose::CheckIn => {
            let subject = match company {
                Some(c) => format!("Checking in – {c}"),
                None => "Checking in".into(),
            };
            let mut m = match last {
                Some((kind, subj, date)) => {
                    format!("I wanted to check in since our last {} (“{subj}”, {date}). ", kind.to_lowercase())
                }
                None => "I wanted to check in and see how things are going. ".into(),
            };
            m.push_str(&match deal_name {
                Some(d) => format!("How are things looking on your side for {d}?\n\n"),
                None => "Is there anything I can help with?\n\n".into(),
            });
            m.push_str(&notes_text);
            (subject, m)
        }
        Purpose::ThankYou => {
            let subject = match company {
                Some(c) => format!("Thank you – {c}"),
                None => "Thank you".into(),
            };
            let mut m = match last {
                Some((kind, subj, _)) => {
                    format!("Thank you for your time in our recent {} about “{subj}”. ", kind.to_lowercase())
                }
                None => "Thank you for your time. ".into(),
            };
            m.push_str("I really appreciate it.\n\n");
            m.push_str(&notes_text);
            (subject, m)
        }
        Purpose::Custom => {
            let first = notes.as_deref().and_then(|n| n.split(['.', '\n', '!', '?']).next()).map(str::trim);
            let subject = match (first, company) {
                (Some(f), _) if !f.is_empty() => f.chars().take(78).collect(),
                (_, Some(c)) => format!("A note for {c}"),
                _ => "A quick note".into(),
            };
            (subject, notes_text)
        }
    };
    (subject, format!("{greeting}{middle}{sign}"))
}

fn open_stage_list() -> String {
    crate::parse::vocab::OPEN_STAGES.join(",")
}

async fn visible(tools: &Tools, entity: &str, id: Option<Uuid>) -> Result<Option<Map<String, Json>>, AssistantError> {
    let Some(id) = id else { return Ok(None) };
    match tools.service().get(tools.ctx(), entity, id).await {
        Ok(r) => Ok(Some(r)),
        Err(keel_service::ServiceError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Longest subject and body accepted from a model, in characters.
const MODEL_SUBJECT_CHARS: usize = 200;
const MODEL_BODY_CHARS: usize = 8_000;

fn purpose_words(p: Purpose) -> &'static str {
    match p {
        Purpose::FollowUpAfterDemo => "a follow-up after a product demo",
        Purpose::Proposal => "sending our proposal",
        Purpose::CheckIn => "a friendly check-in",
        Purpose::ThankYou => "a thank-you note",
        Purpose::Custom => "what the sender's notes say",
    }
}

/// The model's prompt: the facts it may use, as JSON (only what the user may see).
fn model_prompt(purpose: Purpose, h: &History, notes: &Option<String>) -> String {
    let deals: Vec<Json> = h
        .deals
        .iter()
        .map(|(title, amount, currency)| {
            serde_json::json!({ "title": title, "amount": amount.map(|a| format_money(a, currency)) })
        })
        .collect();
    let activities: Vec<Json> = h
        .activities
        .iter()
        .map(|(kind, subject, date)| serde_json::json!({ "type": kind, "subject": subject, "date": date }))
        .collect();
    let facts = serde_json::json!({
        "purpose": purpose_words(purpose),
        "recipient_first_name": h.first_name,
        "recipient_company": h.company,
        "open_deals": deals,
        "recent_activities": activities,
        "sender_name": h.sender,
        "sender_notes": notes,
    });
    format!("Write the email from these CRM facts:\n{facts}")
}

const EMAIL_SYSTEM: &str = "You write short, warm, professional sales emails for a CRM user. Use only the facts \
    given; never invent prices, dates or commitments. Greet the recipient by first name and sign with the \
    sender's name. Answer with a JSON object only: {\"subject\": \"one line\", \"body\": \"plain text with line breaks\"}.";

/// Ask the model for `{subject, body}` and check it.
async fn model_draft(
    model: &ModelEngine,
    purpose: Purpose,
    h: &History,
    notes: &Option<String>,
) -> Result<(String, String), ModelError> {
    let v = model.complete_json(EMAIL_SYSTEM, &model_prompt(purpose, h, notes)).await?;
    let text = |k: &str| v.get(k).and_then(Json::as_str).map(str::trim).filter(|s| !s.is_empty());
    let subject = text("subject").ok_or_else(|| ModelError::Malformed("the draft has no subject".into()))?;
    let body = text("body").ok_or_else(|| ModelError::Malformed("the draft has no body".into()))?;
    if subject.contains('\n') || subject.chars().count() > MODEL_SUBJECT_CHARS {
        return Err(ModelError::Malformed(format!(
            "the subject is not one line of at most {MODEL_SUBJECT_CHARS} characters"
        )));
    }
    if body.chars().count() > MODEL_BODY_CHARS {
        return Err(ModelError::Malformed(format!("the body is longer than {MODEL_BODY_CHARS} characters")));
    }
    Ok((subject.to_string(), body.to_string()))
}

/// Draft an email to the contact (who must be visible to the user), written by `model`
/// when given, else (or when it fails) from the template.
pub async fn draft(tools: &Tools, req: &DraftRequest, model: Option<&ModelEngine>) -> Result<Draft, AssistantError> {
    if req.purpose == Purpose::Custom && req.notes.as_deref().is_none_or(|n| n.trim().is_empty()) {
        return Err(AssistantError::field("notes", "required", "A custom email needs notes: what should it say?"));
    }
    let service = tools.service();
    let ctx = tools.ctx();
    let contact = service.get(ctx, "contacts", req.contact_id).await?;
    let name = str_of(&contact, "full_name").unwrap_or("there").to_string();
    let mut used = vec![Citation::new("contacts", req.contact_id, &name)];
    let company = visible(tools, "companies", uuid_of(&contact, "company_id")).await?;
    if let (Some(c), Some(id)) = (&company, company.as_ref().and_then(|c| uuid_of(c, "id"))) {
        push_unique(&mut used, Citation::new("companies", id, str_of(c, "name").unwrap_or("company")));
    }
    let schema = service.schema();
    let deals_def = schema.entity("deals").ok_or(keel_service::ServiceError::NotFound)?;
    let deals_q = keel_domain::query::parse_list_query(
        deals_def,
        &[pair("stage[in]", open_stage_list()), pair("sort", "-updated_at"), pair("limit", "3")],
    )
    .map_err(AssistantError::Invalid)?;
    let deals = service.related(ctx, "contacts", req.contact_id, "deals", &deals_q).await?;
    let acts_def = schema.entity("activities").ok_or(keel_service::ServiceError::NotFound)?;
    let acts_q = keel_domain::query::parse_list_query(acts_def, &[pair("sort", "-created_at"), pair("limit", "5")])
        .map_err(AssistantError::Invalid)?;
    let activities = service.related(ctx, "contacts", req.contact_id, "activities", &acts_q).await?;
    let me = service.me(ctx).await?;
    let history = History {
        first_name: str_of(&contact, "first_name")
            .or_else(|| str_of(&contact, "full_name"))
            .unwrap_or("there")
            .to_string(),
        company: company.as_ref().and_then(|c| str_of(c, "name")).map(str::to_string),
        deals: deals
            .data
            .iter()
            .filter_map(|d| {
                let id = uuid_of(d, "id")?;
                let title = str_of(d, "title")?.to_string();
                push_unique(&mut used, Citation::new("deals", id, &title));
                Some((
                    title,
                    d.get("amount").and_then(Json::as_i64),
                    str_of(d, "currency").unwrap_or("USD").to_string(),
                ))
            })
            .collect(),
        activities: activities
            .data
            .iter()
            .filter_map(|a| {
                Some((
                    str_of(a, "type")?.to_string(),
                    str_of(a, "subject")?.to_string(),
                    str_of(a, "created_at")?.chars().take(10).collect(),
                ))
            })
            .collect(),
        sender: str_of(&me, "name").unwrap_or("").to_string(),
    };
    let to = str_of(&contact, "email").map(str::to_string);
    let mut fallback_reason = None;
    if let Some(model) = model {
        match model_draft(model, req.purpose, &history, &req.notes).await {
            Ok((subject, body)) => {
                return Ok(Draft { subject, body, purpose: req.purpose, to, used, engine: "model", fallback_reason });
            }
            Err(e) => fallback_reason = Some(e.to_string()),
        }
    }
    let (subject, body) = render(req.purpose, &history, &req.notes);
    Ok(Draft { subject, body, purpose: req.purpose, to, used, engine: "template", fallback_reason })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn history() -> History {
        History {
            first_name: "Sarah".into(),
            company: Some("Acme Corp".into()),
            deals: vec![("Acme Expansion".into(), Some(5_000_000), "USD".into())],
            activities: vec![("Meeting".into(), "Product demo".into(), "2026-11-20".into())],
            sender: "Sam Rivera".into(),
        }
    }

    #[test]
    fn each_purpose_uses_the_history() {
        let h = history();
        let (s, b) = render(Purpose::FollowUpAfterDemo, &h, &None);
        assert_eq!(s, "Following up on our demo with Acme Corp");
        assert!(b.starts_with("Hi Sarah,\n\n") && b.contains("Acme Expansion") && b.ends_with("Best,\nSam Rivera"));
        let (s, b) = render(Purpose::Proposal, &h, &Some("Pricing includes onboarding".into()));
        assert_eq!(s, "Proposal: Acme Expansion");
        assert!(b.contains("$50,000") && b.contains("Pricing includes onboarding."));
        let (_, b) = render(Purpose::CheckIn, &h, &None);
        assert!(b.contains("our last meeting (“Product demo”, 2026-11-20)"));
        let (s, b) = render(Purpose::ThankYou, &h, &None);
        assert!(s.contains("Acme Corp") && b.contains("Product demo"));
        let (s, b) = render(Purpose::Custom, &h, &Some("Lunch on Friday? We could review the rollout".into()));
        assert_eq!(s, "Lunch on Friday");
        assert!(b.contains("We could review the rollout."));
    }

    #[test]
    fn without_history_the_templates_still_read_well() {
        let h = History { first_name: "Lee".into(), sender: "Sam".into(), ..History::default() };
        let (s, b) = render(Purpose::CheckIn, &h, &None);
        assert_eq!(s, "Checking in");
        assert!(b.contains("see how things are going"));
        let (_, b) = render(Purpose::Proposal, &h, &None);
        assert!(b.contains("here is our proposal."));
        assert_eq!(Purpose::parse("nope"), None);
    }
}
