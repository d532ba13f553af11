//! Validation rules over HTTP: every rule of the built-in entities answers 422
//! `validation_failed` naming the field (and writes nothing), and the normalising rules
//! store the normal form.

use keel_domain::policy::Role;
use keel_testkit::{Client, Response, TestApp, both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// How many live records `entity` holds, as the admin sees them.
async fn count(app: &TestApp, entity: &str) -> i64 {
    let res = app.admin.get(&format!("/api/v1/{entity}?count=true&limit=1")).await;
    assert_eq!(res.status, StatusCode::OK, "count {entity}: {}", res.text);
    res.body["total"].as_i64().unwrap_or_else(|| panic!("no total in {}", res.text))
}

/// The code of the error on `field`, if any.
fn field_code(res: &Response, field: &str) -> Option<String> {
    res.body["errors"]
        .as_array()?
        .iter()
        .find(|e| e["field"] == field)
        .and_then(|e| e["code"].as_str())
        .map(str::to_string)
}

/// A 422 `validation_failed` problem with an error on `field` (with `code`, when given).
fn assert_invalid(res: &Response, field: &str, code: Option<&str>) {
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "expected 422 on `{field}`: {}", res.text);
    assert_eq!(res.body["code"], "validation_failed", "{}", res.text);
    assert!(
        res.header("content-type").is_some_and(|c| c.starts_with("application/problem+json")),
        "problem+json: {:?}",
        res.header("content-type")
    );
    assert!(res.error_fields().iter().any(|f| f == field), "expected an error on `{field}`: {}", res.text);
    if let Some(code) = code {
        assert_eq!(field_code(res, field).as_deref(), Some(code), "code on `{field}`: {}", res.text);
    }
}

/// POST that must be refused on `field` and must not add a record.
async fn rejected_create(
    app: &TestApp,
    client: &Client,
    entity: &str,
    body: Value,
    field: &str,
    code: Option<&str>,
) -> Response {
    let before = count(app, entity).await;
    let res = client.post(&format!("/api/v1/{entity}"), body).await;
    assert_invalid(&res, field, code);
    assert_eq!(count(app, entity).await, before, "a refused create of {entity} wrote a record");
    res
}

/// PATCH that must be refused on `field` and must leave the record as it was.
async fn rejected_patch(
    app: &TestApp,
    entity: &str,
    id: &str,
    body: Value,
    field: &str,
    code: Option<&str>,
) -> Response {
    let path = format!("/api/v1/{entity}/{id}");
    let before = app.admin.get(&path).await;
    assert_eq!(before.status, StatusCode::OK, "{}", before.text);
    let res = app.admin.patch(&path, body).await;
    assert_invalid(&res, field, code);
    let after = app.admin.get(&path).await;
    assert_eq!(after.body, before.body, "a refused PATCH changed the record");
    res
}

fn unique(prefix: &str) -> String {
    format!("{prefix} {}", &uuid::Uuid::now_v7().simple().to_string()[16..])
}

// ---------------------------------------------------------------- companies

async fn company_name_is_required_bounded_and_unique(app: &TestApp) {
    rejected_create(
        app,
        &app.admin,
        "companies",
        json!({ "domain": "nameless.example.com" }),
        "name",
        Some("required"),
    )
    .await;
    rejected_create(app, &app.admin, "companies", json!({ "name": "" }), "name", Some("required")).await;
    rejected_create(app, &app.admin, "companies", json!({ "name": "   " }), "name", Some("required")).await;
    rejected_create(app, &app.admin, "companies", json!({ "name": null }), "name", Some("required")).await;
    rejected_create(app, &app.admin, "companies", json!({ "name": "x".repeat(201) }), "name", Some("too_long")).await;
    // 200 characters (multi-byte ones count as one each) is the limit, not past it.
    let at_limit = "é".repeat(200);
    let created = app.admin.create("companies", json!({ "name": at_limit })).await;
    assert_eq!(created["name"], at_limit);

    // Leading/trailing space is trimmed.
    let acme = app.admin.create("companies", json!({ "name": "  Acme  " })).await;
    assert_eq!(acme["name"], "Acme");
    for clash in ["ACME", "acme", " Acme "] {
        rejected_create(app, &app.admin, "companies", json!({ "name": clash }), "name", Some("taken")).await;
    }
    // Renaming another company onto the name clashes too.
    let other = app.admin.company(json!({})).await;
    let other_id = other["id"].as_str().expect("id");
    rejected_patch(app, "companies", other_id, json!({ "name": "aCmE" }), "name", Some("taken")).await;
    rejected_patch(app, "companies", other_id, json!({ "name": "" }), "name", Some("required")).await;
    rejected_patch(app, "companies", other_id, json!({ "name": null }), "name", Some("required")).await;
    // A company keeps its own name on an unrelated PATCH (it does not clash with itself).
    let acme_id = acme["id"].as_str().expect("id");
    let res = app
        .admin
        .patch(&format!("/api/v1/companies/{acme_id}"), json!({ "name": "ACME", "city": "Springfield" }))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["name"], "ACME");
}
both_backends!(company_name_is_required_bounded_and_unique);

