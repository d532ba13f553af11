//! Lists: filters, sort, keyset pagination (also while records are being inserted),
//! full-text search and related lists.

use std::cmp::Ordering;
use std::collections::{BTreeSet, HashSet};

use keel_testkit::{Client, TestApp, both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Percent-encode a query value.
fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap_or_else(|| panic!("no id in {v}")).to_string()
}

fn ids(data: &[Value]) -> Vec<String> {
    data.iter().map(id_of).collect()
}

fn set<I: IntoIterator<Item = String>>(ids: I) -> BTreeSet<String> {
    ids.into_iter().collect()
}

/// GET a list page, asserting 200 and the page shape.
async fn page(c: &Client, path: &str) -> Value {
    let res = c.get(path).await;
    assert_eq!(res.status, StatusCode::OK, "GET {path}: {}", res.text);
    assert!(res.body["data"].is_array(), "GET {path}: no data array in {}", res.text);
    assert!(res.body.get("next_cursor").is_some(), "GET {path}: no next_cursor in {}", res.text);
    res.body
}

/// The records of a list that fits on one page (asserts there is no next page).
async fn all(c: &Client, path: &str) -> Vec<Value> {
    let sep = if path.contains('?') { '&' } else { '?' };
    let path = format!("{path}{sep}limit=200");
    let body = page(c, &path).await;
    assert!(body["next_cursor"].is_null(), "GET {path}: expected a single page: {body}");
    body["data"].as_array().cloned().unwrap_or_default()
}

async fn all_ids(c: &Client, path: &str) -> BTreeSet<String> {
    set(ids(&all(c, path).await))
}

/// Walk every page of `path` (which must already carry `limit`), following `next_cursor`.
/// Returns the records in the order seen and each page's `total` (if any). Checks that
/// every page but the last is full and carries a cursor, and the last carries none.
async fn walk(c: &Client, path: &str, limit: usize) -> (Vec<Value>, Vec<Option<i64>>) {
    let mut seen = Vec::new();
    let mut totals = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..200 {
        let p = match &cursor {
            Some(cur) => format!("{path}&cursor={}", enc(cur)),
            None => path.to_string(),
        };
        let body = page(c, &p).await;
        let data = body["data"].as_array().cloned().unwrap_or_default();
        totals.push(body["total"].as_i64());
        assert!(data.len() <= limit, "GET {p}: {} records on a page of {limit}", data.len());
        match body["next_cursor"].as_str() {
            Some(next) => {
                assert_eq!(data.len(), limit, "GET {p}: a page with a next_cursor must be full");
                seen.extend(data);
                cursor = Some(next.to_string());
            }
            None => {
                assert!(body["next_cursor"].is_null(), "GET {p}: next_cursor must be a string or null");
                assert!(
                    !data.is_empty() || seen.is_empty(),
                    "GET {p}: the last page must not be empty (the previous page should have had no cursor)"
                );
                seen.extend(data);
                return (seen, totals);
            }
        }
    }
    panic!("GET {path}: more than 200 pages; the cursor does not advance");
}

fn cmp_values(a: &Value, b: &Value) -> Ordering {
    match (a.as_i64(), b.as_i64()) {
        (Some(x), Some(y)) => x.cmp(&y),
        _ => match (a.as_str(), b.as_str()) {
            (Some(x), Some(y)) => x.cmp(y),
            _ => panic!("cannot compare {a} and {b}"),
        },
    }
}

/// The order a list sorted by `field` must have: by value (NULLs last in both
/// directions), ties by id in the same direction.
fn expected_order(records: &[Value], field: &str, desc: bool) -> Vec<String> {
    let mut v = records.to_vec();
    v.sort_by(|a, b| {
        let (x, y) = (&a[field], &b[field]);
        let primary = match (x.is_null(), y.is_null()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => {
                let o = cmp_values(x, y);
                if desc { o.reverse() } else { o }
            }
        };
        primary.then_with(|| {
            let o = a["id"].as_str().cmp(&b["id"].as_str());
            if desc { o.reverse() } else { o }
        })
    });
    ids(&v)
}

fn assert_no_duplicates(seen: &[String], what: &str) {
    let mut s = HashSet::new();
    for id in seen {
        assert!(s.insert(id.clone()), "{what}: record {id} was returned twice");
    }
}

// ---------------------------------------------------------------------------------------
// Filters
// ---------------------------------------------------------------------------------------

