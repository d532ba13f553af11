//! Meeting summaries: analyse the transcript (`analyze`, pure), then propose what to
//! record — a Meeting activity with the summary, a Task per action item, and the deal's
//! stage change when one is recommended. Like every write, it runs on confirmation.

pub mod analyze;

use serde::Serialize;
use serde_json::{Map, Value as Json, json};
use uuid::Uuid;

use crate::citation::Citation;
use crate::error::AssistantError;
use crate::proposals::{ProposalView, Step};
use crate::tools::{Tools, int_of, str_of, uuid_of};
pub use analyze::{ActionItem, Analysis, analyze};

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

pub async fn summarise(tools: &Tools, req: &SummaryRequest) -> Result<SummaryAnswer, AssistantError> {
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
    let analysis = analyze(&req.transcript, tools.today(), deal_state.as_ref().map(|d| d.1.as_str()));

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
    Ok(SummaryAnswer { analysis, records, proposal })
}