async fn company_domain_is_lowercased_checked_and_unique(app: &TestApp) {
    let c = app.admin.create("companies", json!({ "name": unique("Domain"), "domain": "Acme.COM" })).await;
    assert_eq!(c["domain"], "acme.com");
    let pasted = app
        .admin
        .create("companies", json!({ "name": unique("Domain"), "domain": "https://WWW.Initech.com/about" }))
        .await;
    assert_eq!(pasted["domain"], "www.initech.com");

    for bad in ["acme .com", "acme", "acme_corp.com", "-acme.com", "ac me.com"] {
        rejected_create(
            app,
            &app.admin,
            "companies",
            json!({ "name": unique("Domain"), "domain": bad }),
            "domain",
            Some("invalid_domain"),
        )
        .await;
    }
    for clash in ["acme.com", "ACME.com", "https://acme.com/"] {
        rejected_create(
            app,
            &app.admin,
            "companies",
            json!({ "name": unique("Domain"), "domain": clash }),
            "domain",
            Some("taken"),
        )
        .await;
    }
    let other = app.admin.company(json!({})).await;
    rejected_patch(
        app,
        "companies",
        other["id"].as_str().expect("id"),
        json!({ "domain": "Acme.Com" }),
        "domain",
        Some("taken"),
    )
    .await;
    rejected_patch(
        app,
        "companies",
        other["id"].as_str().expect("id"),
        json!({ "domain": "not a domain" }),
        "domain",
        Some("invalid_domain"),
    )
    .await;
}
both_backends!(company_domain_is_lowercased_checked_and_unique);

async fn company_phone_is_normalised_to_e164(app: &TestApp) {
    let us = app.admin.company(json!({ "phone": "(415) 555-2671" })).await;
    assert_eq!(us["phone"], "+14155552671");
    let intl = app.admin.company(json!({ "phone": "+49 30 901820" })).await;
    assert_eq!(intl["phone"], "+4930901820");
    // A German national number, read in the company's country.
    let de = app.admin.company(json!({ "country": "DE", "phone": "030 901820" })).await;
    assert_eq!(de["phone"], "+4930901820");
    // ... also when the country was stored earlier and only the phone changes.
    let de_id = de["id"].as_str().expect("id");
    let res = app.admin.patch(&format!("/api/v1/companies/{de_id}"), json!({ "phone": "089 12345678" })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["phone"], "+498912345678");

    for junk in ["call me maybe", "123", "+1 555", "415-555-267x-99"] {
        rejected_create(
            app,
            &app.admin,
            "companies",
            json!({ "name": unique("Phone"), "phone": junk }),
            "phone",
            Some("invalid_phone"),
        )
        .await;
    }
    rejected_patch(
        app,
        "companies",
        us["id"].as_str().expect("id"),
        json!({ "phone": "not a phone" }),
        "phone",
        Some("invalid_phone"),
    )
    .await;
    rejected_create(
        app,
        &app.admin,
        "companies",
        json!({ "name": unique("Phone"), "phone": 4155552671_i64 }),
        "phone",
        Some("wrong_type"),
    )
    .await;
}
both_backends!(company_phone_is_normalised_to_e164);

async fn company_website_gets_a_scheme_and_junk_is_refused(app: &TestApp) {
    let c = app.admin.company(json!({ "website": "acme.com" })).await;
    assert_eq!(c["website"], "https://acme.com/");
    let c = app.admin.company(json!({ "website": "http://acme.com/about" })).await;
    assert_eq!(c["website"], "http://acme.com/about");
    for bad in
        ["javascript:alert(1)", "not a url", "ftp://acme.com", "https://", "data:text/html,<script>alert(1)</script>"]
    {
        rejected_create(
            app,
            &app.admin,
            "companies",
            json!({ "name": unique("Web"), "website": bad }),
            "website",
            Some("invalid_url"),
        )
        .await;
    }
}
both_backends!(company_website_gets_a_scheme_and_junk_is_refused);

