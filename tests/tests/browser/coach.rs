//! The coach runs the first steps of a program on its page (issue 23): signs in from the sign-in
//! page, finds on their home what the program needs, adds an outcome, records the context
//! meeting, moves the program on, records the leader interview and adds a rater.

use actix_web::http::Method;
use keel_tests::browser::Chromium;
use keel_tests::fixtures;

use super::{app_with_mail, follow_mail};

#[actix_web::test]
async fn the_coach_does_the_first_steps_in_the_browser() {
    let Some(mut chrome) = Chromium::start("coach").await else { return };
    let (app, smtp) = app_with_mail().await;
    let p = fixtures::in_context(&app).await;

    chrome.open(&format!("{}/sign-in", app.base_url)).await;
    chrome.fill("email", "coach@provider.test").await;
    chrome.press("Email me a sign-in link").await;
    follow_mail(&mut chrome, &app, &smtp, "coach@provider.test", "Sign in to Keel", 1).await;
    assert_eq!(chrome.path().await, "/home");
    let text = chrome.text().await;
    assert!(text.contains("Next: Add a measurable outcome"), "{text}");
    chrome.check("home").await;
    chrome.follow(&format!("h2 a[href='/engagements/{}']", p.engagement)).await;

    let page = format!("/engagements/{}", p.engagement);
    let text = chrome.text().await;
    for shown in ["You coach this program.", "Move on to Leader interview", "Not yet:", "Record the context meeting"] {
        assert!(text.contains(shown), "{shown:?} on the coach's page:\n{text}");
    }
    chrome.check("workspace").await;

    chrome.fill("outcome-title", "Delegates decisions").await;
    chrome.fill("outcome-measure", "decisions delegated a week").await;
    chrome.fill("outcome-baseline", "2").await;
    chrome.fill("outcome-target", "8").await;
    chrome.press("Add the outcome").await;
    assert_eq!(chrome.path().await, format!("{page}?saved=outcome"));
    assert!(chrome.text().await.contains("The outcome is added."));

    chrome.fill_date("met_on", "2026-01-12").await;
    chrome.fill("attendees", "Pat\nSam").await;
    chrome.fill("context-notes", "Wants a bench of successors").await;
    chrome.press("Save the context meeting").await;
    let text = chrome.text().await;
    assert!(text.contains("The context meeting is recorded.") && text.contains("Next for you"), "{text}");
    assert!(text.contains("Move the program on to Leader interview"), "{text}");
    chrome.check("context-recorded").await;

    chrome.press("Move on to Leader interview").await;
    assert!(chrome.text().await.contains("The program moved on."));
    chrome.fill_date("interviewed_on", "2026-01-20").await;
    chrome.fill("interview-commitments", "Hire two team leads").await;
    chrome.press("Save the leader interview").await;
    assert!(chrome.text().await.contains("The leader interview is recorded."));
    chrome.press("Move on to Stakeholder interviews").await;

    chrome.fill("rater-name", "Pat Peer").await;
    chrome.fill("rater-email", "pat@acme.test").await;
    chrome.fill("rater-relationship", "Peer").await;
    chrome.press("Add the rater").await;
    let text = chrome.text().await;
    assert!(text.contains("Pat Peer") && text.contains("Not invited yet"), "{text}");
    assert!(text.contains("0 of 3 raters have answered: invite Pat Peer"), "the next thing: {text}");
    chrome.press("Invite by email").await;
    assert!(chrome.text().await.contains("The invitation is on its way."));
    chrome.check("raters").await;

    let engagement = app.call_as(Some(&p.tokens["coach"]), Method::GET, &p.base, &[], None).await;
    assert_eq!(engagement.expect_status(200).json()["phase"], "stakeholder_interviews");
    let interview = p.call(&app, "coach", Method::GET, "/leader-interview", None).await.expect_status(200).json();
    assert_eq!(interview["commitments"], "Hire two team leads");
    chrome.close().await;
}

/// The design composer and a session completed, as the coach does them in a browser: the
/// screenshots of the README's coach section come from here.
#[actix_web::test]
async fn the_coach_composes_a_design_and_completes_a_session_in_the_browser() {
    let Some(mut chrome) = Chromium::start("coach-work").await else { return };
    let (app, smtp) = app_with_mail().await;
    let p = fixtures::to_assessment_design(&app).await;
    chrome.open(&format!("{}/sign-in", app.base_url)).await;
    chrome.fill("email", "coach@provider.test").await;
    chrome.press("Email me a sign-in link").await;
    follow_mail(&mut chrome, &app, &smtp, "coach@provider.test", "Sign in to Keel", 1).await;
    chrome.follow(&format!("h2 a[href='/engagements/{}']", p.engagement)).await;
    chrome.press("Start the design").await;
    assert_eq!(chrome.path().await, format!("/engagements/{}/designs/1/edit", p.engagement));
    chrome.fill("summary", "Delegation first: the team grows when decisions move down.").await;
    chrome.click_label(&format!("theme-{}", p.theme)).await;
    chrome.click_label(&format!("outcome-{}", p.outcome)).await;
    chrome.fill("item1_title", "Pause before replying").await;
    chrome.fill("item1_cadence", "daily").await;
    chrome.fill("item2_kind", "Reading").await;
    chrome.fill("item2_title", "The delegation book").await;
    chrome.press("Save the draft").await;
    assert!(chrome.text().await.contains("The draft is saved."));
    chrome.check("design-composer").await;
    chrome.press("Submit version 1 for review").await;
    assert!(chrome.text().await.contains("The design is submitted"));

    // Approved by all: coaching begins, and a session is scheduled and completed.
    for who in ["leader", "sponsor", "sponsor2"] {
        let decision = serde_json::json!({ "decision": "approve" });
        p.call(&app, who, Method::POST, "/designs/1/decisions", Some(decision)).await.expect_status(201);
    }
    let moved =
        p.call(&app, "coach", Method::POST, "/transitions", Some(serde_json::json!({ "to": "coaching" }))).await;
    moved.expect_status(200);
    chrome.open(&format!("{}/engagements/{}", app.base_url, p.engagement)).await;
    chrome.fill_date_time("session-at", "2026-03-10T09:00").await;
    chrome.press("Schedule the session").await;
    assert!(chrome.text().await.contains("The session is scheduled"));
    chrome.follow("a.button[href$='/complete']").await;
    chrome.fill("check_in", "Energised after the offsite").await;
    chrome.fill("session_goals", "Hand over the budget review").await;
    chrome.fill("shared_summary", "We agreed who owns the budget review.").await;
    chrome.fill("private_notes", "Still hesitant to let go").await;
    chrome.fill("hw1_title", "Delegate the budget review").await;
    chrome.check("session-completion").await;
    chrome.press("Complete the session").await;
    assert!(chrome.text().await.contains("The session is completed"));
    chrome.open(&format!("{}/home", app.base_url)).await;
    chrome.check("home").await;
    chrome.close().await;
}
