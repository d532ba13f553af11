//! Roles as data: an admin defines a custom role; users holding it get exactly its
//! grants and field rules through every surface.

use keel_domain::policy::Role;
use keel_testkit::{TestApp, both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn viewer_role() -> Value {
    json!({
        "name": "auditor",
        "label": "Read-only auditor",
        "description": "Sees every deal and company, changes nothing, never sees amounts",
        "permissions": {
            "deals": { "read": "all" },
            "companies": { "read": "all" }
        },
        "field_rules": [ { "entity": "deals", "field": "amount", "read": "none", "write": "none" } ]
    })
}

async fn custom_roles_grant_exactly_what_they_say(app: &TestApp) {
    let created = app.admin.post("/api/v1/roles", viewer_role()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.body["permissions"]["deals"]["read"], "all");
    assert_eq!(created.body["permissions"]["deals"]["update"], "none", "missing grants mean no");

    let (user, auditor) = app.user(Role::Rep).await;
    let uid = user["id"].as_str().expect("id");
    let res = app.admin.patch(&format!("/api/v1/users/{uid}"), json!({ "role": "auditor" })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);

    let company = app.admin.company(json!({})).await;
    let cid = company["id"].as_str().expect("id");
    let deal = app.admin.deal(cid, json!({ "amount": 77_700 })).await;
    let did = deal["id"].as_str().expect("id");

    let seen = auditor.get(&format!("/api/v1/deals/{did}")).await;
    assert_eq!(seen.status, StatusCode::OK, "{}", seen.text);
    assert_eq!(seen.body["amount"], Value::Null);
    assert_eq!(seen.body["_redacted"], json!(["amount"]));
    assert_eq!(
        auditor.patch(&format!("/api/v1/deals/{did}"), json!({ "title": "x" })).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        auditor.post("/api/v1/deals", json!({ "title": "x", "company_id": cid })).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        auditor.get("/api/v1/contacts?count=true").await.body["total"],
        0,
        "no grant on contacts: nothing visible"
    );
    let sums = auditor.get("/api/v1/deals/aggregate").await;
    assert_eq!(sums.body["total"]["sum"]["amount"], 0, "hidden amounts stay out of sums");
    assert_eq!(auditor.get("/api/v1/deals?sort=-amount").await.status, StatusCode::FORBIDDEN);

    // Changing the role changes what its holders may do, on their next request.
    let res = app
        .admin
        .patch("/api/v1/roles/auditor", json!({ "permissions": { "deals": { "read": "all", "update": "all" } } }))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(
        auditor.patch(&format!("/api/v1/deals/{did}"), json!({ "title": "edited" })).await.status,
        StatusCode::OK
    );

    // A role in use cannot be deleted; a free one can.
    let busy = app.admin.delete("/api/v1/roles/auditor").await;
    assert_eq!(busy.status, StatusCode::CONFLICT);
    assert_eq!(busy.body["code"], "role_in_use");
    app.admin.patch(&format!("/api/v1/users/{uid}"), json!({ "role": "rep" })).await;
    assert_eq!(app.admin.delete("/api/v1/roles/auditor").await.status, StatusCode::NO_CONTENT);
}
both_backends!(custom_roles_grant_exactly_what_they_say);

async fn only_admins_define_roles_and_definitions_are_checked(app: &TestApp) {
    let (_, manager) = app.user(Role::Manager).await;
    assert_eq!(manager.post("/api/v1/roles", viewer_role()).await.status, StatusCode::FORBIDDEN);
    let listed = manager.get("/api/v1/roles").await;
    assert_eq!(listed.status, StatusCode::OK);
    let names: Vec<&str> = listed.body["data"]
        .as_array()
        .map(|a| a.iter().filter_map(|r| r["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(names, vec!["admin", "manager", "rep"]);
    assert_eq!(listed.body["data"][2]["permissions"]["deals"]["update"], "own");

    for (body, field) in [
        (json!({ "name": "rep", "label": "Rep" }), "name"),
        (json!({ "name": "Bad Name", "label": "x" }), "name"),
        (json!({ "name": "ok", "label": "" }), "label"),
        (json!({ "name": "ok", "label": "x", "permissions": { "users": { "read": "all" } } }), "permissions.users"),
        (
            json!({ "name": "ok", "label": "x", "field_rules": [{ "entity": "deals", "field": "nope", "read": "own", "write": "own" }] }),
            "field_rules[0]",
        ),
        (json!({ "name": "ok", "label": "x", "permissions": { "deals": { "read": "everything" } } }), "body"),
    ] {
        let res = app.admin.post("/api/v1/roles", body.clone()).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", res.text);
        assert!(res.error_fields().contains(&field.to_string()), "{body}: {:?}", res.error_fields());
    }
    let res = app.admin.patch("/api/v1/roles/rep", json!({ "label": "Changed" })).await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    let (user, _) = app.user(Role::Rep).await;
    let res = app
        .admin
        .patch(&format!("/api/v1/users/{}", user["id"].as_str().unwrap_or_default()), json!({ "role": "ghost" }))
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.error_fields(), vec!["role"]);

    app.admin.post("/api/v1/roles", viewer_role()).await;
    let audit = app.admin.get("/api/v1/audit?action=permission.changed").await;
    assert!(audit.text.contains("\"role\":\"auditor\""), "role changes are audited: {}", audit.text);
}
both_backends!(only_admins_define_roles_and_definitions_are_checked);
