//! The assistant (`keel-assistant`) over HTTP, always as the signed-in user:
//! chat, conversation history, proposal confirm/cancel, smart data entry, email drafts
//! and meeting summaries. Works without any model (the built-in engine); with a model
//! configured (`AppState::assistant`), chat goes through it.

use std::convert::Infallible;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use keel_assistant::email::{DraftRequest, Purpose};
use keel_assistant::meeting::SummaryRequest;
use keel_assistant::{Assistant, AssistantConfig, AssistantError};
use keel_domain::FieldErrors;
use keel_domain::value::format_timestamp;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::AppState;
use crate::context::RequestCtx;
use crate::error::ApiError;
use crate::extract::{JsonObject, parse_id};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/assistant/chat", post(chat))
        .route("/api/v1/assistant/chat/stream", post(chat_stream))
        .route("/api/v1/assistant/conversations", get(conversations))
        .route("/api/v1/assistant/conversations/{id}", get(conversation))
        .route("/api/v1/assistant/proposals/{id}", get(proposal))
        .route("/api/v1/assistant/proposals/{id}/confirm", post(confirm))
        .route("/api/v1/assistant/proposals/{id}/cancel", post(cancel))
        .route("/api/v1/assistant/parse-contact", post(parse_contact))
        .route("/api/v1/assistant/email-draft", post(email_draft))
        .route("/api/v1/assistant/meeting-summary", post(meeting_summary))
}

fn assistant(state: &AppState) -> Assistant {
    Assistant::with_engine(state.service.clone(), AssistantConfig::default(), state.assistant.clone())
        .with_embedder(state.embedder.clone())
}

impl From<AssistantError> for ApiError {
    fn from(e: AssistantError) -> Self {
        match e {
            AssistantError::Service(s) => s.into(),
            AssistantError::Invalid(errors) => ApiError {
                errors,
                ..ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", "Some fields are not valid")
            },
            AssistantError::AlreadyDecided { status } => {
                let mut err = ApiError::new(
                    StatusCode::CONFLICT,
                    "proposal_decided",
                    format!("This proposal is already {status}; ask again for a new one"),
                );
                err.extra.insert("status".into(), json!(status));
                err
            }
            AssistantError::Expired { at } => {
                let mut err = ApiError::new(
                    StatusCode::CONFLICT,
                    "proposal_expired",
                    format!("This proposal expired at {at}; ask again for a new one"),
                );
                err.extra.insert("expires_at".into(), json!(at));
                err
            }
        }
    }
}

/// Reads the fields of a JSON body by name, collecting one error per bad field, and
/// refusing fields the endpoint does not take.
struct Fields {
    body: Map<String, Value>,
    errors: FieldErrors,
}

impl Fields {
    fn new(body: Map<String, Value>, allowed: &[&str]) -> Self {
        let mut errors = FieldErrors::new();
        for k in body.keys() {
            if !allowed.contains(&k.as_str()) {
                errors.push(
                    k.clone(),
                    "unknown_field",
                    format!("unknown field `{k}`; this takes {}", allowed.join(", ")),
                );
            }
        }
        Self { body, errors }
    }

    fn text(&mut self, name: &str, required: bool) -> Option<String> {
        match self.body.get(name) {
            None | Some(Value::Null) => {
                if required {
                    self.errors.push(name, "required", format!("`{name}` is required"));
                }
                None
            }
            Some(Value::String(s)) if s.contains('\0') => {
                self.errors.push(name, "invalid_characters", format!("`{name}` must not contain NUL characters"));
                None
            }
            Some(Value::String(s)) if required && s.trim().is_empty() => {
                self.errors.push(name, "required", format!("`{name}` must not be empty"));
                None
            }
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                self.errors.push(name, "wrong_type", format!("`{name}` must be a string"));
                None
            }
        }
    }

    fn id(&mut self, name: &str, required: bool) -> Option<Uuid> {
        let raw = self.text(name, required)?;
        match Uuid::parse_str(&raw) {
            Ok(id) => Some(id),
            Err(_) => {
                self.errors.push(name, "invalid_id", format!("`{name}` must be a record id (a UUID)"));
                None
            }
        }
    }

    fn finish(self) -> Result<(), ApiError> {
        match self.errors.is_empty() {
            true => Ok(()),
            false => Err(AssistantError::Invalid(self.errors).into()),
        }
    }
}

async fn chat(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    JsonObject(body): JsonObject,
) -> Result<Json<Value>, ApiError> {
    let mut f = Fields::new(body, &["conversation_id", "message"]);
    let conversation_id = f.id("conversation_id", false);
    let message = f.text("message", true);
    f.finish()?;
    let answer = assistant(&state).chat(&ctx, conversation_id, message.as_deref().unwrap_or_default()).await?;
    Ok(Json(json!(answer)))
}

