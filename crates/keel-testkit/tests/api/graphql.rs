//! GraphQL (`POST /api/graphql`): lists with filters, sort and cursor pagination; nested
//! relations with a statement-count N+1 guard; depth and complexity limits; mutations
//! with REST's error codes in `extensions.code`; the same rows and redactions as REST.

use std::collections::BTreeSet;

use keel_domain::policy::Role;
use keel_testkit::{Client, Response, TestApp, both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn gql(c: &Client, query: &str, variables: Value) -> Response {
    c.post("/api/graphql", json!({ "query": query, "variables": variables })).await
}

/// Run `query`, asserting it answered without errors; returns `data`.
async fn data(c: &Client, query: &str, variables: Value) -> Value {
    let res = gql(c, query, variables).await;
    assert_eq!(res.status, StatusCode::OK, "{query}: {}", res.text);
    assert!(res.body.get("errors").is_none(), "{query}: {}", res.text);
    res.body["data"].clone()
}

/// Run `query`, asserting it failed; returns the first error.
async fn error(c: &Client, query: &str, variables: Value) -> Value {
    let res = gql(c, query, variables).await;
    let first = res.body["errors"][0].clone();
    assert!(first.is_object(), "{query}: expected an error, got {}", res.text);
    first
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap_or_else(|| panic!("no id in {v}")).to_string()
}

fn tag() -> String {
    format!("gq{}", &uuid::Uuid::now_v7().simple().to_string()[20..])
}

fn nodes(conn: &Value) -> Vec<Value> {
    conn["edges"].as_array().map(|e| e.iter().map(|e| e["node"].clone()).collect()).unwrap_or_default()
}

const COMPANIES_PAGE: &str = r#"
query Page($filter: CompanyFilter, $after: String, $sort: String) {
  companies(filter: $filter, first: 2, after: $after, sort: $sort) {
    totalCount
    edges { cursor node { id name industry } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"#;

async fn lists_filter_sort_and_paginate(app: &TestApp) {
    let c = &app.admin;
    let t = tag();
    let mut tech = Vec::new();
    for (i, industry) in
        ["Technology", "Finance", "Technology", "Technology", "Retail", "Technology", "Technology"].iter().enumerate()
    {
        let company = c.company(json!({ "name": format!("{t} {i}"), "industry": industry })).await;
        if *industry == "Technology" {
            tech.push(id(&company));
        }
    }

    // Filter + sort + first/after, walked to the end: the same rows, in the same order, as REST.
    let filter = json!({ "name": { "contains": t }, "industry": { "eq": "Technology" } });
    let mut seen = Vec::new();
    let mut after = Value::Null;
    let mut pages = 0;
    loop {
        let d = data(c, COMPANIES_PAGE, json!({ "filter": filter, "after": after, "sort": "-name" })).await;
        let conn = &d["companies"];
        assert_eq!(conn["totalCount"], 5, "totalCount counts every match: {conn}");
        let page = nodes(conn);
        assert!(page.len() <= 2);
        let edges = conn["edges"].as_array().cloned().unwrap_or_default();
        assert_eq!(conn["pageInfo"]["startCursor"], edges[0]["cursor"]);
        assert_eq!(conn["pageInfo"]["hasPreviousPage"], false);
        seen.extend(page.iter().map(id));
        pages += 1;
        if conn["pageInfo"]["hasNextPage"] == false {
            break;
        }
        assert_eq!(conn["pageInfo"]["endCursor"], edges[edges.len() - 1]["cursor"]);
        after = conn["pageInfo"]["endCursor"].clone();
        assert!(pages < 10, "pagination does not end");
    }
    assert_eq!(pages, 3);
    let rest = c.get(&format!("/api/v1/companies?name[contains]={t}&industry=Technology&sort=-name&limit=200")).await;
    let rest_ids: Vec<String> = rest.body["data"].as_array().expect("data").iter().map(id).collect();
    assert_eq!(seen, rest_ids, "GraphQL pages = REST list");
    assert_eq!(seen.iter().cloned().collect::<BTreeSet<_>>(), tech.iter().cloned().collect::<BTreeSet<_>>());

    // Any edge's cursor continues right after that edge.
    let d = data(c, COMPANIES_PAGE, json!({ "filter": filter, "sort": "name" })).await;
    let first_cursor = d["companies"]["edges"][0]["cursor"].clone();
    let d = data(c, COMPANIES_PAGE, json!({ "filter": filter, "sort": "name", "after": first_cursor })).await;
    let mut ascending = seen.clone();
    ascending.reverse();
    assert_eq!(nodes(&d["companies"]).iter().map(id).collect::<Vec<_>>(), ascending[1..3].to_vec());

    // More operators: in, ne, is_null, q search; and totalCount only when asked for.
    let d = data(
        c,
        r#"query($t: String) { companies(filter: { name: { contains: $t }, industry: { in: ["Finance", "Retail"] } }, first: 50) {
             nodes { industry } } }"#,
        json!({ "t": t }),
    )
    .await;
    let mut industries: Vec<String> = d["companies"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["industry"].as_str().unwrap_or("").into())
        .collect();
    industries.sort();
    assert_eq!(industries, vec!["Finance", "Retail"]);
    let d = data(
        c,
        r#"query($t: String) { companies(q: $t, filter: { industry: { ne: "Technology" }, website: { is_null: true } }) {
             totalCount nodes { id } } }"#,
        json!({ "t": t }),
    )
    .await;
    assert_eq!(d["companies"]["totalCount"], 2, "{d}");

    // Deals: integer operators on money.
    let company = id(&c.company(json!({})).await);
    for amount in [100, 5_000, 9_000_000_000_i64] {
        c.deal(&company, json!({ "title": format!("{t} {amount}"), "amount": amount })).await;
    }
    let d = data(
        c,
        r#"query($c: ID) { deals(filter: { company_id: { eq: $c }, amount: { gte: 5000 } }, sort: "amount") { nodes { amount } } }"#,
        json!({ "c": company }),
    )
    .await;
    assert_eq!(d["deals"]["nodes"], json!([{ "amount": 5_000 }, { "amount": 9_000_000_000_i64 }]), "Int64 money");

    // Bad arguments: REST's codes, naming the argument.
    let e = error(c, "{ companies(first: 500) { nodes { id } } }", json!({})).await;
    assert_eq!(e["extensions"]["code"], "invalid_query", "{e}");
    assert_eq!(e["extensions"]["errors"][0]["field"], "first", "{e}");
    assert_eq!(e["extensions"]["errors"][0]["code"], "invalid_limit", "{e}");
    let e = error(c, r#"{ companies(sort: "notes") { nodes { id } } }"#, json!({})).await;
    assert_eq!(e["extensions"]["errors"][0]["field"], "sort", "{e}");
    let e = error(c, r#"{ companies(after: "garbage") { nodes { id } } }"#, json!({})).await;
    assert_eq!(e["extensions"]["errors"][0]["field"], "after", "{e}");
    // The filter types already refuse what cannot apply (`contains` on money).
    let e = error(c, r#"{ deals(filter: { amount: { contains: "1" } }) { nodes { id } } }"#, json!({})).await;
    assert!(e["message"].as_str().unwrap_or("").contains("contains"), "{e}");
    let e = error(c, r#"{ deals(filter: { stage: { in: [] } }) { nodes { id } } }"#, json!({})).await;
    assert_eq!(e["extensions"]["code"], "invalid_query", "{e}");
    assert_eq!(e["extensions"]["errors"][0]["field"], "stage[in]", "{e}");
    let e = error(c, r#"{ companies(filter: { industry: { eq: "Nope" } }) { nodes { id } } }"#, json!({})).await;
    assert_eq!(e["extensions"]["errors"][0]["code"], "invalid_option", "{e}");
    let e = error(c, r#"{ company(id: "not-a-uuid") { id } }"#, json!({})).await;
    assert_eq!(e["extensions"]["code"], "invalid_id", "{e}");
    let d = data(c, r#"query($id: ID!) { company(id: $id) { id } }"#, json!({ "id": uuid::Uuid::now_v7() })).await;
    assert_eq!(d["company"], Value::Null, "absent → null");
    // Unknown fields are GraphQL validation errors.
    let e = error(c, "{ companies { nodes { password_hash } } }", json!({})).await;
    assert!(e["message"].as_str().unwrap_or("").contains("password_hash"), "{e}");
    let e = error(c, "{ users { nodes { password_hash } } }", json!({})).await;
    assert!(e["message"].as_str().unwrap_or("").contains("password_hash"), "{e}");
}
both_backends!(lists_filter_sort_and_paginate);

const NESTED: &str = r#"
query($t: String) {
  companies(filter: { name: { contains: $t } }, first: 50, sort: "name") {
    nodes {
      id name
      owner { id name }
      contacts(sort: "last_name") { id last_name company { id } }
      deals(sort: "title") {
        id title
        company { id name }
        contact { id last_name }
        activities { id subject deal { id } }
      }
    }
  }
}"#;

/// Statements the server runs for `query` (the fewest of a few runs; a loader's batch
/// can split when the machine is very busy).
async fn statements(app: &TestApp, query: &str, variables: Value) -> (u64, Value) {
    let mut fewest = u64::MAX;
    let mut last = Value::Null;
    for _ in 0..4 {
        let before = app.service.db().statements();
        last = data(&app.admin, query, variables.clone()).await;
        fewest = fewest.min(app.service.db().statements() - before);
    }
    (fewest, last)
}

async fn seed_companies(app: &TestApp, t: &str, n: usize) {
    let c = &app.admin;
    for i in 0..n {
        let company = id(&c.company(json!({ "name": format!("{t} {i}") })).await);
        let mut contacts = Vec::new();
        for j in 0..2 {
            let contact =
                c.create("contacts", json!({ "last_name": format!("{t} {i}.{j}"), "company_id": company })).await;
            contacts.push(id(&contact));
        }
        for (j, contact) in contacts.iter().enumerate() {
            let deal = c.deal(&company, json!({ "title": format!("{t} {i}.{j}"), "contact_id": contact })).await;
            c.create("activities", json!({ "type": "Call", "subject": format!("{t} call"), "deal_id": id(&deal) }))
                .await;
        }
    }
}

async fn nested_relations_batch_statements(app: &TestApp) {
    let (small, large) = (tag(), tag());
    seed_companies(app, &small, 2).await;
    seed_companies(app, &large, 7).await;
    // The worker shares the database (and its statement counter): stop it to count ours.
    app.stop_workers().await;

    let (few, d) = statements(app, NESTED, json!({ "t": small })).await;
    let (many, big) = statements(app, NESTED, json!({ "t": large })).await;

    // The data is right: every nested list and reference belongs to its parent.
    let companies = big["companies"]["nodes"].as_array().expect("nodes");
    assert_eq!(companies.len(), 7);
    for company in companies {
        let cid = &company["id"];
        assert!(company["owner"]["id"].is_string(), "owner resolved: {company}");
        let contacts = company["contacts"].as_array().expect("contacts");
        assert_eq!(contacts.len(), 2);
        assert!(contacts.iter().all(|c| &c["company"]["id"] == cid));
        let deals = company["deals"].as_array().expect("deals");
        assert_eq!(deals.len(), 2);
        for deal in deals {
            assert_eq!(&deal["company"]["id"], cid);
            assert_eq!(deal["company"]["name"], company["name"]);
            assert!(contacts.iter().any(|c| c["id"] == deal["contact"]["id"]), "deal.contact is the company's: {deal}");
            let activities = deal["activities"].as_array().expect("activities");
            assert_eq!(activities.len(), 1);
            assert_eq!(activities[0]["deal"]["id"], deal["id"]);
        }
    }
    assert_eq!(d["companies"]["nodes"].as_array().map(Vec::len), Some(2));

    // No N+1: the statement count depends on the depth of the query, not on the rows.
    assert_eq!(few, many, "statements for 2 companies: {few}, for 7: {many}");
    assert!(many <= 20, "one statement or two per level, not per row: {many}");

    // A nested list's own arguments: limit, filter, and their validation.
    let d = data(
        &app.admin,
        r#"query($t: String) { companies(filter: { name: { contains: $t } }, first: 50) {
             nodes { deals(limit: 1, sort: "-title") { title } contacts(filter: { last_name: { contains: ".1" } }) { last_name } } } }"#,
        json!({ "t": small }),
    )
    .await;
    for company in d["companies"]["nodes"].as_array().expect("nodes") {
        assert_eq!(company["deals"].as_array().map(Vec::len), Some(1));
        assert!(company["deals"][0]["title"].as_str().unwrap_or("").ends_with(".1"), "{company}");
        assert_eq!(company["contacts"].as_array().map(Vec::len), Some(1));
    }
    let e = error(&app.admin, "{ companies { nodes { deals(limit: 0) { id } } } }", json!({})).await;
    assert_eq!(e["extensions"]["errors"][0]["field"], "limit", "{e}");
}
both_backends!(nested_relations_batch_statements);

async fn depth_and_complexity_are_limited(app: &TestApp) {
    let c = &app.admin;
    let deep = "{ deals { nodes { company { deals { company { deals { company { deals { company { deals { company { id } } } } } } } } } } } }";
    let e = error(c, deep, json!({})).await;
    assert!(e["message"].as_str().unwrap_or("").contains("nested too deep"), "{e}");

    let fields: Vec<String> = (0..600).map(|i| format!("f{i}: id")).collect();
    let wide = format!("{{ companies {{ nodes {{ {} }} }} }}", fields.join(" "));
    let e = error(c, &wide, json!({})).await;
    assert!(e["message"].as_str().unwrap_or("").contains("too complex"), "{e}");

    // Within the limits, the same shapes pass.
    data(c, "{ deals { nodes { company { deals { company { id } } } } } }", json!({})).await;
}
both_backends!(depth_and_complexity_are_limited);

async fn mutations_use_the_write_path(app: &TestApp) {
    let c = &app.admin;
    let t = tag();
    let created = data(
        c,
        r#"mutation($input: CompanyInput!) { createCompany(input: $input) { id name industry version owner { id } } }"#,
        json!({ "input": { "name": format!("{t} Inc"), "industry": "Finance", "domain": format!("{t}.example.com") } }),
    )
    .await["createCompany"]
        .clone();
    assert_eq!(created["version"], 1);
    let company = id(&created);
    let rest = c.get(&format!("/api/v1/companies/{company}")).await;
    assert_eq!(rest.status, StatusCode::OK);
    assert_eq!(rest.body["name"], format!("{t} Inc"));

    // Validation: REST's code and per-field errors in extensions.
    let e = error(c, r#"mutation { createCompany(input: { industry: "Nope" }) { id } }"#, json!({})).await;
    assert_eq!(e["extensions"]["code"], "validation_failed", "{e}");
    assert_eq!(e["extensions"]["status"], 422);
    let fields: BTreeSet<String> = e["extensions"]["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|f| f["field"].as_str().map(str::to_string))
        .collect();
    assert_eq!(fields, BTreeSet::from(["name".to_string(), "industry".to_string()]), "{e}");
    let e = error(
        c,
        r#"mutation($d: String) { createCompany(input: { name: "Dup", domain: $d }) { id } }"#,
        json!({ "d": format!("{t}.example.com") }),
    )
    .await;
    assert_eq!(e["extensions"]["code"], "validation_failed", "{e}");
    assert_eq!(e["extensions"]["errors"][0]["field"], "domain", "{e}");

    // Update with expectedVersion (If-Match): current → ok; stale → version_mismatch.
    const UPDATE: &str = r#"mutation($id: ID!, $v: Int, $input: CompanyInput!) {
        updateCompany(id: $id, expectedVersion: $v, input: $input) { id city version } }"#;
    let d = data(c, UPDATE, json!({ "id": company, "v": 1, "input": { "city": "Oslo" } })).await;
    assert_eq!(d["updateCompany"]["version"], 2);
    assert_eq!(d["updateCompany"]["city"], "Oslo");
    let e = error(c, UPDATE, json!({ "id": company, "v": 1, "input": { "city": "Bergen" } })).await;
    assert_eq!(e["extensions"]["code"], "version_mismatch", "{e}");
    assert_eq!(e["extensions"]["status"], 412);
    assert_eq!(e["extensions"]["current_version"], 2);
    // Null clears a field; fields not given stay.
    let d = data(c, UPDATE, json!({ "id": company, "input": { "city": null } })).await;
    assert_eq!(d["updateCompany"]["city"], Value::Null);
    assert_eq!(c.get(&format!("/api/v1/companies/{company}")).await.body["industry"], "Finance");

    // Delete moves to the trash, as REST's DELETE.
    let d = data(c, r#"mutation($id: ID!) { deleteCompany(id: $id) }"#, json!({ "id": company })).await;
    assert_eq!(d["deleteCompany"], true);
    let rest = c.get(&format!("/api/v1/companies/{company}")).await;
    assert!(rest.body["deleted_at"].is_string(), "{}", rest.text);
    let d = data(c, r#"{ companies(trashed: true, first: 200) { nodes { id } } }"#, json!({})).await;
    assert!(nodes_ids(&d["companies"]).contains(&company));
    let e = error(c, UPDATE, json!({ "id": company, "input": { "city": "Oslo" } })).await;
    assert_eq!(e["extensions"]["code"], "in_trash", "{e}");

    // The change log recorded the GraphQL writes like any other.
    let audit = c.get(&format!("/api/v1/audit?record_id={company}")).await;
    assert_eq!(audit.status, StatusCode::OK, "{}", audit.text);
    assert!(audit.body["data"].as_array().map_or(0, Vec::len) >= 3, "{}", audit.text);
}
both_backends!(mutations_use_the_write_path);

fn nodes_ids(conn: &Value) -> BTreeSet<String> {
    conn["nodes"].as_array().map(|n| n.iter().map(id).collect()).unwrap_or_default()
}

async fn reps_see_what_rest_shows_them(app: &TestApp) {
    let east = app.team("East").await;
    let west = app.team("West").await;
    let (r1, rep) = app.member(Role::Rep, &east).await;
    let (r2, _) = app.member(Role::Rep, &east).await;
    let (r3, _) = app.member(Role::Rep, &west).await;
    let (_, manager) = app.member(Role::Manager, &east).await;
    let company = id(&app.admin.company(json!({ "owner_id": id(&r1) })).await);
    let own = id(&app.admin.deal(&company, json!({ "owner_id": id(&r1), "amount": 5_000 })).await);
    let mate = id(&app.admin.deal(&company, json!({ "owner_id": id(&r2), "amount": 7_000 })).await);
    let other = id(&app.admin.deal(&company, json!({ "owner_id": id(&r3), "amount": 9_000 })).await);

    for (who, client) in [("rep", &rep), ("manager", &manager), ("admin", &app.admin)] {
        let rest = client.get("/api/v1/deals?limit=200").await;
        assert_eq!(rest.status, StatusCode::OK);
        let d = data(client, "{ deals(first: 200) { totalCount nodes { id amount _redacted } } }", json!({})).await;
        let gql_nodes = d["deals"]["nodes"].as_array().cloned().unwrap_or_default();
        let rest_rows = rest.body["data"].as_array().cloned().unwrap_or_default();
        assert_eq!(gql_nodes.len(), rest_rows.len(), "{who}: same rows");
        assert_eq!(d["deals"]["totalCount"], rest_rows.len());
        for (g, r) in gql_nodes.iter().zip(&rest_rows) {
            assert_eq!(g["id"], r["id"], "{who}: same order");
            assert_eq!(g["amount"], r["amount"], "{who}: same amount for {}", r["id"]);
            assert_eq!(g["_redacted"], r.get("_redacted").cloned().unwrap_or(Value::Null), "{who}");
        }
    }
    let d = data(&rep, "{ deals(first: 200) { nodes { id amount _redacted } } }", json!({})).await;
    let by_id = |i: &str| d["deals"]["nodes"].as_array().and_then(|n| n.iter().find(|x| x["id"] == i).cloned());
    assert_eq!(by_id(&own).expect("own deal")["amount"], 5_000);
    assert_eq!(by_id(&mate).expect("teammate's deal")["amount"], Value::Null);
    assert_eq!(by_id(&mate).expect("teammate's deal")["_redacted"], json!(["amount"]));
    assert!(by_id(&other).is_none(), "another team's deal is absent");
    let d = data(&rep, "query($id: ID!) { deal(id: $id) { id } }", json!({ "id": other })).await;
    assert_eq!(d["deal"], Value::Null);

    // Nested lists apply the same scope and redactions.
    let d = data(
        &rep,
        "query($id: ID!) { company(id: $id) { deals(sort: \"title\") { id amount } owner { id } } }",
        json!({ "id": company }),
    )
    .await;
    let nested: BTreeSet<String> = d["company"]["deals"].as_array().expect("deals").iter().map(id).collect();
    assert_eq!(nested, BTreeSet::from([own.clone(), mate.clone()]));
    for deal in d["company"]["deals"].as_array().expect("deals") {
        let want = if deal["id"] == own.as_str() { json!(5_000) } else { Value::Null };
        assert_eq!(deal["amount"], want);
    }
    // A filter or sort on a redacted field cannot reveal it.
    let d = data(&rep, "{ deals(filter: { amount: { gte: 6000 } }) { totalCount } }", json!({})).await;
    assert_eq!(d["deals"]["totalCount"], 0);
    let e = error(&rep, r#"{ deals(sort: "-amount") { nodes { id } } }"#, json!({})).await;
    assert_eq!(e["extensions"]["code"], "forbidden", "{e}");

    // Writes: the same policy as REST.
    let e = error(&rep, "mutation($id: ID!) { deleteDeal(id: $id) }", json!({ "id": own })).await;
    assert_eq!(e["extensions"]["code"], "forbidden", "{e}");
    let e =
        error(&rep, "mutation($id: ID!) { updateDeal(id: $id, input: { amount: 1 }) { id } }", json!({ "id": mate }))
            .await;
    assert_eq!(e["extensions"]["code"], "forbidden", "{e}");
    let e = error(
        &rep,
        "mutation($id: ID!) { updateDeal(id: $id, input: { title: \"x\" }) { id } }",
        json!({ "id": other }),
    )
    .await;
    assert_eq!(e["extensions"]["code"], "not_found", "{e}");
    let d = data(
        &rep,
        "mutation($id: ID!) { updateDeal(id: $id, input: { priority: \"High\" }) { priority } }",
        json!({ "id": own }),
    )
    .await;
    assert_eq!(d["updateDeal"]["priority"], "High");
    let e = error(&manager, "mutation { createTeam(input: { name: \"x\" }) { id } }", json!({})).await;
    assert!(e["message"].as_str().unwrap_or("").contains("createTeam"), "no mutations on the directory: {e}");
}
both_backends!(reps_see_what_rest_shows_them);

async fn unauthenticated_and_malformed_requests_are_refused(app: &TestApp) {
    let anon = app.anonymous();
    let res = gql(&anon, "{ companies { nodes { id } } }", json!({})).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{}", res.text);
    assert_eq!(res.body["errors"][0]["extensions"]["code"], "unauthenticated", "{}", res.text);
    assert!(res.body.get("data").is_none());
    let mut bad = app.anonymous();
    bad.token = Some("not-a-token".into());
    let res = gql(&bad, "{ companies { nodes { id } } }", json!({})).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{}", res.text);

    let c = &app.admin;
    let res = c.send_raw(reqwest::Method::POST, "/api/graphql", "text/plain", b"{}".to_vec()).await;
    assert_eq!(res.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", res.text);
    assert_eq!(res.body["errors"][0]["extensions"]["code"], "unsupported_media_type");
    let res = c.post("/api/graphql", json!({ "query": 42 })).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST, "{}", res.text);
    assert_eq!(res.body["errors"][0]["extensions"]["code"], "invalid_graphql_request");
    let res = gql(c, "{ companies { ", json!({})).await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.body["errors"][0]["message"].is_string(), "syntax errors are GraphQL errors: {}", res.text);
    let res = gql(c, r#"{ companies(filter: { name: { contains: "a\u0000b" } }) { nodes { id } } }"#, json!({})).await;
    assert_eq!(res.body["errors"][0]["extensions"]["code"], "invalid_query", "NUL is refused: {}", res.text);

    // The session cookie works as in REST, with the same CSRF origin check.
    let (user, _) = app.user(Role::Rep).await;
    let login = anon
        .post("/api/v1/auth/login", json!({ "email": user["email"], "password": "correct horse battery staple" }))
        .await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.text);
    let cookie = login.header("set-cookie").and_then(|c| c.split(';').next()).expect("session cookie").to_string();
    let body = json!({ "query": "{ companies { totalCount } }" });
    let headers = [("cookie", cookie.as_str()), ("origin", "https://evil.example")];
    let res = anon.send(reqwest::Method::POST, "/api/graphql", Some(body.clone()), &headers).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.text);
    assert_eq!(res.body["errors"][0]["extensions"]["code"], "csrf_rejected");
    let headers = [("cookie", cookie.as_str()), ("origin", app.base.as_str())];
    let res = anon.send(reqwest::Method::POST, "/api/graphql", Some(body), &headers).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert!(res.body["data"]["companies"]["totalCount"].is_number(), "{}", res.text);

    // The schema in force, for signed-in users only.
    let sdl = c.get("/api/graphql/schema.graphql").await;
    assert_eq!(sdl.status, StatusCode::OK);
    assert!(sdl.text.contains("type Deal {"), "{}", sdl.text);
    assert_eq!(anon.get("/api/graphql/schema.graphql").await.status, StatusCode::UNAUTHORIZED);
}

/// The explorer page is our own files under the API's strict CSP: no inline script, no CDN.
async fn explorer_works_offline_under_the_csp(app: &TestApp) {
    let anon = app.anonymous();
    let page = anon.get("/api/graphql").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.header("content-type").unwrap_or("").starts_with("text/html"));
    let csp = page.header("content-security-policy").unwrap_or("").to_string();
    assert!(csp.contains("default-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");
    assert!(!page.text.contains("http://") && !page.text.contains("https://"), "nothing from elsewhere");
    assert!(!page.text.contains("<script>"), "no inline script");
    // The full GraphiQL is a page of the web app; this lightweight explorer links to it.
    assert!(page.text.contains(r#"href="/graphiql""#), "the page links to GraphiQL");
    for (path, kind) in [("/api/graphql/explorer.js", "text/javascript"), ("/api/graphql/explorer.css", "text/css")] {
        assert!(page.text.contains(path), "the page loads {path}");
        let res = anon.get(path).await;
        assert_eq!(res.status, StatusCode::OK, "{path}");
        assert!(res.header("content-type").unwrap_or("").starts_with(kind), "{path}");
        assert!(!res.text.contains("https://"), "{path} fetches nothing from elsewhere");
    }
}
both_backends!(explorer_works_offline_under_the_csp);
both_backends!(unauthenticated_and_malformed_requests_are_refused);

/// `docs/schema.graphql` is the SDL of the built-in schema, as `keel graphql-schema`
/// prints it. After changing the metadata, regenerate it with that command (or run this
/// test with `KEEL_WRITE_SDL=1`).
#[test]
fn committed_sdl_matches_a_fresh_export() {
    let fresh = keel_api::graphql::sdl(&keel_domain::schema::builtin_schema()).expect("the schema builds");
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/schema.graphql");
    if std::env::var("KEEL_WRITE_SDL").is_ok_and(|v| v == "1") {
        std::fs::write(path, &fresh).expect("write docs/schema.graphql");
    }
    let committed = std::fs::read_to_string(path).expect("docs/schema.graphql exists");
    assert!(committed == fresh, "docs/schema.graphql is stale: run `keel graphql-schema > docs/schema.graphql`");
    for t in ["type Company {", "type DealConnection {", "input DealFilter {", "createDeal(", "scalar Int64"] {
        assert!(fresh.contains(t), "the SDL has `{t}`");
    }
}
