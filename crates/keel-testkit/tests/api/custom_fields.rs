//! Custom fields and editable select options (issue 7, item 1) through the real HTTP API
//! on both databases: the lifecycle (add → write/read → filter and sort on an index that
//! really exists → type change converted or refused with a report → archive and back),
//! every type's validation, options editing with stage probabilities, field-level
//! security, admin-only endpoints, OpenAPI and /api/v1/schema, and CSV import.

use keel_domain::policy::Role;
use keel_testkit::introspect::shape;
use keel_testkit::{Client, TestApp, both_backends};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn add_field(app: &TestApp, entity: &str, def: Value) -> Value {
    let res = app.admin.post(&format!("/api/v1/fields/{entity}"), def).await;
    assert_eq!(res.status, StatusCode::CREATED, "add field: {}", res.text);
    res.body
}

async fn list(client: &Client, path: &str) -> Vec<Value> {
    let res = client.get(path).await;
    assert_eq!(res.status, StatusCode::OK, "{path}: {}", res.text);
    res.body["data"].as_array().cloned().unwrap_or_default()
}

fn ids(rows: &[Value]) -> Vec<String> {
    rows.iter().map(|r| r["id"].as_str().expect("id").to_string()).collect()
}

async fn lifecycle(app: &TestApp) {
    let field = add_field(
        app,
        "deals",
        json!({ "name": "score", "label": "Score", "type": "number", "min": 0, "max": 1000, "help": "Fit score" }),
    )
    .await;
    assert_eq!(field["name"], "cf_score");
    assert_eq!(field["type"], "number");
    assert_eq!(field["archived"], false);

    // The column and its sort index exist on this backend.
    let table = shape(app.service.db(), "deals").await;
    assert!(table.columns.contains("cf_score"), "{:?}", table.columns);
    assert!(table.index_names.contains("deals_cf_score"), "{:?}", table.index_names);
    assert!(table.index_leads.contains("cf_score"));

    // The schema and OpenAPI document show it.
    let schema = app.admin.get("/api/v1/schema").await;
    let fields = schema.body["entities"]["deals"]["fields"].as_array().expect("fields").clone();
    let score = fields.iter().find(|f| f["name"] == "cf_score").expect("cf_score in /api/v1/schema");
    assert_eq!(score["type"], "decimal");
    assert_eq!(score["kind"], "number");
    assert_eq!(score["custom"], true);
    assert_eq!(score["sortable"], true);
    let openapi = app.anonymous().get("/api/openapi.json").await;
    assert_eq!(openapi.status, StatusCode::OK);
    let in_openapi = openapi.body["components"]["schemas"]
        .as_object()
        .expect("schemas")
        .values()
        .any(|s| s["properties"]["cf_score"]["type"] == json!(["number", "null"]));
    assert!(in_openapi, "cf_score in an OpenAPI record schema");

    // Write and read through REST.
    let company = app.admin.company(json!({})).await;
    let cid = company["id"].as_str().expect("id");
    let high = app.admin.deal(cid, json!({ "cf_score": "12.5" })).await;
    assert_eq!(high["cf_score"], json!(12.5));
    let low = app.admin.deal(cid, json!({ "cf_score": 3 })).await;
    let none = app.admin.deal(cid, json!({})).await;
    assert_eq!(none["cf_score"], Value::Null);
    let (hid, lid) = (high["id"].as_str().expect("id"), low["id"].as_str().expect("id"));
    let got = app.admin.get(&format!("/api/v1/deals/{hid}")).await;
    assert_eq!(got.body["cf_score"], json!(12.5));
    let patched = app.admin.patch(&format!("/api/v1/deals/{lid}"), json!({ "cf_score": 4.25 })).await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.text);
    assert_eq!(patched.body["cf_score"], json!(4.25));

    // Filter and sort.
    let over = list(&app.admin, "/api/v1/deals?cf_score[gt]=5").await;
    assert_eq!(ids(&over), vec![hid.to_string()]);
    let sorted = list(&app.admin, "/api/v1/deals?sort=cf_score&cf_score[is_null]=false").await;
    assert_eq!(ids(&sorted), vec![lid.to_string(), hid.to_string()]);
    let desc = list(&app.admin, "/api/v1/deals?sort=-cf_score&limit=1").await;
    assert_eq!(ids(&desc), vec![hid.to_string()], "NULLs sort last");

    // Bad values name the field.
    let bad = app.admin.patch(&format!("/api/v1/deals/{lid}"), json!({ "cf_score": 1001 })).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);
    assert_eq!(bad.error_fields(), vec!["cf_score"]);

    // A type change that converts: text "42" and "7" become numbers.
    add_field(app, "deals", json!({ "name": "code", "label": "Code", "type": "text" })).await;
    app.admin.patch(&format!("/api/v1/deals/{hid}"), json!({ "cf_code": "42" })).await;
    app.admin.patch(&format!("/api/v1/deals/{lid}"), json!({ "cf_code": "7" })).await;
    let version_before = app.admin.get(&format!("/api/v1/deals/{hid}")).await.body["version"].clone();
    let seq_before = app.admin.get("/api/v1/changes?after=0&limit=1000").await.body["next_after"].clone();
    let changed = app.admin.patch("/api/v1/fields/deals/cf_code", json!({ "type": "number" })).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    assert_eq!(changed.body["type"], "number");
    let converted = app.admin.get(&format!("/api/v1/deals/{hid}")).await.body;
    assert_eq!(converted["cf_code"], json!(42));
    // The conversion is a change to each record: a change-log entry and a new version.
    assert_eq!(converted["version"], json!(version_before.as_i64().unwrap_or(0) + 1));
    let feed = app.admin.get(&format!("/api/v1/changes?after={seq_before}&limit=1000")).await;
    let entry = feed.body["data"]
        .as_array()
        .and_then(|d| d.iter().find(|c| c["entity"] == "deals" && c["record_id"] == json!(hid)).cloned())
        .unwrap_or_else(|| panic!("no change-log entry for the converted deal: {}", feed.text));
    assert_eq!(entry["diff"]["cf_code"], json!({ "from": "42", "to": 42 }), "{}", feed.text);
    assert_eq!(list(&app.admin, "/api/v1/deals?cf_code[lt]=10").await.len(), 1);

    // A type change that cannot convert is refused with a report and changes nothing.
    add_field(app, "deals", json!({ "name": "note", "label": "Note", "type": "text" })).await;
    app.admin.patch(&format!("/api/v1/deals/{hid}"), json!({ "cf_note": "abc" })).await;
    app.admin.patch(&format!("/api/v1/deals/{lid}"), json!({ "cf_note": "5" })).await;
    let refused = app.admin.patch("/api/v1/fields/deals/cf_note", json!({ "type": "number" })).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.text);
    assert_eq!(refused.body["code"], "type_change_refused");
    assert_eq!(refused.body["failed_count"], 1, "{}", refused.text);
    assert_eq!(refused.body["failures"][0]["id"], hid);
    assert_eq!(refused.body["failures"][0]["value"], "abc");
    assert_eq!(app.admin.get("/api/v1/fields/deals/cf_note").await.body["type"], "text");
    assert_eq!(app.admin.get(&format!("/api/v1/deals/{lid}")).await.body["cf_note"], "5");

    // Archive hides it everywhere but keeps the data; unarchive brings it back.
    let archived = app.admin.send(Method::POST, "/api/v1/fields/deals/cf_score/archive", None, &[]).await;
    assert_eq!(archived.status, StatusCode::OK, "{}", archived.text);
    assert_eq!(archived.body["archived"], true);
    let hidden = app.admin.get(&format!("/api/v1/deals/{hid}")).await;
    assert!(hidden.body.get("cf_score").is_none(), "{}", hidden.text);
    let schema = app.admin.get("/api/v1/schema").await;
    assert!(!schema.text.contains("cf_score"));
    let filter = app.admin.get("/api/v1/deals?cf_score[gt]=1").await;
    assert_eq!(filter.status, StatusCode::BAD_REQUEST, "an unknown filter field is a bad query: {}", filter.text);
    assert_eq!(filter.error_fields(), vec!["cf_score[gt]"]);
    let write = app.admin.patch(&format!("/api/v1/deals/{hid}"), json!({ "cf_score": 1 })).await;
    assert_eq!(write.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(write.error_fields(), vec!["cf_score"]);
    let listed = list(&app.admin, "/api/v1/fields/deals").await;
    assert!(listed.iter().any(|f| f["name"] == "cf_score" && f["archived"] == true));
    let back = app.admin.send(Method::POST, "/api/v1/fields/deals/cf_score/unarchive", None, &[]).await;
    assert_eq!(back.status, StatusCode::OK, "{}", back.text);
    assert_eq!(app.admin.get(&format!("/api/v1/deals/{hid}")).await.body["cf_score"], json!(12.5));

    // Reorder.
    let order = app
        .admin
        .send(
            Method::PUT,
            "/api/v1/fields/deals/order",
            Some(json!({ "order": ["cf_note", "cf_code", "cf_score"] })),
            &[],
        )
        .await;
    assert_eq!(order.status, StatusCode::OK, "{}", order.text);
    let schema = app.service.schema();
    let names: Vec<&str> = schema.entity("deals").expect("deals").custom_fields().map(|f| f.name.as_str()).collect();
    assert_eq!(names, vec!["cf_note", "cf_code", "cf_score"]);
    let bad_order =
        app.admin.send(Method::PUT, "/api/v1/fields/deals/order", Some(json!({ "order": ["cf_note"] })), &[]).await;
    assert_eq!(bad_order.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Every definition change is in the change log.
    let changes = app.admin.get("/api/v1/changes?limit=1000").await;
    let field_changes =
        changes.body["data"].as_array().expect("data").iter().filter(|c| c["entity"] == "custom_fields").count();
    assert!(field_changes >= 7, "{field_changes} field changes logged");
}
both_backends!(lifecycle);

/// (type definition extras, a good value and what it reads back as, a bad value).
fn cases() -> Vec<(&'static str, Value, Value, Value, Value)> {
    vec![
        ("text", json!({ "max_length": 5 }), json!(" abc "), json!("abc"), json!("toolong")),
        ("long_text", json!({}), json!("line\nline"), json!("line\nline"), json!(12)),
        ("number", json!({ "min": 0, "max": 10 }), json!("9.9999"), json!(9.9999), json!("1.23456")),
        ("currency", json!({}), json!(1999), json!(1999), json!(19.99)),
        ("percent", json!({}), json!(55), json!(55), json!(101)),
        ("date", json!({}), json!("2026-02-28"), json!("2026-02-28"), json!("2026-02-30")),
        (
            "datetime",
            json!({}),
            json!("2026-03-01T09:00:00+01:00"),
            json!("2026-03-01T08:00:00.000000Z"),
            json!("tomorrow"),
        ),
        ("boolean", json!({}), json!(true), json!(true), json!("yes")),
        (
            "select",
            json!({ "options": [{ "value": "Gold" }, { "value": "Silver" }] }),
            json!("gold"),
            json!("Gold"),
            json!("Bronze"),
        ),
        (
            "multi_select",
            json!({ "options": [{ "value": "A" }, { "value": "B" }, { "value": "C" }] }),
            json!(["c", "A"]),
            json!(["A", "C"]),
            json!(["A", "Z"]),
        ),
        ("email", json!({}), json!("Ann@Example.COM"), json!("ann@example.com"), json!("ann@")),
        ("phone", json!({}), json!("(415) 555-2671"), json!("+14155552671"), json!("call me")),
        ("url", json!({}), json!("acme.com"), json!("https://acme.com/"), json!("javascript:alert(1)")),
        ("rating", json!({}), json!(5), json!(5), json!(6)),
    ]
}

async fn every_type_validates(app: &TestApp) {
    for (ty, extra, _, _, _) in cases() {
        let mut def = json!({ "name": format!("f_{ty}"), "label": format!("F {ty}"), "type": ty });
        keel_testkit::merge(&mut def, extra);
        add_field(app, "companies", def).await;
    }
    let target = app.admin.create("contacts", json!({ "first_name": "Ref" })).await;
    add_field(
        app,
        "companies",
        json!({ "name": "f_reference", "label": "Ref", "type": "reference", "reference": "contacts" }),
    )
    .await;
    let company = app.admin.company(json!({})).await;
    let id = company["id"].as_str().expect("id");
    for (ty, _, good, stored, bad) in cases() {
        let name = format!("cf_f_{ty}");
        let res = app.admin.patch(&format!("/api/v1/companies/{id}"), json!({ name.clone(): bad })).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{ty} bad: {}", res.text);
        assert_eq!(res.error_fields(), vec![name.clone()], "{ty}: {}", res.text);
        let res = app.admin.patch(&format!("/api/v1/companies/{id}"), json!({ name.clone(): good })).await;
        assert_eq!(res.status, StatusCode::OK, "{ty} good: {}", res.text);
        assert_eq!(res.body[&name], stored, "{ty}");
    }
    // A reference must point at a live record of its target.
    let tid = target["id"].as_str().expect("id");
    let ok = app.admin.patch(&format!("/api/v1/companies/{id}"), json!({ "cf_f_reference": tid })).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    let missing = uuid::Uuid::now_v7().to_string();
    let bad = app.admin.patch(&format!("/api/v1/companies/{id}"), json!({ "cf_f_reference": missing })).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);
    assert_eq!(bad.error_fields(), vec!["cf_f_reference"]);
    // The reference shows as a related list on the target.
    let related = list(&app.admin, &format!("/api/v1/contacts/{tid}/companies")).await;
    assert_eq!(ids(&related), vec![id.to_string()]);
    assert!(shape(app.service.db(), "companies").await.index_leads.contains("cf_f_reference"));
    // Multi-select filters by "has the option".
    assert_eq!(list(&app.admin, "/api/v1/companies?cf_f_multi_select=c").await.len(), 1);
    assert_eq!(list(&app.admin, "/api/v1/companies?cf_f_multi_select=B").await.len(), 0);

    // Required, default and unique.
    add_field(
        app,
        "contacts",
        json!({ "name": "tier", "label": "Tier", "type": "select", "required": true,
        "default": "Basic", "options": [{ "value": "Basic" }, { "value": "Pro" }] }),
    )
    .await;
    add_field(app, "contacts", json!({ "name": "badge", "label": "Badge", "type": "text", "required": true })).await;
    add_field(app, "contacts", json!({ "name": "handle", "label": "Handle", "type": "text", "unique": true })).await;
    let missing = app.admin.post("/api/v1/contacts", json!({ "first_name": "A" })).await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", missing.text);
    assert_eq!(missing.error_fields(), vec!["cf_badge"]);
    let made = app.admin.create("contacts", json!({ "first_name": "A", "cf_badge": "x", "cf_handle": "Ann" })).await;
    assert_eq!(made["cf_tier"], "Basic", "the default fills in");
    let dup =
        app.admin.post("/api/v1/contacts", json!({ "first_name": "B", "cf_badge": "y", "cf_handle": "aNN" })).await;
    assert!(dup.status == StatusCode::UNPROCESSABLE_ENTITY || dup.status == StatusCode::CONFLICT, "{}", dup.text);
    assert!(dup.text.contains("cf_handle"), "{}", dup.text);
    assert!(shape(app.service.db(), "contacts").await.index_names.contains("contacts_cf_handle_unique"));

    // Bad definitions are refused, naming the key.
    for (def, key) in [
        (json!({ "name": "s", "label": "S", "type": "select" }), "options"),
        (json!({ "name": "Bad Name", "label": "B", "type": "text" }), "name"),
        (json!({ "name": "r", "label": "R", "type": "reference", "reference": "nowhere" }), "reference"),
        (json!({ "name": "n", "label": "N", "type": "number", "default": "many" }), "default"),
        (json!({ "name": "n", "label": "N", "type": "number", "min": 5, "max": 1 }), "min"),
        (json!({ "name": "b", "label": "B", "type": "boolean", "unique": true }), "unique"),
        (json!({ "name": "x", "label": "", "type": "text" }), "label"),
        (json!({ "name": "x", "label": "X", "type": "blob" }), "body"),
        (json!({ "name": "x", "label": "X", "type": "text", "read_roles": ["nobody"] }), "read_roles"),
        (json!({ "name": "tier", "label": "Again", "type": "text" }), "name"),
    ] {
        let res = app.admin.post("/api/v1/fields/contacts", def.clone()).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{def}: {}", res.text);
        assert!(res.error_fields().contains(&key.to_string()), "{def}: {}", res.text);
    }
    let unknown = app.admin.post("/api/v1/fields/users", json!({ "name": "x", "label": "X", "type": "text" })).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}
