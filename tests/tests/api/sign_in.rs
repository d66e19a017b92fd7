//! Sign-in links through a real SMTP conversation: the mail arrives, its code works once, unknown
//! addresses cannot be told apart, and mail survives an SMTP server that is down at first.

use std::time::Duration;

use actix_web::http::Method;
use keel_tests::{Backend, SmtpSink, TestApp, both_backends, free_port};
use serde_json::json;

both_backends! {
    fn sign_in_end_to_end(backend: Backend);
    fn mail_waits_for_a_down_smtp_server(backend: Backend);
}

/// The one-time code in a sign-in mail (the indented line after "sign-in code is:").
fn code_in(mail: &str) -> String {
    let mut lines = mail.lines().skip_while(|l| !l.contains("sign-in code is"));
    lines.next();
    lines.map(str::trim).find(|l| !l.is_empty()).expect("a code line").to_owned()
}

async fn spawn_with_smtp(backend: Backend, smtp_url: String) -> Option<TestApp> {
    TestApp::spawn_with(backend, move |config| {
        config.smtp_url = smtp_url;
        config.outbox_poll_ms = 50;
        config.outbox_retry_base_ms = 100;
        config.sign_in_url = "https://hr.example.test/sign-in".to_owned();
    })
    .await
}

async fn request_link(app: &TestApp, email: &str) {
    let response =
        app.call_as(None, Method::POST, "/v1/auth/sign-in-links", &[], Some(&json!({ "email": email }))).await;
    response.expect_status(202);
}

async fn redeem(app: &TestApp, code: &str) -> keel_tests::Response {
    app.call_as(None, Method::POST, "/v1/auth/sign-in-links/redeem", &[], Some(&json!({ "token": code }))).await
}

async fn sign_in_end_to_end(backend: Backend) {
    let smtp = SmtpSink::start();
    let Some(app) = spawn_with_smtp(backend, smtp.url()).await else { return };
    let user = app.create_user(json!({ "email": "Ann.Lee@example.com", "name": "Ann Lee" })).await;

    request_link(&app, "ann.lee@EXAMPLE.com").await;
    let mail =
        smtp.wait_for("To: Ann.Lee@example.com", Duration::from_secs(10)).await.expect("the sign-in mail arrives");
    assert!(mail.contains("Subject: Your Keel sign-in link"), "{mail}");
    let code = code_in(&mail);
    assert!(mail.contains(&format!("https://hr.example.test/sign-in?token={code}")), "{mail}");

    let token = redeem(&app, &code).await.expect_status(200).json();
    assert_eq!(token["token_type"], "Bearer");
    assert_eq!(token["expires_in"], 900);
    let access = token["access_token"].as_str().unwrap();
    let me = app.call_as(Some(access), Method::GET, "/v1/me", &[], None).await.expect_status(200).json();
    assert_eq!(me["user"]["id"], user["id"]);

    // Single use.
    let problem = redeem(&app, &code).await.expect_problem(400);
    assert_eq!(problem["code"], "invalid_sign_in_code");
    redeem(&app, "made-up-code").await.expect_problem(400);

    // Unknown and deactivated addresses get the same answer, and no mail.
    let deactivated = app.create_user(json!({ "email": "gone@example.com", "name": "Gone" })).await;
    app.delete(&format!("/v1/users/{}", deactivated["id"].as_str().unwrap()), None).await.expect_status(204);
    request_link(&app, "nobody@example.com").await;
    request_link(&app, "gone@example.com").await;
    request_link(&app, "ann.lee@example.com").await;
    smtp.wait_for("sign-in", Duration::from_secs(10)).await;
    app.db.wait_until_sent(Duration::from_secs(10)).await;
    let recipients: Vec<String> =
        smtp.messages().iter().filter_map(|m| m.lines().find(|l| l.starts_with("To: ")).map(str::to_owned)).collect();
    assert_eq!(recipients, vec!["To: Ann.Lee@example.com", "To: Ann.Lee@example.com"]);

    // A code of a user deactivated after it was sent does not work.
    let second = code_in(smtp.messages().last().unwrap());
    app.delete(&format!("/v1/users/{}", user["id"].as_str().unwrap()), None).await.expect_status(204);
    redeem(&app, &second).await.expect_problem(400);
}

async fn mail_waits_for_a_down_smtp_server(backend: Backend) {
    let port = free_port();
    let Some(app) = spawn_with_smtp(backend, format!("smtp://127.0.0.1:{port}")).await else { return };
    app.create_user(json!({ "email": "kim@example.com", "name": "Kim" })).await;
    request_link(&app, "kim@example.com").await;

    // Nothing listens: attempts fail and are retried.
    app.db.wait_for_attempts(2, Duration::from_secs(10)).await;
    let db = app.db.open();
    let pending = keel_persistence::repo::outbox::pending(&mut db.conn().unwrap()).unwrap();
    assert_eq!(pending, 1, "the mail is still queued");
    // The queue is visible in the metrics: one waiting, retried at least once, none given up.
    assert_eq!(outbox_metric(&app, "pending").await, 1);
    assert!(outbox_metric(&app, "attempts").await >= 2);
    assert!(outbox_metric(&app, "oldest_pending_age_seconds").await >= 0);
    assert_eq!(outbox_metric(&app, "delivered").await, 0);

    let smtp = SmtpSink::start_on(&format!("127.0.0.1:{port}"));
    let mail = smtp.wait_for("To: kim@example.com", Duration::from_secs(15)).await;
    assert!(mail.is_some(), "the mail is delivered once the server is up");
    let code = code_in(&mail.unwrap());
    redeem(&app, &code).await.expect_status(200);
    assert_eq!(keel_persistence::repo::outbox::pending(&mut db.conn().unwrap()).unwrap(), 0);
    assert_eq!(outbox_metric(&app, "pending").await, 0);
    assert_eq!(outbox_metric(&app, "delivered").await, 1);
    assert_eq!(outbox_metric(&app, "failed").await, 0);
}

/// A `keel_outbox_<name>{kind="email"}` gauge from `/metrics`.
async fn outbox_metric(app: &TestApp, name: &str) -> i64 {
    let text = app.get("/metrics").await.expect_status(200).text();
    let prefix = format!("keel_outbox_{name}{{kind=\"email\"}} ");
    let line = text.lines().find(|l| l.starts_with(&prefix)).unwrap_or_else(|| panic!("{prefix} in {text}"));
    line[prefix.len()..].parse().unwrap()
}
