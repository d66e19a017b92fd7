//! The leader signs in from the sign-in page, reads their program (the outcome's chart, the next
//! session with its calendar file, the shared summary) and marks homework done with a note.

use actix_web::http::Method;
use keel_tests::browser::Chromium;
use keel_tests::fixtures;
use serde_json::json;

use super::{app_with_mail, follow_mail};

#[actix_web::test]
async fn the_leader_marks_homework_done_in_the_browser() {
    let Some(mut chrome) = Chromium::start("program").await else { return };
    let (app, smtp) = app_with_mail().await;
    let p = fixtures::to_coaching(&app).await;
    let next = json!({ "scheduled_at": "2099-05-01T09:00:00Z", "duration_minutes": 60, "format": "video", "agenda": "Hiring plan" });
    p.call(&app, "coach", Method::POST, "/sessions", Some(next)).await.expect_status(201);
    let measurement = json!({ "value": "5", "source": "session", "measured_at": "2026-03-10T15:00:00Z" });
    p.call(&app, "coach", Method::POST, &format!("/outcomes/{}/measurements", p.outcome), Some(measurement))
        .await
        .expect_status(201);
    let item = json!({ "title": "Delegate the budget review", "details": "Pick one owner", "due_date": "2026-03-01" });
    p.call(&app, "coach", Method::POST, "/action-items", Some(item)).await.expect_status(201);

    // Signing in from the sign-in page: the mailed link leads to the person's programs.
    chrome.open(&format!("{}/sign-in", app.base_url)).await;
    chrome.fill("email", "leader@acme.test").await;
    chrome.press("Email me a sign-in link").await;
    follow_mail(&mut chrome, &app, &smtp, "leader@acme.test", "Sign in to Keel", 1).await;
    assert_eq!(chrome.path().await, "/home");
    chrome.check("home").await;
    chrome.follow(&format!("a[href='/engagements/{}']", p.engagement)).await;

    let page = format!("/engagements/{}", p.engagement);
    assert_eq!(chrome.path().await, page);
    let text = chrome.text().await;
    for shown in
        ["Coaching sessions.", "Delegates", "2 → 8", "Hiring plan", "Add to my calendar", "Delegate the budget review"]
    {
        assert!(text.contains(shown), "{shown:?} on the leader's page:\n{text}");
    }
    chrome.check("program").await;

    let items = p.call(&app, "coach", Method::GET, "/action-items", None).await.expect_status(200).json();
    let id = items["items"][0]["id"].as_str().unwrap().to_owned();
    chrome.fill(&format!("note-{id}"), "Sam owns it now").await;
    chrome.press("Mark “Delegate the budget review” done").await;
    assert_eq!(chrome.path().await, format!("{page}?done=1"));
    let text = chrome.text().await;
    assert!(text.contains("Marked done"), "{text}");
    assert!(!text.contains("Mark “Delegate the budget review” done"), "no form for done homework:\n{text}");
    chrome.check("homework-done").await;

    let items = p.call(&app, "coach", Method::GET, "/action-items", None).await.expect_status(200).json();
    assert_eq!(items["items"][0]["status"], "done");
    assert_eq!(items["items"][0]["leader_note"], "Sam owns it now");
    chrome.close().await;
}
