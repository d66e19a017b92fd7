//! A rater gives feedback from the invitation mail.

use actix_web::http::Method;
use keel_tests::browser::Chromium;
use keel_tests::fixtures;
use keel_tests::pages::link_in;
use serde_json::json;

use super::{app_with_mail, mail_to};

#[actix_web::test]
async fn a_rater_answers_the_invitation_in_the_browser() {
    let Some(mut chrome) = Chromium::start("feedback").await else { return };
    let (app, smtp) = app_with_mail().await;
    let p = fixtures::to_assessment_design(&app).await;
    let rater = json!({ "name": "Pat Peer", "email": "pat@acme.test", "relationship": "peer" });
    let rater = p.call(&app, "coach", Method::POST, "/raters", Some(rater)).await.expect_status(201).json();
    let rater_path = format!("/raters/{}", rater["id"].as_str().unwrap());
    p.call(&app, "coach", Method::POST, &format!("{rater_path}/invitation"), None).await.expect_status(202);
    let mail = mail_to(&smtp, "pat@acme.test", "Give your feedback", 1).await;
    let link = link_in(&mail, &format!("{}/feedback/", app.base_url)).expect("the invitation's link");

    chrome.open(&link).await;
    assert_eq!(chrome.heading().await, "Feedback for leader");
    assert!(chrome.text().await.contains("only coach, the coach"), "who reads it is said first");
    chrome.check("form").await;

    // The browser itself will not send the form without the required answers.
    let refused = chrome.press_refused("Send my feedback").await;
    assert!(!refused.is_empty());
    let seen = p.call(&app, "coach", Method::GET, &rater_path, None).await.expect_status(200).json();
    assert_eq!(seen["status"], "invited");

    chrome.fill("strengths", "Stays calm when the plan changes.").await;
    chrome.fill("development_areas", "Hands over decisions late.\nCould delegate earlier.").await;
    chrome.fill("comments", "Glad to help.").await;
    chrome.press("Send my feedback").await;
    assert_eq!(chrome.heading().await, "Thank you");
    assert!(chrome.text().await.contains("Only the coach reads it"));
    chrome.check("thanks").await;

    // Coming back through the mail's link later: it was received; nothing to do.
    chrome.open(&link).await;
    assert_eq!(chrome.heading().await, "Your feedback was received");
    chrome.check("received").await;

    let seen = p.call(&app, "coach", Method::GET, &rater_path, None).await.expect_status(200).json();
    assert_eq!(seen["status"], "feedback_submitted");
    chrome.close().await;
}
