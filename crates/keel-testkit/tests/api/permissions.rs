//! The permission matrix (issue 3): role × ownership × action, through the real HTTP API
//! on both databases, plus the side channels that must not leak.
//!
//! Cast: team East has manager `M` and reps `R1` (the acting rep) and `R2`; team West has
//! rep `R3`. Records are owned by R1 ("own"), R2 ("teammate"), R3 ("other team"), and two
//! of R3's are shared with R1 for viewing ("shared view") and editing ("shared edit").

use keel_domain::policy::Role;
use keel_testkit::{Client, TestApp, both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// What each actor may do with companies, contacts and deals by ownership. A record the
/// actor may not read answers 404 to every action (ids do not leak). `read` covers get,
/// search, list filters and aggregates; exports follow the same scope and are tested in
/// export.rs (reps may not export at all); create is role-wide, tested in validation.rs.
///
/// | actor   | ownership    | read | update | delete | share |
const MATRIX: &[(&str, &str, bool, bool, bool, bool)] = &[
    ("rep", "own", true, true, false, true),
    ("rep", "teammate", true, false, false, false),
    ("rep", "other_team", false, false, false, false),
    ("rep", "shared_view", true, false, false, false),
    ("rep", "shared_edit", true, true, false, false),
    ("manager", "own", true, true, true, true), // R1's records are the manager's team's
    ("manager", "teammate", true, true, true, true),
    ("manager", "other_team", false, false, false, false),
    ("manager", "shared_view", false, false, false, false), // shared with R1, not with M
    ("manager", "shared_edit", false, false, false, false),
    ("admin", "own", true, true, true, true),
    ("admin", "teammate", true, true, true, true),
    ("admin", "other_team", true, true, true, true),
    ("admin", "shared_view", true, true, true, true),
    ("admin", "shared_edit", true, true, true, true),
];

const OWNERSHIPS: [&str; 5] = ["own", "teammate", "other_team", "shared_view", "shared_edit"];

struct Cast {
    rep: Client,
    manager: Client,
    r1: String,
    r2: String,
    r3: String,
    m: String,
}

async fn cast(app: &TestApp) -> Cast {
    let east = app.team("East").await;
    let west = app.team("West").await;
    let (m, manager) = app.member(Role::Manager, &east).await;
    let (r1, rep) = app.member(Role::Rep, &east).await;
    let (r2, _) = app.member(Role::Rep, &east).await;
    let (r3, _) = app.member(Role::Rep, &west).await;
    let id = |v: &Value| v["id"].as_str().expect("id").to_string();
    Cast { rep, manager, r1: id(&r1), r2: id(&r2), r3: id(&r3), m: id(&m) }
}

fn token() -> String {
    format!("zq{}", &uuid::Uuid::now_v7().simple().to_string()[20..])
}

/// Create one record per ownership as the admin; returns (ownership, id, search token).
async fn records(app: &TestApp, cast: &Cast, entity: &str, company_id: &str) -> Vec<(&'static str, String, String)> {
    let mut out = Vec::new();
    for ownership in OWNERSHIPS {
        let owner = match ownership {
            "own" => &cast.r1,
            "teammate" => &cast.r2,
            _ => &cast.r3,
        };
        let t = token();
        let body = match entity {
            "companies" => json!({ "name": format!("Matrix {t}"), "owner_id": owner }),
            "contacts" => json!({ "last_name": format!("Matrix {t}"), "owner_id": owner }),
            "deals" => {
                json!({ "title": format!("Matrix {t}"), "company_id": company_id, "owner_id": owner, "amount": 123_400 })
            }
            _ => json!({ "type": "Call", "subject": format!("Matrix {t}"), "owner_id": owner }),
        };
        let id = app.admin.create(entity, body).await["id"].as_str().expect("id").to_string();
        let permission = match ownership {
            "shared_view" => Some("view"),
            "shared_edit" => Some("edit"),
            _ => None,
        };
        if let Some(p) = permission {
            let res = app
                .admin
                .post(&format!("/api/v1/{entity}/{id}/shares"), json!({ "user_id": cast.r1, "permission": p }))
                .await;
            assert_eq!(res.status, StatusCode::CREATED, "share: {}", res.text);
        }
        out.push((ownership, id, t));
    }
    out
}

fn update_body(entity: &str) -> Value {
    match entity {
        "companies" => json!({ "city": "Matrixville" }),
        "contacts" => json!({ "title": "Matrix tester" }),
        "deals" => json!({ "priority": "High" }),
        _ => json!({ "description": "matrix" }),
    }
}

fn denied(read: bool) -> StatusCode {
    if read { StatusCode::FORBIDDEN } else { StatusCode::NOT_FOUND }
}

async fn check(app: &TestApp, who: &str, client: &Client, entity: &str, rows: &[(&'static str, String, String)]) {
    for (ownership, id, t) in rows {
        let &(_, _, read, update, delete, share) =
            MATRIX.iter().find(|r| r.0 == who && r.1 == *ownership).expect("matrix row");
        let at = format!("{who} × {entity} × {ownership}");
        let path = format!("/api/v1/{entity}/{id}");

        let got = client.get(&path).await;
        assert_eq!(got.status, if read { StatusCode::OK } else { StatusCode::NOT_FOUND }, "get: {at}: {}", got.text);
        let found = client.get(&format!("/api/v1/{entity}?q={t}&count=true")).await;
        assert_eq!(found.status, StatusCode::OK, "search: {at}");
        assert_eq!(found.body["total"], if read { 1 } else { 0 }, "search count: {at}");
        let listed = client.get(&format!("/api/v1/{entity}?id={id}")).await;
        assert_eq!(listed.body["data"].as_array().map_or(0, Vec::len), usize::from(read), "list filter: {at}");
        let totals = client.get(&format!("/api/v1/{entity}/aggregate?id={id}")).await;
        assert_eq!(totals.status, StatusCode::OK, "aggregate: {at}: {}", totals.text);
        assert_eq!(totals.body["total"]["count"], i64::from(read), "aggregate count: {at}");

        let res = client.patch(&path, update_body(entity)).await;
        let want = if update { StatusCode::OK } else { denied(read) };
        assert_eq!(res.status, want, "update: {at}: {}", res.text);

        if entity != "activities" {
            let res = client
                .post(&format!("{path}/shares"), json!({ "user_id": cast_admin_id(app).await, "permission": "view" }))
                .await;
            let want = if share { StatusCode::CREATED } else { denied(read) };
            assert_eq!(res.status, want, "share: {at}: {}", res.text);
        }

        let res = client.delete(&path).await;
        let want = if delete { StatusCode::NO_CONTENT } else { denied(read) };
        assert_eq!(res.status, want, "delete: {at}: {}", res.text);
        if delete {
            let back = app.admin.post(&format!("{path}/restore"), json!({})).await;
            assert_eq!(back.status, StatusCode::OK, "restore after {at}");
        }
    }
}

async fn cast_admin_id(app: &TestApp) -> String {
    app.admin.get("/api/v1/auth/me").await.body["id"].as_str().expect("admin id").to_string()
}

async fn matrix_holds_for_companies_contacts_and_deals(app: &TestApp) {
    let cast = cast(app).await;
    let company = app.admin.company(json!({})).await["id"].as_str().expect("id").to_string();
    for entity in ["companies", "contacts", "deals"] {
        let rows = records(app, &cast, entity, &company).await;
        check(app, "rep", &cast.rep, entity, &rows).await;
        check(app, "manager", &cast.manager, entity, &rows).await;
        check(app, "admin", &app.admin, entity, &rows).await;
    }
}
both_backends!(matrix_holds_for_companies_contacts_and_deals);

async fn activities_follow_their_owner_assignee_and_parent(app: &TestApp) {
    let cast = cast(app).await;
    let other = app.admin.company(json!({ "owner_id": cast.r3 })).await["id"].as_str().expect("id").to_string();
    let mine = app.admin.company(json!({ "owner_id": cast.r1 })).await["id"].as_str().expect("id").to_string();
    let make = |extra: Value| {
        let mut body = json!({ "type": "Task", "subject": format!("Activity {}", token()), "owner_id": cast.r3 });
        keel_testkit::merge(&mut body, extra);
        body
    };
    let foreign = app.admin.create("activities", make(json!({ "company_id": other }))).await;
    let assigned = app.admin.create("activities", make(json!({ "assigned_to": cast.r1 }))).await;
    let on_mine = app.admin.create("activities", make(json!({ "company_id": mine }))).await;
    let get = |a: &Value| format!("/api/v1/activities/{}", a["id"].as_str().unwrap_or_default());
    assert_eq!(cast.rep.get(&get(&foreign)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(cast.rep.get(&get(&assigned)).await.status, StatusCode::OK, "assignees see their tasks");
    assert_eq!(cast.rep.get(&get(&on_mine)).await.status, StatusCode::OK, "activities on visible records are visible");
    let done = cast.rep.patch(&get(&assigned), json!({ "completed": true })).await;
    assert_eq!(done.status, StatusCode::OK, "assignees complete their tasks: {}", done.text);
    assert_eq!(cast.rep.patch(&get(&on_mine), json!({ "completed": true })).await.status, StatusCode::FORBIDDEN);
    let _ = &cast.m;
}
both_backends!(activities_follow_their_owner_assignee_and_parent);

async fn reps_see_deal_amounts_only_on_their_own_deals(app: &TestApp) {
    let cast = cast(app).await;
    let company = app.admin.company(json!({})).await["id"].as_str().expect("id").to_string();
    let own = app.admin.deal(&company, json!({ "owner_id": cast.r1, "amount": 5_000_000 })).await;
    let teammate = app.admin.deal(&company, json!({ "owner_id": cast.r2, "amount": 9_900_000 })).await;
    let path = |d: &Value| format!("/api/v1/deals/{}", d["id"].as_str().unwrap_or_default());

    let mine = cast.rep.get(&path(&own)).await.body;
    assert_eq!(mine["amount"], 5_000_000);
    assert!(mine.get("_redacted").is_none());
    let theirs = cast.rep.get(&path(&teammate)).await.body;
    assert_eq!(theirs["amount"], Value::Null);
    assert_eq!(theirs["_redacted"], json!(["amount"]));
    assert_eq!(cast.manager.get(&path(&teammate)).await.body["amount"], 9_900_000);

    // Filtering on the hidden field only matches rows where it is visible …
    let filtered = cast.rep.get("/api/v1/deals?amount[gte]=9000000&count=true").await;
    assert_eq!(filtered.status, StatusCode::OK);
    assert_eq!(filtered.body["total"], 0, "a filter must not reveal a teammate's amount");
    let own_match = cast.rep.get("/api/v1/deals?amount[gte]=4000000&count=true").await;
    assert_eq!(own_match.body["total"], 1);
    // … and sorting by it, which would leak the order, is refused.
    assert_eq!(cast.rep.get("/api/v1/deals?sort=-amount").await.status, StatusCode::FORBIDDEN);
    // Nor may the rep write it on a deal shared for editing.
    app.admin.post(&format!("{}/shares", path(&teammate)), json!({ "user_id": cast.r1, "permission": "edit" })).await;
    let res = cast.rep.patch(&path(&teammate), json!({ "amount": 1 })).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.text);
    assert_eq!(res.error_fields(), vec!["amount"]);
    assert_eq!(cast.rep.patch(&path(&teammate), json!({ "notes": "next steps" })).await.status, StatusCode::OK);
}
both_backends!(reps_see_deal_amounts_only_on_their_own_deals);

async fn contact_notes_are_edited_by_their_owner_only(app: &TestApp) {
    let cast = cast(app).await;
    let contact = app.admin.create("contacts", json!({ "last_name": "Noted", "owner_id": cast.r1 })).await;
    let path = format!("/api/v1/contacts/{}", contact["id"].as_str().unwrap_or_default());
    let res = cast.manager.patch(&path, json!({ "notes": "manager's note" })).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.text);
    assert_eq!(res.error_fields(), vec!["notes"]);
    assert_eq!(cast.manager.patch(&path, json!({ "title": "CFO" })).await.status, StatusCode::OK);
    assert_eq!(cast.rep.patch(&path, json!({ "notes": "owner's note" })).await.status, StatusCode::OK);
}
both_backends!(contact_notes_are_edited_by_their_owner_only);

async fn hidden_records_do_not_leak_through_side_channels(app: &TestApp) {
    let cast = cast(app).await;
    // A company R1 may see (shared for viewing) with a deal R1 may not.
    let company = app.admin.company(json!({ "owner_id": cast.r3 })).await;
    let company_id = company["id"].as_str().expect("id").to_string();
    app.admin
        .post(&format!("/api/v1/companies/{company_id}/shares"), json!({ "user_id": cast.r1, "permission": "view" }))
        .await;
    let deal = app.admin.deal(&company_id, json!({ "owner_id": cast.r3, "title": "Secret West deal" })).await;
    let deal_id = deal["id"].as_str().expect("id").to_string();

    let related = cast.rep.get(&format!("/api/v1/companies/{company_id}/deals?count=true")).await;
    assert_eq!(related.status, StatusCode::OK);
    assert_eq!(related.body["total"], 0, "related lists apply the row scope");
    assert_eq!(
        cast.rep.get("/api/v1/deals?q=secret&count=true").await.body["total"],
        0,
        "search applies the row scope"
    );
    assert_eq!(cast.rep.get(&format!("/api/v1/deals?id={deal_id}")).await.body["data"], json!([]));
    assert_eq!(cast.rep.get("/api/v1/changes").await.status, StatusCode::FORBIDDEN, "the change feed is admin-only");
    assert_eq!(cast.rep.get(&format!("/api/v1/deals/{deal_id}/activities")).await.status, StatusCode::NOT_FOUND);

    // Bulk actions with foreign ids fail whole, naming nothing they may not see.
    let res = cast.manager.post("/api/v1/deals/bulk/delete", json!({ "ids": [deal_id] })).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    let res = cast.manager.post("/api/v1/deals/bulk/owner", json!({ "ids": [deal_id], "owner_id": cast.m })).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    assert_eq!(app.admin.get(&format!("/api/v1/deals/{deal_id}")).await.body["owner_id"], json!(cast.r3));

    // Trashing the company would hide a deal the manager may not touch.
    let east_company = app.admin.company(json!({ "owner_id": cast.r1 })).await;
    let east_id = east_company["id"].as_str().expect("id").to_string();
    app.admin.deal(&east_id, json!({ "owner_id": cast.r3 })).await;
    let res = cast.manager.delete(&format!("/api/v1/companies/{east_id}?cascade=true")).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.text);
}
both_backends!(hidden_records_do_not_leak_through_side_channels);

async fn roles_and_owners_cannot_be_raised_by_their_holders(app: &TestApp) {
    let cast = cast(app).await;
    let res = cast.rep.patch(&format!("/api/v1/users/{}", cast.r1), json!({ "role": "admin" })).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.text);
    assert_eq!(cast.rep.get("/api/v1/auth/me").await.body["role"], "rep");
    let mine = cast.rep.company(json!({})).await;
    let path = format!("/api/v1/companies/{}", mine["id"].as_str().unwrap_or_default());
    let res = cast.rep.patch(&path, json!({ "owner_id": cast.r2 })).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(res.body["code"], "forbidden_fields");
    assert_eq!(res.error_fields(), vec!["owner_id"]);
    // A manager reassigns within reach.
    let res = cast.manager.patch(&path, json!({ "owner_id": cast.r2 })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
}
both_backends!(roles_and_owners_cannot_be_raised_by_their_holders);

async fn shares_can_be_listed_changed_and_revoked(app: &TestApp) {
    let cast = cast(app).await;
    let deal_company = app.admin.company(json!({})).await["id"].as_str().expect("id").to_string();
    let deal = app.admin.deal(&deal_company, json!({ "owner_id": cast.r3 })).await;
    let path = format!("/api/v1/deals/{}", deal["id"].as_str().unwrap_or_default());
    assert_eq!(cast.rep.get(&path).await.status, StatusCode::NOT_FOUND);
    let share = app.admin.post(&format!("{path}/shares"), json!({ "user_id": cast.r1, "permission": "view" })).await;
    assert_eq!(share.status, StatusCode::CREATED, "{}", share.text);
    assert_eq!(cast.rep.get(&path).await.status, StatusCode::OK);
    let again = app.admin.post(&format!("{path}/shares"), json!({ "user_id": cast.r1, "permission": "edit" })).await;
    assert_eq!(again.body["id"], share.body["id"], "sharing again changes the permission");
    let listed = cast.rep.get(&format!("{path}/shares")).await;
    assert_eq!(listed.body["data"].as_array().map_or(0, Vec::len), 1);
    assert_eq!(listed.body["data"][0]["permission"], "edit");
    let bad = app.admin.post(&format!("{path}/shares"), json!({ "permission": "own" })).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.error_fields(), vec!["user_id", "permission"]);
    let gone = app.admin.delete(&format!("{path}/shares/{}", share.body["id"].as_str().unwrap_or_default())).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    assert_eq!(cast.rep.get(&path).await.status, StatusCode::NOT_FOUND, "revoking a share hides the record again");

    // Team shares reach every member.
    let west = app.team("Partners").await;
    let (_, partner) = app.member(Role::Rep, &west).await;
    app.admin.post(&format!("{path}/shares"), json!({ "team_id": west, "permission": "view" })).await;
    assert_eq!(partner.get(&path).await.status, StatusCode::OK);
}
both_backends!(shares_can_be_listed_changed_and_revoked);

async fn pipeline_totals_come_from_sql_and_respect_field_rules(app: &TestApp) {
    let cast = cast(app).await;
    let company = app.admin.company(json!({})).await["id"].as_str().expect("id").to_string();
    let tag = token();
    for (owner, stage, amount) in [
        (&cast.r1, "Proposal", 1_000_000),
        (&cast.r1, "Negotiation", 2_000_000),
        (&cast.r2, "Proposal", 4_000_000),
        (&cast.r3, "Proposal", 8_000_000),
    ] {
        app.admin
            .deal(
                &company,
                json!({ "owner_id": owner, "stage": stage, "amount": amount, "title": format!("Pipe {tag}") }),
            )
            .await;
    }
    let path = format!("/api/v1/deals/aggregate?group_by=stage&q={tag}");
    let admin = app.admin.get(&path).await;
    assert_eq!(admin.status, StatusCode::OK, "{}", admin.text);
    assert_eq!(admin.body["total"]["count"], 4);
    assert_eq!(admin.body["total"]["sum"]["amount"], 15_000_000);
    let proposal = admin.body["groups"].as_array().and_then(|g| g.iter().find(|g| g["key"] == "Proposal")).cloned();
    let proposal = proposal.expect("proposal group");
    assert_eq!(proposal["count"], 3);
    assert_eq!(proposal["sum"]["amount"], 13_000_000);
    assert_eq!(proposal["weighted_amount"], 6_500_000, "amount × 50%");

    // The manager sees the East team's deals only; the rep the same rows, but sums of
    // their own amounts only.
    let manager = cast.manager.get(&path).await;
    assert_eq!(manager.body["total"]["count"], 3);
    assert_eq!(manager.body["total"]["sum"]["amount"], 7_000_000);
    let rep = cast.rep.get(&path).await;
    assert_eq!(rep.body["total"]["count"], 3);
    assert_eq!(rep.body["total"]["sum"]["amount"], 3_000_000, "a teammate's amount must not leak through a sum");
    assert_eq!(rep.body["_redacted_from_sums"], json!(["amount"]));

    let bad = app.admin.get("/api/v1/deals/aggregate?group_by=title").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.error_fields(), vec!["group_by"]);
    let bad = app.admin.get("/api/v1/deals/aggregate?nope=1").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}
