//! Trash, restore, purge and bulk actions, with who may do them.

use std::collections::BTreeSet;

use keel_domain::policy::Role;
use keel_testkit::{Client, TestApp, both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap_or_else(|| panic!("no id in {v}")).to_string()
}

async fn get(c: &Client, entity: &str, id: &str) -> Value {
    let res = c.get(&format!("/api/v1/{entity}/{id}")).await;
    assert_eq!(res.status, StatusCode::OK, "GET {entity}/{id}: {}", res.text);
    res.body
}

async fn status_of(c: &Client, entity: &str, id: &str) -> StatusCode {
    c.get(&format!("/api/v1/{entity}/{id}")).await.status
}

/// Ids on the (single) page of a list.
async fn list_ids(c: &Client, path: &str) -> BTreeSet<String> {
    let sep = if path.contains('?') { '&' } else { '?' };
    let res = c.get(&format!("{path}{sep}limit=200")).await;
    assert_eq!(res.status, StatusCode::OK, "GET {path}: {}", res.text);
    assert!(res.body["next_cursor"].is_null(), "GET {path}: expected one page");
    res.body["data"].as_array().map(|a| a.iter().map(id_of).collect()).unwrap_or_default()
}

async fn delete(c: &Client, path: &str) -> keel_testkit::Response {
    c.delete(path).await
}

fn is_trashed(v: &Value) -> bool {
    v["deleted_at"].is_string()
}

fn assert_problem(res: &keel_testkit::Response, status: StatusCode, code: &str) {
    assert_eq!(res.status, status, "{}", res.text);
    assert_eq!(res.body["code"], code, "{}", res.text);
    assert_eq!(res.header("content-type"), Some("application/problem+json"), "{}", res.text);
}

