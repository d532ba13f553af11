//! Export controls (issue 3, item 5): CSV exports of list views through the real HTTP API
//! on both databases — the watermark, the header from the metadata, exactly the rows and
//! cells the list shows the same actor, who may export, the per-export and per-day limits,
//! the audit entries, bad input, and values that must survive CSV (and spreadsheets).

use keel_domain::policy::Role;
use keel_domain::schema::builtin_schema;
use keel_domain::value::{Record, Value as V};
use keel_testkit::{Client, TestApp, both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// An export, parsed: the watermark line, the header, the rows.
struct Csv {
    watermark: String,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Csv {
    fn column(&self, name: &str) -> usize {
        self.header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}"))
    }
    fn ids(&self) -> Vec<String> {
        let id = self.column("id");
        self.rows.iter().map(|r| r[id].clone()).collect()
    }
}

fn parse(text: &str) -> Csv {
    let (watermark, rest) = text.split_once("\r\n").expect("a watermark line ending in CRLF");
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(rest.as_bytes());
    let header = reader.headers().expect("header").iter().map(str::to_string).collect();
    let rows =
        reader.records().map(|r| r.expect("a well-formed CSV row").iter().map(str::to_string).collect()).collect();
    Csv { watermark: watermark.to_string(), header, rows }
}

/// Export `path` (`/api/v1/{entity}/export.csv?…`) and expect a CSV download.
async fn export(client: &Client, path: &str) -> Csv {
    let res = client.get(path).await;
    assert_eq!(res.status, StatusCode::OK, "export {path}: {}", res.text);
    assert_eq!(res.header("content-type"), Some("text/csv; charset=utf-8"));
    let disposition = res.header("content-disposition").expect("content-disposition");
    let entity = path.trim_start_matches("/api/v1/").split('/').next().expect("entity");
    assert!(
        disposition.starts_with(&format!("attachment; filename=\"{entity}-")) && disposition.ends_with(".csv\""),
        "{disposition}"
    );
    let csv = parse(&res.text);
    assert_eq!(res.header("x-export-rows"), Some(csv.rows.len().to_string().as_str()));
    csv
}

/// Every page of a list, as the JSON API shows it to `client`.
async fn list_all(client: &Client, entity: &str, query: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/api/v1/{entity}?{query}&limit=200");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let res = client.get(&path).await;
        assert_eq!(res.status, StatusCode::OK, "list {path}: {}", res.text);
        out.extend(res.body["data"].as_array().expect("data").iter().cloned());
        match res.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return out,
        }
    }
}

/// What the export must hold in a cell for a JSON API value.
fn expected_cell(v: &Value) -> String {
    let text = match v {
        Value::Null => return String::new(),
        Value::String(s) => s.clone(),
        other => return other.to_string(),
    };
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{text}") } else { text }
}

/// The export holds exactly the list's records, in the list's order, each cell formatted
/// from the list's JSON (so redaction — null in JSON — is an empty cell).
fn assert_same_as_list(csv: &Csv, list: &[Value]) {
    assert_eq!(csv.rows.len(), list.len(), "row count");
    for (row, record) in csv.rows.iter().zip(list) {
        for (i, column) in csv.header.iter().enumerate() {
            assert_eq!(row[i], expected_cell(&record[column]), "{column} of {}", record["id"]);
        }
        for hidden in record["_redacted"].as_array().into_iter().flatten() {
            let name = hidden.as_str().expect("field name");
            assert_eq!(row[csv.column(name)], "", "redacted {name} must be an empty cell");
        }
    }
}

fn header_of(entity: &str) -> Vec<String> {
    let schema = builtin_schema();
    schema.entity(entity).expect("entity").visible_fields().map(|f| f.name.clone()).collect()
}

async fn exports_in_audit(app: &TestApp, user_id: &str) -> Vec<Value> {
    let res = app.admin.get(&format!("/api/v1/audit?action=export.completed&user_id={user_id}&limit=100")).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    res.body["data"].as_array().expect("data").clone()
}

async fn me(client: &Client) -> Value {
    client.get("/api/v1/auth/me").await.body
}

