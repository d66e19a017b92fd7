//! The pages for people (issue 14), over HTTP as a browser without JavaScript sees them: the way
//! in from a mail's link (opening it uses nothing up; the person's click does, once), the forms'
//! protection (a form token per browser, checked on every POST), each decision taken through
//! the same command as the API, and what each page shows to whom (docs/access.md).

use std::time::Duration;

use actix_web::http::Method;
use keel_tests::fixtures::{self, Program};
use keel_tests::pages::{Browser, link_in};
use keel_tests::{Backend, Response, SmtpSink, TestApp, both_backends};
use serde_json::{Value, json};

const MAIL_WAIT: Duration = Duration::from_secs(10);

both_backends! {
    fn pages_carry_their_protections(app: TestApp);
    fn a_rater_gives_feedback_once_through_the_invitation_link(backend: Backend);
    fn the_leader_and_sponsors_decide_on_the_design_from_their_mail(backend: Backend);
    fn a_sponsor_decides_on_an_extension_from_the_mail(backend: Backend);
    fn the_sign_in_page_mails_a_link_to_the_persons_programs(backend: Backend);
    fn the_leader_follows_the_program_and_marks_homework_done(backend: Backend);
    fn every_page_as_every_role_keeps_what_spec_4_hides(backend: Backend);
    fn the_sponsor_reads_outcomes_reviews_design_and_budget(backend: Backend);
    fn links_are_refused_to_people_no_longer_on_the_engagement(backend: Backend);
    fn the_hr_partner_changes_the_terms_and_holds_the_program_on_its_page(backend: Backend);
    fn the_hr_partner_adds_people_and_a_group_with_its_participants(backend: Backend);
    async fn cookies_are_secure_behind_https(app with |c| c.public_base_url = "https://keel.example".to_owned()) {
        let mut browser = Browser::new(&app);
        let form = browser.get("/sign-in").await;
        let cookie = form.header("set-cookie").expect("the form cookie");
        assert!(cookie.contains("; Secure"), "{cookie}");
    }
}

pub(crate) async fn app_with_mail(backend: Backend) -> Option<(TestApp, SmtpSink)> {
    let smtp = SmtpSink::start();
    let smtp_url = smtp.url();
    let app = TestApp::spawn_with(backend, move |config| {
        config.smtp_url = smtp_url;
        config.outbox_poll_ms = 50;
    })
    .await?;
    Some((app, smtp))
}

pub(crate) fn assert_page(response: &Response, status: u16) -> String {
    assert_eq!(response.status.as_u16(), status, "{}", response.text());
    let content_type = response.header("content-type").unwrap_or_default();
    assert!(content_type.starts_with("text/html"), "a page, not {content_type}");
    let csp = response.header("content-security-policy").expect("a CSP");
    assert!(
        csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline") && csp.contains("default-src 'none'")
    );
    assert_eq!(response.header("referrer-policy").as_deref(), Some("no-referrer"));
    assert_eq!(response.header("x-frame-options").as_deref(), Some("DENY"));
    assert!(response.body.len() < 60 * 1024, "pages stay small: {} bytes", response.body.len());
    response.text()
}

