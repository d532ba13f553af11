//! Meeting summaries: with a model configured, the model analyses the transcript and
//! answers a JSON object (summary, key points, action items, next steps, sentiment,
//! recommended stage), which is checked field by field; without one, or when it fails
//! (timeout, 429, 5xx, unreadable or invalid answer), the extractive analysis
//! (`analyze`, pure) is used and the answer says why. Then propose what to record — a
//! Meeting activity with the summary, a Task per action item, and the deal's stage change
//! when one is recommended. Like every write, it runs on confirmation.

pub mod analyze;

use serde::Serialize;
use serde_json::{Map, Value as Json, json};
use uuid::Uuid;

use crate::citation::Citation;
use crate::engine::{ModelEngine, ModelError};
use crate::error::AssistantError;
use crate::proposals::{ProposalView, Step};
use crate::tools::{Tools, int_of, str_of, uuid_of};
pub use analyze::{ActionItem, Analysis, Sentiment, analyze};

/// Longest transcript accepted, in characters.
pub const MAX_TRANSCRIPT_CHARS: usize = 100_000;
/// Activity subjects are at most this long (the schema's limit).
const SUBJECT_CHARS: usize = 255;

#[derive(Debug, Clone)]
pub struct SummaryRequest {
    pub deal_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub transcript: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SummaryAnswer {
    #[serde(flatten)]
    pub analysis: Analysis,
    /// The deal and contact the meeting was about.
    pub records: Vec<Citation>,
    /// Meeting activity, tasks and stage change, to confirm.
    pub proposal: ProposalView,
    /// `model` (analysed by the configured model) or `extractive`.
    pub engine: &'static str,
    /// Why the configured model's analysis was replaced by the extractive one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback_reason: Option<String>,
}

const MEETING_SYSTEM: &str = "You summarise sales meeting transcripts for a CRM user (\"me\" is the user who took \
    the notes). Use only what the transcript says. Answer with a JSON object only: {\"summary\": \"2-4 sentences\", \
    \"key_points\": [\"…\"], \"action_items\": [{\"text\": \"…\", \"owner\": \"a name, me, or null\", \
    \"due_date\": \"YYYY-MM-DD or null\"}], \"next_steps\": [\"…\"], \"sentiment\": {\"label\": \
    \"positive|neutral|negative\", \"score\": -100 to 100}, \"recommended_stage\": \"a deal stage or null\", \
    \"stage_reason\": \"why, or null\"}.";

/// Most entries kept per list from a model, and the longest entry.
const MODEL_LIST_MAX: usize = 20;
const MODEL_TEXT_CHARS: usize = 2_000;

fn model_text(v: &Json, what: &str) -> Result<String, ModelError> {
    let s = v.as_str().map(str::trim).filter(|s| !s.is_empty());
    match s {
        Some(s) if s.chars().count() <= MODEL_TEXT_CHARS => Ok(s.to_string()),
        Some(_) => Err(ModelError::Malformed(format!("{what} is longer than {MODEL_TEXT_CHARS} characters"))),
        None => Err(ModelError::Malformed(format!("{what} is missing or not text"))),
    }
}

fn model_list(v: &Json, what: &str) -> Result<Vec<String>, ModelError> {
    match v {
        Json::Null => Ok(Vec::new()),
        Json::Array(a) => a.iter().take(MODEL_LIST_MAX).map(|x| model_text(x, what)).collect(),
        _ => Err(ModelError::Malformed(format!("{what} is not a list"))),
    }
}

/// Check a model's analysis: every field of the right type and in range, due dates real
/// dates, the stage a known one that the deal may move to.
pub fn analysis_from_model(v: &Json, current_stage: Option<&str>) -> Result<Analysis, ModelError> {
    let summary = model_text(&v["summary"], "summary")?;
    let key_points = model_list(&v["key_points"], "key_points")?;
    let next_steps = model_list(&v["next_steps"], "next_steps")?;
    let mut action_items = Vec::new();
    match &v["action_items"] {
        Json::Null => {}
        Json::Array(items) => {
            for item in items.iter().take(MODEL_LIST_MAX) {
                let text = model_text(&item["text"], "action_items.text")?;
                let owner = match &item["owner"] {
                    Json::Null => None,
                    o => Some(model_text(o, "action_items.owner")?),
                };
                let due_date = match &item["due_date"] {
                    Json::Null => None,
                    Json::String(d) if d.trim().is_empty() => None,
                    Json::String(d) => match keel_domain::value::parse_date(d.trim()) {
                        Some(date) => Some(keel_domain::value::format_date(date)),
                        None => return Err(ModelError::Malformed(format!("due date `{d}` is not YYYY-MM-DD"))),
                    },
                    _ => return Err(ModelError::Malformed("action_items.due_date is not text".into())),
                };
                action_items.push(ActionItem { text, owner, due_date });
            }
        }
        _ => return Err(ModelError::Malformed("action_items is not a list".into())),
    }
    let label = match v["sentiment"]["label"].as_str().map(str::to_lowercase).as_deref() {
        Some("positive") => "positive",
        Some("neutral") => "neutral",
        Some("negative") => "negative",
        _ => return Err(ModelError::Malformed("sentiment.label is not positive, neutral or negative".into())),
    };
    let score = v["sentiment"]["score"]
        .as_i64()
        .or_else(|| v["sentiment"]["score"].as_f64().map(|f| f.round() as i64))
        .filter(|s| (-100..=100).contains(s))
        .ok_or_else(|| ModelError::Malformed("sentiment.score is not a number from -100 to 100".into()))?;
    let (recommended_stage, stage_reason) = match &v["recommended_stage"] {
        Json::Null => (None, None),
        Json::String(s) if s.trim().is_empty() => (None, None),
        Json::String(s) => {
            let stage = s.trim();
            if !analyze::allowed_move(current_stage, stage) {
                return Err(ModelError::Malformed(format!("`{stage}` is not a stage this deal can move to")));
            }
            let reason = v["stage_reason"].as_str().map(str::trim).filter(|r| !r.is_empty()).map(str::to_string);
            (Some(stage.to_string()), reason)
        }
        _ => return Err(ModelError::Malformed("recommended_stage is not text".into())),
    };
    Ok(Analysis {
        summary,
        key_points,
        action_items,
        next_steps,
        sentiment: Sentiment { label, score },
        recommended_stage,
        stage_reason,
    })
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        return s.to_string();
    }
    let mut out: String = s.chars().take(n - 1).collect();
    out.push('…');
    out
}

