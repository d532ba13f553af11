//! The MCP server with a real MCP client: a real `keel serve` (streamable HTTP at `/mcp`)
//! and real `keel mcp` processes (stdio), driven by the official Python SDK
//! (`tests/mcp_client.py`), on SQLite and PostgreSQL. Also the protocol's edges with raw
//! HTTP and raw stdio: 401 with WWW-Authenticate, a foreign Origin, bad JSON, sessions.

use std::io::Write;
use std::process::{Command, Stdio};

use keel_testkit::{Backend, TestDb};
use reqwest::StatusCode;
use serde_json::{Value, json};

mod common;

use common::{KEEL, Server, signal};

const PUBLIC_URL: &str = "https://crm.example.test";
const PASSWORD: &str = "correct horse battery staple";

struct Api {
    http: reqwest::Client,
    base: String,
    cookie: String,
}

impl Api {
    async fn login(base: &str, email: &str, password: &str) -> Api {
        let http = reqwest::Client::new();
        let cookie = common::login(&http, base, email, password).await;
        Api { http, base: base.to_string(), cookie }
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self.http.request(method, format!("{}{path}", self.base)).header("cookie", &self.cookie);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("request");
        let status = res.status();
        let text = res.text().await.unwrap_or_default();
        assert!(status.is_success(), "{path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    async fn get(&self, path: &str) -> Value {
        self.send(reqwest::Method::GET, path, None).await
    }
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

struct Seed {
    rep_a_id: String,
    rep_a_token: String,
    rep_b_token: String,
    /// Team A's manager.
    manager_a_token: String,
    admin_token: String,
    hidden: Vec<String>,
}

/// Team A's rep owns Acme Corp, Sarah Johnson and the Acme Expansion deal; team B's rep
/// owns Umbrella Retail, Zoe Quinn and the Umbrella Big Deal.
async fn seed(admin: &Api, base: &str) -> Seed {
    let team_a = id(&admin.post("/api/v1/teams", json!({ "name": "Team A" })).await);
    let team_b = id(&admin.post("/api/v1/teams", json!({ "name": "Team B" })).await);
    let mut reps = Vec::new();
    for (email, name, role, team) in [
        ("rita@example.com", "Rita A", "rep", &team_a),
        ("bob@example.com", "Bob B", "rep", &team_b),
        ("mia@example.com", "Mia A", "manager", &team_a),
    ] {
        let user = admin
            .post("/api/v1/users", json!({ "email": email, "name": name, "role": role, "password": PASSWORD }))
            .await;
        let user_id = id(&user);
        admin.send(reqwest::Method::PATCH, &format!("/api/v1/users/{user_id}"), Some(json!({ "team_id": team }))).await;
        let rep = Api::login(base, email, PASSWORD).await;
        let token = rep.post("/api/v1/auth/tokens", json!({ "name": "mcp" })).await["token"]
            .as_str()
            .expect("token")
            .to_string();
        reps.push((user_id, token));
    }
    let (rep_a_id, rep_a_token) = reps[0].clone();
    let (rep_b_id, rep_b_token) = reps[1].clone();
    let manager_a_token = reps[2].1.clone();
    let admin_token =
        admin.post("/api/v1/auth/tokens", json!({ "name": "mcp" })).await["token"].as_str().expect("token").to_string();
    let acme = id(&admin
        .post("/api/v1/companies", json!({ "name": "Acme Corp", "industry": "Technology", "owner_id": rep_a_id }))
        .await);
    admin
        .post(
            "/api/v1/contacts",
            json!({ "first_name": "Sarah", "last_name": "Johnson", "company_id": acme, "email": "sarah@acme.example",
                    "owner_id": rep_a_id }),
        )
        .await;
    admin
        .post(
            "/api/v1/deals",
            json!({ "title": "Acme Expansion", "company_id": acme, "amount": 7_500_000, "stage": "Negotiation",
                    "owner_id": rep_a_id }),
        )
        .await;
    let umbrella = id(&admin
        .post("/api/v1/companies", json!({ "name": "Umbrella Retail", "industry": "Retail", "owner_id": rep_b_id }))
        .await);
    let zoe = id(&admin
        .post(
            "/api/v1/contacts",
            json!({ "first_name": "Zoe", "last_name": "Quinn", "company_id": umbrella, "email": "zoe@umbrella.example",
                    "owner_id": rep_b_id }),
        )
        .await);
    let big = id(&admin
        .post(
            "/api/v1/deals",
            json!({ "title": "Umbrella Big Deal", "company_id": umbrella, "amount": 50_000_000, "stage": "Negotiation",
                    "owner_id": rep_b_id }),
        )
        .await);
    Seed { rep_a_id, rep_a_token, rep_b_token, manager_a_token, admin_token, hidden: vec![big, umbrella, zoe] }
}

fn admin_password(server: &Server) -> (String, String) {
    let (email, rest) = server.sign_in.split_once(" / ").expect("email / password");
    (email.trim().to_string(), rest.split_whitespace().next().expect("password").to_string())
}

/// Run the Python client over `transport`; its JSON report.
fn python_client(transport: &str, server: &Server, database_url: &str, seed: &Seed, suffix: &str) -> Value {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/mcp_client.py");
    let out = Command::new("python3")
        .arg(script)
        .args(["--transport", transport, "--url", &server.base, "--keel", KEEL, "--database-url", database_url])
        .args(["--token", &seed.rep_a_token, "--bad-token", "keel_not-a-real-token", "--public-url", PUBLIC_URL])
        .args(["--suffix", suffix, "--own-deal", "Acme Expansion", "--hidden", &seed.hidden.join(",")])
        .output()
        .expect("python3 runs (the MCP SDK: python3 -m pip install mcp)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{transport} client failed:\n{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last).unwrap_or_else(|e| panic!("{transport} client report {last:?}: {e}\n{stderr}"))
}

/// What the client wrote, checked in the database through the REST API as the admin.
async fn verify_writes(admin: &Api, seed: &Seed, report: &Value) {
    let accepted = report["accepted_id"].as_str().expect("accepted id");
    let deal = admin.get(&format!("/api/v1/deals/{accepted}")).await;
    assert_eq!(deal["title"], report["accepted_title"]);
    assert_eq!(deal["amount"], 1_234_500);
    let audit = admin.get(&format!("/api/v1/audit?record_id={accepted}&action=record.created")).await;
    let entries = audit["data"].as_array().expect("audit entries");
    assert_eq!(entries.len(), 1, "{audit}");
    assert_eq!(entries[0]["actor_id"], seed.rep_a_id.as_str(), "audited as the token's user");
    for title in [&report["declined_title"], &report["pending_title"]] {
        let title = title.as_str().expect("title");
        let q: String = form_encode(title);
        let found = admin.get(&format!("/api/v1/deals?title={q}")).await;
        assert_eq!(found["data"].as_array().map(Vec::len), Some(0), "{title} was not written: {found}");
    }
}

fn form_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Proposals as their owner sees them (with the API token).
async fn proposal_status(base: &str, token: &str, id: &str) -> (StatusCode, Value) {
    let res = reqwest::Client::new()
        .get(format!("{base}/api/v1/assistant/proposals/{id}"))
        .bearer_auth(token)
        .send()
        .await
        .expect("proposal");
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn post_mcp(
    base: &str,
    token: Option<&str>,
    session: Option<&str>,
    body: &str,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let mut req = reqwest::Client::new()
        .post(format!("{base}/mcp"))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(body.to_string());
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(s) = session {
        req = req.header("mcp-session-id", s);
    }
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    req.send().await.expect("post /mcp")
}

const INIT: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-03-26","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}"#;
const LIST: &str = r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#;

/// The HTTP transport's edges, with raw requests.
async fn raw_http(base: &str, seed: &Seed) {
    let token = seed.rep_a_token.as_str();
    let res = post_mcp(base, None, None, INIT, &[]).await;
    assert_eq!(res.status(), 401);
    assert!(
        res.headers().get("www-authenticate").and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("Bearer"))
    );
    let res = post_mcp(base, Some("keel_wrong"), None, INIT, &[]).await;
    assert_eq!(res.status(), 401);
    let challenge = res.headers().get("www-authenticate").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert!(challenge.contains("invalid_token"), "{challenge}");
    let res = post_mcp(base, Some(token), None, INIT, &[("origin", "http://evil.example")]).await;
    assert_eq!(res.status(), 403, "a page of another origin");

    let res = post_mcp(base, Some(token), None, "{not json", &[]).await;
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["error"]["code"], -32700, "{body}");
    let res = post_mcp(base, Some(token), None, "[1]", &[]).await;
    assert_eq!(res.status(), 400);

    let res = post_mcp(base, Some(token), None, INIT, &[]).await;
    assert_eq!(res.status(), 200);
    let session = res.headers().get("mcp-session-id").and_then(|v| v.to_str().ok()).expect("session id").to_string();
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["result"]["protocolVersion"], "2025-03-26", "the client's supported version is kept");
    assert!(body["result"]["capabilities"]["tools"].is_object());

