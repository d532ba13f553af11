//! Outbound webhooks end to end, against real peers: a local HTTP receiver standing in for
//! the subscriber and the test SMTP server (aiosmtpd) for the "webhook disabled" email.
//! Signatures are checked by a reference verifier written here from the documented
//! scheme, not by Keel's signer. Retries are driven by moving the clock past the backoff.

use std::time::Duration;

use hmac::{Hmac, Mac};
use keel_domain::policy::Role;
use keel_testkit::receiver::{Received, Receiver};
use keel_testkit::smtp::free_port;
use keel_testkit::{TestApp, both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Sha256;

const WAIT: Duration = Duration::from_secs(20);
/// How old a signature the reference receiver accepts.
const TOLERANCE_SECONDS: i64 = 300;

/// Poll `check` until it returns Some (panics with `what` after WAIT).
async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = std::time::Instant::now();
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(start.elapsed() < WAIT, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The reference verifier, as docs/API.md tells receivers to write it: split
/// `X-Keel-Signature` into `t` and `v1`, refuse a `t` further than the tolerance from now,
/// HMAC-SHA256 `"<t>.<raw body>"` with the secret and compare in constant time.
fn verify(secret: &str, header: &str, body: &str, now: i64) -> Result<(), &'static str> {
    let (mut t, mut v1) = (None, None);
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", x)) => t = x.parse::<i64>().ok(),
            Some(("v1", x)) => v1 = hex::decode(x).ok(),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else { return Err("malformed") };
    if (now - t).abs() > TOLERANCE_SECONDS {
        return Err("too old");
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).map_err(|_| "bad key")?;
    mac.update(format!("{t}.{body}").as_bytes());
    mac.verify_slice(&v1).map_err(|_| "wrong signature")
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap_or_else(|| panic!("no id in {v}")).to_string()
}

async fn create_webhook(app: &TestApp, body: Value) -> Value {
    let res = app.admin.post("/api/v1/webhooks", body).await;
    assert_eq!(res.status, StatusCode::CREATED, "create webhook: {}", res.text);
    res.body
}

async fn deliveries(app: &TestApp, webhook_id: &str) -> Vec<Value> {
    let res = app.admin.get(&format!("/api/v1/webhooks/{webhook_id}/deliveries")).await;
    assert_eq!(res.status, StatusCode::OK, "deliveries: {}", res.text);
    res.body["data"].as_array().cloned().unwrap_or_default()
}

/// Wait until the receiver has `n` requests at `path`.
async fn received(r: &Receiver, path: &str, n: usize) -> Vec<Received> {
    eventually(&format!("{n} request(s) at {path}"), || async {
        let got = r.at(path);
        (got.len() >= n).then_some(got)
    })
    .await
}

async fn job_status(app: &TestApp, job_id: &str) -> (Value, Value) {
    let res = app.admin.get("/api/v1/jobs?limit=200").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let job = res.body["data"]
        .as_array()
        .and_then(|a| a.iter().find(|j| j["id"] == job_id).cloned())
        .expect("the delivery's job is listed");
    (job["status"].clone(), job["attempts"].clone())
}

async fn admin_me(app: &TestApp) -> Value {
    let me = app.admin.get("/api/v1/auth/me").await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text);
    if me.body["user"].is_object() { me.body["user"].clone() } else { me.body }
}