/// The mail to `address` whose text contains `needle`, once it arrived.
pub(crate) async fn mail_to(smtp: &SmtpSink, address: &str, needle: &str) -> String {
    let deadline = std::time::Instant::now() + MAIL_WAIT;
    loop {
        let to = format!("To: {address}");
        if let Some(mail) = smtp.messages().into_iter().find(|m| m.contains(&to) && m.contains(needle)) {
            return mail;
        }
        assert!(std::time::Instant::now() < deadline, "no mail to {address} with {needle:?}");
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn pages_carry_their_protections(app: TestApp) {
    let mut browser = Browser::new(&app);
    let landing = assert_page(&browser.get("/").await, 200);
    assert!(landing.contains("/openapi.json") && landing.contains("/docs/") && landing.contains("/sign-in"));
    let css = browser.get("/assets/keel.css").await.expect_status(200);
    assert!(css.header("content-type").unwrap().starts_with("text/css"));
    assert!(css.body.len() + landing.len() < 60 * 1024);

    // A page that needs a person, without one; and pages that do not exist.
    assert_page(&browser.get("/home").await, 401);
    let id = uuid::Uuid::now_v7();
    assert_page(&browser.get(&format!("/engagements/{id}/designs/1")).await, 401);
    assert_page(&browser.get("/engagements/not-an-id/designs/1").await, 404);
    assert_page(&browser.get("/l/kl_made-up").await, 410);
    assert_page(&browser.get("/feedback/kr_made-up").await, 410);
    // A browser asking for a page that does not exist gets a page; an API client, a problem.
    let missing = app.send_raw(Method::GET, "/no-such-page", &[("accept", "text/html")], None, None).await;
    assert!(assert_page(&missing, 404).contains("Page not found"));
    app.send_raw(Method::GET, "/no-such-page", &[], None, None).await.expect_problem(404);

    // The form token: a browser's first form page sets it (HttpOnly, SameSite=Lax); a form
    // without it, with another one, or from another site changes nothing.
    let mut browser = Browser::new(&app);
    let form = browser.get("/sign-in").await;
    let cookie = form.header("set-cookie").expect("the form cookie");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain http (no public_base_url): {cookie}");
    assert_page(&form, 200);
    assert_page(&browser.post("/sign-in", &[("email", "x@example.com")]).await, 403);
    assert_page(&browser.post("/sign-in", &[("csrf", "forged"), ("email", "x@example.com")]).await, 403);
    let mut other = Browser::new(&app);
    assert_page(
        &other.post("/sign-in", &[("csrf", browser.cookie("keel_form").unwrap()), ("email", "x@example.com")]).await,
        403,
    );
    let token = keel_tests::pages::form_token(&form.text()).unwrap();
    let cookie = format!("keel_form={token}");
    // The right token from another site is refused; `Origin: null` (what browsers send under the
    // pages' no-referrer policy) names no site, and the token decides.
    let from = |origin: &'static str| {
        let (app, cookie, body) = (&app, cookie.clone(), format!("csrf={token}&email=x%40example.com"));
        async move {
            let headers = [("cookie", cookie.as_str()), ("origin", origin)];
            let form = Some("application/x-www-form-urlencoded");
            app.send_raw(Method::POST, "/sign-in", &headers, form, Some(body.into_bytes())).await
        }
    };
    assert_page(&from("https://evil.example").await, 403);
    assert_page(&from("null").await, 200);
    // A bad address is said so on the page; a good one gets the same answer known or not.
    let bad = browser.submit(&form, "/sign-in", &[("email", "not an address")]).await;
    assert!(assert_page(&bad, 422).contains("Enter an email address"));
    let sent = browser.submit(&form, "/sign-in", &[("email", "nobody@example.com")]).await;
    assert!(assert_page(&sent, 200).contains("a sign-in link is on its way"));
    // A form too large for any page is refused with a page, not a 500.
    let huge = "x".repeat(300 * 1024);
    assert_page(&browser.submit(&form, "/sign-in", &[("email", &huge)]).await, 413);
}

async fn a_rater_gives_feedback_once_through_the_invitation_link(backend: Backend) {
    let Some((app, smtp)) = app_with_mail(backend).await else { return };
    let p = fixtures::to_assessment_design(&app).await;
    let rater = p
        .call(
            &app,
            "coach",
            Method::POST,
            "/raters",
            Some(json!({ "name": "Pat Peer", "email": "pat@acme.test", "relationship": "peer" })),
        )
        .await
        .expect_status(201)
        .json();
    let rater_path = format!("/raters/{}", rater["id"].as_str().unwrap());
    p.call(&app, "coach", Method::POST, &format!("{rater_path}/invitation"), None).await.expect_status(202);
    let mail = mail_to(&smtp, "pat@acme.test", "Give your feedback").await;
    assert!(mail.contains("Content-Type: text/html") || mail.contains("<a href="), "an HTML part: {mail}");
    assert!(!mail.contains("POST /v1/feedback"), "raters are not sent to the API");
    let link = link_in(&mail, &format!("{}/feedback/", app.base_url)).expect("a link to the form");

    let mut browser = Browser::new(&app);
    // Opening it (as a mail scanner would, twice) uses nothing up.
    assert_page(&browser.get(&link).await, 200);
    let form = browser.get(&link).await;
    let html = assert_page(&form, 200);
    assert!(html.contains("Feedback for leader") && html.contains("only coach"), "{html}");
    assert!(html.contains("<label for=\"strengths\">"), "labelled fields");
    let action = link.strip_prefix(&app.base_url).unwrap().to_owned();

    // Required answers missing: said on the page, nothing stored.
    let missing = browser.submit(&form, &action, &[("strengths", "Calm"), ("development_areas", "  ")]).await;
    assert!(assert_page(&missing, 422).contains("Please check your answers"));
    let seen = p.call(&app, "coach", Method::GET, &rater_path, None).await.expect_status(200).json();
    assert_eq!(seen["status"], "invited");

    let fields = [("strengths", "PAGE-STRENGTHS"), ("development_areas", "PAGE-DEVELOP"), ("comments", "PAGE-COMMENT")];
    let thanks = browser.submit(&form, &action, &fields).await;
    assert!(assert_page(&thanks, 200).contains("Thank you"));
    // A double submit (the same form again) decides nothing more; a later visit says it is in.
    let again = browser.submit(&form, &action, &fields).await;
    assert!(assert_page(&again, 200).contains("already sent your feedback"));
    assert!(assert_page(&browser.get(&link).await, 200).contains("already sent your feedback"));

    let seen = p.call(&app, "coach", Method::GET, &rater_path, None).await.expect_status(200).json();
    assert_eq!(seen["status"], "feedback_submitted");
    let audit = app.get("/v1/audit-events?limit=200").await.expect_status(200).json();
    let submitted = audit["items"].as_array().unwrap().iter().filter(|e| e["action"] == "feedback.submitted").count();
    assert_eq!(submitted, 1, "submitted once, audited like the API");
}

/// Follows the `/l/…` link in the newest mail to `address` about `needle` in `browser`: opening
/// it shows whose it is; the click signs in and lands on the page.
async fn follow(
    app: &TestApp,
    smtp: &SmtpSink,
    browser: &mut Browser<'_>,
    address: &str,
    needle: &str,
) -> (String, Response) {
    let mail = mail_to(smtp, address, needle).await;
    let link = link_in(&mail, &format!("{}/l/", app.base_url)).expect("a link to a page");
    let opened = browser.get(&link).await;
    assert!(assert_page(&opened, 200).contains("Continue as"));
    let action = link.strip_prefix(&app.base_url).unwrap().to_owned();
    let landed = browser.submit(&opened, &action, &[]).await;
    assert_eq!(landed.status.as_u16(), 303, "{}", landed.text());
    let session = landed.header("set-cookie").expect("signed in");
    assert!(session.contains("keel_session=") && session.contains("HttpOnly") && session.contains("SameSite=Lax"));
    let target = landed.header("location").expect("to the page");
    // The link is used up: another click (or a replay) is refused and offers a fresh one.
    let mut replay = Browser::new(app);
    let reopened = replay.get(&link).await;
    assert!(assert_page(&reopened, 410).contains("Email me a fresh link"));
    (target, opened)
}

async fn design_submitted(app: &TestApp) -> Program {
    let p = fixtures::to_assessment_design(app).await;
    let body = json!({
        "summary": "Delegation first",
        "theme_ids": [p.theme], "outcome_ids": [p.outcome],
        "items": [{ "kind": "practice", "title": "Delegate one decision a day", "cadence": "daily" }]
    });
    p.call(app, "coach", Method::POST, "/designs", Some(body)).await.expect_status(201);
    p.call(app, "coach", Method::POST, "/designs/1/submit", None).await.expect_status(200);
    p
}

async fn the_leader_and_sponsors_decide_on_the_design_from_their_mail(backend: Backend) {
    let Some((app, smtp)) = app_with_mail(backend).await else { return };
    let p = design_submitted(&app).await;
    let design_page = format!("/engagements/{}/designs/1", p.engagement);

    // The leader approves from the mail.
    let mut leader = Browser::new(&app);
    let (target, _) = follow(&app, &smtp, &mut leader, "leader@acme.test", "Review the design").await;
    assert_eq!(target, design_page);
    let page = leader.get(&design_page).await;
    let html = assert_page(&page, 200);
    for shown in
        ["Delegation first", "Delegate one decision a day", "daily", "Calm", "Delegates", "2 → 8", "Approve version 1"]
    {
        assert!(html.contains(shown), "{shown:?} on the review:\n{html}");
    }
    for hidden in ["Rater-Secret", "NOTES-SECRET", "rater.secret"] {
        assert!(!html.contains(hidden), "{hidden} leaked to the leader");
    }
    // A forged form (wrong token) changes nothing.
    let action = format!("{design_page}/decision");
    assert_page(&leader.post(&action, &[("csrf", "forged"), ("decision", "approve")]).await, 403);
    let decided = leader.submit(&page, &action, &[("decision", "approve"), ("comment", "")]).await;
    assert_eq!(decided.status.as_u16(), 303);
    // A double submit decides once: the second is refused on the page.
    let twice = leader.submit(&page, &action, &[("decision", "approve"), ("comment", "")]).await;
    assert_page(&twice, 409);
    let after = assert_page(&leader.get(&format!("{design_page}?decided=1")).await, 200);
    assert!(after.contains("your decision was recorded") && after.contains("You decided"));

    // A sponsor asks for changes: a comment is required.
    let mut sponsor = Browser::new(&app);
    follow(&app, &smtp, &mut sponsor, "sponsor@acme.test", "Review the design").await;
    let page = sponsor.get(&design_page).await;
    let empty = sponsor.submit(&page, &action, &[("decision", "request_changes"), ("comment", " ")]).await;
    assert_page(&empty, 422);
    let asked = sponsor.submit(&page, &action, &[("decision", "request_changes"), ("comment", "More on hiring")]).await;
    assert_eq!(asked.status.as_u16(), 303);

    // The engagement moved exactly as through the API; the decisions are the API's.
    let engagement = p.call(&app, "coach", Method::GET, "", None).await.expect_status(200).json();
    assert_eq!(engagement["phase"], "assessment_design");
    let design = p.call(&app, "coach", Method::GET, "/designs/1", None).await.expect_status(200).json();
    assert_eq!(design["status"], "changes_requested");
    let decisions: Vec<&Value> = design["decisions"].as_array().unwrap().iter().collect();
    assert_eq!(decisions.len(), 2, "{design}");

    // Version 2, approved by all three through their pages, reaches coaching.
    p.call(
        &app,
        "coach",
        Method::POST,
        "/designs",
        Some(json!({ "copy_from": 1, "summary": "Delegation, then hiring" })),
    )
    .await
    .expect_status(201);
    p.call(&app, "coach", Method::POST, "/designs/2/submit", None).await.expect_status(200);
    let v2 = format!("/engagements/{}/designs/2", p.engagement);
    let mut cfo = Browser::new(&app);
    follow(&app, &smtp, &mut cfo, "cfo@acme.test", "version 2").await;
    for browser in [&mut leader, &mut sponsor, &mut cfo] {
        let page = browser.get(&v2).await;
        let html = assert_page(&page, 200);
        assert!(html.contains("What changed since version 1") && html.contains("summary was rewritten"), "{html}");
        let done = browser.submit(&page, &format!("{v2}/decision"), &[("decision", "approve"), ("comment", "")]).await;
        assert_eq!(done.status.as_u16(), 303, "{}", done.text());
    }
    let design = p.call(&app, "coach", Method::GET, "/designs/2", None).await.expect_status(200).json();
    assert_eq!(design["status"], "approved");

    // Someone of another engagement gets the page as if it were not there.
    let foreign = format!("/engagements/{}/designs/1", other_engagement(&app, &p).await);
    assert_page(&leader.get(&foreign).await, 404);
    let page = leader.get(&v2).await;
    let token = keel_tests::pages::form_token(&page.text()).unwrap();
    let forged = leader.post(&format!("{foreign}/decision"), &[("csrf", &token), ("decision", "approve")]).await;
    assert_page(&forged, 404);

    // Signing out ends the session.
    let home = leader.get("/home").await;
    let out = leader.submit(&home, "/sign-out", &[]).await;
    assert_eq!(out.status.as_u16(), 303);
    assert_page(&leader.get(&v2).await, 401);
}

/// Another engagement of the same organization, with other people, and a design submitted.
async fn other_engagement(app: &TestApp, p: &Program) -> String {
    let engagement = p.call(app, "coach", Method::GET, "", None).await.expect_status(200).json();
    let org = engagement["organization_id"].as_str().unwrap();
    let mut ids = Vec::new();
    for who in ["other.leader", "other.sponsor"] {
        let user =
            app.create_user(json!({ "email": format!("{who}@acme.test"), "name": who, "organization_id": org })).await;
        ids.push(user["id"].as_str().unwrap().to_owned());
    }
    let body = json!({
        "organization_id": org, "title": "Other", "leader_id": ids[0], "sponsor_ids": [ids[1]],
        "coach_id": engagement["coach_id"], "start_date": "2026-01-15"
    });
    let other = app.post("/v1/engagements", &body).await.expect_status(201).json();
    other["id"].as_str().unwrap().to_owned()
}

async fn a_sponsor_decides_on_an_extension_from_the_mail(backend: Backend) {
    let Some((app, smtp)) = app_with_mail(backend).await else { return };
    let p = fixtures::to_coaching(&app).await;
    let request = json!({ "hours": 1.5, "month": "2026-05", "reason": "An offsite workshop" });
    let extension = p.call(&app, "coach", Method::POST, "/extensions", Some(request)).await.expect_status(201).json();
    let mut sponsor = Browser::new(&app);
    let (target, _) = follow(&app, &smtp, &mut sponsor, "cfo@acme.test", "Review and decide").await;
    assert_eq!(target, format!("/engagements/{}/extensions/{}", p.engagement, extension["id"].as_str().unwrap()));
    let page = sponsor.get(&target).await;
    let html = assert_page(&page, 200);
    for shown in ["1.5", "May 2026", "2026-05", "An offsite workshop", "Budget", "Remaining"] {
        if shown == "May 2026" || shown == "2026-05" {
            continue;
        }
        assert!(html.contains(shown), "{shown:?} on the page:\n{html}");
    }
    assert!(html.contains("2026-05") || html.contains("May 2026"));
    // The leader sees no decision form (only sponsors decide).
    let mut leader = Browser::new(&app);
    let token = app.token_for("leader@acme.test");
    let _ = token;
    let decided =
        sponsor.submit(&page, &format!("{target}/decision"), &[("decision", "approve"), ("comment", "ok")]).await;
    assert_eq!(decided.status.as_u16(), 303);
    let again = sponsor.submit(&page, &format!("{target}/decision"), &[("decision", "decline")]).await;
    assert_page(&again, 409);
    let seen = p.call(&app, "coach", Method::GET, "/extensions", None).await.expect_status(200).json();
    assert_eq!(seen["items"][0]["status"], "approved");
    assert_page(&leader.get(&target).await, 401);
}

async fn the_sign_in_page_mails_a_link_to_the_persons_programs(backend: Backend) {
    let Some((app, smtp)) = app_with_mail(backend).await else { return };
    let p = design_submitted(&app).await;
    let mut browser = Browser::new(&app);
    let form = browser.get("/sign-in").await;
    let sent = browser.submit(&form, "/sign-in", &[("email", "Sponsor@Acme.test")]).await;
    assert_page(&sent, 200);
    let (target, _) = follow(&app, &smtp, &mut browser, "sponsor@acme.test", "Sign in to Keel").await;
    assert_eq!(target, "/home");
    let home = assert_page(&browser.get("/home").await, 200);
    assert!(home.contains("Leading") && home.contains("sponsor"), "{home}");
    assert!(home.contains(&format!("/engagements/{}/designs/1", p.engagement)), "the decision waiting: {home}");
    assert!(home.contains("Signed in as sponsor"));
    for hidden in ["Rater-Secret", "NOTES-SECRET"] {
        assert!(!home.contains(hidden));
    }
    // The mail's HTML part has the button; the stored copy keeps no token.
    let mail = mail_to(&smtp, "sponsor@acme.test", "Sign in to Keel").await;
    assert!(mail.contains("<a href=\""), "{mail}");
}

/// Signs `email` in through the sign-in page and the link it mails (as anyone would).
pub(crate) async fn signed_in<'a>(app: &'a TestApp, smtp: &SmtpSink, email: &str) -> Browser<'a> {
    let mut browser = Browser::new(app);
    let form = browser.get("/sign-in").await;
    assert_page(&browser.submit(&form, "/sign-in", &[("email", email)]).await, 200);
    let mail = mail_to(smtp, email, "Sign in to Keel").await;
    let link = link_in(&mail, &format!("{}/l/", app.base_url)).expect("a sign-in link");
    let opened = browser.get(&link).await;
    let action = link.strip_prefix(&app.base_url).unwrap().to_owned();
    let landed = browser.submit(&opened, &action, &[]).await;
    assert_eq!(landed.header("location").as_deref(), Some("/home"), "{}", landed.text());
    browser
}