    assert_eq!(post_mcp(base, Some(token), None, LIST, &[]).await.status(), 400, "no session id");
    assert_eq!(post_mcp(base, Some(token), Some("nope"), LIST, &[]).await.status(), 404, "unknown session");
    let res = post_mcp(base, Some(&seed.rep_b_token), Some(&session), LIST, &[]).await;
    assert_eq!(res.status(), 404, "another user's session");
    let res = post_mcp(base, Some(token), Some(&session), LIST, &[("mcp-protocol-version", "1999-01-01")]).await;
    assert_eq!(res.status(), 400, "unsupported protocol version header");
    let res = post_mcp(base, Some(token), Some(&session), LIST, &[("mcp-protocol-version", "2025-03-26")]).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["result"]["tools"].as_array().map(Vec::len), Some(10), "{body}");

    let notification = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
    assert_eq!(post_mcp(base, Some(token), Some(&session), notification, &[]).await.status(), 202);
    let unknown = r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"drop_tables","arguments":{}}}"#;
    let body: Value = post_mcp(base, Some(token), Some(&session), unknown, &[]).await.json().await.expect("json");
    assert_eq!(body["error"]["code"], -32602, "{body}");
    let method = r#"{"jsonrpc":"2.0","id":4,"method":"resources/list"}"#;
    let body: Value = post_mcp(base, Some(token), Some(&session), method, &[]).await.json().await.expect("json");
    assert_eq!(body["error"]["code"], -32601, "{body}");
    // Without elicitation, a write answers with JSON at once: a pending proposal.
    let write = r#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"update_deal","arguments":{"deal":"Acme Expansion","stage":"Proposal"}}}"#;
    let res = post_mcp(base, Some(token), Some(&session), write, &[]).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.expect("json");
    let proposal = &body["result"]["structuredContent"]["proposals"][0];
    assert_eq!(proposal["decision"], "pending", "{body}");

    let http = reqwest::Client::new();
    let get = http.get(format!("{base}/mcp")).bearer_auth(token).send().await.expect("get");
    assert_eq!(get.status(), 405);
    let delete = http.delete(format!("{base}/mcp")).bearer_auth(token).header("mcp-session-id", &session).send().await;
    assert_eq!(delete.expect("delete").status(), 204);
    assert_eq!(post_mcp(base, Some(token), Some(&session), LIST, &[]).await.status(), 404, "ended session");
}

