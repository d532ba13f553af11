//! An OpenAI-compatible model provider (OpenAI, Azure OpenAI, Ollama, vLLM, llama.cpp):
//! `POST {base_url}/chat/completions` with the assistant's tools as JSON schemas, the
//! conversation's stored history and a tool loop. The model only *chooses* tools: each
//! call runs through `Tools` as the asking user (row scope, field redaction), and write
//! tools only return proposals, exactly as with the built-in engine.
//!
//! When the provider fails (timeout, 429, 5xx, an unreadable answer, a call to an unknown
//! tool or with arguments that are not valid JSON for it) the turn is answered by the
//! built-in engine instead, and the reply says why (`fallback_reason`).

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value as Json, json};
use thiserror::Error;
use uuid::Uuid;

use super::builtin::BuiltinEngine;
use super::{BoxFuture, ChatEngine, Reply, Sink, Turn, answer};
use crate::citation::push_unique;
use crate::entry::ParsedContact;
use crate::error::AssistantError;
use crate::tools::{
    ActivityInput, DealFilters, DealInput, DealUpdate, Measure, Resolved, SearchCompanies, SearchContacts,
    SearchRecords, Tools,
};

/// Most tool calls the model may make in one round (more is treated as malformed).
const MAX_CALLS_PER_ROUND: usize = 16;

/// How Keel talks to the model.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelConfig {
    /// e.g. `https://api.openai.com/v1`, `http://localhost:11434/v1` (Ollama).
    pub base_url: String,
    pub model: String,
    /// Sent as `Authorization: Bearer …` when set (local servers usually need none).
    pub api_key: Option<String>,
    pub temperature: Option<f32>,
    pub max_tokens: Option<u32>,
    /// For each request to the model (connect and answer).
    pub timeout: Duration,
    /// Model → tools → model rounds before giving up.
    pub max_rounds: usize,
}

impl ModelConfig {
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            model: model.into(),
            api_key: None,
            temperature: None,
            max_tokens: None,
            timeout: Duration::from_secs(60),
            max_rounds: 5,
        }
    }
}

/// Why the model could not answer a turn (the built-in engine answers instead).
#[derive(Debug, Error)]
pub enum ModelError {
    #[error("the model did not answer within {0} s")]
    Timeout(u64),
    #[error("the model provider is rate limiting requests (HTTP 429)")]
    RateLimited,
    #[error("the model provider failed (HTTP {0})")]
    Server(u16),
    /// Its body is not repeated: it may echo (part of) the API key or the prompt.
    #[error(
        "the model provider refused the request (HTTP {0}); check KEEL_AI_BASE_URL, KEEL_AI_MODEL and KEEL_AI_API_KEY"
    )]
    Refused(u16),
    #[error("the model provider could not be reached: {0}")]
    Unreachable(String),
    #[error("the model's answer could not be read: {0}")]
    Malformed(String),
    #[error("the model called a tool that does not exist: `{0}`")]
    UnknownTool(String),
    #[error("the model called `{tool}` with invalid arguments: {message}")]
    BadArguments { tool: String, message: String },
    #[error("the model did not finish within {0} tool rounds")]
    TooManyRounds(usize),
    #[error("the model client could not be built: {0}")]
    Client(String),
}

/// The provider, ready to answer turns: one HTTP client, reused.
pub struct ModelEngine {
    config: ModelConfig,
    client: reqwest::Client,
    url: String,
}

impl ModelEngine {
    pub fn new(config: ModelConfig) -> Result<Self, ModelError> {
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .build()
            .map_err(|e| ModelError::Client(e.to_string()))?;
        let url = format!("{}/chat/completions", config.base_url.trim_end_matches('/'));
        Ok(Self { config, client, url })
    }

    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// One request without tools whose answer must be a JSON object (email drafts,
    /// meeting summaries): asks for `response_format: json_object` and reads the object
    /// out of the answer's text.
    pub async fn complete_json(&self, system: &str, user: &str) -> Result<Json, ModelError> {
        let body = json!({
            "model": self.config.model,
            "messages": [
                { "role": "system", "content": system },
                { "role": "user", "content": user },
            ],
            "response_format": { "type": "json_object" },
        });
        let res = self.send(body).await?;
        let status = res.status().as_u16();
        let text = res.text().await.map_err(|e| self.transport(e))?;
        if !(200..300).contains(&status) {
            return Err(ModelError::Refused(status));
        }
        let parsed: Completion = serde_json::from_str(&text).map_err(|e| ModelError::Malformed(e.to_string()))?;
        let content = parsed
            .choices
            .into_iter()
            .next()
            .and_then(|c| c.message.content)
            .ok_or_else(|| ModelError::Malformed("no text in the answer".into()))?;
        json_object_in(&content)
    }