async fn deliveries_are_signed_carry_the_event_and_can_be_redelivered(app: &TestApp) {
    let r = Receiver::start().await;
    let hook = create_webhook(
        app,
        json!({ "url": r.url("/hook"), "description": "ERP sync", "events": ["deals.created", "deals.updated"] }),
    )
    .await;
    let (wid, secret) = (id(&hook), hook["secret"].as_str().expect("secret shown").to_string());
    assert!(secret.starts_with("whsec_") && secret.len() > 40, "{secret}");
    assert_eq!(hook["active"], true);
    let me = admin_me(app).await;

    let company = app.admin.company(json!({})).await;
    let deal = app.admin.deal(&id(&company), json!({ "title": "Signed deal", "amount": 250_000 })).await;
    let res = app.admin.patch(&format!("/api/v1/deals/{}", id(&deal)), json!({ "stage": "Proposal" })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);

    let got = received(&r, "/hook", 2).await;
    let now = app.service.now().unix_timestamp();
    for req in &got {
        let sig = req.headers.get("x-keel-signature").expect("signed");
        assert_eq!(verify(&secret, sig, &req.body, now), Ok(()), "{sig}");
        assert_eq!(verify("whsec_wrong", sig, &req.body, now), Err("wrong signature"));
        assert_eq!(verify(&secret, sig, &req.body.replace("Signed", "Forged"), now), Err("wrong signature"));
        assert_eq!(req.headers.get("x-keel-event").map(String::as_str), req.json()["type"].as_str());
        assert_eq!(req.headers.get("content-type").map(String::as_str), Some("application/json"));
    }
    // Each delivery is its own job; find them by type rather than by arrival.
    let of_type = |t: &str| got.iter().find(|g| g.json()["type"] == t).cloned().expect("delivered");
    let (created_req, updated_req) = (of_type("deals.created"), of_type("deals.updated"));
    let (created, updated) = (created_req.json(), updated_req.json());
    assert_eq!(created["type"], "deals.created");
    assert_eq!(created["record"]["title"], "Signed deal");
    assert_eq!(updated["type"], "deals.updated");
    assert_eq!(updated["entity"], "deals");
    assert_eq!(updated["record_id"], deal["id"]);
    assert_eq!(updated["record"]["id"], deal["id"]);
    assert_eq!(updated["record"]["stage"], "Proposal");
    assert_eq!(updated["record"]["amount"], 250_000);
    assert_eq!(updated["changes"]["stage"], json!({ "from": "Prospecting", "to": "Proposal" }));
    assert_eq!(updated["actor"]["id"], me["id"], "{updated}");
    assert_eq!(updated["actor"]["email"], me["email"]);
    assert!(updated["id"].as_str().is_some_and(|e| e.starts_with("evt_")), "{updated}");
    assert_ne!(created["id"], updated["id"]);
    assert!(
        time::OffsetDateTime::parse(
            updated["occurred_at"].as_str().expect("occurred_at"),
            &time::format_description::well_known::Rfc3339
        )
        .is_ok()
    );

    // The log: both succeeded on the first try, the delivery id is the header's.
    let log = eventually("both deliveries logged as succeeded", || async {
        let log = deliveries(app, &wid).await;
        (log.len() == 2 && log.iter().all(|d| d["status"] == "succeeded")).then_some(log)
    })
    .await;
    let first = log.iter().find(|d| d["event_type"] == "deals.created").expect("logged");
    assert_eq!(json!(created_req.headers["x-keel-delivery"]), first["id"]);
    assert_eq!(first["attempts"].as_array().map(Vec::len), Some(1));
    assert_eq!(first["attempts"][0]["response_code"], 200);
    assert_eq!(first["attempts"][0]["succeeded"], true);
    assert!(first["attempts"][0]["latency_ms"].as_i64().is_some_and(|ms| ms >= 0));

    // A replayed request is refused once its time is past the tolerance.
    app.clock.advance(time::Duration::minutes(10));
    let later = app.service.now().unix_timestamp();
    assert_eq!(verify(&secret, &updated_req.headers["x-keel-signature"], &updated_req.body, later), Err("too old"));

    // Redelivery: a new delivery (own id) of the same event, signed afresh.
    let res = app.admin.post(&format!("/api/v1/webhooks/{wid}/deliveries/{}/redeliver", id(first)), json!({})).await;
    assert_eq!(res.status, StatusCode::ACCEPTED, "{}", res.text);
    assert_eq!(res.body["redelivery_of"], first["id"]);
    let again = received(&r, "/hook", 3).await.remove(2);
    assert_eq!(again.json(), created, "the same event");
    assert_eq!(again.headers["x-keel-delivery"], id(&res.body));
    assert_ne!(again.headers["x-keel-delivery"], created_req.headers["x-keel-delivery"]);
    assert_eq!(verify(&secret, &again.headers["x-keel-signature"], &again.body, later), Ok(()));

    // A new secret signs from now on; the old one no longer verifies. Test events too.
    let rotated = app.admin.post(&format!("/api/v1/webhooks/{wid}/rotate-secret"), json!({})).await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.text);
    let new_secret = rotated.body["secret"].as_str().expect("secret").to_string();
    assert_ne!(new_secret, secret);
    let test = app.admin.post(&format!("/api/v1/webhooks/{wid}/test"), json!({})).await;
    assert_eq!(test.status, StatusCode::ACCEPTED, "{}", test.text);
    let ping = received(&r, "/hook", 4).await.remove(3);
    assert_eq!(ping.json()["type"], "webhook.test");
    assert_eq!(ping.headers["x-keel-event"], "webhook.test");
    let now = app.service.now().unix_timestamp();
    assert_eq!(verify(&new_secret, &ping.headers["x-keel-signature"], &ping.body, now), Ok(()));
    assert_eq!(verify(&secret, &ping.headers["x-keel-signature"], &ping.body, now), Err("wrong signature"));

    // The secret stays out of the change log and the audit trail.
    let audit = app.admin.get(&format!("/api/v1/audit?entity=webhooks&record_id={wid}")).await;
    assert_eq!(audit.status, StatusCode::OK, "{}", audit.text);
    let actions: Vec<&str> =
        audit.body["data"].as_array().expect("audit").iter().filter_map(|e| e["action"].as_str()).collect();
    assert_eq!(actions, vec!["record.updated", "record.created"], "{}", audit.text);
    assert!(!audit.text.contains(&secret) && !audit.text.contains(&new_secret));
    assert_eq!(audit.body["data"][0]["details"]["diff"]["secret"]["to"], "(rotated)");
}
both_backends!(deliveries_are_signed_carry_the_event_and_can_be_redelivered);