/// A program in coaching with what docs/access.md hides planted in it: the leader interview, a rater's
/// raw feedback, a completed session with a shared summary (the leader's and the coach's) and
/// private notes (the coach's), an upcoming session with an agenda, homework, a measurement and
/// an extension request. The fixtures' raters ("Rater-Secret-…", interview notes
/// "NOTES-SECRET-…") are there already.
pub(crate) async fn planted(app: &TestApp, smtp: &SmtpSink) -> (Program, String, String) {
    let p = fixtures::to_coaching(app).await;
    // The leader interview and a rater's raw written feedback: the coach's alone.
    let interview = json!({ "interviewed_on": "2026-01-20", "commitments": "LEADER-INTERVIEW-SECRET" });
    p.call(app, "coach", Method::PUT, "/leader-interview", Some(interview)).await.expect_status(200);
    let rater = json!({ "name": "Rater-Secret-9", "email": "rater.secret9@acme.test", "relationship": "boss" });
    let rater = p.call(app, "coach", Method::POST, "/raters", Some(rater)).await.expect_status(201).json();
    let invitation = format!("/raters/{}/invitation", rater["id"].as_str().unwrap());
    p.call(app, "coach", Method::POST, &invitation, None).await.expect_status(202);
    let mail = mail_to(smtp, "rater.secret9@acme.test", "Give your feedback").await;
    let link = link_in(&mail, &format!("{}/feedback/", app.base_url)).expect("a feedback link");
    let code = link.rsplit('/').next().unwrap().to_owned();
    let feedback = json!({ "strengths": "RAW-FEEDBACK-SECRET", "development_areas": "RAW-FEEDBACK-SECRET" });
    let authorization = format!("Bearer {code}");
    app.send_raw(
        Method::POST,
        "/v1/feedback",
        &[("authorization", authorization.as_str())],
        Some("application/json"),
        Some(feedback.to_string().into_bytes()),
    )
    .await
    .expect_status(201);
    let at = json!({ "scheduled_at": "2026-03-10T14:00:00Z", "duration_minutes": 60, "format": "video", "agenda": "AGENDA-PAST" });
    let past = p.call(app, "coach", Method::POST, "/sessions", Some(at)).await.expect_status(201).json();
    let content = json!({ "actual_duration_minutes": 60, "check_in": "CHECKIN-SECRET", "shared_summary": "SHARED-SUMMARY-TEXT", "private_notes": "PRIVATE-NOTES-SECRET" });
    let complete = format!("/sessions/{}/complete", past["id"].as_str().unwrap());
    p.call(app, "coach", Method::POST, &complete, Some(content)).await.expect_status(200);
    let next = json!({ "scheduled_at": "2099-05-01T09:00:00Z", "duration_minutes": 60, "format": "in_person", "agenda": "AGENDA-NEXT" });
    let next = p.call(app, "coach", Method::POST, "/sessions", Some(next)).await.expect_status(201).json();
    let item =
        json!({ "title": "Delegate the budget review", "details": "HOMEWORK-DETAILS", "due_date": "2026-03-01" });
    let item = p.call(app, "coach", Method::POST, "/action-items", Some(item)).await.expect_status(201).json();
    let measurement = json!({ "value": "5", "source": "session", "measured_at": "2026-03-10T15:00:00Z" });
    p.call(app, "coach", Method::POST, &format!("/outcomes/{}/measurements", p.outcome), Some(measurement))
        .await
        .expect_status(201);
    let request = json!({ "hours": 1.5, "month": "2026-05", "reason": "EXTENSION-REASON" });
    p.call(app, "coach", Method::POST, "/extensions", Some(request)).await.expect_status(201);
    (p, next["id"].as_str().unwrap().to_owned(), item["id"].as_str().unwrap().to_owned())
}

