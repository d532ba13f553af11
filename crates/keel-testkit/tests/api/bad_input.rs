//! Hostile and broken input over HTTP: every case is a 4xx problem+json with a stable
//! `code`, never a 500 or a panic, and leaves the data as it was.

use keel_testkit::{Client, Response, TestApp, both_backends};
use reqwest::{Method, StatusCode};
use serde_json::json;

/// A problem+json answer with `status` and, when given, `code`.
fn assert_problem(res: &Response, status: StatusCode, code: Option<&str>) {
    assert_eq!(res.status, status, "expected {status}: {}", res.text);
    let ct = res.header("content-type").unwrap_or_default();
    assert!(ct.starts_with("application/problem+json"), "content-type {ct:?} for {}", res.text);
    assert!(res.body["code"].is_string(), "no code in {}", res.text);
    assert_eq!(res.body["status"], status.as_u16(), "{}", res.text);
    if let Some(code) = code {
        assert_eq!(res.body["code"], code, "{}", res.text);
    }
}

fn assert_fields(res: &Response, field: &str) {
    assert!(res.error_fields().iter().any(|f| f == field), "expected an error naming `{field}`: {}", res.text);
}

async fn count(app: &TestApp, entity: &str) -> i64 {
    let res = app.admin.get(&format!("/api/v1/{entity}?count=true&limit=1")).await;
    assert_eq!(res.status, StatusCode::OK, "count {entity}: {}", res.text);
    res.body["total"].as_i64().unwrap_or_else(|| panic!("no total in {}", res.text))
}

