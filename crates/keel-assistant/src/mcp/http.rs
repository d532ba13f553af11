//! Sessions of the streamable HTTP transport (`/mcp`, mounted by keel-api): created by
//! `initialize` (the `Mcp-Session-Id` header names one), bound to the user whose API
//! token opened it, holding what the client declared and our requests waiting for its
//! answers. Every request still carries and re-checks the bearer token.
//!
//! Sessions live in the memory of the Keel process that created them: behind a load
//! balancer with several processes, route `/mcp` with sticky sessions. A client whose
//! session is unknown (another process, a restart, idle expiry) gets 404 and, as the
//! specification says, starts a new one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use uuid::Uuid;

use super::{ClientSession, McpServer, Pending};

/// A session unused for this long is forgotten.
pub const SESSION_IDLE: Duration = Duration::from_secs(60 * 60);
/// Most sessions kept per process; the least recently used goes first.
pub const MAX_SESSIONS: usize = 10_000;

pub struct HttpSession {
    pub id: String,
    pub user_id: Uuid,
    pub client: ClientSession,
    pub pending: Arc<Pending>,
    last_used: Mutex<Instant>,
}

/// The MCP server and its HTTP sessions, shared by the `/mcp` handlers.
pub struct McpHttp {
    pub server: McpServer,
    sessions: Mutex<HashMap<String, Arc<HttpSession>>>,
}

impl McpHttp {
    pub fn new(server: McpServer) -> Self {
        Self { server, sessions: Mutex::new(HashMap::new()) }
    }

    /// A new session for `user_id`.
    pub fn open(&self, user_id: Uuid, client: ClientSession) -> Arc<HttpSession> {
        // Not guessable from outside (and bound to the user anyway): 122 random bits.
        let id = format!("{}{}", Uuid::now_v7().simple(), Uuid::now_v7().simple());
        let session = Arc::new(HttpSession {
            id: id.clone(),
            user_id,
            client,
            pending: Arc::new(Pending::default()),
            last_used: Mutex::new(Instant::now()),
        });
        let mut map = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        map.retain(|_, s| now.duration_since(*s.last_used.lock().unwrap_or_else(|e| e.into_inner())) < SESSION_IDLE);
        if map.len() >= MAX_SESSIONS
            && let Some(oldest) = map
                .iter()
                .min_by_key(|(_, s)| *s.last_used.lock().unwrap_or_else(|e| e.into_inner()))
                .map(|(k, _)| k.clone())
        {
            map.remove(&oldest);
        }
        map.insert(id, session.clone());
        session
    }

    /// The session `id` if it exists, is live and belongs to `user_id`.
    pub fn get(&self, id: &str, user_id: Uuid) -> Option<Arc<HttpSession>> {
        let map = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        let session = map.get(id).filter(|s| s.user_id == user_id)?.clone();
        let mut last = session.last_used.lock().unwrap_or_else(|e| e.into_inner());
        if last.elapsed() >= SESSION_IDLE {
            return None;
        }
        *last = Instant::now();
        drop(last);
        Some(session)
    }

    /// End the session `id` of `user_id`; false when there is none.
    pub fn close(&self, id: &str, user_id: Uuid) -> bool {
        let mut map = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        if map.get(id).is_some_and(|s| s.user_id == user_id) {
            if let Some(s) = map.remove(id) {
                s.pending.close();
            }
            true
        } else {
            false
        }
    }
}
