//! The Model Context Protocol server: the assistant's tools for a user's own AI client
//! (Claude Desktop, IDE agents), over stdio (`keel mcp`, see `stdio`) or streamable HTTP
//! (`/mcp`, mounted by keel-api with the sessions of `http`). Protocol 2025-06-18
//! (2025-03-26 accepted too); methods `initialize`, `ping`, `tools/list`, `tools/call`
//! and the notifications, and `elicitation/create` sent to the client to confirm writes.
//!
//! The JSON-RPC layer is written by hand rather than with the official `rmcp` SDK: it is
//! five methods and one server→client request, while rmcp brings its own transport and
//! session machinery (and macro-generated schemas) that would restate the tool schemas
//! the model provider already uses and duplicate the axum/auth/session handling Keel has.
//!
//! Every call runs as the token's user through `Tools` (so keel-service and its one
//! policy decide what is visible), with the input schemas of `engine::tool_schemas`, the
//! same definitions the model provider sends. Write tools only make proposals: with a
//! client that declared `elicitation`, the human is asked (accept → the proposal is
//! confirmed as that user, audited; decline/cancel → it is cancelled, nothing written);
//! without, the proposal is returned to be confirmed in Keel.

pub mod args;
pub mod http;
pub mod stdio;

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use keel_service::{Ctx, Service, ServiceError};
use serde_json::{Map, Value as Json, json};
use thiserror::Error;
use tokio::sync::{mpsc, oneshot};

use crate::citation::Citation;
use crate::engine::{BoxFuture, Reply, ToolArgs, tool_schemas};
use crate::error::AssistantError;
use crate::proposals::{self, ProposalView};
use crate::{AssistantConfig, Tools};

/// The version this server speaks; offered when the client asks for one it does not know.
pub const LATEST_PROTOCOL_VERSION: &str = "2025-06-18";
/// Versions this server accepts from a client (the message format is the same for the
/// tools used here).
pub const PROTOCOL_VERSIONS: &[&str] = &["2025-06-18", "2025-03-26"];

pub const PARSE_ERROR: i64 = -32700;
pub const INVALID_REQUEST: i64 = -32600;
pub const METHOD_NOT_FOUND: i64 = -32601;
pub const INVALID_PARAMS: i64 = -32602;
/// The API token stopped working during a session (revoked, user deactivated).
pub const UNAUTHENTICATED: i64 = -32001;

/// How long a write waits for the human to answer an elicitation.
pub const ELICITATION_TIMEOUT: Duration = Duration::from_secs(600);

/// One JSON-RPC message from the client.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    Request {
        id: Json,
        method: String,
        params: Json,
    },
    Notification {
        method: String,
        params: Json,
    },
    /// The client's answer to a request of ours (`elicitation/create`).
    Response {
        id: Json,
        outcome: Result<Json, Json>,
    },
}

/// Read one message; a malformed one gives the error response to send back.
pub fn parse(text: &str) -> Result<Message, Json> {
    let value: Json = serde_json::from_str(text)
        .map_err(|e| error_response(Json::Null, PARSE_ERROR, &format!("the message is not valid JSON: {e}"), None))?;
    let invalid = |why: &str| error_response(Json::Null, INVALID_REQUEST, why, None);
    let Json::Object(mut m) = value else {
        return Err(if value.is_array() {
            invalid("batches are not supported (protocol 2025-06-18): send one message at a time")
        } else {
            invalid("a JSON-RPC message must be an object")
        });
    };
    if m.get("jsonrpc").and_then(Json::as_str) != Some("2.0") {
        return Err(invalid("`jsonrpc` must be \"2.0\""));
    }
    let id = m.remove("id");
    if let Some(id) = &id
        && !(id.is_string() || id.is_i64() || id.is_u64())
    {
        return Err(invalid("`id` must be a string or an integer"));
    }
    let params = m.remove("params").unwrap_or(Json::Null);
    if !(params.is_null() || params.is_object()) {
        let id = id.clone().unwrap_or(Json::Null);
        return Err(error_response(id, INVALID_PARAMS, "`params` must be an object", None));
    }
    match (m.remove("method"), id) {
        (Some(Json::String(method)), Some(id)) => Ok(Message::Request { id, method, params }),
        (Some(Json::String(method)), None) => Ok(Message::Notification { method, params }),
        (Some(_), id) => {
            Err(error_response(id.unwrap_or(Json::Null), INVALID_REQUEST, "`method` must be a string", None))
        }
        (None, Some(id)) => match (m.remove("result"), m.remove("error")) {
            (Some(result), None) => Ok(Message::Response { id, outcome: Ok(result) }),
            (None, Some(error)) => Ok(Message::Response { id, outcome: Err(error) }),
            _ => Err(invalid("a response must have either `result` or `error`")),
        },
        (None, None) => Err(invalid("a message needs a `method` (or an `id` and a `result`)")),
    }
}

