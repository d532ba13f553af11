//! Keel's assistant: answers questions about the CRM and proposes changes to it, always
//! as the asking user through keel-service (one policy: row scope, field redaction).
//!
//! - `tools`: typed functions (search companies/contacts/deals, deal summary, totals, and
//!   write tools that only *propose*).
//! - `engine`: `ChatEngine`, the seam for answering a chat turn. `BuiltinEngine` is a
//!   deterministic parser that needs no model; `ModelEngine` is an OpenAI-compatible
//!   provider driving the same tools (falling back to the built-in engine).
//! - `proposals`: stored writes that run when the same user confirms them.
//! - `mcp`: the Model Context Protocol server (stdio and streamable HTTP) over the same tools.
//! - `entry` (smart data entry), `email` (drafts), `meeting` (summaries): without a model.

pub mod citation;
pub mod email;
pub mod engine;
pub mod entry;
pub mod error;
pub mod mcp;
pub mod meeting;
pub mod parse;
pub mod proposals;
pub mod retrieval;
pub mod tools;

use std::sync::Arc;

use keel_service::assistant::NewMessage;
use keel_service::{Ctx, Service};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

pub use citation::Citation;
pub use engine::{BuiltinEngine, ChatEngine, DeltaSink, ModelConfig, ModelEngine, ModelError, Reply};
pub use error::AssistantError;
pub use proposals::ProposalView;
pub use retrieval::{Embedder, EmbeddingsConfig};
pub use tools::{ToolCall, Tools};

#[derive(Debug, Clone)]
pub struct AssistantConfig {
    /// Records a list answer shows (the rest are counted).
    pub max_results: u32,
    /// How long a proposal can be confirmed.
    pub proposal_lifetime: time::Duration,
    /// Earlier messages an engine is given as context.
    pub history_messages: u64,
}

impl Default for AssistantConfig {
    fn default() -> Self {
        Self { max_results: 10, proposal_lifetime: time::Duration::hours(24), history_messages: 20 }
    }
}

/// Longest chat message accepted, in characters.
pub const MAX_MESSAGE_CHARS: usize = 4000;

/// One answered chat turn, as the API returns it.
#[derive(Debug, Clone, Serialize)]
pub struct ChatAnswer {
    pub conversation_id: Uuid,
    pub reply: String,
    pub citations: Vec<Citation>,
    pub proposals: Vec<ProposalView>,
    pub tool_calls: Vec<ToolCall>,
    /// Which engine answered (`builtin` without a model, or when the model failed; `model`).
    pub engine: &'static str,
    /// Why the configured model's answer was replaced by the built-in engine's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback_reason: Option<String>,
}

/// The assistant for one Keel service: cheap to build per request.
pub struct Assistant {
    service: Service,
    config: AssistantConfig,
    engine: Arc<dyn ChatEngine>,
    embedder: Option<Arc<Embedder>>,
}

impl Assistant {
    /// The assistant with the built-in engine (no model, no API key).
    pub fn builtin(service: Service) -> Self {
        Self { service, config: AssistantConfig::default(), engine: Arc::new(BuiltinEngine), embedder: None }
    }

    /// The assistant answering with `engine` (shared: built once, e.g. at start-up).
    pub fn with_engine(service: Service, config: AssistantConfig, engine: Arc<dyn ChatEngine>) -> Self {
        Self { service, config, engine, embedder: None }
    }

    /// Retrieval also finds records by meaning through this embeddings endpoint.
    pub fn with_embedder(mut self, embedder: Option<Arc<Embedder>>) -> Self {
        self.embedder = embedder;
        self
    }

    pub fn tools(&self, ctx: &Ctx, conversation_id: Option<Uuid>) -> Tools {
        Tools::new(self.service.clone(), ctx.clone(), self.config.clone(), conversation_id)
            .with_embedder(self.embedder.clone())
    }

    /// Answer `message` in the user's conversation (a new one when `conversation_id` is
    /// None), and store both sides of the exchange.
    pub async fn chat(
        &self,
        ctx: &Ctx,
        conversation_id: Option<Uuid>,
        message: &str,
    ) -> Result<ChatAnswer, AssistantError> {
        self.answer(ctx, conversation_id, message, None).await
    }

    /// `chat`, sending the reply's text to `on_delta` as it is produced. Engines that do
    /// not stream (the built-in one, a fallback) send their whole answer as one piece.
    /// The returned answer's `reply` is the whole text either way.
    pub async fn chat_streaming(
        &self,
        ctx: &Ctx,
        conversation_id: Option<Uuid>,
        message: &str,
        on_delta: &DeltaSink,
    ) -> Result<ChatAnswer, AssistantError> {
        self.answer(ctx, conversation_id, message, Some(on_delta)).await
    }