/// Percent-encode every byte but unreserved ones, for query values.
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Unpadded base64url, to forge list cursors.
fn b64url(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

fn names(res: &Response) -> Vec<String> {
    let mut v: Vec<String> = res.body["data"]
        .as_array()
        .unwrap_or_else(|| panic!("no data in {}", res.text))
        .iter()
        .filter_map(|r| r["name"].as_str().map(str::to_string))
        .collect();
    v.sort();
    v
}

// ---------------------------------------------------------------- bodies

async fn broken_bodies_are_4xx_problems(app: &TestApp) {
    let company = app.admin.company(json!({ "city": "Lyon" })).await;
    let cpath = format!("/api/v1/companies/{}", company["id"].as_str().expect("id"));
    let before = count(app, "companies").await;
    let a = &app.admin;

    for path in ["/api/v1/companies", cpath.as_str()] {
        let method = if path == "/api/v1/companies" { Method::POST } else { Method::PATCH };
        let send = |ct: &'static str, body: Vec<u8>| a.send_raw(method.clone(), path, ct, body);

        let res = send("application/json", br#"{"name": "#.to_vec()).await;
        assert_problem(&res, StatusCode::BAD_REQUEST, Some("malformed_json"));
        let res = send("application/json", Vec::new()).await;
        assert_problem(&res, StatusCode::BAD_REQUEST, Some("malformed_json"));
        let res = send("application/json", br#"{"name": "x",}"#.to_vec()).await;
        assert_problem(&res, StatusCode::BAD_REQUEST, Some("malformed_json"));
        let res = send("application/json", br#"{"name": "x"} trailing"#.to_vec()).await;
        assert_problem(&res, StatusCode::BAD_REQUEST, Some("malformed_json"));
        // Numbers JSON cannot hold, and nesting deep enough to blow a naive parser's stack.
        let res = send("application/json", br#"{"name": "x", "amount": 1e400}"#.to_vec()).await;
        assert_problem(&res, StatusCode::BAD_REQUEST, Some("malformed_json"));
        let deep = format!("{{\"name\": {}{}}}", "[".repeat(100_000), "]".repeat(100_000));
        let res = send("application/json", deep.into_bytes()).await;
        assert_problem(&res, StatusCode::BAD_REQUEST, Some("malformed_json"));

        for not_object in [&b"[]"[..], br#"[{"name": "x"}]"#, br#""x""#, b"null", b"42"] {
            let res = send("application/json", not_object.to_vec()).await;
            assert_problem(&res, StatusCode::BAD_REQUEST, Some("not_an_object"));
        }

        for ct in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/jsonx",
            "text/json",
        ] {
            let res = send(ct, br#"{"name": "Typed wrong"}"#.to_vec()).await;
            assert_problem(&res, StatusCode::UNSUPPORTED_MEDIA_TYPE, Some("unsupported_media_type"));
        }

        let big = format!("{{\"name\": \"Big\", \"notes\": \"{}\"}}", "a".repeat(1024 * 1024 + 10));
        let res = send("application/json", big.into_bytes()).await;
        assert_problem(&res, StatusCode::PAYLOAD_TOO_LARGE, Some("body_too_large"));

        let res = send("application/json", b"{\"name\": \"\xff\xfe bad\"}".to_vec()).await;
        assert_problem(&res, StatusCode::BAD_REQUEST, Some("invalid_utf8"));
        // An overlong encoding and a lone surrogate (CESU) are not UTF-8 either.
        let res = send("application/json", b"{\"name\": \"\xc0\xaf\"}".to_vec()).await;
        assert_problem(&res, StatusCode::BAD_REQUEST, Some("invalid_utf8"));
        let res = send("application/json", b"{\"name\": \"\xed\xa0\x80\"}".to_vec()).await;
        assert_problem(&res, StatusCode::BAD_REQUEST, Some("invalid_utf8"));
        // A JSON-escaped lone surrogate is malformed JSON text for serde.
        let res = send("application/json", br#"{"name": "\ud800"}"#.to_vec()).await;
        assert!(res.status.is_client_error(), "{}", res.text);
        assert_problem(&res, res.status, None);
    }

    assert_eq!(count(app, "companies").await, before, "a broken body wrote a company");
    let after = app.admin.get(&cpath).await;
    assert_eq!(after.body, company, "a broken PATCH changed the company");
}
both_backends!(broken_bodies_are_4xx_problems);

async fn a_json_content_type_with_parameters_is_accepted(app: &TestApp) {
    let res = app
        .admin
        .send_raw(
            Method::POST,
            "/api/v1/companies",
            "Application/JSON; charset=utf-8",
            br#"{"name": "Param Co"}"#.to_vec(),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
}
both_backends!(a_json_content_type_with_parameters_is_accepted);

async fn nul_characters_are_refused_not_stored(app: &TestApp) {
    let before = count(app, "companies").await;
    let contacts_before = count(app, "contacts").await;
    for (entity, body, field) in [
        ("companies", json!({ "name": "Nul\u{0}Co" }), "name"),
        ("companies", json!({ "name": "\u{0}" }), "name"),
        ("companies", json!({ "name": "Nul Domain", "domain": "a\u{0}.com" }), "domain"),
        ("companies", json!({ "name": "Nul City", "city": "Par\u{0}is" }), "city"),
        ("companies", json!({ "name": "Nul Web", "website": "https://a.com/\u{0}" }), "website"),
        ("companies", json!({ "name": "Nul Phone", "phone": "+1 415 555 2671\u{0}" }), "phone"),
        ("companies", json!({ "name": "Nul Ind", "industry": "Technology\u{0}" }), "industry"),
        ("contacts", json!({ "first_name": "N", "notes": "long text \u{0} here" }), "notes"),
        ("contacts", json!({ "first_name": "N", "email": "a\u{0}@b.com" }), "email"),
    ] {
        let res = app.admin.post(&format!("/api/v1/{entity}"), body).await;
        assert_problem(&res, StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"));
        assert_fields(&res, field);
    }
    // In a field name, too.
    let res = app.admin.post("/api/v1/companies", json!({ "name": "Key", "na\u{0}me": "x" })).await;
    assert_problem(&res, StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"));
    assert_fields(&res, "na\u{0}me");

    // On a PATCH.
    let c = app.admin.company(json!({})).await;
    let path = format!("/api/v1/companies/{}", c["id"].as_str().expect("id"));
    let res = app.admin.patch(&path, json!({ "address": "1 Main St\u{0}" })).await;
    assert_problem(&res, StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"));
    assert_fields(&res, "address");
    assert_eq!(app.admin.get(&path).await.body, c);

    // In list filters and searches.
    for query in ["name=a%00b", "name[contains]=%00", "name[in]=a,%00", "q=%00", "q=acme%00corp", "domain[ne]=%00"] {
        let res = app.admin.get(&format!("/api/v1/companies?{query}")).await;
        assert!(
            res.status == StatusCode::OK || res.status == StatusCode::BAD_REQUEST,
            "{query}: {} {}",
            res.status,
            res.text
        );
        if res.status == StatusCode::BAD_REQUEST {
            assert_problem(&res, StatusCode::BAD_REQUEST, Some("invalid_query"));
        }
    }
    assert_eq!(count(app, "companies").await, before + 1);
    assert_eq!(count(app, "contacts").await, contacts_before);
}
both_backends!(nul_characters_are_refused_not_stored);

async fn wrong_types_are_422_naming_the_field(app: &TestApp) {
    let company = app.admin.company(json!({})).await;
    let cid = company["id"].as_str().expect("id").to_string();
    let (companies, contacts, deals) =
        (count(app, "companies").await, count(app, "contacts").await, count(app, "deals").await);
    for (entity, body, field) in [
        ("companies", json!({ "name": 42 }), "name"),
        ("companies", json!({ "name": true }), "name"),
        ("companies", json!({ "name": ["Acme"] }), "name"),
        ("companies", json!({ "name": { "first": "Acme" } }), "name"),
        ("deals", json!({ "title": "T", "company_id": cid, "amount": "lots" }), "amount"),
        ("deals", json!({ "title": "T", "company_id": cid, "amount": "100" }), "amount"),
        ("deals", json!({ "title": "T", "company_id": cid, "amount": 1.5 }), "amount"),
        ("deals", json!({ "title": "T", "company_id": cid, "amount": 18_446_744_073_709_551_615_u64 }), "amount"),
        ("deals", json!({ "title": "T", "company_id": cid, "probability": "50%" }), "probability"),
        ("deals", json!({ "title": "T", "company_id": cid, "expected_close_date": 20300101 }), "expected_close_date"),
        ("contacts", json!({ "first_name": "A", "is_primary": "yes" }), "is_primary"),
        ("contacts", json!({ "first_name": "A", "is_primary": 1 }), "is_primary"),
        ("contacts", json!({ "first_name": "A", "company_id": "not-a-uuid" }), "company_id"),
        ("contacts", json!({ "first_name": "A", "company_id": 12 }), "company_id"),
        ("contacts", json!({ "first_name": "A", "owner_id": "'; DROP TABLE users; --" }), "owner_id"),
    ] {
        let res = app.admin.post(&format!("/api/v1/{entity}"), body.clone()).await;
        assert_problem(&res, StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"));
        assert_fields(&res, field);
    }
    assert_eq!(count(app, "companies").await, companies);
    assert_eq!(count(app, "contacts").await, contacts);
    assert_eq!(count(app, "deals").await, deals);
}
both_backends!(wrong_types_are_422_naming_the_field);

// ---------------------------------------------------------------- list queries

async fn bad_list_queries_are_400_naming_the_parameter(app: &TestApp) {
    app.admin.company(json!({})).await;
    let cases: &[(&str, &str, &str)] = &[
        ("companies", "nope=1", "nope"),
        ("companies", "name[regex]=x", "name[regex]"),
        ("companies", "name[]=x", "name[]"),
        ("companies", "name[eq=x", "name[eq"),
        ("companies", "password_hash=x", "password_hash"),
        ("users", "password_hash[contains]=%24argon", "password_hash[contains]"),
        ("deals", "amount[gt]=abc", "amount[gt]"),
        ("deals", "amount[gt]=99999999999999999999", "amount[gt]"),
        ("deals", "amount[in]=1,two", "amount[in]"),
        ("deals", "amount[contains]=1", "amount[contains]"),
        ("deals", "stage=Won", "stage"),
        ("deals", "expected_close_date[gt]=soon", "expected_close_date[gt]"),
        ("deals", "created_at[gte]=yesterday", "created_at[gte]"),
        ("deals", "company_id=not-a-uuid", "company_id"),
        ("deals", "contact_id[is_null]=maybe", "contact_id[is_null]"),
        ("contacts", "is_primary=yes", "is_primary"),
        ("companies", "limit=0", "limit"),
        ("companies", "limit=201", "limit"),
        ("companies", "limit=abc", "limit"),
        ("companies", "limit=-1", "limit"),
        ("companies", "limit=99999999999", "limit"),
        ("companies", "count=maybe", "count"),
        ("companies", "trashed=2", "trashed"),
        ("companies", "cursor=garbage", "cursor"),
        ("companies", "cursor=", "cursor"),
        ("companies", "cursor=W10", "cursor"),
        ("deals", "sort=notes", "sort"),
        ("contacts", "sort=notes", "sort"),
        ("companies", "sort=nope", "sort"),
        ("companies", "sort=", "sort"),
        ("companies", "sort=--name", "sort"),
        ("users", "sort=password_hash", "sort"),
    ];
    for (entity, query, field) in cases {
        let res = app.admin.get(&format!("/api/v1/{entity}?{query}")).await;
        assert_problem(&res, StatusCode::BAD_REQUEST, Some("invalid_query"));
        assert_fields(&res, field);
    }
    let long_q = format!("q={}", "a".repeat(201));
    let res = app.admin.get(&format!("/api/v1/companies?{long_q}")).await;
    assert_problem(&res, StatusCode::BAD_REQUEST, Some("invalid_query"));
    assert_fields(&res, "q");

    // Several mistakes at once are all named.
    let res = app.admin.get("/api/v1/deals?nope=1&amount[gt]=x&limit=0").await;
    assert_problem(&res, StatusCode::BAD_REQUEST, Some("invalid_query"));
    for f in ["nope", "amount[gt]", "limit"] {
        assert_fields(&res, f);
    }
    // The related lists parse the same way.
    let c = app.admin.company(json!({})).await;
    let res = app.admin.get(&format!("/api/v1/companies/{}/contacts?nope=1", c["id"].as_str().expect("id"))).await;
    assert_problem(&res, StatusCode::BAD_REQUEST, Some("invalid_query"));
    assert_fields(&res, "nope");
}
both_backends!(bad_list_queries_are_400_naming_the_parameter);

async fn forged_cursors_are_refused(app: &TestApp) {
    app.admin.company(json!({ "name": "Cursor A" })).await;
    app.admin.company(json!({ "name": "Cursor B" })).await;
    let id = uuid::Uuid::now_v7().to_string();
    let cases = [
        ("name", json!([1, id]).to_string()),
        ("name", json!(["x"]).to_string()),
        ("name", json!(["x", "not-a-uuid"]).to_string()),
        ("name", json!({ "value": "x", "id": id }).to_string()),
        ("-updated_at", json!(["yesterday", id]).to_string()),
        ("id", json!([null, id]).to_string()),
        ("name", "not json".to_string()),
    ];
    for (sort, payload) in cases {
        let res = app.admin.get(&format!("/api/v1/companies?sort={sort}&cursor={}", b64url(payload.as_bytes()))).await;
        assert_problem(&res, StatusCode::BAD_REQUEST, Some("invalid_query"));
        assert_fields(&res, "cursor");
    }
    // A cursor whose text carries a NUL: PostgreSQL cannot even compare with it.
    let nul = b64url(json!(["Cursor\u{0}", id]).to_string().as_bytes());
    let res = app.admin.get(&format!("/api/v1/companies?sort=name&cursor={nul}")).await;
    assert_problem(&res, StatusCode::BAD_REQUEST, Some("invalid_query"));
    assert_fields(&res, "cursor");
    // A well-formed cursor for a row that does not exist is just a position: fine.
    let ok = b64url(json!(["Cursor A", id]).to_string().as_bytes());
    let res = app.admin.get(&format!("/api/v1/companies?sort=name&cursor={ok}")).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
}
both_backends!(forged_cursors_are_refused);

async fn sql_metacharacters_are_data(app: &TestApp) {
    let percent = app.admin.create("companies", json!({ "name": "Promo 100% Real_Deal" })).await;
    let lookalike = app.admin.create("companies", json!({ "name": "Promo 100x RealxDeal" })).await;
    let bobby = app.admin.create("companies", json!({ "name": "Robert'); DROP TABLE companies;--" })).await;
    let backslash = app.admin.create("companies", json!({ "name": r"Back\slash Ltd" })).await;
    let before = count(app, "companies").await;
    assert_eq!(before, 4);

    let p = percent["name"].as_str().expect("name").to_string();
    let l = lookalike["name"].as_str().expect("name").to_string();
    let b = bobby["name"].as_str().expect("name").to_string();
    let bs = backslash["name"].as_str().expect("name").to_string();

    // LIKE wildcards match only themselves.
    for (needle, expect) in [
        ("100%", vec![p.clone()]),
        ("%", vec![p.clone()]),
        ("_", vec![p.clone()]),
        ("l_d", vec![p.clone()]),
        ("L_D", vec![p.clone()]),
        ("0%_r", vec![]),
        ("promo 100", vec![p.clone(), l.clone()]),
        ("x", vec![l.clone()]),
        (r"\", vec![bs.clone()]),
        (r"k\s", vec![bs.clone()]),
        (r"\%", vec![]),
        ("');", vec![b.clone()]),
        ("%'; DROP TABLE companies; --", vec![]),
    ] {
        let res = app.admin.get(&format!("/api/v1/companies?name[contains]={}", enc(needle))).await;
        assert_eq!(res.status, StatusCode::OK, "contains {needle:?}: {}", res.text);
        let mut expect = expect;
        expect.sort();
        assert_eq!(names(&res), expect, "contains {needle:?}");
    }

    // Equality with quotes is a literal comparison.
    let res = app.admin.get(&format!("/api/v1/companies?name={}", enc(&b))).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(names(&res), vec![b.clone()]);

    for query in [
        format!("name={}", enc("' OR 1=1 --")),
        format!("name={}", enc("\" OR \"\"=\"")),
        format!("name[ne]={}", enc("' OR 1=1 --")),
        format!("name[in]={}", enc("a',b'); DROP TABLE companies; --")),
        format!("name[lt]={}", enc("'")),
        format!("domain[contains]={}", enc("%")),
        format!("q={}", enc("acme' OR '1'='1")),
        format!("q={}", enc("\"*)(")),
        format!("q={}", enc("* OR name:*")),
        format!("q={}", enc("NEAR(a b)")),
        format!("q={}", enc("!a & b:* | c")),
        format!("q={}", enc("'\\")),
        format!("sort={}", enc("name;DROP TABLE companies")),
        format!("sort={}", enc("name DESC")),
        format!("sort={}", enc("(SELECT 1)")),
        format!("{}=1", enc("name) OR (1=1")),
        format!("{}=1", enc("name[eq];--")),
    ] {
        let res = app.admin.get(&format!("/api/v1/companies?{query}")).await;
        assert!(
            res.status == StatusCode::OK || res.status == StatusCode::BAD_REQUEST,
            "{query}: {} {}",
            res.status,
            res.text
        );
        if res.status == StatusCode::BAD_REQUEST {
            assert_problem(&res, StatusCode::BAD_REQUEST, Some("invalid_query"));
            continue;
        }
        let got = names(&res);
        let everyone = {
            let mut v = vec![p.clone(), l.clone(), b.clone(), bs.clone()];
            v.sort();
            v
        };
        if query.starts_with("name[ne]") {
            assert_eq!(got, everyone, "{query}: `ne` a value no one has is everyone");
        } else {
            assert!(got.is_empty(), "{query}: nothing matches literally, got {got:?}");
        }
    }

    // The table is intact and still takes writes.
    assert_eq!(count(app, "companies").await, before);
    app.admin.company(json!({})).await;
    assert_eq!(count(app, "companies").await, before + 1);
    let res = app.admin.get("/api/v1/companies?q=promo").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(names(&res), {
        let mut v = vec![p, l];
        v.sort();
        v
    });
}
both_backends!(sql_metacharacters_are_data);

// ---------------------------------------------------------------- paths and auth

async fn bad_paths_are_400_or_404(app: &TestApp) {
    let company = app.admin.company(json!({})).await;
    let before = count(app, "companies").await;
    let a = &app.admin;
    for id in ["not-a-uuid", "1", "'%20OR%20'1'='1", "0190c1a0-0000-7000-8000-00000000000g"] {
        let path = format!("/api/v1/companies/{id}");
        assert_problem(&a.get(&path).await, StatusCode::BAD_REQUEST, Some("invalid_id"));
        assert_problem(&a.patch(&path, json!({ "name": "x" })).await, StatusCode::BAD_REQUEST, Some("invalid_id"));
        assert_problem(&a.delete(&path).await, StatusCode::BAD_REQUEST, Some("invalid_id"));
        assert_problem(
            &a.post(&format!("{path}/restore"), json!({})).await,
            StatusCode::BAD_REQUEST,
            Some("invalid_id"),
        );
        assert_problem(&a.get(&format!("{path}/contacts")).await, StatusCode::BAD_REQUEST, Some("invalid_id"));
    }
    for path in ["/api/v1/widgets", "/api/v1/widgets/not-a-uuid", "/api/v1/Companies", "/api/v1/companies%00"] {
        assert_problem(&a.get(path).await, StatusCode::NOT_FOUND, None);
    }
    assert_problem(&a.post("/api/v1/widgets", json!({ "name": "x" })).await, StatusCode::NOT_FOUND, Some("not_found"));
    let cid = company["id"].as_str().expect("id");
    assert_problem(&a.get(&format!("/api/v1/companies/{cid}/widgets")).await, StatusCode::NOT_FOUND, Some("not_found"));

    let absent = uuid::Uuid::now_v7().to_string();
    let path = format!("/api/v1/companies/{absent}");
    assert_problem(&a.get(&path).await, StatusCode::NOT_FOUND, Some("not_found"));
    assert_problem(&a.patch(&path, json!({ "name": "Ghost" })).await, StatusCode::NOT_FOUND, Some("not_found"));
    assert_problem(&a.delete(&path).await, StatusCode::NOT_FOUND, Some("not_found"));
    assert_problem(&a.get(&format!("{path}/contacts")).await, StatusCode::NOT_FOUND, Some("not_found"));
    // The nil UUID is a UUID, but no record's.
    assert_problem(
        &a.get("/api/v1/companies/00000000-0000-0000-0000-000000000000").await,
        StatusCode::NOT_FOUND,
        Some("not_found"),
    );

    assert_eq!(count(app, "companies").await, before);
}
both_backends!(bad_paths_are_400_or_404);

async fn unauthenticated_requests_are_401(app: &TestApp) {
    let company = app.admin.company(json!({})).await;
    let before = count(app, "companies").await;
    let path = format!("/api/v1/companies/{}", company["id"].as_str().expect("id"));

    let anon = app.anonymous();
    let mut forged = app.anonymous();
    forged.token = Some("garbage".into());
    let mut long = app.anonymous();
    long.token = Some("k".repeat(4096));
    let mut almost = app.anonymous();
    // The admin's real token with a character changed.
    let real = app.admin.token.clone().expect("admin token");
    let mut flipped: Vec<char> = real.chars().collect();
    if let Some(last) = flipped.last_mut() {
        *last = if *last == 'A' { 'B' } else { 'A' };
    }
    almost.token = Some(flipped.into_iter().collect());

    let clients: [(&str, &Client); 4] =
        [("anonymous", &anon), ("garbage token", &forged), ("long token", &long), ("altered token", &almost)];
    for (who, c) in clients {
        for res in [
            c.get("/api/v1/companies").await,
            c.get(&path).await,
            c.post("/api/v1/companies", json!({ "name": format!("By {who}") })).await,
            c.patch(&path, json!({ "name": "Hijacked" })).await,
            c.delete(&path).await,
        ] {
            assert_problem(&res, StatusCode::UNAUTHORIZED, Some("unauthenticated"));
        }
    }
    // Other Authorization schemes are not tokens.
    let res = anon.send(Method::GET, "/api/v1/companies", None, &[("authorization", "Basic YWRtaW46YWRtaW4=")]).await;
    assert_problem(&res, StatusCode::UNAUTHORIZED, Some("unauthenticated"));
    let res = anon.send(Method::GET, "/api/v1/companies", None, &[("authorization", "Bearer ")]).await;
    assert_problem(&res, StatusCode::UNAUTHORIZED, Some("unauthenticated"));
    let res = anon.send(Method::GET, "/api/v1/companies", None, &[("cookie", "keel_session=forged")]).await;
    assert_problem(&res, StatusCode::UNAUTHORIZED, Some("unauthenticated"));

    assert_eq!(count(app, "companies").await, before);
    assert_eq!(app.admin.get(&path).await.body, company);
}
both_backends!(unauthenticated_requests_are_401);

async fn malformed_if_match_is_400(app: &TestApp) {
    let company = app.admin.company(json!({ "city": "Oslo" })).await;
    let path = format!("/api/v1/companies/{}", company["id"].as_str().expect("id"));
    for tag in ["\"abc\"", "abc", "\"1.5\"", "\"99999999999999999999\"", "\"\"", "W/\"x\""] {
        let res = app.admin.send(Method::PATCH, &path, Some(json!({ "city": "Bergen" })), &[("if-match", tag)]).await;
        assert_problem(&res, StatusCode::BAD_REQUEST, Some("invalid_if_match"));
    }
    assert_eq!(app.admin.get(&path).await.body, company);
    // The right ETag still works afterwards.
    let res = app.admin.send(Method::PATCH, &path, Some(json!({ "city": "Bergen" })), &[("if-match", "\"1\"")]).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["city"], "Bergen");
}
both_backends!(malformed_if_match_is_400);

async fn bad_idempotency_keys_are_400(app: &TestApp) {
    let before = count(app, "companies").await;
    let long = "k".repeat(256);
    for key in ["has space", long.as_str()] {
        let res = app
            .admin
            .send(Method::POST, "/api/v1/companies", Some(json!({ "name": "Idem" })), &[("idempotency-key", key)])
            .await;
        assert_problem(&res, StatusCode::BAD_REQUEST, Some("invalid_idempotency_key"));
    }
    assert_eq!(count(app, "companies").await, before);
}
both_backends!(bad_idempotency_keys_are_400);

async fn other_bodies_refuse_nul_and_wrong_types(app: &TestApp) {
    let company = app.admin.company(json!({})).await;
    let before = count(app, "companies").await;
    let anon = app.anonymous();
    for (body, field) in [
        (json!({ "email": "admin\u{0}@example.com", "password": "correct horse battery staple" }), "email"),
        (json!({ "email": "nobody@example.com", "password": "pass\u{0}word" }), "password"),
    ] {
        let res = anon.post("/api/v1/auth/login", body).await;
        assert_problem(&res, StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"));
        assert_fields(&res, field);
    }
    let res = app.admin.post("/api/v1/auth/tokens", json!({ "name": "tok\u{0}en" })).await;
    assert_problem(&res, StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"));
    assert_fields(&res, "name");
    for body in [
        json!({ "email": 42, "password": "x" }),
        json!({ "email": "a@example.com" }),
        json!({ "email": "a@example.com", "password": "x", "remember": true }),
    ] {
        let res = anon.post("/api/v1/auth/login", body.clone()).await;
        assert!(res.status.is_client_error(), "login {body}: {} {}", res.status, res.text);
        assert_problem(&res, res.status, None);
    }
    for body in [json!({ "name": 7 }), json!({}), json!({ "name": "t", "scope": "all" })] {
        let res = app.admin.post("/api/v1/auth/tokens", body.clone()).await;
        assert!(res.status.is_client_error(), "token {body}: {} {}", res.status, res.text);
        assert_problem(&res, res.status, None);
    }
    let cid = company["id"].clone();
    for (path, body) in [
        ("/api/v1/companies/bulk/delete", json!({ "ids": ["not-a-uuid"] })),
        ("/api/v1/companies/bulk/delete", json!({ "ids": [] })),
        ("/api/v1/companies/bulk/delete", json!({ "ids": cid })),
        ("/api/v1/companies/bulk/delete", json!({ "ids": [cid], "force": true })),
        ("/api/v1/companies/bulk/delete", json!({ "ids": [uuid::Uuid::now_v7().to_string()] })),
        ("/api/v1/companies/bulk/owner", json!({ "ids": [cid] })),
        ("/api/v1/companies/bulk/owner", json!({ "ids": [cid], "owner_id": "me" })),
        ("/api/v1/companies/bulk/owner", json!({ "ids": [cid], "owner_id": uuid::Uuid::now_v7().to_string() })),
        ("/api/v1/widgets/bulk/delete", json!({ "ids": [cid] })),
    ] {
        let res = app.admin.post(path, body.clone()).await;
        assert!(res.status.is_client_error(), "{path} {body}: {} {}", res.status, res.text);
        assert_problem(&res, res.status, None);
    }
    assert_eq!(count(app, "companies").await, before);
    let path = format!("/api/v1/companies/{}", company["id"].as_str().expect("id"));
    assert_eq!(app.admin.get(&path).await.body, company);
}
both_backends!(other_bodies_refuse_nul_and_wrong_types);

async fn extreme_values_are_stored_or_refused_never_500(app: &TestApp) {
    let company = app.admin.company(json!({})).await;
    let cid = company["id"].clone();
    for body in [
        json!({ "title": "Max", "company_id": cid, "amount": i64::MAX }),
        json!({ "title": "Far", "company_id": cid, "expected_close_date": "9999-12-31" }),
        json!({ "title": "Old close", "company_id": cid, "actual_close_date": "0001-01-01" }),
        json!({ "title": "Year 0", "company_id": cid, "actual_close_date": "0000-01-01" }),
        json!({ "title": "Neg year", "company_id": cid, "actual_close_date": "-0001-01-01" }),
        json!({ "title": "Big year", "company_id": cid, "actual_close_date": "+10000-01-01" }),
        json!({ "title": "x".repeat(200), "company_id": cid, "notes": "n".repeat(65_536) }),
        json!({ "title": "\u{1F600} emoji \u{202E} rtl \u{FEFF}", "company_id": cid }),
    ] {
        let res = app.admin.post("/api/v1/deals", body.clone()).await;
        assert!(
            res.status == StatusCode::CREATED || res.status == StatusCode::UNPROCESSABLE_ENTITY,
            "{}: {} {}",
            &body.to_string()[..80.min(body.to_string().len())],
            res.status,
            res.text
        );
        if res.status == StatusCode::CREATED {
            // What was stored reads back exactly.
            let got = app.admin.get(&format!("/api/v1/deals/{}", res.id())).await;
            assert_eq!(got.body, res.body);
        }
    }
    for body in [
        json!({ "type": "Task", "subject": "Early", "due_date": "0001-01-01T00:00:00Z" }),
        json!({ "type": "Task", "subject": "Late", "due_date": "9999-12-31T23:59:59.999999Z" }),
        json!({ "type": "Task", "subject": "Nanos", "due_date": "2030-01-01T00:00:00.123456789Z" }),
        json!({ "type": "Task", "subject": "Offset", "due_date": "2030-01-01T00:00:00+14:00" }),
        json!({ "type": "Task", "subject": "Leap", "due_date": "2030-06-30T23:59:60Z" }),
        json!({ "type": "Task", "subject": "Year 0 in UTC", "due_date": "0001-01-01T00:00:00+14:00" }),
        json!({ "type": "Task", "subject": "Neg", "due_date": "-0001-01-01T00:00:00Z" }),
    ] {
        let res = app.admin.post("/api/v1/activities", body.clone()).await;
        assert!(
            res.status == StatusCode::CREATED || res.status == StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {} {}",
            res.status,
            res.text
        );
        if res.status == StatusCode::CREATED {
            let got = app.admin.get(&format!("/api/v1/activities/{}", res.id())).await;
            assert_eq!(got.body, res.body);
        }
    }
    for query in [
        "deals?probability=9223372036854775807",
        "deals?amount[lt]=-9223372036854775808",
        "deals?amount[gte]=9223372036854775807&sort=amount",
        "deals?expected_close_date=9999-12-31",
        "deals?expected_close_date[lt]=0000-01-01",
        "deals?actual_close_date[gt]=%2B10000-01-01",
        "activities?due_date[gt]=9999-12-31T23:59:59Z",
        "activities?created_at[lt]=0001-01-01T00:00:00Z",
        "deals?title[contains]=%F0%9F%98%80",
        "deals?title=%FF%FE",
        "companies?name[in]=a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q,r,s,t,u,v,w,x,y,z",
    ] {
        let res = app.admin.get(&format!("/api/v1/{query}")).await;
        assert!(
            res.status == StatusCode::OK || res.status == StatusCode::BAD_REQUEST,
            "{query}: {} {}",
            res.status,
            res.text
        );
        assert_problem_or_ok(&res);
    }
    // Every page of a sort over extreme values can be walked with its cursors.
    for sort in ["amount", "-amount", "actual_close_date", "-expected_close_date", "title"] {
        let mut path = format!("/api/v1/deals?sort={sort}&limit=2");
        let mut seen = 0;
        for _ in 0..20 {
            let res = app.admin.get(&path).await;
            assert_eq!(res.status, StatusCode::OK, "{path}: {}", res.text);
            seen += res.body["data"].as_array().map_or(0, Vec::len);
            match res.body["next_cursor"].as_str() {
                Some(c) => path = format!("/api/v1/deals?sort={sort}&limit=2&cursor={c}"),
                None => break,
            }
        }
        assert_eq!(seen as i64, count(app, "deals").await, "sort={sort}");
    }
}
both_backends!(extreme_values_are_stored_or_refused_never_500);

fn assert_problem_or_ok(res: &Response) {
    if res.status != StatusCode::OK {
        assert_problem(res, res.status, None);
    }
}