async fn only_events_that_match_the_list_and_the_filter_are_delivered(app: &TestApp) {
    let r = Receiver::start().await;
    let won = create_webhook(
        app,
        json!({
            "url": r.url("/won"),
            "events": ["deals.updated"],
            "filter": { "field": "deal.stage", "op": "eq", "value": "Closed Won" },
        }),
    )
    .await;
    let everything = create_webhook(app, json!({ "url": r.url("/all"), "events": ["*"] })).await;
    let contacts = create_webhook(app, json!({ "url": r.url("/contacts"), "events": ["contacts.*"] })).await;

    let company = app.admin.company(json!({})).await;
    let deal = app.admin.deal(&id(&company), json!({ "title": "Filtered" })).await;
    for stage in ["Negotiation", "Closed Won"] {
        let res = app.admin.patch(&format!("/api/v1/deals/{}", id(&deal)), json!({ "stage": stage })).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    }
    let contact = app.admin.create("contacts", json!({ "first_name": "Ada", "company_id": id(&company) })).await;
    let res = app.admin.delete(&format!("/api/v1/deals/{}", id(&deal))).await;
    assert!(res.status.is_success(), "{}", res.text);

    // The catch-all hook sees every event: company, deal, two updates, contact, trash.
    let all = received(&r, "/all", 6).await;
    let mut types: Vec<String> =
        all.iter().map(|x| x.json()["type"].as_str().unwrap_or_default().to_string()).collect();
    types.sort();
    assert_eq!(
        types,
        ["companies.created", "contacts.created", "deals.created", "deals.deleted", "deals.updated", "deals.updated"]
    );
    // The dispatcher queued the others' deliveries in the same transactions: wait until done.
    let won_log = eventually("the filtered hook's delivery", || async {
        let log = deliveries(app, &id(&won)).await;
        log.iter().all(|d| d["status"] == "succeeded").then_some(log)
    })
    .await;
    assert_eq!(won_log.len(), 1, "only the move to Closed Won: {won_log:?}");
    let got = r.at("/won");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].json()["record"]["stage"], "Closed Won");
    assert_eq!(got[0].json()["changes"]["stage"]["from"], "Negotiation");
    let contact_events = received(&r, "/contacts", 1).await;
    assert_eq!(contact_events.len(), 1);
    assert_eq!(contact_events[0].json()["record_id"], contact["id"]);
    assert_eq!(deliveries(app, &id(&contacts)).await.len(), 1, "contacts.* is the contacts' events only");
    assert_eq!(deliveries(app, &id(&everything)).await.len(), 6);
}
both_backends!(only_events_that_match_the_list_and_the_filter_are_delivered);

