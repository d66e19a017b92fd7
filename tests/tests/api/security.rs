//! Regression tests for the ten findings of the attack run (issue 12), each tried again as it was
//! seen: an hr_partner re-addressing or demoting admins and coaches, the coach changing the
//! commercial terms, secrets in the idempotency store, self-set IdP subjects, one tenant's
//! webhooks starving everyone's mail, a bare CR in a calendar line, replayed sign-in codes,
//! replays before authentication, NUL bytes in query parameters; and the hardening that came with
//! them (bounded program dates, 6to4 and site-local webhook targets, sign-in-link addresses).

use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use actix_web::http::Method;
use keel_tests::{Response, SmtpSink, TestApp, WebhookReceiver, both_backends};
use serde_json::{Value, json};

use crate::designs::to_coaching;

const MAIL_WAIT: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// The people of one organization, by role in these tests.
struct Org {
    id: String,
    ids: HashMap<&'static str, String>,
    emails: HashMap<&'static str, String>,
    tokens: HashMap<&'static str, String>,
}

impl Org {
    fn id_of(&self, who: &str) -> &str {
        &self.ids[who]
    }

    fn token(&self, who: &str) -> &str {
        &self.tokens[who]
    }

    fn email(&self, who: &str) -> &str {
        &self.emails[who]
    }

    async fn call(&self, app: &TestApp, who: &str, method: Method, path: &str, body: Option<&Value>) -> Response {
        app.call_as(Some(self.token(who)), method, path, &[], body).await
    }

    /// The body of a new engagement with this organization's leader, sponsor, hr_partner and the
    /// provider-side coach.
    fn engagement_body(&self) -> Value {
        json!({
            "organization_id": self.id, "title": "Leading through change",
            "leader_id": self.id_of("leader"), "coach_id": self.id_of("coach"),
            "sponsor_ids": [self.id_of("sponsor")], "hr_partner_id": self.id_of("hr"),
            "start_date": "2026-01-15"
        })
    }
}

/// An organization `name` (domain `<name>.test`) with: `hr` and `hr2` (hr_partners), `member`,
/// `leader`, `sponsor`, `bystander` (no role), `org_admin` (an admin with this organization_id),
/// `org_coach` (a coach with this organization_id) and `coach` (a provider-side coach).
async fn org(app: &TestApp, name: &str) -> Org {
    let id = app.create_org(name).await["id"].as_str().unwrap().to_owned();
    let domain = format!("{}.test", name.to_lowercase());
    let mut org = Org { id: id.clone(), ids: HashMap::new(), emails: HashMap::new(), tokens: HashMap::new() };
    for (who, roles, organization) in [
        ("hr", json!(["hr_partner"]), Some(&id)),
        ("hr2", json!(["hr_partner"]), Some(&id)),
        ("member", json!([]), Some(&id)),
        ("leader", json!([]), Some(&id)),
        ("sponsor", json!([]), Some(&id)),
        ("bystander", json!([]), Some(&id)),
        ("org_admin", json!(["admin"]), Some(&id)),
        ("org_coach", json!(["coach"]), Some(&id)),
        ("coach", json!(["coach"]), None),
    ] {
        let email = if who == "coach" { format!("coach.of.{domain}@provider.test") } else { format!("{who}@{domain}") };
        let user = app
            .create_user(json!({
                "email": email, "name": format!("{who} of {name}"), "organization_id": organization, "roles": roles
            }))
            .await;
        org.ids.insert(who, user["id"].as_str().unwrap().to_owned());
        org.tokens.insert(who, app.token_for(&email));
        org.emails.insert(who, email);
    }
    org
}

fn user_path(id: &str) -> String {
    format!("/v1/users/{id}")
}

/// An API client of `org` with `scopes`: (client_id, its access token).
async fn api_client(app: &TestApp, org: &str, scopes: Value) -> (String, String) {
    let client = app
        .post(&format!("/v1/organizations/{org}/api-clients"), &json!({ "name": "HRIS", "scopes": scopes }))
        .await
        .expect_status(201)
        .json();
    let (id, secret) = (client["client_id"].as_str().unwrap(), client["client_secret"].as_str().unwrap());
    (id.to_owned(), client_token(app, id, secret).await)
}

async fn client_token(app: &TestApp, id: &str, secret: &str) -> String {
    let form = format!("grant_type=client_credentials&client_id={id}&client_secret={secret}");
    app.oauth_token(&[], &form).await.expect_status(200).json()["access_token"].as_str().unwrap().to_owned()
}

/// Whether `problem` lists an error with this field and code.
fn has_error(problem: &Value, field: &str, code: &str) -> bool {
    problem["errors"].as_array().is_some_and(|errors| errors.iter().any(|e| e["field"] == field && e["code"] == code))
}

fn has_field_error(problem: &Value, field: &str) -> bool {
    problem["errors"].as_array().is_some_and(|errors| errors.iter().any(|e| e["field"] == field))
}

/// Restarts `app` sending mail to a fresh SMTP sink, polling the outbox often.
async fn with_mail(app: &mut TestApp) -> SmtpSink {
    let smtp = SmtpSink::start();
    let url = smtp.url();
    app.restart_with(move |config| {
        config.smtp_url = url;
        config.outbox_poll_ms = 50;
        config.outbox_retry_base_ms = 100;
    })
    .await;
    smtp
}

async fn request_link(app: &TestApp, email: &str) {
    app.call_as(None, Method::POST, "/v1/auth/sign-in-links", &[], Some(&json!({ "email": email })))
        .await
        .expect_status(202);
}

/// Whether a (decoded) mail is addressed to `address` (its `To:` header names it).
fn addressed_to(mail: &str, address: &str) -> bool {
    let address = address.to_ascii_lowercase();
    let headers = mail.split("\r\n\r\n").next().unwrap_or(mail);
    headers.lines().any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("to:") && (l.contains(&format!(" {address}")) || l.contains(&format!("<{address}>")))
    })
}

