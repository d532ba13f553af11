//! Duplicates and merges (issue 7): suggestions with scores, merging with everything
//! related re-pointed in one transaction, undo within 30 days, who may do it, bad input.

use std::collections::BTreeSet;

use keel_domain::policy::Role;
use keel_testkit::{Client, Response, TestApp, both_backends};
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

async fn contact(c: &Client, first: &str, last: &str, extra: Value) -> Value {
    let mut body = json!({ "first_name": first, "last_name": last });
    keel_testkit::merge(&mut body, extra);
    c.create("contacts", body).await
}

async fn activity(c: &Client, extra: Value) -> Value {
    let mut body = json!({ "type": "Call", "subject": "Check in" });
    keel_testkit::merge(&mut body, extra);
    c.create("activities", body).await
}

fn assert_problem(res: &Response, status: StatusCode, code: &str) {
    assert_eq!(res.status, status, "{}", res.text);
    assert_eq!(res.body["code"], code, "{}", res.text);
    assert_eq!(res.header("content-type"), Some("application/problem+json"), "{}", res.text);
}

fn assert_field_error(res: &Response, field: &str, code: &str) {
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    let errors = res.body["errors"].as_array().cloned().unwrap_or_default();
    assert!(
        errors.iter().any(|e| e["field"] == field && e["code"] == code),
        "expected {field}: {code} in {}",
        res.text
    );
}

/// Every suggested pair, following the cursor, as sets of the two ids with score and rules.
async fn all_pairs(c: &Client, entity: &str, limit: u32) -> Vec<(BTreeSet<String>, u64, Vec<String>)> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..100 {
        let path = match &cursor {
            Some(cur) => format!("/api/v1/{entity}/duplicates?limit={limit}&cursor={cur}"),
            None => format!("/api/v1/{entity}/duplicates?limit={limit}"),
        };
        let res = c.get(&path).await;
        assert_eq!(res.status, StatusCode::OK, "{path}: {}", res.text);
        for p in res.body["data"].as_array().cloned().unwrap_or_default() {
            let ids: BTreeSet<String> = p["records"].as_array().expect("records").iter().map(id_of).collect();
            let rules = p["reasons"]
                .as_array()
                .expect("reasons")
                .iter()
                .map(|r| r["rule"].as_str().unwrap_or("").to_string())
                .collect();
            out.push((ids, p["score"].as_u64().expect("score"), rules));
        }
        match res.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return out,
        }
    }
    panic!("the duplicates cursor never ended");
}

fn pair(a: &str, b: &str) -> BTreeSet<String> {
    BTreeSet::from([a.to_string(), b.to_string()])
}