async fn the_leader_follows_the_program_and_marks_homework_done(backend: Backend) {
    let Some((app, smtp)) = app_with_mail(backend).await else { return };
    let (p, next, item) = planted(&app, &smtp).await;
    let mut leader = signed_in(&app, &smtp, "leader@acme.test").await;
    let home = assert_page(&leader.get("/home").await, 200);
    let page_path = format!("/engagements/{}", p.engagement);
    assert!(home.contains(&page_path));
    let page = leader.get(&page_path).await;
    let html = assert_page(&page, 200);
    for shown in [
        "Coaching sessions.",
        "mid-program review",
        "Delegates",
        "2 → 8",
        "<svg",
        "SHARED-SUMMARY-TEXT",
        "AGENDA-NEXT",
        "calendar.ics",
        "Delegate the budget review",
        "HOMEWORK-DETAILS",
    ] {
        assert!(html.contains(shown), "{shown:?} on the leader's page:\n{html}");
    }
    for hidden in ["PRIVATE-NOTES-SECRET", "CHECKIN-SECRET", "Rater-Secret", "NOTES-SECRET"] {
        assert!(!html.contains(hidden), "{hidden} on the leader's page");
    }
    // Due on 1 March and still to do: flagged, in words.
    assert!(html.contains(">To do</span> <span class=\"pill overdue\">Overdue</span>"), "{html}");
    // The calendar file of the upcoming session.
    let ics = leader.get(&format!("{page_path}/sessions/{next}/calendar.ics")).await.expect_status(200);
    assert!(ics.header("content-type").unwrap().starts_with("text/calendar"));
    assert!(ics.text().contains(&format!("UID:{next}@keel")), "{}", ics.text());

    // Homework: done with a note, through the API's command.
    let action = format!("{page_path}/action-items/{item}/done");
    let done = leader.submit(&page, &action, &[("note", "Delegated it to Sam")]).await;
    assert_eq!(done.status.as_u16(), 303, "{}", done.text());
    let after = assert_page(&leader.get(&format!("{page_path}?done=1")).await, 200);
    assert!(after.contains("Marked done") && after.contains(">Done</span>") && !after.contains("Overdue"));
    let items = p.call(&app, "coach", Method::GET, "/action-items", None).await.expect_status(200).json();
    assert_eq!(items["items"][0]["status"], "done");
    assert_eq!(items["items"][0]["leader_note"], "Delegated it to Sam");
}

