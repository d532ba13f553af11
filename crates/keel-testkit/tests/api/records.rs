//! Create, read, update with optimistic concurrency, idempotent POST.

use keel_testkit::{TestApp, both_backends};
use reqwest::{Method, StatusCode};
use serde_json::json;

async fn create_returns_the_record_with_location_and_etag(app: &TestApp) {
    let res = app
        .admin
        .post("/api/v1/companies", json!({ "name": "Acme Corp", "domain": "acme.com", "industry": "Technology" }))
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let id = res.id();
    assert_eq!(res.header("location"), Some(format!("/api/v1/companies/{id}").as_str()));
    assert_eq!(res.header("etag"), Some("\"1\""));
    assert_eq!(res.body["version"], 1);
    assert_eq!(res.body["owner_id"], app.admin.get("/api/v1/auth/me").await.body["id"]);
    assert!(uuid::Uuid::parse_str(&id).is_ok_and(|u| u.get_version_num() == 7), "ids are UUIDv7");

    let got = app.admin.get(&format!("/api/v1/companies/{id}")).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body, res.body);
}
both_backends!(create_returns_the_record_with_location_and_etag);

async fn patch_is_partial_and_bumps_the_version(app: &TestApp) {
    let c = app.admin.company(json!({ "industry": "Finance", "city": "Boston" })).await;
    let id = c["id"].as_str().expect("id");
    let res = app.admin.patch(&format!("/api/v1/companies/{id}"), json!({ "city": "Chicago" })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["city"], "Chicago");
    assert_eq!(res.body["industry"], "Finance", "untouched fields keep their values");
    assert_eq!(res.body["version"], 2);
    assert_eq!(res.header("etag"), Some("\"2\""));
    assert!(res.body["updated_at"].as_str() > c["updated_at"].as_str());

    // A PATCH that changes nothing is not a new version.
    let same = app.admin.patch(&format!("/api/v1/companies/{id}"), json!({ "city": "Chicago" })).await;
    assert_eq!(same.body["version"], 2);
}
both_backends!(patch_is_partial_and_bumps_the_version);

async fn stale_if_match_answers_412_and_writes_nothing(app: &TestApp) {
    let c = app.admin.company(json!({})).await;
    let path = format!("/api/v1/companies/{}", c["id"].as_str().expect("id"));
    let first = app.admin.send(Method::PATCH, &path, Some(json!({ "city": "Paris" })), &[("if-match", "\"1\"")]).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let stale = app.admin.send(Method::PATCH, &path, Some(json!({ "city": "Rome" })), &[("if-match", "\"1\"")]).await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED, "{}", stale.text);
    assert_eq!(stale.body["code"], "version_mismatch");
    assert_eq!(stale.body["current_version"], 2);
    assert_eq!(app.admin.get(&path).await.body["city"], "Paris");
}
both_backends!(stale_if_match_answers_412_and_writes_nothing);

async fn idempotent_post_replays_the_first_response(app: &TestApp) {
    let key = [("idempotency-key", "create-acme-1")];
    let body = json!({ "name": "Replay Co" });
    let first = app.admin.send(Method::POST, "/api/v1/companies", Some(body.clone()), &key).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let again = app.admin.send(Method::POST, "/api/v1/companies", Some(body), &key).await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.body, first.body);
    let list = app.admin.get("/api/v1/companies?name=Replay%20Co&count=true").await;
    assert_eq!(list.body["total"], 1, "the replay must not create a second record");

    // The same key with a different body is a client bug, not a replay.
    let other = app.admin.send(Method::POST, "/api/v1/companies", Some(json!({ "name": "Other Co" })), &key).await;
    assert_eq!(other.status, StatusCode::CONFLICT);
    assert_eq!(other.body["code"], "idempotency_key_reused");

    // Keys belong to a user: another user's identical key is independent.
    let (_, manager) = app.user(keel_domain::policy::Role::Manager).await;
    let theirs = manager.send(Method::POST, "/api/v1/companies", Some(json!({ "name": "Manager Co" })), &key).await;
    assert_eq!(theirs.status, StatusCode::CREATED);
    assert!(theirs.header("idempotent-replayed").is_none());
}
both_backends!(idempotent_post_replays_the_first_response);