pub fn error_response(id: Json, code: i64, message: &str, data: Option<Json>) -> Json {
    let mut error = json!({ "code": code, "message": message });
    if let Some(d) = data {
        error["data"] = d;
    }
    json!({ "jsonrpc": "2.0", "id": id, "error": error })
}

pub fn result_response(id: Json, result: Json) -> Json {
    json!({ "jsonrpc": "2.0", "id": id, "result": result })
}

/// A JSON-RPC error for a request.
#[derive(Debug, Clone, PartialEq, Error)]
#[error("{message}")]
pub struct RpcError {
    pub code: i64,
    pub message: String,
}

impl RpcError {
    fn new(code: i64, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }
}

/// What the client said about itself in `initialize`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSession {
    pub protocol_version: String,
    /// It declared the `elicitation` capability: writes are confirmed by asking the human.
    pub elicitation: bool,
    pub client_name: String,
}

/// Why a request to the client got no usable answer.
#[derive(Debug, Error)]
pub enum PeerError {
    #[error("the client answered with an error: {0}")]
    Client(String),
    #[error("the client did not answer within {0} s")]
    Timeout(u64),
    #[error("the connection to the client closed")]
    Closed,
}

/// Sends a request to the client and waits for its answer.
pub trait Peer: Send + Sync {
    fn request<'a>(&'a self, method: &'a str, params: Json) -> BoxFuture<'a, Result<Json, PeerError>>;
}

/// Our requests to a client that wait for an answer, by id.
#[derive(Debug, Default)]
pub struct Pending {
    next: AtomicU64,
    waiting: Mutex<HashMap<String, oneshot::Sender<Result<Json, Json>>>>,
    closed: AtomicBool,
}

impl Pending {
    /// None once the connection closed (nobody can answer).
    fn register(&self) -> Option<(String, oneshot::Receiver<Result<Json, Json>>)> {
        let id = format!("keel-{}", self.next.fetch_add(1, Ordering::Relaxed) + 1);
        let (tx, rx) = oneshot::channel();
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        if self.closed.load(Ordering::Acquire) {
            return None;
        }
        waiting.insert(id.clone(), tx);
        Some((id, rx))
    }

    /// The client is gone: whoever waits for an answer stops waiting, and no one starts.
    pub fn close(&self) {
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        self.closed.store(true, Ordering::Release);
        waiting.clear();
    }

    fn forget(&self, id: &str) {
        self.waiting.lock().unwrap_or_else(|e| e.into_inner()).remove(id);
    }

    /// Hand the client's answer to whoever waits for it; false when nobody does.
    pub fn resolve(&self, id: &Json, outcome: Result<Json, Json>) -> bool {
        let key = match id {
            Json::String(s) => s.clone(),
            other => other.to_string(),
        };
        match self.waiting.lock().unwrap_or_else(|e| e.into_inner()).remove(&key) {
            Some(tx) => tx.send(outcome).is_ok(),
            None => false,
        }
    }
}

/// A `Peer` writing its requests to a channel (the stdio writer, or an HTTP response's
/// event stream) and reading the answers the transport hands to `Pending::resolve`.
pub struct ChannelPeer {
    pending: std::sync::Arc<Pending>,
    out: mpsc::UnboundedSender<Json>,
    timeout: Duration,
}

