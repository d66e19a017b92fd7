//! Issue 22: the six findings of the third attack run, each tried as it was seen, and the loose
//! ends the same runs found: link secrets under another spelling of the path reaching the log,
//! separate mail budgets for one address, renewals of links and invitations without a per-person
//! limit, an IPv6 form of an internal IPv4 webhook target; the sign-in page's 429 without
//! `Retry-After`, the Swagger UI in a frame, probes rate limited, an empty `If-Match`, and
//! metrics on a listener of their own. (Finding 1, group sessions after leaving, is in `groups`.)

use std::time::Duration;

use actix_web::http::Method;
use keel_tests::pages::{Browser, link_in};
use keel_tests::{Backend, SmtpSink, TestApp, both_backends};
use serde_json::json;

use crate::pages::{assert_page, mail_to};

/// The subject of every mail that brings a sign-in link, from the page, the API or a renewal.
const SIGN_IN_SUBJECT: &str = "Subject: Your Keel sign-in link";
const MAIL_WAIT: Duration = Duration::from_secs(10);

both_backends! {
    fn link_secrets_stay_out_of_the_log_however_the_path_is_spelled(app: TestApp);
    fn one_mail_budget_per_address_whichever_door(backend: Backend);
    fn renewing_a_used_link_is_limited_per_person(backend: Backend);
    fn renewing_an_expired_invitation_is_limited_per_rater(backend: Backend);
    fn ipv6_forms_of_ipv4_targets_are_refused_for_webhooks(app: TestApp);
    fn probes_docs_and_an_empty_if_match(app: TestApp);
    async fn an_if_match_that_is_not_ascii_is_refused(app) {
        // Found by the contract fuzzer: such a value was dropped and the change made as if none
        // was sent. It is no entity-tag list: 400, nothing changed.
        let user = app.create_user(json!({ "email": "a@acme.test", "name": "A" })).await;
        let path = format!("/v1/users/{}", user["id"].as_str().unwrap());
        for value in ["\u{84}", "\"1\"\u{e9}"] {
            let refused = app.call(Method::PATCH, &path, &[("if-match", value)], Some(&json!({ "name": "B" }))).await;
            assert_eq!(refused.expect_problem(400)["errors"][0]["field"], "If-Match");
            app.call(Method::DELETE, &path, &[("if-match", value)], None).await.expect_problem(400);
        }
        let unchanged = app.get(&path).await.expect_status(200).json();
        assert_eq!((unchanged["name"].as_str(), unchanged["status"].as_str()), (Some("A"), Some("active")));
    }
    async fn metrics_can_have_a_listener_of_their_own(app with |c| c.metrics_bind = "127.0.0.1:0".to_owned()) {
        app.get("/metrics").await.expect_problem(404);
        let metrics = app.metrics_addr.expect("the metrics listener");
        let mut scraped = app.client.get(format!("http://{metrics}/metrics")).send().await.unwrap();
        assert_eq!(scraped.status().as_u16(), 200);
        let body = String::from_utf8(scraped.body().await.unwrap().to_vec()).unwrap();
        assert!(body.contains("keel_http_requests_total"), "{body}");
        // Nothing else is served there.
        let other = app.client.get(format!("http://{metrics}/v1/me")).send().await.unwrap();
        assert_eq!(other.status().as_u16(), 404);
        let other = app.client.get(format!("http://{metrics}/healthz")).send().await.unwrap();
        assert_eq!(other.status().as_u16(), 404);
    }
}

/// An app that mails to a fresh SMTP sink and allows `per_address` mails of links to one
/// address a minute.
async fn app_with_budget(backend: Backend, per_address: u32) -> Option<(TestApp, SmtpSink)> {
    let smtp = SmtpSink::start();
    let smtp_url = smtp.url();
    let app = TestApp::spawn_with(backend, move |config| {
        config.smtp_url = smtp_url;
        config.outbox_poll_ms = 50;
        config.auth_rate_per_identity_per_minute = per_address;
    })
    .await?;
    Some((app, smtp))
}

async fn mails_to(app: &TestApp, smtp: &SmtpSink, address: &str, needle: &str) -> usize {
    app.db.wait_until_sent(MAIL_WAIT).await;
    let to = format!("To: {address}");
    smtp.messages().iter().filter(|m| m.contains(&to) && m.contains(needle)).count()
}