fn is_sign_in_mail(mail: &str) -> bool {
    mail.contains("Your Keel sign-in link") || mail.contains("sign-in code is")
}

/// Waits for a sign-in mail to `address`.
async fn sign_in_mail_to(smtp: &SmtpSink, address: &str, timeout: Duration) -> Option<String> {
    let deadline = Instant::now() + timeout;
    loop {
        let found = smtp.messages().into_iter().find(|m| addressed_to(m, address) && is_sign_in_mail(m));
        if found.is_some() || Instant::now() > deadline {
            return found;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Asserts that no sign-in mail went to `address`: a sign-in link for `control` (requested after
/// any link for `address`) arrives, and a moment later still nothing for `address` has.
async fn assert_no_sign_in_mail(app: &TestApp, smtp: &SmtpSink, address: &str, control: &str) {
    request_link(app, control).await;
    sign_in_mail_to(smtp, control, MAIL_WAIT).await.expect("the control sign-in mail arrives");
    app.db.wait_until_sent(MAIL_WAIT).await;
    let leaked: Vec<String> =
        smtp.messages().into_iter().filter(|m| addressed_to(m, address) && is_sign_in_mail(m)).collect();
    assert!(leaked.is_empty(), "a sign-in mail went to {address}: {leaked:?}");
}

/// The one-time code in a sign-in mail (the indented line after "sign-in code is:").
fn code_in(mail: &str) -> String {
    let mut lines = mail.lines().skip_while(|l| !l.contains("sign-in code is"));
    lines.next();
    lines.map(str::trim).find(|l| !l.is_empty()).expect("a code line").to_owned()
}

/// Subject and text of a raw mail, decoded (RFC 2047 headers, transfer encodings, parts).
fn subject_and_text(raw: &str) -> (String, String) {
    fn texts(part: &mailparse::ParsedMail, out: &mut String) {
        if part.subparts.is_empty() {
            if part.ctype.mimetype.starts_with("text/") {
                out.push_str(&part.get_body().unwrap_or_default());
                out.push('\n');
            }
        } else {
            for sub in &part.subparts {
                texts(sub, out);
            }
        }
    }
    use mailparse::MailHeaderMap;
    let mail = mailparse::parse_mail(raw.as_bytes()).expect("a MIME message");
    let subject = mail.headers.get_first_value("Subject").unwrap_or_default();
    let mut text = String::new();
    texts(&mail, &mut text);
    (subject, text)
}

/// Every row of the idempotency store: (key, stored headers, stored body).
fn idempotency_rows(app: &TestApp) -> Vec<(String, Option<String>, Option<String>)> {
    use diesel::prelude::*;
    use keel_persistence::schema::idempotency_keys as keys;
    let db = app.db.open();
    let mut conn = db.conn().unwrap();
    keys::table.select((keys::key, keys::headers, keys::body)).load(&mut *conn).unwrap()
}

/// Asserts that the idempotency store has a row for `key` and that no row holds `secret`.
fn assert_store_keeps_no(app: &TestApp, key: &str, secret: &str) {
    let rows = idempotency_rows(app);
    assert!(rows.iter().any(|(k, _, _)| k == key), "the key {key} is remembered: {rows:?}");
    for (k, headers, body) in &rows {
        let stored = format!("{} {}", headers.as_deref().unwrap_or(""), body.as_deref().unwrap_or(""));
        assert!(!stored.contains(secret), "the idempotency row of {k} holds a secret: {stored}");
    }
}

/// Rotates a secret at `path` twice with one key: the repeat is withheld and the store keeps
/// no secret (`field` is where the answer carries it). Returns the new secret.
async fn rotate_twice_with_one_key(app: &TestApp, path: &str, key: &str, field: &str) -> String {
    let headers = [("idempotency-key", key)];
    let rotated = app.call(Method::POST, path, &headers, None).await.expect_status(200).json();
    let secret = rotated[field].as_str().unwrap().to_owned();
    assert_withheld(app.call(Method::POST, path, &headers, None).await, &secret);
    assert_store_keeps_no(app, key, &secret);
    secret
}

/// Asserts that a repeat of a secret-bearing POST is a 409 `idempotency_response_withheld` that
/// shows no secret; returns its `Location`.
#[track_caller]
fn assert_withheld(response: Response, secret: &str) -> Option<String> {
    let text = response.text();
    assert!(response.header("idempotent-replayed").is_none(), "replayed: {text}");
    assert!(!text.contains(secret), "the repeat shows the secret: {text}");
    assert!(!text.contains("client_secret") && !text.contains("\"secret\""), "a secret field is shown: {text}");
    let location = response.header("location");
    let problem = response.expect_problem(409);
    assert_eq!(problem["code"], "idempotency_response_withheld", "{problem}");
    location
}

// ---------------------------------------------------------------------------------------------
// Findings 1 and 2: who may change whom
// ---------------------------------------------------------------------------------------------

async fn hr_partner_cannot_take_over_an_admin_or_coach_by_changing_their_email(mut app: TestApp) {
    let smtp = with_mail(&mut app).await;
    let acme = org(&app, "Acme").await;
    let (_, client) = api_client(&app, &acme.id, json!(["users:read", "users:write"])).await;
    for (target, control) in [("org_admin", "member"), ("org_coach", "bystander")] {
        let path = user_path(acme.id_of(target));
        let before = app.get(&path).await.expect_status(200).json();
        let attacker = format!("attacker.{target}@evil.test");
        let body = json!({ "email": attacker });
        let response = acme.call(&app, "hr", Method::PATCH, &path, Some(&body)).await;
        response.expect_problem(403);
        let by_client = app.call_as(Some(&client), Method::PATCH, &path, &[], Some(&body)).await;
        by_client.expect_problem(403);
        // Any change of an admin or a coach by the hr_partner is refused, even of the name.
        let response = acme.call(&app, "hr", Method::PATCH, &path, Some(&json!({ "name": "Renamed" }))).await;
        response.expect_problem(403);
        acme.call(&app, "hr", Method::DELETE, &path, None).await.expect_problem(403);
        assert_eq!(app.get(&path).await.expect_status(200).json(), before, "{target} unchanged");

        // The chain stops: a link for the attacker's address signs nobody in.
        request_link(&app, &attacker).await;
        assert_no_sign_in_mail(&app, &smtp, &attacker, acme.email(control)).await;
    }
    // The admin may.
    let path = user_path(acme.id_of("org_coach"));
    app.patch(&path, None, &json!({ "name": "Coach Renamed" })).await.expect_status(200);
}

async fn an_email_change_by_the_hr_partner_is_audited_announced_and_held(mut app: TestApp) {
    let smtp = with_mail(&mut app).await;
    let acme = org(&app, "Acme").await;
    let path = user_path(acme.id_of("member"));
    let old = acme.email("member").to_owned();
    let new = "member.new@acme.test";

    // A person may not change their own address.
    let own = acme.call(&app, "member", Method::PATCH, &path, Some(&json!({ "email": "mine@acme.test" }))).await;
    own.expect_problem(403);

    let changed = acme.call(&app, "hr", Method::PATCH, &path, Some(&json!({ "email": new }))).await;
    assert_eq!(changed.expect_status(200).json()["email"], new);

    // Audited…
    let audit = app.get(&format!("/v1/audit-events?resource_id={}", acme.id_of("member"))).await.expect_status(200);
    let audit = audit.json();
    let record = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["action"] == "user.updated" && r["changed_fields"].as_array().unwrap().contains(&json!("email")))
        .cloned();
    let record = record.unwrap_or_else(|| panic!("a user.updated record listing email: {audit}"));
    assert_eq!(record["actor_id"], acme.id_of("hr"), "{record}");

    // …announced to the old address, naming the new one…
    let raw = smtp.raw_wait_for(&[&old], MAIL_WAIT).await.expect("a notice to the old address");
    let (subject, text) = subject_and_text(&raw);
    assert!(subject.contains("sign-in address was changed"), "subject: {subject}");
    assert!(text.contains(new), "the notice names the new address: {text}");
    assert!(!is_sign_in_mail(&raw), "the notice holds no sign-in code: {raw}");

    // …and held: a link for the new address is accepted (202) but not sent.
    request_link(&app, new).await;
    assert_no_sign_in_mail(&app, &smtp, new, acme.email("bystander")).await;
}

async fn without_a_hold_an_address_changed_by_an_admin_signs_in_at_once(mut app: TestApp) {
    let smtp = with_mail(&mut app).await;
    let acme = org(&app, "Acme").await;
    let org_path = format!("/v1/organizations/{}", acme.id);
    let updated = app.patch(&org_path, None, &json!({ "settings": { "email_change_hold_hours": 0 } })).await;
    assert_eq!(updated.expect_status(200).json()["settings"]["email_change_hold_hours"], 0);
    for hours in [-1, 721] {
        let problem = app.patch(&org_path, None, &json!({ "settings": { "email_change_hold_hours": hours } })).await;
        assert!(has_error(&problem.expect_problem(422), "settings.email_change_hold_hours", "out_of_range"));
    }
    let fresh = app.create_org("Globex").await;
    assert_eq!(fresh["settings"]["email_change_hold_hours"], 72, "72 hours by default");

    let new = "member.new@acme.test";
    let path = user_path(acme.id_of("member"));
    app.patch(&path, None, &json!({ "email": new })).await.expect_status(200);
    let raw = smtp.raw_wait_for(&[acme.email("member")], MAIL_WAIT).await.expect("a notice to the old address");
    let (subject, text) = subject_and_text(&raw);
    assert!(subject.contains("sign-in address was changed") && text.contains(new), "{subject}: {text}");
    let audit = app.get(&format!("/v1/audit-events?resource_id={}", acme.id_of("member"))).await.json();
    assert!(
        audit["items"].as_array().unwrap().iter().any(|r| r["action"] == "user.updated"
            && r["changed_fields"].as_array().unwrap().contains(&json!("email"))),
        "{audit}"
    );

    request_link(&app, new).await;
    let mail = sign_in_mail_to(&smtp, new, MAIL_WAIT).await.expect("no hold: the link is mailed at once");
    let token = app
        .call_as(None, Method::POST, "/v1/auth/sign-in-links/redeem", &[], Some(&json!({ "token": code_in(&mail) })))
        .await
        .expect_status(200)
        .json();
    let me = app.call_as(token["access_token"].as_str(), Method::GET, "/v1/me", &[], None).await.json();
    assert_eq!(me["user"]["id"], acme.id_of("member"));
}

async fn an_admin_changing_their_own_email_is_not_held(mut app: TestApp) {
    let smtp = with_mail(&mut app).await;
    let path = user_path(&app.admin_id);
    app.patch(&path, None, &json!({ "email": "root@keel.test" })).await.expect_status(200);
    request_link(&app, "root@keel.test").await;
    sign_in_mail_to(&smtp, "root@keel.test", MAIL_WAIT).await.expect("the admin's own change is not held");
}

async fn hr_partner_cannot_demote_or_deactivate_admins_and_coaches(app: TestApp) {
    let acme = org(&app, "Acme").await;
    let (_, client) = api_client(&app, &acme.id, json!(["users:read", "users:write"])).await;
    for target in ["org_admin", "org_coach"] {
        let path = user_path(acme.id_of(target));
        let before = app.get(&path).await.expect_status(200).json();
        for body in [json!({ "roles": [] }), json!({ "status": "deactivated" }), json!({ "roles": ["hr_partner"] })] {
            let response = acme.call(&app, "hr", Method::PATCH, &path, Some(&body)).await;
            assert_eq!(response.status.as_u16(), 403, "hr_partner {body} on {target}: {}", response.text());
            let response = app.call_as(Some(&client), Method::PATCH, &path, &[], Some(&body)).await;
            assert_eq!(response.status.as_u16(), 403, "API client {body} on {target}: {}", response.text());
        }
        let after = app.get(&path).await.expect_status(200).json();
        assert_eq!(
            (&after["roles"], &after["status"], &after["version"]),
            (&before["roles"], &before["status"], &before["version"]),
            "{target} unchanged"
        );
        // Their tokens still work.
        acme.call(&app, target, Method::GET, "/v1/me", None).await.expect_status(200);
    }

    // What the hr_partner may still do: people with no global role or only hr_partner.
    let member = user_path(acme.id_of("member"));
    for body in [
        json!({ "roles": ["hr_partner"] }),
        json!({ "roles": [] }),
        json!({ "name": "Kim", "external_id": "HR-7" }),
        json!({ "status": "deactivated" }),
        json!({ "status": "active" }),
    ] {
        let response = acme.call(&app, "hr", Method::PATCH, &member, Some(&body)).await;
        assert_eq!(response.status.as_u16(), 200, "hr_partner {body} on a member: {}", response.text());
    }
    let hr2 = user_path(acme.id_of("hr2"));
    acme.call(&app, "hr", Method::PATCH, &hr2, Some(&json!({ "name": "Second HR" }))).await.expect_status(200);
    acme.call(&app, "hr", Method::PATCH, &hr2, Some(&json!({ "roles": [] }))).await.expect_status(200);
    // And the admin may change admins and coaches.
    let coach = user_path(acme.id_of("org_coach"));
    let demoted = app.patch(&coach, None, &json!({ "roles": [] })).await.expect_status(200).json();
    assert_eq!(demoted["roles"], json!([]));
}

// ---------------------------------------------------------------------------------------------
// Finding 3: the coach and the commercial terms
// ---------------------------------------------------------------------------------------------

async fn the_coach_changes_only_the_title_of_an_engagement(app: TestApp) {
    let acme = org(&app, "Acme").await;
    let engagement = app.post("/v1/engagements", &acme.engagement_body()).await.expect_status(201).json();
    let id = engagement["id"].as_str().unwrap();
    let path = format!("/v1/engagements/{id}");
    let context =
        json!({ "met_on": "2026-01-12", "attendees": ["Coach", "Leader", "Sponsor"], "notes": "CONTEXT-NOTES" });
    acme.call(&app, "coach", Method::PUT, &format!("{path}/context"), Some(&context)).await.expect_status(200);
    acme.call(&app, "sponsor", Method::GET, &format!("{path}/context"), None).await.expect_status(200);

    // The title is the coach's; fields sent with their current values are no change.
    let same = json!({
        "title": "Leading the merger", "monthly_hours_budget": engagement["monthly_hours_budget"],
        "planned_end_date": engagement["planned_end_date"], "sponsor_ids": engagement["sponsor_ids"],
        "hr_partner_id": engagement["hr_partner_id"]
    });
    let renamed = acme.call(&app, "coach", Method::PATCH, &path, Some(&same)).await.expect_status(200).json();
    assert_eq!(renamed["title"], "Leading the merger");

    let before = app.get(&path).await.expect_status(200).json();
    for body in [
        json!({ "monthly_hours_budget": 40 }),
        json!({ "planned_end_date": "2026-12-15" }),
        json!({ "planned_end_date": "2027-06-15", "allow_any_duration": true }),
        json!({ "sponsor_ids": [acme.id_of("bystander")] }),
        json!({ "sponsor_ids": [acme.id_of("sponsor"), acme.id_of("bystander")] }),
        json!({ "hr_partner_id": null }),
        json!({ "hr_partner_id": acme.id_of("hr2") }),
        json!({ "title": "Sneaky", "monthly_hours_budget": 10 }),
    ] {
        let response = acme.call(&app, "coach", Method::PATCH, &path, Some(&body)).await;
        assert_eq!(response.status.as_u16(), 403, "coach {body}: {}", response.text());
    }
    let after = app.get(&path).await.expect_status(200).json();
    assert_eq!(after, before, "nothing changed");
    // The would-be sponsor still cannot read the context notes.
    let response = acme.call(&app, "bystander", Method::GET, &format!("{path}/context"), None).await;
    assert!(!response.text().contains("CONTEXT-NOTES"));
    response.expect_problem(404);

    // The hr_partner and admins change the terms.
    let changes = [
        ("hr", json!({ "monthly_hours_budget": 4.0 })),
        ("hr", json!({ "planned_end_date": "2026-10-15" })),
        ("hr", json!({ "sponsor_ids": [acme.id_of("sponsor"), acme.id_of("bystander")] })),
        ("admin", json!({ "hr_partner_id": acme.id_of("hr2") })),
    ];
    for (who, body) in changes {
        let response = if who == "admin" {
            app.patch(&path, None, &body).await
        } else {
            acme.call(&app, who, Method::PATCH, &path, Some(&body)).await
        };
        assert_eq!(response.status.as_u16(), 200, "{who} {body}: {}", response.text());
    }
    let changed = app.get(&path).await.json();
    assert_eq!(changed["monthly_hours_budget"], 4.0);
    assert_eq!(changed["planned_end_date"], "2026-10-15");
    assert_eq!(changed["sponsor_ids"], json!([acme.id_of("sponsor"), acme.id_of("bystander")]));
    assert_eq!(changed["hr_partner_id"], acme.id_of("hr2"));
}

// ---------------------------------------------------------------------------------------------
// Finding 4: no secret at rest in the idempotency store
// ---------------------------------------------------------------------------------------------

async fn the_idempotency_store_keeps_no_secret(app: TestApp) {
    let acme = org(&app, "Acme").await;

    // An API client's secret.
    let path = format!("/v1/organizations/{}/api-clients", acme.id);
    let body = json!({ "name": "HRIS", "scopes": ["users:read"] });
    let headers = [("idempotency-key", "client-1")];
    let first = app.call(Method::POST, &path, &headers, Some(&body)).await.expect_status(201);
    let location = first.header("location").expect("a Location");
    let created = first.json();
    let secret = created["client_secret"].as_str().unwrap().to_owned();
    let repeat_location = assert_withheld(app.call(Method::POST, &path, &headers, Some(&body)).await, &secret);
    assert_eq!(repeat_location.as_deref(), Some(location.as_str()), "the repeat points at the client");
    let clients = app.get(&path).await.expect_status(200).json();
    assert_eq!(clients["items"].as_array().unwrap().len(), 1, "the repeat created nothing");
    assert_store_keeps_no(&app, "client-1", &secret);
    // The secret still works, once.
    client_token(&app, created["client_id"].as_str().unwrap(), &secret).await;

    // A rotated client secret.
    let rotate = format!("{path}/{}/rotate-secret", created["client_id"].as_str().unwrap());
    let rotated_secret = rotate_twice_with_one_key(&app, &rotate, "client-rotate-1", "client_secret").await;

    // A webhook's signing secret, at creation and at rotation.
    let body = json!({ "organization_id": acme.id, "url": "https://hr.acme.example/keel", "event_types": ["session.completed"] });
    let headers = [("idempotency-key", "hook-1")];
    let hook = app.call(Method::POST, "/v1/webhooks", &headers, Some(&body)).await.expect_status(201).json();
    let hook_secret = hook["secret"].as_str().unwrap().to_owned();
    assert!(hook_secret.starts_with("whsec_"));
    assert_withheld(app.call(Method::POST, "/v1/webhooks", &headers, Some(&body)).await, &hook_secret);
    let hooks = app.get(&format!("/v1/webhooks?organization_id={}", acme.id)).await.json();
    assert_eq!(hooks["items"].as_array().unwrap().len(), 1, "the repeat created nothing");
    assert_store_keeps_no(&app, "hook-1", &hook_secret);

    let rotate = format!("/v1/webhooks/{}/rotate-secret", hook["id"].as_str().unwrap());
    rotate_twice_with_one_key(&app, &rotate, "hook-rotate-1", "secret").await;

    // An access token from the token endpoint.
    let form = format!(
        "grant_type=client_credentials&client_id={}&client_secret={rotated_secret}",
        created["client_id"].as_str().unwrap()
    );
    let issued = app.oauth_token(&[("idempotency-key", "token-1")], &form).await.expect_status(200).json();
    let access = issued["access_token"].as_str().unwrap();
    for (key, headers, body) in idempotency_rows(&app) {
        let stored = format!("{} {}", headers.unwrap_or_default(), body.unwrap_or_default());
        assert!(!stored.contains(access), "the idempotency row of {key} holds an access token");
    }
}

// ---------------------------------------------------------------------------------------------
// Finding 5: external ids under an identity provider
// ---------------------------------------------------------------------------------------------

const IDP_ISSUER: &str = "https://idp.example.test";
const IDP_AUDIENCE: &str = "keel";

fn fixture(name: &str) -> String {
    format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn idp_token(sub: &str) -> String {
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let claims = json!({ "sub": sub, "iss": IDP_ISSUER, "aud": IDP_AUDIENCE, "iat": now, "exp": now + 600 });
    let key = EncodingKey::from_rsa_pem(&std::fs::read(fixture("idp-rsa-private.pem")).unwrap()).unwrap();
    jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &key).unwrap()
}

async fn people_cannot_set_their_own_external_id(mut app: TestApp) {
    app.restart_with(|config| {
        config.idp_issuer = IDP_ISSUER.to_owned();
        config.idp_audience = IDP_AUDIENCE.to_owned();
        config.idp_keys_file = fixture("idp-public-keys.pem");
    })
    .await;
    let acme = org(&app, "Acme").await;
    let path = user_path(acme.id_of("member"));

    // The attacker claims another person's IdP subject: refused, and that subject's token does
    // not sign in as them.
    let body = json!({ "external_id": "idp-victim" });
    acme.call(&app, "member", Method::PATCH, &path, Some(&body)).await.expect_problem(403);
    let body = json!({ "name": "Kim", "external_id": "idp-victim" });
    acme.call(&app, "member", Method::PATCH, &path, Some(&body)).await.expect_problem(403);
    acme.call(&app, "member", Method::PATCH, &path, Some(&json!({ "name": "Kim" }))).await.expect_status(200);
    assert!(app.get(&path).await.json()["external_id"].is_null(), "unchanged");
    let response = app.call_as(Some(&idp_token("idp-victim")), Method::GET, "/v1/me", &[], None).await;
    assert_eq!(response.status.as_u16(), 401, "the victim's subject is nobody here: {}", response.text());
    let hr_path = user_path(acme.id_of("hr"));

    // The hr_partner sets it for a member: a new way into the account, so it waits out the
    // organization's hold (72 h) like a new address, and the member is told.
    let set = acme.call(&app, "hr", Method::PATCH, &path, Some(&json!({ "external_id": "idp-kim" }))).await;
    let set = set.expect_status(200).json();
    assert_eq!(set["external_id"], "idp-kim");
    assert!(set["sign_in_hold_until"].is_string(), "held: {set}");
    let held = app.call_as(Some(&idp_token("idp-kim")), Method::GET, "/v1/me", &[], None).await;
    assert_eq!(held.status.as_u16(), 401, "on hold: {}", held.text());

    // With the organization's hold at 0, an admin's change signs in at once.
    let org_path = format!("/v1/organizations/{}", acme.id);
    app.patch(&org_path, None, &json!({ "settings": { "email_change_hold_hours": 0 } })).await.expect_status(200);
    app.patch(&hr_path, None, &json!({ "external_id": "idp-hr" })).await.expect_status(200);
    let me = app.call_as(Some(&idp_token("idp-hr")), Method::GET, "/v1/me", &[], None).await.expect_status(200);
    assert_eq!(me.json()["user"]["id"], acme.id_of("hr"));
}

// ---------------------------------------------------------------------------------------------
// Finding 6: one tenant's slow webhooks hold up nobody else
// ---------------------------------------------------------------------------------------------

/// A TCP listener that accepts every connection and never answers, holding the sockets open.
struct HangingReceiver {
    address: SocketAddr,
    held: Arc<Mutex<Vec<TcpStream>>>,
    stopped: Arc<AtomicBool>,
}

impl HangingReceiver {
    fn start() -> HangingReceiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let address = listener.local_addr().unwrap();
        let held = Arc::new(Mutex::new(Vec::new()));
        let stopped = Arc::new(AtomicBool::new(false));
        let (keep, stop) = (held.clone(), stopped.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    keep.lock().unwrap().push(stream);
                }
            }
        });
        HangingReceiver { address, held, stopped }
    }

    fn url(&self, n: usize) -> String {
        format!("http://{}/hang/{n}", self.address)
    }

    fn connections(&self) -> usize {
        self.held.lock().unwrap().len()
    }
}