impl ChannelPeer {
    pub fn new(pending: std::sync::Arc<Pending>, out: mpsc::UnboundedSender<Json>, timeout: Duration) -> Self {
        Self { pending, out, timeout }
    }

    async fn ask(&self, method: &str, params: Json) -> Result<Json, PeerError> {
        let Some((id, rx)) = self.pending.register() else {
            return Err(PeerError::Closed);
        };
        let message = json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params });
        if self.out.send(message).is_err() {
            self.pending.forget(&id);
            return Err(PeerError::Closed);
        }
        let answer = tokio::time::timeout(self.timeout, rx).await;
        self.pending.forget(&id);
        match answer {
            Err(_) => Err(PeerError::Timeout(self.timeout.as_secs())),
            Ok(Err(_)) => Err(PeerError::Closed),
            Ok(Ok(Ok(result))) => Ok(result),
            Ok(Ok(Err(error))) => {
                Err(PeerError::Client(error.get("message").and_then(Json::as_str).unwrap_or("unknown").to_string()))
            }
        }
    }
}

impl Peer for ChannelPeer {
    fn request<'a>(&'a self, method: &'a str, params: Json) -> BoxFuture<'a, Result<Json, PeerError>> {
        Box::pin(self.ask(method, params))
    }
}

/// The MCP server for one Keel service: cheap to clone.
#[derive(Clone)]
pub struct McpServer {
    service: Service,
    config: AssistantConfig,
    /// Where people reach Keel (`KEEL_PUBLIC_URL`), for absolute record links.
    public_url: Option<String>,
}

impl McpServer {
    pub fn new(service: Service, public_url: Option<String>) -> Self {
        let public_url = public_url.map(|u| u.trim_end_matches('/').to_string()).filter(|u| !u.is_empty());
        Self { service, config: AssistantConfig::default(), public_url }
    }

    pub fn service(&self) -> &Service {
        &self.service
    }

    /// Answer `initialize`: the version both sides speak, and what the client can do.
    pub fn initialize(&self, params: &Json) -> (ClientSession, Json) {
        let asked = params.get("protocolVersion").and_then(Json::as_str).unwrap_or_default();
        let version = if PROTOCOL_VERSIONS.contains(&asked) { asked } else { LATEST_PROTOCOL_VERSION };
        let elicitation = params.get("capabilities").and_then(|c| c.get("elicitation")).is_some_and(Json::is_object);
        let client_name = params
            .get("clientInfo")
            .and_then(|c| c.get("name"))
            .and_then(Json::as_str)
            .unwrap_or("unknown")
            .chars()
            .take(100)
            .collect();
        let session = ClientSession { protocol_version: version.to_string(), elicitation, client_name };
        let result = json!({
            "protocolVersion": version,
            "capabilities": { "tools": { "listChanged": false } },
            "serverInfo": { "name": "keel", "title": "Keel CRM", "version": env!("CARGO_PKG_VERSION") },
            "instructions": "Keel CRM tools. Every call runs as the API token's user and sees only the records \
                             that user may see. Amounts are integer minor units (cents); dates are YYYY-MM-DD. \
                             Tools that create or change records ask the user to confirm before anything is saved.",
        });
        (session, result)
    }

    /// Answer a request (anything but `initialize`) as `ctx`'s user.
    pub async fn request(
        &self,
        ctx: &Ctx,
        session: &ClientSession,
        method: &str,
        params: &Json,
        peer: Option<&dyn Peer>,
    ) -> Result<Json, RpcError> {
        match method {
            "ping" => Ok(json!({})),
            "tools/list" => Ok(json!({ "tools": tool_list() })),
            "tools/call" => self.call_tool(ctx, session, params, peer).await,
            "initialize" => Err(RpcError::new(INVALID_REQUEST, "the session is initialized already")),
            other => Err(RpcError::new(METHOD_NOT_FOUND, format!("unknown method `{}`", clip(other)))),
        }
    }

