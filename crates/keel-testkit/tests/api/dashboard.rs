//! The dashboard (`GET /api/v1/dashboard`) over HTTP on both databases: every figure for a
//! known set of deals, the top-companies ranking and its cut, what each role may see of
//! it, the default date from the service's clock, and bad input.

use keel_domain::clock::Clock;
use keel_domain::policy::Role;
use keel_testkit::{Client, TestApp, both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A date far enough ahead that expected close dates around it are never "in the past".
const TODAY: &str = "2099-03-10";

async fn dashboard(client: &Client, query: &str) -> Value {
    let res = client.get(&format!("/api/v1/dashboard{query}")).await;
    assert_eq!(res.status, StatusCode::OK, "dashboard{query}: {}", res.text);
    res.body
}

async fn company(app: &TestApp, name: &str, extra: Value) -> String {
    let mut body = json!({ "name": name });
    keel_testkit::merge(&mut body, extra);
    app.admin.create("companies", body).await["id"].as_str().expect("company id").to_string()
}

/// A deal the admin creates: `stage`, `amount`, and a close date (actual for closed
/// stages, expected for open ones), plus any extra fields.
async fn deal(app: &TestApp, company: &str, stage: &str, amount: i64, date: Option<&str>, extra: Value) -> String {
    let date_field = if stage.starts_with("Closed") { "actual_close_date" } else { "expected_close_date" };
    let mut body = json!({ "stage": stage, "amount": amount, date_field: date });
    keel_testkit::merge(&mut body, extra);
    app.admin.deal(company, body).await["id"].as_str().expect("deal id").to_string()
}

fn tally(count: i64, amount: i64) -> Value {
    json!({ "count": count, "amount": amount })
}

async fn figures_for_a_known_set_of_deals(app: &TestApp) {
    let a = company(app, "Alpha Inc", json!({})).await;
    let b = company(app, "Beta LLC", json!({})).await;
    let c = company(app, "Gamma plc", json!({})).await;

    // Won: two this month (one after today: the whole month counts), one last month, one
    // in the window's first month, one just before the window and one after it.
    deal(app, &a, "Closed Won", 1_000, Some("2099-03-02"), json!({ "expected_close_date": "2099-03-12" })).await;
    deal(app, &a, "Closed Won", 2_000, Some("2099-03-28"), json!({})).await;
    deal(app, &b, "Closed Won", 5_000, Some("2099-02-15"), json!({})).await;
    deal(app, &c, "Closed Won", 700, Some("2098-04-01"), json!({})).await;
    deal(app, &c, "Closed Won", 900, Some("2098-03-31"), json!({})).await;
    deal(app, &a, "Closed Won", 300, Some("2099-04-01"), json!({})).await;
    // Lost: one in the window, one before it.
    deal(app, &b, "Closed Lost", 400, Some("2099-01-20"), json!({})).await;
    deal(app, &b, "Closed Lost", 100, Some("2098-03-15"), json!({})).await;
    // Open: closing today, at today + 7, + 8, + 30, + 31, never, and before today.
    deal(app, &a, "Prospecting", 10_000, Some("2099-03-10"), json!({})).await;
    deal(app, &b, "Proposal", 20_000, Some("2099-03-17"), json!({})).await;
    deal(app, &c, "Proposal", 30_001, Some("2099-03-18"), json!({})).await;
    deal(app, &a, "Negotiation", 40_000, Some("2099-04-09"), json!({})).await;
    deal(app, &b, "Negotiation", 50_000, Some("2099-04-10"), json!({})).await;
    deal(app, &c, "Qualification", 60_000, None, json!({})).await;
    deal(app, &a, "Prospecting", 5, Some("2099-03-09"), json!({})).await;
    // A deal in the trash counts nowhere.
    let trashed = deal(app, &a, "Prospecting", 999, Some("2099-03-11"), json!({})).await;
    assert_eq!(app.admin.delete(&format!("/api/v1/deals/{trashed}")).await.status, StatusCode::NO_CONTENT);
    let trashed_won = deal(app, &a, "Closed Won", 777, Some("2099-03-03"), json!({})).await;
    assert_eq!(app.admin.delete(&format!("/api/v1/deals/{trashed_won}")).await.status, StatusCode::NO_CONTENT);

    let d = dashboard(&app.admin, &format!("?today={TODAY}")).await;
    assert_eq!(d["today"], TODAY);
    assert_eq!(d["won_this_month"], tally(2, 3_000));
    assert_eq!(d["won_last_month"], tally(1, 5_000));
    assert_eq!(d["closing_next_7_days"], tally(2, 30_000), "today and today + 7 are both in");
    assert_eq!(d["closing_next_30_days"], tally(4, 100_001), "today + 30 is in, + 31 is not");
    assert_eq!(d["conversion"], json!({ "won": 4, "lost": 1, "rate": 0.8 }));

    let months = d["revenue_by_month"].as_array().expect("revenue_by_month");
    let labels: Vec<&str> = months.iter().filter_map(|m| m["month"].as_str()).collect();
    assert_eq!(
        labels,
        [
            "2098-04", "2098-05", "2098-06", "2098-07", "2098-08", "2098-09", "2098-10", "2098-11", "2098-12",
            "2099-01", "2099-02", "2099-03"
        ]
    );
    assert_eq!(months[0], json!({ "month": "2098-04", "count": 1, "amount": 700 }));
    assert_eq!(months[10], json!({ "month": "2099-02", "count": 1, "amount": 5_000 }));
    assert_eq!(months[11], json!({ "month": "2099-03", "count": 2, "amount": 3_000 }));
    assert!(months[1..10].iter().all(|m| m["count"] == 0 && m["amount"] == 0), "{months:?}");

    assert_eq!(
        d["open_by_stage"],
        json!([
            // (10,000 × 10 + 5 × 10) / 100, rounded down once over the stage.
            { "stage": "Prospecting", "count": 2, "amount": 10_005, "weighted_amount": 1_000 },
            { "stage": "Qualification", "count": 1, "amount": 60_000, "weighted_amount": 15_000 },
            { "stage": "Proposal", "count": 2, "amount": 50_001, "weighted_amount": 25_000 },
            { "stage": "Negotiation", "count": 2, "amount": 90_000, "weighted_amount": 67_500 },
        ])
    );

    // All-time won amount per company, largest first.
    assert_eq!(
        d["top_companies"],
        json!([
            { "company_id": b, "name": "Beta LLC", "count": 1, "amount": 5_000 },
            { "company_id": a, "name": "Alpha Inc", "count": 3, "amount": 3_300 },
            { "company_id": c, "name": "Gamma plc", "count": 2, "amount": 1_600 },
        ])
    );
    assert!(d.get("_redacted_from_sums").is_none(), "an admin reads every amount");

    // Another day moves every window: on 2099-04-02, March is last month.
    let d = dashboard(&app.admin, "?today=2099-04-02").await;
    assert_eq!(d["won_this_month"], tally(1, 300));
    assert_eq!(d["won_last_month"], tally(2, 3_000));
    assert_eq!(d["closing_next_7_days"], tally(1, 40_000), "2099-04-09 is today + 7");
    assert_eq!(d["closing_next_30_days"], tally(2, 90_000));
    assert_eq!(d["conversion"], json!({ "won": 4, "lost": 1, "rate": 0.8 }), "April 2098 left the window");
    assert_eq!(d["revenue_by_month"][0]["month"], "2098-05");
}
both_backends!(figures_for_a_known_set_of_deals);

async fn an_empty_dashboard_is_zero_filled(app: &TestApp) {
    let d = dashboard(&app.admin, "?today=2026-01-15").await;
    assert_eq!(d["won_this_month"], tally(0, 0));
    assert_eq!(d["won_last_month"], tally(0, 0));
    assert_eq!(d["conversion"], json!({ "won": 0, "lost": 0, "rate": null }));
    let months: Vec<&str> =
        d["revenue_by_month"].as_array().expect("months").iter().filter_map(|m| m["month"].as_str()).collect();
    assert_eq!(months.first(), Some(&"2025-02"));
    assert_eq!(months.last(), Some(&"2026-01"));
    assert_eq!(months.len(), 12);
    let stages: Vec<&str> =
        d["open_by_stage"].as_array().expect("stages").iter().filter_map(|s| s["stage"].as_str()).collect();
    assert_eq!(stages, ["Prospecting", "Qualification", "Proposal", "Negotiation"]);
    assert!(
        d["open_by_stage"]
            .as_array()
            .expect("stages")
            .iter()
            .all(|s| s["count"] == 0 && s["amount"] == 0 && s["weighted_amount"] == 0)
    );
    assert_eq!(d["top_companies"], json!([]));
}
both_backends!(an_empty_dashboard_is_zero_filled);

async fn top_companies_are_ten_by_won_amount_with_ties_by_name(app: &TestApp) {
    // Four companies tie at 4,000 across the cut at ten; they are created in reverse name
    // order so that neither creation order nor id order gives the expected answer.
    let mut ids = std::collections::BTreeMap::new();
    for name in ["Tie C", "Tie B", "Tie A"] {
        let id = company(app, name, json!({})).await;
        deal(app, &id, "Closed Won", 4_000, Some("2099-01-05"), json!({})).await;
        ids.insert(name.to_string(), id);
    }
    for i in 1..=11_i64 {
        let name = format!("Co {i:02}");
        let id = company(app, &name, json!({})).await;
        // Two deals each, in different months: sums, not single deals, are ranked.
        deal(app, &id, "Closed Won", i * 1_000 - 100, Some("2098-06-05"), json!({})).await;
        deal(app, &id, "Closed Won", 100, Some("2099-02-05"), json!({})).await;
        ids.insert(name, id);
    }
    // Open and lost deals do not count towards a company's rank.
    deal(app, &ids["Co 01"], "Closed Lost", 1_000_000, Some("2099-01-05"), json!({})).await;
    deal(app, &ids["Co 01"], "Negotiation", 1_000_000, Some("2099-05-05"), json!({})).await;

    let d = dashboard(&app.admin, &format!("?today={TODAY}")).await;
    let top = d["top_companies"].as_array().expect("top_companies");
    let names: Vec<&str> = top.iter().filter_map(|c| c["name"].as_str()).collect();
    assert_eq!(
        names,
        ["Co 11", "Co 10", "Co 09", "Co 08", "Co 07", "Co 06", "Co 05", "Co 04", "Tie A", "Tie B"],
        "{top:?}"
    );
    assert_eq!(top[0], json!({ "company_id": ids["Co 11"], "name": "Co 11", "count": 2, "amount": 11_000 }));
    assert_eq!(top[9], json!({ "company_id": ids["Tie B"], "name": "Tie B", "count": 1, "amount": 4_000 }));
}
both_backends!(top_companies_are_ten_by_won_amount_with_ties_by_name);

async fn each_role_sees_only_what_it_may(app: &TestApp) {
    let east = app.team("East").await;
    let west = app.team("West").await;
    let (r1, rep) = app.member(Role::Rep, &east).await;
    let (r2, _) = app.member(Role::Rep, &east).await;
    let (r3, west_rep) = app.member(Role::Rep, &west).await;
    let (_, manager) = app.member(Role::Manager, &east).await;
    let (r1, r2, r3) = (r1["id"].clone(), r2["id"].clone(), r3["id"].clone());

    let mine = company(app, "Mine Co", json!({ "owner_id": r1 })).await;
    let teammates = company(app, "Teammate Co", json!({ "owner_id": r2 })).await;
    let westerners = company(app, "West Co", json!({ "owner_id": r3 })).await;
    // The admin's own company: no rep or manager of East may see it.
    let hidden = company(app, "Hidden Co", json!({})).await;
    let aardvark = company(app, "Aardvark Co", json!({})).await;

    let won = |owner: &Value| json!({ "owner_id": owner });
    deal(app, &mine, "Closed Won", 1_000, Some("2099-03-01"), won(&r1)).await;
    deal(app, &teammates, "Closed Won", 2_000, Some("2099-03-02"), won(&r2)).await;
    deal(app, &westerners, "Closed Won", 4_000, Some("2099-03-03"), won(&r3)).await;
    deal(app, &hidden, "Closed Won", 8_000, Some("2099-03-04"), won(&r1)).await;
    // Ties with Mine Co: the rep must not learn where a company they may not see sorts.
    deal(app, &aardvark, "Closed Won", 1_000, Some("2099-03-04"), won(&r1)).await;
    deal(app, &westerners, "Closed Lost", 16_000, Some("2099-03-05"), won(&r3)).await;
    deal(app, &teammates, "Proposal", 32_000, Some("2099-03-12"), won(&r2)).await;
    deal(app, &mine, "Proposal", 64_000, Some("2099-03-13"), won(&r1)).await;

    let query = format!("?today={TODAY}");
    let admin = dashboard(&app.admin, &query).await;
    assert_eq!(admin["won_this_month"], tally(5, 16_000));
    assert_eq!(admin["conversion"]["lost"], 1);
    let names: Vec<&str> =
        admin["top_companies"].as_array().expect("top").iter().filter_map(|c| c["name"].as_str()).collect();
    assert_eq!(names, ["Hidden Co", "West Co", "Teammate Co", "Aardvark Co", "Mine Co"]);

    // A rep counts their team's deals but sums only their own amounts; the West team's
    // deals are not there at all.
    let d = dashboard(&rep, &query).await;
    assert_eq!(d["won_this_month"], tally(4, 10_000), "a teammate's amount must not leak through a sum");
    assert_eq!(d["conversion"], json!({ "won": 4, "lost": 0, "rate": 1.0 }));
    assert_eq!(d["closing_next_7_days"], tally(2, 64_000));
    assert_eq!(
        d["open_by_stage"][2],
        json!({ "stage": "Proposal", "count": 2, "amount": 64_000, "weighted_amount": 32_000 })
    );
    assert_eq!(d["revenue_by_month"][11], json!({ "month": "2099-03", "count": 4, "amount": 10_000 }));
    assert_eq!(d["_redacted_from_sums"], json!(["amount"]));
    // Ranked by what the rep may read; a company they may not see has no name, and in a
    // tie it comes after the ones they can see.
    assert_eq!(
        d["top_companies"],
        json!([
            { "company_id": hidden, "name": null, "count": 1, "amount": 8_000 },
            { "company_id": mine, "name": "Mine Co", "count": 1, "amount": 1_000 },
            { "company_id": aardvark, "name": null, "count": 1, "amount": 1_000 },
            { "company_id": teammates, "name": "Teammate Co", "count": 1, "amount": 0 },
        ])
    );

    // The manager reads every amount of their team.
    let d = dashboard(&manager, &query).await;
    assert_eq!(d["won_this_month"], tally(4, 12_000));
    assert_eq!(d["top_companies"][0], json!({ "company_id": hidden, "name": null, "count": 1, "amount": 8_000 }));
    assert_eq!(d["top_companies"][3], json!({ "company_id": aardvark, "name": null, "count": 1, "amount": 1_000 }));
    assert!(d.get("_redacted_from_sums").is_none());

    let d = dashboard(&west_rep, &query).await;
    assert_eq!(d["won_this_month"], tally(1, 4_000));
    assert_eq!(d["conversion"], json!({ "won": 1, "lost": 1, "rate": 0.5 }));
    assert_eq!(
        d["top_companies"],
        json!([{ "company_id": westerners, "name": "West Co", "count": 1, "amount": 4_000 }])
    );
}
both_backends!(each_role_sees_only_what_it_may);

async fn today_defaults_to_the_services_utc_date(app: &TestApp) {
    let company = app.admin.company(json!({})).await["id"].as_str().expect("id").to_string();
    // Closed today by the service's clock.
    app.admin.deal(&company, json!({ "stage": "Closed Won", "amount": 1_234 })).await;
    let today = keel_domain::value::format_date(app.clock.now().date());
    let d = dashboard(&app.admin, "").await;
    assert_eq!(d["today"], today.as_str());
    assert_eq!(d["won_this_month"], tally(1, 1_234));
    assert_eq!(d["revenue_by_month"][11]["month"], &today[..7]);

    app.clock.advance(time::Duration::days(62));
    let later = keel_domain::value::format_date(app.clock.now().date());
    let d = dashboard(&app.admin, "").await;
    assert_eq!(d["today"], later.as_str());
    assert_eq!(d["won_this_month"], tally(0, 0));
    let months = d["revenue_by_month"].as_array().expect("months");
    let closed = months.iter().find(|m| m["month"] == today[..7]).expect("the close month is in the window");
    assert_eq!(closed["count"], 1);
}
both_backends!(today_defaults_to_the_services_utc_date);

async fn bad_queries_and_anonymous_callers_are_refused(app: &TestApp) {
    for bad in ["2026-13-01", "2026-02-30", "24/11/2026", "", "9999-12-31", "2026-11-24T00:00:00Z"] {
        let res = app.admin.get(&format!("/api/v1/dashboard?today={bad}")).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "today={bad}: {}", res.text);
        assert_eq!(res.body["code"], "invalid_query");
        assert_eq!(res.error_fields(), ["today"], "today={bad}");
        assert_eq!(res.header("content-type"), Some("application/problem+json"));
    }
    let res = app.admin.get("/api/v1/dashboard?today=2026-11-24&today=2026-11-25").await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert_eq!(res.error_fields(), ["today"]);
    let res = app.admin.get("/api/v1/dashboard?today=2026-11-24&stage=Proposal&limit=5").await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert_eq!(res.body["code"], "invalid_query");
    assert_eq!(res.error_fields(), ["stage", "limit"]);

    let anon = app.anonymous();
    for path in ["/api/v1/dashboard", "/api/v1/dashboard?today=bad"] {
        let res = anon.get(path).await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{path}: {}", res.text);
        assert_eq!(res.body["code"], "unauthenticated");
    }
    let res = app.admin.post("/api/v1/dashboard", json!({})).await;
    assert_eq!(res.status, StatusCode::METHOD_NOT_ALLOWED, "{}", res.text);
}
both_backends!(bad_queries_and_anonymous_callers_are_refused);