async fn company_select_fields_take_only_their_options(app: &TestApp) {
    rejected_create(
        app,
        &app.admin,
        "companies",
        json!({ "name": unique("Sel"), "industry": "Aerospace" }),
        "industry",
        Some("invalid_option"),
    )
    .await;
    rejected_create(
        app,
        &app.admin,
        "companies",
        json!({ "name": unique("Sel"), "size": "huge" }),
        "size",
        Some("invalid_option"),
    )
    .await;
    rejected_create(
        app,
        &app.admin,
        "companies",
        json!({ "name": unique("Sel"), "size": "1-100" }),
        "size",
        Some("invalid_option"),
    )
    .await;
    rejected_create(
        app,
        &app.admin,
        "companies",
        json!({ "name": unique("Sel"), "industry": 3 }),
        "industry",
        Some("wrong_type"),
    )
    .await;

    // Options match case-insensitively and are stored as the option is spelled.
    let c = app.admin.company(json!({ "industry": "technology", "size": "1000+" })).await;
    assert_eq!(c["industry"], "Technology");
    assert_eq!(c["size"], "1000+");
    let c = app.admin.company(json!({ "industry": "  HEALTHCARE " })).await;
    assert_eq!(c["industry"], "Healthcare");
    rejected_patch(
        app,
        "companies",
        c["id"].as_str().expect("id"),
        json!({ "industry": "Mining" }),
        "industry",
        Some("invalid_option"),
    )
    .await;
    // Clearing an optional select is fine.
    let res = app
        .admin
        .patch(&format!("/api/v1/companies/{}", c["id"].as_str().expect("id")), json!({ "industry": null }))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["industry"], Value::Null);
}
both_backends!(company_select_fields_take_only_their_options);

// ---------------------------------------------------------------- contacts

async fn contact_needs_a_name_and_full_name_is_derived(app: &TestApp) {
    let res = rejected_create(
        app,
        &app.admin,
        "contacts",
        json!({ "email": "nobody@example.com" }),
        "first_name",
        Some("name_required"),
    )
    .await;
    assert!(res.error_fields().contains(&"last_name".to_string()), "{}", res.text);
    let res =
        rejected_create(app, &app.admin, "contacts", json!({ "first_name": " ", "last_name": "" }), "first_name", None)
            .await;
    assert!(res.error_fields().contains(&"last_name".to_string()), "{}", res.text);

    let c = app.admin.create("contacts", json!({ "first_name": "Sarah", "last_name": "Johnson" })).await;
    assert_eq!(c["full_name"], "Sarah Johnson");
    let only_last = app.admin.create("contacts", json!({ "last_name": "Ng" })).await;
    assert_eq!(only_last["full_name"], "Ng");
    let only_first = app.admin.create("contacts", json!({ "first_name": "Cher" })).await;
    assert_eq!(only_first["full_name"], "Cher");

    let id = c["id"].as_str().expect("id");
    let path = format!("/api/v1/contacts/{id}");
    let res = app.admin.patch(&path, json!({ "last_name": "Smith" })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["full_name"], "Sarah Smith");
    let res = app.admin.patch(&path, json!({ "first_name": null })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["full_name"], "Smith");
    assert_eq!(app.admin.get(&path).await.body["full_name"], "Smith");
    // Removing the last remaining name is refused on both fields.
    let res =
        rejected_patch(app, "contacts", id, json!({ "last_name": null }), "last_name", Some("name_required")).await;
    assert!(res.error_fields().contains(&"first_name".to_string()), "{}", res.text);
    rejected_create(
        app,
        &app.admin,
        "contacts",
        json!({ "first_name": "x".repeat(101) }),
        "first_name",
        Some("too_long"),
    )
    .await;
}
both_backends!(contact_needs_a_name_and_full_name_is_derived);

async fn contact_full_name_is_read_only(app: &TestApp) {
    rejected_create(
        app,
        &app.admin,
        "contacts",
        json!({ "first_name": "Ann", "full_name": "Someone Else" }),
        "full_name",
        Some("read_only"),
    )
    .await;
    let c = app.admin.create("contacts", json!({ "first_name": "Ann" })).await;
    rejected_patch(
        app,
        "contacts",
        c["id"].as_str().expect("id"),
        json!({ "full_name": "Forged" }),
        "full_name",
        Some("read_only"),
    )
    .await;
}
both_backends!(contact_full_name_is_read_only);