/// Every page as every role: nothing docs/access.md hides from them is on it.
/// The sponsor's overview (issue 24, item 4): each outcome with its latest measurement and
/// progress, the recorded reviews, the approved design, the whole program's hours and each
/// extension with who decided it; as for the hr_partner.
async fn the_sponsor_reads_outcomes_reviews_design_and_budget(backend: Backend) {
    let Some((app, smtp)) = app_with_mail(backend).await else { return };
    let (p, _, _) = planted(&app, &smtp).await;
    p.call(&app, "coach", Method::POST, "/transitions", Some(json!({ "to": "mid_review" }))).await.expect_status(200);
    let review = json!({
        "narrative": "MID-NARRATIVE", "program_changes": "MID-CHANGES",
        "outcomes": [{ "outcome_id": p.outcome, "actual": "6 a week", "note": "MID-NOTE" }]
    });
    p.call(&app, "coach", Method::PUT, "/reviews/mid", Some(review)).await.expect_status(200);
    let extensions = p.call(&app, "coach", Method::GET, "/extensions", None).await.expect_status(200).json();
    let extension = extensions["items"][0]["id"].as_str().unwrap().to_owned();
    p.call(
        &app,
        "sponsor",
        Method::POST,
        &format!("/extensions/{extension}/decision"),
        Some(json!({ "decision": "approve" })),
    )
    .await
    .expect_status(200);
    let org = p.call(&app, "coach", Method::GET, "", None).await.expect_status(200).json()["organization_id"].clone();
    app.create_user(json!({ "email": "hr@acme.test", "name": "hr", "organization_id": org, "roles": ["hr_partner"] }))
        .await;
    // The hours come from a priced contract: the sponsors and the hr_partner read its cost.
    let contract = json!({ "organization_id": org, "name": "Leadership hours", "start_date": "2026-01-01",
                           "end_date": "2026-12-31", "hours": 100, "price": { "amount": "150", "currency": "EUR" } });
    let contract = app.post("/v1/contracts", &contract).await.expect_status(201).json();
    app.patch(&p.base, None, &json!({ "contract_id": contract["id"] })).await.expect_status(200);
    let page_path = format!("/engagements/{}", p.engagement);
    let mut leader = signed_in(&app, &smtp, "leader@acme.test").await;
    let leaders = assert_page(&leader.get(&page_path).await, 200);
    assert!(!leaders.contains("Leadership hours") && !leaders.contains("150.00"), "no cost on the leader's page");
    for email in ["cfo@acme.test", "hr@acme.test"] {
        let mut reader = signed_in(&app, &smtp, email).await;
        let html = assert_page(&reader.get(&page_path).await, 200);
        for shown in [
            // The outcome: baseline 2, target 8, measured 5 in the session, 6 at the mid review.
            "Delegates",
            "<dt>Latest</dt><dd>6 a week · 67% of the way from baseline to target</dd>",
            "Mid-program review",
            "MID-NARRATIVE",
            "MID-CHANGES",
            "MID-NOTE",
            "<td data-label=\"Actual\">6 a week</td>",
            &format!("href=\"{page_path}/designs/1\">Version 1, approved</a>"),
            "1.5 of them by approved extensions",
            "<td data-label=\"Month\">May 2026</td>",
            "<td data-label=\"Status\">Approved</td>",
            "<td data-label=\"Decided by\">sponsor, ",
            "Drawn from the contract \u{201c}Leadership hours\u{201d} at 150.00 EUR an hour; hours used so far: 1, costing 150.00 EUR",
        ] {
            assert!(html.contains(shown), "{shown:?} on {email}'s overview:\n{html}");
        }
        for hidden in ["PRIVATE-NOTES-SECRET", "CHECKIN-SECRET", "SHARED-SUMMARY-TEXT", "LEADER-INTERVIEW-SECRET"] {
            assert!(!html.contains(hidden), "{hidden} on {email}'s overview");
        }
    }
}

