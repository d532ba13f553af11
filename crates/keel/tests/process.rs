//! The `keel` binary as an operator runs it: first-run admin, acknowledged writes that
//! survive SIGKILL, graceful exit on SIGTERM, and the CLI commands — on both databases.

use std::process::{Child, Command};
use std::time::Duration;

use keel_testkit::{Backend, TestDb};
use serde_json::{Value, json};

mod common;

use common::{KEEL, Server, login, signal};

/// Start `keel serve --port 0` and read the URL and login from what it prints.
fn start(url: &str) -> Server {
    common::start_with(url, &[])
}

async fn acknowledged_writes_survive_sigkill(backend: Backend) {
    let (url, _db) = TestDb::create(backend).await;
    let server = start(&url);
    // First run on an empty database: an admin with a random password, printed once.
    let (email, rest) = server.sign_in.split_once(" / ").expect("email / password");
    let password = rest.split_whitespace().next().expect("password").to_string();
    assert_eq!(email, "admin@keel.local");
    let http = reqwest::Client::new();
    let cookie = login(&http, &server.base, email, &password).await;

    let mut ids = Vec::new();
    for i in 0..40 {
        let res = http
            .post(format!("{}/api/v1/companies", server.base))
            .header("cookie", &cookie)
            .json(&json!({ "name": format!("Durable {i}") }))
            .send()
            .await
            .expect("create");
        assert_eq!(res.status(), 201);
        let body: Value = res.json().await.expect("json");
        ids.push(body["id"].as_str().expect("id").to_string());
    }
    let mut child = server.child;
    signal(&child, "-KILL");
    let _ = child.wait();

    let again = start(&url);
    assert!(!again.sign_in.contains("first run"), "the admin must not be created twice");
    let cookie = login(&http, &again.base, email, &password).await;
    for id in &ids {
        let res = http
            .get(format!("{}/api/v1/companies/{id}", again.base))
            .header("cookie", &cookie)
            .send()
            .await
            .expect("get");
        assert_eq!(res.status(), 200, "company {id} was acknowledged but lost");
    }
    let mut child = again.child;
    signal(&child, "-TERM");
    let status = wait_with_timeout(&mut child, Duration::from_secs(15));
    assert!(status.is_some_and(|s| s.success()), "keel should exit cleanly on SIGTERM, got {status:?}");
}

