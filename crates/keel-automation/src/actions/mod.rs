//! Actions: each is rendered first (templates → the exact input it will send or write,
//! also what a dry run shows and what the run history keeps), then executed with an
//! idempotency key derived from the job and the action's index.

pub(crate) mod email;
pub(crate) mod http;
mod records;
pub mod script;

use std::sync::Arc;

use keel_domain::EntityDef;
use keel_service::{Ctx, Service, ServiceError};
use minijinja::Environment;
use serde_json::{Value as Json, json};
use uuid::Uuid;

use crate::config::AutomationConfig;
use crate::definition::Action;
use crate::template::{self, Flavor};

/// Why an action failed, and whether trying again could help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActionError {
    /// A network error, a timeout, a 5xx or 429, a busy database: retried with backoff.
    #[error("{0}")]
    Transient(String),
    /// A template error, a refused address, a 4xx, a validation error: retrying the same
    /// input cannot succeed, so the job is dead-lettered at once.
    #[error("{0}")]
    Permanent(String),
}

impl ActionError {
    pub fn is_permanent(&self) -> bool {
        matches!(self, ActionError::Permanent(_))
    }
}

impl From<ServiceError> for ActionError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Busy | ServiceError::Internal(_) => ActionError::Transient(e.to_string()),
            other => ActionError::Permanent(other.to_string()),
        }
    }
}

/// What an action is about: the trigger record and who the run acts as.
pub struct Target<'a> {
    pub entity: &'a EntityDef,
    pub record_id: Uuid,
    /// The run's context (what templates see).
    pub context: &'a Json,
    /// Who the run acts as: rendering an assignment reads the team it rotates through.
    pub ctx: Option<&'a Ctx>,
    /// A dry run: look, do not advance round-robin turns.
    pub dry_run: bool,
}

/// Renders and executes actions; one per worker, shared by its runs.
pub struct Runtime {
    pub service: Service,
    pub config: Arc<AutomationConfig>,
    env: Environment<'static>,
    pub(crate) http: reqwest::Client,
}

/// Run a script (on a blocking thread: it is CPU work, bounded by its time limit) and
/// turn what it asked for into the input `execute` applies.
async fn script_input(
    code: &str,
    timeout_ms: Option<u64>,
    memory_mb: Option<u64>,
    target: &Target<'_>,
    key: &str,
) -> Result<Json, ActionError> {
    let timeout =
        std::time::Duration::from_millis(timeout_ms.unwrap_or(script::DEFAULT_TIMEOUT_MS).min(script::MAX_TIMEOUT_MS));
    let memory = memory_mb.unwrap_or(script::DEFAULT_MEMORY_MB).min(script::MAX_MEMORY_MB);
    let (code, context, singular) = (code.to_string(), target.context.clone(), target.entity.singular.clone());
    let outcome = tokio::task::spawn_blocking(move || script::run(&code, &context, &singular, timeout, memory))
        .await
        .map_err(|e| ActionError::Transient(format!("the script thread failed: {e}")))??;
    let addresses = |v: &Json| -> Vec<String> {
        let items: Vec<String> = match v {
            Json::String(s) => vec![s.clone()],
            Json::Array(a) => a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect(),
            _ => Vec::new(),
        };
        items.iter().flat_map(|s| s.split(',')).map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()
    };
    let mut emails = Vec::new();
    for (i, m) in outcome.emails.iter().enumerate() {
        let to = addresses(&m["to"]);
        if to.is_empty() {
            return Err(ActionError::Permanent(format!("sendEmail #{}: no recipient", i + 1)));
        }
        emails.push(json!({
            "to": to, "cc": addresses(&m["cc"]),
            "subject": m["subject"].as_str().unwrap_or_default().replace(['\r', '\n'], " "),
            "text": m["text"].as_str(), "html": m["html"].as_str(),
            "message_id": format!("<{key}-{i}@keel>"),
        }));
    }
    Ok(json!({
        "logs": outcome.logs,
        "update": { "entity": target.entity.name, "op": "update", "id": target.record_id.to_string(), "fields": outcome.set },
        "emails": emails,
    }))
}

impl Runtime {
    pub fn new(service: Service, config: Arc<AutomationConfig>) -> Self {
        let http = reqwest::Client::builder()
            .timeout(config.http_timeout)
            .user_agent(concat!("Keel/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Self { service, config, env: template::environment(), http }
    }

    fn text(&self, source: &str, ctx: &Json) -> Result<String, ActionError> {
        template::render(&self.env, Flavor::Text, source, ctx).map_err(ActionError::Permanent)
    }

    fn html(&self, source: &str, ctx: &Json) -> Result<String, ActionError> {
        template::render(&self.env, Flavor::Html, source, ctx).map_err(ActionError::Permanent)
    }

    /// Every string in a JSON value rendered as a template.
    fn json(&self, v: &Json, ctx: &Json) -> Result<Json, ActionError> {
        Ok(match v {
            Json::String(s) => Json::String(self.text(s, ctx)?),
            Json::Array(items) => Json::Array(items.iter().map(|i| self.json(i, ctx)).collect::<Result<_, _>>()?),
            Json::Object(map) => Json::Object(
                map.iter().map(|(k, i)| Ok((k.clone(), self.json(i, ctx)?))).collect::<Result<_, ActionError>>()?,
            ),
            other => other.clone(),
        })
    }

    /// The action's input with every template rendered: what it will send or write.
    pub async fn render(&self, action: &Action, target: &Target<'_>, key: &str) -> Result<Json, ActionError> {
        match action {
            Action::SendEmail { .. } => email::render(self, action, target.context, key),
            Action::PostSlack { .. } | Action::PostTeams { .. } | Action::CallWebhook { .. } => {
                http::render(self, action, target.context)
            }
            Action::CreateActivity { .. } | Action::UpdateRecord { .. } | Action::AssignOwner { .. } => {
                records::render(self, action, target).await
            }
            Action::RunScript { code, timeout_ms, memory_mb } => {
                script_input(code, *timeout_ms, *memory_mb, target, key).await
            }
        }
    }

    /// Do it. `input` is what `render` returned; `key` identifies this action of this job,
    /// so a receiver that deduplicates sees a retry as the same message.
    pub async fn execute(&self, action: &Action, input: &Json, key: &str, ctx: &Ctx) -> Result<Json, ActionError> {
        match action {
            Action::SendEmail { .. } => email::send(self, input).await,
            Action::PostSlack { .. } | Action::PostTeams { .. } | Action::CallWebhook { .. } => {
                http::send(self, action, input, key).await
            }
            Action::CreateActivity { .. } | Action::UpdateRecord { .. } | Action::AssignOwner { .. } => {
                records::execute(self, input, key, ctx).await
            }
            Action::RunScript { .. } => {
                let mut out = json!({ "logs": input["logs"] });
                if input["update"]["fields"].as_object().is_some_and(|f| !f.is_empty()) {
                    out["update"] = records::execute(self, &input["update"], key, ctx).await?;
                }
                // Each email is its own message, with its own Message-ID.
                let mut sent = Vec::new();
                for email in input["emails"].as_array().into_iter().flatten() {
                    sent.push(email::send(self, email).await?);
                }
                out["emails"] = Json::Array(sent);
                Ok(out)
            }
        }
    }
}
