//! The design review: the leader and the sponsors decide from their mails, version 1 goes back
//! for changes, version 2 is approved by all three and the program moves on to coaching.

use actix_web::http::Method;
use keel_tests::browser::Chromium;
use keel_tests::{SmtpSink, TestApp, fixtures};
use serde_json::json;

use super::{app_with_mail, follow_mail};

/// Approves the design page shown, as whoever is signed in, then signs out.
async fn approve_and_sign_out(chrome: &mut Chromium, design_page: &str, version: u32) {
    assert_eq!(chrome.path().await, design_page);
    chrome.press(&format!("Approve version {version}")).await;
    assert_eq!(chrome.path().await, format!("{design_page}?decided=1"));
    let text = chrome.text().await;
    assert!(text.contains("your decision was recorded") && text.contains("You decided"), "{text}");
    chrome.check(&format!("v{version}-approved")).await;
    sign_out(chrome).await;
}

async fn sign_out(chrome: &mut Chromium) {
    chrome.press("Sign out").await;
    assert_eq!(chrome.path().await, "/");
    assert!(!chrome.text().await.contains("Signed in as"));
}

/// Follows the `nth` design mail to `address` and lands on its page.
async fn review(chrome: &mut Chromium, app: &TestApp, smtp: &SmtpSink, address: &str, nth: usize) {
    follow_mail(chrome, app, smtp, address, "Review the design", nth).await;
}

#[actix_web::test]
async fn the_leader_and_sponsors_review_the_design_in_the_browser() {
    let Some(mut chrome) = Chromium::start("design").await else { return };
    let (app, smtp) = app_with_mail().await;
    let p = fixtures::to_assessment_design(&app).await;
    let body = json!({
        "summary": "Delegation first",
        "theme_ids": [p.theme], "outcome_ids": [p.outcome],
        "items": [{ "kind": "practice", "title": "Delegate one decision a day", "cadence": "daily" }]
    });
    p.call(&app, "coach", Method::POST, "/designs", Some(body)).await.expect_status(201);
    p.call(&app, "coach", Method::POST, "/designs/1/submit", None).await.expect_status(200);
    let v1 = format!("/engagements/{}/designs/1", p.engagement);
    let v2 = format!("/engagements/{}/designs/2", p.engagement);

    // The leader approves version 1 from the mail.
    review(&mut chrome, &app, &smtp, "leader@acme.test", 1).await;
    assert_eq!(chrome.heading().await, "Program design, version 1");
    let text = chrome.text().await;
    for shown in ["Delegation first", "Delegate one decision a day", "Calm", "Delegates", "2 → 8"] {
        assert!(text.contains(shown), "{shown:?} on the review:\n{text}");
    }
    chrome.check("v1-review").await;
    approve_and_sign_out(&mut chrome, &v1, 1).await;

    // A sponsor asks for changes; the browser wants the comment first.
    review(&mut chrome, &app, &smtp, "sponsor@acme.test", 1).await;
    assert_eq!(chrome.path().await, v1);
    chrome.check("v1-review").await;
    chrome.press_refused("Request changes").await;
    chrome.fill("changes-comment", "More on hiring, please.").await;
    chrome.press("Request changes").await;
    assert_eq!(chrome.path().await, format!("{v1}?decided=1"));
    assert!(chrome.text().await.contains("More on hiring, please."), "the decision is listed");
    chrome.check("v1-changes-requested").await;
    sign_out(&mut chrome).await;
    let design = p.call(&app, "coach", Method::GET, "/designs/1", None).await.expect_status(200).json();
    assert_eq!(design["status"], "changes_requested");

    // Version 2: the leader and both sponsors approve it from their second mail.
    let body = json!({ "copy_from": 1, "summary": "Delegation, then hiring" });
    p.call(&app, "coach", Method::POST, "/designs", Some(body)).await.expect_status(201);
    p.call(&app, "coach", Method::POST, "/designs/2/submit", None).await.expect_status(200);
    for address in ["leader@acme.test", "sponsor@acme.test", "cfo@acme.test"] {
        review(&mut chrome, &app, &smtp, address, 2).await;
        assert_eq!(chrome.heading().await, "Program design, version 2");
        let text = chrome.text().await;
        assert!(text.contains("What changed since version 1") && text.contains("Delegation, then hiring"), "{text}");
        chrome.check("v2-review").await;
        approve_and_sign_out(&mut chrome, &v2, 2).await;
    }

    let design = p.call(&app, "coach", Method::GET, "/designs/2", None).await.expect_status(200).json();
    assert_eq!(design["status"], "approved");
    let moved = json!({ "to": "coaching" });
    p.call(&app, "coach", Method::POST, "/transitions", Some(moved)).await.expect_status(200);
    let engagement = p.call(&app, "coach", Method::GET, "", None).await.expect_status(200).json();
    assert_eq!(engagement["phase"], "coaching");
    chrome.close().await;
}
