//! Login hardening over real HTTP: lockout per account and per address, session idle
//! timeout and revocation, deactivation, CSRF, security headers, the password policy and
//! TOTP two-factor sign-in. Time moves through the service's clock (`app.clock`).

use keel_domain::clock::Clock;
use keel_domain::policy::Role;
use keel_testkit::{Response, TestApp, both_backends};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use time::Duration;
use totp_rs::TOTP;

const PASSWORD: &str = "correct horse battery staple";

async fn new_user(app: &TestApp, email: &str) -> Value {
    let user = app.service.create_user_as_system(email, "Login Tester", "rep", PASSWORD).await.expect("user");
    Value::Object(user)
}

async fn login(app: &TestApp, email: &str, password: &str) -> Response {
    app.anonymous().post("/api/v1/auth/login", json!({ "email": email, "password": password })).await
}

async fn login_with(app: &TestApp, body: Value) -> Response {
    app.anonymous().post("/api/v1/auth/login", body).await
}

/// The `keel_session=…` pair from a sign-in response.
fn session(res: &Response) -> String {
    assert_eq!(res.status, StatusCode::OK, "sign-in failed: {}", res.text);
    res.header("set-cookie").and_then(|c| c.split(';').next()).expect("set-cookie").to_string()
}

async fn with_cookie(
    app: &TestApp,
    cookie: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> Response {
    let mut all = vec![("cookie", cookie)];
    all.extend_from_slice(headers);
    app.anonymous().send(method, path, body, &all).await
}

async fn me(app: &TestApp, cookie: &str) -> StatusCode {
    with_cookie(app, cookie, Method::GET, "/api/v1/auth/me", None, &[]).await.status
}

fn retry_after(res: &Response) -> u64 {
    res.header("retry-after").and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("no Retry-After: {res:?}"))
}

// ---------------------------------------------------------------------------------------
// Lockout

async fn five_failures_lock_the_account_even_for_the_right_password(app: &TestApp) {
    new_user(app, "locked@example.com").await;
    new_user(app, "other@example.com").await;
    for i in 1..=5 {
        let res = login(app, "locked@example.com", "not the password!").await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "failure {i}: {}", res.text);
        assert_eq!(res.body["code"], "invalid_credentials");
    }
    let refused = login(app, "locked@example.com", PASSWORD).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "{}", refused.text);
    assert_eq!(refused.body["code"], "too_many_attempts");
    assert!(refused.header("set-cookie").is_none(), "no session while locked");
    let wait = retry_after(&refused);
    assert!((1..=15 * 60).contains(&wait), "Retry-After {wait}");

    // An account that does not exist locks the same way and answers the same words, so a
    // lockout says nothing about whether the account exists or the password was right.
    for _ in 0..5 {
        assert_eq!(login(app, "nobody@example.com", "not the password!").await.status, StatusCode::UNAUTHORIZED);
    }
    let ghost = login(app, "nobody@example.com", PASSWORD).await;
    assert_eq!(ghost.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(ghost.body["detail"], refused.body["detail"]);
    assert_eq!(ghost.body["title"], refused.body["title"]);
    let wrong_while_locked = login(app, "locked@example.com", "not the password!").await;
    assert_eq!(without_retry_after(&wrong_while_locked.body), without_retry_after(&refused.body));

    // Other accounts are not affected.
    session(&login(app, "other@example.com", PASSWORD).await);

    // Still locked just before the lockout ends; open again after it.
    app.clock.advance(Duration::minutes(14));
    assert_eq!(login(app, "locked@example.com", PASSWORD).await.status, StatusCode::TOO_MANY_REQUESTS);
    app.clock.advance(Duration::minutes(1) + Duration::seconds(1));
    let cookie = session(&login(app, "locked@example.com", PASSWORD).await);
    assert_eq!(me(app, &cookie).await, StatusCode::OK);
}
both_backends!(five_failures_lock_the_account_even_for_the_right_password);

/// A 429 body without the seconds left, which tick on between requests.
fn without_retry_after(body: &Value) -> Value {
    let mut body = body.clone();
    if let Some(map) = body.as_object_mut() {
        map.remove("retry_after");
    }
    body
}