    /// The response message for a request.
    pub async fn respond(
        &self,
        ctx: &Ctx,
        session: &ClientSession,
        id: Json,
        method: &str,
        params: &Json,
        peer: Option<&dyn Peer>,
    ) -> Json {
        match self.request(ctx, session, method, params, peer).await {
            Ok(result) => result_response(id, result),
            Err(e) => error_response(id, e.code, &e.message, None),
        }
    }

    async fn call_tool(
        &self,
        ctx: &Ctx,
        session: &ClientSession,
        params: &Json,
        peer: Option<&dyn Peer>,
    ) -> Result<Json, RpcError> {
        let name = params
            .get("name")
            .and_then(Json::as_str)
            .ok_or_else(|| RpcError::new(INVALID_PARAMS, "`name` (the tool to call, a string) is required"))?;
        let schemas = tool_schemas();
        let Some(schema) = schemas
            .as_array()
            .into_iter()
            .flatten()
            .find(|t| t["function"]["name"].as_str() == Some(name))
            .map(|t| t["function"]["parameters"].clone())
        else {
            return Err(RpcError::new(INVALID_PARAMS, format!("Unknown tool: `{}`", clip(name))));
        };
        let arguments = match params.get("arguments") {
            None | Some(Json::Null) => Map::new(),
            Some(Json::Object(m)) => m.clone(),
            Some(_) => return Err(RpcError::new(INVALID_PARAMS, "`arguments` must be an object")),
        };
        let errors = args::check(&schema, &arguments);
        if !errors.is_empty() {
            let lines: Vec<String> = errors.iter().map(|e| e.message.clone()).collect();
            let details: Vec<Json> = errors
                .iter()
                .map(|e| json!({ "argument": e.argument, "rule": e.rule, "message": e.message }))
                .collect();
            return Ok(tool_error(
                format!("Invalid arguments for `{name}`: {}", lines.join("; ")),
                json!({ "errors": details }),
            ));
        }
        let call = match ToolArgs::parse(name, &Json::Object(arguments)) {
            Ok(c) => c,
            Err(e) => return Ok(tool_error(e.to_string(), json!({}))),
        };
        let mut tools = Tools::new(self.service.clone(), ctx.clone(), self.config.clone(), None);
        let reply = match call.run(&mut tools).await {
            Ok(r) => r,
            Err(e) => return Ok(self.failure(&e)),
        };
        if reply.proposals.is_empty() {
            return Ok(self.answer(reply));
        }
        match peer.filter(|_| session.elicitation) {
            Some(peer) => Ok(self.ask_human(ctx, reply, peer).await),
            None => Ok(self.awaiting(reply, None)),
        }
    }

    fn link(&self, path: &str) -> String {
        match &self.public_url {
            Some(base) if path.starts_with('/') => format!("{base}{path}"),
            _ => path.to_string(),
        }
    }

    fn cite(&self, c: &Citation) -> Json {
        json!({ "entity": c.entity, "id": c.id, "title": c.title, "url": self.link(&c.url) })
    }

    fn with_links(&self, mut text: String, citations: &[Citation]) -> String {
        if !citations.is_empty() {
            text.push_str("\n\nLinks:");
            for c in citations {
                text.push_str(&format!("\n- {}: {}", c.title, self.link(&c.url)));
            }
        }
        text
    }

    /// A read's answer: the text the built-in engine would give, plus the records it used.
    fn answer(&self, reply: Reply) -> Json {
        let records: Vec<Json> = reply.citations.iter().map(|c| self.cite(c)).collect();
        let text = self.with_links(reply.text, &reply.citations);
        tool_result(text, json!({ "records": records }), false)
    }

    fn proposal_json(&self, p: &ProposalView, decision: &str) -> Json {
        let mut v = json!(p);
        v["decision"] = json!(decision);
        v["records"] = Json::Array(p.records.iter().map(|c| self.cite(c)).collect());
        v["confirm_url"] = json!(self.link(&p.confirm_url));
        v["cancel_url"] = json!(self.link(&p.cancel_url));
        v["review_url"] = json!(self.link(&review_path(p)));
        v
    }

