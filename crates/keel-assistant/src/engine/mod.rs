//! Answering a chat turn. `ChatEngine` is the seam: the built-in engine (a deterministic
//! parser, no model) and `ModelEngine` (an OpenAI-compatible provider with tool calling
//! over the same `Tools`, falling back to the built-in engine when the provider fails).

mod answer;
mod builtin;
pub mod intent;
mod model;

use std::future::Future;
use std::pin::Pin;

use keel_service::assistant::Message;

use crate::citation::Citation;
use crate::error::AssistantError;
use crate::proposals::ProposalView;
use crate::tools::{ToolCall, Tools};

pub use builtin::BuiltinEngine;
pub(crate) use model::ToolArgs;
pub use model::{ModelConfig, ModelEngine, ModelError, json_object_in, tool_schemas};

/// A boxed future, so engines can be chosen at run time (`Box<dyn ChatEngine>`).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What an engine is asked: the new message and the conversation so far.
pub struct Turn<'a> {
    pub message: &'a str,
    /// Earlier messages of the conversation, oldest first (for engines that use context).
    pub history: &'a [Message],
    /// Where to send the answer's text as it is produced (streaming), if anywhere. An
    /// engine may send nothing; the final `Reply::text` is always the whole answer.
    pub on_delta: Option<&'a Sink<'a>>,
}

/// Receives pieces of an answer's text as they arrive.
pub type Sink<'a> = dyn Fn(&str) + Send + Sync + 'a;
/// A `Sink` that borrows nothing (what `Assistant::chat_streaming` takes).
pub type DeltaSink = Sink<'static>;

/// An engine's answer.
#[derive(Debug, Clone, Default)]
pub struct Reply {
    /// Markdown-ish text.
    pub text: String,
    pub citations: Vec<Citation>,
    pub proposals: Vec<ProposalView>,
    pub tool_calls: Vec<ToolCall>,
    /// Which engine actually answered, when not the engine asked (a provider's fallback).
    pub engine: Option<&'static str>,
    /// Why the model's answer was replaced by the built-in engine's.
    pub fallback_reason: Option<String>,
}

pub trait ChatEngine: Send + Sync {
    /// A short name for the reply's `engine` field (`builtin`, `model`).
    fn name(&self) -> &'static str;

    /// Answer one turn using `tools` (which run as the asking user).
    fn reply<'a>(&'a self, tools: &'a mut Tools, turn: &'a Turn<'a>) -> BoxFuture<'a, Result<Reply, AssistantError>>;

    /// The model provider behind this engine, if any: email drafts and meeting summaries
    /// are written by it when there is one (falling back to the templates).
    fn model(&self) -> Option<&ModelEngine> {
        None
    }
}