async fn filters_compare_match_and_check_for_null(app: &TestApp) {
    let c = &app.admin;
    let co = c.company(json!({})).await;
    let co_id = id_of(&co);
    let d1 = c.deal(&co_id, json!({ "title": "Alpha renewal", "amount": 1000, "stage": "Prospecting", "priority": "High", "expected_close_date": "2031-01-10" })).await;
    let d2 = c.deal(&co_id, json!({ "title": "Beta expansion", "amount": 5000, "stage": "Qualification", "priority": "Low", "expected_close_date": "2031-03-15" })).await;
    let d3 = c.deal(&co_id, json!({ "title": "Gamma ALPHA pilot", "amount": 10000, "stage": "Proposal", "expected_close_date": "2031-06-30" })).await;
    let d4 = c
        .deal(&co_id, json!({ "title": "Delta upsell", "amount": 50000, "stage": "Negotiation", "priority": "Medium" }))
        .await;
    let d5 = c.deal(&co_id, json!({ "title": "Epsilon", "amount": 0, "stage": "Proposal" })).await;
    let [i1, i2, i3, i4, i5] = [&d1, &d2, &d3, &d4, &d5].map(id_of);
    let s = |v: &[&String]| -> BTreeSet<String> { v.iter().map(|x| (*x).clone()).collect() };

    // eq, implicit and explicit; select values match case-insensitively.
    assert_eq!(all_ids(c, "/api/v1/deals?stage=Proposal").await, s(&[&i3, &i5]));
    assert_eq!(all_ids(c, "/api/v1/deals?stage=proposal").await, s(&[&i3, &i5]));
    assert_eq!(all_ids(c, "/api/v1/deals?stage[eq]=PROPOSAL").await, s(&[&i3, &i5]));
    assert_eq!(all_ids(c, "/api/v1/deals?amount=5000").await, s(&[&i2]));
    assert_eq!(all_ids(c, &format!("/api/v1/deals?title={}", enc("Beta expansion"))).await, s(&[&i2]));

    // ne includes the records where the field is empty.
    assert_eq!(all_ids(c, "/api/v1/deals?priority[ne]=High").await, s(&[&i2, &i3, &i4, &i5]));
    assert_eq!(all_ids(c, "/api/v1/deals?stage[ne]=Proposal").await, s(&[&i1, &i2, &i4]));

    // Comparisons on money.
    assert_eq!(all_ids(c, "/api/v1/deals?amount[lt]=5000").await, s(&[&i1, &i5]));
    assert_eq!(all_ids(c, "/api/v1/deals?amount[lte]=5000").await, s(&[&i1, &i2, &i5]));
    assert_eq!(all_ids(c, "/api/v1/deals?amount[gt]=10000").await, s(&[&i4]));
    assert_eq!(all_ids(c, "/api/v1/deals?amount[gte]=10000").await, s(&[&i3, &i4]));
    assert_eq!(
        all_ids(c, "/api/v1/deals?amount[gt]=1000&amount[lt]=50000").await,
        s(&[&i2, &i3]),
        "filters are AND-ed"
    );

    // Comparisons on dates (NULL dates never match a comparison).
    assert_eq!(all_ids(c, "/api/v1/deals?expected_close_date[lt]=2031-03-15").await, s(&[&i1]));
    assert_eq!(all_ids(c, "/api/v1/deals?expected_close_date[lte]=2031-03-15").await, s(&[&i1, &i2]));
    assert_eq!(all_ids(c, "/api/v1/deals?expected_close_date[gt]=2031-03-15").await, s(&[&i3]));
    assert_eq!(all_ids(c, "/api/v1/deals?expected_close_date[gte]=2031-03-15").await, s(&[&i2, &i3]));
    assert_eq!(all_ids(c, "/api/v1/deals?expected_close_date=2031-06-30").await, s(&[&i3]));

    // Comparisons on timestamps: records were created one after the other.
    let t3 = d3["created_at"].as_str().expect("created_at").to_string();
    assert_eq!(all_ids(c, &format!("/api/v1/deals?created_at[gte]={}", enc(&t3))).await, s(&[&i3, &i4, &i5]));
    assert_eq!(all_ids(c, &format!("/api/v1/deals?created_at[lt]={}", enc(&t3))).await, s(&[&i1, &i2]));
    assert_eq!(all_ids(c, &format!("/api/v1/deals?created_at[gt]={}", enc(&t3))).await, s(&[&i4, &i5]));
    assert_eq!(all_ids(c, &format!("/api/v1/deals?created_at[lte]={}", enc(&t3))).await, s(&[&i1, &i2, &i3]));

    // in, with select values in any case.
    assert_eq!(all_ids(c, "/api/v1/deals?stage[in]=Prospecting,negotiation").await, s(&[&i1, &i4]));
    assert_eq!(all_ids(c, "/api/v1/deals?amount[in]=1000,10000,777").await, s(&[&i1, &i3]));

    // contains is a case-insensitive substring match.
    assert_eq!(all_ids(c, "/api/v1/deals?title[contains]=alpha").await, s(&[&i1, &i3]));
    assert_eq!(all_ids(c, "/api/v1/deals?title[contains]=PSIL").await, s(&[&i5]));
    assert_eq!(
        all_ids(c, &format!("/api/v1/deals?title[contains]={}", enc("%"))).await,
        BTreeSet::new(),
        "% is literal"
    );
    assert_eq!(
        all_ids(c, &format!("/api/v1/deals?title[contains]={}", enc("_"))).await,
        BTreeSet::new(),
        "_ is literal"
    );

    // is_null.
    assert_eq!(all_ids(c, "/api/v1/deals?expected_close_date[is_null]=true").await, s(&[&i4, &i5]));
    assert_eq!(all_ids(c, "/api/v1/deals?expected_close_date[is_null]=false").await, s(&[&i1, &i2, &i3]));
    assert_eq!(all_ids(c, "/api/v1/deals?priority[is_null]=true").await, s(&[&i3, &i5]));

    // Filters and count agree.
    let body = page(c, "/api/v1/deals?amount[gte]=5000&count=true").await;
    assert_eq!(body["total"], 3);
    assert_eq!(body["data"].as_array().map(Vec::len), Some(3));

    // The records carry their values through unchanged.
    let got = all(c, "/api/v1/deals?stage=Prospecting").await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["title"], "Alpha renewal");
    assert_eq!(got[0]["amount"], 1000);
    assert_eq!(got[0]["expected_close_date"], "2031-01-10");
}
both_backends!(filters_compare_match_and_check_for_null);