    /// Proposals left for the user to confirm in Keel.
    fn awaiting(&self, reply: Reply, why: Option<String>) -> Json {
        let mut text = reply.text.clone();
        if let Some(why) = why {
            text.push_str(&format!("\n\n{why}"));
        }
        for p in &reply.proposals {
            text.push_str(&format!(
                "\n\nNothing was saved. Proposal {} (“{}”) waits for the user to confirm or cancel it in \
                 Keel: {} (or POST {} with their API token); it expires at {}.",
                p.id,
                p.summary,
                self.link(&review_path(p)),
                self.link(&p.confirm_url),
                p.expires_at
            ));
        }
        let proposals: Vec<Json> = reply.proposals.iter().map(|p| self.proposal_json(p, "pending")).collect();
        let records: Vec<Json> = reply.citations.iter().map(|c| self.cite(c)).collect();
        tool_result(text, json!({ "proposals": proposals, "records": records }), false)
    }

    /// Ask the human about each proposal through `elicitation/create`, then confirm or
    /// cancel it as they said (as the token's user: validated, permission-checked, audited).
    async fn ask_human(&self, ctx: &Ctx, reply: Reply, peer: &dyn Peer) -> Json {
        let mut text = Vec::new();
        let mut proposals = Vec::new();
        let mut records = Vec::new();
        let mut failed = false;
        for p in &reply.proposals {
            let steps: Vec<String> = p.steps.iter().map(|s| format!("- {}", s.label)).collect();
            let params = json!({
                "message": format!(
                    "Keel asks before saving this to your CRM:\n\n{}\n\nSave it?",
                    steps.join("\n")
                ),
                "requestedSchema": {
                    "type": "object",
                    "properties": {
                        "confirm": {
                            "type": "boolean",
                            "title": "Save this change",
                            "description": p.summary,
                            "default": true,
                        },
                    },
                    "required": ["confirm"],
                },
            });
            let answer = peer.request("elicitation/create", params).await;
            let action = match &answer {
                Ok(a) => a.get("action").and_then(Json::as_str).unwrap_or_default().to_string(),
                Err(_) => String::new(),
            };
            let confirmed = answer.as_ref().ok().and_then(|a| a.get("content")).and_then(|c| c.get("confirm"))
                != Some(&json!(false));
            match action.as_str() {
                "accept" if confirmed => match proposals::confirm(&self.service, ctx, p.id).await {
                    Ok(done) => {
                        text.push(self.with_links(format!("Saved: {}.", done.summary), &done.records));
                        records.extend(done.records.iter().map(|c| self.cite(c)));
                        proposals.push(self.proposal_json(&done, "confirmed"));
                    }
                    Err(e) => {
                        failed = true;
                        text.push(format!(
                            "The user accepted “{}”, but Keel refused it: {}. Nothing more was saved.",
                            p.summary,
                            describe(&e)
                        ));
                        let now = proposals::get(&self.service, ctx, p.id).await.unwrap_or_else(|_| p.clone());
                        proposals.push(self.proposal_json(&now, "failed"));
                    }
                },
                "accept" | "decline" | "cancel" => {
                    let view = proposals::cancel(&self.service, ctx, p.id).await.unwrap_or_else(|_| p.clone());
                    text.push(format!("Nothing was saved: the user declined “{}”.", p.summary));
                    proposals.push(self.proposal_json(&view, "declined"));
                }
                _ => {
                    let why = match answer {
                        Err(e) => e.to_string(),
                        Ok(_) => "the client's answer had no valid `action`".to_string(),
                    };
                    text.push(format!(
                        "Could not ask the user ({why}). Nothing was saved. Proposal {} (“{}”) waits for \
                         confirmation in Keel: {}",
                        p.id,
                        p.summary,
                        self.link(&review_path(p))
                    ));
                    proposals.push(self.proposal_json(p, "pending"));
                }
            }
        }
        tool_result(text.join("\n\n"), json!({ "proposals": proposals, "records": records }), failed)
    }