async fn delete_moves_a_record_to_the_trash(app: &TestApp) {
    let c = &app.admin;
    let co = c.company(json!({ "industry": "Retail" })).await;
    let id = id_of(&co);
    let other = id_of(&c.company(json!({})).await);
    assert_eq!(co["deleted_at"], Value::Null);

    let res = delete(c, &format!("/api/v1/companies/{id}")).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.text);

    // Still readable by id, marked as deleted, nothing else changed.
    let got = get(c, "companies", &id).await;
    assert!(is_trashed(&got), "deleted_at is set: {got}");
    assert_eq!(got["name"], co["name"]);
    assert_eq!(got["industry"], "Retail");
    assert_eq!(got["version"], 2);

    // Gone from the list (and its count), present in the trash.
    assert_eq!(list_ids(c, "/api/v1/companies").await, BTreeSet::from([other.clone()]));
    assert_eq!(c.get("/api/v1/companies?count=true").await.body["total"], 1);
    assert_eq!(list_ids(c, "/api/v1/companies?trashed=true").await, BTreeSet::from([id.clone()]));
    assert_eq!(c.get("/api/v1/companies?trashed=true&count=true").await.body["total"], 1);
    assert_eq!(list_ids(c, "/api/v1/companies?trashed=true&industry=retail").await, BTreeSet::from([id.clone()]));

    // Deleting again: there is no live record to delete.
    let res = delete(c, &format!("/api/v1/companies/{id}")).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND, "{}", res.text);

    // Editing a trashed record is refused until it is restored.
    let res = c.patch(&format!("/api/v1/companies/{id}"), json!({ "city": "Paris" })).await;
    assert_problem(&res, StatusCode::CONFLICT, "in_trash");
    let got = get(c, "companies", &id).await;
    assert_eq!(got["city"], Value::Null);
    assert_eq!(got["version"], 2);

    // Unknown ids.
    let missing = uuid::Uuid::now_v7();
    assert_eq!(delete(c, &format!("/api/v1/companies/{missing}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(c.post(&format!("/api/v1/companies/{missing}/restore"), json!({})).await.status, StatusCode::NOT_FOUND);
    assert_eq!(c.post(&format!("/api/v1/companies/{missing}/purge"), json!({})).await.status, StatusCode::NOT_FOUND);

    // The other entities trash the same way.
    let d = id_of(&c.deal(&other, json!({})).await);
    let ct = id_of(&c.create("contacts", json!({ "first_name": "Tess", "company_id": other })).await);
    let act = id_of(&c.create("activities", json!({ "type": "Task", "subject": "Follow up", "deal_id": d })).await);
    for (entity, rid) in [("activities", &act), ("contacts", &ct), ("deals", &d)] {
        let res = delete(c, &format!("/api/v1/{entity}/{rid}")).await;
        assert_eq!(res.status, StatusCode::NO_CONTENT, "{entity}: {}", res.text);
        assert!(is_trashed(&get(c, entity, rid).await));
        assert!(list_ids(c, &format!("/api/v1/{entity}")).await.is_empty(), "{entity}");
        assert_eq!(
            list_ids(c, &format!("/api/v1/{entity}?trashed=true")).await,
            BTreeSet::from([rid.clone()]),
            "{entity}"
        );
    }
}
both_backends!(delete_moves_a_record_to_the_trash);

async fn restore_brings_a_record_back(app: &TestApp) {
    let c = &app.admin;
    let co = c.company(json!({ "city": "Lima" })).await;
    let id = id_of(&co);
    assert_eq!(delete(c, &format!("/api/v1/companies/{id}")).await.status, StatusCode::NO_CONTENT);
    let trashed = get(c, "companies", &id).await;

    let res = c.post(&format!("/api/v1/companies/{id}/restore"), json!({})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["deleted_at"], Value::Null);
    assert_eq!(res.body["version"], trashed["version"].as_i64().expect("version") + 1, "restore bumps the version");
    assert_eq!(res.body["city"], "Lima");
    assert_eq!(res.header("etag").map(str::to_string), Some(format!("\"{}\"", res.body["version"])));

    let got = get(c, "companies", &id).await;
    assert_eq!(got["deleted_at"], Value::Null);
    assert_eq!(got["version"], res.body["version"]);
    assert_eq!(list_ids(c, "/api/v1/companies").await, BTreeSet::from([id.clone()]));
    assert!(list_ids(c, "/api/v1/companies?trashed=true").await.is_empty());

    // Editable again.
    let res = c.patch(&format!("/api/v1/companies/{id}"), json!({ "city": "Quito" })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);

    // Restoring a live record is a conflict, and changes nothing.
    let before = get(c, "companies", &id).await;
    let res = c.post(&format!("/api/v1/companies/{id}/restore"), json!({})).await;
    assert_problem(&res, StatusCode::CONFLICT, "not_in_trash");
    let never = id_of(&c.company(json!({})).await);
    let res = c.post(&format!("/api/v1/companies/{never}/restore"), json!({})).await;
    assert_problem(&res, StatusCode::CONFLICT, "not_in_trash");
    assert_eq!(get(c, "companies", &id).await, before);
}
both_backends!(restore_brings_a_record_back);

async fn deleting_a_company_with_deals_needs_cascade(app: &TestApp) {
    let c = &app.admin;
    let co = c.company(json!({})).await;
    let id = id_of(&co);
    let d1 = id_of(&c.deal(&id, json!({ "title": "first" })).await);
    let d2 = id_of(&c.deal(&id, json!({ "title": "second" })).await);
    let d3 = id_of(&c.deal(&id, json!({ "title": "third" })).await);
    let earlier = id_of(&c.deal(&id, json!({ "title": "trashed earlier" })).await);
    let contact = id_of(&c.create("contacts", json!({ "first_name": "Kai", "company_id": id })).await);
    let other_co = id_of(&c.company(json!({})).await);
    let other_deal = id_of(&c.deal(&other_co, json!({})).await);

    assert_eq!(delete(c, &format!("/api/v1/deals/{earlier}")).await.status, StatusCode::NO_CONTENT);
    let earlier_trashed = get(c, "deals", &earlier).await;

    let before: Vec<Value> = {
        let mut v = vec![get(c, "companies", &id).await];
        for d in [&d1, &d2, &d3] {
            v.push(get(c, "deals", d).await);
        }
        v
    };

    // Without cascade: refused with the number of live deals; nothing changes.
    for path in [format!("/api/v1/companies/{id}"), format!("/api/v1/companies/{id}?cascade=false")] {
        let res = delete(c, &path).await;
        assert_problem(&res, StatusCode::CONFLICT, "has_deals");
        assert_eq!(res.body["deal_count"], 3, "{}", res.text);
    }
    let after: Vec<Value> = {
        let mut v = vec![get(c, "companies", &id).await];
        for d in [&d1, &d2, &d3] {
            v.push(get(c, "deals", d).await);
        }
        v
    };
    assert_eq!(after, before, "a refused delete changes nothing");
    assert_eq!(
        list_ids(c, "/api/v1/deals").await,
        BTreeSet::from([d1.clone(), d2.clone(), d3.clone(), other_deal.clone()])
    );

    // With cascade: the company and its live deals go to the trash together.
    let res = delete(c, &format!("/api/v1/companies/{id}?cascade=true")).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.text);
    let company = get(c, "companies", &id).await;
    assert!(is_trashed(&company));
    for d in [&d1, &d2, &d3] {
        let deal = get(c, "deals", d).await;
        assert!(is_trashed(&deal), "deal {d} trashed with its company");
        assert_eq!(deal["deleted_at"], company["deleted_at"], "trashed at the same moment");
    }
    assert_eq!(get(c, "deals", &earlier).await, earlier_trashed, "the deal trashed earlier is untouched");
    assert_eq!(list_ids(c, "/api/v1/deals").await, BTreeSet::from([other_deal.clone()]));
    assert_eq!(
        list_ids(c, "/api/v1/deals?trashed=true").await,
        BTreeSet::from([d1.clone(), d2.clone(), d3.clone(), earlier.clone()])
    );
    // Contacts stay where they are.
    let ct = get(c, "contacts", &contact).await;
    assert!(!is_trashed(&ct));
    assert_eq!(ct["company_id"], json!(id));

    // Restoring the company brings back the deals trashed with it, not the earlier one.
    let res = c.post(&format!("/api/v1/companies/{id}/restore"), json!({})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    for d in [&d1, &d2, &d3] {
        let deal = get(c, "deals", d).await;
        assert_eq!(deal["deleted_at"], Value::Null, "deal {d} restored with its company");
    }
    assert_eq!(get(c, "deals", &earlier).await, earlier_trashed, "a deal trashed separately stays in the trash");
    assert_eq!(list_ids(c, "/api/v1/deals").await, BTreeSet::from([d1, d2, d3, other_deal]));
    assert_eq!(list_ids(c, "/api/v1/deals?trashed=true").await, BTreeSet::from([earlier.clone()]));

    // A company whose deals are all in the trash deletes without cascade.
    let lonely = id_of(&c.company(json!({})).await);
    let gone = id_of(&c.deal(&lonely, json!({})).await);
    assert_eq!(delete(c, &format!("/api/v1/deals/{gone}")).await.status, StatusCode::NO_CONTENT);
    let res = delete(c, &format!("/api/v1/companies/{lonely}")).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.text);

    // A restored deal whose company is in the trash cannot come back.
    let res = c.post(&format!("/api/v1/deals/{gone}/restore"), json!({})).await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.text);
    assert!(is_trashed(&get(c, "deals", &gone).await));

    // cascade must be a boolean, and nothing else is accepted.
    assert_eq!(delete(c, &format!("/api/v1/companies/{id}?cascade=maybe")).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(delete(c, &format!("/api/v1/companies/{id}?force=true")).await.status, StatusCode::BAD_REQUEST);
    assert!(!is_trashed(&get(c, "companies", &id).await));
}
both_backends!(deleting_a_company_with_deals_needs_cascade);

async fn restore_is_refused_when_a_unique_value_is_taken(app: &TestApp) {
    let c = &app.admin;
    let first = id_of(&c.create("companies", json!({ "name": "Unique Co", "domain": "unique.example" })).await);
    assert_eq!(delete(c, &format!("/api/v1/companies/{first}")).await.status, StatusCode::NO_CONTENT);
    let trashed = get(c, "companies", &first).await;

    // The name (any case) is free again while the first one is in the trash.
    let second = id_of(&c.create("companies", json!({ "name": "unique co" })).await);
    let res = c.post(&format!("/api/v1/companies/{first}/restore"), json!({})).await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.text);
    assert_eq!(get(c, "companies", &first).await, trashed, "still in the trash, unchanged");
    assert_eq!(list_ids(c, "/api/v1/companies").await, BTreeSet::from([second.clone()]));

    // Free the name again: the restore now works.
    let res = c.patch(&format!("/api/v1/companies/{second}"), json!({ "name": "Another Co" })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let res = c.post(&format!("/api/v1/companies/{first}/restore"), json!({})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);

    // Same for a unique domain, and for a contact's email.
    assert_eq!(delete(c, &format!("/api/v1/companies/{first}")).await.status, StatusCode::NO_CONTENT);
    c.create("companies", json!({ "name": "Different Name", "domain": "unique.example" })).await;
    let res = c.post(&format!("/api/v1/companies/{first}/restore"), json!({})).await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.text);
    assert!(is_trashed(&get(c, "companies", &first).await));

    let ct = id_of(&c.create("contacts", json!({ "first_name": "Mo", "email": "mo@example.com" })).await);
    assert_eq!(delete(c, &format!("/api/v1/contacts/{ct}")).await.status, StatusCode::NO_CONTENT);
    c.create("contacts", json!({ "first_name": "Other Mo", "email": "MO@example.com" })).await;
    let res = c.post(&format!("/api/v1/contacts/{ct}/restore"), json!({})).await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.text);
    assert!(is_trashed(&get(c, "contacts", &ct).await));
}
both_backends!(restore_is_refused_when_a_unique_value_is_taken);