async fn select_filters_ignore_case_and_ne_keeps_empty_values(app: &TestApp) {
    let c = &app.admin;
    let tech = id_of(&c.company(json!({ "industry": "Technology", "size": "11-50" })).await);
    let tech2 = id_of(&c.company(json!({ "industry": "Technology", "size": "1000+" })).await);
    let health = id_of(&c.company(json!({ "industry": "Healthcare", "city": "Boston" })).await);
    let none = id_of(&c.company(json!({ "city": "Boston" })).await);

    for q in ["industry=technology", "industry=Technology", "industry=TECHNOLOGY", "industry[eq]=tEcHnOlOgY"] {
        assert_eq!(all_ids(c, &format!("/api/v1/companies?{q}")).await, set([tech.clone(), tech2.clone()]), "{q}");
    }
    assert_eq!(all_ids(c, "/api/v1/companies?industry[ne]=technology").await, set([health.clone(), none.clone()]));
    assert_eq!(
        all_ids(c, "/api/v1/companies?industry[in]=healthcare,TECHNOLOGY").await,
        set([tech.clone(), tech2.clone(), health.clone()])
    );
    assert_eq!(all_ids(c, "/api/v1/companies?industry[is_null]=true").await, set([none.clone()]));
    assert_eq!(all_ids(c, &format!("/api/v1/companies?size={}", enc("1000+"))).await, set([tech2.clone()]));
    assert_eq!(all_ids(c, "/api/v1/companies?city=Boston&industry=healthcare").await, set([health.clone()]));
    assert_eq!(all_ids(c, "/api/v1/companies?city[contains]=bost").await, set([health, none]));

    // Wildcards of LIKE and GLOB are plain characters to contains.
    let odd = id_of(&c.create("companies", json!({ "name": "Odd [Co]*? 100%_done" })).await);
    for v in ["[co]", "*?", "o]*", "100%", "%_d", "?"] {
        assert_eq!(
            all_ids(c, &format!("/api/v1/companies?name[contains]={}", enc(v))).await,
            set([odd.clone()]),
            "contains {v}"
        );
    }
    for v in ["[x]", "d*e", "o?d", "[]", "%%", "__"] {
        assert_eq!(
            all_ids(c, &format!("/api/v1/companies?name[contains]={}", enc(v))).await,
            BTreeSet::new(),
            "contains {v}"
        );
    }

    // contains and search fold case beyond ASCII on both backends.
    let clinic = id_of(&c.create("companies", json!({ "name": "Ärztehaus Süd", "city": "MÜNCHEN" })).await);
    for q in [
        "name[contains]=ärztehaus",
        "name[contains]=ÄRZTEHAUS",
        "name[contains]=SÜD",
        "city[contains]=münchen",
        "city[contains]=Ünch",
        "q=ärzteh",
        "q=ÄRZTEHAUS",
        "q=süd",
    ] {
        let (k, v) = q.split_once('=').expect("pair");
        assert_eq!(all_ids(c, &format!("/api/v1/companies?{k}={}", enc(v))).await, set([clinic.clone()]), "{q}");
    }

    // An option that does not exist is the caller's mistake, not an empty list.
    let res = c.get("/api/v1/companies?industry=Mining").await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST, "{}", res.text);
}
both_backends!(select_filters_ignore_case_and_ne_keeps_empty_values);

// ---------------------------------------------------------------------------------------
// Sort
// ---------------------------------------------------------------------------------------

/// 12 deals with distinct titles, amounts with ties, and some NULL close dates.
async fn sort_fixture(c: &Client) -> Vec<Value> {
    let co = id_of(&c.company(json!({})).await);
    let mut out = Vec::new();
    for i in 0..12 {
        let date = if i % 3 == 0 {
            Value::Null
        } else {
            json!(format!("2031-{:02}-{:02}", 1 + (i * 5) % 12, 1 + (i * 7) % 28))
        };
        let d = c
            .deal(&co, json!({ "title": format!("sortdeal {:03}", (i * 7) % 12), "amount": (i % 4) * 2500, "expected_close_date": date }))
            .await;
        out.push(d);
    }
    out
}

async fn sorts_by_fields_in_both_directions_with_nulls_last(app: &TestApp) {
    let c = &app.admin;
    let deals = sort_fixture(c).await;
    let current = all(c, "/api/v1/deals").await;
    assert_eq!(set(ids(&current)), set(ids(&deals)));

    for (sort, field, desc) in [
        ("-amount", "amount", true),
        ("amount", "amount", false),
        ("title", "title", false),
        ("-title", "title", true),
        ("expected_close_date", "expected_close_date", false),
        ("-expected_close_date", "expected_close_date", true),
        ("created_at", "created_at", false),
        ("-created_at", "created_at", true),
        ("updated_at", "updated_at", false),
        ("id", "id", false),
        ("-id", "id", true),
    ] {
        let got = all(c, &format!("/api/v1/deals?sort={sort}")).await;
        assert_eq!(ids(&got), expected_order(&current, field, desc), "sort={sort}");
    }

    // NULLs last in both directions, spelled out.
    for sort in ["expected_close_date", "-expected_close_date"] {
        let got = all(c, &format!("/api/v1/deals?sort={sort}")).await;
        let first_null =
            got.iter().position(|d| d["expected_close_date"].is_null()).expect("some deals have no close date");
        assert_eq!(first_null, 8, "sort={sort}: 8 dated deals first");
        assert!(got[first_null..].iter().all(|d| d["expected_close_date"].is_null()), "sort={sort}: NULLs come last");
    }

    // Descending money really is largest first.
    let got = all(c, "/api/v1/deals?sort=-amount").await;
    assert_eq!(got[0]["amount"], 7500);
    assert_eq!(got[11]["amount"], 0);

    // Companies sort by name and industry too.
    let names = ["sortco b", "sortco a", "sortco d", "sortco c"];
    for (n, ind) in names.iter().zip(["Retail", "Finance", "Retail", "Other"]) {
        c.create("companies", json!({ "name": n, "industry": ind })).await;
    }
    let got = all(c, "/api/v1/companies?name[contains]=sortco&sort=name").await;
    let got_names: Vec<&str> = got.iter().filter_map(|v| v["name"].as_str()).collect();
    assert_eq!(got_names, vec!["sortco a", "sortco b", "sortco c", "sortco d"]);
    let got = all(c, "/api/v1/companies?name[contains]=sortco&sort=-name").await;
    let got_names: Vec<&str> = got.iter().filter_map(|v| v["name"].as_str()).collect();
    assert_eq!(got_names, vec!["sortco d", "sortco c", "sortco b", "sortco a"]);
    let got = all(c, "/api/v1/companies?name[contains]=sortco&sort=industry").await;
    assert_eq!(ids(&got), expected_order(&got, "industry", false));

    // Unknown or unsortable fields are refused.
    assert_eq!(c.get("/api/v1/deals?sort=nope").await.status, StatusCode::BAD_REQUEST);
    assert_eq!(c.get("/api/v1/deals?sort=notes").await.status, StatusCode::BAD_REQUEST);
}
both_backends!(sorts_by_fields_in_both_directions_with_nulls_last);