async fn contact_email_is_checked_lowercased_and_unique(app: &TestApp) {
    for bad in ["not-an-email", "john@", "john smith@acme.com", "@acme.com", "john@@acme.com"] {
        rejected_create(
            app,
            &app.admin,
            "contacts",
            json!({ "first_name": "J", "email": bad }),
            "email",
            Some("invalid_email"),
        )
        .await;
    }
    let c = app.admin.create("contacts", json!({ "first_name": "Sarah", "email": "Sarah.Johnson@Acme.COM" })).await;
    assert_eq!(c["email"], "sarah.johnson@acme.com");
    for clash in ["sarah.johnson@acme.com", "SARAH.JOHNSON@ACME.COM", " Sarah.Johnson@acme.com "] {
        rejected_create(
            app,
            &app.admin,
            "contacts",
            json!({ "first_name": "Other", "email": clash }),
            "email",
            Some("taken"),
        )
        .await;
    }
    let other = app.admin.create("contacts", json!({ "first_name": "Other" })).await;
    rejected_patch(
        app,
        "contacts",
        other["id"].as_str().expect("id"),
        json!({ "email": "SARAH.johnson@acme.com" }),
        "email",
        Some("taken"),
    )
    .await;
    rejected_patch(
        app,
        "contacts",
        other["id"].as_str().expect("id"),
        json!({ "email": "broken@" }),
        "email",
        Some("invalid_email"),
    )
    .await;
}
both_backends!(contact_email_is_checked_lowercased_and_unique);

async fn contact_company_must_exist(app: &TestApp) {
    let missing = uuid::Uuid::now_v7().to_string();
    rejected_create(
        app,
        &app.admin,
        "contacts",
        json!({ "first_name": "Lost", "company_id": missing }),
        "company_id",
        Some("not_found"),
    )
    .await;
    rejected_create(
        app,
        &app.admin,
        "contacts",
        json!({ "first_name": "Lost", "company_id": "not-a-uuid" }),
        "company_id",
        Some("invalid_id"),
    )
    .await;

    let company = app.admin.company(json!({})).await;
    let c = app.admin.create("contacts", json!({ "first_name": "Found", "company_id": company["id"] })).await;
    assert_eq!(c["company_id"], company["id"]);
    rejected_patch(
        app,
        "contacts",
        c["id"].as_str().expect("id"),
        json!({ "company_id": missing }),
        "company_id",
        Some("not_found"),
    )
    .await;

    // A company in the trash cannot be linked to either.
    let gone = app.admin.company(json!({})).await;
    let res = app.admin.delete(&format!("/api/v1/companies/{}", gone["id"].as_str().expect("id"))).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.text);
    rejected_create(
        app,
        &app.admin,
        "contacts",
        json!({ "first_name": "Late", "company_id": gone["id"] }),
        "company_id",
        Some("not_found"),
    )
    .await;
}
both_backends!(contact_company_must_exist);

// ---------------------------------------------------------------- deals

async fn deal_title_and_company_are_required(app: &TestApp) {
    let res = rejected_create(app, &app.admin, "deals", json!({}), "title", Some("required")).await;
    assert!(res.error_fields().contains(&"company_id".to_string()), "{}", res.text);
    let company = app.admin.company(json!({})).await;
    rejected_create(app, &app.admin, "deals", json!({ "company_id": company["id"] }), "title", Some("required")).await;
    rejected_create(
        app,
        &app.admin,
        "deals",
        json!({ "company_id": company["id"], "title": "  " }),
        "title",
        Some("required"),
    )
    .await;
    rejected_create(app, &app.admin, "deals", json!({ "title": "Orphan" }), "company_id", Some("required")).await;
    rejected_create(
        app,
        &app.admin,
        "deals",
        json!({ "title": "Orphan", "company_id": uuid::Uuid::now_v7().to_string() }),
        "company_id",
        Some("not_found"),
    )
    .await;
    rejected_create(
        app,
        &app.admin,
        "deals",
        json!({ "title": "x".repeat(201), "company_id": company["id"] }),
        "title",
        Some("too_long"),
    )
    .await;

    let deal = app.admin.deal(company["id"].as_str().expect("id"), json!({})).await;
    let id = deal["id"].as_str().expect("id");
    rejected_patch(app, "deals", id, json!({ "company_id": null }), "company_id", Some("required")).await;
    rejected_patch(app, "deals", id, json!({ "title": "" }), "title", Some("required")).await;
    rejected_patch(
        app,
        "deals",
        id,
        json!({ "company_id": uuid::Uuid::now_v7().to_string() }),
        "company_id",
        Some("not_found"),
    )
    .await;
}
both_backends!(deal_title_and_company_are_required);