async fn a_successful_sign_in_resets_the_account_counter(app: &TestApp) {
    new_user(app, "resets@example.com").await;
    for _ in 0..4 {
        assert_eq!(login(app, "resets@example.com", "not the password!").await.status, StatusCode::UNAUTHORIZED);
    }
    session(&login(app, "resets@example.com", PASSWORD).await);
    for _ in 0..4 {
        assert_eq!(login(app, "resets@example.com", "not the password!").await.status, StatusCode::UNAUTHORIZED);
    }
    session(&login(app, "resets@example.com", PASSWORD).await);
}
both_backends!(a_successful_sign_in_resets_the_account_counter);

async fn twenty_failures_from_one_address_refuse_it(app: &TestApp) {
    new_user(app, "fresh@example.com").await;
    // Four per email, so no single account locks: only the address's count adds up.
    for i in 0..20 {
        let res = login(app, &format!("guess{}@example.com", i / 4), "not the password!").await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "failure {i}: {}", res.text);
    }
    let refused = login(app, "fresh@example.com", PASSWORD).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "{}", refused.text);
    assert_eq!(refused.body["code"], "too_many_attempts");
    assert!(retry_after(&refused) <= 15 * 60);
    app.clock.advance(Duration::minutes(15) + Duration::seconds(1));
    session(&login(app, "fresh@example.com", PASSWORD).await);
}
both_backends!(twenty_failures_from_one_address_refuse_it);

// ---------------------------------------------------------------------------------------
// Sessions: idle timeout, sign out everywhere, admin revocation, deactivation

async fn sessions_end_after_a_week_unused_but_not_while_used(app: &TestApp) {
    new_user(app, "idle@example.com").await;
    let busy = session(&login(app, "idle@example.com", PASSWORD).await);
    let idle = session(&login(app, "idle@example.com", PASSWORD).await);
    app.clock.advance(Duration::days(6));
    assert_eq!(me(app, &busy).await, StatusCode::OK);
    app.clock.advance(Duration::days(6));
    assert_eq!(me(app, &busy).await, StatusCode::OK, "used six days ago: still alive");
    assert_eq!(me(app, &idle).await, StatusCode::UNAUTHORIZED, "unused for twelve days: ended");
    app.clock.advance(Duration::days(7));
    assert_eq!(me(app, &busy).await, StatusCode::UNAUTHORIZED, "unused for seven days: ended");
}
both_backends!(sessions_end_after_a_week_unused_but_not_while_used);

async fn logout_everywhere_ends_every_session_and_optionally_the_tokens(app: &TestApp) {
    let (user, token_client) = app.user(Role::Rep).await;
    let email = user["email"].as_str().expect("email");
    let first = session(&login(app, email, PASSWORD).await);
    let second = session(&login(app, email, PASSWORD).await);

    let res = with_cookie(app, &first, Method::POST, "/api/v1/auth/logout-everywhere", None, &[]).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["sessions_ended"], 2);
    assert_eq!(res.body["tokens_revoked"], 0);
    assert!(res.header("set-cookie").is_some_and(|c| c.starts_with("keel_session=;")), "the cookie is cleared");
    assert_eq!(me(app, &first).await, StatusCode::UNAUTHORIZED);
    assert_eq!(me(app, &second).await, StatusCode::UNAUTHORIZED);
    assert_eq!(token_client.get("/api/v1/auth/me").await.status, StatusCode::OK, "tokens stay unless asked");

    let third = session(&login(app, email, PASSWORD).await);
    let res = token_client.post("/api/v1/auth/logout-everywhere", json!({ "tokens": true })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["sessions_ended"], 1);
    assert_eq!(res.body["tokens_revoked"], 1);
    assert_eq!(me(app, &third).await, StatusCode::UNAUTHORIZED);
    assert_eq!(token_client.get("/api/v1/auth/me").await.status, StatusCode::UNAUTHORIZED);

    let bad = app.admin.post("/api/v1/auth/logout-everywhere", json!({ "tokens": "yes" })).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);
}
both_backends!(logout_everywhere_ends_every_session_and_optionally_the_tokens);