async fn suggestions_score_near_duplicates_and_leave_different_records_alone(app: &TestApp) {
    let c = &app.admin;
    let acme = id_of(&c.create("companies", json!({ "name": "Acme, Inc.", "domain": "acme.test" })).await);
    let acme2 = id_of(&c.create("companies", json!({ "name": "ACME LLC" })).await);
    let globex = id_of(&c.create("companies", json!({ "name": "Globex Corporation" })).await);
    let globex2 = id_of(&c.create("companies", json!({ "name": "Globex Corp." })).await);
    let umbrella = id_of(&c.create("companies", json!({ "name": "Umbrella Group", "domain": "umbrella.test" })).await);
    let umbrella2 =
        id_of(&c.create("companies", json!({ "name": "Raccoon Holdings", "domain": "www.umbrella.test" })).await);
    let initech = id_of(&c.create("companies", json!({ "name": "Initech" })).await);
    let _hooli = id_of(&c.create("companies", json!({ "name": "Hooli GmbH", "domain": "hooli.test" })).await);

    let pairs = all_pairs(c, "companies", 25).await;
    let find = |p: &BTreeSet<String>| pairs.iter().find(|(ids, _, _)| ids == p).cloned();
    let (_, score, rules) = find(&pair(&acme, &acme2)).expect("Acme, Inc. ~ ACME LLC");
    assert_eq!(score, 95);
    assert_eq!(rules, vec!["same_normalized_name"]);
    let (_, score, _) = find(&pair(&globex, &globex2)).expect("Globex Corporation ~ Globex Corp.");
    assert_eq!(score, 95);
    let (_, score, rules) = find(&pair(&umbrella, &umbrella2)).expect("umbrella.test ~ www.umbrella.test");
    assert_eq!(score, 90);
    assert_eq!(rules, vec!["same_domain"]);
    assert_eq!(pairs.len(), 3, "no other pair: {pairs:?}");
    assert!(pairs.iter().all(|(ids, _, _)| !ids.contains(&initech)));

    // Small pages walk the same pairs.
    let paged = all_pairs(c, "companies", 1).await;
    let a: BTreeSet<_> = pairs.iter().map(|p| p.0.clone()).collect();
    let b: BTreeSet<_> = paged.iter().map(|p| p.0.clone()).collect();
    assert_eq!(a, b);

    // Contacts: a near name at the same company; a shared phone; not a namesake elsewhere.
    let john = id_of(&contact(c, "John", "Smith", json!({ "company_id": acme, "phone": "+14155550100" })).await);
    let jon = id_of(&contact(c, "Jon", "Smith", json!({ "company_id": acme })).await);
    let jane = id_of(&contact(c, "Jane", "Smith", json!({ "company_id": acme })).await);
    let elsewhere = id_of(&contact(c, "John", "Smith", json!({ "company_id": initech })).await);
    let maria = id_of(&contact(c, "Maria", "Lopez", json!({ "company_id": globex, "mobile": "+14155550199" })).await);
    let mlopez = id_of(&contact(c, "M.", "Lopez", json!({ "phone": "+14155550199" })).await);
    let _carl = id_of(&contact(c, "Carl", "Berg", json!({ "company_id": acme, "phone": "+14155550123" })).await);

    let pairs = all_pairs(c, "contacts", 25).await;
    let ids: BTreeSet<_> = pairs.iter().map(|p| p.0.clone()).collect();
    assert_eq!(ids, BTreeSet::from([pair(&john, &jon), pair(&maria, &mlopez)]), "{pairs:?}");
    let jj = pairs.iter().find(|p| p.0 == pair(&john, &jon)).expect("john ~ jon");
    assert!(jj.1 >= 85 && jj.1 <= 95, "{jj:?}");
    assert_eq!(jj.2, vec!["similar_name_same_company"]);
    let ml = pairs.iter().find(|p| p.0 == pair(&maria, &mlopez)).expect("same phone");
    assert_eq!(ml.1, 70);
    assert_eq!(ml.2, vec!["same_phone"]);
    assert!(!ids.iter().any(|p| p.contains(&jane) || p.contains(&elsewhere)));

    // One record's duplicates.
    let res = c.get(&format!("/api/v1/contacts/{john}/duplicates")).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let data = res.body["data"].as_array().cloned().unwrap_or_default();
    assert_eq!(data.len(), 1, "{}", res.text);
    assert_eq!(data[0]["record"]["id"], jon.as_str());
    assert!(data[0]["reasons"][0]["similarity"].as_f64().is_some_and(|s| s > 0.9));

    // Other entities have no duplicate detection; bad paging is a 400 naming the parameter.
    assert_eq!(c.get("/api/v1/deals/duplicates").await.status, StatusCode::NOT_FOUND);
    let res = c.get("/api/v1/contacts/duplicates?limit=0").await;
    assert_problem(&res, StatusCode::BAD_REQUEST, "invalid_query");
    assert_eq!(res.error_fields(), vec!["limit"]);
    let res = c.get("/api/v1/contacts/duplicates?cursor=nope").await;
    assert_eq!(res.error_fields(), vec!["cursor"]);
}
both_backends!(suggestions_score_near_duplicates_and_leave_different_records_alone);

async fn live_count(c: &Client, entity: &str) -> i64 {
    let res = c.get(&format!("/api/v1/{entity}?count=true&limit=1")).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    res.body["total"].as_i64().expect("total")
}

