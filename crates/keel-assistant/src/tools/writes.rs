//! Write tools `create_deal`, `log_activity`, `update_deal` (and `create_contact` in
//! `crate::entry`). They never write: they resolve names to records the user can see and
//! return a proposal holding the exact input, or say what is missing or ambiguous.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json, json};

use super::{Resolved, Tools};
use crate::citation::Citation;
use crate::error::AssistantError;
use crate::parse::amount::format_money;
use crate::proposals::{ProposalView, Step, propose};

/// A write tool's answer: a proposal, or what the user must clarify first.
#[derive(Debug, Clone)]
pub enum WriteOutcome {
    Proposed(Box<ProposalView>),
    NeedsInput { message: String, candidates: Vec<Citation> },
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DealInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Company name (must exist).
    pub company: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_close_date: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityInput {
    /// Call, Email, Meeting, Note or Task.
    #[serde(rename = "type")]
    pub kind: String,
    /// Who or what it concerns: a contact, company or deal name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub with: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `YYYY-MM-DD`, for tasks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_date: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DealUpdate {
    /// The deal by name ("Acme Corp", "Expansion").
    pub deal: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_close_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
}

fn ask<T>(what: &str, name: &str, rows: Resolved<T>, cite: impl Fn(&T) -> Citation) -> Result<T, WriteOutcome> {
    match rows {
        Resolved::One(r) => Ok(r),
        Resolved::None => Err(WriteOutcome::NeedsInput {
            message: format!("I couldn't find {what} “{name}”."),
            candidates: vec![],
        }),
        Resolved::Many(rows) => Err(WriteOutcome::NeedsInput {
            message: format!("Several {what}s match “{name}”; which one do you mean?"),
            candidates: rows.iter().map(cite).collect(),
        }),
    }
}

/// Due dates become a timestamp at 09:00 UTC (the field is a timestamp).
fn due_timestamp(date: &str) -> String {
    format!("{date}T09:00:00Z")
}

impl Tools {
    async fn proposal(&self, kind: &str, summary: String, steps: Vec<Step>) -> Result<WriteOutcome, AssistantError> {
        let lifetime = self.config().proposal_lifetime;
        let p = propose(self.service(), self.ctx(), self.conversation_id(), kind, summary, steps, lifetime).await?;
        Ok(WriteOutcome::Proposed(Box::new(p)))
    }

    pub async fn create_deal(&mut self, input: &DealInput) -> Result<WriteOutcome, AssistantError> {
        self.record("create_deal", input);
        let company =
            match ask("a company", &input.company, self.company_by_name(&input.company).await?, |c| c.citation()) {
                Ok(c) => c,
                Err(outcome) => return Ok(outcome),
            };
        let title = input.title.clone().unwrap_or_else(|| format!("{} deal", company.name));
        let mut fields = Map::new();
        fields.insert("title".into(), json!(title));
        fields.insert("company_id".into(), json!(company.id));
        if let Some(a) = input.amount {
            fields.insert("amount".into(), json!(a));
        }
        if let Some(s) = &input.stage {
            fields.insert("stage".into(), json!(s));
        }
        if let Some(d) = &input.expected_close_date {
            fields.insert("expected_close_date".into(), json!(d));
        }
        let mut summary = format!("Create deal “{title}” for {}", company.name);
        if let Some(a) = input.amount {
            summary.push_str(&format!(", {}", format_money(a, "USD")));
        }
        if let Some(s) = &input.stage {
            summary.push_str(&format!(", in {s}"));
        }
        if let Some(d) = &input.expected_close_date {
            summary.push_str(&format!(", closing {d}"));
        }
        let step = Step::create("deals", fields, summary.clone());
        self.proposal("create_deal", summary, vec![step]).await
    }