    /// POST a chat-completions body with the configured temperature, token limit and key.
    /// A rate limit or a server error is an error here; other statuses are the caller's.
    async fn send(&self, mut body: Json) -> Result<reqwest::Response, ModelError> {
        if let Some(t) = self.config.temperature {
            body["temperature"] = json!(t);
        }
        if let Some(m) = self.config.max_tokens {
            body["max_tokens"] = json!(m);
        }
        let mut req = self.client.post(&self.url).json(&body);
        if let Some(key) = &self.config.api_key {
            req = req.bearer_auth(key);
        }
        let res = req.send().await.map_err(|e| self.transport(e))?;
        let status = res.status().as_u16();
        if status == 429 {
            return Err(ModelError::RateLimited);
        }
        if status >= 500 {
            return Err(ModelError::Server(status));
        }
        Ok(res)
    }

    /// One request to the model. With `on_delta`, asks for a stream (`stream: true`) and
    /// sends the text to it as it arrives; a server that answers with a plain JSON body
    /// instead is read as such.
    async fn complete(&self, messages: &[Json], on_delta: Option<&Sink<'_>>) -> Result<ChatMessage, ModelError> {
        let mut body = json!({
            "model": self.config.model,
            "messages": messages,
            "tools": tool_schemas(),
            "tool_choice": "auto",
        });
        if on_delta.is_some() {
            body["stream"] = json!(true);
        }
        let res = self.send(body).await?;
        let status = res.status().as_u16();
        let is_stream = res
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        if is_stream && (200..300).contains(&status) {
            return self.read_stream(res, on_delta).await;
        }
        let text = res.text().await.map_err(|e| self.transport(e))?;
        if !(200..300).contains(&status) {
            return Err(ModelError::Refused(status));
        }
        let parsed: Completion = serde_json::from_str(&text).map_err(|e| ModelError::Malformed(e.to_string()))?;
        parsed
            .choices
            .into_iter()
            .next()
            .map(|c| c.message)
            .ok_or_else(|| ModelError::Malformed("no choices in the answer".into()))
    }