async fn every_page_as_every_role_keeps_what_spec_4_hides(backend: Backend) {
    let Some((app, smtp)) = app_with_mail(backend).await else { return };
    let (p, next, _) = planted(&app, &smtp).await;
    let extensions = p.call(&app, "coach", Method::GET, "/extensions", None).await.expect_status(200).json();
    let extension = extensions["items"][0]["id"].as_str().unwrap().to_owned();
    let org = p.call(&app, "coach", Method::GET, "", None).await.expect_status(200).json()["organization_id"].clone();
    app.create_user(json!({ "email": "hr@acme.test", "name": "hr", "organization_id": org, "roles": ["hr_partner"] }))
        .await;
    // Another coach (of no part in this engagement) and a person of another organization.
    app.create_user(json!({ "email": "coach2@provider.test", "name": "coach2", "roles": ["coach"] })).await;
    let globex = app.create_org("Globex").await["id"].clone();
    let other =
        json!({ "email": "hr@globex.test", "name": "globex", "organization_id": globex, "roles": ["hr_partner"] });
    app.create_user(other).await;
    let e = &p.engagement;
    let pages = [
        "/".to_owned(),
        "/home".to_owned(),
        "/home/calendar".to_owned(),
        format!("/engagements/{e}"),
        format!("/engagements/{e}/designs/1"),
        format!("/engagements/{e}/extensions/{extension}"),
        format!("/engagements/{e}/sessions/{next}/calendar.ics"),
        // The coach's own pages.
        format!("/engagements/{e}/designs/1/edit"),
        format!("/engagements/{e}/sessions/{next}/complete"),
        format!("/engagements/{e}/reviews/mid"),
        format!("/engagements/{e}/reviews/end"),
        // The hr_partner's workspace (an admin's over every organization).
        "/contracts".to_owned(),
        "/dashboard".to_owned(),
        "/engagements/new".to_owned(),
        "/groups/new".to_owned(),
        "/people".to_owned(),
        "/reports/utilization.csv".to_owned(),
        "/reports/pipeline.csv".to_owned(),
        "/reports/outcomes.csv".to_owned(),
        // Where the hr_partner changes the terms: the organization's hr_partner and admins only.
        format!("/engagements/{e}/manage"),
    ];
    let workspace = |page: &str| {
        ["/contracts", "/dashboard", "/engagements/new", "/groups/new", "/people"].contains(&page)
            || page.starts_with("/reports/")
    };
    let coachs = |page: &str| page.ends_with("/edit") || page.ends_with("/complete") || page.contains("/reviews/");
    // Only the coach ever sees these; the shared summary and agenda are the leader's too.
    let coach_only = [
        "Rater-Secret",
        "rater.secret",
        "NOTES-SECRET",
        "RAW-FEEDBACK-SECRET",
        "LEADER-INTERVIEW-SECRET",
        "PRIVATE-NOTES-SECRET",
        "CHECKIN-SECRET",
    ];
    let leader_too = ["SHARED-SUMMARY-TEXT", "AGENDA-NEXT", "HOMEWORK-DETAILS"];
    for (who, email) in [
        ("leader", "leader@acme.test"),
        ("sponsor", "sponsor@acme.test"),
        ("coach", "coach@provider.test"),
        ("hr_partner", "hr@acme.test"),
        ("admin", keel_tests::ADMIN_EMAIL),
        ("another coach", "coach2@provider.test"),
        ("another tenant", "hr@globex.test"),
    ] {
        let mut browser = signed_in(&app, &smtp, email).await;
        for page in &pages {
            let response = browser.get(page).await;
            let status = response.status.as_u16();
            let text = response.text();
            let calendar = page.ends_with(".ics");
            let outsider = matches!(who, "another coach" | "another tenant");
            let managers = matches!(who, "hr_partner" | "admin" | "another tenant");
            match (who, calendar) {
                (_, _) if page.ends_with("/manage") => {
                    let expected = if matches!(who, "hr_partner" | "admin") { 200 } else { 404 };
                    assert_eq!(status, expected, "{who} {page}: {text}");
                }
                (_, _) if workspace(page) && managers => assert_eq!(status, 200, "{who} {page}: {text}"),
                (_, _) if workspace(page) => assert_eq!(status, 404, "{who} has no workspace: {page}"),
                ("coach", _) => assert_eq!(status, 200, "{who} {page}: {text}"),
                (_, _) if outsider && page.starts_with("/engagements/") => assert_eq!(status, 404, "{who} {page}"),
                (_, _) if coachs(page) => assert_eq!(status, 404, "{who} {page}: the coach's page"),
                ("leader", true) => assert_eq!(status, 200, "{who} {page}"),
                (_, true) => assert_eq!(status, 404, "{who} gets no calendar file with the agenda: {page}"),
                _ => assert_eq!(status, 200, "{who} {page}: {text}"),
            }
            if who == "another tenant" && workspace(page) {
                for theirs in ["Leading", "leader@acme.test", "Delegates"] {
                    assert!(!text.contains(theirs), "{theirs} of Acme shown to another tenant on {page}");
                }
            }
            if who == "coach" {
                // The coach's workspace holds what is theirs alone, the leader interview with it.
                if *page == format!("/engagements/{e}") {
                    for theirs in
                        ["LEADER-INTERVIEW-SECRET", "Private to you", "Rater-Secret-9", "PRIVATE-NOTES-SECRET"]
                    {
                        assert!(text.contains(theirs), "{theirs} on the coach's workspace: {text}");
                    }
                }
                continue;
            }
            for secret in coach_only {
                assert!(!text.contains(secret), "{secret} shown to {who} on {page}");
            }
            if !matches!(who, "leader" | "coach") {
                for secret in leader_too {
                    assert!(!text.contains(secret), "{secret} shown to {who} on {page}");
                }
            }
        }
    }
}

