//! The assistant's retrieval, time zones and follow-ups over HTTP on both databases.
//! Semantic retrieval runs against the local OpenAI-compatible mock's `/embeddings`
//! (deterministic vectors in which "photovoltaic" and "solar" mean the same): the indexer
//! keeps the vectors current from the change log, an answer cites a record found by
//! meaning only, a rep never reaches another team's records that way, and with the
//! endpoint down full-text search still answers.

use std::time::Duration;

use keel_domain::clock::Clock;
use keel_domain::policy::Role;
use keel_testkit::mock_model::MockModel;
use keel_testkit::{Client, TestApp, both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn ask(client: &Client, body: Value) -> Value {
    let res = client.post("/api/v1/assistant/chat", body.clone()).await;
    assert_eq!(res.status, StatusCode::OK, "{body}: {}", res.text);
    res.body
}

fn cited(reply: &Value) -> Vec<String> {
    reply["citations"].as_array().into_iter().flatten().filter_map(|c| c["id"].as_str().map(String::from)).collect()
}

/// Ask `question` until `done` holds for the answer (the indexer works in the background),
/// at most 15 s; returns the last answer.
async fn ask_until(client: &Client, question: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let reply = ask(client, json!({ "message": question })).await;
        if done(&reply) || std::time::Instant::now() > deadline {
            return reply;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Wait until the mock has embedded a text containing `needle` (the indexer got that far).
async fn wait_embedded(model: &MockModel, seen: &mut Vec<String>, needle: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while !seen.iter().any(|t| t.contains(needle)) {
        assert!(std::time::Instant::now() < deadline, "never embedded `{needle}`; embedded: {seen:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
        seen.extend(model.take_embedded());
    }
}

const SOLAR_QUESTION: &str = "Who wants solar energy?";

async fn semantic_hits_are_cited_and_follow_changes(app: &TestApp, model: &MockModel) {
    let company = app.admin.company(json!({ "name": "Helios Partners" })).await;
    let cid = company["id"].as_str().expect("id");
    let deal =
        app.admin.deal(cid, json!({ "title": "Warehouse upgrade", "notes": "photovoltaic rooftop install" })).await;
    let deal_id = deal["id"].as_str().expect("id").to_string();

    // No word of the question is in the deal: only meaning finds it.
    let reply = ask_until(&app.admin, SOLAR_QUESTION, |r| cited(r).contains(&deal_id)).await;
    assert!(cited(&reply).contains(&deal_id), "semantic hit cited: {reply}");
    let text = reply["reply"].as_str().unwrap_or_default();
    assert!(text.contains("Warehouse upgrade") && text.contains("similar in meaning"), "{text}");
    assert_eq!(reply["tool_calls"][0]["name"], "search_records", "{reply}");
    assert_eq!(reply["engine"], "builtin");

    // A change that leaves the embedded text alone is not embedded again; a later change is.
    model.take_embedded();
    let mut seen = Vec::new();
    let res = app.admin.patch(&format!("/api/v1/deals/{deal_id}"), json!({ "amount": 123_400 })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    app.admin.company(json!({ "name": "Marker Industries" })).await;
    wait_embedded(model, &mut seen, "Marker Industries").await;
    assert!(!seen.iter().any(|t| t.contains("Warehouse upgrade")), "amount-only change re-embedded: {seen:?}");

    // New text: the old meaning is gone, the new one is found.
    let res =
        app.admin.patch(&format!("/api/v1/deals/{deal_id}"), json!({ "notes": "an espresso bar for the lobby" })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let reply = ask_until(&app.admin, "Anyone about coffee?", |r| cited(r).contains(&deal_id)).await;
    assert!(cited(&reply).contains(&deal_id), "updated text found by meaning: {reply}");
    let reply = ask_until(&app.admin, SOLAR_QUESTION, |r| !cited(r).contains(&deal_id)).await;
    assert!(!cited(&reply).contains(&deal_id), "old text no longer matches: {reply}");

    // Deleted: no longer found (and its embedding is removed, not just hidden).
    let res = app.admin.delete(&format!("/api/v1/deals/{deal_id}")).await;
    assert!(res.status.is_success(), "{}", res.text);
    let reply = ask_until(&app.admin, "Anyone about coffee?", |r| !cited(r).contains(&deal_id)).await;
    assert!(!cited(&reply).contains(&deal_id), "deleted deal not found: {reply}");
}

both_backends!(semantic_hits_follow_changes, semantic_hits_are_cited_and_follow_changes, with_embeddings);

async fn a_rep_reaches_nothing_of_another_team_by_meaning(app: &TestApp, _model: &MockModel) {
    let team_a = app.admin_team().await;
    let team_b = app.team("B").await;
    let (_, rep_a) = app.member(Role::Rep, &team_a).await;
    let (b, rep_b) = app.member(Role::Rep, &team_b).await;
    let b_id = b["id"].as_str().expect("id");
    let company = app.admin.company(json!({ "name": "Umbrella Retail", "owner_id": b_id })).await;
    let cid = company["id"].as_str().expect("id");
    let deal = app
        .admin
        .deal(cid, json!({ "title": "Store refit", "notes": "photovoltaic rooftop install", "owner_id": b_id }))
        .await;
    let deal_id = deal["id"].as_str().expect("id").to_string();
    // Indexed: the admin and the owner's rep find it by meaning.
    let reply = ask_until(&app.admin, SOLAR_QUESTION, |r| cited(r).contains(&deal_id)).await;
    assert!(cited(&reply).contains(&deal_id), "{reply}");
    let reply = ask(&rep_b, json!({ "message": SOLAR_QUESTION })).await;
    assert!(cited(&reply).contains(&deal_id), "the owner's team sees it: {reply}");
    // Another team's rep: nothing cited, nothing named.
    let reply = ask(&rep_a, json!({ "message": SOLAR_QUESTION })).await;
    assert!(cited(&reply).is_empty(), "rep of another team: {reply}");
    let text = reply["reply"].as_str().unwrap_or_default();
    assert!(!text.contains("Store refit") && !text.contains("Umbrella"), "{text}");
}

both_backends!(semantic_retrieval_is_scoped, a_rep_reaches_nothing_of_another_team_by_meaning, with_embeddings);

async fn with_the_endpoint_down_full_text_still_answers(app: &TestApp, model: &MockModel) {
    model.set_embeddings_down(Some(503));
    let company = app.admin.company(json!({ "name": "Zephyr Analytics" })).await;
    let cid = company["id"].as_str().expect("id").to_string();
    let reply = ask(&app.admin, json!({ "message": "Anything about zephyr?" })).await;
    assert!(cited(&reply).contains(&cid), "full-text hit: {reply}");
    let text = reply["reply"].as_str().unwrap_or_default();
    assert!(text.contains("Search by meaning is unavailable") && text.contains("503"), "{text}");
    // Back up: the indexer catches up (it retried with backoff) and meaning works again.
    model.set_embeddings_down(None);
    let deal = app.admin.deal(&cid, json!({ "title": "Analytics rollout", "notes": "photovoltaic rooftop" })).await;
    let deal_id = deal["id"].as_str().expect("id").to_string();
    let reply = ask_until(&app.admin, SOLAR_QUESTION, |r| cited(r).contains(&deal_id)).await;
    assert!(cited(&reply).contains(&deal_id), "after recovery: {reply}");
}

both_backends!(embeddings_down, with_the_endpoint_down_full_text_still_answers, with_embeddings);

/// Move the service's clock forward to `at` (RFC 3339).
fn move_clock_to(app: &TestApp, at: &str) {
    let target = time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339).expect("target time");
    let now = app.clock.now();
    assert!(target > now, "the test's time must be in the future");
    app.clock.advance(target - now);
}

async fn today_is_the_users_today(app: &TestApp) {
    // 12:30 UTC on 13 May is 00:30 on 14 May in Auckland (UTC+12 in May).
    move_clock_to(app, "2099-05-13T12:30:00Z");
    let team = app.admin_team().await;
    let (kiwi, kiwi_client) = app.member(Role::Manager, &team).await;
    let kiwi_id = kiwi["id"].as_str().expect("id");
    let res = app.admin.patch(&format!("/api/v1/users/{kiwi_id}"), json!({ "time_zone": "Mars/Olympus_Mons" })).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    assert_eq!(res.error_fields(), vec!["time_zone".to_string()], "{}", res.text);
    let res = app.admin.patch(&format!("/api/v1/users/{kiwi_id}"), json!({ "time_zone": "Pacific/Auckland" })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["time_zone"], "Pacific/Auckland");

    let company = app.admin.company(json!({ "name": "Kauri Ltd" })).await;
    let cid = company["id"].as_str().expect("id");
    let on_13 =
        app.admin.deal(cid, json!({ "title": "Closes on the 13th", "expected_close_date": "2099-05-13" })).await;
    let on_14 =
        app.admin.deal(cid, json!({ "title": "Closes on the 14th", "expected_close_date": "2099-05-14" })).await;
    let (on_13, on_14) = (on_13["id"].as_str().expect("id").to_string(), on_14["id"].as_str().expect("id").to_string());

    let utc = ask(&app.admin, json!({ "message": "Which deals are closing today?" })).await;
    assert_eq!(cited(&utc), vec![on_13.clone()], "UTC user: {utc}");
    assert_eq!(utc["tool_calls"][0]["arguments"]["close_from"], "2099-05-13");
    let nz = ask(&kiwi_client, json!({ "message": "Which deals are closing today?" })).await;
    assert_eq!(cited(&nz), vec![on_14.clone()], "Auckland user: {nz}");
    assert_eq!(nz["tool_calls"][0]["arguments"]["close_from"], "2099-05-14");
}

both_backends!(time_zones, today_is_the_users_today);

async fn follow_ups_refine_the_previous_question(app: &TestApp) {
    move_clock_to(app, "2099-05-13T12:00:00Z");
    let company = app.admin.company(json!({ "name": "Follow Co" })).await;
    let cid = company["id"].as_str().expect("id");
    let id = |v: Value| v["id"].as_str().expect("id").to_string();
    let small = id(app
        .admin
        .deal(cid, json!({ "title": "Small May", "amount": 1_000_000, "expected_close_date": "2099-05-20" }))
        .await);
    let big = id(app
        .admin
        .deal(cid, json!({ "title": "Big May", "amount": 8_000_000, "expected_close_date": "2099-05-25" }))
        .await);
    let june = id(app
        .admin
        .deal(cid, json!({ "title": "June deal", "amount": 9_000_000, "expected_close_date": "2099-06-10" }))
        .await);

    let first = ask(&app.admin, json!({ "message": "Which deals are closing this month?" })).await;
    let mut got = cited(&first);
    got.sort();
    let mut want = vec![small.clone(), big.clone()];
    want.sort();
    assert_eq!(got, want, "{first}");
    let conversation = first["conversation_id"].clone();

    let only = ask(&app.admin, json!({ "conversation_id": conversation, "message": "only the ones over $50K" })).await;
    assert_eq!(cited(&only), vec![big.clone()], "{only}");
    assert_eq!(only["tool_calls"][0]["arguments"]["close_from"], "2099-05-01", "{only}");

    let next = ask(&app.admin, json!({ "conversation_id": conversation, "message": "what about next month?" })).await;
    assert_eq!(cited(&next), vec![june.clone()], "{next}");
    assert_eq!(next["tool_calls"][0]["arguments"]["close_from"], "2099-06-01", "{next}");
    // The amount bound carries over from the turn before.
    assert_eq!(next["tool_calls"][0]["arguments"]["amount"]["gt"], 5_000_000, "{next}");

    // A new conversation has no earlier question: the same words are not a follow-up.
    let fresh = ask(&app.admin, json!({ "message": "what about next month?" })).await;
    assert!(cited(&fresh).is_empty() || fresh["tool_calls"][0]["name"] != "search_deals", "{fresh}");
}

both_backends!(follow_ups, follow_ups_refine_the_previous_question);