    /// Read a streamed answer (server-sent events of `chat.completion.chunk`s): text
    /// deltas go to `on_delta`, tool-call pieces are joined by their index.
    async fn read_stream(
        &self,
        mut res: reqwest::Response,
        on_delta: Option<&Sink<'_>>,
    ) -> Result<ChatMessage, ModelError> {
        let mut pending: Vec<u8> = Vec::new();
        let mut content = String::new();
        let mut calls: Vec<ToolCallIn> = Vec::new();
        let mut done = false;
        while !done {
            let Some(chunk) = res.chunk().await.map_err(|e| self.transport(e))? else { break };
            pending.extend_from_slice(&chunk);
            while let Some(end) = pending.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = pending.drain(..=end).collect();
                let line = String::from_utf8_lossy(&line);
                let Some(data) = line.trim().strip_prefix("data:").map(str::trim) else { continue };
                if data == "[DONE]" {
                    done = true;
                    break;
                }
                let chunk: StreamChunk =
                    serde_json::from_str(data).map_err(|e| ModelError::Malformed(e.to_string()))?;
                let Some(delta) = chunk.choices.into_iter().next().map(|c| c.delta) else { continue };
                if let Some(text) = delta.content.filter(|t| !t.is_empty()) {
                    if let Some(sink) = on_delta {
                        sink(&text);
                    }
                    content.push_str(&text);
                }
                for piece in delta.tool_calls {
                    while calls.len() <= piece.index {
                        calls.push(ToolCallIn {
                            id: String::new(),
                            function: FunctionCall { name: String::new(), arguments: Json::String(String::new()) },
                        });
                    }
                    let call = &mut calls[piece.index];
                    if let Some(id) = piece.id {
                        call.id = id;
                    }
                    if let Some(f) = piece.function {
                        if let Some(name) = f.name {
                            call.function.name.push_str(&name);
                        }
                        if let (Some(args), Json::String(all)) = (f.arguments, &mut call.function.arguments) {
                            all.push_str(&args);
                        }
                    }
                }
            }
        }
        if calls.len() > MAX_CALLS_PER_ROUND {
            return Err(ModelError::Malformed(format!("more than {MAX_CALLS_PER_ROUND} tool calls in one round")));
        }
        Ok(ChatMessage { content: (!content.is_empty()).then_some(content), tool_calls: calls })
    }

    fn transport(&self, e: reqwest::Error) -> ModelError {
        if e.is_timeout() {
            ModelError::Timeout(self.config.timeout.as_secs().max(1))
        } else {
            ModelError::Unreachable(e.without_url().to_string())
        }
    }

    /// The tool loop. Tool calls are recorded in `tools`; citations and proposals collect
    /// in the reply.
    async fn run(&self, tools: &mut Tools, turn: &Turn<'_>) -> Result<Reply, ModelError> {
        let mut messages = vec![json!({ "role": "system", "content": system_prompt(tools) })];
        for m in turn.history {
            if matches!(m.role.as_str(), "user" | "assistant") && !m.content.is_empty() {
                messages.push(json!({ "role": m.role, "content": m.content }));
            }
        }
        messages.push(json!({ "role": "user", "content": turn.message }));
        let mut out = Reply::default();
        for _ in 0..self.config.max_rounds {
            let msg = self.complete(&messages, turn.on_delta).await?;
            if msg.tool_calls.len() > MAX_CALLS_PER_ROUND {
                return Err(ModelError::Malformed(format!("more than {MAX_CALLS_PER_ROUND} tool calls in one round")));
            }
            if msg.tool_calls.is_empty() {
                out.text = msg.content.unwrap_or_default().trim().to_string();
                if out.text.is_empty() {
                    return Err(ModelError::Malformed("an empty answer".into()));
                }
                return Ok(out);
            }
            // Check every call before running any, so a malformed round runs nothing.
            let mut calls = Vec::with_capacity(msg.tool_calls.len());
            for c in &msg.tool_calls {
                calls.push((c.id.clone(), ToolArgs::parse(&c.function.name, &c.function.arguments)?));
            }
            messages.push(json!({
                "role": "assistant",
                "content": msg.content,
                "tool_calls": msg.tool_calls.iter().map(|c| json!({
                    "id": c.id,
                    "type": "function",
                    "function": { "name": c.function.name, "arguments": c.function.arguments },
                })).collect::<Vec<_>>(),
            }));
            for (id, args) in calls {
                let content = match args.run(tools).await {
                    Ok(r) => {
                        for c in r.citations {
                            push_unique(&mut out.citations, c);
                        }
                        let mut text = r.text;
                        for p in &r.proposals {
                            text.push_str(&format!(
                                "\n\n[Proposal {} is waiting for the user to confirm or cancel in the app; nothing was saved.]",
                                p.id
                            ));
                        }
                        out.proposals.extend(r.proposals);
                        text
                    }
                    Err(e) => format!("The tool failed: {e}"),
                };
                messages.push(json!({ "role": "tool", "tool_call_id": id, "content": content }));
            }
        }
        Err(ModelError::TooManyRounds(self.config.max_rounds))
    }

    async fn answer(&self, tools: &mut Tools, turn: &Turn<'_>) -> Result<Reply, AssistantError> {
        match self.run(tools, turn).await {
            Ok(reply) => Ok(Reply { tool_calls: tools.take_calls(), engine: Some(self.name()), ..reply }),
            Err(e) => {
                // Whatever the model path looked up is not part of the fallback's answer.
                tools.take_calls();
                let reason = e.to_string();
                let builtin = BuiltinEngine.reply(tools, turn).await?;
                let text = format!(
                    "The AI model could not answer ({reason}), so this is the built-in assistant's answer:\n\n{}",
                    builtin.text
                );
                if let Some(sink) = turn.on_delta {
                    sink(&text);
                }
                Ok(Reply { text, engine: Some(BuiltinEngine.name()), fallback_reason: Some(reason), ..builtin })
            }
        }
    }
}

impl ChatEngine for ModelEngine {
    fn name(&self) -> &'static str {
        "model"
    }

    fn reply<'a>(&'a self, tools: &'a mut Tools, turn: &'a Turn<'a>) -> BoxFuture<'a, Result<Reply, AssistantError>> {
        Box::pin(self.answer(tools, turn))
    }

    fn model(&self) -> Option<&ModelEngine> {
        Some(self)
    }
}