/// The same turn as `chat`, as server-sent events: `delta` events carry pieces of the
/// reply's text as the model produces them (the built-in engine sends its answer as one
/// piece), then one `done` event carries the whole answer exactly as `chat` returns it
/// (its `reply` is the full text), or an `error` event `{status, code, detail}`. Bad input
/// is refused before the stream starts, with the same 422 as `chat`.
async fn chat_stream(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let mut f = Fields::new(body, &["conversation_id", "message"]);
    let conversation_id = f.id("conversation_id", false);
    let message = f.text("message", true);
    f.finish()?;
    let message = message.unwrap_or_default();
    if message.chars().count() > keel_assistant::MAX_MESSAGE_CHARS {
        return Err(AssistantError::field(
            "message",
            "too_long",
            format!("message must be at most {} characters", keel_assistant::MAX_MESSAGE_CHARS),
        )
        .into());
    }
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Event>();
    tokio::spawn(async move {
        let deltas = tx.clone();
        let on_delta = move |piece: &str| {
            let _ = deltas.send(Event::default().event("delta").data(json!({ "text": piece }).to_string()));
        };
        let event = match assistant(&state).chat_streaming(&ctx, conversation_id, &message, &on_delta).await {
            Ok(answer) => Event::default().event("done").data(json!(answer).to_string()),
            Err(e) => {
                let e = ApiError::from(e);
                let body =
                    json!({ "status": e.status.as_u16(), "code": e.code, "detail": e.detail, "errors": e.errors });
                Event::default().event("error").data(body.to_string())
            }
        };
        let _ = tx.send(event);
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|event| (Ok::<Event, Infallible>(event), rx))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()).into_response())
}

fn conversation_json(c: &keel_service::assistant::Conversation) -> Value {
    json!({
        "id": c.id,
        "title": c.title,
        "created_at": format_timestamp(c.created_at),
        "updated_at": format_timestamp(c.updated_at),
    })
}

async fn conversations(State(state): State<AppState>, RequestCtx(ctx): RequestCtx) -> Result<Json<Value>, ApiError> {
    let list = assistant(&state).conversations(&ctx).await?;
    Ok(Json(json!({ "data": list.iter().map(conversation_json).collect::<Vec<_>>() })))
}

async fn conversation(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let (conv, messages) = assistant(&state).conversation(&ctx, parse_id(&id)?).await?;
    let mut out = conversation_json(&conv);
    let messages: Vec<Value> = messages
        .iter()
        .map(|m| {
            let mut msg = json!({
                "id": m.id,
                "role": m.role,
                "content": m.content,
                "created_at": format_timestamp(m.created_at),
            });
            if let (Some(obj), Some(data)) = (msg.as_object_mut(), m.data.as_object()) {
                for (k, v) in data {
                    obj.insert(k.clone(), v.clone());
                }
            }
            msg
        })
        .collect();
    if let Some(obj) = out.as_object_mut() {
        obj.insert("messages".into(), Value::Array(messages));
    }
    Ok(Json(out))
}

async fn proposal(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(assistant(&state).proposal(&ctx, parse_id(&id)?).await?)))
}

async fn confirm(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(assistant(&state).confirm(&ctx, parse_id(&id)?).await?)))
}

async fn cancel(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!(assistant(&state).cancel(&ctx, parse_id(&id)?).await?)))
}

async fn parse_contact(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    JsonObject(body): JsonObject,
) -> Result<Json<Value>, ApiError> {
    let mut f = Fields::new(body, &["text"]);
    let text = f.text("text", true);
    f.finish()?;
    Ok(Json(json!(assistant(&state).parse_contact(&ctx, text.as_deref().unwrap_or_default()).await?)))
}

async fn email_draft(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    JsonObject(body): JsonObject,
) -> Result<Json<Value>, ApiError> {
    let mut f = Fields::new(body, &["contact_id", "purpose", "notes"]);
    let contact_id = f.id("contact_id", true);
    let purpose = f.text("purpose", true).and_then(|p| {
        let parsed = Purpose::parse(&p);
        if parsed.is_none() {
            f.errors.push("purpose", "invalid_option", format!("purpose must be one of: {}", Purpose::ALL.join(", ")));
        }
        parsed
    });
    let notes = f.text("notes", false);
    f.finish()?;
    let (Some(contact_id), Some(purpose)) = (contact_id, purpose) else {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", "Some fields are not valid"));
    };
    let draft = assistant(&state).email_draft(&ctx, &DraftRequest { contact_id, purpose, notes }).await?;
    Ok(Json(json!(draft)))
}

async fn meeting_summary(
    State(state): State<AppState>,
    RequestCtx(ctx): RequestCtx,
    JsonObject(body): JsonObject,
) -> Result<Json<Value>, ApiError> {
    let mut f = Fields::new(body, &["deal_id", "contact_id", "transcript"]);
    let deal_id = f.id("deal_id", false);
    let contact_id = f.id("contact_id", false);
    let transcript = f.text("transcript", true);
    f.finish()?;
    let req = SummaryRequest { deal_id, contact_id, transcript: transcript.unwrap_or_default() };
    Ok(Json(json!(assistant(&state).meeting_summary(&ctx, &req).await?)))
}
