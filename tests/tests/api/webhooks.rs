//! Webhooks: subscriptions over the API, deliveries to a real HTTP receiver on loopback verified
//! with a Standard Webhooks implementation written from the spec (`keel_tests::verify_webhook`),
//! retries, secret rotation, URL rules, auto-disable, re-send, and a restart with deliveries due.

use std::time::Duration;

use actix_web::http::Method;
use keel_tests::{Backend, SmtpSink, TestApp, WebhookReceiver, both_backends, free_port, verify_webhook};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(30);

both_backends! {
    fn signed_deliveries_reach_the_receiver(backend: Backend);
    fn a_receiver_failing_three_times_gets_the_event_when_it_recovers(backend: Backend);
    fn a_rotated_secret_signs_with_both_keys_during_the_overlap(backend: Backend);
    fn target_urls_are_checked_at_creation_and_at_delivery(backend: Backend);
    fn a_subscription_failing_for_too_long_is_disabled_and_the_hr_partner_told(backend: Backend);
    fn deliveries_due_survive_a_restart(backend: Backend);
    fn subscriptions_are_managed_per_organization(backend: Backend);
}

/// An organization with an hr_partner (whose token manages the webhooks), a leader, a sponsor and
/// a coach for engagements.
struct Org {
    id: String,
    hr_token: String,
    engagement_body: Value,
}

async fn org(app: &TestApp, name: &str) -> Org {
    let id = app.create_org(name).await["id"].as_str().unwrap().to_owned();
    let domain = name.to_lowercase();
    let mut ids = Vec::new();
    for (who, roles, organization) in [
        ("hr", json!(["hr_partner"]), Some(&id)),
        ("leader", json!([]), Some(&id)),
        ("sponsor", json!([]), Some(&id)),
        ("coach", json!(["coach"]), None),
    ] {
        let email = format!("{who}@{domain}.test");
        let user = app
            .create_user(json!({ "email": email, "name": format!("{who} of {name}"), "organization_id": organization, "roles": roles }))
            .await;
        ids.push(user["id"].as_str().unwrap().to_owned());
    }
    Org {
        hr_token: app.token_for(&format!("hr@{domain}.test")),
        engagement_body: json!({
            "organization_id": id, "title": "Leading through change", "hr_partner_id": ids[0],
            "leader_id": ids[1], "sponsor_ids": [ids[2]], "coach_id": ids[3], "start_date": "2026-01-05"
        }),
        id,
    }
}

impl Org {
    async fn call(&self, app: &TestApp, method: Method, path: &str, body: Option<&Value>) -> keel_tests::Response {
        app.call_as(Some(&self.hr_token), method, path, &[], body).await
    }

    async fn subscribe(&self, app: &TestApp, url: &str, event_types: Value) -> Value {
        let body = json!({ "url": url, "event_types": event_types, "description": "HRIS sync" });
        self.call(app, Method::POST, "/v1/webhooks", Some(&body)).await.expect_status(201).json()
    }

    /// Creates an engagement (an `engagement.created` event); returns its id.
    async fn engagement(&self, app: &TestApp) -> String {
        let created = self.call(app, Method::POST, "/v1/engagements", Some(&self.engagement_body)).await;
        created.expect_status(201).json()["id"].as_str().unwrap().to_owned()
    }

    async fn deliveries(&self, app: &TestApp, hook: &str) -> Vec<Value> {
        let page = self.call(app, Method::GET, &format!("/v1/webhooks/{hook}/deliveries"), None).await;
        page.expect_status(200).json()["items"].as_array().unwrap().clone()
    }
}

fn fast_retries(config: &mut keel::Config) {
    config.outbox_poll_ms = 20;
    config.outbox_retry_base_ms = 100;
}

async fn spawn(backend: Backend, adjust: impl FnOnce(&mut keel::Config)) -> Option<TestApp> {
    TestApp::spawn_with(backend, |config| {
        fast_retries(config);
        adjust(config);
    })
    .await
}

