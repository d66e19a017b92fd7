//! A sponsor approves extra coaching hours from the request mail.

use actix_web::http::Method;
use keel_tests::browser::Chromium;
use keel_tests::fixtures;
use serde_json::json;

use super::{app_with_mail, follow_mail};

#[actix_web::test]
async fn a_sponsor_approves_extra_hours_in_the_browser() {
    let Some(mut chrome) = Chromium::start("extension").await else { return };
    let (app, smtp) = app_with_mail().await;
    let p = fixtures::to_coaching(&app).await;
    let request = json!({ "hours": 1.5, "month": "2026-05", "reason": "Offsite" });
    let extension = p.call(&app, "coach", Method::POST, "/extensions", Some(request)).await.expect_status(201).json();
    let page = format!("/engagements/{}/extensions/{}", p.engagement, extension["id"].as_str().unwrap());

    follow_mail(&mut chrome, &app, &smtp, "cfo@acme.test", "Review and decide", 1).await;
    assert_eq!(chrome.path().await, page);
    assert_eq!(chrome.heading().await, "Request for extra coaching hours");
    let text = chrome.text().await;
    for shown in ["1.5", "Offsite", "Budget", "Remaining"] {
        assert!(text.contains(shown), "{shown:?} on the page:\n{text}");
    }
    chrome.check("request").await;

    chrome.fill("comment", "Worth it.").await;
    chrome.press("Approve 1.5 extra hours").await;
    assert_eq!(chrome.path().await, format!("{page}?decided=1"));
    let text = chrome.text().await;
    assert!(text.contains("your decision was recorded"), "{text}");
    assert!(!text.contains("Approve 1.5 extra hours"), "decided once: no form any more\n{text}");
    chrome.check("approved").await;

    let seen = p.call(&app, "coach", Method::GET, "/extensions", None).await.expect_status(200).json();
    assert_eq!(seen["items"][0]["status"], "approved");
    chrome.close().await;
}