    async fn answer(
        &self,
        ctx: &Ctx,
        conversation_id: Option<Uuid>,
        message: &str,
        on_delta: Option<&engine::Sink<'_>>,
    ) -> Result<ChatAnswer, AssistantError> {
        let message = message.trim();
        if message.is_empty() {
            return Err(AssistantError::field("message", "required", "Ask something: message is empty"));
        }
        if message.chars().count() > MAX_MESSAGE_CHARS {
            return Err(AssistantError::field(
                "message",
                "too_long",
                format!("message must be at most {MAX_MESSAGE_CHARS} characters"),
            ));
        }
        let conversation = self.service.assistant_open_conversation(ctx, conversation_id, message).await?;
        let (_, history) =
            self.service.assistant_conversation(ctx, conversation.id, self.config.history_messages).await?;
        let mut tools = self.tools(ctx, Some(conversation.id));
        tools.load_time_zone().await?;
        let streamed = std::sync::atomic::AtomicBool::new(false);
        let relay = |piece: &str| {
            if let Some(sink) = on_delta {
                streamed.store(true, std::sync::atomic::Ordering::Relaxed);
                sink(piece);
            }
        };
        let turn = engine::Turn { message, history: &history, on_delta: on_delta.map(|_| &relay as &engine::Sink<'_>) };
        let reply = self.engine.reply(&mut tools, &turn).await?;
        if let Some(sink) = on_delta
            && !streamed.load(std::sync::atomic::Ordering::Relaxed)
        {
            sink(&reply.text);
        }
        let engine = reply.engine.unwrap_or(self.engine.name());
        let mut data = json!({
            "citations": reply.citations,
            "proposals": reply.proposals.iter().map(|p| p.id).collect::<Vec<_>>(),
            "tool_calls": reply.tool_calls,
            "engine": engine,
        });
        if let Some(reason) = &reply.fallback_reason {
            data["fallback_reason"] = json!(reason);
        }
        let messages = [
            NewMessage { role: "user", content: message.to_string(), data: json!({}) },
            NewMessage { role: "assistant", content: reply.text.clone(), data },
        ];
        self.service.assistant_record_turn(ctx, conversation.id, &messages).await?;
        Ok(ChatAnswer {
            conversation_id: conversation.id,
            reply: reply.text,
            citations: reply.citations,
            proposals: reply.proposals,
            tool_calls: reply.tool_calls,
            engine,
            fallback_reason: reply.fallback_reason,
        })
    }

    pub async fn confirm(&self, ctx: &Ctx, proposal: Uuid) -> Result<ProposalView, AssistantError> {
        proposals::confirm(&self.service, ctx, proposal).await
    }

    pub async fn cancel(&self, ctx: &Ctx, proposal: Uuid) -> Result<ProposalView, AssistantError> {
        proposals::cancel(&self.service, ctx, proposal).await
    }

    pub async fn proposal(&self, ctx: &Ctx, proposal: Uuid) -> Result<ProposalView, AssistantError> {
        proposals::get(&self.service, ctx, proposal).await
    }

    /// Smart data entry: text → a checked, pre-filled contact and a proposal.
    pub async fn parse_contact(&self, ctx: &Ctx, text: &str) -> Result<entry::ContactDraft, AssistantError> {
        if text.trim().is_empty() {
            return Err(AssistantError::field("text", "required", "text is empty"));
        }
        if text.chars().count() > MAX_MESSAGE_CHARS {
            return Err(AssistantError::field(
                "text",
                "too_long",
                format!("text must be at most {MAX_MESSAGE_CHARS} characters"),
            ));
        }
        let parsed = entry::parse_contact_text(text);
        self.tools(ctx, None).create_contact(&parsed).await
    }

    pub async fn email_draft(&self, ctx: &Ctx, request: &email::DraftRequest) -> Result<email::Draft, AssistantError> {
        let mut tools = self.tools(ctx, None);
        tools.load_time_zone().await?;
        email::draft(&tools, request, self.engine.model()).await
    }

    pub async fn meeting_summary(
        &self,
        ctx: &Ctx,
        request: &meeting::SummaryRequest,
    ) -> Result<meeting::SummaryAnswer, AssistantError> {
        let mut tools = self.tools(ctx, None);
        tools.load_time_zone().await?;
        meeting::summarise(&tools, request, self.engine.model()).await
    }

    /// The user's conversations, most recent first.
    pub async fn conversations(&self, ctx: &Ctx) -> Result<Vec<keel_service::assistant::Conversation>, AssistantError> {
        Ok(self.service.assistant_conversations(ctx, 100).await?)
    }

    pub async fn conversation(
        &self,
        ctx: &Ctx,
        id: Uuid,
    ) -> Result<(keel_service::assistant::Conversation, Vec<keel_service::assistant::Message>), AssistantError> {
        Ok(self.service.assistant_conversation(ctx, id, 500).await?)
    }
}
