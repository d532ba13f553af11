//! The audit log: record events with diffs and origin, sign-in events, admin-only access,
//! filters and paging, tamper detection (altered and deleted entries) and retention.

use std::time::Duration;

use keel_domain::policy::{Actor, Role};
use keel_service::Ctx;
use keel_service::audit::AuditEntry;
use keel_store::Pool;
use keel_testkit::{TestApp, both_backends};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery staple";

fn system() -> Ctx {
    Ctx::system(Actor::new(uuid::Uuid::nil(), Role::Admin, None))
}

/// Run SQL straight against the test database, as someone with database access would.
async fn sql(app: &TestApp, statement: &str) -> Result<u64, sqlx::Error> {
    match app.service.db().pool() {
        Pool::Sqlite(pool) => Ok(sqlx::query(statement).execute(pool).await?.rows_affected()),
        Pool::Postgres(pool) => Ok(sqlx::query(statement).execute(pool).await?.rows_affected()),
    }
}

/// Remove the append-only trigger, as an attacker with database access could.
async fn drop_update_guard(app: &TestApp) {
    let statement = match app.service.db().pool() {
        Pool::Sqlite(_) => "DROP TRIGGER audit_log_no_update",
        Pool::Postgres(_) => "DROP TRIGGER audit_log_no_update ON audit_log",
    };
    sql(app, statement).await.expect("drop trigger");
}

/// Every entry matching `query` (without paging parameters), newest first.
async fn entries(app: &TestApp, query: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = match &cursor {
            Some(c) => format!("/api/v1/audit?{query}&limit=50&cursor={c}"),
            None => format!("/api/v1/audit?{query}&limit=50"),
        };
        let res = app.admin.get(&page).await;
        assert_eq!(res.status, StatusCode::OK, "{page}: {}", res.text);
        out.extend(res.body["data"].as_array().cloned().unwrap_or_default());
        match res.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return out,
        }
    }
}

/// An entry as the API returned it, back in the service's type (to recompute its hash).
fn entry_from(v: &Value) -> AuditEntry {
    let text = |k: &str| v[k].as_str().map(str::to_string);
    let id = |k: &str| v[k].as_str().and_then(|s| uuid::Uuid::parse_str(s).ok());
    AuditEntry {
        seq: v["seq"].as_i64().expect("seq"),
        at: v["at"].as_str().and_then(keel_domain::value::parse_timestamp).expect("at"),
        actor_id: id("actor_id"),
        action: text("action").expect("action"),
        entity: text("entity"),
        record_id: id("record_id"),
        details: v["details"].clone(),
        ip: text("ip"),
        user_agent: text("user_agent"),
        request_id: text("request_id"),
        prev_hash: text("prev_hash").expect("prev_hash"),
        hash: text("hash").expect("hash"),
    }
}

async fn verify(app: &TestApp) -> Value {
    let res = app.admin.get("/api/v1/audit/verify").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    res.body
}

fn actions(entries: &[Value]) -> Vec<&str> {
    entries.iter().map(|e| e["action"].as_str().unwrap_or("")).collect()
}

async fn admin_id(app: &TestApp) -> Value {
    app.admin.get("/api/v1/auth/me").await.body["id"].clone()
}