/// Finding 2: `/%6c/kl_…` is served as the link page, and its log line held the whole token.
async fn link_secrets_stay_out_of_the_log_however_the_path_is_spelled(app: TestApp) {
    let logs = keel_tests::logs::captured();
    let secret = uuid::Uuid::now_v7().simple().to_string();
    // The router reads these as /l/… and /feedback/…: a link's page (410: no such link).
    for (i, (method, spelled, status)) in [
        (Method::GET, format!("/%6c/kl_{secret}"), 410),
        (Method::GET, format!("/%6C/%6bl_{secret}"), 410),
        (Method::GET, format!("/%66eedback/kr_{secret}"), 410),
        (Method::GET, format!("/l/kl_{secret}"), 410),
        // No form: refused before anything is looked up, and still logged without the secret.
        (Method::POST, format!("/%6c/kl_{secret}/renew"), 400),
    ]
    .into_iter()
    .enumerate()
    {
        let request_id = format!("redact-{}-{i}", uuid::Uuid::now_v7().simple());
        let headers = [("x-request-id", request_id.as_str()), ("accept", "text/html")];
        let response = app.send_raw(method, &spelled, &headers, None, None).await;
        assert_eq!(response.status.as_u16(), status, "{spelled}: {}", response.text());
        let lines = logs.lines_with(&request_id);
        assert!(!lines.is_empty(), "{spelled} was logged");
        for line in lines {
            assert!(!line.contains(&secret), "the secret reached the log: {line}");
            assert!(line.contains("[redacted]"), "{line}");
        }
    }
}

/// Finding 3: 5 + 5 sign-in requests for one address mailed 10 links in a minute.
async fn one_mail_budget_per_address_whichever_door(backend: Backend) {
    let Some((app, smtp)) = app_with_budget(backend, 3).await else { return };
    app.create_user(json!({ "email": "pat@acme.test", "name": "Pat" })).await;
    let mut browser = Browser::new(&app);
    let form = browser.get("/sign-in").await;
    for _ in 0..2 {
        assert_page(&browser.submit(&form, "/sign-in", &[("email", "pat@acme.test")]).await, 200);
    }
    let api = |email: &'static str| {
        let app = &app;
        async move { app.call_as(None, Method::POST, "/v1/auth/sign-in-links", &[], Some(&json!({ "email": email }))).await }
    };
    api("pat@acme.test").await.expect_status(202);
    // The budget is spent, through either door, however the address is written.
    let refused = api("PAT@acme.test").await;
    assert!(refused.header("retry-after").is_some());
    assert_eq!(refused.expect_problem(429)["code"], "rate_limited");
    let refused = browser.submit(&form, "/sign-in", &[("email", "pat@acme.test")]).await;
    assert_page(&refused, 429);
    let seconds: u64 = refused.header("retry-after").expect("Retry-After on the page").parse().unwrap();
    assert!((1..=60).contains(&seconds), "{seconds}");
    assert_eq!(mails_to(&app, &smtp, "pat@acme.test", SIGN_IN_SUBJECT).await, 3);
    // Another address has its own budget.
    api("sam@acme.test").await.expect_status(202);
}

/// Finding 4: ten renewals of a used link mailed ten fresh links to one person.
async fn renewing_a_used_link_is_limited_per_person(backend: Backend) {
    let Some((app, smtp)) = app_with_budget(backend, 3).await else { return };
    app.create_user(json!({ "email": "pat@acme.test", "name": "Pat" })).await;
    // One mail of the budget: the sign-in link, used to sign in.
    let mut browser = Browser::new(&app);
    let form = browser.get("/sign-in").await;
    assert_page(&browser.submit(&form, "/sign-in", &[("email", "pat@acme.test")]).await, 200);
    let mail = mail_to(&smtp, "pat@acme.test", "Sign in to Keel").await;
    let link = link_in(&mail, &format!("{}/l/", app.base_url)).expect("a link");
    let action = link.strip_prefix(&app.base_url).unwrap().to_owned();
    let opened = browser.get(&link).await;
    assert_eq!(browser.submit(&opened, &action, &[]).await.status.as_u16(), 303);
    // Someone else holding the used link asks for fresh ones.
    let mut other = Browser::new(&app);
    let renew = format!("{action}/renew");
    for _ in 0..2 {
        let used = other.get(&link).await;
        assert_page(&other.submit(&used, &renew, &[]).await, 200);
    }
    let used = other.get(&link).await;
    let refused = other.submit(&used, &renew, &[]).await;
    assert_page(&refused, 429);
    assert!(refused.header("retry-after").is_some());
    // The sign-in link and the two fresh ones (a used sign-in link is renewed as a sign-in link).
    assert_eq!(mails_to(&app, &smtp, "pat@acme.test", SIGN_IN_SUBJECT).await, 3);
}