    pub async fn log_activity(&mut self, input: &ActivityInput) -> Result<WriteOutcome, AssistantError> {
        self.record("log_activity", input);
        let mut fields = Map::new();
        let mut about = None;
        if let Some(name) = input.with.as_deref().filter(|n| !n.trim().is_empty()) {
            // A person first, then a company, then a deal.
            match self.contact_by_name(name).await? {
                Resolved::One(c) => {
                    fields.insert("contact_id".into(), json!(c.id));
                    if let Some(company) = c.company_id {
                        fields.insert("company_id".into(), json!(company));
                    }
                    about = Some(c.name);
                }
                Resolved::Many(rows) => {
                    return Ok(WriteOutcome::NeedsInput {
                        message: format!("Several contacts match “{name}”; which one do you mean?"),
                        candidates: rows.iter().map(|c| c.citation()).collect(),
                    });
                }
                Resolved::None => match self.company_by_name(name).await? {
                    Resolved::One(c) => {
                        fields.insert("company_id".into(), json!(c.id));
                        about = Some(c.name);
                    }
                    other => {
                        let deal = match ask("a contact, company or deal", name, self.deal_by_name(name).await?, |d| {
                            d.citation()
                        }) {
                            Ok(d) => d,
                            Err(outcome) => {
                                return Ok(match other {
                                    Resolved::Many(rows) => WriteOutcome::NeedsInput {
                                        message: format!("Several companies match “{name}”; which one do you mean?"),
                                        candidates: rows.iter().map(|c| c.citation()).collect(),
                                    },
                                    _ => outcome,
                                });
                            }
                        };
                        fields.insert("deal_id".into(), json!(deal.id));
                        if let Some(company) = deal.company_id {
                            fields.insert("company_id".into(), json!(company));
                        }
                        about = Some(deal.label());
                    }
                },
            }
        }
        let kind = input.kind.clone();
        let subject = match (&input.subject, &about) {
            (Some(s), _) => s.clone(),
            (None, Some(a)) => match kind.as_str() {
                "Email" => format!("Email to {a}"),
                "Note" => format!("Note about {a}"),
                "Task" => format!("Follow up with {a}"),
                _ => format!("{kind} with {a}"),
            },
            (None, None) => kind.clone(),
        };
        fields.insert("type".into(), json!(kind));
        fields.insert("subject".into(), json!(subject));
        if let Some(d) = &input.description {
            fields.insert("description".into(), json!(d));
        }
        // A call, meeting, email or note being logged has happened; a task is to do.
        if kind == "Task" {
            fields.insert("assigned_to".into(), json!(self.ctx().actor.user_id));
            if let Some(d) = &input.due_date {
                fields.insert("due_date".into(), json!(due_timestamp(d)));
            }
        } else {
            fields.insert("completed".into(), Json::Bool(true));
        }
        let mut summary = format!("Log {}: “{subject}”", kind.to_lowercase());
        if let Some(d) = &input.due_date {
            summary.push_str(&format!(", due {d}"));
        }
        let step = Step::create("activities", fields, summary.clone());
        self.proposal("log_activity", summary, vec![step]).await
    }

    pub async fn update_deal(&mut self, input: &DealUpdate) -> Result<WriteOutcome, AssistantError> {
        self.record("update_deal", input);
        let deal = match ask("a deal", &input.deal, self.deal_by_name(&input.deal).await?, |d| d.citation()) {
            Ok(d) => d,
            Err(outcome) => return Ok(outcome),
        };
        let mut fields = Map::new();
        let mut changes = Vec::new();
        if let Some(s) = input.stage.as_deref().filter(|s| *s != deal.stage) {
            fields.insert("stage".into(), json!(s));
            changes.push(format!("stage {} → {s}", deal.stage));
        }
        if let Some(a) = input.amount {
            fields.insert("amount".into(), json!(a));
            changes.push(format!("amount → {}", format_money(a, &deal.currency)));
        }
        if let Some(d) = &input.expected_close_date {
            fields.insert("expected_close_date".into(), json!(d));
            changes.push(format!("expected close → {d}"));
        }
        if let Some(p) = &input.priority {
            fields.insert("priority".into(), json!(p));
            changes.push(format!("priority → {p}"));
        }
        if fields.is_empty() {
            return Ok(WriteOutcome::NeedsInput {
                message: format!(
                    "“{}” is already like that, or I couldn't tell what to change. Say e.g. “move it to Negotiation” or “set the amount to $30K”.",
                    deal.label()
                ),
                candidates: vec![deal.citation()],
            });
        }
        let summary = format!("Update deal {}: {}", deal.label(), changes.join(", "));
        let step = Step::update("deals", deal.id, deal.version, fields, summary.clone());
        self.proposal("update_deal", summary, vec![step]).await
    }

    /// Meeting-summary writes: a Meeting activity, a Task per action item, a stage change.
    pub(crate) async fn propose_steps(
        &self,
        kind: &str,
        summary: String,
        steps: Vec<Step>,
    ) -> Result<ProposalView, AssistantError> {
        let lifetime = self.config().proposal_lifetime;
        propose(self.service(), self.ctx(), self.conversation_id(), kind, summary, steps, lifetime).await
    }
}