impl Drop for HangingReceiver {
    fn drop(&mut self) {
        self.stopped.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.address);
        self.held.lock().unwrap().clear();
    }
}

async fn one_tenants_hanging_webhooks_hold_up_neither_mail_nor_other_receivers(mut app: TestApp) {
    // The default webhook timeout (10 s) or more, so that waiting on A shows.
    assert!(app.config.webhook_timeout_secs >= 10);
    let smtp = SmtpSink::start();
    let url = smtp.url();
    app.restart_with(move |config| {
        config.smtp_url = url;
        config.outbox_poll_ms = 20;
        config.webhook_allow_internal = true;
    })
    .await;
    let acme = org(&app, "Acme").await;
    let globex = org(&app, "Globex").await;

    let hanging = HangingReceiver::start();
    for n in 0..20 {
        let body = json!({ "organization_id": acme.id, "url": hanging.url(n), "event_types": ["engagement.created"] });
        app.post("/v1/webhooks", &body).await.expect_status(201);
    }
    let healthy = WebhookReceiver::start(0);
    let body = json!({ "organization_id": globex.id, "url": healthy.url(), "event_types": ["engagement.created"] });
    app.post("/v1/webhooks", &body).await.expect_status(201);
    for _ in 0..60 {
        app.post("/v1/engagements", &acme.engagement_body()).await.expect_status(201);
    }

    // Now another organization's sign-in mail and webhook, queued behind A's 1,200 deliveries.
    let started = Instant::now();
    request_link(&app, globex.email("member")).await;
    let engagement = app.post("/v1/engagements", &globex.engagement_body()).await.expect_status(201).json();
    let deadline = started + Duration::from_secs(5);

    let mail = sign_in_mail_to(&smtp, globex.email("member"), deadline.saturating_duration_since(Instant::now())).await;
    assert!(mail.is_some(), "Globex's sign-in mail is not delivered within 5 s while Acme's receivers hang");
    let received = healthy.wait_for_accepted(1, deadline.saturating_duration_since(Instant::now())).await;
    assert!(
        received.iter().any(|r| r.answered == 200 && r.json()["data"]["engagement_id"] == engagement["id"]),
        "Globex's webhook is not delivered within 5 s while Acme's receivers hang: {received:?}"
    );
    assert!(hanging.connections() > 0, "Acme's receiver was being called (and hung) meanwhile");
}