async fn purge_is_for_admins_and_final(app: &TestApp) {
    let c = &app.admin;
    let team = app.admin_team().await;
    let (_, manager) = app.member(Role::Manager, &team).await;
    let (_, rep) = app.member(Role::Rep, &team).await;
    let co = id_of(&c.company(json!({})).await);
    let keep = id_of(&c.company(json!({})).await);
    assert_eq!(delete(c, &format!("/api/v1/companies/{co}")).await.status, StatusCode::NO_CONTENT);

    for (who, client) in [("manager", &manager), ("rep", &rep)] {
        let res = client.post(&format!("/api/v1/companies/{co}/purge"), json!({})).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{who}: {}", res.text);
        assert!(is_trashed(&get(c, "companies", &co).await), "{who}: still there");
    }

    let res = c.post(&format!("/api/v1/companies/{co}/purge"), json!({})).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.text);
    assert_eq!(status_of(c, "companies", &co).await, StatusCode::NOT_FOUND);
    assert!(list_ids(c, "/api/v1/companies?trashed=true").await.is_empty());
    assert_eq!(list_ids(c, "/api/v1/companies").await, BTreeSet::from([keep]));
    assert_eq!(c.post(&format!("/api/v1/companies/{co}/purge"), json!({})).await.status, StatusCode::NOT_FOUND);
    assert_eq!(c.post(&format!("/api/v1/companies/{co}/restore"), json!({})).await.status, StatusCode::NOT_FOUND);
    assert_eq!(delete(c, &format!("/api/v1/companies/{co}")).await.status, StatusCode::NOT_FOUND);

    // The name is free for good.
    let again = c.create("companies", json!({ "name": "Purged Name Co" })).await;
    let again_id = id_of(&again);
    assert_eq!(delete(c, &format!("/api/v1/companies/{again_id}")).await.status, StatusCode::NO_CONTENT);
    assert_eq!(c.post(&format!("/api/v1/companies/{again_id}/purge"), json!({})).await.status, StatusCode::NO_CONTENT);
    c.create("companies", json!({ "name": "Purged Name Co" })).await;
}
both_backends!(purge_is_for_admins_and_final);