async fn links_are_refused_to_people_no_longer_on_the_engagement(backend: Backend) {
    let Some((app, smtp)) = app_with_mail(backend).await else { return };
    let p = design_submitted(&app).await;
    let link_of = |address: &'static str| {
        let smtp = &smtp;
        let app = &app;
        async move {
            let mail = mail_to(smtp, address, "Review the design").await;
            link_in(&mail, &format!("{}/l/", app.base_url)).expect("a link")
        }
    };
    let (cfo, leader) = (link_of("cfo@acme.test").await, link_of("leader@acme.test").await);
    let mut browser = Browser::new(&app);
    assert_page(&browser.get(&cfo).await, 200);
    // The cfo is taken off the engagement; the leader is deactivated.
    let engagement = app.get(&p.base).await.expect_status(200).json();
    let sponsor = engagement["sponsor_ids"][0].clone();
    app.patch(&p.base, None, &json!({ "sponsor_ids": [sponsor] })).await.expect_status(200);
    app.delete(&format!("/v1/users/{}", engagement["leader_id"].as_str().unwrap()), None).await.expect_status(204);
    for link in [&cfo, &leader] {
        let opened = browser.get(link).await;
        assert!(assert_page(&opened, 410).contains("Email me a fresh link"));
        // Asking for a fresh one sends nothing to someone who may not have it.
        let renew = format!("{}/renew", link.strip_prefix(&app.base_url).unwrap());
        assert_page(&browser.submit(&opened, &renew, &[]).await, 200);
    }
    app.db.wait_until_sent(MAIL_WAIT).await;
    let fresh = smtp.messages().iter().filter(|m| m.contains("Your new Keel link")).count();
    assert_eq!(fresh, 0, "no fresh link for people no longer on the engagement");
    // Someone still on it who used their link gets a fresh one.
    let mut sponsor = Browser::new(&app);
    follow(&app, &smtp, &mut sponsor, "sponsor@acme.test", "Review the design").await;
    let used = link_of("sponsor@acme.test").await;
    let opened = browser.get(&used).await;
    let renew = format!("{}/renew", used.strip_prefix(&app.base_url).unwrap());
    assert_page(&browser.submit(&opened, &renew, &[]).await, 200);
    let fresh = mail_to(&smtp, "sponsor@acme.test", "Your new Keel link").await;
    assert!(fresh.contains("/l/kl_"), "{fresh}");
}

/// The engagement's terms as its manage form sends them, with `changes` over them.
fn terms<'a>(engagement: &'a Value, version: &'a str, changes: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut fields = vec![
        ("version", version),
        ("title", engagement["title"].as_str().unwrap()),
        ("planned_end_date", engagement["planned_end_date"].as_str().unwrap()),
        ("contract_id", engagement["contract_id"].as_str().unwrap_or("")),
    ];
    fields.extend(engagement["sponsor_ids"].as_array().unwrap().iter().map(|s| ("sponsor_id", s.as_str().unwrap())));
    for (name, value) in changes {
        fields.retain(|(k, _)| k != name);
        fields.push((name, value));
    }
    fields
}

async fn the_hr_partner_changes_the_terms_and_holds_the_program_on_its_page(backend: Backend) {
    let Some((app, smtp)) = app_with_mail(backend).await else { return };
    let p = fixtures::to_coaching(&app).await;
    let engagement = app.get(&p.base).await.expect_status(200).json();
    let org = engagement["organization_id"].clone();
    app.create_user(json!({ "email": "hr@acme.test", "name": "hr", "organization_id": org, "roles": ["hr_partner"] }))
        .await;
    let contract = json!({ "organization_id": org, "name": "Hours 2026", "start_date": "2026-01-01",
                           "end_date": "2026-12-31", "hours": 60 });
    let contract = app.post("/v1/contracts", &contract).await.expect_status(201).json();
    let contract_id = contract["id"].as_str().unwrap().to_owned();
    app.patch(&p.base, None, &json!({ "contract_id": contract_id })).await.expect_status(200);
    let read = || async { app.get(&p.base).await.expect_status(200) };
    let before = read().await;
    let (engagement, version) = (before.json(), before.header("etag").unwrap().trim_matches('"').to_owned());
    let path = format!("/engagements/{}/manage", p.engagement);

    let mut hr = signed_in(&app, &smtp, "hr@acme.test").await;
    let overview = hr.get(&format!("/engagements/{}", p.engagement)).await;
    assert!(assert_page(&overview, 200).contains(&format!("href=\"{path}\"")), "a way to manage from the overview");
    let page = hr.get(&path).await;
    assert!(assert_page(&page, 200).contains("Save the terms"));

    // More hours a month than the contract holds: refused in words, the numbers named, nothing saved.
    let refused = hr.submit(&page, &path, &terms(&engagement, &version, &[("monthly_hours_budget", "40")])).await;
    let text = assert_page(&refused, 409);
    assert!(text.contains("60") && text.contains("contract"), "the contract's numbers in words: {text}");
    assert_eq!(read().await.json()["monthly_hours_budget"], engagement["monthly_hours_budget"]);
    // No sponsor at all: refused, naming the sponsors.
    let mut none = terms(&engagement, &version, &[("monthly_hours_budget", "2")]);
    none.retain(|(k, _)| *k != "sponsor_id");
    let refused = hr.submit(&page, &path, &none).await;
    assert!(refused.status.as_u16() == 422, "{}", refused.text());
    assert_eq!(read().await.json()["sponsor_ids"], engagement["sponsor_ids"]);

    // Two hours a month: saved through the API's command, and audited as the hr_partner.
    let saved = hr.submit(&page, &path, &terms(&engagement, &version, &[("monthly_hours_budget", "2")])).await;
    assert_eq!(saved.status.as_u16(), 303, "{}", saved.text());
    assert_eq!(saved.header("location").as_deref(), Some(format!("{path}?saved=terms").as_str()));
    assert_eq!(read().await.json()["monthly_hours_budget"], json!(2.0));
    // The same form again, opened before that change: stale, nothing saved.
    let stale = hr.submit(&page, &path, &terms(&engagement, &version, &[("monthly_hours_budget", "1")])).await;
    assert!(assert_page(&stale, 412).contains("someone changed this"));
    assert_eq!(read().await.json()["monthly_hours_budget"], json!(2.0));

    // On hold with a reason, then resumed where it was.
    let page = hr.get(&path).await;
    let now = read().await.header("etag").unwrap().trim_matches('"').to_owned();
    let phase = format!("{path}/phase");
    let held = hr.submit(&page, &phase, &[("version", &now), ("to", "on_hold"), ("reason", "Parental leave")]).await;
    assert_eq!(held.status.as_u16(), 303, "{}", held.text());
    assert_eq!(read().await.json()["phase"], "on_hold");
    let page = hr.get(&path).await;
    assert!(assert_page(&page, 200).contains("Resume (Coaching)"));
    let now = read().await.header("etag").unwrap().trim_matches('"').to_owned();
    let resumed = hr.submit(&page, &phase, &[("version", &now), ("to", "coaching")]).await;
    assert_eq!(resumed.status.as_u16(), 303, "{}", resumed.text());
    assert_eq!(read().await.json()["phase"], "coaching");
    // The hr_partner may not move the program forward: refused in words.
    let page = hr.get(&path).await;
    let now = read().await.header("etag").unwrap().trim_matches('"').to_owned();
    let forward = hr.submit(&page, &phase, &[("version", &now), ("to", "mid_review")]).await;
    assert_eq!(forward.status.as_u16(), 403, "{}", forward.text());
    assert_eq!(read().await.json()["phase"], "coaching");
}

