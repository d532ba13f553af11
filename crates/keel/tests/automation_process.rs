//! Workflow durability with real `keel serve` processes and the real test SMTP server:
//! SIGKILL in the middle of a burst of stage changes loses no event and sends no event
//! as two different messages; two processes on one PostgreSQL run each job once.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Child;
use std::time::Duration;

use keel_testkit::smtp::SmtpServer;
use keel_testkit::{Backend, TestDb};
use serde_json::{Value, json};

mod common;

use common::{Server, signal};

/// `keel serve --port 0`, sending workflow email to `smtp`, retrying after a second.
fn start(url: &str, smtp: &SmtpServer) -> Server {
    common::start_with(
        url,
        &[
            ("KEEL_SMTP_HOST", "127.0.0.1".into()),
            ("KEEL_SMTP_PORT", smtp.port.to_string()),
            ("KEEL_SMTP_TLS", "none".into()),
            ("KEEL_JOB_BACKOFF_SECONDS", "1".into()),
            // A killed worker's job is free again after this long (renewed before each action).
            ("KEEL_JOB_LEASE_SECONDS", "10".into()),
        ],
    )
}

fn kill(child: &mut Child) {
    signal(child, "-KILL");
    let _ = child.wait();
}

struct Api {
    http: reqwest::Client,
    cookie: String,
}

impl Api {
    async fn login(base: &str, email: &str, password: &str) -> Api {
        let http = reqwest::Client::new();
        let cookie = common::login(&http, base, email, password).await;
        Api { http, cookie }
    }