// ---------------------------------------------------------------------------------------------
// Finding 7: control characters in calendar lines
// ---------------------------------------------------------------------------------------------

/// The text/calendar attachment of a raw mail, as sent (transfer encoding undone).
fn calendar_bytes(raw: &str) -> Vec<u8> {
    let mail = mailparse::parse_mail(raw.as_bytes()).expect("a MIME message");
    fn find(part: &mailparse::ParsedMail) -> Option<Vec<u8>> {
        if part.ctype.mimetype == "text/calendar" {
            return part.get_body_raw().ok();
        }
        part.subparts.iter().find_map(find)
    }
    find(&mail).expect("a text/calendar part")
}

async fn a_bare_carriage_return_is_refused_and_never_reaches_a_calendar(mut app: TestApp) {
    let smtp = with_mail(&mut app).await;
    let p = to_coaching(&app).await;
    let injected = "Plan\rATTENDEE:mailto:x@y\rX-A:b";
    let body = json!({ "scheduled_at": "2026-03-10T14:00:00Z", "duration_minutes": 60, "format": "video", "agenda": injected });
    let problem = p.call(&app, "coach", Method::POST, "/sessions", Some(body)).await.expect_problem(422);
    assert!(has_error(&problem, "agenda", "invalid_characters"), "{problem}");
    let sessions = p.call(&app, "coach", Method::GET, "/sessions", None).await.expect_status(200).json();
    assert_eq!(sessions["items"], json!([]), "nothing scheduled");

    // CRLF is a line break: accepted, stored as LF.
    let agenda = "Plan\r\nATTENDEE:mailto:x@y\r\nX-A:b";
    let body =
        json!({ "scheduled_at": "2026-03-11T14:00:00Z", "duration_minutes": 60, "format": "video", "agenda": agenda });
    let session = p.call(&app, "coach", Method::POST, "/sessions", Some(body)).await.expect_status(201).json();
    assert_eq!(session["agenda"], "Plan\nATTENDEE:mailto:x@y\nX-A:b");
    let id = session["id"].as_str().unwrap().to_owned();
    let shown = p.call(&app, "coach", Method::GET, &format!("/sessions/{id}"), None).await.expect_status(200).json();
    assert_eq!(shown["agenda"], "Plan\nATTENDEE:mailto:x@y\nX-A:b");
    let plain = json!({ "scheduled_at": "2026-03-12T14:00:00Z", "duration_minutes": 60, "format": "video", "agenda": "Plan\r\nmore" });
    let plain = p.call(&app, "coach", Method::POST, "/sessions", Some(plain)).await.expect_status(201).json();
    assert_eq!(plain["agenda"], "Plan\nmore");

    // The invitation: every CR is part of a CRLF, and the agenda stays inside DESCRIPTION.
    let raw = smtp
        .raw_wait_for(&["To: leader@acme.test", "text/calendar"], MAIL_WAIT)
        .await
        .expect("the invitation to the leader");
    let ics = calendar_bytes(&raw);
    for (i, byte) in ics.iter().enumerate() {
        assert!(
            *byte != b'\r' || ics.get(i + 1) == Some(&b'\n'),
            "a bare CR at byte {i} of the .ics: {:?}",
            String::from_utf8_lossy(&ics)
        );
    }
    let text = String::from_utf8_lossy(&ics).into_owned();
    assert!(text.contains(&format!("UID:{id}@keel")), "the invitation of the accepted session: {text:?}");
    for line in text.split(['\r', '\n']) {
        assert!(!line.starts_with("X-A:"), "an injected line: {text:?}");
        assert!(!(line.starts_with("ATTENDEE") && line.contains("x@y")), "an injected attendee: {text:?}");
    }
    let unfolded = text.replace("\r\n ", "").replace("\r\n\t", "");
    assert!(unfolded.contains(r"DESCRIPTION:Plan\nATTENDEE:mailto:x@y\nX-A:b"), "the agenda, escaped: {text:?}");

    // Other free text refuses a bare CR too.
    let path = format!("/sessions/{id}");
    let problem = p.call(&app, "coach", Method::PATCH, &path, Some(json!({ "agenda": "x\ry" }))).await;
    assert!(has_error(&problem.expect_problem(422), "agenda", "invalid_characters"));
    let done = json!({ "actual_duration_minutes": 60, "shared_summary": "Good\rX-A:b" });
    let problem = p.call(&app, "coach", Method::POST, &format!("{path}/complete"), Some(done)).await;
    assert!(has_error(&problem.expect_problem(422), "shared_summary", "invalid_characters"));
    let after = p.call(&app, "coach", Method::GET, &path, None).await.json();
    assert_eq!(
        (after["status"].as_str(), after["agenda"].as_str()),
        (Some("scheduled"), Some("Plan\nATTENDEE:mailto:x@y\nX-A:b"))
    );
}