async fn a_receiver_that_is_down_gets_the_event_once_it_is_back(app: &TestApp) {
    // Nothing listens on this port yet: the first try cannot connect.
    let port = free_port();
    let hook =
        create_webhook(app, json!({ "url": format!("http://127.0.0.1:{port}/hook"), "events": ["companies.created"] }))
            .await;
    let wid = id(&hook);
    app.admin.company(json!({ "name": "Patient Inc" })).await;
    let first = eventually("the first failed try", || async {
        deliveries(app, &wid).await.into_iter().find(|d| d["status"] == "retrying")
    })
    .await;
    let did = id(&first);
    assert_eq!(first["attempts"][0]["succeeded"], false);
    assert_eq!(first["attempts"][0]["response_code"], Value::Null);
    assert!(first["attempts"][0]["error"].as_str().is_some_and(|e| !e.is_empty()), "{first}");
    eventually("the first try settled", || async { (job_status(app, &did).await.0 == "queued").then_some(()) }).await;

    // Back up, but failing once more with a 503; then it answers 200.
    let r = Receiver::start_on(port).await;
    r.answer_next(&[503]);
    app.clock.advance(time::Duration::seconds(61));
    eventually("the second try settled", || async {
        let (status, attempts) = job_status(app, &did).await;
        (status == "queued" && attempts == 2).then_some(())
    })
    .await;
    app.clock.advance(time::Duration::seconds(121));
    let log = eventually("the delivery", || async {
        deliveries(app, &wid).await.into_iter().find(|d| d["status"] == "succeeded")
    })
    .await;
    let codes: Vec<Value> =
        log["attempts"].as_array().expect("attempts").iter().map(|a| a["response_code"].clone()).collect();
    assert_eq!(codes, vec![Value::Null, json!(503), json!(200)]);
    assert_eq!(log["response_code"], 200);

    // Exactly once: the 503 and the success, both the same delivery; nothing after.
    app.clock.advance(time::Duration::hours(3));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let got = r.at("/hook");
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got.iter().all(|g| g.headers["x-keel-delivery"] == did));
    assert_eq!(got[0].body, got[1].body);
    assert_eq!(deliveries(app, &wid).await.len(), 1);
    assert_eq!(job_status(app, &did).await.0, "done");
}
both_backends!(a_receiver_that_is_down_gets_the_event_once_it_is_back);

async fn a_webhook_that_keeps_failing_is_disabled_and_its_owner_emailed(app: &TestApp) {
    app.smtp.start().await;
    let r = Receiver::start().await;
    // 400 is the receiver refusing the event: not retried, so each delivery fails at once.
    r.answer_next(&[400, 400, 400]);
    let hook = create_webhook(app, json!({ "url": r.url("/broken"), "events": ["companies.updated"] })).await;
    let wid = id(&hook);
    let me = admin_me(app).await;
    let company = app.admin.company(json!({})).await;
    for n in 1..=3 {
        let res = app
            .admin
            .patch(&format!("/api/v1/companies/{}", id(&company)), json!({ "city": format!("City {n}") }))
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        // One at a time, so the count is of consecutive failures in order.
        eventually(&format!("delivery {n} failed"), || async {
            let log = deliveries(app, &wid).await;
            (log.len() == n && log.iter().all(|d| d["status"] == "failed")).then_some(())
        })
        .await;
    }
    let off = eventually("the webhook disabled", || async {
        let w = app.admin.get(&format!("/api/v1/webhooks/{wid}")).await.body;
        (w["active"] == false).then_some(w)
    })
    .await;
    assert_eq!(off["failures"], 3);
    assert!(off["disabled_reason"].as_str().is_some_and(|s| s.contains("3 consecutive failed")), "{off}");

    let mail = app.smtp.wait_for(1, WAIT).await;
    assert_eq!(mail[0]["rcpt_tos"], json!([me["email"]]));
    assert_eq!(mail[0]["subject"], format!("Webhook disabled: {}", r.url("/broken")));
    let text = mail[0]["text"].as_str().unwrap_or_default();
    assert!(text.contains("answered 400"), "{text}");

    // Disabled: later events are not delivered.
    let res = app.admin.patch(&format!("/api/v1/companies/{}", id(&company)), json!({ "city": "Quiet" })).await;
    assert_eq!(res.status, StatusCode::OK);
    // A probe subscribed after it: once the probe has the later "Probe" event, the
    // dispatcher has passed "Quiet" too.
    create_webhook(app, json!({ "url": r.url("/probe"), "events": ["companies.updated"] })).await;
    let res = app.admin.patch(&format!("/api/v1/companies/{}", id(&company)), json!({ "city": "Probe" })).await;
    assert_eq!(res.status, StatusCode::OK);
    eventually("the probe's event", || async {
        r.at("/probe").iter().any(|p| p.json()["record"]["city"] == "Probe").then_some(())
    })
    .await;
    assert_eq!(deliveries(app, &wid).await.len(), 3);
    assert_eq!(r.at("/broken").len(), 3);

    // The system's change is in the audit trail; turning it on again resets the count.
    let audit = app.admin.get(&format!("/api/v1/audit?entity=webhooks&record_id={wid}")).await;
    assert_eq!(
        audit.body["data"][0]["details"]["diff"]["active"],
        json!({ "from": true, "to": false }),
        "{}",
        audit.text
    );
    let on = app.admin.patch(&format!("/api/v1/webhooks/{wid}"), json!({ "active": true })).await;
    assert_eq!(on.status, StatusCode::OK, "{}", on.text);
    assert_eq!(on.body["failures"], 0);
    assert_eq!(on.body["disabled_reason"], Value::Null);
    let res = app.admin.patch(&format!("/api/v1/companies/{}", id(&company)), json!({ "city": "Back" })).await;
    assert_eq!(res.status, StatusCode::OK);
    let back = received(&r, "/broken", 4).await;
    assert_eq!(back[3].json()["record"]["city"], "Back");
    assert_eq!(app.smtp.messages().len(), 1, "one email per disable");
}
both_backends!(a_webhook_that_keeps_failing_is_disabled_and_its_owner_emailed);