async fn last_seq(c: &Client) -> i64 {
    let mut after = 0;
    loop {
        let res = c.get(&format!("/api/v1/changes?after={after}&limit=1000")).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        let data = res.body["data"].as_array().cloned().unwrap_or_default();
        match data.last() {
            Some(last) => after = last["seq"].as_i64().expect("seq"),
            None => return after,
        }
    }
}

async fn changes_after(c: &Client, after: i64) -> Vec<Value> {
    let res = c.get(&format!("/api/v1/changes?after={after}&limit=1000")).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    res.body["data"].as_array().cloned().unwrap_or_default()
}

async fn merging_companies_repoints_everything_and_undo_puts_it_back(app: &TestApp) {
    let c = &app.admin;
    let a = id_of(&c.create("companies", json!({ "name": "Acme, Inc.", "city": "Paris" })).await);
    let b = id_of(&c.create("companies", json!({ "name": "ACME LLC", "city": "Berlin", "domain": "acme.test" })).await);
    let other = id_of(&c.company(json!({})).await);
    let ca = id_of(&contact(c, "Ann", "Able", json!({ "company_id": a })).await);
    let cb1 = id_of(&contact(c, "Bob", "Baker", json!({ "company_id": b })).await);
    let cb2 = id_of(&contact(c, "Cy", "Cole", json!({ "company_id": b })).await);
    let da = id_of(&c.deal(&a, json!({})).await);
    let db = id_of(&c.deal(&b, json!({ "contact_id": cb1 })).await);
    let ab = id_of(&activity(c, json!({ "company_id": b, "contact_id": cb2 })).await);
    let ab2 = id_of(&activity(c, json!({ "company_id": b })).await);
    let share = c
        .post(
            &format!("/api/v1/companies/{b}/shares"),
            json!({ "team_id": app.team("Sharers").await, "permission": "view" }),
        )
        .await;
    assert_eq!(share.status, StatusCode::CREATED, "{}", share.text);

    let counts = (live_count(c, "contacts").await, live_count(c, "deals").await, live_count(c, "activities").await);
    let seq = last_seq(c).await;

    let res = c
        .post(
            "/api/v1/companies/merge",
            json!({ "survivor": a, "others": [b], "fields": { "city": b, "domain": b, "name": a } }),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let merge_id = res.body["merge"]["id"].as_str().expect("merge id").to_string();
    assert_eq!(res.body["merge"]["can_undo"], true);
    assert_eq!(res.body["merge"]["repointed"], 5, "2 contacts, 1 deal, 2 activities: {}", res.text);
    assert_eq!(res.body["merge"]["shares_moved"], 1);
    assert_eq!(res.body["survivor"]["city"], "Berlin");
    assert_eq!(res.body["survivor"]["domain"], "acme.test", "a unique value moves once its holder is trashed");
    assert_eq!(res.body["survivor"]["name"], "Acme, Inc.");

    // Nothing lost: the same live related records, now under the survivor.
    assert_eq!(
        counts,
        (live_count(c, "contacts").await, live_count(c, "deals").await, live_count(c, "activities").await)
    );
    assert!(get(c, "companies", &b).await["deleted_at"].is_string(), "the other is in the trash");
    for id in [&ca, &cb1, &cb2] {
        assert_eq!(get(c, "contacts", id).await["company_id"], a.as_str());
    }
    for id in [&da, &db] {
        assert_eq!(get(c, "deals", id).await["company_id"], a.as_str());
    }
    assert_eq!(get(c, "activities", &ab).await["company_id"], a.as_str());
    assert_eq!(get(c, "activities", &ab2).await["company_id"], a.as_str());
    let shares = c.get(&format!("/api/v1/companies/{a}/shares")).await;
    assert_eq!(shares.body["data"].as_array().map(Vec::len), Some(1), "{}", shares.text);

    // One change-log entry per touched row: 5 re-pointed, the other trashed, the survivor updated.
    let log = changes_after(c, seq).await;
    assert_eq!(log.len(), 7, "{log:?}");
    let touched: BTreeSet<(String, String)> = log
        .iter()
        .map(|e| (e["record_id"].as_str().unwrap_or("").to_string(), e["op"].as_str().unwrap_or("").to_string()))
        .collect();
    for id in [&cb1, &cb2, &db, &ab, &ab2, &a] {
        assert!(touched.contains(&(id.to_string(), "update".to_string())), "{id} updated: {log:?}");
    }
    assert!(touched.contains(&(b.clone(), "delete".to_string())));
    let audit = c.get(&format!("/api/v1/audit?action=record.merged&record_id={a}")).await;
    assert_eq!(audit.status, StatusCode::OK, "{}", audit.text);
    let entry = &audit.body["data"][0];
    assert_eq!(entry["details"]["merge_id"], merge_id.as_str());
    assert_eq!(entry["details"]["others"], json!([b]));
    let marked = c.get(&format!("/api/v1/audit?action=record.merged&record_id={b}")).await;
    assert_eq!(marked.body["data"][0]["details"]["merged_into"], a.as_str(), "{}", marked.text);

    // Recent merges list it.
    let recent = c.get("/api/v1/merges").await;
    assert_eq!(recent.status, StatusCode::OK, "{}", recent.text);
    assert_eq!(recent.body["data"][0]["id"], merge_id.as_str());

    // After the merge: one re-pointed contact moves on, the survivor's city is edited.
    let res = c.patch(&format!("/api/v1/contacts/{cb2}"), json!({ "company_id": other })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let res = c.patch(&format!("/api/v1/companies/{a}"), json!({ "city": "Lyon" })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);

    let res = c.post(&format!("/api/v1/merges/{merge_id}/undo"), json!({})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["restored"], json!([b]));
    assert_eq!(res.body["moved_back"], 4);
    assert_eq!(res.body["kept_fields"][0]["field"], "city", "{}", res.text);
    assert_eq!(res.body["kept_fields"][0]["current"], "Lyon");
    let skipped = res.body["skipped"].as_array().cloned().unwrap_or_default();
    assert_eq!(skipped.len(), 1, "{}", res.text);
    assert_eq!(skipped[0]["id"], cb2.as_str());
    assert_eq!(skipped[0]["reason"], "changed_since_merge");

    let b_now = get(c, "companies", &b).await;
    assert!(b_now["deleted_at"].is_null(), "restored: {b_now}");
    assert_eq!(b_now["domain"], "acme.test");
    let a_now = get(c, "companies", &a).await;
    assert_eq!(a_now["domain"], Value::Null, "the survivor's own value is back");
    assert_eq!(a_now["city"], "Lyon", "changed after the merge: the newer value stays");
    assert_eq!(get(c, "contacts", &cb1).await["company_id"], b.as_str());
    assert_eq!(get(c, "contacts", &cb2).await["company_id"], other.as_str());
    assert_eq!(get(c, "contacts", &ca).await["company_id"], a.as_str());
    assert_eq!(get(c, "deals", &db).await["company_id"], b.as_str());
    assert_eq!(get(c, "deals", &da).await["company_id"], a.as_str());
    assert_eq!(get(c, "activities", &ab).await["company_id"], b.as_str());
    let shares = c.get(&format!("/api/v1/companies/{b}/shares")).await;
    assert_eq!(shares.body["data"].as_array().map(Vec::len), Some(1), "{}", shares.text);
    let audit = c.get(&format!("/api/v1/audit?action=merge.undone&record_id={a}")).await;
    assert_eq!(audit.body["data"].as_array().map(Vec::len), Some(1), "{}", audit.text);

    // Once only.
    let res = c.post(&format!("/api/v1/merges/{merge_id}/undo"), json!({})).await;
    assert_problem(&res, StatusCode::CONFLICT, "already_undone");
}
both_backends!(merging_companies_repoints_everything_and_undo_puts_it_back);

async fn merging_contacts_swaps_unique_values_and_undo_restores_them(app: &TestApp) {
    let c = &app.admin;
    let co = id_of(&c.company(json!({})).await);
    let keep = id_of(
        &contact(c, "John", "Smith", json!({ "company_id": co, "email": "john@old.test", "title": "CTO" })).await,
    );
    let dupe = id_of(
        &contact(c, "Jon", "Smith", json!({ "company_id": co, "email": "john@new.test", "phone": "+14155550100" }))
            .await,
    );
    let third = id_of(&contact(c, "J.", "Smith", json!({ "company_id": co })).await);
    let deal = id_of(&c.deal(&co, json!({ "contact_id": dupe })).await);
    let act = id_of(&activity(c, json!({ "contact_id": third })).await);

    let res = c
        .post(
            "/api/v1/contacts/merge",
            json!({ "survivor": keep, "others": [dupe, third], "fields": { "email": dupe, "phone": dupe, "first_name": keep } }),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let merge_id = res.body["merge"]["id"].as_str().expect("id").to_string();
    assert_eq!(res.body["survivor"]["email"], "john@new.test");
    assert_eq!(res.body["survivor"]["phone"], "+14155550100");
    assert_eq!(res.body["survivor"]["full_name"], "John Smith");
    assert_eq!(get(c, "deals", &deal).await["contact_id"], keep.as_str());
    assert_eq!(get(c, "activities", &act).await["contact_id"], keep.as_str());
    assert!(get(c, "contacts", &third).await["deleted_at"].is_string());

    let res = c.post(&format!("/api/v1/merges/{merge_id}/undo"), json!({})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["kept_fields"], json!([]));
    let k = get(c, "contacts", &keep).await;
    assert_eq!(k["email"], "john@old.test");
    assert_eq!(k["phone"], Value::Null);
    assert_eq!(k["title"], "CTO");
    let d = get(c, "contacts", &dupe).await;
    assert!(d["deleted_at"].is_null());
    assert_eq!(d["email"], "john@new.test");
    assert!(get(c, "contacts", &third).await["deleted_at"].is_null());
    assert_eq!(get(c, "deals", &deal).await["contact_id"], dupe.as_str());
    assert_eq!(get(c, "activities", &act).await["contact_id"], third.as_str());
}
both_backends!(merging_contacts_swaps_unique_values_and_undo_restores_them);

async fn undo_is_refused_after_thirty_days(app: &TestApp) {
    let c = &app.admin;
    let a = id_of(&contact(c, "Old", "Merge", json!({})).await);
    let b = id_of(&contact(c, "Old", "Merged", json!({})).await);
    let res = c.post("/api/v1/contacts/merge", json!({ "survivor": a, "others": [b] })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let merge_id = res.body["merge"]["id"].as_str().expect("id").to_string();

    app.clock.advance(time::Duration::days(31));
    let res = c.post(&format!("/api/v1/merges/{merge_id}/undo"), json!({})).await;
    assert_problem(&res, StatusCode::CONFLICT, "undo_expired");
    assert!(res.body["detail"].as_str().is_some_and(|d| d.contains("30 days")), "{}", res.text);
    assert!(res.body["undo_until"].is_string());
    assert!(get(c, "contacts", &b).await["deleted_at"].is_string(), "nothing restored");
    let recent = c.get("/api/v1/merges").await;
    assert_eq!(recent.body["data"], json!([]), "only the last 30 days are listed");
    let res = c.post(&format!("/api/v1/merges/{}/undo", uuid::Uuid::now_v7()), json!({})).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
}
both_backends!(undo_is_refused_after_thirty_days);

async fn only_those_who_may_edit_and_delete_merge(app: &TestApp) {
    let team = app.team("Merge team").await;
    let (_, rep) = app.member(Role::Rep, &team).await;
    let (_, manager) = app.member(Role::Manager, &team).await;
    let other_team = app.team("Elsewhere").await;
    let (_, outsider) = app.member(Role::Manager, &other_team).await;
    let (_, outsider_rep) = app.member(Role::Rep, &other_team).await;

    let rco = id_of(&rep.company(json!({})).await);
    let a = id_of(&contact(&rep, "Rita", "Reps", json!({ "company_id": rco })).await);
    let b = id_of(&contact(&rep, "Rita", "Reps", json!({ "company_id": rco, "email": "rita@x.test" })).await);

    // Reps delete nothing, so they merge nothing.
    let res = rep.post("/api/v1/contacts/merge", json!({ "survivor": a, "others": [b] })).await;
    assert_problem(&res, StatusCode::FORBIDDEN, "forbidden");
    // A manager of another team cannot see them: same answer as an unknown id, nothing leaks.
    let res = outsider.post("/api/v1/contacts/merge", json!({ "survivor": a, "others": [b] })).await;
    assert_field_error(&res, "survivor", "not_found");
    let pairs = all_pairs(&outsider, "contacts", 25).await;
    assert!(pairs.is_empty(), "{pairs:?}");
    assert_eq!(outsider.get(&format!("/api/v1/contacts/{a}/duplicates")).await.status, StatusCode::NOT_FOUND);
    // Their manager sees the pair.
    let pairs = all_pairs(&manager, "contacts", 25).await;
    assert_eq!(pairs.len(), 1);

    // A related row the merger may not edit blocks the merge, and nothing is written.
    let co = id_of(&outsider.company(json!({})).await);
    let foreign = outsider.deal(&co, json!({})).await;
    let res = app.admin.patch(&format!("/api/v1/deals/{}", id_of(&foreign)), json!({ "contact_id": b })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let res = manager.post("/api/v1/contacts/merge", json!({ "survivor": a, "others": [b] })).await;
    assert_problem(&res, StatusCode::FORBIDDEN, "forbidden");
    assert!(get(&rep, "contacts", &b).await["deleted_at"].is_null(), "nothing partial");
    let res = app.admin.patch(&format!("/api/v1/deals/{}", id_of(&foreign)), json!({ "contact_id": null })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);

    // The team's manager may.
    let res =
        manager.post("/api/v1/contacts/merge", json!({ "survivor": a, "others": [b], "fields": { "email": b } })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let merge_id = res.body["merge"]["id"].as_str().expect("id").to_string();
    // Outsiders do not see the merge, and cannot undo it.
    assert_eq!(outsider.get("/api/v1/merges").await.body["data"], json!([]));
    assert_eq!(manager.get("/api/v1/merges").await.body["data"][0]["id"], merge_id.as_str());
    assert_eq!(
        outsider.post(&format!("/api/v1/merges/{merge_id}/undo"), json!({})).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        outsider_rep.post(&format!("/api/v1/merges/{merge_id}/undo"), json!({})).await.status,
        StatusCode::NOT_FOUND
    );
    // The rep sees the survivor but may not restore what was merged away.
    let res = rep.post(&format!("/api/v1/merges/{merge_id}/undo"), json!({})).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.text);
    assert!(get(&rep, "contacts", &b).await["deleted_at"].is_string(), "nothing partial");
    let res = manager.post(&format!("/api/v1/merges/{merge_id}/undo"), json!({})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(get(&rep, "contacts", &b).await["email"], "rita@x.test");
    assert_eq!(get(&rep, "contacts", &a).await["email"], Value::Null);
}
both_backends!(only_those_who_may_edit_and_delete_merge);

async fn bad_merge_requests_name_the_field_and_change_nothing(app: &TestApp) {
    let c = &app.admin;
    let a = id_of(&contact(c, "Bad", "Input", json!({})).await);
    let b = id_of(&contact(c, "Bad", "Inputs", json!({})).await);
    let trashed = id_of(&contact(c, "In", "Trash", json!({})).await);
    assert_eq!(c.delete(&format!("/api/v1/contacts/{trashed}")).await.status, StatusCode::NO_CONTENT);
    let company = id_of(&c.company(json!({})).await);
    let stranger = uuid::Uuid::now_v7().to_string();
    let many: Vec<String> = (0..10).map(|_| uuid::Uuid::now_v7().to_string()).collect();

    let cases: Vec<(Value, &str, &str)> = vec![
        (json!({ "survivor": a, "others": [a] }), "others[0]", "is_survivor"),
        (json!({ "survivor": a, "others": [b, b] }), "others[1]", "duplicate"),
        (json!({ "survivor": a, "others": [company] }), "others[0]", "not_found"),
        (json!({ "survivor": a, "others": [stranger] }), "others[0]", "not_found"),
        (json!({ "survivor": stranger, "others": [a] }), "survivor", "not_found"),
        (json!({ "survivor": a, "others": [trashed] }), "others[0]", "in_trash"),
        (json!({ "survivor": trashed, "others": [a] }), "survivor", "in_trash"),
        (json!({ "survivor": a, "others": [b], "fields": { "nope": b } }), "fields.nope", "unknown_field"),
        (json!({ "survivor": a, "others": [b], "fields": { "full_name": b } }), "fields.full_name", "read_only"),
        (json!({ "survivor": a, "others": [b], "fields": { "title": stranger } }), "fields.title", "not_in_merge"),
        (json!({ "survivor": a, "others": many }), "others", "too_many"),
        (json!({ "survivor": a, "others": [] }), "others", "required"),
        (json!({ "survivor": a }), "others", "required"),
        (json!({ "survivor": "x", "others": [b] }), "survivor", "invalid_id"),
        (json!({ "survivor": a, "others": ["x"] }), "others[0]", "invalid_id"),
        (json!({ "survivor": a, "others": b }), "others", "wrong_type"),
        (json!({ "survivor": a, "others": [b], "extra": 1 }), "extra", "unknown_field"),
    ];
    for (body, field, code) in cases {
        let res = c.post("/api/v1/contacts/merge", body.clone()).await;
        assert_eq!(res.header("content-type"), Some("application/problem+json"), "{body}: {}", res.text);
        assert_field_error(&res, field, code);
    }
    assert_eq!(
        c.post("/api/v1/deals/merge", json!({ "survivor": a, "others": [b] })).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        c.post("/api/v1/nothing/merge", json!({ "survivor": a, "others": [b] })).await.status,
        StatusCode::NOT_FOUND
    );
    let res = c.post("/api/v1/merges/not-an-id/undo", json!({})).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);

    // Nothing was written.
    for id in [&a, &b] {
        let r = get(c, "contacts", id).await;
        assert_eq!(r["version"], 1, "{r}");
        assert!(r["deleted_at"].is_null());
    }
    assert_eq!(c.get("/api/v1/merges").await.body["data"], json!([]));
}
both_backends!(bad_merge_requests_name_the_field_and_change_nothing);

async fn recent_merges_page_newest_first(app: &TestApp) {
    let c = &app.admin;
    let mut ids = Vec::new();
    for i in 0..3 {
        let a = id_of(&contact(c, "Page", &format!("Merge{i}"), json!({})).await);
        let b = id_of(&contact(c, "Page", &format!("Merge{i}x"), json!({})).await);
        let res = c.post("/api/v1/contacts/merge", json!({ "survivor": a, "others": [b] })).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        ids.push(res.body["merge"]["id"].as_str().expect("id").to_string());
        app.clock.advance(time::Duration::seconds(1));
    }
    let first = c.get("/api/v1/merges?limit=2").await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let page: Vec<String> = first.body["data"].as_array().expect("data").iter().map(id_of).collect();
    assert_eq!(page, vec![ids[2].clone(), ids[1].clone()]);
    let cursor = first.body["next_cursor"].as_str().expect("cursor").to_string();
    let second = c.get(&format!("/api/v1/merges?limit=2&cursor={cursor}")).await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.text);
    let page: Vec<String> = second.body["data"].as_array().expect("data").iter().map(id_of).collect();
    assert_eq!(page, vec![ids[0].clone()]);
    assert!(second.body["next_cursor"].is_null());
    let bad = c.get("/api/v1/merges?cursor=yesterday").await;
    assert_problem(&bad, StatusCode::BAD_REQUEST, "invalid_query");
    assert_eq!(bad.error_fields(), vec!["cursor"]);
}
both_backends!(recent_merges_page_newest_first);
