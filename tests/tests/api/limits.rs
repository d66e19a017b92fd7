//! Abuse limits on the credential endpoints: 429 with `Retry-After`, per identity and per address.

use actix_web::http::Method;
use keel_tests::{Backend, TestApp};
use serde_json::json;

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

async fn limits(backend: Backend) {
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

#[actix_web::test]
async fn credential_endpoints_are_rate_limited_on_sqlite() {
    limits(Backend::Sqlite).await;
}

#[actix_web::test]
async fn credential_endpoints_are_rate_limited_on_postgres() {
    limits(Backend::Postgres).await;
}