async fn only_admins_manage_webhooks(app: &TestApp) {
    let r = Receiver::start().await;
    let hook = create_webhook(app, json!({ "url": r.url("/x"), "events": ["*"] })).await;
    let wid = id(&hook);
    let test = app.admin.post(&format!("/api/v1/webhooks/{wid}/test"), json!({})).await;
    assert_eq!(test.status, StatusCode::ACCEPTED, "{}", test.text);
    let did = id(&test.body);
    let (_, rep) = app.user(Role::Rep).await;
    let (_, manager) = app.user(Role::Manager).await;
    for client in [&rep, &manager] {
        let attempts = [
            client.get("/api/v1/webhooks").await,
            client.post("/api/v1/webhooks", json!({ "url": r.url("/y"), "events": ["*"] })).await,
            client.post("/api/v1/webhooks", json!({ "url": "nope" })).await,
            client.get(&format!("/api/v1/webhooks/{wid}")).await,
            client.patch(&format!("/api/v1/webhooks/{wid}"), json!({ "active": false })).await,
            client.delete(&format!("/api/v1/webhooks/{wid}")).await,
            client.post(&format!("/api/v1/webhooks/{wid}/rotate-secret"), json!({})).await,
            client.post(&format!("/api/v1/webhooks/{wid}/test"), json!({})).await,
            client.get(&format!("/api/v1/webhooks/{wid}/deliveries")).await,
            client.post(&format!("/api/v1/webhooks/{wid}/deliveries/{did}/redeliver"), json!({})).await,
        ];
        for (i, res) in attempts.iter().enumerate() {
            assert_eq!(res.status, StatusCode::FORBIDDEN, "attempt {i}: {}", res.text);
            assert_eq!(res.body["code"], "forbidden");
            assert!(!res.text.contains("whsec_"), "no secret leaks: {}", res.text);
        }
    }
    assert_eq!(app.anonymous().get("/api/v1/webhooks").await.status, StatusCode::UNAUTHORIZED);
    // Nothing changed: still active, the same secret, and only the admin's test delivery.
    let w = app.admin.get(&format!("/api/v1/webhooks/{wid}")).await;
    assert_eq!(w.body["active"], true);
    assert_eq!(w.body["secret"], hook["secret"]);
    assert_eq!(w.body["version"], 1);

    // The admin: list, stale If-Match, delete (the log outlives it).
    let list = app.admin.get("/api/v1/webhooks").await;
    assert_eq!(list.body["data"].as_array().map(Vec::len), Some(1));
    let stale = app
        .admin
        .send(
            reqwest::Method::PATCH,
            &format!("/api/v1/webhooks/{wid}"),
            Some(json!({ "description": "x" })),
            &[("if-match", "\"7\"")],
        )
        .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED, "{}", stale.text);
    assert_eq!(app.admin.delete(&format!("/api/v1/webhooks/{wid}")).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.admin.get(&format!("/api/v1/webhooks/{wid}")).await.status, StatusCode::NOT_FOUND);
    let audit = app.admin.get(&format!("/api/v1/audit?entity=webhooks&record_id={wid}")).await;
    let actions: Vec<&str> =
        audit.body["data"].as_array().expect("audit").iter().filter_map(|e| e["action"].as_str()).collect();
    assert_eq!(actions, vec!["record.purged", "record.created"], "{}", audit.text);
}
both_backends!(only_admins_manage_webhooks);