async fn custom_field_rules_limit_the_figures(app: &TestApp) {
    // A role that sees every deal, never their amounts, and close dates only on its own.
    let role = json!({
        "name": "forecaster",
        "label": "Forecaster",
        "permissions": { "deals": { "read": "all" }, "companies": { "read": "all" } },
        "field_rules": [
            { "entity": "deals", "field": "amount", "read": "none", "write": "none" },
            { "entity": "deals", "field": "actual_close_date", "read": "own", "write": "own" }
        ]
    });
    let res = app.admin.post("/api/v1/roles", role).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let (user, forecaster) = app.user(Role::Rep).await;
    let uid = user["id"].clone();
    let res =
        app.admin.patch(&format!("/api/v1/users/{}", uid.as_str().expect("id")), json!({ "role": "forecaster" })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);

    let acme = company(app, "Acme", json!({})).await;
    deal(app, &acme, "Closed Won", 1_000, Some("2099-03-01"), json!({ "owner_id": uid })).await;
    deal(app, &acme, "Closed Won", 2_000, Some("2099-03-02"), json!({})).await;
    deal(app, &acme, "Proposal", 3_000, Some("2099-03-11"), json!({})).await;

    let d = dashboard(&forecaster, &format!("?today={TODAY}")).await;
    assert_eq!(d["won_this_month"], tally(1, 0), "close dates it may not read are not counted; no amount at all");
    assert_eq!(d["conversion"], json!({ "won": 1, "lost": 0, "rate": 1.0 }));
    assert_eq!(d["closing_next_7_days"], tally(1, 0));
    assert_eq!(d["open_by_stage"][2], json!({ "stage": "Proposal", "count": 1, "amount": 0, "weighted_amount": 0 }));
    assert_eq!(d["top_companies"], json!([{ "company_id": acme, "name": "Acme", "count": 2, "amount": 0 }]));
    assert_eq!(d["_redacted_from_sums"], json!(["amount", "actual_close_date"]));

    // The pipeline's aggregate endpoint hides the amount the same way, own deals included.
    let agg = forecaster.get("/api/v1/deals/aggregate?group_by=stage").await;
    assert_eq!(agg.status, StatusCode::OK, "{}", agg.text);
    assert_eq!(agg.body["total"]["count"], 3);
    assert_eq!(agg.body["total"]["sum"]["amount"], 0, "{}", agg.text);
    assert_eq!(agg.body["total"]["weighted_amount"], 0, "{}", agg.text);
}
both_backends!(custom_field_rules_limit_the_figures);