async fn admins_end_a_users_sessions(app: &TestApp) {
    let (rep, rep_token) = app.user(Role::Rep).await;
    let (other, _) = app.user(Role::Manager).await;
    let rep_id = rep["id"].as_str().expect("id");
    let cookie = session(&login(app, rep["email"].as_str().expect("email"), PASSWORD).await);

    let path = |id: &str| format!("/api/v1/users/{id}/revoke-sessions");
    let denied = rep_token.post(&path(other["id"].as_str().expect("id")), json!({})).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN, "{}", denied.text);

    let res = app.admin.send(Method::POST, &path(rep_id), None, &[]).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(res.body["sessions_ended"], 1);
    assert_eq!(me(app, &cookie).await, StatusCode::UNAUTHORIZED);
    assert_eq!(rep_token.get("/api/v1/auth/me").await.status, StatusCode::OK);

    let res = app.admin.post(&path(rep_id), json!({ "tokens": true })).await;
    assert_eq!(res.body["tokens_revoked"], 1, "{}", res.text);
    assert_eq!(rep_token.get("/api/v1/auth/me").await.status, StatusCode::UNAUTHORIZED);

    let missing = app.admin.post(&path(&uuid::Uuid::now_v7().to_string()), json!({})).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    // The new route sits beside the generic record routes without shadowing them.
    assert_eq!(app.admin.get(&format!("/api/v1/users/{rep_id}/companies")).await.status, StatusCode::OK);
    let restore = app.admin.send(Method::POST, &format!("/api/v1/users/{rep_id}/restore"), None, &[]).await;
    assert_ne!(restore.status, StatusCode::NOT_FOUND, "{}", restore.text);
    assert_ne!(restore.status, StatusCode::METHOD_NOT_ALLOWED, "{}", restore.text);
}
both_backends!(admins_end_a_users_sessions);