async fn admin_export_of_a_filtered_list(app: &TestApp) {
    let tricky = [
        "Comma, Quote \"Inc\"",
        "Line one\nline two\r\nthree",
        "=HYPERLINK(\"http://evil.example\",\"click\")",
        "+1+2",
        "-3+4",
        "@SUM(A1)",
    ];
    let mut wanted = Vec::new();
    for (i, name) in tricky.iter().enumerate() {
        let c = app.admin.company(json!({ "name": name, "industry": "Technology", "city": format!("City {i}") })).await;
        wanted.push(c["id"].as_str().expect("id").to_string());
    }
    app.admin.company(json!({ "industry": "Finance" })).await;
    app.admin.company(json!({ "industry": "Finance", "name": "=not exported" })).await;
    let company = app.admin.company(json!({ "industry": "Finance" })).await;
    let deal = app
        .admin
        .deal(company["id"].as_str().expect("id"), json!({ "amount": 1_234_567, "expected_close_date": "2027-03-31" }))
        .await;

    let query = "industry=Technology&sort=name";
    let before = OffsetDateTime::now_utc() - time::Duration::seconds(5);
    let csv = export(&app.admin, &format!("/api/v1/companies/export.csv?{query}")).await;

    // The watermark: who, when, which list.
    let admin = me(&app.admin).await;
    let prefix = format!(
        "# Exported by {} ({}) at ",
        admin["email"].as_str().expect("email"),
        admin["id"].as_str().expect("id")
    );
    assert!(csv.watermark.starts_with(&prefix), "{}", csv.watermark);
    let suffix = format!(" from /api/v1/companies?{query}");
    assert!(csv.watermark.ends_with(&suffix), "{}", csv.watermark);
    let at = &csv.watermark[prefix.len()..csv.watermark.len() - suffix.len()];
    assert!(at.ends_with('Z'), "UTC: {at}");
    let at = OffsetDateTime::parse(at, &Rfc3339).expect("RFC 3339 time");
    assert!(
        at >= before.replace_nanosecond(0).expect("time")
            && at <= OffsetDateTime::now_utc() + time::Duration::minutes(1)
    );

    // The header is the metadata's visible fields; the rows are exactly the matches.
    assert_eq!(csv.header, header_of("companies"));
    let mut ids = csv.ids();
    ids.sort();
    wanted.sort();
    assert_eq!(ids, wanted);
    let list = list_all(&app.admin, "companies", query).await;
    assert_same_as_list(&csv, &list);

    // Values survive CSV quoting, and formula-like text is neutralised with a `'`.
    let name = csv.column("name");
    let mut names: Vec<&str> = csv.rows.iter().map(|r| r[name].as_str()).collect();
    names.sort();
    let mut expected: Vec<String> = tricky.iter().map(|t| expected_cell(&json!(t))).collect();
    expected.sort();
    assert_eq!(names, expected);
    for n in
        ["'=HYPERLINK(\"http://evil.example\",\"click\")", "'+1+2", "'-3+4", "'@SUM(A1)", "Line one\nline two\r\nthree"]
    {
        assert!(names.contains(&n), "{n} in {names:?}");
    }

    // Money is integer minor units next to its currency; dates are ISO.
    let deals = export(&app.admin, &format!("/api/v1/deals/export.csv?id={}", deal["id"].as_str().expect("id"))).await;
    assert_eq!(deals.header, header_of("deals"));
    assert_eq!(deals.rows.len(), 1);
    assert_eq!(deals.rows[0][deals.column("amount")], "1234567");
    assert_eq!(deals.rows[0][deals.column("currency")], "USD");
    assert_eq!(deals.rows[0][deals.column("expected_close_date")], "2027-03-31");

    // Each export is in the audit log with its entity, query and count.
    let audited = exports_in_audit(app, admin["id"].as_str().expect("id")).await;
    assert_eq!(audited.len(), 2, "{audited:?}");
    let companies = audited.iter().find(|e| e["entity"] == "companies").expect("companies export audited");
    assert_eq!(companies["details"]["count"], json!(tricky.len()));
    assert_eq!(companies["details"]["query"], json!(query));
    let deals_entry = audited.iter().find(|e| e["entity"] == "deals").expect("deals export audited");
    assert_eq!(deals_entry["details"]["count"], json!(1));

    // The chain still verifies with export entries in it.
    let verify = app.admin.get("/api/v1/audit/verify").await;
    assert_eq!(verify.status, StatusCode::OK, "{}", verify.text);
}
both_backends!(admin_export_of_a_filtered_list);