/// One `tools/call` over HTTP in a new session as `token`'s user: the result.
async fn call_as(base: &str, token: &str, name: &str, arguments: Value) -> Value {
    let res = post_mcp(base, Some(token), None, INIT, &[]).await;
    assert_eq!(res.status(), 200);
    let session = res.headers().get("mcp-session-id").and_then(|v| v.to_str().ok()).expect("session id").to_string();
    let call = json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/call",
                       "params": { "name": name, "arguments": arguments } });
    let res = post_mcp(base, Some(token), Some(&session), &call.to_string(), &[]).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.expect("json");
    body["result"].clone()
}

/// The same tool, three roles: each sees what the policy lets them see.
async fn roles(base: &str, seed: &Seed) {
    let titles = |r: &Value| -> Vec<String> {
        r["structuredContent"]["records"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|x| x["title"].as_str().map(String::from))
            .collect()
    };
    let all = json!({ "stages": ["Negotiation"] });
    let admin = titles(&call_as(base, &seed.admin_token, "search_deals", all.clone()).await);
    assert!(
        admin.iter().any(|t| t.contains("Umbrella Big Deal")) && admin.iter().any(|t| t.contains("Acme Expansion"))
    );
    let manager = titles(&call_as(base, &seed.manager_a_token, "search_deals", all.clone()).await);
    assert!(manager.iter().any(|t| t.contains("Acme Expansion")), "{manager:?}");
    assert!(!manager.iter().any(|t| t.contains("Umbrella")), "another team's deal: {manager:?}");
    let rep_b = titles(&call_as(base, &seed.rep_b_token, "search_deals", all).await);
    assert_eq!(rep_b.len(), 1, "{rep_b:?}");
    assert!(rep_b[0].contains("Umbrella Big Deal"));
    // A rep's write is checked again when confirmed: team B's rep cannot touch team A's deal.
    let update = json!({ "deal": "Acme Expansion", "stage": "Closed Won" });
    let r = call_as(base, &seed.rep_b_token, "update_deal", update).await;
    assert!(r["structuredContent"]["proposals"].as_array().is_none_or(Vec::is_empty), "{r}");
}