async fn deactivation_stops_sessions_and_tokens_at_once(app: &TestApp) {
    let (rep, rep_token) = app.user(Role::Rep).await;
    let id = rep["id"].as_str().expect("id");
    let cookie = session(&login(app, rep["email"].as_str().expect("email"), PASSWORD).await);
    assert_eq!(me(app, &cookie).await, StatusCode::OK);
    assert_eq!(rep_token.get("/api/v1/auth/me").await.status, StatusCode::OK);

    let res = app.admin.patch(&format!("/api/v1/users/{id}"), json!({ "is_active": false })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(me(app, &cookie).await, StatusCode::UNAUTHORIZED);
    assert_eq!(rep_token.get("/api/v1/auth/me").await.status, StatusCode::UNAUTHORIZED);
    let write = rep_token.post("/api/v1/companies", json!({ "name": "Ghost writes" })).await;
    assert_eq!(write.status, StatusCode::UNAUTHORIZED);

    // The sessions were deleted, not just refused: reactivating does not bring them back.
    let res = app.admin.patch(&format!("/api/v1/users/{id}"), json!({ "is_active": true })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(me(app, &cookie).await, StatusCode::UNAUTHORIZED);
}
both_backends!(deactivation_stops_sessions_and_tokens_at_once);

// ---------------------------------------------------------------------------------------
// CSRF and headers

async fn cross_site_cookie_writes_are_refused(app: &TestApp) {
    let (rep, rep_token) = app.user(Role::Rep).await;
    let cookie = session(&login(app, rep["email"].as_str().expect("email"), PASSWORD).await);
    let company = |n: &str| Some(json!({ "name": format!("CSRF {n} {}", uuid::Uuid::now_v7().simple()) }));
    let evil = [("origin", "https://evil.example")];

    let res = with_cookie(app, &cookie, Method::POST, "/api/v1/companies", company("a"), &evil).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.text);
    assert_eq!(res.body["code"], "csrf_rejected");
    let res = with_cookie(
        app,
        &cookie,
        Method::POST,
        "/api/v1/companies",
        company("b"),
        &[("referer", "https://evil.example/x")],
    )
    .await;
    assert_eq!(res.body["code"], "csrf_rejected", "Referer counts when Origin is missing");
    let res = with_cookie(app, &cookie, Method::POST, "/api/v1/auth/logout", None, &evil).await;
    assert_eq!(res.body["code"], "csrf_rejected", "no signing people out from elsewhere either");

    let same = [("origin", app.base.as_str())];
    let res = with_cookie(app, &cookie, Method::POST, "/api/v1/companies", company("c"), &same).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let referer = format!("{}/companies", app.base);
    let res =
        with_cookie(app, &cookie, Method::POST, "/api/v1/companies", company("d"), &[("referer", &referer)]).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let res = with_cookie(app, &cookie, Method::POST, "/api/v1/companies", company("e"), &[]).await;
    assert_eq!(res.status, StatusCode::CREATED, "no Origin nor Referer: not a browser, {}", res.text);
    let res = with_cookie(app, &cookie, Method::GET, "/api/v1/companies", None, &evil).await;
    assert_eq!(res.status, StatusCode::OK, "reads are not checked");

    let res = rep_token.send(Method::POST, "/api/v1/companies", company("f"), &evil).await;
    assert_eq!(res.status, StatusCode::CREATED, "bearer tokens are not ambient: {}", res.text);
}
both_backends!(cross_site_cookie_writes_are_refused);

async fn every_response_carries_the_security_headers(app: &TestApp) {
    for path in ["/healthz", "/api/v1/companies", "/api/v1/nothing-here", "/api/openapi.json"] {
        let res = app.admin.get(path).await;
        let csp = res.header("content-security-policy").unwrap_or_else(|| panic!("no CSP on {path}"));
        assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(res.header("x-content-type-options"), Some("nosniff"), "{path}");
        assert_eq!(res.header("referrer-policy"), Some("same-origin"), "{path}");
        assert_eq!(res.header("x-frame-options"), Some("DENY"), "{path}");
        assert_eq!(res.header("strict-transport-security"), None, "plain HTTP: no HSTS on {path}");
    }
    let docs = app.anonymous().get("/api/docs").await;
    let csp = docs.header("content-security-policy").expect("CSP on the docs page");
    assert!(csp.contains("script-src 'self' 'unsafe-inline'") && csp.contains("frame-ancestors 'none'"), "{csp}");

    let tls = app.anonymous().send(Method::GET, "/healthz", None, &[("x-forwarded-proto", "https")]).await;
    assert!(tls.header("strict-transport-security").is_some_and(|v| v.starts_with("max-age=")));
}
both_backends!(every_response_carries_the_security_headers);

// ---------------------------------------------------------------------------------------
// Passwords

fn error_code(res: &Response, field: &str) -> Option<String> {
    res.body["errors"]
        .as_array()?
        .iter()
        .find(|e| e["field"] == field)
        .and_then(|e| e["code"].as_str())
        .map(str::to_string)
}

async fn common_and_personal_passwords_are_refused(app: &TestApp) {
    let user = |email: &str, password: &str| json!({ "email": email, "name": "Grace Hopper", "role": "rep", "password": password });
    let res = app.admin.post("/api/v1/users", user("gh1@example.com", "password1234")).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    assert_eq!(error_code(&res, "password").as_deref(), Some("too_common"));
    let res = app.admin.post("/api/v1/users", user("gh2@example.com", "Qwertyuiop2024!")).await;
    assert_eq!(error_code(&res, "password").as_deref(), Some("too_common"), "{}", res.text);
    let res = app.admin.post("/api/v1/users", user("grace.h@example.com", "I am grace.h, hello")).await;
    assert_eq!(error_code(&res, "password").as_deref(), Some("contains_personal_info"), "{}", res.text);
    let res = app.admin.post("/api/v1/users", user("gh3@example.com", "admiral hopper rocks")).await;
    assert_eq!(error_code(&res, "password").as_deref(), Some("contains_personal_info"), "{}", res.text);

    let created = app.admin.post("/api/v1/users", user("gh4@example.com", "a very secret passphrase")).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let id = created.id();
    // A PATCH checks against the stored email and name too.
    let res = app.admin.patch(&format!("/api/v1/users/{id}"), json!({ "password": "gh4@example.com is me" })).await;
    assert_eq!(error_code(&res, "password").as_deref(), Some("contains_personal_info"), "{}", res.text);
    let res = app.admin.patch(&format!("/api/v1/users/{id}"), json!({ "password": "Grace Hopper forever" })).await;
    assert_eq!(error_code(&res, "password").as_deref(), Some("contains_personal_info"), "{}", res.text);
}
both_backends!(common_and_personal_passwords_are_refused);

async fn changing_the_password_ends_the_other_sessions(app: &TestApp) {
    new_user(app, "changer@example.com").await;
    let here = session(&login(app, "changer@example.com", PASSWORD).await);
    let elsewhere = session(&login(app, "changer@example.com", PASSWORD).await);
    let change = |current: &str, new: &str| json!({ "current_password": current, "new_password": new });
    let post = |body: Value| with_cookie(app, &here, Method::POST, "/api/v1/auth/password", Some(body), &[]);

    let res = post(change("not the password!", "a brand new passphrase")).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    assert_eq!(error_code(&res, "current_password").as_deref(), Some("wrong_password"));
    let res = post(change(PASSWORD, "password123456")).await;
    assert_eq!(error_code(&res, "new_password").as_deref(), Some("too_common"), "{}", res.text);
    let res = post(change(PASSWORD, "changer@example.com!")).await;
    assert_eq!(error_code(&res, "new_password").as_deref(), Some("contains_personal_info"), "{}", res.text);
    let res = post(change(PASSWORD, "short")).await;
    assert_eq!(error_code(&res, "new_password").as_deref(), Some("too_short"), "{}", res.text);

    let res = post(change(PASSWORD, "a brand new passphrase")).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.text);
    assert_eq!(me(app, &here).await, StatusCode::OK, "the session that changed it stays");
    assert_eq!(me(app, &elsewhere).await, StatusCode::UNAUTHORIZED, "every other session ends");
    assert_eq!(login(app, "changer@example.com", PASSWORD).await.status, StatusCode::UNAUTHORIZED);
    session(&login(app, "changer@example.com", "a brand new passphrase").await);

    // The change went through the change log like any other write, without the hash.
    let changes = app.admin.get("/api/v1/changes?after=0&limit=1000").await;
    assert!(changes.text.contains("\"password_hash\":{\"changed\":true}"), "{}", changes.text);
}
both_backends!(changing_the_password_ends_the_other_sessions);