both_backends!(every_type_validates);

async fn options_are_editable(app: &TestApp) {
    let stages = json!([
        { "value": "Prospecting", "label": "Prospect", "probability": 10 },
        { "value": "Discovery", "probability": 15 },
        { "value": "Qualification", "probability": 25 },
        { "value": "Proposal", "probability": 50 },
        { "value": "Negotiation", "probability": 75 },
        { "value": "Closed Won", "probability": 100, "closed": "won" },
        { "value": "Closed Lost", "probability": 0, "closed": "lost" },
    ]);
    let company = app.admin.company(json!({})).await;
    let cid = company["id"].as_str().expect("id");
    let held = app.admin.deal(cid, json!({ "stage": "Proposal" })).await;
    let res = app
        .admin
        .send(Method::PUT, "/api/v1/fields/deals/stage/options", Some(json!({ "options": stages })), &[])
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let schema = app.admin.get("/api/v1/schema").await;
    let stage = schema.body["entities"]["deals"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .find(|f| f["name"] == "stage")
        .cloned()
        .expect("stage");
    assert_eq!(stage["options"][0]["label"], "Prospect");
    assert_eq!(stage["options"][1]["value"], "Discovery");
    let deal = app.admin.deal(cid, json!({ "stage": "Discovery" })).await;
    assert_eq!(deal["probability"], 15, "a new stage carries its probability");

    // A stage needs a probability; deals need a won and a lost stage.
    let mut no_prob = stages.clone();
    no_prob[1] = json!({ "value": "Discovery" });
    let res = app
        .admin
        .send(Method::PUT, "/api/v1/fields/deals/stage/options", Some(json!({ "options": no_prob })), &[])
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    assert_eq!(res.error_fields(), vec!["options[1]"]);

    // Removing a stage deals hold needs a replacement.
    let without: Vec<Value> =
        stages.as_array().expect("array").iter().filter(|o| o["value"] != "Proposal").cloned().collect();
    let res = app
        .admin
        .send(Method::PUT, "/api/v1/fields/deals/stage/options", Some(json!({ "options": without })), &[])
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.text);
    assert_eq!(res.body["code"], "option_in_use");
    assert_eq!(res.body["in_use"]["Proposal"], 1);
    let res = app
        .admin
        .send(
            Method::PUT,
            "/api/v1/fields/deals/stage/options",
            Some(json!({ "options": without, "replacements": { "Proposal": "Negotiation" } })),
            &[],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let moved = app.admin.get(&format!("/api/v1/deals/{}", held["id"].as_str().expect("id"))).await;
    assert_eq!(moved.body["stage"], "Negotiation");
    assert_eq!(moved.body["probability"], 75);

    // Retired options stay on records but cannot be chosen.
    let mut retired: Vec<Value> = without.clone();
    for o in retired.iter_mut().filter(|o| o["value"] == "Discovery") {
        o["retired"] = json!(true);
    }
    let res = app
        .admin
        .send(Method::PUT, "/api/v1/fields/deals/stage/options", Some(json!({ "options": retired })), &[])
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let refused =
        app.admin.post("/api/v1/deals", json!({ "title": "T", "company_id": cid, "stage": "Discovery" })).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.error_fields(), vec!["stage"]);
    let kept = app.admin.get(&format!("/api/v1/deals/{}", deal["id"].as_str().expect("id"))).await;
    assert_eq!(kept.body["stage"], "Discovery");

    // Industries: add one.
    let industries = json!([{ "value": "Technology" }, { "value": "Healthcare" }, { "value": "Finance" },
        { "value": "Retail" }, { "value": "Manufacturing" }, { "value": "Education", "color": "teal" }, { "value": "Other" }]);
    let res = app
        .admin
        .send(Method::PUT, "/api/v1/fields/companies/industry/options", Some(json!({ "options": industries })), &[])
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let edu = app.admin.company(json!({ "industry": "education" })).await;
    assert_eq!(edu["industry"], "Education");
    // Not every field has editable options.
    let res =
        app.admin.send(Method::PUT, "/api/v1/fields/companies/name/options", Some(json!({ "options": [] })), &[]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
}
both_backends!(options_are_editable);

async fn restricted_fields_are_hidden_from_other_roles(app: &TestApp) {
    add_field(
        app,
        "deals",
        json!({ "name": "margin", "label": "Margin", "type": "percent", "read_roles": ["manager"], "write_roles": ["manager"] }),
    )
    .await;
    let team = app.admin_team().await;
    let (_, rep) = app.member(Role::Rep, &team).await;
    let (_, manager) = app.member(Role::Manager, &team).await;
    let company = rep.company(json!({})).await;
    let cid = company["id"].as_str().expect("id");
    // The rep cannot write it even on their own deal…
    let res = rep.post("/api/v1/deals", json!({ "title": "Mine", "company_id": cid, "cf_margin": 30 })).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.text);
    let deal = rep.deal(cid, json!({})).await;
    let did = deal["id"].as_str().expect("id");
    // …the manager can.
    let res = manager.patch(&format!("/api/v1/deals/{did}"), json!({ "cf_margin": 30 })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["cf_margin"], 30);
    // The rep sees it nowhere: not on the record, not in lists, not by filter or sort.
    let got = rep.get(&format!("/api/v1/deals/{did}")).await;
    assert_eq!(got.body["cf_margin"], Value::Null);
    assert!(got.body["_redacted"].as_array().is_some_and(|a| a.contains(&json!("cf_margin"))), "{}", got.text);
    let rows = list(&rep, "/api/v1/deals").await;
    assert!(rows.iter().all(|r| r["cf_margin"].is_null()));
    assert_eq!(rep.get("/api/v1/deals?cf_margin=30").await.status, StatusCode::FORBIDDEN);
    assert_eq!(rep.get("/api/v1/deals?sort=cf_margin").await.status, StatusCode::FORBIDDEN);
    let res = rep.patch(&format!("/api/v1/deals/{did}"), json!({ "cf_margin": 1 })).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.text);
    // Related lists redact it too.
    let related = list(&rep, &format!("/api/v1/companies/{cid}/deals")).await;
    assert!(related.iter().all(|r| r["cf_margin"].is_null()));
    // The manager and the admin read it.
    assert_eq!(manager.get(&format!("/api/v1/deals/{did}")).await.body["cf_margin"], 30);
    assert_eq!(app.admin.get(&format!("/api/v1/deals/{did}")).await.body["cf_margin"], 30);
    assert_eq!(list(&manager, "/api/v1/deals?cf_margin=30").await.len(), 1);
    // Exports apply the same redaction (a field only admins read, exported by a manager).
    add_field(app, "deals", json!({ "name": "secret", "label": "Secret", "type": "text", "read_roles": ["admin"] }))
        .await;
    app.admin.patch(&format!("/api/v1/deals/{did}"), json!({ "cf_secret": "s3cr3t" })).await;
    let csv = manager.get("/api/v1/deals/export.csv").await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.text);
    assert!(!csv.text.contains("s3cr3t"), "{}", csv.text);
    let csv = app.admin.get("/api/v1/deals/export.csv").await;
    assert!(csv.text.contains("s3cr3t"));
    // The rep's schema leaves the field out (forms and columns skip it); the manager's has it.
    assert!(!rep.get("/api/v1/schema").await.text.contains("cf_margin"));
    assert!(manager.get("/api/v1/schema").await.text.contains("cf_margin"));
    // The change feed is for admins only.
    assert_eq!(rep.get("/api/v1/changes").await.status, StatusCode::FORBIDDEN);
}
both_backends!(restricted_fields_are_hidden_from_other_roles);