async fn record_events_carry_the_diff_actor_and_origin(app: &TestApp) {
    let ua = ("user-agent", "audit-test/1.0");
    let created = app
        .admin
        .send(
            Method::POST,
            "/api/v1/companies",
            Some(json!({ "name": "Audited Co", "city": "Lyon" })),
            &[("x-request-id", "req-audit-create"), ua],
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let id = created.id();
    let path = format!("/api/v1/companies/{id}");
    let updated = app
        .admin
        .send(Method::PATCH, &path, Some(json!({ "city": "Nice" })), &[("x-request-id", "req-audit-update"), ua])
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.text);
    assert_eq!(app.admin.send(Method::DELETE, &path, None, &[ua]).await.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.admin.send(Method::POST, &format!("{path}/restore"), Some(json!({})), &[ua]).await.status,
        StatusCode::OK
    );
    let purged = app.admin.send(Method::POST, &format!("{path}/purge"), Some(json!({})), &[ua]).await;
    assert_eq!(purged.status, StatusCode::NO_CONTENT, "{}", purged.text);

    let log = entries(app, &format!("entity=companies&record_id={id}")).await;
    assert_eq!(
        actions(&log),
        vec!["record.purged", "record.restored", "record.deleted", "record.updated", "record.created"],
        "newest first"
    );
    let admin = admin_id(app).await;
    for e in &log {
        assert_eq!(e["actor_id"], admin);
        assert_eq!(e["ip"], "127.0.0.1");
        assert_eq!(e["user_agent"], "audit-test/1.0");
        assert_eq!(e["entity"], "companies");
        assert_eq!(e["hash"].as_str().map(str::len), Some(64));
    }
    let (update, create) = (&log[3], &log[4]);
    assert_eq!(create["request_id"], "req-audit-create");
    assert_eq!(create["details"]["diff"]["name"], json!({ "from": null, "to": "Audited Co" }));
    assert_eq!(update["request_id"], "req-audit-update");
    assert_eq!(update["details"]["diff"]["city"], json!({ "from": "Lyon", "to": "Nice" }));
    assert!(update["details"]["diff"].get("name").is_none(), "unchanged fields are not in the diff");
    assert_eq!(update["prev_hash"], create["hash"], "consecutive entries chain");
    assert_eq!(update["seq"].as_i64(), create["seq"].as_i64().map(|s| s + 1));
    assert_eq!(log[0]["details"]["diff"]["name"]["from"], "Audited Co", "a purge keeps what was removed");

    // The audit entry is the change log's twin: same diff, same request id.
    let changes = app.admin.get("/api/v1/changes?after=0&limit=1000").await;
    let change = changes.body["data"]
        .as_array()
        .and_then(|d| d.iter().find(|c| c["record_id"] == id.as_str() && c["op"] == "update"))
        .cloned()
        .expect("change entry");
    assert_eq!(change["diff"], update["details"]["diff"]);
}
both_backends!(record_events_carry_the_diff_actor_and_origin);

async fn login(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/api/v1/auth/login", app.base))
        .header("user-agent", "audit-browser/2.0")
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .expect("login request")
}