    /// A tool that failed, as an `isError` result the model can read (never internals).
    fn failure(&self, e: &AssistantError) -> Json {
        let message = describe(e);
        let errors: Vec<Json> = match e {
            AssistantError::Invalid(f) | AssistantError::Service(ServiceError::Invalid(f)) => {
                f.0.iter().map(|x| json!({ "argument": x.field, "rule": x.code, "message": x.message })).collect()
            }
            _ => Vec::new(),
        };
        tool_error(message, json!({ "errors": errors }))
    }
}

/// An error in words for the client; internal details stay in the server.
fn describe(e: &AssistantError) -> String {
    match e {
        AssistantError::Service(ServiceError::Internal(_)) => "Keel could not complete this (internal error)".into(),
        AssistantError::Service(ServiceError::NotFound) => "not found (or not visible to you)".into(),
        other => other.to_string(),
    }
}

/// The web app's page for confirming or cancelling a proposal.
fn review_path(p: &ProposalView) -> String {
    format!("/assistant/proposals/{}", p.id)
}

fn clip(s: &str) -> String {
    s.chars().take(64).collect()
}

fn tool_result(text: String, structured: Json, is_error: bool) -> Json {
    json!({
        "content": [{ "type": "text", "text": text }],
        "structuredContent": structured,
        "isError": is_error,
    })
}

fn tool_error(text: String, structured: Json) -> Json {
    tool_result(text, structured, true)
}

/// The tools as MCP lists them: the model provider's function schemas, unchanged.
pub fn tool_list() -> Vec<Json> {
    tool_schemas()
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            let f = &t["function"];
            let name = f["name"].as_str().unwrap_or_default();
            let writes = matches!(name, "create_contact" | "create_deal" | "log_activity" | "update_deal");
            json!({
                "name": name,
                "description": f["description"],
                "inputSchema": f["parameters"],
                "annotations": { "readOnlyHint": !writes, "destructiveHint": false, "openWorldHint": false },
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_parse_by_kind() {
        let r = parse(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#);
        assert_eq!(r, Ok(Message::Request { id: json!(1), method: "ping".into(), params: Json::Null }));
        let n = parse(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
        assert!(matches!(n, Ok(Message::Notification { .. })));
        let a = parse(r#"{"jsonrpc":"2.0","id":"keel-1","result":{"action":"accept"}}"#);
        assert!(matches!(a, Ok(Message::Response { outcome: Ok(_), .. })));
    }

    #[test]
    fn malformed_messages_get_json_rpc_errors() {
        let code = |text: &str| parse(text).err().map(|e| e["error"]["code"].as_i64().unwrap_or_default());
        assert_eq!(code("{nope"), Some(PARSE_ERROR));
        assert_eq!(code("[]"), Some(INVALID_REQUEST));
        assert_eq!(code("3"), Some(INVALID_REQUEST));
        assert_eq!(code(r#"{"id":1,"method":"ping"}"#), Some(INVALID_REQUEST));
        assert_eq!(code(r#"{"jsonrpc":"2.0","id":{},"method":"ping"}"#), Some(INVALID_REQUEST));
        assert_eq!(code(r#"{"jsonrpc":"2.0","id":1,"method":"ping","params":[1]}"#), Some(INVALID_PARAMS));
        assert_eq!(code(r#"{"jsonrpc":"2.0","id":1}"#), Some(INVALID_REQUEST));
    }

    #[test]
    fn the_tool_list_is_the_model_providers_schemas() {
        let list = tool_list();
        let schemas = tool_schemas();
        assert_eq!(list.len(), schemas.as_array().map_or(0, Vec::len));
        for (t, s) in list.iter().zip(schemas.as_array().into_iter().flatten()) {
            assert_eq!(t["name"], s["function"]["name"]);
            assert_eq!(t["inputSchema"], s["function"]["parameters"]);
        }
    }
}