async fn deal_amount_is_non_negative_integer_minor_units(app: &TestApp) {
    let company = app.admin.company(json!({})).await;
    let cid = company["id"].clone();
    rejected_create(
        app,
        &app.admin,
        "deals",
        json!({ "title": "Neg", "company_id": cid, "amount": -1 }),
        "amount",
        Some("too_small"),
    )
    .await;
    rejected_create(
        app,
        &app.admin,
        "deals",
        json!({ "title": "Frac", "company_id": cid, "amount": 12.5 }),
        "amount",
        Some("wrong_type"),
    )
    .await;
    rejected_create(
        app,
        &app.admin,
        "deals",
        json!({ "title": "Str", "company_id": cid, "amount": "100" }),
        "amount",
        Some("wrong_type"),
    )
    .await;
    rejected_create(
        app,
        &app.admin,
        "deals",
        json!({ "title": "Huge", "company_id": cid, "amount": 1e20 }),
        "amount",
        Some("wrong_type"),
    )
    .await;

    let zero = app.admin.deal(cid.as_str().expect("id"), json!({ "amount": 0 })).await;
    assert_eq!(zero["amount"], 0);
    let none = app.admin.create("deals", json!({ "title": "No amount", "company_id": cid })).await;
    assert_eq!(none["amount"], 0, "amount defaults to 0");
    let big = app.admin.deal(cid.as_str().expect("id"), json!({ "amount": 9_007_199_254_740_993_i64 })).await;
    assert_eq!(big["amount"], 9_007_199_254_740_993_i64, "money is exact integers, never floats");
    rejected_patch(
        app,
        "deals",
        zero["id"].as_str().expect("id"),
        json!({ "amount": -500 }),
        "amount",
        Some("too_small"),
    )
    .await;
}
both_backends!(deal_amount_is_non_negative_integer_minor_units);

async fn deal_stage_sets_probability(app: &TestApp) {
    let company = app.admin.company(json!({})).await;
    let cid = company["id"].as_str().expect("id");
    rejected_create(
        app,
        &app.admin,
        "deals",
        json!({ "title": "S", "company_id": cid, "stage": "Won" }),
        "stage",
        Some("invalid_option"),
    )
    .await;
    rejected_create(
        app,
        &app.admin,
        "deals",
        json!({ "title": "S", "company_id": cid, "probability": 101 }),
        "probability",
        Some("too_large"),
    )
    .await;
    rejected_create(
        app,
        &app.admin,
        "deals",
        json!({ "title": "S", "company_id": cid, "probability": -1 }),
        "probability",
        Some("too_small"),
    )
    .await;

    let default = app.admin.deal(cid, json!({})).await;
    assert_eq!(default["stage"], "Prospecting");
    assert_eq!(default["probability"], 10);

    let deal = app.admin.deal(cid, json!({ "stage": "Proposal" })).await;
    assert_eq!(deal["probability"], 50);
    let id = deal["id"].as_str().expect("id");
    let path = format!("/api/v1/deals/{id}");

    let res = app.admin.patch(&path, json!({ "stage": "negotiation" })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["stage"], "Negotiation");
    assert_eq!(res.body["probability"], 75);

    // An explicit probability sent with the stage is kept...
    let explicit = app.admin.deal(cid, json!({ "stage": "Proposal", "probability": 60 })).await;
    assert_eq!(explicit["probability"], 60);
    let epath = format!("/api/v1/deals/{}", explicit["id"].as_str().expect("id"));
    let res = app.admin.patch(&epath, json!({ "stage": "Negotiation", "probability": 80 })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["probability"], 80);
    // ... a PATCH of something else leaves it alone ...
    let res = app.admin.patch(&epath, json!({ "notes": "call back" })).await;
    assert_eq!(res.body["probability"], 80, "{}", res.text);
    // ... a probability alone is kept ...
    let res = app.admin.patch(&epath, json!({ "probability": 85 })).await;
    assert_eq!(res.body["probability"], 85, "{}", res.text);
    // ... and a later stage change without one resets it to the stage's.
    let res = app.admin.patch(&epath, json!({ "stage": "Qualification" })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["probability"], 25);

    rejected_patch(app, "deals", id, json!({ "stage": "Lost" }), "stage", Some("invalid_option")).await;
    rejected_patch(app, "deals", id, json!({ "stage": null }), "stage", Some("required")).await;
    rejected_patch(app, "deals", id, json!({ "probability": 150 }), "probability", Some("too_large")).await;
}
both_backends!(deal_stage_sets_probability);