async fn wait_until(app: &TestApp, what: &str, check: impl AsyncFn() -> bool) {
    let deadline = std::time::Instant::now() + WAIT;
    while !check().await {
        assert!(std::time::Instant::now() < deadline, "timed out waiting until {what} ({:?})", app.backend);
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn signed_deliveries_reach_the_receiver(backend: Backend) {
    let Some(app) = spawn(backend, |_| {}).await else { return };
    let acme = org(&app, "Acme").await;
    let globex = org(&app, "Globex").await;
    let receiver = WebhookReceiver::start(0);
    let hook = acme.subscribe(&app, &receiver.url(), json!(["engagement.created", "engagement.phase_changed"])).await;
    let secret = hook["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{hook}");
    assert_eq!(hook["enabled"], true);
    assert_eq!(hook["event_types"], json!(["engagement.created", "engagement.phase_changed"]));
    let id = hook["id"].as_str().unwrap().to_owned();
    let shown = acme.call(&app, Method::GET, &format!("/v1/webhooks/{id}"), None).await.expect_status(200);
    assert!(shown.header("etag").is_some());
    assert!(shown.json().get("secret").is_none(), "the secret is shown on create only");

    // Another organization's events and event types not subscribed to are not sent.
    globex.engagement(&app).await;
    let engagement = acme.engagement(&app).await;
    let coach = app.token_for("coach@acme.test");
    let session = json!({ "scheduled_at": "2026-02-10T10:00:00Z", "duration_minutes": 60, "format": "video" });
    let path = format!("/v1/engagements/{engagement}/sessions");
    app.call_as(Some(&coach), Method::POST, &path, &[], Some(&session)).await.expect_status(409);
    let path = format!("/v1/engagements/{engagement}/transitions");
    app.call_as(Some(&coach), Method::POST, &path, &[], Some(&json!({ "to": "on_hold", "reason": "leave" })))
        .await
        .expect_status(200);

    let received = receiver.wait_for_accepted(2, WAIT).await;
    assert_eq!(received.len(), 2, "{received:?}");
    for hook in &received {
        verify_webhook(&secret, hook, 300).unwrap();
        assert_eq!(hook.header("content-type"), "application/json");
        assert!(verify_webhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", hook, 300).is_err(), "another key fails");
    }
    let (created, moved) = (received[0].json(), received[1].json());
    assert_eq!(created["type"], "engagement.created");
    assert_eq!(created["organization_id"], acme.id.as_str());
    assert_eq!(created["data"]["engagement_id"], engagement.as_str());
    assert_eq!(moved["type"], "engagement.phase_changed", "in the order of the changes");
    assert_eq!(moved["data"]["to"], "on_hold");
    let mut tampered = received[0].clone();
    tampered.body = created.to_string().replace("engagement.created", "engagement.deleted").into_bytes();
    assert!(verify_webhook(&secret, &tampered, 300).is_err(), "a changed body fails");

    // The delivery log: newest first, each with its attempt.
    wait_until(&app, "both deliveries are recorded", async || {
        acme.deliveries(&app, &id).await.iter().all(|d| d["status"] == "delivered")
    })
    .await;
    let log = acme.deliveries(&app, &id).await;
    assert_eq!(log.len(), 2);
    assert_eq!(log[0]["event_type"], "engagement.phase_changed");
    assert_eq!(log[1]["id"].as_str(), Some(received[0].header("webhook-id")), "webhook-id is the delivery id");
    assert_eq!(log[1]["event_id"], created["id"]);
    assert_eq!(log[1]["payload"], created);
    let attempts = log[1]["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0]["response_status"], 200);
    assert!(attempts[0]["error"].is_null() && attempts[0]["attempted_at"].is_string());
    let page = acme.call(&app, Method::GET, &format!("/v1/webhooks/{id}/deliveries?limit=1"), None).await.json();
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let cursor = page["next_cursor"].as_str().unwrap();
    let path = format!("/v1/webhooks/{id}/deliveries?limit=1&cursor={cursor}");
    let next = acme.call(&app, Method::GET, &path, None).await.expect_status(200).json();
    assert_eq!(next["items"][0]["event_type"], "engagement.created");
    let path = format!("/v1/webhooks/{id}/deliveries?status=failed");
    assert_eq!(acme.call(&app, Method::GET, &path, None).await.json()["items"], json!([]));

    // A delivered one is not re-sent.
    let path = format!("/v1/webhooks/{id}/deliveries/{}/resend", log[1]["id"].as_str().unwrap());
    let problem = acme.call(&app, Method::POST, &path, None).await.expect_problem(409);
    assert_eq!(problem["code"], "delivery_not_failed");

    // Deleting the subscription deletes its log with it.
    acme.call(&app, Method::DELETE, &format!("/v1/webhooks/{id}"), None).await.expect_status(204);
    let mut conn = app.db.open().conn().unwrap();
    use diesel::prelude::*;
    use keel_persistence::schema::{webhook_attempts, webhook_deliveries};
    let deliveries: i64 = webhook_deliveries::table.count().get_result(&mut *conn).unwrap();
    let attempts: i64 = webhook_attempts::table.count().get_result(&mut *conn).unwrap();
    assert_eq!((deliveries, attempts), (0, 0));
}

async fn a_receiver_failing_three_times_gets_the_event_when_it_recovers(backend: Backend) {
    let Some(app) = spawn(backend, |_| {}).await else { return };
    let acme = org(&app, "Acme").await;
    let receiver = WebhookReceiver::start(3);
    let hook = acme.subscribe(&app, &receiver.url(), json!(["engagement.created"])).await;
    let (id, secret) = (hook["id"].as_str().unwrap(), hook["secret"].as_str().unwrap());
    acme.engagement(&app).await;

    let received = receiver.wait_for_accepted(1, WAIT).await;
    assert_eq!(received.iter().map(|r| r.answered).collect::<Vec<_>>(), [500, 500, 500, 200]);
    for attempt in &received {
        verify_webhook(secret, attempt, 300).unwrap();
        assert_eq!(attempt.header("webhook-id"), received[0].header("webhook-id"), "one message, four attempts");
        assert_eq!(attempt.body, received[0].body);
    }
    wait_until(&app, "the delivery is recorded", async || acme.deliveries(&app, id).await[0]["status"] == "delivered")
        .await;
    let delivery = &acme.deliveries(&app, id).await[0];
    let statuses: Vec<&Value> =
        delivery["attempts"].as_array().unwrap().iter().map(|a| &a["response_status"]).collect();
    assert_eq!(statuses, [&json!(500), &json!(500), &json!(500), &json!(200)]);
    assert!(delivery["attempts"][0]["error"].as_str().unwrap().contains("500"));
    assert!(delivery["delivered_at"].is_string() && delivery["failed_at"].is_null());
    let hook = acme.call(&app, Method::GET, &format!("/v1/webhooks/{id}"), None).await.json();
    assert!(hook["failing_since"].is_null(), "a success ends the run of failures: {hook}");
    assert_eq!(hook["enabled"], true);

    // Queue metrics count webhook messages too.
    let metrics = app.get("/metrics").await.text();
    assert!(metrics.contains("keel_outbox_delivered{kind=\"webhook\"} 1"), "{metrics}");
    assert!(metrics.contains("keel_outbox_attempts{kind=\"webhook\"} 4"), "{metrics}");
}

async fn a_rotated_secret_signs_with_both_keys_during_the_overlap(backend: Backend) {
    let Some(app) = spawn(backend, |_| {}).await else { return };
    let acme = org(&app, "Acme").await;
    let receiver = WebhookReceiver::start(0);
    let hook = acme.subscribe(&app, &receiver.url(), json!(["engagement.created"])).await;
    let (id, old) = (hook["id"].as_str().unwrap().to_owned(), hook["secret"].as_str().unwrap().to_owned());
    let rotated = acme.call(&app, Method::POST, &format!("/v1/webhooks/{id}/rotate-secret"), None).await;
    let rotated = rotated.expect_status(200).json();
    let new = rotated["secret"].as_str().unwrap().to_owned();
    assert!(new.starts_with("whsec_") && new != old);
    let until: chrono::DateTime<chrono::Utc> = rotated["previous_secret_expires_at"].as_str().unwrap().parse().unwrap();
    let hours = (until - chrono::Utc::now()).num_minutes() as f64 / 60.0;
    assert!((23.9..=24.0).contains(&hours), "a day of overlap by default: {hours}");

    acme.engagement(&app).await;
    let received = receiver.wait_for_accepted(1, WAIT).await;
    let delivery = &received[0];
    assert_eq!(delivery.header("webhook-signature").split(' ').count(), 2, "{delivery:?}");
    verify_webhook(&new, delivery, 300).expect("verifies with the new secret");
    verify_webhook(&old, delivery, 300).expect("and, during the overlap, with the old one");

    let audit = app.get(&format!("/v1/audit-events?resource_type=webhook&resource_id={id}")).await.json();
    let actions: Vec<&str> = audit["items"].as_array().unwrap().iter().map(|r| r["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["webhook.created", "webhook.secret_rotated"]);
    assert!(!audit.to_string().contains(&old) && !audit.to_string().contains(&new), "no secret in the audit log");
}

async fn target_urls_are_checked_at_creation_and_at_delivery(backend: Backend) {
    let Some(mut app) = spawn(backend, |_| {}).await else { return };
    let acme = org(&app, "Acme").await;
    let receiver = WebhookReceiver::start(0);
    // Allowed while the operator allows internal receivers…
    let hook = acme.subscribe(&app, &receiver.url(), json!(["engagement.created"])).await;
    let id = hook["id"].as_str().unwrap().to_owned();
    app.restart_with(|config| config.webhook_allow_internal = false).await;

    // …refused once they do not: at creation,
    for (url, code) in [
        ("http://127.0.0.1:9/hook", "internal_address"),
        ("http://169.254.169.254/latest/meta-data", "internal_address"),
        ("http://[::ffff:10.0.0.1]/", "internal_address"),
        ("http://localhost:8080/", "internal_address"),
        ("ftp://hr.example.com/hook", "unsupported_scheme"),
        ("https://user:pw@hr.example.com/hook", "credentials_in_url"),
        ("not a url", "invalid_url"),
    ] {
        let body = json!({ "url": url, "event_types": ["engagement.created"] });
        let problem = acme.call(&app, Method::POST, "/v1/webhooks", Some(&body)).await.expect_problem(422);
        assert_eq!(problem["errors"][0]["field"], "url", "{url}");
        assert_eq!(problem["errors"][0]["code"], code, "{url}: {problem}");
    }
    let body = json!({ "url": "https://hr.example.com/hook", "event_types": ["engagement.deleted"] });
    let problem = acme.call(&app, Method::POST, "/v1/webhooks", Some(&body)).await.expect_problem(422);
    assert_eq!(problem["errors"][0]["code"], "unknown_event_type");
    let body = json!({ "url": "https://hr.example.com/hook", "event_types": [] });
    let problem = acme.call(&app, Method::POST, "/v1/webhooks", Some(&body)).await.expect_problem(422);
    assert_eq!(problem["errors"][0]["code"], "required");
    let path = format!("/v1/webhooks/{id}");
    let problem = acme.call(&app, Method::PATCH, &path, Some(&json!({ "url": "http://10.1.2.3/" }))).await;
    assert_eq!(problem.expect_problem(422)["errors"][0]["code"], "internal_address");
    let public = acme.subscribe(&app, "https://hr.example.com/keel", json!(["review.completed"])).await;
    assert_eq!(public["url"], "https://hr.example.com/keel");

    // …and at delivery, for a subscription made before: nothing reaches the internal address.
    acme.engagement(&app).await;
    wait_until(&app, "the delivery fails", async || {
        acme.deliveries(&app, &id).await.first().is_some_and(|d| d["status"] == "failed")
    })
    .await;
    let delivery = &acme.deliveries(&app, &id).await[0];
    assert!(delivery["last_error"].as_str().unwrap().contains("internal"), "{delivery}");
    assert!(delivery["attempts"][0]["response_status"].is_null());
    assert!(receiver.received().is_empty(), "the receiver was never called");
}

async fn a_subscription_failing_for_too_long_is_disabled_and_the_hr_partner_told(backend: Backend) {
    let smtp = SmtpSink::start();
    let smtp_url = smtp.url();
    let Some(app) = spawn(backend, |config| {
        config.smtp_url = smtp_url;
        config.webhook_disable_after_secs = 1;
    })
    .await
    else {
        return;
    };
    let acme = org(&app, "Acme").await;
    let receiver = WebhookReceiver::start(usize::MAX);
    let hook = acme.subscribe(&app, &receiver.url(), json!(["engagement.created"])).await;
    let (id, secret) = (hook["id"].as_str().unwrap().to_owned(), hook["secret"].as_str().unwrap().to_owned());
    acme.engagement(&app).await;

    let path = format!("/v1/webhooks/{id}");
    wait_until(&app, "the subscription is disabled", async || {
        acme.call(&app, Method::GET, &path, None).await.json()["enabled"] == false
    })
    .await;
    let disabled = acme.call(&app, Method::GET, &path, None).await.json();
    assert!(disabled["disabled_reason"].as_str().unwrap().contains("failed"), "{disabled}");
    assert!(disabled["failing_since"].is_string());
    let mail = smtp.raw_wait_for(&["To: hr@acme.test", "webhook subscription was disabled"], WAIT).await;
    assert!(mail.expect("the hr_partner is told").contains(&id));
    let delivery = acme.deliveries(&app, &id).await[0].clone();
    assert_eq!(delivery["status"], "failed");
    let tried = delivery["attempts"].as_array().unwrap().len();
    assert!(tried >= 2, "{delivery}");
    let audit = app.get(&format!("/v1/audit-events?resource_type=webhook&resource_id={id}")).await.json();
    let disabling = audit["items"].as_array().unwrap().iter().find(|r| r["action"] == "webhook.disabled").cloned();
    assert_eq!(disabling.expect("audited")["actor_kind"], "system");

    // Disabled: no re-send, and new events are not queued for it.
    let resend = format!("/v1/webhooks/{id}/deliveries/{}/resend", delivery["id"].as_str().unwrap());
    let problem = acme.call(&app, Method::POST, &resend, None).await.expect_problem(409);
    assert_eq!(problem["code"], "webhook_disabled");
    acme.engagement(&app).await;
    assert_eq!(acme.deliveries(&app, &id).await.len(), 1);

    // Fixed and enabled again: the failed delivery is re-sent with the same webhook-id.
    let enabled = acme.call(&app, Method::PATCH, &path, Some(&json!({ "enabled": true }))).await;
    let enabled = enabled.expect_status(200).json();
    assert!(enabled["enabled"] == true && enabled["disabled_reason"].is_null() && enabled["failing_since"].is_null());
    let before = receiver.received().len();
    let healthy = WebhookReceiver::start(0);
    acme.call(&app, Method::PATCH, &path, Some(&json!({ "url": healthy.url() }))).await.expect_status(200);
    let queued = acme.call(&app, Method::POST, &resend, None).await.expect_status(202).json();
    assert_eq!(queued["status"], "pending");
    assert_eq!(queued["attempts"].as_array().unwrap().len(), tried, "the log is kept");
    let received = healthy.wait_for_accepted(1, WAIT).await;
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].header("webhook-id"), delivery["id"].as_str().unwrap());
    verify_webhook(&secret, &received[0], 300).unwrap();
    assert_eq!(receiver.received().len(), before, "the old URL is no longer called");
    wait_until(&app, "the re-sent delivery is recorded", async || {
        acme.deliveries(&app, &id).await[0]["status"] == "delivered"
    })
    .await;
}

async fn deliveries_due_survive_a_restart(backend: Backend) {
    let Some(mut app) = spawn(backend, |_| {}).await else { return };
    let acme = org(&app, "Acme").await;
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/keel/events");
    let hook = acme.subscribe(&app, &url, json!(["engagement.created"])).await;
    let (id, secret) = (hook["id"].as_str().unwrap().to_owned(), hook["secret"].as_str().unwrap().to_owned());
    let engagement = acme.engagement(&app).await;
    wait_until(&app, "an attempt failed with the receiver down", async || {
        acme.deliveries(&app, &id).await.first().is_some_and(|d| !d["attempts"].as_array().unwrap().is_empty())
    })
    .await;

    // The instance stops with the delivery pending; the receiver comes up; a new instance sends it.
    app.restart_with(|_| {}).await;
    let receiver = WebhookReceiver::start_on(&format!("127.0.0.1:{port}"), 0);
    let received = receiver.wait_for_accepted(1, WAIT).await;
    assert_eq!(received.len(), 1);
    verify_webhook(&secret, &received[0], 300).unwrap();
    assert_eq!(received[0].json()["data"]["engagement_id"], engagement.as_str());
    let delivery = &acme.deliveries(&app, &id).await[0];
    let first = delivery["attempts"][0]["error"].as_str().unwrap();
    assert!(first.starts_with("no answer"), "the first attempt found nobody: {delivery}");
}

async fn subscriptions_are_managed_per_organization(backend: Backend) {
    let Some(app) = spawn(backend, |_| {}).await else { return };
    let acme = org(&app, "Acme").await;
    let globex = org(&app, "Globex").await;
    let a = acme.subscribe(&app, "https://hr.acme.example/keel", json!(["session.completed"])).await;
    let g = globex.subscribe(&app, "https://hr.globex.example/keel", json!(["session.completed"])).await;
    let (a_id, g_id) = (a["id"].as_str().unwrap(), g["id"].as_str().unwrap());
    assert_eq!(a["organization_id"], acme.id.as_str(), "the caller's organization by default");

    let listed = acme.call(&app, Method::GET, "/v1/webhooks", None).await.expect_status(200).json();
    let ids: Vec<&str> = listed["items"].as_array().unwrap().iter().map(|w| w["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [a_id]);
    let all = app.get("/v1/webhooks").await.json();
    assert_eq!(all["items"].as_array().unwrap().len(), 2, "admins see every organization's");
    let one = app.get(&format!("/v1/webhooks?organization_id={}", globex.id)).await.json();
    assert_eq!(one["items"][0]["id"], g_id);
    let path = format!("/v1/webhooks?organization_id={}", globex.id);
    let asked = acme.call(&app, Method::GET, &path, None).await.json();
    assert_eq!(asked["items"], json!([]), "another organization's list is empty");
    for (method, body) in
        [(Method::GET, None), (Method::PATCH, Some(json!({ "enabled": false }))), (Method::DELETE, None)]
    {
        let response = acme.call(&app, method.clone(), &format!("/v1/webhooks/{g_id}"), body.as_ref()).await;
        response.expect_problem(404);
    }
    let body =
        json!({ "organization_id": globex.id, "url": "https://x.example/", "event_types": ["session.completed"] });
    acme.call(&app, Method::POST, "/v1/webhooks", Some(&body)).await.expect_problem(404);
    let body = json!({ "url": "https://x.example/", "event_types": ["session.completed"] });
    let problem = app.post("/v1/webhooks", &body).await.expect_problem(422);
    assert_eq!(problem["errors"][0]["field"], "organization_id", "admins name the organization");

    // Update with If-Match, then delete.
    let path = format!("/v1/webhooks/{a_id}");
    let etag = acme.call(&app, Method::GET, &path, None).await.header("etag").unwrap();
    let patch =
        json!({ "event_types": ["session.completed", "engagement.created"], "description": null, "enabled": false });
    let headers = [("if-match", etag.as_str())];
    let updated = app.call_as(Some(&acme.hr_token), Method::PATCH, &path, &headers, Some(&patch)).await;
    let updated = updated.expect_status(200).json();
    assert_eq!(updated["event_types"], json!(["engagement.created", "session.completed"]));
    assert!(updated["description"].is_null() && updated["enabled"] == false);
    let stale = app.call_as(Some(&acme.hr_token), Method::PATCH, &path, &headers, Some(&patch)).await;
    stale.expect_problem(412);
    let unknown = app.call_as(Some(&acme.hr_token), Method::PATCH, &path, &[], Some(&json!({ "secret": "x" }))).await;
    unknown.expect_problem(400);
    let disabled = acme.call(&app, Method::GET, "/v1/webhooks?enabled=false", None).await.json();
    assert_eq!(disabled["items"].as_array().unwrap().len(), 1);
    acme.call(&app, Method::DELETE, &path, None).await.expect_status(204);
    acme.call(&app, Method::GET, &path, None).await.expect_problem(404);
    acme.call(&app, Method::GET, &format!("{path}/deliveries"), None).await.expect_problem(404);
}