/// Finding 5: the same for a rater's expired invitation.
async fn renewing_an_expired_invitation_is_limited_per_rater(backend: Backend) {
    let Some((app, smtp)) = app_with_budget(backend, 3).await else { return };
    let p = keel_tests::fixtures::to_assessment_design(&app).await;
    let rater = json!({ "name": "Pat Peer", "email": "pat@acme.test", "relationship": "peer" });
    let rater = p.call(&app, "coach", Method::POST, "/raters", Some(rater)).await.expect_status(201).json();
    let invitation = format!("/raters/{}/invitation", rater["id"].as_str().unwrap());
    p.call(&app, "coach", Method::POST, &invitation, None).await.expect_status(202);
    let mail = mail_to(&smtp, "pat@acme.test", "Give your feedback").await;
    let link = link_in(&mail, &format!("{}/feedback/", app.base_url)).expect("a link to the form");
    {
        use diesel::RunQueryDsl;
        let database = app.db.open();
        let mut conn = database.conn().unwrap();
        diesel::sql_query("UPDATE rater_invitations SET expires_at = '2000-01-01 00:00:00'")
            .execute(&mut *conn)
            .unwrap();
    }
    let renew = format!("{}/renew", link.strip_prefix(&app.base_url).unwrap());
    let mut browser = Browser::new(&app);
    for _ in 0..3 {
        let expired = browser.get(&link).await;
        assert_page(&expired, 410);
        assert_page(&browser.submit(&expired, &renew, &[]).await, 200);
    }
    let expired = browser.get(&link).await;
    let refused = browser.submit(&expired, &renew, &[]).await;
    assert_page(&refused, 429);
    assert!(refused.header("retry-after").is_some());
    // The coach's invitation and three renewals.
    assert_eq!(mails_to(&app, &smtp, "pat@acme.test", "Give your feedback").await, 4);
}

/// Finding 6: `http://[::ffff:0:127.0.0.1]:P/` was accepted on create and PATCH.
async fn ipv6_forms_of_ipv4_targets_are_refused_for_webhooks(mut app: TestApp) {
    app.restart_with(|config| config.webhook_allow_internal = false).await;
    let org = app.create_org("Acme").await["id"].as_str().unwrap().to_owned();
    let body =
        json!({ "organization_id": org, "url": "https://hr.example.com/hook", "event_types": ["engagement.created"] });
    let hook = app.post("/v1/webhooks", &body).await.expect_status(201).json();
    let path = format!("/v1/webhooks/{}", hook["id"].as_str().unwrap());
    for url in [
        "http://[::ffff:0:127.0.0.1]:8080/",
        "http://[::ffff:0:a00:1]/x",
        "http://[::ffff:127.0.0.1]/x",
        "http://[::ffff:0:8.8.8.8]/x",
        "http://[::127.0.0.1]/x",
        "http://[64:ff9b::7f00:1]/x",
        "http://[64:ff9b:1::a00:1]/x",
        "http://[2002:808:808::1]/x",
        "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/x",
        "http://[2001:2::1]/x",
    ] {
        let body = json!({ "organization_id": org, "url": url, "event_types": ["engagement.created"] });
        let problem = app.post("/v1/webhooks", &body).await.expect_problem(422);
        assert_eq!(problem["errors"][0]["code"], "internal_address", "{url}: {problem}");
        let problem = app.patch(&path, None, &json!({ "url": url })).await.expect_problem(422);
        assert_eq!(problem["errors"][0]["code"], "internal_address", "{url} by PATCH: {problem}");
    }
    let hooks = app.get(&format!("/v1/webhooks?organization_id={org}")).await.json();
    assert_eq!(hooks["items"].as_array().unwrap().len(), 1);
    assert_eq!(hooks["items"][0]["url"], "https://hr.example.com/hook", "unchanged");
}

/// The loose ends: probes outside the API's rate limit, the Swagger UI never framed, an empty
/// If-Match the same as none.
async fn probes_docs_and_an_empty_if_match(mut app: TestApp) {
    app.restart_with(|config| config.api_rate_per_minute = 3).await;
    for _ in 0..6 {
        for probe in ["/healthz", "/readyz", "/metrics", "/openapi.json"] {
            let response = app.get(probe).await;
            assert_eq!(response.status.as_u16(), 200, "{probe} with a token: {}", response.text());
            assert!(response.header("ratelimit-limit").is_none(), "{probe} is not counted");
        }
    }
    // The API still is.
    let me = app.get("/v1/me").await.expect_status(200);
    assert_eq!(me.header("ratelimit-remaining").as_deref(), Some("2"));
    let user = app.create_user(json!({ "email": "a@acme.test", "name": "A" })).await;
    let path = format!("/v1/users/{}", user["id"].as_str().unwrap());
    // An empty If-Match is the same as none (the document's pattern allows it).
    let renamed = app.call(Method::PATCH, &path, &[("if-match", "")], Some(&json!({ "name": "B" }))).await;
    assert_eq!(renamed.status.as_u16(), 200, "{}", renamed.text());
    app.get("/v1/me").await.expect_problem(429);

    for docs in ["/docs/", "/docs/index.html", "/%64ocs/"] {
        let response = app.send_raw(Method::GET, docs, &[], None, None).await;
        assert_eq!(response.header("x-frame-options").as_deref(), Some("DENY"), "{docs}");
        let csp = response.header("content-security-policy").unwrap_or_default();
        assert!(csp.contains("frame-ancestors 'none'"), "{docs}: {csp}");
    }
}