fn wait_with_timeout(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let start = std::time::Instant::now();
    while start.elapsed() < limit {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill_on_sqlite() {
    acknowledged_writes_survive_sigkill(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill_on_postgres() {
    acknowledged_writes_survive_sigkill(Backend::Postgres).await;
}

fn keel(url: &str, args: &[&str]) -> std::process::Output {
    Command::new(KEEL).args(args).env("DATABASE_URL", url).env("KEEL_LOG", "warn").output().expect("run keel")
}

async fn cli_commands(backend: Backend) {
    let (url, _db) = TestDb::create(backend).await;
    let version = keel(&url, &["version"]);
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("keel "));

    assert!(keel(&url, &["migrate"]).status.success());
    assert!(keel(&url, &["migrate"]).status.success(), "migrate is idempotent");

    let short = keel(&url, &["user", "create", "--email", "x@example.com", "--role", "rep", "--password", "short"]);
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("12 characters"), "the error says why");

    let created = keel(
        &url,
        &["user", "create", "--email", "Ops@Example.com", "--role", "manager", "--password", "a long enough password"],
    );
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));

    let seeded = keel(
        &url,
        &["seed", "--demo", "--companies", "30", "--contacts", "120", "--deals", "40", "--activities", "60"],
    );
    assert!(!seeded.status.success(), "the demo team is only seeded into an empty database");

    let (url2, _db2) = TestDb::create(backend).await;
    let seeded = keel(
        &url2,
        &["seed", "--demo", "--companies", "30", "--contacts", "120", "--deals", "40", "--activities", "60"],
    );
    assert!(seeded.status.success(), "{}", String::from_utf8_lossy(&seeded.stderr));
    let server = start(&url2);
    let http = reqwest::Client::new();
    let cookie = login(&http, &server.base, "admin@keel.local", "keel-demo-password").await;
    for (entity, at_least) in [("companies", 33), ("contacts", 122), ("deals", 42), ("activities", 60)] {
        let res = http
            .get(format!("{}/api/v1/{entity}?count=true&limit=1", server.base))
            .header("cookie", &cookie)
            .send()
            .await
            .expect("list");
        let body: Value = res.json().await.expect("json");
        let total = body["total"].as_i64().expect("total");
        assert!(total >= at_least, "{entity}: {total} < {at_least}");
    }
    // The guide's sample data is there.
    let res = http
        .get(format!("{}/api/v1/companies?q=acme%20corp&limit=200", server.base))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("search");
    let body: Value = res.json().await.expect("json");
    assert!(body["data"].as_array().is_some_and(|d| d.iter().any(|c| c["name"] == "Acme Corp")));
    let mut child = server.child;
    signal(&child, "-TERM");
    let _ = wait_with_timeout(&mut child, Duration::from_secs(15));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_commands_on_sqlite() {
    cli_commands(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_commands_on_postgres() {
    cli_commands(Backend::Postgres).await;
}

/// Run one SQL statement against the database at `url`, bypassing Keel.
async fn raw_sql(url: &str, statement: &str) {
    use sqlx::Connection;
    if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(url).await.expect("open sqlite");
        sqlx::query(statement).execute(&mut conn).await.expect(statement);
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await.expect("open postgres");
        sqlx::query(statement).execute(&mut conn).await.expect(statement);
    }
}

async fn audit_commands(backend: Backend) {
    let (url, _db) = TestDb::create(backend).await;
    let empty = keel(&url, &["audit", "verify"]);
    assert_eq!(empty.status.code(), Some(0), "an empty log is intact: {}", String::from_utf8_lossy(&empty.stderr));

    for email in ["ana@example.com", "bo@example.com", "cy@example.com"] {
        let created =
            keel(&url, &["user", "create", "--email", email, "--role", "rep", "--password", "a long enough password"]);
        assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    }
    let ok = keel(&url, &["audit", "verify"]);
    assert_eq!(ok.status.code(), Some(0), "{}", String::from_utf8_lossy(&ok.stderr));
    let out = String::from_utf8_lossy(&ok.stdout);
    assert!(out.contains("intact: 3 entries, seq 1 to 3"), "{out}");

    let listed = keel(&url, &["audit", "list", "--action", "record.created", "--entity", "users", "--json"]);
    assert!(listed.status.success(), "{}", String::from_utf8_lossy(&listed.stderr));
    let lines: Vec<Value> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON entry per line"))
        .collect();
    assert_eq!(lines.iter().map(|e| e["seq"].as_i64().unwrap_or(0)).collect::<Vec<_>>(), vec![3, 2, 1]);
    assert_eq!(lines[0]["details"]["diff"]["email"]["to"], "cy@example.com");
    let limited = keel(&url, &["audit", "list", "--limit", "1"]);
    assert_eq!(String::from_utf8_lossy(&limited.stdout).lines().count(), 1);
    assert!(!keel(&url, &["audit", "list", "--action", "nonsense"]).status.success(), "unknown actions are refused");

    let purge = keel(&url, &["audit", "purge"]);
    assert!(purge.status.success());
    assert!(String::from_utf8_lossy(&purge.stdout).contains("no audit entries older than 365 days"));

    // Alter entry 2 behind Keel's back: verify exits 1 and names it.
    let drop_guard = match backend {
        Backend::Sqlite => "DROP TRIGGER audit_log_no_update",
        Backend::Postgres => "DROP TRIGGER audit_log_no_update ON audit_log",
    };
    raw_sql(&url, drop_guard).await;
    raw_sql(&url, "UPDATE audit_log SET ip = '10.6.6.6' WHERE seq = 2").await;
    let bad = keel(&url, &["audit", "verify"]);
    assert_eq!(bad.status.code(), Some(1), "a tampered log fails verification");
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("broken at seq 2 (hash mismatch)"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_commands_on_sqlite() {
    audit_commands(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_commands_on_postgres() {
    audit_commands(Backend::Postgres).await;
}

async fn user_administration_commands(backend: Backend) {
    let (url, _db) = TestDb::create(backend).await;
    let ok = |out: std::process::Output| {
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    ok(keel(
        &url,
        &["user", "create", "--email", "ana@example.com", "--role", "rep", "--password", "a long enough password"],
    ));
    let out = ok(keel(&url, &["user", "set-role", "--email", "ana@example.com", "--role", "manager"]));
    assert!(out.contains("role manager"), "{out}");
    let bad = keel(&url, &["user", "set-role", "--email", "ana@example.com", "--role", "emperor"]);
    assert!(!bad.status.success(), "unknown roles are refused");
    let out = ok(keel(&url, &["user", "set-team", "--email", "ana@example.com", "--team", "East"]));
    assert!(!out.contains("team none"), "{out}");
    let listed = ok(keel(&url, &["user", "list"]));
    assert!(listed.contains("ana@example.com\tmanager\tactive"), "{listed}");

    let server = start(&url);
    let http = reqwest::Client::new();
    login(&http, &server.base, "ana@example.com", "a long enough password").await;
    ok(keel(&url, &["user", "deactivate", "--email", "ana@example.com"]));
    let res = http
        .post(format!("{}/api/v1/auth/login", server.base))
        .json(&json!({ "email": "ana@example.com", "password": "a long enough password" }))
        .send()
        .await
        .expect("login");
    assert_eq!(res.status(), 401, "a deactivated user cannot sign in");
    ok(keel(&url, &["user", "reactivate", "--email", "ana@example.com"]));
    login(&http, &server.base, "ana@example.com", "a long enough password").await;
    let mut child = server.child;
    signal(&child, "-TERM");
    let _ = wait_with_timeout(&mut child, Duration::from_secs(15));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_administration_commands_on_sqlite() {
    user_administration_commands(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_administration_commands_on_postgres() {
    user_administration_commands(Backend::Postgres).await;
}