// ---------------------------------------------------------------------------------------
// Two-factor authentication

/// The code an authenticator app would show now, by the server's clock.
fn code_now(app: &TestApp, otpauth_uri: &str) -> String {
    let totp = TOTP::from_url(otpauth_uri).expect("otpauth URI");
    let now = u64::try_from(app.clock.now().unix_timestamp()).expect("after 1970");
    totp.generate(now)
}

fn wrong_code(right: &str) -> String {
    let n: u32 = right.parse().expect("digits");
    format!("{:06}", (n + 500_000) % 1_000_000)
}

/// Set up and enable 2FA for a signed-in user; returns the otpauth URI and recovery codes.
async fn enable_two_factor(app: &TestApp, cookie: &str) -> (String, Vec<String>) {
    let setup = with_cookie(app, cookie, Method::POST, "/api/v1/auth/2fa/setup", None, &[]).await;
    assert_eq!(setup.status, StatusCode::OK, "{}", setup.text);
    let uri = setup.body["otpauth_uri"].as_str().expect("otpauth_uri").to_string();
    let secret = setup.body["secret"].as_str().expect("secret");
    assert!(uri.starts_with("otpauth://totp/Keel:") && uri.contains(secret), "{uri}");
    let enable = with_cookie(
        app,
        cookie,
        Method::POST,
        "/api/v1/auth/2fa/enable",
        Some(json!({ "code": code_now(app, &uri) })),
        &[],
    )
    .await;
    assert_eq!(enable.status, StatusCode::OK, "{}", enable.text);
    let codes: Vec<String> = enable.body["recovery_codes"]
        .as_array()
        .expect("recovery codes")
        .iter()
        .map(|c| c.as_str().expect("code").to_string())
        .collect();
    (uri, codes)
}