/// The JSON object in a model's answer: the whole text, or the part between the first
/// `{` and the last `}` (models like to wrap JSON in a code fence or a sentence).
pub fn json_object_in(text: &str) -> Result<Json, ModelError> {
    let t = text.trim();
    let candidate = match (t.find('{'), t.rfind('}')) {
        (Some(a), Some(b)) if a < b => &t[a..=b],
        _ => return Err(ModelError::Malformed("the answer holds no JSON object".into())),
    };
    let v: Json = serde_json::from_str(candidate).map_err(|e| ModelError::Malformed(e.to_string()))?;
    if v.is_object() { Ok(v) } else { Err(ModelError::Malformed("the answer is not a JSON object".into())) }
}

fn system_prompt(tools: &Tools) -> String {
    format!(
        "You are Keel's CRM assistant. You have access to the companies, contacts, deals and activities \
         this user may see, through the tools. Help the user find information, create records and get \
         insights from their CRM data. Today is {today}.\n\n\
         Rules:\n\
         - Answer only from tool results; never invent records, names or figures. If the tools find \
         nothing, say so.\n\
         - Amounts in tool arguments are integer minor units (cents): $50K is 5000000.\n\
         - Dates are YYYY-MM-DD.\n\
         - Tools that create or change records never save anything: they prepare a proposal that the \
         user confirms or cancels in the app. Tell the user what was proposed and that it needs their \
         confirmation; never claim it was saved.\n\
         - Be concise and professional.",
        today = tools.today()
    )
}

#[derive(Debug, Deserialize)]
struct Completion {
    #[serde(default)]
    choices: Vec<Choice>,
}

#[derive(Debug, Deserialize)]
struct Choice {
    message: ChatMessage,
}

#[derive(Debug, Deserialize)]
struct ChatMessage {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    tool_calls: Vec<ToolCallIn>,
}

#[derive(Debug, Deserialize)]
struct ToolCallIn {
    id: String,
    function: FunctionCall,
}

#[derive(Debug, Deserialize)]
struct FunctionCall {
    name: String,
    /// A JSON document, as a string (OpenAI); some servers send an object.
    #[serde(default)]
    arguments: Json,
}

#[derive(Debug, Deserialize)]
struct StreamChunk {
    #[serde(default)]
    choices: Vec<StreamChoice>,
}

#[derive(Debug, Deserialize)]
struct StreamChoice {
    #[serde(default)]
    delta: StreamDelta,
}

#[derive(Debug, Default, Deserialize)]
struct StreamDelta {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    tool_calls: Vec<ToolCallPiece>,
}

#[derive(Debug, Deserialize)]
struct ToolCallPiece {
    #[serde(default)]
    index: usize,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    function: Option<FunctionPiece>,
}

#[derive(Debug, Deserialize)]
struct FunctionPiece {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    arguments: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct DealRef {
    /// The deal's title, company name or id.
    deal: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct TotalsArgs {
    #[serde(flatten)]
    filters: DealFilters,
    #[serde(default)]
    measure: Measure,
}

/// A tool call the model (or an MCP client, `crate::mcp`) asked for, with typed arguments.
pub(crate) enum ToolArgs {
    SearchCompanies(SearchCompanies),
    SearchContacts(SearchContacts),
    SearchDeals(DealFilters),
    DealTotals(TotalsArgs),
    DealSummary(DealRef),
    CreateContact(ParsedContact),
    CreateDeal(DealInput),
    LogActivity(ActivityInput),
    UpdateDeal(DealUpdate),
    SearchRecords(SearchRecords),
}

fn typed<T: serde::de::DeserializeOwned>(tool: &str, raw: &Json) -> Result<T, ModelError> {
    let value = match raw {
        Json::String(s) if s.trim().is_empty() => json!({}),
        Json::String(s) => serde_json::from_str(s)
            .map_err(|e| ModelError::BadArguments { tool: tool.to_string(), message: e.to_string() })?,
        Json::Null => json!({}),
        other => other.clone(),
    };
    serde_json::from_value(value)
        .map_err(|e| ModelError::BadArguments { tool: tool.to_string(), message: e.to_string() })
}

impl ToolArgs {
    pub(crate) fn parse(name: &str, raw: &Json) -> Result<Self, ModelError> {
        Ok(match name {
            "search_companies" => ToolArgs::SearchCompanies(typed(name, raw)?),
            "search_contacts" => ToolArgs::SearchContacts(typed(name, raw)?),
            "search_deals" => ToolArgs::SearchDeals(typed(name, raw)?),
            "deal_totals" => ToolArgs::DealTotals(typed(name, raw)?),
            "get_deal_summary" => ToolArgs::DealSummary(typed(name, raw)?),
            "create_contact" => ToolArgs::CreateContact(typed(name, raw)?),
            "create_deal" => ToolArgs::CreateDeal(typed(name, raw)?),
            "log_activity" => ToolArgs::LogActivity(typed(name, raw)?),
            "update_deal" => ToolArgs::UpdateDeal(typed(name, raw)?),
            "search_records" => ToolArgs::SearchRecords(typed(name, raw)?),
            other => return Err(ModelError::UnknownTool(other.chars().take(64).collect())),
        })
    }

