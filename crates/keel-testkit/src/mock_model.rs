//! A local OpenAI-compatible chat-completions server for the tests: an axum server on
//! port 0 that answers `POST /v1/chat/completions` from a script (a tool call, a final
//! answer, a status, a delay) and records every request body. Requests with
//! `stream: true` get the scripted completion as server-sent chunks.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// One scripted answer.
#[derive(Debug, Clone)]
pub enum Scripted {
    /// 200 with this completion body.
    Body(Value),
    /// This status with a small error body.
    Status(u16),
    /// Wait, then answer 200 with this body (for timeouts).
    Delay(Duration, Value),
}

impl Scripted {
    /// The model calls `name` with `arguments` (a JSON document sent as a string, as OpenAI does).
    pub fn tool_call(name: &str, arguments: &str) -> Self {
        Self::tool_calls(&[(name, arguments)])
    }

    pub fn tool_calls(calls: &[(&str, &str)]) -> Self {
        let calls: Vec<Value> = calls
            .iter()
            .enumerate()
            .map(|(i, (name, args))| {
                json!({ "id": format!("call_{i}"), "type": "function", "function": { "name": name, "arguments": args } })
            })
            .collect();
        Self::Body(completion(json!({ "role": "assistant", "content": null, "tool_calls": calls }), "tool_calls"))
    }

    /// The model's final answer.
    pub fn answer(text: &str) -> Self {
        Self::Body(completion(json!({ "role": "assistant", "content": text }), "stop"))
    }
}

fn completion(message: Value, finish: &str) -> Value {
    json!({
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "model": "mock",
        "choices": [{ "index": 0, "message": message, "finish_reason": finish }],
    })
}

#[derive(Default)]
struct Inner {
    script: VecDeque<Scripted>,
    requests: Vec<Value>,
}

#[derive(Clone)]
pub struct MockModel {
    /// The base URL to configure (`…/v1`).
    pub base_url: String,
    inner: Arc<Mutex<Inner>>,
}

/// A completion as the chunks of a stream (`stream: true`): the text a few words at a
/// time, each tool call's arguments in two pieces, then `[DONE]`.
fn as_stream(completion: &Value) -> Response {
    let message = &completion["choices"][0]["message"];
    let mut chunks: Vec<Value> = Vec::new();
    let chunk =
        |delta: Value| json!({ "object": "chat.completion.chunk", "choices": [{ "index": 0, "delta": delta }] });
    chunks.push(chunk(json!({ "role": "assistant" })));
    if let Some(text) = message["content"].as_str() {
        let words: Vec<&str> = text.split_inclusive(' ').collect();
        for piece in words.chunks(2) {
            chunks.push(chunk(json!({ "content": piece.concat() })));
        }
    }
    for (i, call) in message["tool_calls"].as_array().into_iter().flatten().enumerate() {
        let args = call["function"]["arguments"].as_str().unwrap_or_default();
        let mid = args.char_indices().nth(args.chars().count() / 2).map_or(0, |(i, _)| i);
        chunks.push(chunk(json!({ "tool_calls": [{ "index": i, "id": call["id"], "type": "function",
            "function": { "name": call["function"]["name"], "arguments": &args[..mid] } }] })));
        chunks.push(chunk(json!({ "tool_calls": [{ "index": i, "function": { "arguments": &args[mid..] } }] })));
    }
    let mut body = String::new();
    for c in chunks {
        body.push_str(&format!("data: {c}\n\n"));
    }
    body.push_str("data: [DONE]\n\n");
    ([(axum::http::header::CONTENT_TYPE, "text/event-stream")], body).into_response()
}

async fn complete(State(inner): State<Arc<Mutex<Inner>>>, Json(body): Json<Value>) -> Response {
    let stream = body["stream"] == json!(true);
    let next = {
        let mut g = inner.lock().expect("mock model lock");
        g.requests.push(body);
        g.script.pop_front()
    };
    match next {
        Some(Scripted::Body(v)) if stream && v["choices"][0]["message"].is_object() => as_stream(&v),
        Some(Scripted::Body(v)) => Json(v).into_response(),
        Some(Scripted::Status(s)) => {
            let status = StatusCode::from_u16(s).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, Json(json!({ "error": { "message": "scripted failure" } }))).into_response()
        }
        Some(Scripted::Delay(d, v)) => {
            tokio::time::sleep(d).await;
            Json(v).into_response()
        }
        None => (StatusCode::INTERNAL_SERVER_ERROR, Json(json!({ "error": { "message": "no scripted answer left" } })))
            .into_response(),
    }
}

impl MockModel {
    pub async fn start() -> MockModel {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = Router::new().route("/v1/chat/completions", axum::routing::post(complete)).with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind mock model");
        let addr = listener.local_addr().expect("mock model addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        MockModel { base_url: format!("http://{addr}/v1"), inner }
    }

    /// Answer the next requests with these, in order.
    pub fn script(&self, answers: impl IntoIterator<Item = Scripted>) {
        let mut g = self.inner.lock().expect("mock model lock");
        g.script.clear();
        g.script.extend(answers);
    }

    /// Request bodies received so far, oldest first; empties the record.
    pub fn take_requests(&self) -> Vec<Value> {
        std::mem::take(&mut self.inner.lock().expect("mock model lock").requests)
    }
}