// ---------------------------------------------------------------------------------------------
// Findings 8 and 9: replays
// ---------------------------------------------------------------------------------------------

async fn a_used_sign_in_code_is_not_replayed_to_another_caller(mut app: TestApp) {
    let smtp = with_mail(&mut app).await;
    app.create_user(json!({ "email": "kim@example.com", "name": "Kim" })).await;
    request_link(&app, "kim@example.com").await;
    let mail = sign_in_mail_to(&smtp, "kim@example.com", MAIL_WAIT).await.expect("the sign-in mail");
    let body = json!({ "token": code_in(&mail) });
    let headers = [("idempotency-key", "redeem-1")];
    let redeem = "/v1/auth/sign-in-links/redeem";
    let first = app.call_as(None, Method::POST, redeem, &headers, Some(&body)).await.expect_status(200).json();
    let access = first["access_token"].as_str().unwrap().to_owned();

    let second = app.call_as(None, Method::POST, redeem, &headers, Some(&body)).await;
    assert!(second.header("idempotent-replayed").is_none(), "replayed: {}", second.text());
    assert!(!second.text().contains(&access), "the first caller's token was handed out again");
    assert_eq!(second.expect_problem(400)["code"], "invalid_sign_in_code");
    for (key, headers, body) in idempotency_rows(&app) {
        let stored = format!("{} {}", headers.unwrap_or_default(), body.unwrap_or_default());
        assert!(!stored.contains(&access), "the idempotency row of {key} holds an access token");
    }
}