async fn managers_export_their_team_and_reps_may_not(app: &TestApp) {
    let east = app.team("East").await;
    let west = app.team("West").await;
    let (m, manager) = app.member(Role::Manager, &east).await;
    let (r1, rep) = app.member(Role::Rep, &east).await;
    let (r3, _) = app.member(Role::Rep, &west).await;
    let id = |v: &Value| v["id"].as_str().expect("id").to_string();
    let company = id(&app.admin.company(json!({})).await);
    let mut east_deals = Vec::new();
    for owner in [id(&m), id(&r1), id(&r1)] {
        east_deals.push(id(&app.admin.deal(&company, json!({ "owner_id": owner, "title": "East deal" })).await));
    }
    let west_deal = id(&app.admin.deal(&company, json!({ "owner_id": id(&r3), "title": "West deal" })).await);

    // The manager's export: their team's deals only, exactly as their list shows them.
    let csv = export(&manager, "/api/v1/deals/export.csv?sort=-amount").await;
    let mut ids = csv.ids();
    ids.sort();
    east_deals.sort();
    assert_eq!(ids, east_deals);
    assert!(!csv.ids().contains(&west_deal));
    let list = list_all(&manager, "deals", "sort=-amount").await;
    assert_same_as_list(&csv, &list);
    assert!(csv.watermark.contains(&format!("({})", id(&m))), "{}", csv.watermark);

    // Filters narrow within the scope, never widen it.
    let csv = export(&manager, &format!("/api/v1/deals/export.csv?owner_id={}", id(&r3))).await;
    assert!(csv.rows.is_empty(), "another team's deals by filter: {:?}", csv.rows);

    // Reps cannot bulk export: 403, and nothing is audited.
    let res = rep.get("/api/v1/deals/export.csv").await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.text);
    assert_eq!(res.body["code"], "forbidden");
    let res = rep.get("/api/v1/companies/export.csv?name[contains]=x").await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.text);
    assert!(exports_in_audit(app, &id(&r1)).await.is_empty());

    // Managers export CRM records, not the user directory.
    let res = manager.get("/api/v1/users/export.csv").await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.text);
    assert_eq!(exports_in_audit(app, &id(&m)).await.len(), 2);

    // Admins export everything.
    let csv = export(&app.admin, "/api/v1/deals/export.csv").await;
    assert_eq!(csv.rows.len(), 4);
    let users = export(&app.admin, "/api/v1/users/export.csv").await;
    assert_eq!(users.header, header_of("users"));
    assert!(!users.header.iter().any(|h| h.contains("password")), "{:?}", users.header);
}
both_backends!(managers_export_their_team_and_reps_may_not);

/// `n` companies owned by `owner`, written straight through the trusted loader (fast).
async fn load_companies(app: &TestApp, owner: &str, n: usize, prefix: &str) {
    let owner = uuid::Uuid::parse_str(owner).expect("owner id");
    let now = keel_domain::value::truncate_to_micros(OffsetDateTime::now_utc());
    let batch: Vec<Record> = (0..n)
        .map(|i| {
            let mut r = Record::new();
            r.set("id", V::Uuid(uuid::Uuid::now_v7()));
            r.set("created_at", V::Timestamp(now));
            r.set("updated_at", V::Timestamp(now));
            r.set("version", V::Int(1));
            r.set("owner_id", V::Uuid(owner));
            r.set("name", V::Text(format!("{prefix} {i:05}")));
            r.set("industry", V::Text(if i % 2 == 0 { "Retail" } else { "Finance" }.into()));
            r
        })
        .collect();
    app.service.load_trusted("companies", &batch).await.expect("load companies");
}

async fn export_limits(app: &TestApp) {
    let team = app.team("Big").await;
    let (m, manager) = app.member(Role::Manager, &team).await;
    let (r, _) = app.member(Role::Rep, &team).await;
    let m_id = m["id"].as_str().expect("id").to_string();
    load_companies(app, r["id"].as_str().expect("id"), 1001, "Bulk").await;

    // More than 1,000 matching rows: refused, naming the count and the limit; not audited.
    let res = manager.get("/api/v1/companies/export.csv").await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    assert_eq!(res.body["code"], "export_too_large");
    assert_eq!(res.body["count"], 1001);
    assert_eq!(res.body["limit"], 1000);
    assert!(res.text.contains("1001") && res.text.contains("1000") && res.text.contains("filter"), "{}", res.text);
    assert!(exports_in_audit(app, &m_id).await.is_empty());

    // Admins are not limited, and the export pages through every row exactly once, in order.
    let csv = export(&app.admin, "/api/v1/companies/export.csv?sort=name").await;
    assert_eq!(csv.rows.len(), 1001);
    let name = csv.column("name");
    let names: Vec<&str> = csv.rows.iter().map(|r| r[name].as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(names, sorted, "sorted by name, no duplicates");

    // A narrower filter fits: five exports a day...
    for _ in 0..5 {
        let csv = export(&manager, "/api/v1/companies/export.csv?industry=Finance").await;
        assert_eq!(csv.rows.len(), 500);
    }
    let audited = exports_in_audit(app, &m_id).await;
    assert_eq!(audited.len(), 5);
    assert!(audited.iter().all(|e| e["details"]["count"] == 500 && e["entity"] == "companies"), "{audited:?}");

    // ...and the sixth is refused until the oldest of them is a day old.
    let res = manager.get("/api/v1/companies/export.csv?industry=Finance").await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS, "{}", res.text);
    assert_eq!(res.body["code"], "export_limit_reached");
    let retry: u64 = res.header("retry-after").expect("Retry-After").parse().expect("seconds");
    assert!((86_000..=86_400).contains(&retry), "retry after {retry}");
    assert_eq!(exports_in_audit(app, &m_id).await.len(), 5);

    // Admins have no daily limit.
    for _ in 0..6 {
        export(&app.admin, "/api/v1/companies/export.csv?industry=Retail&limit=5").await;
    }

    app.clock.advance(time::Duration::seconds(i64::try_from(retry).expect("secs") + 1));
    let csv = export(&manager, "/api/v1/companies/export.csv?industry=Finance").await;
    assert_eq!(csv.rows.len(), 500);
}
both_backends!(export_limits);