both_backends!(pipeline_totals_come_from_sql_and_respect_field_rules);

async fn permission_changes_are_audited(app: &TestApp) {
    let cast = cast(app).await;
    let company = app.admin.company(json!({})).await;
    let id = company["id"].as_str().expect("id");
    let res = app
        .admin
        .post(&format!("/api/v1/companies/{id}/shares"), json!({ "user_id": cast.r1, "permission": "view" }))
        .await;
    assert_eq!(res.status, StatusCode::CREATED);
    let res = app.admin.patch(&format!("/api/v1/users/{}", cast.r2), json!({ "role": "manager" })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);

    let audit = app.admin.get("/api/v1/audit?action=permission.changed").await;
    assert_eq!(audit.status, StatusCode::OK, "{}", audit.text);
    let entries = audit.body["data"].as_array().cloned().unwrap_or_default();
    let kinds: Vec<&str> = entries.iter().filter_map(|e| e["details"]["kind"].as_str()).collect();
    assert!(kinds.contains(&"share"), "{entries:?}");
    let role = entries.iter().find(|e| e["details"]["kind"] == "user").expect("role change entry");
    assert_eq!(role["record_id"], json!(cast.r2));
    assert_eq!(role["details"]["diff"]["role"], json!({ "from": "rep", "to": "manager" }));
}
both_backends!(permission_changes_are_audited);