async fn bad_input_is_refused_naming_the_field(app: &TestApp) {
    let cases = [
        (json!({ "url": "not a url", "events": ["*"] }), vec!["url"]),
        (json!({ "url": "ftp://example.com/hook", "events": ["*"] }), vec!["url"]),
        (
            json!({ "url": "https://example.com/hook", "events": ["deals.updated", "deals.exploded"] }),
            vec!["events[1]"],
        ),
        (json!({ "url": "https://example.com/hook", "events": ["users.created"] }), vec!["events[0]"]),
        (json!({ "url": "https://example.com/hook", "events": [] }), vec!["events"]),
        (json!({ "url": "https://example.com/hook" }), vec!["events"]),
        (
            json!({ "url": "https://example.com/hook", "events": ["deals.updated"], "filter": { "field": "deal.nope", "op": "eq", "value": 1 } }),
            vec!["filter.field"],
        ),
        (
            json!({ "url": "https://example.com/hook", "events": ["contacts.created"], "filter": { "field": "deal.stage", "op": "eq", "value": "Closed Won" } }),
            vec!["filter.field"],
        ),
        (
            json!({ "url": "https://example.com/hook", "events": ["deals.updated"], "filter": { "field": "deal.stage", "op": "explode" } }),
            vec!["filter"],
        ),
        (
            json!({ "url": "https://example.com/hook", "events": ["deals.updated"], "filter": { "all": [{ "field": "deal.amount", "op": "gte" }] } }),
            vec!["filter.all[0].value"],
        ),
        (json!({ "url": "https://example.com/hook", "events": ["*"], "active": "yes" }), vec!["active"]),
        (json!({ "url": "https://example.com/hook", "events": ["*"], "colour": "red" }), vec!["colour"]),
        (json!({ "url": "https://example.com/hook", "events": ["*"], "secret": "mine" }), vec!["secret"]),
    ];
    for (body, fields) in cases {
        let res = app.admin.post("/api/v1/webhooks", body.clone()).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", res.text);
        assert_eq!(res.error_fields(), fields, "{body}: {}", res.text);
    }
    let hook =
        create_webhook(app, json!({ "url": "https://example.com/hook", "events": ["*"], "active": false })).await;
    let wid = id(&hook);
    let res = app.admin.patch(&format!("/api/v1/webhooks/{wid}"), json!({ "url": "javascript:alert(1)" })).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    assert_eq!(res.error_fields(), vec!["url"]);
    let res = app.admin.patch(&format!("/api/v1/webhooks/{wid}"), json!({ "secret": "whsec_mine" })).await;
    assert_eq!(res.error_fields(), vec!["secret"], "{}", res.text);
    let res = app.admin.get(&format!("/api/v1/webhooks/{wid}/deliveries?limit=0")).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST, "{}", res.text);
    let res = app.admin.get(&format!("/api/v1/webhooks/{wid}/deliveries?before=yesterday")).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST, "{}", res.text);
    let res = app.admin.get("/api/v1/webhooks/not-an-id").await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST, "{}", res.text);
    let res = app.admin.post(&format!("/api/v1/webhooks/{wid}/deliveries/{wid}/redeliver"), json!({})).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND, "{}", res.text);
    // Nothing was half-written: the valid one is the only subscription, unchanged.
    let list = app.admin.get("/api/v1/webhooks").await;
    assert_eq!(list.body["data"].as_array().map(Vec::len), Some(1));
    assert_eq!(list.body["data"][0]["url"], "https://example.com/hook");
    assert_eq!(list.body["data"][0]["version"], 1);
}
both_backends!(bad_input_is_refused_naming_the_field);