    /// Run the tool as the user; its answer is the text the built-in engine would give
    /// (only what the user may see), with its citations and proposals.
    pub(crate) async fn run(self, tools: &mut Tools) -> Result<Reply, AssistantError> {
        Ok(match self {
            ToolArgs::SearchCompanies(a) => answer::companies(&tools.search_companies(&a).await?),
            ToolArgs::SearchContacts(a) => {
                let hits = tools.search_contacts(&a).await?;
                answer::contacts(&hits, a.company.as_deref(), a.query.as_deref())
            }
            ToolArgs::SearchDeals(f) => answer::deals(&tools.search_deals(&f).await?, &f, None),
            ToolArgs::DealTotals(a) => {
                answer::totals(&tools.deal_totals(&a.filters, a.measure).await?, &a.filters, a.measure, None)
            }
            ToolArgs::DealSummary(r) => match Uuid::parse_str(r.deal.trim()) {
                Ok(id) => answer::summary(&tools.get_deal_summary(id).await?),
                Err(_) => match tools.deal_by_name(&r.deal).await? {
                    Resolved::One(d) => answer::summary(&tools.get_deal_summary(d.id).await?),
                    Resolved::Many(rows) => answer::which_deal(&r.deal, &rows),
                    Resolved::None => answer::which_deal(&r.deal, &[]),
                },
            },
            ToolArgs::CreateContact(p) => answer::contact_draft(tools.create_contact(&p).await?),
            ToolArgs::CreateDeal(i) => answer::write(tools.create_deal(&i).await?),
            ToolArgs::LogActivity(i) => answer::write(tools.log_activity(&i).await?),
            ToolArgs::UpdateDeal(i) => answer::write(tools.update_deal(&i).await?),
            ToolArgs::SearchRecords(a) => answer::records(&tools.search_records(&a).await?),
        })
    }
}

fn function(name: &str, description: &str, parameters: Json) -> Json {
    json!({ "type": "function", "function": { "name": name, "description": description, "parameters": parameters } })
}

fn object(properties: Json, required: &[&str]) -> Json {
    json!({ "type": "object", "properties": properties, "required": required })
}

/// The tools as OpenAI function schemas.
pub fn tool_schemas() -> Json {
    let s = json!({ "type": "string" });
    let amount = json!({
        "type": "object",
        "description": "Amount bounds in integer minor units (cents)",
        "properties": {
            "gt": { "type": "integer" }, "gte": { "type": "integer" },
            "lt": { "type": "integer" }, "lte": { "type": "integer" },
        },
    });
    let deal_filters = json!({
        "stages": { "type": "array", "items": s, "description": "Stage names: Prospecting, Qualification, Proposal, Negotiation, Closed Won, Closed Lost" },
        "owner": { "type": "string", "description": "`me` or a user's name" },
        "amount": amount,
        "close_from": { "type": "string", "description": "YYYY-MM-DD, inclusive" },
        "close_to": { "type": "string", "description": "YYYY-MM-DD, inclusive" },
        "date_field": { "type": "string", "enum": ["expected_close_date", "actual_close_date"] },
        "industry": { "type": "string", "description": "The deal's company's industry" },
        "company": { "type": "string", "description": "The deal's company's name" },
        "query": { "type": "string", "description": "Words of the deal's title" },
    });
    let mut totals = deal_filters.clone();
    if let Some(o) = totals.as_object_mut() {
        o.insert("measure".into(), json!({ "type": "string", "enum": ["sum", "count"] }));
    }
    json!([
        function(
            "search_companies",
            "Search companies by name, industry or size",
            object(
                json!({
                    "query": s, "industry": s,
                    "size": { "type": "array", "items": s, "description": "1-10, 11-50, 51-200, 201-500, 501-1000, 1000+" },
                }),
                &[],
            ),
        ),
        function(
            "search_contacts",
            "Search contacts by name or words, or the contacts at a company",
            object(json!({ "query": s, "company": s }), &[]),
        ),
        function(
            "search_deals",
            "Search deals by stage, owner, amount, close date, company or industry",
            object(deal_filters, &[])
        ),
        function("deal_totals", "Sum the amounts of, or count, the deals matching the filters", object(totals, &[])),
        function(
            "get_deal_summary",
            "A deal's details and recent activities",
            object(
                json!({ "deal": { "type": "string", "description": "The deal's title, company or id" } }),
                &["deal"]
            ),
        ),
        function(
            "search_records",
            "Find companies, contacts, deals and activities about a topic: by their words and, where \
             configured, by meaning (notes, descriptions, subjects)",
            object(json!({ "query": { "type": "string", "description": "A topic or question" } }), &["query"]),
        ),
        function(
            "create_contact",
            "Propose a new contact (the user confirms before it is saved)",
            object(
                json!({ "first_name": s, "last_name": s, "title": s, "company": s, "email": s, "phone": s, "website": s }),
                &[],
            ),
        ),
        function(
            "create_deal",
            "Propose a new deal (the user confirms before it is saved)",
            object(
                json!({
                    "title": s, "company": s,
                    "amount": { "type": "integer", "description": "Minor units (cents)" },
                    "stage": s,
                    "expected_close_date": { "type": "string", "description": "YYYY-MM-DD" },
                }),
                &["company"],
            ),
        ),
        function(
            "log_activity",
            "Propose logging an activity or a task (the user confirms before it is saved)",
            object(
                json!({
                    "type": { "type": "string", "enum": ["Call", "Email", "Meeting", "Note", "Task"] },
                    "with": { "type": "string", "description": "A contact, company or deal name" },
                    "subject": s, "description": s,
                    "due_date": { "type": "string", "description": "YYYY-MM-DD" },
                }),
                &["type"],
            ),
        ),
        function(
            "update_deal",
            "Propose changing a deal's stage, amount or close date (the user confirms before it is saved)",
            object(
                json!({
                    "deal": { "type": "string", "description": "The deal by title or company" },
                    "stage": s,
                    "amount": { "type": "integer", "description": "Minor units (cents)" },
                    "expected_close_date": { "type": "string", "description": "YYYY-MM-DD" },
                }),
                &["deal"],
            ),
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_parse_from_a_string_or_an_object() {
        let a = ToolArgs::parse("search_deals", &json!("{\"industry\":\"Technology\",\"amount\":{\"gt\":5000000}}"));
        assert!(matches!(a, Ok(ToolArgs::SearchDeals(f)) if f.industry.as_deref() == Some("Technology")));
        let b = ToolArgs::parse("search_contacts", &json!({ "company": "Acme Corp" }));
        assert!(matches!(b, Ok(ToolArgs::SearchContacts(c)) if c.company.as_deref() == Some("Acme Corp")));
        assert!(matches!(ToolArgs::parse("search_companies", &json!("")), Ok(ToolArgs::SearchCompanies(_))));
    }

    #[test]
    fn json_objects_are_found_in_fences() {
        let v = json_object_in("```json\n{\"subject\": \"Hi\"}\n```").expect("object");
        assert_eq!(v["subject"], "Hi");
        assert!(json_object_in("no json here").is_err());
        assert!(json_object_in("{not json}").is_err());
    }

    #[test]
    fn malformed_calls_are_errors() {
        assert!(matches!(ToolArgs::parse("delete_everything", &json!("{}")), Err(ModelError::UnknownTool(_))));
        assert!(matches!(ToolArgs::parse("search_deals", &json!("{not json")), Err(ModelError::BadArguments { .. })));
        assert!(matches!(
            ToolArgs::parse("search_deals", &json!("{\"amount\": \"lots\"}")),
            Err(ModelError::BadArguments { .. })
        ));
        assert!(matches!(ToolArgs::parse("update_deal", &json!("{}")), Err(ModelError::BadArguments { .. })));
    }

    #[test]
    fn every_schema_names_a_known_tool() {
        let schemas = tool_schemas();
        let names: Vec<&str> =
            schemas.as_array().into_iter().flatten().filter_map(|t| t["function"]["name"].as_str()).collect();
        assert_eq!(names.len(), 10);
        for n in names {
            assert!(
                !matches!(
                    ToolArgs::parse(n, &json!({ "deal": "x", "type": "Call", "company": "x", "query": "x" })),
                    Err(ModelError::UnknownTool(_))
                ),
                "{n}"
            );
        }
    }
}