async fn purging_a_company_purges_deals_and_unlinks_the_rest(app: &TestApp) {
    let c = &app.admin;
    let co = id_of(&c.company(json!({})).await);
    let other = id_of(&c.company(json!({})).await);
    let d1 = id_of(&c.deal(&co, json!({})).await);
    let d2 = id_of(&c.deal(&co, json!({})).await);
    let d_trashed = id_of(&c.deal(&co, json!({})).await);
    let other_deal = id_of(&c.deal(&other, json!({})).await);
    let ct1 = id_of(&c.create("contacts", json!({ "first_name": "Ana", "company_id": co })).await);
    let ct2 = id_of(&c.create("contacts", json!({ "first_name": "Ben", "company_id": co })).await);
    let other_ct = id_of(&c.create("contacts", json!({ "first_name": "Cy", "company_id": other })).await);
    let act_co = id_of(
        &c.create("activities", json!({ "type": "Call", "subject": "about the company", "company_id": co })).await,
    );
    let act_deal = id_of(
        &c.create(
            "activities",
            json!({ "type": "Email", "subject": "about a deal", "deal_id": d1, "contact_id": ct1 }),
        )
        .await,
    );
    let act_both = id_of(
        &c.create("activities", json!({ "type": "Meeting", "subject": "both", "company_id": co, "deal_id": d2 })).await,
    );
    let act_other = id_of(
        &c.create(
            "activities",
            json!({ "type": "Note", "subject": "other", "company_id": other, "deal_id": other_deal }),
        )
        .await,
    );

    assert_eq!(delete(c, &format!("/api/v1/deals/{d_trashed}")).await.status, StatusCode::NO_CONTENT);
    assert_eq!(delete(c, &format!("/api/v1/companies/{co}?cascade=true")).await.status, StatusCode::NO_CONTENT);
    let res = c.post(&format!("/api/v1/companies/{co}/purge"), json!({})).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.text);

    assert_eq!(status_of(c, "companies", &co).await, StatusCode::NOT_FOUND);
    for d in [&d1, &d2, &d_trashed] {
        assert_eq!(status_of(c, "deals", d).await, StatusCode::NOT_FOUND, "deal {d} purged with its company");
    }
    assert!(list_ids(c, "/api/v1/deals?trashed=true").await.is_empty());
    assert_eq!(list_ids(c, "/api/v1/deals").await, BTreeSet::from([other_deal.clone()]));

    for ct in [&ct1, &ct2] {
        let got = get(c, "contacts", ct).await;
        assert_eq!(got["company_id"], Value::Null, "contact {ct} unlinked");
        assert!(!is_trashed(&got), "contact {ct} stays live");
        assert_eq!(got["version"], 2, "the unlink is a recorded change");
    }
    let got = get(c, "contacts", &other_ct).await;
    assert_eq!(got["company_id"], json!(other));
    assert_eq!(got["version"], 1);

    let a = get(c, "activities", &act_co).await;
    assert_eq!(a["company_id"], Value::Null);
    let a = get(c, "activities", &act_deal).await;
    assert_eq!(a["deal_id"], Value::Null, "its deal was purged");
    assert_eq!(a["contact_id"], json!(ct1), "other links stay");
    let a = get(c, "activities", &act_both).await;
    assert_eq!(a["company_id"], Value::Null);
    assert_eq!(a["deal_id"], Value::Null);
    assert!(!is_trashed(&a));
    let a = get(c, "activities", &act_other).await;
    assert_eq!(a["company_id"], json!(other));
    assert_eq!(a["deal_id"], json!(other_deal));
    assert_eq!(list_ids(c, "/api/v1/activities").await.len(), 4, "no activity was removed");

    // Admins can also purge a live record straight away.
    let res = c.post(&format!("/api/v1/deals/{other_deal}/purge"), json!({})).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.text);
    assert_eq!(status_of(c, "deals", &other_deal).await, StatusCode::NOT_FOUND);
    assert_eq!(get(c, "activities", &act_other).await["deal_id"], Value::Null);
}
both_backends!(purging_a_company_purges_deals_and_unlinks_the_rest);