async fn only_admins_manage_fields(app: &TestApp) {
    add_field(app, "companies", json!({ "name": "tier", "label": "Tier", "type": "text" })).await;
    for role in [Role::Rep, Role::Manager] {
        let (_, client) = app.user(role).await;
        let def = json!({ "name": "x", "label": "X", "type": "text" });
        let opts = json!({ "options": [{ "value": "A" }] });
        let responses = [
            client.get("/api/v1/fields/companies").await,
            client.post("/api/v1/fields/companies", def).await,
            client.get("/api/v1/fields/companies/cf_tier").await,
            client.patch("/api/v1/fields/companies/cf_tier", json!({ "label": "Y" })).await,
            client.send(Method::POST, "/api/v1/fields/companies/cf_tier/archive", None, &[]).await,
            client.send(Method::POST, "/api/v1/fields/companies/cf_tier/unarchive", None, &[]).await,
            client
                .send(Method::PUT, "/api/v1/fields/companies/order", Some(json!({ "order": ["cf_tier"] })), &[])
                .await,
            client.send(Method::PUT, "/api/v1/fields/companies/industry/options", Some(opts), &[]).await,
        ];
        for res in responses {
            assert_eq!(res.status, StatusCode::FORBIDDEN, "{role:?}: {}", res.text);
        }
    }
    assert_eq!(app.anonymous().get("/api/v1/fields/companies").await.status, StatusCode::UNAUTHORIZED);
    // Everyone signed in still sees the field in the schema (forms, columns).
    let (_, rep) = app.user(Role::Rep).await;
    assert!(rep.get("/api/v1/schema").await.text.contains("cf_tier"));
}
both_backends!(only_admins_manage_fields);

