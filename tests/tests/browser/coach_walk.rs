//! Issue 23: a coach runs whole programs on the pages only. An executive engagement, created by
//! the organization's hr_partner, from the context meeting to the end review: the raters answer
//! their invitations, the leader and the sponsor approve the design from their mails, and every
//! step of the coach's is a form. Then a micro-coaching engagement, with the keyboard only.

use actix_web::http::Method;
use keel_tests::browser::Chromium;
use keel_tests::pages::link_in;
use keel_tests::{SmtpSink, TestApp};
use serde_json::{Value, json};

use super::{app_with_mail, follow_mail, mail_to};

/// Acme with its hr_partner, a leader and a sponsor, and a provider-side coach; the
/// hr_partner's token.
async fn people(app: &TestApp) -> (String, String, HashMap) {
    let org = app.create_org("Acme").await["id"].as_str().unwrap().to_owned();
    let mut ids = HashMap::new();
    for (who, email, organization, roles) in [
        ("hr", "hr@acme.test", Some(org.as_str()), json!(["hr_partner"])),
        ("leader", "leader@acme.test", Some(org.as_str()), json!([])),
        ("sponsor", "sponsor@acme.test", Some(org.as_str()), json!([])),
        ("coach", "coach@provider.test", None, json!(["coach"])),
    ] {
        let user = app
            .create_user(json!({ "email": email, "name": who, "organization_id": organization, "roles": roles }))
            .await;
        ids.insert(who, user["id"].as_str().unwrap().to_owned());
    }
    (org, app.token_for("hr@acme.test"), ids)
}

type HashMap = std::collections::HashMap<&'static str, String>;

/// The hr_partner creates the engagement (of `template`, when given) through the API.
async fn created_by_hr(app: &TestApp, (org, hr, ids): &(String, String, HashMap), template: Option<&str>) -> Value {
    let mut body = json!({
        "organization_id": org, "title": "Leading at scale", "leader_id": ids["leader"], "coach_id": ids["coach"],
        "sponsor_ids": [ids["sponsor"]], "hr_partner_id": ids["hr"], "start_date": "2026-11-02"
    });
    if let Some(template) = template {
        body["template_id"] = json!(template);
    }
    app.call_as(Some(hr), Method::POST, "/v1/engagements", &[], Some(&body)).await.expect_status(201).json()
}

async fn sign_in(chrome: &mut Chromium, app: &TestApp, smtp: &SmtpSink, email: &str, nth: usize) {
    chrome.open(&format!("{}/sign-in", app.base_url)).await;
    chrome.fill("email", email).await;
    chrome.press("Email me a sign-in link").await;
    follow_mail(chrome, app, smtp, email, "Sign in to Keel", nth).await;
}