async fn sign_ins_failures_and_sign_outs_are_audited(app: &TestApp) {
    let user = app.service.create_user_as_system("Cleo@Example.com", "Cleo", "rep", PASSWORD).await.expect("user");
    let user_id = user["id"].clone();

    assert_eq!(login(app, "cleo@example.com", "not the password!!").await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(login(app, "nobody@example.com", "not the password!!").await.status(), StatusCode::UNAUTHORIZED);
    let ok = login(app, "Cleo@Example.com", PASSWORD).await;
    assert_eq!(ok.status(), StatusCode::OK);
    let cookie = ok.headers().get("set-cookie").and_then(|v| v.to_str().ok()).expect("cookie").to_string();
    let session = cookie.split(';').next().expect("pair").to_string();
    let out = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/logout", app.base))
        .header("cookie", &session)
        .header("user-agent", "audit-browser/2.0")
        .header("x-request-id", "req-audit-logout")
        .send()
        .await
        .expect("logout");
    assert_eq!(out.status(), StatusCode::NO_CONTENT);

    let failed = entries(app, "action=user.login_failed").await;
    assert_eq!(failed.len(), 2, "{failed:?}");
    let (unknown, wrong) = (&failed[0], &failed[1]);
    assert_eq!(wrong["details"], json!({ "email": "cleo@example.com", "reason": "wrong_password" }));
    assert_eq!(wrong["record_id"], user_id, "the account that was tried");
    assert_eq!(wrong["actor_id"], Value::Null, "nobody was signed in");
    assert_eq!(wrong["ip"], "127.0.0.1");
    assert_eq!(wrong["user_agent"], "audit-browser/2.0");
    assert_eq!(unknown["details"], json!({ "email": "nobody@example.com", "reason": "unknown_email" }));
    assert_eq!(unknown["record_id"], Value::Null);
    let all = app.admin.get("/api/v1/audit?limit=1000").await;
    assert!(!all.text.contains("not the password"), "passwords never reach the audit log");

    let logins = entries(app, "action=user.login").await;
    assert_eq!(logins.len(), 1);
    assert_eq!(logins[0]["actor_id"], user_id);
    assert_eq!(logins[0]["record_id"], user_id);
    assert_eq!(logins[0]["ip"], "127.0.0.1");
    assert_eq!(logins[0]["user_agent"], "audit-browser/2.0");

    let logouts = entries(app, "action=user.logout").await;
    assert_eq!(logouts.len(), 1);
    assert_eq!(logouts[0]["actor_id"], user_id);
    assert_eq!(logouts[0]["request_id"], "req-audit-logout");
    assert_eq!(logouts[0]["user_agent"], "audit-browser/2.0");

    let by_user = entries(app, &format!("user_id={}", user_id.as_str().expect("id"))).await;
    assert_eq!(actions(&by_user), vec!["user.logout", "user.login"]);
}
both_backends!(sign_ins_failures_and_sign_outs_are_audited);

async fn refused_sign_ins_during_a_lockout_are_audited(app: &TestApp) {
    app.service.create_user_as_system("dora@example.com", "Dora", "rep", PASSWORD).await.expect("user");
    let mut locked = false;
    for _ in 0..12 {
        if login(app, "dora@example.com", "guessing, guessing").await.status() == StatusCode::TOO_MANY_REQUESTS {
            locked = true;
            break;
        }
    }
    assert!(locked, "repeated failures lock the account");
    let failed = entries(app, "action=user.login_failed").await;
    assert_eq!(failed[0]["details"], json!({ "email": "dora@example.com", "reason": "locked_out" }));
    assert!(failed[1..].iter().all(|e| e["details"]["reason"] == "wrong_password"), "{failed:?}");
}
both_backends!(refused_sign_ins_during_a_lockout_are_audited);

async fn only_admins_read_or_verify_the_audit_log(app: &TestApp) {
    for role in [Role::Manager, Role::Rep] {
        let (_, client) = app.user(role).await;
        for path in ["/api/v1/audit", "/api/v1/audit/verify"] {
            let res = client.get(path).await;
            assert_eq!(res.status, StatusCode::FORBIDDEN, "{role:?} {path}: {}", res.text);
            assert_eq!(res.header("content-type"), Some("application/problem+json"));
        }
    }
    assert_eq!(app.anonymous().get("/api/v1/audit").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.anonymous().get("/api/v1/audit/verify").await.status, StatusCode::UNAUTHORIZED);
}
both_backends!(only_admins_read_or_verify_the_audit_log);

async fn filters_and_pages_newest_first(app: &TestApp) {
    let (manager, manager_client) = app.user(Role::Manager).await;
    let started = time::OffsetDateTime::now_utc() - time::Duration::seconds(1);
    let mut mine = Vec::new();
    for i in 0..5 {
        mine.push(app.admin.company(json!({ "name": format!("Paged {i}") })).await["id"].clone());
    }
    let theirs = manager_client.company(json!({})).await["id"].clone();

    let created = entries(app, "action=record.created&entity=companies").await;
    assert_eq!(created.len(), 6, "{created:?}");
    let seqs: Vec<i64> = created.iter().filter_map(|e| e["seq"].as_i64()).collect();
    assert!(seqs.windows(2).all(|w| w[0] > w[1]), "newest first: {seqs:?}");
    assert_eq!(created.last().map(|e| e["record_id"].clone()), Some(mine[0].clone()));

    // Pages of two: 2 + 2 + 2, each page older than the one before, no overlaps.
    let first = app.admin.get("/api/v1/audit?action=record.created&entity=companies&limit=2").await;
    assert_eq!(first.body["data"].as_array().map(Vec::len), Some(2));
    let cursor = first.body["next_cursor"].as_str().expect("cursor").to_string();
    let second =
        app.admin.get(&format!("/api/v1/audit?action=record.created&entity=companies&limit=2&cursor={cursor}")).await;
    assert_eq!(second.body["data"][0]["seq"].as_i64(), Some(seqs[2]));

    let by_manager = entries(app, &format!("user_id={}", manager["id"].as_str().expect("id"))).await;
    assert_eq!(by_manager.len(), 1);
    assert_eq!(by_manager[0]["record_id"], theirs);
    let about_one = entries(app, &format!("record_id={}", mine[2].as_str().expect("id"))).await;
    assert_eq!(actions(&about_one), vec!["record.created"]);

    let since = keel_domain::value::format_timestamp(started);
    assert_eq!(entries(app, &format!("action=record.created&entity=companies&since={since}")).await.len(), 6);
    assert!(entries(app, &format!("entity=companies&until={since}")).await.is_empty());
    assert!(entries(app, "since=2999-01-01").await.is_empty());
    assert!(entries(app, "entity=deals").await.is_empty());

    for (query, param) in [
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("action=record.exploded", "action"),
        ("user_id=42", "user_id"),
        ("record_id=not-a-uuid", "record_id"),
        ("since=yesterday", "since"),
        ("until=2026-13-40", "until"),
        ("since=2026-02-01&until=2026-01-01", "until"),
        ("cursor=-5", "cursor"),
        ("entity=Robert%27);DROP", "entity"),
        ("colour=blue", "colour"),
        ("action=user.login&action=user.logout", "action"),
    ] {
        let res = app.admin.get(&format!("/api/v1/audit?{query}")).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{query}: {}", res.text);
        assert_eq!(res.header("content-type"), Some("application/problem+json"));
        assert_eq!(res.body["code"], "invalid_query");
        assert_eq!(res.error_fields(), vec![param.to_string()], "{query}");
    }
    let res = app.admin.get("/api/v1/audit/verify?deep=true").await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert_eq!(res.error_fields(), vec!["deep"]);
}
both_backends!(filters_and_pages_newest_first);

async fn verify_names_the_altered_entry(app: &TestApp) {
    let company = app.admin.company(json!({ "city": "Lyon" })).await;
    let id = company["id"].as_str().expect("id").to_string();
    app.admin.patch(&format!("/api/v1/companies/{id}"), json!({ "city": "Nice" })).await;
    app.admin.company(json!({})).await;

    let intact = verify(app).await;
    assert_eq!(intact["ok"], true, "{intact}");
    assert_eq!(intact["first_seq"], 1);
    assert!(intact["checked"].as_u64().is_some_and(|n| n >= 4), "{intact}");
    assert_eq!(intact["broken"], Value::Null);

    let update = entries(app, &format!("record_id={id}&action=record.updated")).await;
    let seq = update[0]["seq"].as_i64().expect("seq");
    let tamper = format!(
        "UPDATE audit_log SET details = '{{\"diff\":{{\"city\":{{\"from\":\"Lyon\",\"to\":\"Paris\"}}}}}}' WHERE seq = {seq}"
    );
    assert!(sql(app, &tamper).await.is_err(), "the table refuses updates");
    drop_update_guard(app).await;
    assert_eq!(sql(app, &tamper).await.expect("tamper"), 1);

    let report = verify(app).await;
    assert_eq!(report["ok"], false, "{report}");
    assert_eq!(report["broken"]["seq"], seq);
    assert_eq!(report["broken"]["reason"], "hash_mismatch");
    assert_eq!(report["last_seq"], seq);
}
both_backends!(verify_names_the_altered_entry);

async fn verify_notices_a_deleted_entry(app: &TestApp) {
    for _ in 0..4 {
        app.admin.company(json!({})).await;
    }
    let created = entries(app, "action=record.created&entity=companies").await;
    let middle = created[1]["seq"].as_i64().expect("seq");
    assert_eq!(sql(app, &format!("DELETE FROM audit_log WHERE seq = {middle}")).await.expect("delete"), 1);
    let report = verify(app).await;
    assert_eq!(report["ok"], false, "{report}");
    assert_eq!(report["broken"]["seq"], middle + 1, "the entry after the hole");
    assert_eq!(report["broken"]["reason"], "gap");
}
both_backends!(verify_notices_a_deleted_entry);

async fn verify_notices_an_altered_and_rehashed_entry(app: &TestApp) {
    for _ in 0..3 {
        app.admin.company(json!({})).await;
    }
    let newest = entries(app, "action=record.created&entity=companies").await;
    let seq = newest[1]["seq"].as_i64().expect("seq");

    // A careful forger alters the entry and gives it a hash that fits its new content...
    let mut forged = entry_from(&newest[1]);
    forged.ip = Some("10.6.6.6".into());
    forged.hash = keel_service::audit::entry_hash(&forged);
    assert_eq!(keel_service::audit::entry_hash(&entry_from(&newest[1])), newest[1]["hash"], "the documented hash");
    drop_update_guard(app).await;
    let tamper = format!("UPDATE audit_log SET ip = '10.6.6.6', hash = '{}' WHERE seq = {seq}", forged.hash);
    assert_eq!(sql(app, &tamper).await.expect("tamper"), 1);

    // ...but the next entry still names the old hash.
    let report = verify(app).await;
    assert_eq!(report["ok"], false, "{report}");
    assert_eq!(report["broken"]["seq"], seq + 1);
    assert_eq!(report["broken"]["reason"], "prev_hash_mismatch");
}
both_backends!(verify_notices_an_altered_and_rehashed_entry);

async fn retention_purge_keeps_the_chain_verifiable_and_is_audited(app: &TestApp) {
    for _ in 0..3 {
        app.admin.company(json!({})).await;
    }
    let old = entries(app, "").await;
    // Entries written before `boundary` are the old ones.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let boundary = time::OffsetDateTime::now_utc();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let kept_company = app.admin.company(json!({})).await["id"].clone();

    let nothing = app.service.audit_purge(&system(), time::Duration::days(365)).await.expect("purge");
    assert_eq!(nothing.purged, 0);
    assert!(entries(app, "action=audit.purged").await.is_empty(), "a purge that deletes nothing records nothing");

    let older_than = time::OffsetDateTime::now_utc() - boundary;
    let report = app.service.audit_purge(&system(), older_than).await.expect("purge");
    assert_eq!(report.purged, old.len() as u64);
    let last_purged = old[0]["seq"].as_i64().expect("seq");
    assert_eq!(report.last_purged_seq, Some(last_purged));

    let remaining = entries(app, "").await;
    let oldest = remaining.last().expect("entries remain");
    assert_eq!(oldest["seq"].as_i64(), Some(last_purged + 1));
    assert_eq!(entries(app, &format!("record_id={}", kept_company.as_str().expect("id"))).await.len(), 1);
    let purges = entries(app, "action=audit.purged").await;
    assert_eq!(purges.len(), 1);
    let purge = &purges[0];
    assert_eq!(purge["actor_id"], Value::Null, "the system purged");
    assert_eq!(purge["details"]["count"], old.len());
    assert_eq!(purge["details"]["last_purged_seq"], last_purged);
    assert_eq!(purge["details"]["last_purged_hash"], old[0]["hash"]);
    assert_eq!(purge["details"]["last_purged_hash"], oldest["prev_hash"], "the anchor verification starts from");

    let after = verify(app).await;
    assert_eq!(after["ok"], true, "{after}");
    assert_eq!(after["first_seq"], last_purged + 1);
    app.admin.company(json!({})).await;
    assert_eq!(verify(app).await["ok"], true, "the chain goes on after a purge");

    // Deleting the oldest remaining entry is not a purge: nothing anchors the new start.
    let first = last_purged + 1;
    sql(app, &format!("DELETE FROM audit_log WHERE seq = {first}")).await.expect("delete");
    let broken = verify(app).await;
    assert_eq!(broken["ok"], false, "{broken}");
    assert_eq!(broken["broken"]["seq"], first + 1);
    assert_eq!(broken["broken"]["reason"], "gap");
}
both_backends!(retention_purge_keeps_the_chain_verifiable_and_is_audited);

async fn purging_everything_still_verifies(app: &TestApp) {
    app.admin.company(json!({})).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let report = app.service.audit_purge(&system(), time::Duration::ZERO).await.expect("purge");
    assert!(report.purged >= 1);
    let remaining = entries(app, "").await;
    assert_eq!(actions(&remaining), vec!["audit.purged"], "only the purge's own entry is left");
    let v = verify(app).await;
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["checked"], 1);
    assert!(app.service.audit_purge(&system(), time::Duration::days(-1)).await.is_err(), "negative retention");
}
both_backends!(purging_everything_still_verifies);