async fn a_deactivated_user_or_revoked_client_gets_401_not_a_replay(app: TestApp) {
    let acme = org(&app, "Acme").await;

    // A deactivated hr_partner repeats the creation of an API client.
    let path = format!("/v1/organizations/{}/api-clients", acme.id);
    let body = json!({ "name": "HRIS", "scopes": ["users:read"] });
    let headers = [("idempotency-key", "hr-client-1")];
    let created = acme.call_with(&app, "hr", Method::POST, &path, &headers, Some(&body)).await.expect_status(201);
    let secret = created.json()["client_secret"].as_str().unwrap().to_owned();
    app.delete(&user_path(acme.id_of("hr")), None).await.expect_status(204);
    let repeat = acme.call_with(&app, "hr", Method::POST, &path, &headers, Some(&body)).await;
    assert!(repeat.header("idempotent-replayed").is_none(), "replayed: {}", repeat.text());
    assert!(!repeat.text().contains(&secret), "the secret was replayed");
    repeat.expect_problem(401);

    // A revoked API client repeats the creation of a user.
    let (client_id, token) = api_client(&app, &acme.id, json!(["users:read", "users:write"])).await;
    let user = json!({ "email": "new@acme.test", "name": "New", "organization_id": acme.id });
    let headers = [("idempotency-key", "client-user-1")];
    app.call_as(Some(&token), Method::POST, "/v1/users", &headers, Some(&user)).await.expect_status(201);
    app.delete(&format!("{path}/{client_id}"), None).await.expect_status(204);
    app.call_as(Some(&token), Method::GET, "/v1/me", &[], None).await.expect_problem(401);
    let repeat = app.call_as(Some(&token), Method::POST, "/v1/users", &headers, Some(&user)).await;
    assert!(repeat.header("idempotent-replayed").is_none(), "replayed: {}", repeat.text());
    repeat.expect_problem(401);
}

