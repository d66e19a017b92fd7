//! A participant of a cohort signs in from the sign-in page, finds the group on their home page,
//! reads the group's sessions and their own items, and marks an action item done; a micro-coaching
//! leader's page names the program and what comes next in it.

use actix_web::http::Method;
use keel_tests::browser::Chromium;
use serde_json::json;

use super::{app_with_mail, follow_mail};

#[actix_web::test]
async fn a_group_participant_marks_an_item_done_in_the_browser() {
    let Some(mut chrome) = Chromium::start("groups").await else { return };
    let (app, smtp) = app_with_mail().await;
    let org = app.create_org("Acme").await["id"].as_str().unwrap().to_owned();
    let mut ids = std::collections::HashMap::new();
    for (who, organization, roles) in [
        ("coach", None, json!(["coach"])),
        ("sponsor", Some(&org), json!([])),
        ("ana", Some(&org), json!([])),
        ("ben", Some(&org), json!([])),
    ] {
        let body = json!({ "email": format!("{who}@acme.test"), "name": who, "organization_id": organization, "roles": roles });
        ids.insert(who, app.create_user(body).await["id"].as_str().unwrap().to_owned());
    }
    let coach = app.token_for("coach@acme.test");
    let group = json!({
        "organization_id": org, "kind": "cohort", "name": "Emerging leaders", "coach_id": ids["coach"],
        "sponsor_id": ids["sponsor"], "start_date": "2026-01-05"
    });
    let group = app.post("/v1/groups", &group).await.expect_status(201).json()["id"].as_str().unwrap().to_owned();
    let base = format!("/v1/groups/{group}");
    for who in ["ana", "ben"] {
        app.post(&format!("{base}/members"), &json!({ "user_id": ids[who] })).await.expect_status(201);
    }
    keel_tests::fixtures::backdate_memberships(&app, &group, "2026-01-05 00:00:00");
    let as_coach = |method: Method, path: String, body: serde_json::Value| {
        let app = &app;
        let coach = coach.clone();
        async move { app.call_as(Some(&coach), method, &path, &[], Some(&body)).await }
    };
    let session = json!({ "scheduled_at": "2026-02-03T09:00:00Z", "duration_minutes": 90, "format": "in_person", "agenda": "Giving feedback" });
    let session = as_coach(Method::POST, format!("{base}/sessions"), session).await.expect_status(201).json();
    let complete = json!({ "actual_duration_minutes": 90, "attended": [ids["ana"], ids["ben"]], "shared_summary": "We practised feedback in pairs" });
    let path = format!("{base}/sessions/{}/complete", session["id"].as_str().unwrap());
    as_coach(Method::POST, path, complete).await.expect_status(200);
    for (who, title) in [("ana", "Ask one report for feedback"), ("ben", "Ben's own item")] {
        let path = format!("{base}/participants/{}/action-items", ids[who]);
        as_coach(Method::POST, path, json!({ "title": title, "due_date": "2026-02-10" })).await.expect_status(201);
    }

    chrome.open(&format!("{}/sign-in", app.base_url)).await;
    chrome.fill("email", "ana@acme.test").await;
    chrome.press("Email me a sign-in link").await;
    follow_mail(&mut chrome, &app, &smtp, "ana@acme.test", "Sign in to Keel", 1).await;
    assert_eq!(chrome.path().await, "/home");
    chrome.follow(&format!("a[href='/groups/{group}']")).await;
    let text = chrome.text().await;
    for shown in [
        "You take part in this group.",
        "Giving feedback",
        "We practised feedback in pairs",
        "Ask one report for feedback",
    ] {
        assert!(text.contains(shown), "{shown:?} on Ana's group page:\n{text}");
    }
    assert!(!text.contains("Ben's own item"), "another participant's item:\n{text}");
    chrome.check("group").await;
    chrome.press("Mark “Ask one report for feedback” done").await;
    assert_eq!(chrome.path().await, format!("/groups/{group}?done=1"));
    let text = chrome.text().await;
    assert!(text.contains("Marked done") && !text.contains("Mark “Ask one report for feedback” done"), "{text}");
    chrome.check("group-item-done").await;
    chrome.close().await;
}
