//! Password sign-in with a session cookie, sign-out, personal API tokens.

use keel_testkit::{TestApp, both_backends};
use reqwest::StatusCode;
use serde_json::json;

async fn login(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/api/v1/auth/login", app.base))
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .expect("login request")
}

async fn session_cookie_signs_in_and_logout_ends_it(app: &TestApp) {
    app.service
        .create_user_as_system("Ana@Example.com", "Ana", "manager", "correct horse battery staple")
        .await
        .expect("user");
    let res = login(app, "ana@example.com", "correct horse battery staple").await;
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = res.headers().get("set-cookie").and_then(|v| v.to_str().ok()).expect("set-cookie").to_string();
    assert!(cookie.starts_with("keel_session="));
    assert!(cookie.contains("HttpOnly"));
    assert!(cookie.contains("SameSite=Lax"));
    let session = cookie.split(';').next().expect("pair").to_string();

    let http = reqwest::Client::new();
    let me = http.get(format!("{}/api/v1/auth/me", app.base)).header("cookie", &session).send().await.expect("me");
    assert_eq!(me.status(), StatusCode::OK);
    let body: serde_json::Value = me.json().await.expect("json");
    assert_eq!(body["email"], "ana@example.com");
    assert!(body.get("password_hash").is_none());

    let out =
        http.post(format!("{}/api/v1/auth/logout", app.base)).header("cookie", &session).send().await.expect("logout");
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    let after = http.get(format!("{}/api/v1/auth/me", app.base)).header("cookie", &session).send().await.expect("me");
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED, "the session is gone server-side, not just the cookie");
}
both_backends!(session_cookie_signs_in_and_logout_ends_it);

async fn wrong_password_and_unknown_email_fail_the_same_way(app: &TestApp) {
    app.service
        .create_user_as_system("bo@example.com", "Bo", "rep", "correct horse battery staple")
        .await
        .expect("user");
    let wrong = login(app, "bo@example.com", "wrong password!!").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let wrong: serde_json::Value = wrong.json().await.expect("json");
    let unknown = login(app, "nobody@example.com", "wrong password!!").await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    let unknown: serde_json::Value = unknown.json().await.expect("json");
    assert_eq!(wrong["code"], "invalid_credentials");
    assert_eq!(wrong["detail"], unknown["detail"]);
}
both_backends!(wrong_password_and_unknown_email_fail_the_same_way);

async fn deactivated_users_cannot_sign_in_or_use_tokens(app: &TestApp) {
    let (user, client) = app.user(keel_domain::policy::Role::Rep).await;
    assert_eq!(client.get("/api/v1/auth/me").await.status, StatusCode::OK);
    let id = user["id"].as_str().expect("id");
    let res = app.admin.patch(&format!("/api/v1/users/{id}"), json!({ "is_active": false })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    assert_eq!(client.get("/api/v1/auth/me").await.status, StatusCode::UNAUTHORIZED);
}
both_backends!(deactivated_users_cannot_sign_in_or_use_tokens);

async fn api_tokens_are_shown_once_and_can_be_revoked(app: &TestApp) {
    let created = app.admin.post("/api/v1/auth/tokens", json!({ "name": "CI export" })).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let secret = created.body["token"].as_str().expect("token").to_string();
    assert!(secret.starts_with("keel_"));
    let listed = app.admin.get("/api/v1/auth/tokens").await;
    assert!(listed.text.contains("CI export"));
    assert!(!listed.text.contains(&secret), "the secret is only shown at creation");

    let mut client = app.anonymous();
    client.token = Some(secret);
    assert_eq!(client.get("/api/v1/companies").await.status, StatusCode::OK);
    let id = created.body["id"].as_str().expect("id");
    assert_eq!(app.admin.delete(&format!("/api/v1/auth/tokens/{id}")).await.status, StatusCode::NO_CONTENT);
    assert_eq!(client.get("/api/v1/companies").await.status, StatusCode::UNAUTHORIZED);
}
both_backends!(api_tokens_are_shown_once_and_can_be_revoked);

async fn passwords_must_be_long_enough(app: &TestApp) {
    let res = app
        .admin
        .post(
            "/api/v1/users",
            json!({ "email": "short@example.com", "name": "Short", "role": "rep", "password": "short" }),
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.error_fields(), vec!["password"]);
}
both_backends!(passwords_must_be_long_enough);

async fn invited_users_choose_their_own_password_once(app: &TestApp) {
    let res = app
        .admin
        .post("/api/v1/users/invite", json!({ "email": "new.hire@example.com", "name": "New Hire", "role": "rep" }))
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let token = res.body["token"].as_str().expect("token").to_string();
    assert_eq!(res.body["user"]["email"], "new.hire@example.com");

    // Nobody can sign in before the invitation is accepted.
    assert_eq!(login(app, "new.hire@example.com", "whatever password 1").await.status(), StatusCode::UNAUTHORIZED);
    let anon = app.anonymous();
    let weak = anon.post("/api/v1/auth/accept-invite", json!({ "token": token, "password": "short" })).await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(weak.error_fields(), vec!["password"]);
    let ok =
        anon.post("/api/v1/auth/accept-invite", json!({ "token": token, "password": "a brand new passphrase" })).await;
    assert_eq!(ok.status, StatusCode::NO_CONTENT, "a refused password does not use the token up: {}", ok.text);
    assert_eq!(login(app, "new.hire@example.com", "a brand new passphrase").await.status(), StatusCode::OK);
    let again =
        anon.post("/api/v1/auth/accept-invite", json!({ "token": token, "password": "another new passphrase" })).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY, "tokens work once");
    assert_eq!(again.error_fields(), vec!["token"]);

    let (_, manager) = app.user(keel_domain::policy::Role::Manager).await;
    let denied = manager.post("/api/v1/users/invite", json!({ "email": "x@example.com", "name": "X" })).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    let id = res.body["user"]["id"].as_str().expect("id");
    let fresh = app.admin.post(&format!("/api/v1/users/{id}/invite"), json!({})).await;
    assert_eq!(fresh.status, StatusCode::CREATED, "{}", fresh.text);
    assert_ne!(fresh.body["token"], json!(token));
}
both_backends!(invited_users_choose_their_own_password_once);