async fn default_sort_is_most_recently_updated_first(app: &TestApp) {
    let c = &app.admin;
    let mut created = Vec::new();
    for i in 0..5 {
        created.push(id_of(&c.create("companies", json!({ "name": format!("default sort {i}") })).await));
    }
    let got = ids(&all(c, "/api/v1/companies").await);
    let mut newest_first = created.clone();
    newest_first.reverse();
    assert_eq!(got, newest_first, "newest first by default");

    // Touch the oldest: it moves to the front.
    let res = c.patch(&format!("/api/v1/companies/{}", created[0]), json!({ "city": "Oslo" })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let got = all(c, "/api/v1/companies").await;
    assert_eq!(id_of(&got[0]), created[0]);
    assert_eq!(ids(&got), expected_order(&got, "updated_at", true));
    assert_eq!(ids(&got)[1..], newest_first[..4]);
}
both_backends!(default_sort_is_most_recently_updated_first);

// ---------------------------------------------------------------------------------------
// Keyset pagination
// ---------------------------------------------------------------------------------------

async fn keyset_pages_return_every_record_once_in_order(app: &TestApp) {
    let c = &app.admin;
    let a = id_of(&c.company(json!({})).await);
    let b = id_of(&c.company(json!({})).await);
    // 42 deals: exactly 6 pages of 7, so the last full page must carry no cursor.
    for i in 0..42 {
        let date = if i % 3 == 0 { Value::Null } else { json!(format!("2031-{:02}-{:02}", 1 + i % 12, 1 + i % 5)) };
        let stage = if i % 4 == 0 { "Proposal" } else { ["Prospecting", "Qualification", "Negotiation"][i % 3] };
        c.deal(
            if i % 2 == 0 { &a } else { &b },
            json!({ "title": format!("page deal {:03}", (i * 17) % 42), "amount": (i % 5) * 1000, "stage": stage, "expected_close_date": date }),
        )
        .await;
    }
    let everything = {
        let mut v = all(c, "/api/v1/deals").await;
        v.sort_by(|x, y| x["id"].as_str().cmp(&y["id"].as_str()));
        v
    };
    assert_eq!(everything.len(), 42);

    let cases: Vec<(String, Option<&str>, &str, bool)> = vec![
        // (extra query, filter on (field, value) applied locally, sort field, desc)
        ("".into(), None, "updated_at", true),
        ("&sort=-amount".into(), None, "amount", true),
        ("&sort=amount".into(), None, "amount", false),
        ("&sort=title".into(), None, "title", false),
        ("&sort=-title".into(), None, "title", true),
        ("&sort=expected_close_date".into(), None, "expected_close_date", false),
        ("&sort=-expected_close_date".into(), None, "expected_close_date", true),
        ("&sort=-created_at".into(), None, "created_at", true),
        ("&sort=company_id".into(), None, "company_id", false),
        ("&sort=-id".into(), None, "id", true),
        ("&sort=id".into(), None, "id", false),
        ("&stage=Proposal&sort=expected_close_date".into(), Some("Proposal"), "expected_close_date", false),
        ("&stage=proposal&sort=-expected_close_date".into(), Some("Proposal"), "expected_close_date", true),
        ("&stage=Proposal&sort=-amount".into(), Some("Proposal"), "amount", true),
        (format!("&company_id={a}&sort=title"), None, "title", false),
    ];
    for (extra, stage, field, desc) in cases {
        let matching: Vec<Value> = everything
            .iter()
            .filter(|d| stage.is_none_or(|s| d["stage"] == s))
            .filter(|d| !extra.contains("company_id=") || d["company_id"] == json!(a))
            .cloned()
            .collect();
        let path = format!("/api/v1/deals?limit=7&count=true{extra}");
        let (seen, totals) = walk(c, &path, 7).await;
        let seen_ids = ids(&seen);
        assert_no_duplicates(&seen_ids, &path);
        assert_eq!(seen_ids, expected_order(&matching, field, desc), "{path}: every matching record once, in order");
        assert_eq!(totals.len(), matching.len().div_ceil(7).max(1), "{path}: page count");
        for t in &totals {
            assert_eq!(*t, Some(matching.len() as i64), "{path}: total is the same on every page");
        }
    }

    // Without count=true there is no total.
    let body = page(c, "/api/v1/deals?limit=7").await;
    assert!(body.get("total").is_none_or(Value::is_null), "no total unless asked: {body}");

    // A cursor from one sort is not accepted with another sort (or when forged).
    let body = page(c, "/api/v1/deals?limit=7&sort=-amount").await;
    let cur = body["next_cursor"].as_str().expect("cursor").to_string();
    assert_eq!(
        c.get(&format!("/api/v1/deals?limit=7&sort=title&cursor={}", enc(&cur))).await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(c.get("/api/v1/deals?limit=7&cursor=not-a-cursor").await.status, StatusCode::BAD_REQUEST);
    assert_eq!(c.get("/api/v1/deals?limit=0").await.status, StatusCode::BAD_REQUEST);
    assert_eq!(c.get("/api/v1/deals?limit=201").await.status, StatusCode::BAD_REQUEST);
}
both_backends!(keyset_pages_return_every_record_once_in_order);

async fn pagination_is_stable_under_concurrent_inserts(app: &TestApp) {
    let c = &app.admin;
    // Names "stab 000", "stab 008", ... leave gaps for later inserts to fall into.
    for i in 0..24 {
        c.create("companies", json!({ "name": format!("stab {:03}", i * 8) })).await;
    }

    for (batch, sort) in ["-created_at", "-updated_at", "name", "-name"].into_iter().enumerate() {
        let existing_ids = all_ids(c, "/api/v1/companies?name[contains]=stab").await;
        let base = format!("/api/v1/companies?limit=7&sort={sort}&name[contains]=stab");
        let first = page(c, &base).await;
        let mut seen = ids(first["data"].as_array().expect("data"));
        let last_name = first["data"][6]["name"].as_str().expect("name").to_string();
        let mut cursor = first["next_cursor"].as_str().expect("cursor").to_string();

        // New records: under -created_at/-updated_at they sort first (before the cursor);
        // under name they land all over the range, before and after the cursor.
        let mut new_names = Vec::new();
        for k in 0..6 {
            // 32k + 1..4: never a multiple of 8, and distinct for each walk.
            let name = format!("stab {:03}", 32 * k + batch + 1);
            c.create("companies", json!({ "name": name })).await;
            new_names.push(name);
        }
        assert_eq!(new_names.len(), 6);

        for _ in 0..50 {
            let body = page(c, &format!("{base}&cursor={}", enc(&cursor))).await;
            seen.extend(ids(body["data"].as_array().expect("data")));
            match body["next_cursor"].as_str() {
                Some(n) => cursor = n.to_string(),
                None => break,
            }
        }
        assert_no_duplicates(&seen, sort);
        let seen_set = set(seen.clone());
        let missing: Vec<&String> = existing_ids.difference(&seen_set).collect();
        assert!(missing.is_empty(), "sort={sort}: pre-existing records skipped: {missing:?}");

        // Whatever else showed up must be a record created during the walk that sorts
        // after the cursor; under -created_at/-updated_at none does.
        let extra: Vec<&String> = seen_set.difference(&existing_ids).collect();
        match sort {
            "-created_at" | "-updated_at" => {
                assert!(extra.is_empty(), "sort={sort}: new records sort first: {extra:?}")
            }
            _ => {
                let everything = all(c, "/api/v1/companies?name[contains]=stab").await;
                let expected_new: BTreeSet<String> = everything
                    .iter()
                    .filter(|r| !existing_ids.contains(&id_of(r)))
                    .filter(|r| {
                        let n = r["name"].as_str().unwrap_or_default();
                        if sort == "name" { n > last_name.as_str() } else { n < last_name.as_str() }
                    })
                    .map(id_of)
                    .collect();
                assert_eq!(
                    extra.into_iter().cloned().collect::<BTreeSet<_>>(),
                    expected_new,
                    "sort={sort}: new records after the cursor show up, those before it do not"
                );
            }
        }
        // And the walk is in order.
        let all_now = all(c, "/api/v1/companies?name[contains]=stab").await;
        let field = sort.trim_start_matches('-');
        let order: Vec<String> = expected_order(&all_now, field, sort.starts_with('-'))
            .into_iter()
            .filter(|id| seen_set.contains(id))
            .collect();
        assert_eq!(seen, order, "sort={sort}: pages in order");
    }
}
both_backends!(pagination_is_stable_under_concurrent_inserts);

// ---------------------------------------------------------------------------------------
// Full-text search
// ---------------------------------------------------------------------------------------

async fn search_matches_word_prefixes_domains_emails_and_titles(app: &TestApp) {
    let c = &app.admin;
    let acme = id_of(&c.create("companies", json!({ "name": "Acme Corp", "domain": "acme.com" })).await);
    let ts = id_of(&c.create("companies", json!({ "name": "TS Holdings", "domain": "techstart.io" })).await);
    let globex = id_of(&c.create("companies", json!({ "name": "Globex Corporation", "domain": "globex.com" })).await);

    assert_eq!(all_ids(c, "/api/v1/companies?q=acm").await, set([acme.clone()]), "prefix");
    assert_eq!(all_ids(c, "/api/v1/companies?q=ACME").await, set([acme.clone()]), "case-insensitive");
    assert_eq!(all_ids(c, "/api/v1/companies?q=techstart").await, set([ts.clone()]), "by domain");
    assert_eq!(all_ids(c, "/api/v1/companies?q=techst").await, set([ts.clone()]), "domain prefix");
    assert_eq!(
        all_ids(c, "/api/v1/companies?q=corp").await,
        set([acme.clone(), globex.clone()]),
        "Corp and Corporation"
    );
    assert_eq!(
        all_ids(c, &format!("/api/v1/companies?q={}", enc("acme corp"))).await,
        set([acme.clone()]),
        "words are AND-ed"
    );
    assert_eq!(
        all_ids(c, &format!("/api/v1/companies?q={}", enc("acme globex"))).await,
        BTreeSet::new(),
        "AND, not OR"
    );
    assert_eq!(all_ids(c, &format!("/api/v1/companies?q={}", enc("  Globex   corp "))).await, set([globex.clone()]));
    assert_eq!(all_ids(c, "/api/v1/companies?q=orp").await, BTreeSet::new(), "prefixes of words, not infixes");

    let john = id_of(
        &c.create(
            "contacts",
            json!({ "first_name": "John", "last_name": "Smith", "email": "john.smith@acme.com", "company_id": acme }),
        )
        .await,
    );
    let jane = id_of(
        &c.create("contacts", json!({ "first_name": "Jane", "last_name": "Doe", "email": "jane@globex.com" })).await,
    );
    let johnny = id_of(
        &c.create("contacts", json!({ "first_name": "Johnny", "last_name": "Appleseed", "email": "ja@orchard.org" }))
            .await,
    );
    let nomail = id_of(&c.create("contacts", json!({ "last_name": "Nakamura" })).await);

    assert_eq!(all_ids(c, "/api/v1/contacts?q=globex").await, set([jane.clone()]), "by the domain part of the email");
    assert_eq!(all_ids(c, "/api/v1/contacts?q=orchard").await, set([johnny.clone()]));
    assert_eq!(all_ids(c, "/api/v1/contacts?q=doe").await, set([jane.clone()]), "by last name");
    assert_eq!(all_ids(c, "/api/v1/contacts?q=nakam").await, set([nomail]), "by last name prefix");
    assert_eq!(all_ids(c, "/api/v1/contacts?q=john").await, set([john.clone(), johnny.clone()]));
    assert_eq!(all_ids(c, &format!("/api/v1/contacts?q={}", enc("john smith"))).await, set([john.clone()]));
    assert_eq!(
        all_ids(c, &format!("/api/v1/contacts?q={}", enc("smith john"))).await,
        set([john.clone()]),
        "word order does not matter"
    );
    assert_eq!(
        all_ids(c, &format!("/api/v1/contacts?q={}", enc("john.smith@acme.com"))).await,
        set([john.clone()]),
        "a whole email"
    );
    assert_eq!(all_ids(c, &format!("/api/v1/contacts?q={}", enc("jo apple"))).await, set([johnny]));

    let co = id_of(&c.company(json!({})).await);
    let d1 = id_of(&c.deal(&co, json!({ "title": "Enterprise license renewal", "amount": 90000 })).await);
    let d2 = id_of(&c.deal(&co, json!({ "title": "Enterprise support", "amount": 20000 })).await);
    let d3 = id_of(&c.deal(&co, json!({ "title": "Pilot project" })).await);
    assert_eq!(all_ids(c, "/api/v1/deals?q=enterprise").await, set([d1.clone(), d2.clone()]));
    assert_eq!(all_ids(c, &format!("/api/v1/deals?q={}", enc("enterprise supp"))).await, set([d2.clone()]));
    assert_eq!(all_ids(c, "/api/v1/deals?q=pilot").await, set([d3]));
    assert_eq!(all_ids(c, "/api/v1/deals?q=renew").await, set([d1.clone()]));

    // Search combined with a filter.
    assert_eq!(all_ids(c, "/api/v1/deals?q=enterprise&amount[gte]=50000").await, set([d1]));
    assert_eq!(all_ids(c, &format!("/api/v1/contacts?q=john&company_id={acme}")).await, set([john]));

    // Search syntax is not interpreted.
    for q in [
        "\"acme",
        "acme*",
        "acme OR globex",
        "acme' --",
        "a:*|b",
        "(acme)",
        "NEAR(acme globex)",
        "½",
        "日本語",
        "ǅungla",
        "x\u{301}",
        "a & !b",
        "acme:*",
        "^acme",
        "-acme",
        "a b c d e f g h i j k",
    ] {
        let res = c.get(&format!("/api/v1/companies?q={}&limit=200", enc(q))).await;
        assert_eq!(res.status, StatusCode::OK, "q={q}: {}", res.text);
    }
    let ors = all_ids(c, &format!("/api/v1/companies?q={}", enc("acme OR globex"))).await;
    assert_eq!(ors, BTreeSet::new(), "OR is a word to match, not an operator");
}
both_backends!(search_matches_word_prefixes_domains_emails_and_titles);

async fn search_works_with_pagination_count_and_empty_results(app: &TestApp) {
    let c = &app.admin;
    let mut widgets = Vec::new();
    for i in 0..17 {
        let ind = if i % 2 == 0 { "Retail" } else { "Finance" };
        widgets.push(c.create("companies", json!({ "name": format!("Widget Works {i:02}"), "industry": ind })).await);
    }
    for i in 0..5 {
        c.create("companies", json!({ "name": format!("Gadget Shop {i:02}") })).await;
    }

    let (seen, totals) = walk(c, "/api/v1/companies?q=widget&limit=7&count=true&sort=name", 7).await;
    let seen_ids = ids(&seen);
    assert_no_duplicates(&seen_ids, "search walk");
    assert_eq!(seen_ids, expected_order(&widgets, "name", false));
    assert_eq!(totals, vec![Some(17); 3]);

    let (seen, totals) = walk(c, "/api/v1/companies?q=widget&limit=7&count=true", 7).await;
    assert_eq!(set(ids(&seen)), set(ids(&widgets)));
    assert_eq!(totals, vec![Some(17); 3]);

    // Search, filter, paging and count together.
    let retail: Vec<Value> = widgets.iter().filter(|w| w["industry"] == "Retail").cloned().collect();
    let (seen, totals) = walk(c, "/api/v1/companies?q=works&industry=retail&limit=7&count=true&sort=-name", 7).await;
    assert_eq!(ids(&seen), expected_order(&retail, "name", true));
    assert_eq!(totals, vec![Some(9); 2]);

    // Nothing found.
    for q in ["zzzqqq", "widget gadget", "%25%25%25", "%27%27"] {
        let body = page(c, &format!("/api/v1/companies?q={q}&count=true")).await;
        assert_eq!(body["data"], json!([]), "q={q}");
        assert_eq!(body["total"], 0, "q={q}");
        assert!(body["next_cursor"].is_null(), "q={q}");
    }
    // An empty q is no search at all.
    let body = page(c, "/api/v1/companies?q=&count=true").await;
    assert_eq!(body["total"], 22);
}
both_backends!(search_works_with_pagination_count_and_empty_results);

async fn search_follows_updates_and_skips_the_trash(app: &TestApp) {
    let c = &app.admin;
    let old = c.create("companies", json!({ "name": "Oldname Industries" })).await;
    let id = id_of(&old);
    assert_eq!(all_ids(c, "/api/v1/companies?q=oldname").await, set([id.clone()]));

    let res = c.patch(&format!("/api/v1/companies/{id}"), json!({ "name": "Brandnew Industries" })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(all_ids(c, "/api/v1/companies?q=oldname").await, BTreeSet::new(), "the old name is gone from the index");
    assert_eq!(all_ids(c, "/api/v1/companies?q=brandnew").await, set([id.clone()]));
    assert_eq!(all_ids(c, "/api/v1/companies?q=industries").await, set([id.clone()]));

    // A domain added later is searchable.
    let res = c.patch(&format!("/api/v1/companies/{id}"), json!({ "domain": "shinyco.net" })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(all_ids(c, "/api/v1/companies?q=shinyco").await, set([id.clone()]));

    // Contacts: a changed email.
    let ct = id_of(&c.create("contacts", json!({ "first_name": "Ada", "email": "ada@firstmail.org" })).await);
    let res = c.patch(&format!("/api/v1/contacts/{ct}"), json!({ "email": "ada@secondmail.org" })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(all_ids(c, "/api/v1/contacts?q=firstmail").await, BTreeSet::new());
    assert_eq!(all_ids(c, "/api/v1/contacts?q=secondmail").await, set([ct]));

    // Trashed records are not found, except in the trash.
    let other = id_of(&c.create("companies", json!({ "name": "Brandnew Holdings" })).await);
    assert_eq!(all_ids(c, "/api/v1/companies?q=brandnew").await, set([id.clone(), other.clone()]));
    let res = c.delete(&format!("/api/v1/companies/{id}")).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.text);
    assert_eq!(all_ids(c, "/api/v1/companies?q=brandnew").await, set([other.clone()]));
    let body = page(c, "/api/v1/companies?q=brandnew&count=true").await;
    assert_eq!(body["total"], 1);
    assert_eq!(all_ids(c, "/api/v1/companies?q=brandnew&trashed=true").await, set([id.clone()]));

    // Restored: found again.
    let res = c.post(&format!("/api/v1/companies/{id}/restore"), json!({})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(all_ids(c, "/api/v1/companies?q=brandnew").await, set([id, other]));
}
both_backends!(search_follows_updates_and_skips_the_trash);

// ---------------------------------------------------------------------------------------
// Related lists
// ---------------------------------------------------------------------------------------

async fn related_lists_return_exactly_the_linked_records(app: &TestApp) {
    let c = &app.admin;
    let a = id_of(&c.company(json!({})).await);
    let b = id_of(&c.company(json!({})).await);

    let mut a_contacts = Vec::new();
    for i in 0..5 {
        a_contacts.push(id_of(
            &c.create("contacts", json!({ "first_name": "A", "last_name": format!("Person {i}"), "company_id": a }))
                .await,
        ));
    }
    let b_contact = id_of(&c.create("contacts", json!({ "last_name": "B person", "company_id": b })).await);
    c.create("contacts", json!({ "last_name": "Nobody's" })).await;

    let a_d1 = id_of(&c.deal(&a, json!({ "title": "A one", "stage": "Proposal", "amount": 100 })).await);
    let a_d2 = id_of(&c.deal(&a, json!({ "title": "A two", "stage": "Negotiation", "amount": 200 })).await);
    let b_d1 = id_of(&c.deal(&b, json!({ "title": "B one" })).await);

    let act = |subject: &str, extra: Value| {
        let mut body = json!({ "type": "Call", "subject": subject });
        keel_testkit::merge(&mut body, extra);
        body
    };
    let a_act = id_of(&c.create("activities", act("call A", json!({ "company_id": a }))).await);
    let a_d1_act1 =
        id_of(&c.create("activities", act("call A deal 1", json!({ "company_id": a, "deal_id": a_d1 }))).await);
    let a_d1_act2 =
        id_of(&c.create("activities", act("note on A deal 1", json!({ "deal_id": a_d1, "type": "Note" }))).await);
    let b_act = id_of(&c.create("activities", act("call B", json!({ "company_id": b, "deal_id": b_d1 }))).await);
    c.create("activities", act("unlinked", json!({}))).await;

    assert_eq!(all_ids(c, &format!("/api/v1/companies/{a}/contacts")).await, set(a_contacts.clone()));
    assert_eq!(all_ids(c, &format!("/api/v1/companies/{b}/contacts")).await, set([b_contact]));
    assert_eq!(all_ids(c, &format!("/api/v1/companies/{a}/deals")).await, set([a_d1.clone(), a_d2.clone()]));
    assert_eq!(all_ids(c, &format!("/api/v1/companies/{b}/deals")).await, set([b_d1.clone()]));
    assert_eq!(all_ids(c, &format!("/api/v1/companies/{a}/activities")).await, set([a_act.clone(), a_d1_act1.clone()]));
    assert_eq!(all_ids(c, &format!("/api/v1/companies/{b}/activities")).await, set([b_act.clone()]));
    assert_eq!(
        all_ids(c, &format!("/api/v1/deals/{a_d1}/activities")).await,
        set([a_d1_act1.clone(), a_d1_act2.clone()])
    );
    assert_eq!(all_ids(c, &format!("/api/v1/deals/{a_d2}/activities")).await, BTreeSet::new());
    assert_eq!(all_ids(c, &format!("/api/v1/deals/{b_d1}/activities")).await, set([b_act]));

    // Filters, search and sort apply within the related list.
    assert_eq!(all_ids(c, &format!("/api/v1/companies/{a}/deals?stage=proposal")).await, set([a_d1.clone()]));
    assert_eq!(all_ids(c, &format!("/api/v1/companies/{a}/deals?amount[gt]=100")).await, set([a_d2.clone()]));
    assert_eq!(all_ids(c, &format!("/api/v1/deals/{a_d1}/activities?type=note")).await, set([a_d1_act2]));
    assert_eq!(all_ids(c, &format!("/api/v1/companies/{a}/activities?q=deal")).await, set([a_d1_act1]));
    let sorted = all(c, &format!("/api/v1/companies/{a}/deals?sort=-amount")).await;
    assert_eq!(ids(&sorted), vec![a_d2.clone(), a_d1.clone()]);

    // Pagination and count.
    let (seen, totals) = walk(c, &format!("/api/v1/companies/{a}/contacts?limit=2&count=true&sort=last_name"), 2).await;
    assert_eq!(ids(&seen), a_contacts, "5 contacts over 3 pages, by last name");
    assert_eq!(totals, vec![Some(5); 3]);

    // Trashed children leave the related list (and show in its trash view).
    let res = c.delete(&format!("/api/v1/contacts/{}", a_contacts[0])).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.text);
    assert_eq!(all_ids(c, &format!("/api/v1/companies/{a}/contacts")).await, set(a_contacts[1..].to_vec()));
    assert_eq!(all_ids(c, &format!("/api/v1/companies/{a}/contacts?trashed=true")).await, set([a_contacts[0].clone()]));

    // Teammates see the same related lists (a rep outside the team sees none: see permissions.rs).
    let team = app.admin_team().await;
    let (_, rep) = app.member(keel_domain::policy::Role::Rep, &team).await;
    assert_eq!(all_ids(&rep, &format!("/api/v1/companies/{a}/deals")).await, set([a_d1, a_d2]));
}
both_backends!(related_lists_return_exactly_the_linked_records);

async fn related_lists_refuse_unknown_relations_and_missing_parents(app: &TestApp) {
    let c = &app.admin;
    let a = id_of(&c.company(json!({})).await);
    let d = id_of(&c.deal(&a, json!({})).await);
    let missing = uuid::Uuid::now_v7();

    for path in [
        format!("/api/v1/companies/{a}/widgets"),
        format!("/api/v1/companies/{a}/users"),
        format!("/api/v1/companies/{a}/companies"),
        format!("/api/v1/deals/{d}/contacts"),
        format!("/api/v1/deals/{d}/companies"),
        format!("/api/v1/widgets/{a}/contacts"),
        format!("/api/v1/companies/{missing}/contacts"),
        format!("/api/v1/companies/{missing}/deals"),
        format!("/api/v1/deals/{missing}/activities"),
        format!("/api/v1/deals/{a}/activities"),
    ] {
        let res = c.get(&path).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "GET {path}: {}", res.text);
    }

    // A trashed parent still has its related lists (it can be viewed in the trash).
    let res = c.delete(&format!("/api/v1/companies/{a}?cascade=true")).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.text);
    assert_eq!(all_ids(c, &format!("/api/v1/companies/{a}/deals?trashed=true")).await, set([d]));

    // Bad filters on a related list are the caller's mistake.
    let b = id_of(&c.company(json!({})).await);
    let res = c.get(&format!("/api/v1/companies/{b}/deals?nope=1")).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST, "{}", res.text);
}
both_backends!(related_lists_refuse_unknown_relations_and_missing_parents);

async fn search_ignores_accents_on_both_backends(app: &TestApp) {
    let c = app.admin.company(json!({ "name": "Müller Ärztehaus" })).await;
    for q in ["muller", "Müll", "arztehaus", "ÄRZTE"] {
        let res = app.admin.get(&format!("/api/v1/companies?q={q}")).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        let ids: Vec<&str> = res.body["data"]
            .as_array()
            .map(|d| d.iter().filter_map(|r| r["id"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(ids, vec![c["id"].as_str().unwrap_or_default()], "q={q}");
    }
}
both_backends!(search_ignores_accents_on_both_backends);