async fn concurrent_patches_with_the_same_version_let_exactly_one_win(app: &TestApp) {
    let c = app.admin.company(json!({})).await;
    let path = format!("/api/v1/companies/{}", c["id"].as_str().expect("id"));
    let mut handles = Vec::new();
    for i in 0..6 {
        let client = app.admin.clone();
        let path = path.clone();
        handles.push(tokio::spawn(async move {
            client
                .send(Method::PATCH, &path, Some(json!({ "city": format!("City {i}") })), &[("if-match", "\"1\"")])
                .await
                .status
        }));
    }
    let mut ok = 0;
    for h in handles {
        match h.await.expect("task") {
            StatusCode::OK => ok += 1,
            StatusCode::PRECONDITION_FAILED => {}
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(ok, 1);
    assert_eq!(app.admin.get(&path).await.body["version"], 2);
}
both_backends!(concurrent_patches_with_the_same_version_let_exactly_one_win);

async fn reps_edit_their_own_records_only(app: &TestApp) {
    let team = app.admin_team().await;
    let (_, rep) = app.member(keel_domain::policy::Role::Rep, &team).await;
    let mine = rep.company(json!({})).await;
    let theirs = app.admin.company(json!({})).await;
    let ok =
        rep.patch(&format!("/api/v1/companies/{}", mine["id"].as_str().expect("id")), json!({ "city": "Oslo" })).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    let denied = rep
        .patch(&format!("/api/v1/companies/{}", theirs["id"].as_str().expect("id")), json!({ "city": "Oslo" }))
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.admin.get(&format!("/api/v1/companies/{}", theirs["id"].as_str().expect("id"))).await.body["city"],
        json!(null)
    );
    // Reps may not manage users either.
    let users = rep
        .post(
            "/api/v1/users",
            json!({ "email": "x@example.com", "name": "X", "role": "admin", "password": "long enough password" }),
        )
        .await;
    assert_eq!(users.status, StatusCode::FORBIDDEN);
}
both_backends!(reps_edit_their_own_records_only);

async fn schema_endpoint_describes_every_entity_from_metadata(app: &TestApp) {
    let res = app.admin.get("/api/v1/schema").await;
    assert_eq!(res.status, StatusCode::OK);
    let deals = &res.body["entities"]["deals"];
    let stage = deals["fields"].as_array().expect("fields").iter().find(|f| f["name"] == "stage").expect("stage");
    assert_eq!(stage["options"][3]["value"], "Negotiation");
    assert_eq!(stage["options"][3]["probability"], 75);
    let users = res.body["entities"]["users"]["fields"].as_array().expect("fields");
    assert!(users.iter().all(|f| f["name"] != "password_hash"), "hidden fields stay hidden");

    let openapi = app.anonymous().get("/api/openapi.json").await;
    assert_eq!(openapi.status, StatusCode::OK);
    assert_eq!(openapi.body["openapi"], "3.1.0");
    assert!(openapi.body["paths"]["/api/v1/deals"]["get"].is_object());
    let docs = app.anonymous().get("/api/docs").await;
    assert_eq!(docs.status, StatusCode::OK);
    assert!(docs.text.contains("<html"));
}
both_backends!(schema_endpoint_describes_every_entity_from_metadata);

async fn health_and_readiness_answer(app: &TestApp) {
    let anon = app.anonymous();
    assert_eq!(anon.get("/healthz").await.status, StatusCode::OK);
    let ready = anon.get("/readyz").await;
    assert_eq!(ready.status, StatusCode::OK);
    assert!(ready.header("x-request-id").is_some());
}
both_backends!(health_and_readiness_answer);