async fn csv_import_maps_custom_columns(app: &TestApp) {
    add_field(app, "companies", json!({ "name": "employees", "label": "Employees", "type": "number" })).await;
    add_field(
        app,
        "companies",
        json!({ "name": "segments", "label": "Segments", "type": "multi_select",
        "options": [{ "value": "SMB" }, { "value": "Enterprise" }] }),
    )
    .await;
    let csv = "name,Employees,cf_segments\nImported Co,1500,SMB; Enterprise\n";
    let res = app
        .admin
        .send_raw(Method::POST, "/api/v1/imports?entity=companies&wait=true", "text/csv", csv.as_bytes().to_vec())
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    assert_eq!(res.body["status"], "completed", "{}", res.text);
    let rows = list(&app.admin, "/api/v1/companies?name=Imported%20Co").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["cf_employees"], json!(1500));
    assert_eq!(rows[0]["cf_segments"], json!(["SMB", "Enterprise"]));
}
both_backends!(csv_import_maps_custom_columns);

/// Another Keel process on the same database notices a schema change by the stored
/// version and reloads: it then reads and writes the new field too.
async fn other_processes_pick_up_schema_changes(app: &TestApp) {
    let other = keel_service::Service::new(
        app.service.db().clone(),
        keel_domain::schema::builtin_schema(),
        app.clock.clone(),
        keel_service::ServiceConfig::default(),
    );
    other.load_schema().await.expect("load");
    assert!(other.schema().entity("deals").expect("deals").field("cf_region").is_none());
    add_field(app, "deals", json!({ "name": "region", "label": "Region", "type": "text" })).await;
    let company = app.admin.company(json!({})).await;
    let deal = app.admin.deal(company["id"].as_str().expect("id"), json!({ "cf_region": "EMEA" })).await;
    other.refresh_schema().await.expect("refresh");
    assert!(other.schema().entity("deals").expect("deals").field("cf_region").is_some());
    let admin = keel_service::Ctx::system(keel_domain::policy::Actor::new(uuid::Uuid::nil(), Role::Admin, None));
    let id = uuid::Uuid::parse_str(deal["id"].as_str().expect("id")).expect("uuid");
    let seen = other.get(&admin, "deals", id).await.expect("get");
    assert_eq!(seen["cf_region"], "EMEA");
}
both_backends!(other_processes_pick_up_schema_changes);