/// A new API token of `token`'s user (made with that token): `(id, secret)`.
async fn another_token(base: &str, token: &str) -> (String, String) {
    let res = reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/tokens"))
        .bearer_auth(token)
        .json(&json!({ "name": "short-lived" }))
        .send()
        .await
        .expect("create token");
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.expect("json");
    (id(&body), body["token"].as_str().expect("token").to_string())
}

async fn revoke(base: &str, token: &str, id: &str) {
    let res = reqwest::Client::new()
        .delete(format!("{base}/api/v1/auth/tokens/{id}"))
        .bearer_auth(token)
        .send()
        .await
        .expect("revoke token");
    assert!(res.status().is_success(), "revoke: {}", res.status());
}

/// A revoked token stops working at once, mid-session, on both transports.
async fn revoked_tokens(base: &str, database_url: &str, seed: &Seed) {
    use std::io::{BufRead, BufReader};

    let (token_id, token) = another_token(base, &seed.rep_a_token).await;
    let res = post_mcp(base, Some(&token), None, INIT, &[]).await;
    let session = res.headers().get("mcp-session-id").and_then(|v| v.to_str().ok()).expect("session id").to_string();
    assert_eq!(post_mcp(base, Some(&token), Some(&session), LIST, &[]).await.status(), 200);
    revoke(base, &seed.rep_a_token, &token_id).await;
    assert_eq!(post_mcp(base, Some(&token), Some(&session), LIST, &[]).await.status(), 401, "HTTP after revocation");

    let (token_id, token) = another_token(base, &seed.rep_a_token).await;
    let mut child = Command::new(KEEL)
        .arg("mcp")
        .env("DATABASE_URL", database_url)
        .env("KEEL_API_TOKEN", &token)
        .env("KEEL_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("keel mcp");
    let mut stdin = child.stdin.take().expect("stdin");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut ask = |line: &str| -> Value {
        stdin.write_all(format!("{line}\n").as_bytes()).expect("write");
        stdin.flush().expect("flush");
        let answer = lines.next().expect("an answer").expect("read");
        serde_json::from_str(&answer).expect("JSON-RPC")
    };
    assert!(ask(INIT)["result"].is_object());
    assert!(ask(LIST)["result"]["tools"].is_array());
    revoke(base, &seed.rep_a_token, &token_id).await;
    let after = ask(LIST);
    assert_eq!(after["error"]["code"], -32001, "stdio after revocation: {after}");
    let _ = child.kill();
    let _ = child.wait();
}

/// `keel mcp` on raw stdio: a bad token stops it; bad JSON gets a parse error.
fn raw_stdio(database_url: &str, token: &str) {
    let bad = Command::new(KEEL)
        .arg("mcp")
        .env("DATABASE_URL", database_url)
        .env("KEEL_API_TOKEN", "keel_wrong")
        .env("KEEL_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .expect("keel mcp");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("API token is not valid"));
    assert!(bad.stdout.is_empty(), "nothing on the protocol channel");

    let mut child = Command::new(KEEL)
        .arg("mcp")
        .env("DATABASE_URL", database_url)
        .env("KEEL_API_TOKEN", token)
        .env("KEEL_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("keel mcp");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = format!(
        "{{not json\n{LIST}\n{INIT}\n{}\n{}\n",
        r#"{"jsonrpc":"2.0","id":"p","method":"ping"}"#,
        r#"{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"search_deals","arguments":{"amount":{"lt":"x"}}}}"#
    );
    stdin.write_all(input.as_bytes()).expect("write");
    drop(stdin);
    let out = child.wait_with_output().expect("keel mcp output");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON-RPC: {l}: {e}")))
        .collect();
    assert_eq!(lines.len(), 5, "{lines:?}");
    assert_eq!(lines[0]["error"]["code"], -32700);
    assert_eq!(lines[1]["id"], 2);
    assert_eq!(lines[1]["error"]["code"], -32600, "tools/list before initialize");
    assert_eq!(lines[2]["result"]["protocolVersion"], "2025-03-26");
    let by_id = |id: Value| lines.iter().find(|l| l["id"] == id).cloned().unwrap_or(Value::Null);
    assert_eq!(by_id(json!("p"))["result"], json!({}));
    let bad_args = by_id(json!(9));
    assert_eq!(bad_args["result"]["isError"], true, "{bad_args}");
    assert!(
        bad_args["result"]["content"][0]["text"]
            .as_str()
            .unwrap_or_default()
            .contains("`amount.lt` must be an integer")
    );
}

async fn mcp_works_as_the_tokens_user(backend: Backend) {
    let (url, _db) = TestDb::create(backend).await;
    let mut server = common::start_with(&url, &[("KEEL_PUBLIC_URL", PUBLIC_URL.into())]);
    let (email, password) = admin_password(&server);
    let admin = Api::login(&server.base, &email, &password).await;
    let seed = seed(&admin, &server.base).await;

    raw_http(&server.base, &seed).await;
    roles(&server.base, &seed).await;
    revoked_tokens(&server.base, &url, &seed).await;
    raw_stdio(&url, &seed.rep_a_token);
    for transport in ["http", "stdio"] {
        let report = python_client(transport, &server, &url, &seed, transport);
        verify_writes(&admin, &seed, &report).await;
        let (status, declined) =
            proposal_status(&server.base, &seed.rep_a_token, report["declined_proposal"].as_str().expect("id")).await;
        assert_eq!((status, declined["status"].as_str()), (StatusCode::OK, Some("cancelled")));
        let pending = report["pending_proposal"].as_str().expect("id");
        let (_, p) = proposal_status(&server.base, &seed.rep_a_token, pending).await;
        assert_eq!(p["status"], "pending", "waits for confirmation in Keel");
        // Only its owner may see (or confirm) it.
        let (status, _) = proposal_status(&server.base, &seed.rep_b_token, pending).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(report["bad_token_error"].is_string(), "{report}");
    }
    signal(&server.child, "-TERM");
    let _ = server.child.wait();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_on_sqlite() {
    mcp_works_as_the_tokens_user(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_on_postgres() {
    mcp_works_as_the_tokens_user(Backend::Postgres).await;
}
