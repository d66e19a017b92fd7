//! Abuse limits on the credential endpoints: 429 with `Retry-After`, per identity and per address.

use actix_web::http::Method;
use keel_tests::{Backend, TestApp, both_backends};
use serde_json::json;

both_backends! {
    fn credential_endpoints_are_rate_limited(backend: Backend);
    fn api_calls_are_rate_limited_per_caller(backend: Backend);
}

async fn spawn(backend: Backend) -> Option<TestApp> {
    TestApp::spawn_with(backend, |config| {
        config.auth_rate_per_identity_per_minute = 2;
        config.auth_rate_per_ip_per_minute = 5;
    })
    .await
}

async fn sign_in_link(app: &TestApp, email: &str) -> keel_tests::Response {
    app.call_as(None, Method::POST, "/v1/auth/sign-in-links", &[], Some(&json!({ "email": email }))).await
}

async fn credential_endpoints_are_rate_limited(backend: Backend) {
    let Some(app) = spawn(backend).await else { return };
    // Per email address: the third link within a minute is refused.
    sign_in_link(&app, "ann@example.com").await.expect_status(202);
    sign_in_link(&app, "ANN@example.com").await.expect_status(202);
    let response = sign_in_link(&app, "ann@example.com").await;
    let retry_after: u64 = response.header("retry-after").expect("Retry-After").parse().unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_eq!(response.expect_problem(429)["code"], "rate_limited");

    // Per address: 5 attempts in all from this client (3 used above, the refused one included).
    sign_in_link(&app, "bob@example.com").await.expect_status(202);
    sign_in_link(&app, "cy@example.com").await.expect_status(202);
    sign_in_link(&app, "dee@example.com").await.expect_problem(429);

    // The token endpoint, per client id.
    let org = app.create_org("Acme").await;
    let client = app
        .post(
            &format!("/v1/organizations/{}/api-clients", org["id"].as_str().unwrap()),
            &json!({ "name": "HRIS", "scopes": ["users:read"] }),
        )
        .await
        .expect_status(201)
        .json();
    let body = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}",
        client["client_id"].as_str().unwrap(),
        client["client_secret"].as_str().unwrap()
    );
    app.oauth_token(&[], &body).await.expect_status(200);
    app.oauth_token(&[], &body).await.expect_status(200);
    let refused = app.oauth_token(&[], &body).await;
    assert!(refused.header("retry-after").is_some());
    refused.expect_problem(429);
}

/// The per-caller API limit: each user or API client has its own quota; every answer tells how
/// much is left, and beyond it the answer is 429 with `Retry-After`.
async fn api_calls_are_rate_limited_per_caller(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |config| config.api_rate_per_minute = 4).await else { return };
    let org = app.create_org("Acme").await;
    let user = app.create_user(json!({ "email": "lee@acme.test", "name": "Lee", "organization_id": org["id"] })).await;
    for remaining in ["1", "0"] {
        let response = app.get("/v1/organizations").await;
        assert_eq!(response.header("ratelimit-limit").as_deref(), Some("4"));
        assert_eq!(response.header("ratelimit-remaining").as_deref(), Some(remaining));
        let reset: u64 = response.header("ratelimit-reset").expect("RateLimit-Reset").parse().unwrap();
        assert!((1..=60).contains(&reset), "{reset}");
        response.expect_status(200);
    }
    let refused = app.get("/v1/organizations").await;
    let retry_after: u64 = refused.header("retry-after").expect("Retry-After").parse().unwrap();
    assert!((1..=15).contains(&retry_after), "{retry_after}");
    assert_eq!(refused.header("ratelimit-remaining").as_deref(), Some("0"));
    assert_eq!(refused.expect_problem(429)["code"], "rate_limited");
    // Writes are refused too, before they reach the handler.
    app.call(Method::POST, "/v1/organizations", &[], Some(&json!({ "name": "Late" }))).await.expect_problem(429);
    let lee = app.token_for(user["email"].as_str().unwrap());
    let seen = app.call_as(Some(&lee), Method::GET, "/v1/me", &[], None).await;
    // Another caller has its own quota.
    assert_eq!(seen.header("ratelimit-remaining").as_deref(), Some("3"));
    seen.expect_status(200);
    // Unauthenticated requests are not counted against anyone.
    let health = app.call_as(None, Method::GET, "/healthz", &[], None).await;
    assert!(health.header("ratelimit-limit").is_none());
    health.expect_status(200);
}