async fn phase(app: &TestApp, id: &str) -> String {
    let engagement = app.get(&format!("/v1/engagements/{id}")).await.expect_status(200).json();
    engagement["phase"].as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn a_coach_runs_an_executive_engagement_on_the_pages_only() {
    let Some(mut chrome) = Chromium::start("coach-walk").await else { return };
    let (app, smtp) = app_with_mail().await;
    let cast = people(&app).await;
    let engagement = created_by_hr(&app, &cast, None).await;
    let id = engagement["id"].as_str().unwrap().to_owned();
    let page = format!("/engagements/{id}");

    sign_in(&mut chrome, &app, &smtp, "coach@provider.test", 1).await;
    chrome.follow(&format!("h2 a[href='{page}']")).await;
    // Step 1: an outcome and the context meeting.
    chrome.fill("outcome-title", "Delegates decisions").await;
    chrome.fill("outcome-measure", "decisions delegated a week").await;
    chrome.fill("outcome-baseline", "2").await;
    chrome.fill("outcome-target", "8").await;
    chrome.press("Add the outcome").await;
    chrome.fill_date("met_on", "2026-11-03").await;
    chrome.fill("attendees", "Leader\nSponsor").await;
    chrome.press("Save the context meeting").await;
    chrome.press("Move on to Leader interview").await;
    // Step 2: the leader interview.
    chrome.fill_date("interviewed_on", "2026-11-05").await;
    chrome.fill("interview-commitments", "Hire two team leads").await;
    chrome.press("Save the leader interview").await;
    chrome.press("Move on to Stakeholder interviews").await;
    // Step 3: three raters invited; they answer from their mails.
    for (name, email) in [("Pat Peer", "pat@acme.test"), ("Dee Report", "dee@acme.test"), ("Max Boss", "max@acme.test")]
    {
        chrome.fill("rater-name", name).await;
        chrome.fill("rater-email", email).await;
        chrome.fill("rater-relationship", "Peer").await;
        chrome.press("Add the rater").await;
        chrome.press("Invite by email").await;
        assert!(chrome.text().await.contains("The invitation is on its way."));
    }
    chrome.check("raters-invited").await;
    for email in ["pat@acme.test", "dee@acme.test", "max@acme.test"] {
        let mail = mail_to(&smtp, email, "Give your feedback", 1).await;
        chrome.open(&link_in(&mail, &format!("{}/feedback/", app.base_url)).expect("the invitation")).await;
        chrome.fill("strengths", "Stays calm when the plan changes.").await;
        chrome.fill("development_areas", "Hands over decisions late.").await;
        chrome.press("Send my feedback").await;
    }
    chrome.open(&format!("{}{page}", app.base_url)).await;
    assert!(chrome.text().await.contains("3 of 3 contributions"), "{}", chrome.text().await);
    chrome.fill("theme-kind", "Strength").await;
    chrome.fill("theme-title", "Calm under pressure").await;
    chrome.press("Add the theme").await;
    chrome.press("Release the themes").await;
    chrome.press("Move on to Assessment and design").await;
    // Step 4: the design, composed and submitted.
    chrome.press("Start the design").await;
    chrome.fill("summary", "Delegation first.").await;
    let coach = app.token_for("coach@provider.test");
    let read = |path: String| {
        let (app, coach) = (&app, &coach);
        async move { app.call_as(Some(coach), Method::GET, &path, &[], None).await.expect_status(200).json() }
    };
    let themes = read(format!("/v1/engagements/{id}/themes")).await;
    let outcomes = read(format!("/v1/engagements/{id}/outcomes")).await;
    chrome.click_label(&format!("theme-{}", themes["items"][0]["id"].as_str().unwrap())).await;
    chrome.click_label(&format!("outcome-{}", outcomes["items"][0]["id"].as_str().unwrap())).await;
    chrome.fill("item1_title", "Pause before replying").await;
    chrome.fill("item1_cadence", "daily").await;
    chrome.press("Save the draft").await;
    chrome.press("Submit version 1 for review").await;
    assert_eq!(phase(&app, &id).await, "sponsor_review");
    // Step 5: the leader and the sponsor approve from their mails.
    chrome.press("Sign out").await;
    for email in ["leader@acme.test", "sponsor@acme.test"] {
        follow_mail(&mut chrome, &app, &smtp, email, "Review the design", 1).await;
        chrome.press("Approve version 1").await;
        chrome.press("Sign out").await;
    }
    // Step 6: coaching: a session scheduled and completed.
    sign_in(&mut chrome, &app, &smtp, "coach@provider.test", 2).await;
    chrome.open(&format!("{}{page}", app.base_url)).await;
    chrome.press("Move on to Coaching").await;
    chrome.fill_date("session-at", "2026-12-01T09:00").await;
    chrome.press("Schedule the session").await;
    chrome.follow("a.button[href$='/complete']").await;
    chrome.fill("shared_summary", "We agreed who owns the budget review.").await;
    chrome.fill("hw1_title", "Delegate the budget review").await;
    chrome.press("Complete the session").await;
    assert!(chrome.text().await.contains("The session is completed"));
    // Steps 7 and 8: the mid review, more coaching, and the end review.
    chrome.press("Move on to Mid-program review").await;
    chrome.follow("a.button[href$='/reviews/mid']").await;
    chrome.fill("outcome1_actual", "5 a week").await;
    chrome.fill("narrative", "Halfway there.").await;
    chrome.press("Record the review").await;
    chrome.press("Move on to Coaching").await;
    chrome.press("Move on to End-of-program review").await;
    chrome.follow("a.button[href$='/reviews/end']").await;
    chrome.fill("outcome1_actual", "8 a week").await;
    chrome.fill("outcome1_achieved", "Yes").await;
    chrome.fill("narrative", "A different leader.").await;
    chrome.fill("next_step", "Complete").await;
    chrome.check("end-review").await;
    chrome.press("Record the review").await;
    assert!(chrome.text().await.contains("The program has ended"), "{}", chrome.text().await);
    chrome.check("completed").await;
    assert_eq!(phase(&app, &id).await, "completed");
    chrome.close().await;
}

#[actix_web::test]
async fn a_coach_runs_a_micro_coaching_engagement_with_the_keyboard_only() {
    let Some(mut chrome) = Chromium::start("coach-keys").await else { return };
    let (app, smtp) = app_with_mail().await;
    let cast = people(&app).await;
    let micro = keel_domain::template::MICRO_ID.to_string();
    let engagement = created_by_hr(&app, &cast, Some(&micro)).await;
    let id = engagement["id"].as_str().unwrap().to_owned();
    let enter = fantoccini::key::Key::Enter.to_string();

    chrome.open(&format!("{}/sign-in", app.base_url)).await;
    chrome.key_fill("email", &format!("coach@provider.test{enter}")).await;
    let mail = mail_to(&smtp, "coach@provider.test", "Sign in to Keel", 1).await;
    chrome.open(&link_in(&mail, &format!("{}/l/", app.base_url)).expect("a link")).await;
    chrome.key_press("Continue as").await;
    chrome.key_press("Leading at scale").await;
    assert_eq!(chrome.path().await, format!("/engagements/{id}"));
    chrome.key_fill("outcome-title", "Gives clear feedback").await;
    chrome.key_fill("outcome-measure", "feedback conversations a week").await;
    chrome.key_fill("outcome-baseline", "0").await;
    chrome.key_fill("outcome-target", "3").await;
    chrome.key_press("Add the outcome").await;
    chrome.key_press("Move on to Coaching").await;
    // A date and time typed as the browser's date field takes them (month, day, year, then the
    // time after an arrow key).
    let right = fantoccini::key::Key::Right.to_string();
    chrome.key_fill("session-at", &format!("12012026{right}0900AM")).await;
    assert_eq!(chrome.value("session-at").await, "2026-12-01T09:00");
    chrome.key_press("Schedule the session").await;
    chrome.key_press("Complete the session").await;
    chrome.key_fill("shared_summary", "One conversation this week.").await;
    chrome.key_press("Complete the session").await;
    assert!(chrome.text().await.contains("The session is completed"));
    chrome.key_press("Move on to End-of-program review").await;
    chrome.key_press("Record the end-of-program review").await;
    chrome.key_fill("outcome1_actual", "3 a week").await;
    chrome.key_fill("outcome1_achieved", "Y").await;
    chrome.key_fill("narrative", "Feedback is a habit now.").await;
    chrome.key_fill("next_step", "C").await;
    chrome.check("end-review").await;
    chrome.key_press("Record the review").await;
    assert_eq!(phase(&app, &id).await, "completed");
    chrome.close().await;
}