async fn bulk_delete_is_all_or_nothing(app: &TestApp) {
    let c = &app.admin;
    let mut ids = Vec::new();
    for _ in 0..4 {
        ids.push(id_of(&c.company(json!({})).await));
    }
    let all: BTreeSet<String> = ids.iter().cloned().collect();

    // One unknown id: nothing is deleted.
    let missing = uuid::Uuid::now_v7().to_string();
    let res = c.post("/api/v1/companies/bulk/delete", json!({ "ids": [ids[0], ids[1], missing, ids[2]] })).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    assert!(res.error_fields().contains(&"ids".to_string()), "{}", res.text);
    assert!(res.text.contains(&missing), "the error names the unknown id: {}", res.text);
    assert_eq!(list_ids(c, "/api/v1/companies").await, all);
    assert!(list_ids(c, "/api/v1/companies?trashed=true").await.is_empty());

    // One company with deals (no cascade): nothing is deleted either.
    let with_deal = id_of(&c.company(json!({})).await);
    let deal = id_of(&c.deal(&with_deal, json!({})).await);
    let res = c.post("/api/v1/companies/bulk/delete", json!({ "ids": [ids[0], with_deal] })).await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.text);
    assert_eq!(res.body["code"], "has_deals");
    assert!(list_ids(c, "/api/v1/companies?trashed=true").await.is_empty());

    // Empty, too many, and malformed requests.
    let res = c.post("/api/v1/companies/bulk/delete", json!({ "ids": [] })).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    let many: Vec<String> = (0..1001).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    let res = c.post("/api/v1/companies/bulk/delete", json!({ "ids": many })).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    let res = c.post("/api/v1/companies/bulk/delete", json!({ "ids": ["not-a-uuid"] })).await;
    assert!(res.status.is_client_error(), "{}", res.text);
    let res = c.post("/api/v1/companies/bulk/delete", json!({})).await;
    assert!(res.status.is_client_error(), "{}", res.text);
    assert_eq!(list_ids(c, "/api/v1/companies").await.len(), 5);

    // All valid (a duplicate id counts once): all trashed in one go.
    let res = c.post("/api/v1/companies/bulk/delete", json!({ "ids": [ids[0], ids[1], ids[2], ids[0]] })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["deleted"], 3);
    assert_eq!(list_ids(c, "/api/v1/companies").await, BTreeSet::from([ids[3].clone(), with_deal.clone()]));
    assert_eq!(
        list_ids(c, "/api/v1/companies?trashed=true").await,
        BTreeSet::from([ids[0].clone(), ids[1].clone(), ids[2].clone()])
    );

    // An id already in the trash makes the whole request fail.
    let res = c.post("/api/v1/companies/bulk/delete", json!({ "ids": [ids[3], ids[0]] })).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    assert!(!is_trashed(&get(c, "companies", &ids[3]).await));

    // With cascade the deals go too.
    let res = c.post("/api/v1/companies/bulk/delete", json!({ "ids": [with_deal], "cascade": true })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert!(is_trashed(&get(c, "deals", &deal).await));

    // Unknown entities.
    let res = c.post("/api/v1/widgets/bulk/delete", json!({ "ids": [ids[3]] })).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND, "{}", res.text);
}
both_backends!(bulk_delete_is_all_or_nothing);