async fn deal_expected_close_date_cannot_be_in_the_past(app: &TestApp) {
    let company = app.admin.company(json!({})).await;
    let cid = company["id"].as_str().expect("id");
    rejected_create(
        app,
        &app.admin,
        "deals",
        json!({ "title": "Past", "company_id": cid, "expected_close_date": "2000-01-01" }),
        "expected_close_date",
        Some("date_in_past"),
    )
    .await;
    for bad in ["2030-13-01", "2030-02-30", "next week", "01/02/2030"] {
        rejected_create(
            app,
            &app.admin,
            "deals",
            json!({ "title": "Bad", "company_id": cid, "expected_close_date": bad }),
            "expected_close_date",
            Some("invalid_date"),
        )
        .await;
    }
    let deal = app.admin.deal(cid, json!({ "expected_close_date": "2999-06-30" })).await;
    assert_eq!(deal["expected_close_date"], "2999-06-30");
    let id = deal["id"].as_str().expect("id");
    rejected_patch(
        app,
        "deals",
        id,
        json!({ "expected_close_date": "2001-02-03" }),
        "expected_close_date",
        Some("date_in_past"),
    )
    .await;
    // Re-sending the stored date, moving it to another future date, or clearing it is fine.
    let path = format!("/api/v1/deals/{id}");
    for (value, expect) in [
        (json!("2999-06-30"), json!("2999-06-30")),
        (json!("2998-01-01"), json!("2998-01-01")),
        (Value::Null, Value::Null),
    ] {
        let res = app.admin.patch(&path, json!({ "expected_close_date": value })).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        assert_eq!(res.body["expected_close_date"], expect);
    }
}
both_backends!(deal_expected_close_date_cannot_be_in_the_past);

async fn deal_actual_close_date_follows_closing(app: &TestApp) {
    let company = app.admin.company(json!({})).await;
    let deal = app.admin.deal(company["id"].as_str().expect("id"), json!({ "stage": "Negotiation" })).await;
    assert_eq!(deal["actual_close_date"], Value::Null);
    let path = format!("/api/v1/deals/{}", deal["id"].as_str().expect("id"));

    let res = app.admin.patch(&path, json!({ "stage": "Closed Won" })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["probability"], 100);
    // "Today" in UTC: the date part of the write's own timestamp.
    let today = res.body["updated_at"].as_str().expect("updated_at")[..10].to_string();
    assert_eq!(res.body["actual_close_date"], today.as_str(), "{}", res.text);

    let res = app.admin.patch(&path, json!({ "stage": "Proposal" })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["actual_close_date"], Value::Null, "reopening clears the close date: {}", res.text);
    assert_eq!(res.body["probability"], 50);

    let res = app.admin.patch(&path, json!({ "stage": "Closed Lost" })).await;
    assert_eq!(res.body["probability"], 0, "{}", res.text);
    assert_eq!(res.body["actual_close_date"], today.as_str(), "{}", res.text);

    // Created closed: closed today.
    let won = app.admin.deal(company["id"].as_str().expect("id"), json!({ "stage": "closed won" })).await;
    assert_eq!(won["stage"], "Closed Won");
    assert_eq!(won["actual_close_date"], today.as_str());
}
both_backends!(deal_actual_close_date_follows_closing);

async fn deal_currency_defaults_and_is_an_iso_code(app: &TestApp) {
    let company = app.admin.company(json!({})).await;
    let cid = company["id"].as_str().expect("id");
    let usd = app.admin.deal(cid, json!({})).await;
    assert_eq!(usd["currency"], "USD");
    let eur = app.admin.deal(cid, json!({ "currency": "eur" })).await;
    assert_eq!(eur["currency"], "EUR");
    for bad in ["EURO", "E1R", "€", "US"] {
        rejected_create(
            app,
            &app.admin,
            "deals",
            json!({ "title": "Cur", "company_id": cid, "currency": bad }),
            "currency",
            None,
        )
        .await;
    }
    rejected_patch(app, "deals", eur["id"].as_str().expect("id"), json!({ "currency": "EURO" }), "currency", None)
        .await;
}
both_backends!(deal_currency_defaults_and_is_an_iso_code);

// ---------------------------------------------------------------- activities

