//! Proposals: writes the assistant suggests but never runs by itself. A proposal is
//! stored server-side (id, user, the exact input of each step, expiry) and runs only
//! when the same user confirms it — through the ordinary `Service::create`/`update`, so
//! it is validated, permission-checked, change-logged and audited as that user.
//!
//! Confirming claims the proposal first (pending → running, one statement), so two
//! confirms cannot both run it. Steps run in order; each create carries an idempotency
//! key derived from the proposal, and the ids written so far are saved, so a confirm
//! retried after a failed step resumes where it stopped and never writes twice.

use keel_service::assistant::{NewProposal, Proposal};
use keel_service::records::{Created, IdempotencyKey};
use keel_service::{Ctx, Service, ServiceError};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json, json};
use uuid::Uuid;

use crate::citation::Citation;
use crate::error::AssistantError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepAction {
    Create,
    Update,
}

/// One write of a proposal. An input value `{"$step": n}` stands for the id of the record
/// step `n` created (a new company, then a contact at it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub action: StepAction,
    pub entity: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Uuid>,
    /// The record's version when proposed: a record changed since then is not overwritten (412).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub if_match: Option<i64>,
    pub input: Map<String, Json>,
    /// What the step does, in words.
    pub label: String,
}

impl Step {
    pub fn create(entity: &str, input: Map<String, Json>, label: impl Into<String>) -> Self {
        Self { action: StepAction::Create, entity: entity.into(), id: None, if_match: None, input, label: label.into() }
    }

    pub fn update(entity: &str, id: Uuid, version: i64, input: Map<String, Json>, label: impl Into<String>) -> Self {
        Self {
            action: StepAction::Update,
            entity: entity.into(),
            id: Some(id),
            if_match: Some(version),
            input,
            label: label.into(),
        }
    }
}

/// A proposal as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProposalView {
    pub id: Uuid,
    pub kind: String,
    pub summary: String,
    /// pending, running, confirmed or cancelled.
    pub status: String,
    pub steps: Vec<Step>,
    pub created_at: String,
    pub expires_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<String>,
    /// The records written (once confirmed; partly, if a step failed).
    pub records: Vec<Citation>,
    pub confirm_url: String,
    pub cancel_url: String,
}

fn view(p: &Proposal) -> ProposalView {
    let steps: Vec<Step> = serde_json::from_value(p.steps.clone()).unwrap_or_default();
    ProposalView {
        id: p.id,
        kind: p.kind.clone(),
        summary: p.summary.clone(),
        status: p.status.clone(),
        steps,
        created_at: keel_domain::value::format_timestamp(p.created_at),
        expires_at: keel_domain::value::format_timestamp(p.expires_at),
        decided_at: p.decided_at.map(keel_domain::value::format_timestamp),
        records: done(&p.result),
        confirm_url: format!("/api/v1/assistant/proposals/{}/confirm", p.id),
        cancel_url: format!("/api/v1/assistant/proposals/{}/cancel", p.id),
    }
}

fn done(result: &Json) -> Vec<Citation> {
    serde_json::from_value(result["done"].clone()).unwrap_or_default()
}

/// Store a proposal for the user.
pub async fn propose(
    service: &Service,
    ctx: &Ctx,
    conversation_id: Option<Uuid>,
    kind: &str,
    summary: String,
    steps: Vec<Step>,
    lifetime: time::Duration,
) -> Result<ProposalView, AssistantError> {
    let steps = serde_json::to_value(&steps).map_err(|e| ServiceError::Internal(e.to_string()))?;
    let new = NewProposal { conversation_id, kind: kind.into(), summary, steps, lifetime };
    Ok(view(&service.assistant_propose(ctx, new).await?))
}

pub async fn get(service: &Service, ctx: &Ctx, id: Uuid) -> Result<ProposalView, AssistantError> {
    Ok(view(&service.assistant_proposal(ctx, id).await?))
}

/// A pending proposal, or why it cannot be decided now.
async fn pending(service: &Service, ctx: &Ctx, id: Uuid) -> Result<Proposal, AssistantError> {
    let p = service.assistant_proposal(ctx, id).await?;
    if p.status != "pending" {
        return Err(AssistantError::AlreadyDecided { status: p.status });
    }
    if service.now() >= p.expires_at {
        return Err(AssistantError::Expired { at: keel_domain::value::format_timestamp(p.expires_at) });
    }
    Ok(p)
}

