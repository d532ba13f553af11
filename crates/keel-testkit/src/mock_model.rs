//! A local OpenAI-compatible chat-completions server for the tests: an axum server on
//! port 0 that answers `POST /v1/chat/completions` from a script (a tool call, a final
//! answer, a status, a delay) and records every request body. Requests with
//! `stream: true` get the scripted completion as server-sent chunks. `POST /v1/embeddings`
//! answers deterministic vectors (`mock_embedding`), or a chosen status when "down".

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
    /// Every text `/embeddings` was asked to embed, oldest first.
    embedded: Vec<String>,
    /// When set, `/embeddings` answers this status instead (the endpoint is "down").
    embeddings_down: Option<u16>,
}

/// Dimensions of the mock's embeddings.
pub const EMBEDDING_DIMS: usize = 256;

/// Words the mock treats as meaning the same (so a search by meaning finds what a search
/// by words does not): each maps to its concept.
const CONCEPTS: &[(&str, &str)] = &[
    ("photovoltaic", "solar"),
    ("rooftop", "solar"),
    ("sunlight", "solar"),
    ("renewable", "solar"),
    ("renewables", "solar"),
    ("espresso", "coffee"),
    ("coffee", "coffee"),
];

/// Words the mock ignores: the labels Keel puts before each field, and filler.
const IGNORED: &[&str] = &[
    "deal",
    "stage",
    "notes",
    "company",
    "contact",
    "activity",
    "subject",
    "description",
    "industry",
    "title",
    "size",
    "source",
    "priority",
    "email",
    "department",
    "city",
    "country",
    "state",
    "domain",
    "the",
    "and",
    "who",
    "what",
    "with",
    "for",
    "are",
    "about",
    "wants",
    "want",
    "anyone",
    "anything",
];

/// A deterministic embedding: a bag of word concepts (a word's first 5 letters, or its
/// concept above; labels and filler ignored) hashed into `EMBEDDING_DIMS` buckets
/// (FNV-1a). Texts sharing words or concepts are close; others are orthogonal or nearly so.
/// A text with no counted word gets a vector of zeros (the client must refuse it).
pub fn mock_embedding(text: &str) -> Vec<f32> {
    let mut v = vec![0.0_f32; EMBEDDING_DIMS];
    for word in text.split(|c: char| !c.is_alphanumeric()).filter(|w| w.len() > 2) {
        let lower = word.to_lowercase();
        if IGNORED.contains(&lower.as_str()) {
            continue;
        }
        let concept = CONCEPTS
            .iter()
            .find(|(w, _)| *w == lower)
            .map_or_else(|| lower.chars().take(5).collect::<String>(), |(_, c)| (*c).to_string());
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in concept.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        v[(h % EMBEDDING_DIMS as u64) as usize] += 1.0;
    }
    v
}

async fn embeddings(State(inner): State<Arc<Mutex<Inner>>>, Json(body): Json<Value>) -> Response {
    let inputs: Vec<String> = match &body["input"] {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a.iter().map(|v| v.as_str().unwrap_or_default().to_string()).collect(),
        _ => {
            return (StatusCode::BAD_REQUEST, Json(json!({ "error": { "message": "input is required" } })))
                .into_response();
        }
    };
    {
        let mut g = inner.lock().expect("mock model lock");
        if let Some(status) = g.embeddings_down {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            return (status, Json(json!({ "error": { "message": "embeddings are down" } }))).into_response();
        }
        g.embedded.extend(inputs.iter().cloned());
    }
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(i, t)| json!({ "object": "embedding", "index": i, "embedding": mock_embedding(t) }))
        .collect();
    Json(json!({ "object": "list", "model": body["model"], "data": data })).into_response()
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
        let app = Router::new()
            .route("/v1/chat/completions", axum::routing::post(complete))
            .route("/v1/embeddings", axum::routing::post(embeddings))
            .with_state(inner.clone());
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

    /// Make `/embeddings` answer `status` (Some) or work again (None).
    pub fn set_embeddings_down(&self, status: Option<u16>) {
        self.inner.lock().expect("mock model lock").embeddings_down = status;
    }

    /// The texts `/embeddings` embedded so far, oldest first; empties the record.
    pub fn take_embedded(&self) -> Vec<String> {
        std::mem::take(&mut self.inner.lock().expect("mock model lock").embedded)
    }

    /// Request bodies received so far, oldest first; empties the record.
    pub fn take_requests(&self) -> Vec<Value> {
        std::mem::take(&mut self.inner.lock().expect("mock model lock").requests)
    }
}