async fn two_factor_sign_in_from_setup_to_recovery(app: &TestApp) {
    new_user(app, "twofa@example.com").await;
    let cookie = session(&login(app, "twofa@example.com", PASSWORD).await);

    // Set up, but not confirmed: sign-in is unchanged and a wrong code does not enable.
    let setup = with_cookie(app, &cookie, Method::POST, "/api/v1/auth/2fa/setup", None, &[]).await;
    let uri = setup.body["otpauth_uri"].as_str().expect("otpauth_uri").to_string();
    session(&login(app, "twofa@example.com", PASSWORD).await);
    let body = Some(json!({ "code": wrong_code(&code_now(app, &uri)) }));
    let res = with_cookie(app, &cookie, Method::POST, "/api/v1/auth/2fa/enable", body, &[]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    let status = with_cookie(app, &cookie, Method::GET, "/api/v1/auth/2fa", None, &[]).await;
    assert_eq!(status.body, json!({ "enabled": false, "pending": true, "recovery_codes_left": 0 }));

    let (uri, recovery) = enable_two_factor(app, &cookie).await;
    assert_eq!(recovery.len(), 10);
    let status = with_cookie(app, &cookie, Method::GET, "/api/v1/auth/2fa", None, &[]).await;
    assert_eq!(status.body, json!({ "enabled": true, "pending": false, "recovery_codes_left": 10 }));
    let again = with_cookie(app, &cookie, Method::POST, "/api/v1/auth/2fa/setup", None, &[]).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "no silent secret swap while on");

    // The password alone is not enough, and gives no session.
    let res = login(app, "twofa@example.com", PASSWORD).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert_eq!(res.body["code"], "two_factor_required");
    assert!(res.header("set-cookie").is_none());
    let wrong = json!({ "email": "twofa@example.com", "password": PASSWORD, "totp_code": "000000x" });
    assert_eq!(login_with(app, wrong).await.body["code"], "invalid_credentials");

    // A fresh code works once: the code that enabled 2FA (this step) is spent, so wait a step.
    app.clock.advance(Duration::seconds(30));
    let code = code_now(app, &uri);
    let wrong = json!({ "email": "twofa@example.com", "password": PASSWORD, "totp_code": wrong_code(&code) });
    assert_eq!(login_with(app, wrong).await.body["code"], "invalid_credentials");
    let with_code = json!({ "email": "twofa@example.com", "password": PASSWORD, "totp_code": code });
    session(&login_with(app, with_code.clone()).await);
    let replay = login_with(app, with_code).await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED, "a code cannot be replayed: {}", replay.text);
    let wrong_password =
        json!({ "email": "twofa@example.com", "password": "not the password!", "totp_code": code_now(app, &uri) });
    assert_eq!(login_with(app, wrong_password).await.body["code"], "invalid_credentials");

    // A recovery code works once, typed loosely.
    let loosely = recovery[0].to_uppercase().replace('-', " ");
    let with_recovery = json!({ "email": "twofa@example.com", "password": PASSWORD, "recovery_code": loosely });
    session(&login_with(app, with_recovery.clone()).await);
    let reused = login_with(app, with_recovery).await;
    assert_eq!(reused.status, StatusCode::UNAUTHORIZED, "{}", reused.text);
    assert_eq!(reused.body["code"], "invalid_credentials");
    let status = with_cookie(app, &cookie, Method::GET, "/api/v1/auth/2fa", None, &[]).await;
    assert_eq!(status.body["recovery_codes_left"], 9);

    // Turning it off needs the password and a code.
    let disable = |body: Value| with_cookie(app, &cookie, Method::POST, "/api/v1/auth/2fa/disable", Some(body), &[]);
    let res = disable(json!({ "password": "not the password!", "recovery_code": recovery[1] })).await;
    assert_eq!(error_code(&res, "password").as_deref(), Some("wrong_password"), "{}", res.text);
    let res = disable(json!({ "password": PASSWORD })).await;
    assert_eq!(error_code(&res, "code").as_deref(), Some("required"), "{}", res.text);
    let res = disable(json!({ "password": PASSWORD, "recovery_code": recovery[0] })).await;
    assert_eq!(error_code(&res, "recovery_code").as_deref(), Some("invalid_code"), "a used code stays used");
    let res = disable(json!({ "password": PASSWORD, "recovery_code": recovery[1] })).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.text);
    session(&login(app, "twofa@example.com", PASSWORD).await);
}
both_backends!(two_factor_sign_in_from_setup_to_recovery);

async fn wrong_two_factor_codes_count_towards_the_lockout(app: &TestApp) {
    new_user(app, "guessing@example.com").await;
    let cookie = session(&login(app, "guessing@example.com", PASSWORD).await);
    let (uri, _) = enable_two_factor(app, &cookie).await;
    app.clock.advance(Duration::seconds(30));
    for i in 0..5 {
        let code = wrong_code(&code_now(app, &uri));
        let res =
            login_with(app, json!({ "email": "guessing@example.com", "password": PASSWORD, "totp_code": code })).await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "guess {i}: {}", res.text);
    }
    let right = json!({ "email": "guessing@example.com", "password": PASSWORD, "totp_code": code_now(app, &uri) });
    let res = login_with(app, right).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS, "{}", res.text);
    // Asking for the second factor (right password, no code) is not a failure.
    app.clock.advance(Duration::minutes(16));
    for _ in 0..6 {
        assert_eq!(login(app, "guessing@example.com", PASSWORD).await.body["code"], "two_factor_required");
    }
    let right = json!({ "email": "guessing@example.com", "password": PASSWORD, "totp_code": code_now(app, &uri) });
    session(&login_with(app, right).await);
}
both_backends!(wrong_two_factor_codes_count_towards_the_lockout);