async fn a_manager_listed_for_another_team_runs_it_too(app: &TestApp) {
    let cast = cast(app).await;
    let west_deal_company = app.admin.company(json!({ "owner_id": cast.r3 })).await;
    let path = format!("/api/v1/companies/{}", west_deal_company["id"].as_str().unwrap_or_default());
    assert_eq!(cast.manager.get(&path).await.status, StatusCode::NOT_FOUND, "West is not the manager's team yet");

    let r3 = app.admin.get(&format!("/api/v1/users/{}", cast.r3)).await;
    let west = r3.body["team_id"].as_str().expect("west id").to_string();
    // Routes under /teams/{id} keep working next to /teams/{id}/managers.
    assert_eq!(app.admin.get(&format!("/api/v1/teams/{west}")).await.status, StatusCode::OK);
    let res = cast
        .manager
        .send(
            reqwest::Method::PUT,
            &format!("/api/v1/teams/{west}/managers"),
            Some(json!({ "user_ids": [cast.m] })),
            &[],
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "managers do not appoint themselves");
    let res = app
        .admin
        .send(
            reqwest::Method::PUT,
            &format!("/api/v1/teams/{west}/managers"),
            Some(json!({ "user_ids": [cast.m] })),
            &[],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(app.admin.get(&format!("/api/v1/teams/{west}/managers")).await.body["user_ids"], json!([cast.m]));

    assert_eq!(cast.manager.get(&path).await.status, StatusCode::OK);
    assert_eq!(cast.manager.patch(&path, json!({ "city": "Portland" })).await.status, StatusCode::OK);
    // The rep of East still sees nothing of West.
    assert_eq!(cast.rep.get(&path).await.status, StatusCode::NOT_FOUND);

    let bad = app
        .admin
        .send(
            reqwest::Method::PUT,
            &format!("/api/v1/teams/{west}/managers"),
            Some(json!({ "user_ids": [uuid::Uuid::now_v7()] })),
            &[],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let res = app
        .admin
        .send(reqwest::Method::PUT, &format!("/api/v1/teams/{west}/managers"), Some(json!({ "user_ids": [] })), &[])
        .await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(cast.manager.get(&path).await.status, StatusCode::NOT_FOUND, "removal takes effect at once");
}
both_backends!(a_manager_listed_for_another_team_runs_it_too);