async fn activity_type_and_subject_are_required(app: &TestApp) {
    let res = rejected_create(app, &app.admin, "activities", json!({}), "type", Some("required")).await;
    assert!(res.error_fields().contains(&"subject".to_string()), "{}", res.text);
    rejected_create(app, &app.admin, "activities", json!({ "type": "Call" }), "subject", Some("required")).await;
    rejected_create(app, &app.admin, "activities", json!({ "subject": "Hello" }), "type", Some("required")).await;
    rejected_create(
        app,
        &app.admin,
        "activities",
        json!({ "type": "Lunch", "subject": "Hello" }),
        "type",
        Some("invalid_option"),
    )
    .await;
    rejected_create(
        app,
        &app.admin,
        "activities",
        json!({ "type": "Call", "subject": "x".repeat(256) }),
        "subject",
        Some("too_long"),
    )
    .await;
    rejected_create(
        app,
        &app.admin,
        "activities",
        json!({ "type": "Call", "subject": "When", "due_date": "tomorrow" }),
        "due_date",
        Some("invalid_datetime"),
    )
    .await;
    let a = app.admin.create("activities", json!({ "type": "meeting", "subject": "Kick-off" })).await;
    assert_eq!(a["type"], "Meeting");
    rejected_patch(
        app,
        "activities",
        a["id"].as_str().expect("id"),
        json!({ "type": "Party" }),
        "type",
        Some("invalid_option"),
    )
    .await;
    rejected_patch(
        app,
        "activities",
        a["id"].as_str().expect("id"),
        json!({ "subject": null }),
        "subject",
        Some("required"),
    )
    .await;
}
both_backends!(activity_type_and_subject_are_required);

async fn activity_completion_sets_and_clears_completed_at(app: &TestApp) {
    let open = app.admin.create("activities", json!({ "type": "Task", "subject": "Send quote" })).await;
    assert_eq!(open["completed"], false);
    assert_eq!(open["completed_at"], Value::Null);

    let done =
        app.admin.create("activities", json!({ "type": "Task", "subject": "Done already", "completed": true })).await;
    assert_eq!(done["completed"], true);
    assert!(done["completed_at"].is_string(), "{done}");

    let path = format!("/api/v1/activities/{}", open["id"].as_str().expect("id"));
    let res = app.admin.patch(&path, json!({ "completed": true })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert!(res.body["completed_at"].is_string(), "{}", res.text);
    assert_eq!(res.body["completed_at"], res.body["updated_at"], "completed at the moment of the write");

    let res = app.admin.patch(&path, json!({ "completed": false })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["completed"], false);
    assert_eq!(res.body["completed_at"], Value::Null);

    rejected_patch(
        app,
        "activities",
        open["id"].as_str().expect("id"),
        json!({ "completed_at": "2026-01-01T00:00:00Z" }),
        "completed_at",
        Some("read_only"),
    )
    .await;
    rejected_patch(
        app,
        "activities",
        open["id"].as_str().expect("id"),
        json!({ "completed": "yes" }),
        "completed",
        Some("wrong_type"),
    )
    .await;
    rejected_create(
        app,
        &app.admin,
        "activities",
        json!({ "type": "Call", "subject": "x", "created_by": uuid::Uuid::now_v7().to_string() }),
        "created_by",
        Some("read_only"),
    )
    .await;
}
both_backends!(activity_completion_sets_and_clears_completed_at);

// ---------------------------------------------------------------- every entity

async fn reps_cannot_give_records_to_someone_else(app: &TestApp) {
    let (rep, rep_client) = app.user(Role::Rep).await;
    let (manager, _) = app.user(Role::Manager).await;
    let before = count(app, "companies").await;
    let res = rep_client.post("/api/v1/companies", json!({ "name": unique("Gift"), "owner_id": manager["id"] })).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.text);
    assert_eq!(res.body["code"], "forbidden_fields");
    assert_eq!(res.error_fields(), vec!["owner_id"]);
    assert!(res.header("content-type").is_some_and(|c| c.starts_with("application/problem+json")));
    assert_eq!(count(app, "companies").await, before);

    // Their own id, or none, is fine: they own it.
    let mine = rep_client.create("companies", json!({ "name": unique("Mine"), "owner_id": rep["id"] })).await;
    assert_eq!(mine["owner_id"], rep["id"]);
    let implicit = rep_client.create("companies", json!({ "name": unique("Mine") })).await;
    assert_eq!(implicit["owner_id"], rep["id"]);

    // Nor can they hand their own record over with a PATCH.
    let path = format!("/api/v1/companies/{}", mine["id"].as_str().expect("id"));
    let res = rep_client.patch(&path, json!({ "owner_id": manager["id"] })).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.text);
    assert_eq!(app.admin.get(&path).await.body["owner_id"], rep["id"]);

    // An admin may assign anyone, but only an existing user.
    let given = app.admin.create("companies", json!({ "name": unique("Given"), "owner_id": manager["id"] })).await;
    assert_eq!(given["owner_id"], manager["id"]);
    rejected_create(
        app,
        &app.admin,
        "companies",
        json!({ "name": unique("Ghost"), "owner_id": uuid::Uuid::now_v7().to_string() }),
        "owner_id",
        Some("not_found"),
    )
    .await;
}
both_backends!(reps_cannot_give_records_to_someone_else);