    async fn send(&self, method: reqwest::Method, url: String, body: Value) -> Value {
        let res =
            self.http.request(method, &url).header("cookie", &self.cookie).json(&body).send().await.expect("request");
        let status = res.status();
        let text = res.text().await.unwrap_or_default();
        assert!(status.is_success(), "{url}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }
}

fn admin_password(server: &Server) -> String {
    let (_, rest) = server.sign_in.split_once(" / ").expect("email / password");
    rest.split_whitespace().next().expect("password").to_string()
}

/// A rep, a company, `n` deals owned by the rep and a workflow emailing the owner on
/// every stage change, with the change's seq in the subject. Returns the deal ids.
async fn setup(api: &Api, base: &str, n: usize) -> Vec<String> {
    let rep = api
        .send(
            reqwest::Method::POST,
            format!("{base}/api/v1/users"),
            json!({ "email": "rep@example.com", "name": "Rita Rep", "role": "rep", "password": "correct horse battery staple" }),
        )
        .await;
    let company =
        api.send(reqwest::Method::POST, format!("{base}/api/v1/companies"), json!({ "name": "Burst Inc" })).await;
    api.send(
        reqwest::Method::POST,
        format!("{base}/api/v1/workflows"),
        json!({
            "name": "Every stage change",
            "trigger": { "type": "record", "entity": "deals", "on": "updated", "field": "stage" },
            "actions": [{ "type": "send_email", "to": "{{ deal.owner.email }}", "subject": "{{ deal.id }} #{{ event.seq }}", "text": "{{ deal.stage }}" }]
        }),
    )
    .await;
    let mut deals = Vec::new();
    for i in 0..n {
        let d = api
            .send(
                reqwest::Method::POST,
                format!("{base}/api/v1/deals"),
                json!({ "title": format!("Deal {i}"), "company_id": company["id"], "owner_id": rep["id"] }),
            )
            .await;
        deals.push(d["id"].as_str().expect("deal id").to_string());
    }
    deals
}

const STAGES: [&str; 4] = ["Qualification", "Proposal", "Negotiation", "Prospecting"];

/// Change stages `rounds` times over every deal, from `round_offset` on.
async fn burst(api: &Api, base: &str, deals: &[String], rounds: std::ops::Range<usize>) -> usize {
    let mut n = 0;
    for r in rounds {
        for d in deals {
            api.send(reqwest::Method::PATCH, format!("{base}/api/v1/deals/{d}"), json!({ "stage": STAGES[r % 4] }))
                .await;
            n += 1;
        }
    }
    n
}

/// Wait until `smtp` holds messages for `events` distinct events; returns (distinct
/// events, messages, distinct Message-IDs).
async fn delivered(smtp: &SmtpServer, events: usize, limit: Duration) -> (usize, usize, usize) {
    let start = std::time::Instant::now();
    loop {
        let mail = smtp.messages();
        let subjects: BTreeSet<String> =
            mail.iter().filter_map(|m| m["subject"].as_str().map(str::to_string)).collect();
        if subjects.len() >= events || start.elapsed() > limit {
            let ids: BTreeSet<String> =
                mail.iter().filter_map(|m| m["message_id"].as_str().map(str::to_string)).collect();
            return (subjects.len(), mail.len(), ids.len());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn sigkill_mid_burst_loses_nothing_and_sends_nothing_twice(backend: Backend) {
    let (url, _db) = TestDb::create(backend).await;
    let smtp = SmtpServer::start_new().await;
    let mut server = start(&url, &smtp);
    let password = admin_password(&server);
    let api = Api::login(&server.base, "admin@keel.local", &password).await;
    let deals = setup(&api, &server.base, 100).await;

    // 300 acknowledged stage changes, then SIGKILL while the worker is still sending.
    let mut changes = burst(&api, &server.base, &deals, 0..3).await;
    kill(&mut server.child);
    // Usually the worker is still sending when the kill lands; either way, nothing the
    // restarted server does may lose or double an event.
    eprintln!("killed with {} of {changes} emails sent", smtp.messages().len());

    let again = start(&url, &smtp);
    let api = Api::login(&again.base, "admin@keel.local", &password).await;
    changes += burst(&api, &again.base, &deals, 3..5).await;
    assert_eq!(changes, 500);
    let (events, messages, ids) = delivered(&smtp, changes, Duration::from_secs(300)).await;
    assert_eq!(events, changes, "every acknowledged change was handled");
    // A message accepted by the SMTP server in the instant before the kill, but not yet
    // recorded, is sent again after the restart — with the same Message-ID, so it is the
    // same message to a receiver that deduplicates. Never a second, different message.
    assert_eq!(ids, changes, "one Message-ID per event");
    assert!(messages <= changes + 1, "at most the one in-flight message repeats: {messages} for {changes}");
    let mut child = again.child;
    kill(&mut child);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_burst_on_sqlite() {
    sigkill_mid_burst_loses_nothing_and_sends_nothing_twice(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_burst_on_postgres() {
    sigkill_mid_burst_loses_nothing_and_sends_nothing_twice(Backend::Postgres).await;
}

/// Two `keel serve` processes on one PostgreSQL database: both dispatch and claim, and
/// every job runs exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_one_postgres_run_each_job_once() {
    let (url, _db) = TestDb::create(Backend::Postgres).await;
    let smtp = SmtpServer::start_new().await;
    let mut one = start(&url, &smtp);
    let password = admin_password(&one);
    let mut two = start(&url, &smtp);
    let api_one = Api::login(&one.base, "admin@keel.local", &password).await;
    let api_two = Api::login(&two.base, "admin@keel.local", &password).await;
    let deals = setup(&api_one, &one.base, 50).await;
    let (first, second) = deals.split_at(25);
    let (a, b) = tokio::join!(burst(&api_one, &one.base, first, 0..4), burst(&api_two, &two.base, second, 0..4));
    let changes = a + b;
    let (events, messages, ids) = delivered(&smtp, changes, Duration::from_secs(300)).await;
    assert_eq!((events, messages, ids), (changes, changes, changes), "each event emailed exactly once");
    let mut per_subject: BTreeMap<String, usize> = BTreeMap::new();
    for m in smtp.messages() {
        *per_subject.entry(m["subject"].as_str().unwrap_or_default().to_string()).or_default() += 1;
    }
    assert!(per_subject.values().all(|n| *n == 1));
    kill(&mut one.child);
    kill(&mut two.child);
}
