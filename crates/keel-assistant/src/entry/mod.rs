//! Smart data entry: parse text about a person (`card::parse_contact_text`, pure), then
//! check it against the CRM as the user — is the company already there (or new), is the
//! email already a contact — and return a pre-filled contact with a proposal to create it
//! (and the company, when new). Nothing is written until the user confirms.

pub mod card;

use serde::Serialize;
use serde_json::{Map, Value as Json, json};
use uuid::Uuid;

use crate::citation::Citation;
use crate::error::AssistantError;
use crate::proposals::{ProposalView, Step, propose};
use crate::tools::{CompanyRow, Resolved, Tools, pair, str_of, uuid_of};
pub use card::{ParsedContact, parse_contact_text};

/// How the company named in the text matched the CRM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum CompanyMatch {
    /// No company was named.
    None,
    Existing {
        id: Uuid,
        name: String,
    },
    /// Named but not found: the proposal creates it first.
    New {
        name: String,
    },
    /// Several companies match: the user should say which.
    Ambiguous {
        name: String,
        candidates: Vec<Citation>,
    },
}

/// A pre-filled contact, what was found, and (when it can be created) the proposal.
#[derive(Debug, Clone, Serialize)]
pub struct ContactDraft {
    pub parsed: ParsedContact,
    /// The contact's fields as the create form would hold them.
    pub fields: Map<String, Json>,
    pub company: CompanyMatch,
    /// A contact the user can see already has this email.
    pub duplicate: Option<Citation>,
    /// Fields that must be given before it can be created.
    pub missing: Vec<String>,
    pub proposal: Option<ProposalView>,
}

fn company_citations(rows: &[CompanyRow]) -> Vec<Citation> {
    rows.iter().map(CompanyRow::citation).collect()
}

impl Tools {
    /// `create_contact`: never writes; returns the draft and, when complete and not a
    /// duplicate, a proposal to create it.
    pub async fn create_contact(&mut self, input: &ParsedContact) -> Result<ContactDraft, AssistantError> {
        self.record("create_contact", input);
        let company = match input.company.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
            None => CompanyMatch::None,
            Some(name) => match self.company_by_name(name).await? {
                Resolved::One(c) => CompanyMatch::Existing { id: c.id, name: c.name },
                Resolved::None => CompanyMatch::New { name: name.to_string() },
                Resolved::Many(rows) => {
                    CompanyMatch::Ambiguous { name: name.to_string(), candidates: company_citations(&rows) }
                }
            },
        };
        let duplicate = match &input.email {
            Some(email) => {
                let page = self.list("contacts", &[pair("email", email.to_lowercase()), pair("limit", "1")]).await;
                // An email the list refuses (malformed) is caught by validation on confirm.
                page.ok().and_then(|p| p.data.into_iter().next()).and_then(|r| {
                    Some(Citation::new("contacts", uuid_of(&r, "id")?, str_of(&r, "full_name").unwrap_or("contact")))
                })
            }
            None => None,
        };
        let mut fields = Map::new();
        for (k, v) in [
            ("first_name", &input.first_name),
            ("last_name", &input.last_name),
            ("title", &input.title),
            ("email", &input.email),
            ("phone", &input.phone),
        ] {
            if let Some(v) = v {
                fields.insert(k.into(), json!(v));
            }
        }
        if let CompanyMatch::Existing { id, .. } = &company {
            fields.insert("company_id".into(), json!(id));
        }
        let mut missing = Vec::new();
        if !input.has_name() {
            missing.push("first_name".to_string());
        }
        let ready = missing.is_empty() && duplicate.is_none() && !matches!(company, CompanyMatch::Ambiguous { .. });
        let proposal = if ready { Some(self.propose_contact(input, &company, &fields).await?) } else { None };
        Ok(ContactDraft { parsed: input.clone(), fields, company, duplicate, missing, proposal })
    }

    async fn propose_contact(
        &self,
        input: &ParsedContact,
        company: &CompanyMatch,
        fields: &Map<String, Json>,
    ) -> Result<ProposalView, AssistantError> {
        let name = input.full_name();
        let mut steps = Vec::new();
        let mut contact = fields.clone();
        let summary = match company {
            CompanyMatch::New { name: company_name } => {
                let mut c = Map::new();
                c.insert("name".into(), json!(company_name));
                if let Some(w) = &input.website {
                    let url = if w.starts_with("http") { w.clone() } else { format!("https://{w}") };
                    c.insert("website".into(), json!(url));
                }
                steps.push(Step::create("companies", c, format!("Create company {company_name}")));
                contact.insert("company_id".into(), json!({ "$step": 0 }));
                format!("Create contact {name} at {company_name} (a new company)")
            }
            CompanyMatch::Existing { name: company_name, .. } => format!("Create contact {name} at {company_name}"),
            _ => format!("Create contact {name}"),
        };
        steps.push(Step::create("contacts", contact, format!("Create contact {name}")));
        let lifetime = self.config().proposal_lifetime;
        propose(self.service(), self.ctx(), self.conversation_id(), "create_contact", summary, steps, lifetime).await
    }
}