async fn bad_exports_are_refused_like_lists(app: &TestApp) {
    app.admin.company(json!({})).await;
    for query in ["nope=1", "amount[gt]=abc", "sort=nope", "name[regex]=x", "trashed=maybe"] {
        let entity = if query.starts_with("amount") { "deals" } else { "companies" };
        let list = app.admin.get(&format!("/api/v1/{entity}?{query}")).await;
        let res = app.admin.get(&format!("/api/v1/{entity}/export.csv?{query}")).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{query}: {}", res.text);
        assert_eq!(res.body["code"], "invalid_query");
        assert_eq!(res.error_fields(), list.error_fields(), "{query}");
    }
    let res = app.admin.get("/api/v1/nothing/export.csv").await;
    assert_eq!(res.status, StatusCode::NOT_FOUND, "{}", res.text);
    let res = app.anonymous().get("/api/v1/companies/export.csv").await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{}", res.text);
    // Paging parameters are ignored, not errors: the file holds every row.
    let csv = export(&app.admin, "/api/v1/companies/export.csv?limit=1&cursor=garbage&count=true").await;
    assert_eq!(csv.rows.len(), 1);
    let admin = me(&app.admin).await;
    assert_eq!(exports_in_audit(app, admin["id"].as_str().expect("id")).await.len(), 1);
}
both_backends!(bad_exports_are_refused_like_lists);

async fn exports_are_audited_before_streaming_and_limits_hold_in_parallel(app: &TestApp) {
    let team = app.team("Race").await;
    let (m, manager) = app.member(Role::Manager, &team).await;
    let m_id = m["id"].as_str().expect("id").to_string();
    load_companies(app, &m_id, 700, "Race").await;

    // A client that takes the headers and hangs up: the export is already recorded in full.
    let token = manager.token.clone().expect("token");
    let res = reqwest::Client::new()
        .get(format!("{}/api/v1/companies/export.csv", app.base))
        .bearer_auth(&token)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::OK);
    drop(res);
    let audited = exports_in_audit(app, &m_id).await;
    assert_eq!(audited.len(), 1);
    assert_eq!(audited[0]["details"]["count"], 700);

    // Eight exports at once with four left: exactly four get through.
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let client = manager.clone();
        tasks
            .push(tokio::spawn(async move { client.get("/api/v1/companies/export.csv?industry=Retail").await.status }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.expect("task"));
    }
    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let limited = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!((ok, limited), (4, 4), "{statuses:?}");
    assert_eq!(exports_in_audit(app, &m_id).await.len(), 5);
}
both_backends!(exports_are_audited_before_streaming_and_limits_hold_in_parallel);

async fn exports_choose_columns_and_excel_bom(app: &TestApp) {
    app.admin.company(json!({ "name": "Ünïcode GmbH", "industry": "Retail" })).await;
    // The list view's columns, in its order.
    let csv = export(&app.admin, "/api/v1/companies/export.csv?columns=name,industry,owner_id").await;
    assert_eq!(csv.header, ["name", "industry", "owner_id"]);
    assert_eq!(csv.rows, [vec!["Ünïcode GmbH".to_string(), "Retail".into(), csv.rows[0][2].clone()]]);
    assert!(!csv.watermark.starts_with('\u{feff}'));

    // Excel reads UTF-8 only after a byte-order mark.
    let res = app.admin.get("/api/v1/companies/export.csv?bom=true&columns=name").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert!(res.text.starts_with("\u{feff}# Exported by"), "{:?}", &res.text[..20]);
    let csv = parse(res.text.trim_start_matches('\u{feff}'));
    assert_eq!(csv.rows, [vec!["Ünïcode GmbH".to_string()]]);

    // Unknown or hidden columns and a bad flag are refused, naming the parameter.
    for (query, field) in [
        ("columns=name,nope", "columns"),
        ("columns=password_hash", "columns"),
        ("columns=", "columns"),
        ("bom=maybe", "bom"),
    ] {
        let res = app.admin.get(&format!("/api/v1/companies/export.csv?{query}")).await;
        assert!(res.status.is_client_error(), "{query}: {} {}", res.status, res.text);
        assert_eq!(res.error_fields(), vec![field.to_string()], "{query}: {}", res.text);
    }
}
both_backends!(exports_choose_columns_and_excel_bom);
