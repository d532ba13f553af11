//! A local HTTP receiver for the tests: an axum server on port 0 that records every POST
//! (path, headers, body) and answers 200 (or what `fail_next` says), standing in for
//! Slack, Teams and webhook endpoints.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use hmac::{Hmac, Mac};
use sha2::Sha256;

#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

impl Received {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

#[derive(Default)]
struct Inner {
    received: Vec<Received>,
    /// Statuses to answer next, in order (then 200).
    answers: Vec<u16>,
}

#[derive(Clone)]
pub struct Receiver {
    pub base: String,
    inner: Arc<Mutex<Inner>>,
}

async fn record(State(inner): State<Arc<Mutex<Inner>>>, uri: Uri, headers: HeaderMap, body: Bytes) -> StatusCode {
    let mut g = inner.lock().expect("receiver lock");
    g.received.push(Received {
        path: uri.path().to_string(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or_default().to_string()))
            .collect(),
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    let status = if g.answers.is_empty() { 200 } else { g.answers.remove(0) };
    StatusCode::from_u16(status).unwrap_or(StatusCode::OK)
}

impl Receiver {
    pub async fn start() -> Receiver {
        Self::start_on(0).await
    }

    /// A receiver on this port (0: any free one): a test can point a subscriber at a port
    /// where nothing listens yet, then bring the receiver up there.
    pub async fn start_on(port: u16) -> Receiver {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = Router::new().fallback(axum::routing::post(record)).with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("bind receiver");
        let addr = listener.local_addr().expect("receiver addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver { base: format!("http://{addr}"), inner }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Requests received at `path`, oldest first.
    pub fn at(&self, path: &str) -> Vec<Received> {
        self.inner.lock().expect("receiver lock").received.iter().filter(|r| r.path == path).cloned().collect()
    }

    /// Answer the next requests with these statuses.
    pub fn answer_next(&self, statuses: &[u16]) {
        self.inner.lock().expect("receiver lock").answers.extend_from_slice(statuses);
    }
}

/// Does `header` (`t=<unix>,v1=<hex>`) sign `body` with `secret` as Keel documents:
/// HMAC-SHA256 over `"<t>.<body>"`? Written independently of Keel's signer.
pub fn signature_valid(secret: &str, header: &str, body: &str) -> bool {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", x)) => t = Some(x),
            Some(("v1", x)) => v1 = Some(x),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else { return false };
    let Ok(expected) = hex::decode(v1) else { return false };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else { return false };
    mac.update(format!("{t}.{body}").as_bytes());
    mac.verify_slice(&expected).is_ok()
}