async fn bulk_change_owner_is_for_managers(app: &TestApp) {
    let c = &app.admin;
    let team = app.admin_team().await;
    let (manager_user, manager) = app.member(Role::Manager, &team).await;
    let (rep_user, rep) = app.member(Role::Rep, &team).await;
    let rep_id = id_of(&rep_user);
    let manager_id = id_of(&manager_user);
    let admin_id = c.get("/api/v1/auth/me").await.body["id"].as_str().expect("me").to_string();

    let co = id_of(&c.company(json!({})).await);
    let mut deals = Vec::new();
    for _ in 0..3 {
        deals.push(id_of(&c.deal(&co, json!({})).await));
    }
    for d in &deals {
        assert_eq!(get(c, "deals", d).await["owner_id"], json!(admin_id));
    }

    // A manager reassigns all of them.
    let res = manager.post("/api/v1/deals/bulk/owner", json!({ "ids": deals, "owner_id": rep_id })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["updated"], 3);
    for d in &deals {
        let got = get(c, "deals", d).await;
        assert_eq!(got["owner_id"], json!(rep_id));
        assert_eq!(got["version"], 2);
    }
    assert_eq!(list_ids(c, &format!("/api/v1/deals?owner_id={rep_id}")).await.len(), 3);

    // A rep may not, neither to someone else nor to themselves.
    for owner in [&manager_id, &rep_id, &admin_id] {
        let res = rep.post("/api/v1/deals/bulk/owner", json!({ "ids": deals, "owner_id": owner })).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "owner {owner}: {}", res.text);
    }
    let res = rep.post("/api/v1/companies/bulk/owner", json!({ "ids": [co], "owner_id": rep_id })).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.text);
    for d in &deals {
        assert_eq!(get(c, "deals", d).await["owner_id"], json!(rep_id), "unchanged");
    }

    // Unknown owner: 422, nothing changed.
    let nobody = uuid::Uuid::now_v7().to_string();
    let res = manager.post("/api/v1/deals/bulk/owner", json!({ "ids": deals, "owner_id": nobody })).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    assert!(res.error_fields().contains(&"owner_id".to_string()), "{}", res.text);

    // One unknown record: 422, nothing changed.
    let res = manager
        .post("/api/v1/deals/bulk/owner", json!({ "ids": [deals[0], deals[1], nobody], "owner_id": manager_id }))
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    for d in &deals {
        assert_eq!(get(c, "deals", d).await["owner_id"], json!(rep_id), "all or nothing");
    }

    // Empty and oversized lists.
    let res = manager.post("/api/v1/deals/bulk/owner", json!({ "ids": [], "owner_id": manager_id })).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    let many: Vec<String> = (0..1001).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    let res = manager.post("/api/v1/deals/bulk/owner", json!({ "ids": many, "owner_id": manager_id })).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);

    // Records already owned by the new owner are not counted as updated.
    let res = manager.post("/api/v1/deals/bulk/owner", json!({ "ids": [deals[0]], "owner_id": rep_id })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["updated"], 0);
    assert_eq!(get(c, "deals", &deals[0]).await["version"], 2);

    // Back to the manager, across entities.
    let res = manager.post("/api/v1/companies/bulk/owner", json!({ "ids": [co], "owner_id": manager_id })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(get(c, "companies", &co).await["owner_id"], json!(manager_id));
}
both_backends!(bulk_change_owner_is_for_managers);