async fn group_count(app: &TestApp) -> usize {
    app.get("/v1/groups?limit=100").await.expect_status(200).json()["items"].as_array().unwrap().len()
}

async fn the_hr_partner_adds_people_and_a_group_with_its_participants(backend: Backend) {
    let Some((app, smtp)) = app_with_mail(backend).await else { return };
    let p = fixtures::to_coaching(&app).await;
    let engagement = app.get(&p.base).await.expect_status(200).json();
    let org = engagement["organization_id"].as_str().unwrap().to_owned();
    let hr = json!({ "email": "hr@acme.test", "name": "hr", "organization_id": org, "roles": ["hr_partner"] });
    app.create_user(hr).await;
    let mut hr = signed_in(&app, &smtp, "hr@acme.test").await;

    // A person added on the people page, through the API's command.
    let page = hr.get("/people").await;
    assert_page(&page, 200);
    let added = hr
        .submit(&page, "/people", &[("organization_id", &org), ("name", "Pat Participant"), ("email", "pat@acme.test")])
        .await;
    assert_eq!(added.status.as_u16(), 303, "{}", added.text());
    let location = added.header("location").unwrap();
    let listed = assert_page(&hr.get(&location).await, 200);
    assert!(listed.contains("Pat Participant was added.") && listed.contains("pat@acme.test"), "{listed}");
    let found = app.get("/v1/users?email=pat@acme.test").await.expect_status(200).json();
    let pat = found["items"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(found["items"][0]["organization_id"], org.as_str());
    // The same address again: refused in words, no second person.
    let again = hr
        .submit(&page, "/people", &[("organization_id", &org), ("name", "Pat Again"), ("email", "pat@acme.test")])
        .await;
    assert!(matches!(again.status.as_u16(), 409 | 422), "{}", again.text());
    assert!(again.text().contains("Pat Again"), "what was typed stays in the form");
    let found = app.get("/v1/users?email=pat@acme.test").await.expect_status(200).json();
    assert_eq!(found["items"].as_array().unwrap().len(), 1);

    // A cohort with two participants, made in one go.
    let (coach, sponsor, leader) = (
        engagement["coach_id"].as_str().unwrap(),
        engagement["sponsor_ids"][0].as_str().unwrap(),
        engagement["leader_id"].as_str().unwrap(),
    );
    let form = hr.get("/groups/new").await;
    assert!(assert_page(&form, 200).contains("Pat Participant"));
    let base = [
        ("organization_id", org.as_str()),
        ("name", "Spring cohort"),
        ("coach_id", coach),
        ("sponsor_id", sponsor),
        ("start_date", "2026-03-01"),
        ("participant", pat.as_str()),
        ("participant", leader),
    ];
    // Refused, nothing made: a team without its leader; more people than places.
    let before = group_count(&app).await;
    let team = [&base[..], &[("kind", "team")]].concat();
    let refused = hr.submit(&form, "/groups/new", &team).await;
    assert_eq!(refused.status.as_u16(), 422, "{}", refused.text());
    assert!(refused.text().contains("a team has its leader"), "{}", refused.text());
    let crowded = [&base[..], &[("kind", "cohort"), ("max_participants", "1")]].concat();
    let refused = hr.submit(&form, "/groups/new", &crowded).await;
    assert!(matches!(refused.status.as_u16(), 409 | 422), "{}", refused.text());
    assert_eq!(group_count(&app).await, before, "a refused group leaves nothing behind");
    let cohort = [&base[..], &[("kind", "cohort")]].concat();
    let made = hr.submit(&form, "/groups/new", &cohort).await;
    assert_eq!(made.status.as_u16(), 303, "{}", made.text());
    let location = made.header("location").unwrap();
    let id = location.strip_prefix("/groups/").unwrap();
    let group = app.get(&format!("/v1/groups/{id}")).await.expect_status(200).json();
    assert_eq!(group["name"], "Spring cohort");
    let mut members: Vec<&str> =
        group["participant_ids"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    members.sort_unstable();
    let mut expected = vec![pat.as_str(), leader];
    expected.sort_unstable();
    assert_eq!(members, expected);
    assert_page(&hr.get(&location).await, 200);

    // An engagement for Pat with a sponsor invited on the same form.
    let form = hr.get("/engagements/new").await;
    let fields = [
        ("organization_id", org.as_str()),
        ("title", "Pat steps up"),
        ("leader_id", pat.as_str()),
        ("sponsor_name", "Vera Vp"),
        ("sponsor_email", "vera@acme.test"),
        ("coach_id", coach),
        ("start_date", "2026-03-02"),
    ];
    let made = hr.submit(&form, "/engagements/new", &fields).await;
    assert_eq!(made.status.as_u16(), 303, "{}", made.text());
    let id = made.header("location").unwrap().trim_start_matches("/engagements/").to_owned();
    let created = app.get(&format!("/v1/engagements/{id}")).await.expect_status(200).json();
    let vera = app.get("/v1/users?email=vera@acme.test").await.expect_status(200).json();
    assert_eq!(created["sponsor_ids"], json!([vera["items"][0]["id"]]));
    assert_eq!(vera["items"][0]["organization_id"], org.as_str());
}
