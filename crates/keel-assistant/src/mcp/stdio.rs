//! The stdio transport (`keel mcp`): newline-delimited JSON-RPC on stdin/stdout, as the
//! token's user. Requests run concurrently, so the answer to an `elicitation/create` we
//! sent can arrive (on stdin) while the tool call that asked waits for it.

use std::sync::{Arc, RwLock};

use keel_service::{Ctx, Origin};
use serde_json::Value as Json;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::{
    ChannelPeer, ClientSession, ELICITATION_TIMEOUT, INVALID_REQUEST, McpServer, Message, Pending, UNAUTHENTICATED,
    error_response, parse, result_response,
};

/// Longest message accepted on stdin.
pub const MAX_LINE_BYTES: usize = 4 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum StdioError {
    #[error("the API token is not valid (create one in Keel: Settings → API tokens)")]
    BadToken,
    #[error(transparent)]
    Service(#[from] keel_service::ServiceError),
    #[error("stdio failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Serve one client on `input`/`output` until the input ends. The token is checked
/// first (a bad one ends here with `BadToken`) and again for every request, so a
/// revoked token or a deactivated user stops working at once.
pub async fn serve<R, W>(server: McpServer, token: &str, mut input: R, output: W) -> Result<(), StdioError>
where
    R: AsyncBufRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
    match server.service().authenticate_token(token).await {
        Ok(_) => {}
        Err(keel_service::ServiceError::Unauthenticated) => return Err(StdioError::BadToken),
        Err(e) => return Err(e.into()),
    }
    let (tx, mut rx) = mpsc::unbounded_channel::<Json>();
    let writer = tokio::spawn(async move {
        let mut output = output;
        while let Some(message) = rx.recv().await {
            let mut line = message.to_string();
            line.push('\n');
            if output.write_all(line.as_bytes()).await.is_err() || output.flush().await.is_err() {
                break;
            }
        }
    });
    let pending = Arc::new(Pending::default());
    let session: Arc<RwLock<Option<ClientSession>>> = Arc::new(RwLock::new(None));
    let token: Arc<str> = Arc::from(token);
    let mut tasks = JoinSet::new();
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let n = (&mut input).take(MAX_LINE_BYTES as u64 + 1).read_until(b'\n', &mut buf).await?;
        if n == 0 {
            break;
        }
        if buf.len() > MAX_LINE_BYTES && !buf.ends_with(b"\n") {
            let _ = tx.send(error_response(Json::Null, INVALID_REQUEST, "the message is too large", None));
            // Skip the rest of the oversized line.
            loop {
                buf.clear();
                let n = (&mut input).take(MAX_LINE_BYTES as u64).read_until(b'\n', &mut buf).await?;
                if n == 0 || buf.ends_with(b"\n") {
                    break;
                }
            }
            continue;
        }
        let text = String::from_utf8_lossy(&buf);
        if text.trim().is_empty() {
            continue;
        }
        let (id, method, params) = match parse(text.trim()) {
            Err(error) => {
                let _ = tx.send(error);
                continue;
            }
            Ok(Message::Response { id, outcome }) => {
                pending.resolve(&id, outcome);
                continue;
            }
            Ok(Message::Notification { .. }) => continue,
            Ok(Message::Request { id, method, params }) => (id, method, params),
        };
        if method == "initialize" {
            let (client, result) = server.initialize(&params);
            *session.write().unwrap_or_else(|e| e.into_inner()) = Some(client);
            let _ = tx.send(result_response(id, result));
            continue;
        }
        let client = session.read().unwrap_or_else(|e| e.into_inner()).clone();
        let client = match (client, method.as_str()) {
            (Some(c), _) => c,
            (None, "ping") => ClientSession {
                protocol_version: super::LATEST_PROTOCOL_VERSION.into(),
                elicitation: false,
                client_name: String::new(),
            },
            (None, _) => {
                let _ = tx.send(error_response(id, INVALID_REQUEST, "send `initialize` first", None));
                continue;
            }
        };
        let (server, tx, pending, token) = (server.clone(), tx.clone(), pending.clone(), token.clone());
        tasks.spawn(async move {
            let actor = match server.service().authenticate_token(&token).await {
                Ok(a) => a,
                Err(_) => {
                    let message = "the API token is no longer valid (revoked, or its user deactivated)";
                    let _ = tx.send(error_response(id, UNAUTHENTICATED, message, None));
                    return;
                }
            };
            let origin = Origin { ip: None, user_agent: Some(format!("keel mcp (stdio): {}", client.client_name)) };
            let ctx = Ctx { actor, request_id: None, origin };
            let peer = ChannelPeer::new(pending, tx.clone(), ELICITATION_TIMEOUT);
            let response = server.respond(&ctx, &client, id, &method, &params, Some(&peer)).await;
            let _ = tx.send(response);
        });
        // Reap finished calls as we go.
        while tasks.try_join_next().is_some() {}
    }
    // The client closed its side: calls in flight finish (a write waiting for the human's
    // answer stops waiting and leaves its proposal pending), then we are done.
    pending.close();
    while tasks.join_next().await.is_some() {}
    drop(tx);
    let _ = writer.await;
    Ok(())
}