async fn reps_cannot_delete_but_managers_can(app: &TestApp) {
    let c = &app.admin;
    let team = app.admin_team().await;
    let (_, manager) = app.member(Role::Manager, &team).await;
    let (_, rep) = app.member(Role::Rep, &team).await;

    // A rep cannot trash even a record they own.
    let own = rep.company(json!({})).await;
    let own_id = id_of(&own);
    let theirs = id_of(&c.company(json!({})).await);
    for id in [&own_id, &theirs] {
        let res = rep.delete(&format!("/api/v1/companies/{id}")).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.text);
        assert!(!is_trashed(&get(c, "companies", id).await));
    }
    let res = rep.post("/api/v1/companies/bulk/delete", json!({ "ids": [own_id] })).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.text);
    assert!(!is_trashed(&get(c, "companies", &own_id).await));

    // A manager can, on anyone's records, and can restore.
    let res = manager.delete(&format!("/api/v1/companies/{own_id}")).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.text);
    assert!(is_trashed(&get(c, "companies", &own_id).await));
    // ... which a rep cannot undo.
    let res = rep.post(&format!("/api/v1/companies/{own_id}/restore"), json!({})).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.text);
    assert!(is_trashed(&get(c, "companies", &own_id).await));
    let res = manager.post(&format!("/api/v1/companies/{own_id}/restore"), json!({})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);

    let res = manager.post("/api/v1/companies/bulk/delete", json!({ "ids": [own_id, theirs] })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["deleted"], 2);
    assert!(list_ids(&rep, "/api/v1/companies").await.is_empty());
    assert_eq!(list_ids(&rep, "/api/v1/companies?trashed=true").await.len(), 2);
}
both_backends!(reps_cannot_delete_but_managers_can);
