//! The change log: one entry per mutation, in order, with field diffs and request ids.

use keel_domain::policy::Role;
use keel_testkit::{TestApp, both_backends};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn entries_for(app: &TestApp, record_id: &str) -> Vec<Value> {
    let mut after = 0;
    let mut out = Vec::new();
    loop {
        let res = app.admin.get(&format!("/api/v1/changes?after={after}&limit=50")).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        let data = res.body["data"].as_array().cloned().unwrap_or_default();
        if data.is_empty() {
            return out;
        }
        after = res.body["next_after"].as_i64().expect("next_after");
        out.extend(data.into_iter().filter(|e| e["record_id"] == record_id));
    }
}

async fn every_mutation_appends_an_entry_with_its_diff(app: &TestApp) {
    let created = app
        .admin
        .send(
            Method::POST,
            "/api/v1/companies",
            Some(json!({ "name": "Logged Co", "city": "Lyon" })),
            &[("x-request-id", "req-create-1")],
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let id = created.id();
    let path = format!("/api/v1/companies/{id}");
    app.admin.send(Method::PATCH, &path, Some(json!({ "city": "Nice" })), &[("x-request-id", "req-update-1")]).await;
    assert_eq!(app.admin.delete(&path).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.admin.post(&format!("{path}/restore"), json!({})).await.status, StatusCode::OK);

    let entries = entries_for(app, &id).await;
    let ops: Vec<&str> = entries.iter().map(|e| e["op"].as_str().unwrap_or("")).collect();
    assert_eq!(ops, vec!["create", "update", "delete", "restore"]);
    let seqs: Vec<i64> = entries.iter().map(|e| e["seq"].as_i64().unwrap_or(0)).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "sequence is monotonic: {seqs:?}");

    let create = &entries[0];
    assert_eq!(create["entity"], "companies");
    assert_eq!(create["request_id"], "req-create-1");
    assert_eq!(create["diff"]["name"], json!({ "from": null, "to": "Logged Co" }));
    assert_eq!(create["actor_id"], app.admin.get("/api/v1/auth/me").await.body["id"]);

    let update = &entries[1];
    assert_eq!(update["request_id"], "req-update-1");
    assert_eq!(update["diff"]["city"], json!({ "from": "Lyon", "to": "Nice" }));
    assert_eq!(update["diff"]["version"], json!({ "from": 1, "to": 2 }));
    assert!(update["diff"].get("name").is_none(), "unchanged fields are not in the diff");

    assert!(entries[2]["diff"]["deleted_at"]["to"].is_string());
    assert!(entries[3]["diff"]["deleted_at"]["to"].is_null());
}
both_backends!(every_mutation_appends_an_entry_with_its_diff);

async fn rejected_writes_leave_no_entry(app: &TestApp) {
    let before = app.admin.get("/api/v1/changes?after=0&limit=1000").await.body["data"].as_array().map_or(0, Vec::len);
    let bad = app.admin.post("/api/v1/companies", json!({ "name": "" })).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let after = app.admin.get("/api/v1/changes?after=0&limit=1000").await.body["data"].as_array().map_or(0, Vec::len);
    assert_eq!(before, after);
}
both_backends!(rejected_writes_leave_no_entry);

async fn passwords_never_appear_in_the_change_log(app: &TestApp) {
    let res = app
        .admin
        .post("/api/v1/users", json!({ "email": "new.rep@example.com", "name": "New Rep", "role": "rep", "password": "a very secret passphrase" }))
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let entries = entries_for(app, &res.id()).await;
    let text = serde_json::to_string(&entries).unwrap_or_default();
    assert!(!text.contains("argon2"), "hash leaked into the change log");
    assert!(!text.contains("secret passphrase"));
    assert_eq!(entries[0]["diff"]["password_hash"], json!({ "changed": true }));
}
both_backends!(passwords_never_appear_in_the_change_log);

async fn only_admins_read_the_change_log(app: &TestApp) {
    let (_, manager) = app.user(Role::Manager).await;
    assert_eq!(manager.get("/api/v1/changes").await.status, StatusCode::FORBIDDEN);
    let bad = app.admin.get("/api/v1/changes?after=-1").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}
both_backends!(only_admins_read_the_change_log);