impl Org {
    async fn call_with(
        &self,
        app: &TestApp,
        who: &str,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Response {
        app.call_as(Some(self.token(who)), method, path, headers, body).await
    }
}

// ---------------------------------------------------------------------------------------------
// Finding 10 and input hardening
// ---------------------------------------------------------------------------------------------

async fn nul_bytes_and_oversized_input_are_refused_not_500(app: TestApp) {
    let acme = org(&app, "Acme").await;
    let body = json!({ "organization_id": acme.id, "url": "https://hr.acme.example/keel", "event_types": ["engagement.created"] });
    let hook = app.post("/v1/webhooks", &body).await.expect_status(201).json();
    let hook = hook["id"].as_str().unwrap();
    let queries = [
        ("/v1/users?email=%00".to_owned(), "email"),
        ("/v1/users?email=a%00b%40example.com".to_owned(), "email"),
        ("/v1/audit-events?resource_type=%00".to_owned(), "resource_type"),
        ("/v1/audit-events?resource_id=%00".to_owned(), "resource_id"),
        ("/v1/audit-events?actor_id=%00".to_owned(), "actor_id"),
        (format!("/v1/webhooks/{hook}/deliveries?event_type=%00"), "event_type"),
    ];
    for (path, field) in queries {
        // As the admin and as the organization's hr_partner.
        for token in [app.admin_token.as_str(), acme.token("hr")] {
            let response = app.call_as(Some(token), Method::GET, &path, &[], None).await;
            let problem = response.expect_problem(400);
            assert!(has_error(&problem, field, "invalid_characters"), "{path}: {problem}");
        }
    }

    let link = "/v1/auth/sign-in-links";
    for email in
        ["a\u{0}b".to_owned(), "kim\u{0}@example.com".to_owned(), format!("{}@example.com", "a".repeat(300_000))]
    {
        let response = app.call_as(None, Method::POST, link, &[], Some(&json!({ "email": email }))).await;
        let problem = response.expect_problem(422);
        assert!(has_field_error(&problem, "email"), "{problem}");
    }
    // An ordinary unknown address is still a 202 (no enumeration).
    request_link(&app, "nobody@example.com").await;
}

async fn engagement_dates_are_bounded(app: TestApp) {
    let acme = org(&app, "Acme").await;
    let dated = |start: &str, end: &str| {
        let mut body = acme.engagement_body();
        body["start_date"] = json!(start);
        body["planned_end_date"] = json!(end);
        body["allow_any_duration"] = json!(true);
        body
    };
    for (start, end, field) in [
        ("2000-01-01", "9999-12-31", "planned_end_date"),
        ("2026-01-01", "2029-06-01", "planned_end_date"),
        ("2100-06-01", "2101-01-15", "planned_end_date"),
        ("1999-06-01", "2000-03-01", "start_date"),
    ] {
        let problem = app.post("/v1/engagements", &dated(start, end)).await.expect_problem(422);
        assert!(has_field_error(&problem, field), "{start}..{end}: {problem}");
    }
    let list = app.get("/v1/engagements").await.json();
    assert_eq!(list["items"], json!([]), "nothing written");

    // Within 36 months is fine; a PATCH is bounded the same way.
    let engagement = app.post("/v1/engagements", &dated("2026-01-01", "2028-06-01")).await.expect_status(201).json();
    let path = format!("/v1/engagements/{}", engagement["id"].as_str().unwrap());
    let far = json!({ "planned_end_date": "9999-12-31", "allow_any_duration": true });
    let problem = app.patch(&path, None, &far).await.expect_problem(422);
    assert!(has_field_error(&problem, "planned_end_date"), "{problem}");
    assert_eq!(app.get(&path).await.json()["planned_end_date"], "2028-06-01");
    let hours = app.get(&format!("{path}/hours")).await.expect_status(200).json();
    assert!(hours["months"].as_array().unwrap().len() <= 37);
}

async fn webhook_targets_embedding_internal_addresses_are_refused(mut app: TestApp) {
    app.restart_with(|config| config.webhook_allow_internal = false).await;
    let acme = org(&app, "Acme").await;
    for url in [
        "http://[2002:7f00:1::]/x",
        "http://[2002:7f00:0001:0000:0000:0000:0000:0001]/x",
        "http://[2002:a00:1::]/x",
        "http://[2002:a9fe:a9fe::]/latest/meta-data",
        "http://[fec0::1]/x",
        "http://[fed0::1]/x",
    ] {
        let body = json!({ "organization_id": acme.id, "url": url, "event_types": ["engagement.created"] });
        let problem = app.post("/v1/webhooks", &body).await.expect_problem(422);
        assert!(has_error(&problem, "url", "internal_address"), "{url}: {problem}");
    }
    let hooks = app.get(&format!("/v1/webhooks?organization_id={}", acme.id)).await.json();
    assert_eq!(hooks["items"], json!([]), "nothing created");
}

both_backends! {
    fn hr_partner_cannot_take_over_an_admin_or_coach_by_changing_their_email(app: TestApp);
    fn an_email_change_by_the_hr_partner_is_audited_announced_and_held(app: TestApp);
    fn without_a_hold_an_address_changed_by_an_admin_signs_in_at_once(app: TestApp);
    fn an_admin_changing_their_own_email_is_not_held(app: TestApp);
    fn hr_partner_cannot_demote_or_deactivate_admins_and_coaches(app: TestApp);
    fn the_coach_changes_only_the_title_of_an_engagement(app: TestApp);
    fn the_idempotency_store_keeps_no_secret(app: TestApp);
    fn people_cannot_set_their_own_external_id(app: TestApp);
    fn one_tenants_hanging_webhooks_hold_up_neither_mail_nor_other_receivers(app: TestApp);
    fn a_bare_carriage_return_is_refused_and_never_reaches_a_calendar(app: TestApp);
    fn a_used_sign_in_code_is_not_replayed_to_another_caller(app: TestApp);
    fn a_deactivated_user_or_revoked_client_gets_401_not_a_replay(app: TestApp);
    fn nul_bytes_and_oversized_input_are_refused_not_500(app: TestApp);
    fn engagement_dates_are_bounded(app: TestApp);
    fn webhook_targets_embedding_internal_addresses_are_refused(app: TestApp);
}