pub async fn cancel(service: &Service, ctx: &Ctx, id: Uuid) -> Result<ProposalView, AssistantError> {
    let p = service.assistant_proposal(ctx, id).await?;
    if p.status != "pending" {
        return Err(AssistantError::AlreadyDecided { status: p.status });
    }
    if !service.assistant_transition(ctx, id, "pending", "cancelled", None, true).await? {
        let now = service.assistant_proposal(ctx, id).await?;
        return Err(AssistantError::AlreadyDecided { status: now.status });
    }
    get(service, ctx, id).await
}

/// Replace `{"$step": n}` placeholders with the ids of records written by earlier steps.
fn resolve_placeholders(input: &Map<String, Json>, written: &[Citation]) -> Result<Map<String, Json>, AssistantError> {
    let mut out = Map::new();
    for (k, v) in input {
        let value = match v.get("$step").and_then(Json::as_u64) {
            Some(n) => {
                let id = written
                    .get(n as usize)
                    .ok_or_else(|| ServiceError::Internal(format!("proposal step refers to missing step {n}")))?
                    .id;
                Json::String(id.to_string())
            }
            None => v.clone(),
        };
        out.insert(k.clone(), value);
    }
    Ok(out)
}

fn title_of(entity: &str, record: &Map<String, Json>) -> String {
    let field = match entity {
        "companies" => "name",
        "contacts" => "full_name",
        "deals" => "title",
        _ => "subject",
    };
    record.get(field).and_then(Json::as_str).unwrap_or(entity).to_string()
}

async fn run_step(
    service: &Service,
    ctx: &Ctx,
    proposal: Uuid,
    index: usize,
    step: &Step,
    written: &[Citation],
) -> Result<Citation, AssistantError> {
    let input = resolve_placeholders(&step.input, written)?;
    let record = match (step.action, step.id) {
        (StepAction::Create, _) => {
            // The key makes a create that committed before a crash replay instead of repeat.
            let key = IdempotencyKey(format!("assistant-proposal-{proposal}-{index}"));
            match service.create(ctx, &step.entity, input, Some(key)).await? {
                Created::New(body) => body,
                Created::Replayed { body, .. } => serde_json::from_str(&body)
                    .map_err(|e| ServiceError::Internal(format!("stored response unreadable: {e}")))?,
            }
        }
        (StepAction::Update, Some(id)) => service.update(ctx, &step.entity, id, input, step.if_match).await?,
        (StepAction::Update, None) => return Err(ServiceError::Internal("update step without an id".into()).into()),
    };
    let id = record
        .get("id")
        .and_then(Json::as_str)
        .and_then(|s| Uuid::parse_str(s).ok())
        .ok_or_else(|| ServiceError::Internal("written record has no id".into()))?;
    Ok(Citation::new(&step.entity, id, &title_of(&step.entity, &record)))
}

/// Run a pending proposal as the user who owns it.
pub async fn confirm(service: &Service, ctx: &Ctx, id: Uuid) -> Result<ProposalView, AssistantError> {
    let p = pending(service, ctx, id).await?;
    if !service.assistant_transition(ctx, id, "pending", "running", None, false).await? {
        let now = service.assistant_proposal(ctx, id).await?;
        return Err(AssistantError::AlreadyDecided { status: now.status });
    }
    let steps: Vec<Step> =
        serde_json::from_value(p.steps.clone()).map_err(|e| ServiceError::Internal(format!("bad proposal: {e}")))?;
    let mut written = done(&p.result);
    for (index, step) in steps.iter().enumerate().skip(written.len()) {
        match run_step(service, ctx, id, index, step, &written).await {
            Ok(c) => written.push(c),
            Err(e) => {
                // Keep what was written and let the user try again (or cancel).
                let progress = json!({ "done": written, "error": e.to_string() });
                service.assistant_transition(ctx, id, "running", "pending", Some(&progress), false).await?;
                return Err(e);
            }
        }
    }
    let result = json!({ "done": written });
    service.assistant_transition(ctx, id, "running", "confirmed", Some(&result), true).await?;
    get(service, ctx, id).await
}