async fn unknown_fields_are_refused(app: &TestApp) {
    rejected_create(
        app,
        &app.admin,
        "companies",
        json!({ "name": unique("Unknown"), "nope": 1 }),
        "nope",
        Some("unknown_field"),
    )
    .await;
    rejected_create(
        app,
        &app.admin,
        "contacts",
        json!({ "first_name": "A", "fullname": "A" }),
        "fullname",
        Some("unknown_field"),
    )
    .await;
    rejected_create(
        app,
        &app.admin,
        "deals",
        json!({ "title": "T", "amount_cents": 5 }),
        "amount_cents",
        Some("unknown_field"),
    )
    .await;
    rejected_create(
        app,
        &app.admin,
        "activities",
        json!({ "type": "Call", "subject": "S", "Type": "Call" }),
        "Type",
        Some("unknown_field"),
    )
    .await;
    let c = app.admin.company(json!({})).await;
    rejected_patch(
        app,
        "companies",
        c["id"].as_str().expect("id"),
        json!({ "city": "Paris", "colour": "red" }),
        "colour",
        Some("unknown_field"),
    )
    .await;
}
both_backends!(unknown_fields_are_refused);

async fn system_fields_are_read_only(app: &TestApp) {
    let id = uuid::Uuid::now_v7().to_string();
    for (field, value) in [
        ("id", json!(id)),
        ("version", json!(7)),
        ("created_at", json!("2020-01-01T00:00:00Z")),
        ("updated_at", json!("2020-01-01T00:00:00Z")),
        ("deleted_at", json!("2020-01-01T00:00:00Z")),
    ] {
        let mut body = json!({ "name": unique("Sys") });
        body[field] = value.clone();
        rejected_create(app, &app.admin, "companies", body, field, Some("read_only")).await;
    }
    // None of them can be forged on a PATCH either.
    let c = app.admin.company(json!({})).await;
    let cid = c["id"].as_str().expect("id");
    for (field, value) in [
        ("id", json!(id)),
        ("version", json!(99)),
        ("created_at", json!("2020-01-01T00:00:00Z")),
        ("deleted_at", Value::Null),
    ] {
        rejected_patch(app, "companies", cid, json!({ field: value }), field, Some("read_only")).await;
    }
    // The password hash is not a field at all.
    rejected_create(app, &app.admin, "users", json!({ "email": "h@example.com", "name": "H", "role": "rep", "password": "correct horse battery staple", "password_hash": "x" }), "password_hash", None).await;
}
both_backends!(system_fields_are_read_only);

async fn required_fields_with_defaults_cannot_be_cleared(app: &TestApp) {
    // A user created without a role gets the least privileged one.
    let email = format!("norole-{}@example.com", &uuid::Uuid::now_v7().simple().to_string()[20..]);
    let user = app
        .admin
        .create("users", json!({ "email": email, "name": "No Role", "password": "correct horse battery staple" }))
        .await;
    assert_eq!(user["role"], "rep");
    rejected_create(
        app,
        &app.admin,
        "users",
        json!({ "email": "r@example.com", "name": "R", "role": "god", "password": "correct horse battery staple" }),
        "role",
        // Roles are data (built-in or custom): an unknown name is a missing reference.
        Some("not_found"),
    )
    .await;
    rejected_patch(app, "users", user["id"].as_str().expect("id"), json!({ "role": null }), "role", Some("required"))
        .await;
    // A deal's stage defaults on create, but a PATCH cannot empty it.
    let company = app.admin.company(json!({})).await;
    let deal = app.admin.deal(company["id"].as_str().expect("id"), json!({})).await;
    rejected_patch(app, "deals", deal["id"].as_str().expect("id"), json!({ "stage": "" }), "stage", Some("required"))
        .await;
}
both_backends!(required_fields_with_defaults_cannot_be_cleared);

async fn unique_names_ignore_case_beyond_ascii(app: &TestApp) {
    app.admin.company(json!({ "name": "École Öl" })).await;
    let res = app.admin.post("/api/v1/companies", json!({ "name": "éCOLE öL" })).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    assert_eq!(res.error_fields(), vec!["name"]);
    let other = app.admin.post("/api/v1/companies", json!({ "name": "École Öle" })).await;
    assert_eq!(other.status, StatusCode::CREATED, "a longer name is not a duplicate");
}
both_backends!(unique_names_ignore_case_beyond_ascii);