fn description(a: &Analysis) -> String {
    let mut d = a.summary.clone();
    if !a.next_steps.is_empty() {
        d.push_str("\n\nNext steps:\n");
        for s in &a.next_steps {
            d.push_str(&format!("- {s}\n"));
        }
    }
    d.push_str(&format!("\nSentiment: {} ({})", a.sentiment.label, a.sentiment.score));
    d
}

pub async fn summarise(
    tools: &Tools,
    req: &SummaryRequest,
    model: Option<&ModelEngine>,
) -> Result<SummaryAnswer, AssistantError> {
    if req.transcript.trim().is_empty() {
        return Err(AssistantError::field("transcript", "required", "Paste the transcript or your notes"));
    }
    if req.transcript.chars().count() > MAX_TRANSCRIPT_CHARS {
        return Err(AssistantError::field(
            "transcript",
            "too_long",
            format!("transcript must be at most {MAX_TRANSCRIPT_CHARS} characters"),
        ));
    }
    let (service, ctx) = (tools.service(), tools.ctx());
    let mut links = Map::new();
    let mut records = Vec::new();
    let mut about = None;
    let mut deal_state = None;
    if let Some(id) = req.deal_id {
        let deal = service.get(ctx, "deals", id).await?;
        let title = str_of(&deal, "title").unwrap_or("deal").to_string();
        links.insert("deal_id".into(), json!(id));
        if let Some(c) = uuid_of(&deal, "company_id") {
            links.insert("company_id".into(), json!(c));
        }
        if let Some(c) = uuid_of(&deal, "contact_id") {
            links.insert("contact_id".into(), json!(c));
        }
        records.push(Citation::new("deals", id, &title));
        deal_state = Some((
            id,
            str_of(&deal, "stage").unwrap_or_default().to_string(),
            int_of(&deal, "version").unwrap_or(0),
            title.clone(),
        ));
        about = Some(title);
    }
    if let Some(id) = req.contact_id {
        let contact = service.get(ctx, "contacts", id).await?;
        let name = str_of(&contact, "full_name").unwrap_or("contact").to_string();
        links.insert("contact_id".into(), json!(id));
        if !links.contains_key("company_id")
            && let Some(c) = uuid_of(&contact, "company_id")
        {
            links.insert("company_id".into(), json!(c));
        }
        records.push(Citation::new("contacts", id, &name));
        about.get_or_insert(name);
    }
    let current_stage = deal_state.as_ref().map(|d| d.1.as_str());
    let mut fallback_reason = None;
    let mut from_model = None;
    if let Some(model) = model {
        let facts = json!({
            "today": keel_domain::value::format_date(tools.today()),
            "about": about,
            "deal_stage": current_stage,
            "stages": ["Prospecting", "Qualification", "Proposal", "Negotiation", "Closed Won", "Closed Lost"],
        });
        let prompt = format!("Context: {facts}\n\nTranscript:\n{}", req.transcript);
        match model.complete_json(MEETING_SYSTEM, &prompt).await {
            Ok(v) => match analysis_from_model(&v, current_stage) {
                Ok(a) => from_model = Some(a),
                Err(e) => fallback_reason = Some(e.to_string()),
            },
            Err(e) => fallback_reason = Some(e.to_string()),
        }
    }
    let engine = if from_model.is_some() { "model" } else { "extractive" };
    let analysis = match from_model {
        Some(a) => a,
        None => analyze(&req.transcript, tools.today(), current_stage),
    };

    let mut steps = Vec::new();
    let subject = match &about {
        Some(a) => clip(&format!("Meeting summary: {a}"), SUBJECT_CHARS),
        None => "Meeting summary".to_string(),
    };
    let mut meeting = links.clone();
    meeting.insert("type".into(), json!("Meeting"));
    meeting.insert("subject".into(), json!(subject));
    meeting.insert("description".into(), json!(description(&analysis)));
    meeting.insert("completed".into(), Json::Bool(true));
    steps.push(Step::create("activities", meeting, format!("Log meeting “{subject}”")));
    for item in &analysis.action_items {
        let task_subject = match item.owner.as_deref() {
            Some("me") | None => clip(&item.text, SUBJECT_CHARS),
            Some(o) => clip(&format!("{o}: {}", item.text), SUBJECT_CHARS),
        };
        let mut task = links.clone();
        task.insert("type".into(), json!("Task"));
        task.insert("subject".into(), json!(task_subject));
        task.insert("assigned_to".into(), json!(ctx.actor.user_id));
        if let Some(d) = &item.due_date {
            task.insert("due_date".into(), json!(format!("{d}T09:00:00Z")));
        }
        let label = match &item.due_date {
            Some(d) => format!("Add task “{task_subject}” due {d}"),
            None => format!("Add task “{task_subject}”"),
        };
        steps.push(Step::create("activities", task, label));
    }
    if let (Some((id, stage, version, title)), Some(new_stage)) = (&deal_state, &analysis.recommended_stage) {
        let mut change = Map::new();
        change.insert("stage".into(), json!(new_stage));
        steps.push(Step::update("deals", *id, *version, change, format!("Move {title} from {stage} to {new_stage}")));
    }
    let tasks = analysis.action_items.len();
    let mut summary = format!("Log the meeting and {tasks} task{}", if tasks == 1 { "" } else { "s" });
    if let Some(s) = &analysis.recommended_stage
        && deal_state.is_some()
    {
        summary.push_str(&format!(", and move the deal to {s}"));
    }
    let proposal = tools.propose_steps("meeting_summary", summary, steps).await?;
    Ok(SummaryAnswer { analysis, records, proposal, engine, fallback_reason })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_models_analysis_is_checked() {
        let good = json!({
            "summary": "They liked the demo.", "key_points": ["Budget approved"],
            "action_items": [{ "text": "Send the proposal", "owner": "me", "due_date": "2099-05-15" }],
            "next_steps": ["Proposal review"], "sentiment": { "label": "Positive", "score": 60 },
            "recommended_stage": "Proposal", "stage_reason": "asked for a proposal",
        });
        let a = analysis_from_model(&good, Some("Qualification")).expect("valid");
        assert_eq!(a.sentiment.label, "positive");
        assert_eq!(a.action_items[0].due_date.as_deref(), Some("2099-05-15"));
        assert_eq!(a.recommended_stage.as_deref(), Some("Proposal"));
        let mut backwards = good.clone();
        backwards["recommended_stage"] = json!("Prospecting");
        assert!(analysis_from_model(&backwards, Some("Qualification")).is_err());
        let mut bad_date = good.clone();
        bad_date["action_items"][0]["due_date"] = json!("next Friday");
        assert!(analysis_from_model(&bad_date, None).is_err());
        let mut no_summary = good;
        no_summary["summary"] = json!("");
        assert!(analysis_from_model(&no_summary, None).is_err());
    }
}
