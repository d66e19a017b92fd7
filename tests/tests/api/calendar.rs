//! Calendar feeds (docs/calendar.md): a person's secret feed address, made, rotated and revoked
//! by them; the feed parses with an independent iCalendar parser (the `ical` crate, not the one
//! Keel writes with), follows a cancellation (STATUS and SEQUENCE, RFC 5545), answers 304 when
//! unchanged, and shows each reader only what they may see.

use actix_web::http::Method;
use keel_tests::{Response, TestApp, both_backends};
use serde_json::{Value, json};

use crate::designs::to_coaching;

both_backends! {
    async fn a_feed_lists_the_persons_sessions_and_follows_a_cancellation(app) {
        follows(&app).await;
    }
    async fn feeds_are_the_persons_own_and_stop_when_rotated_revoked_or_deactivated(app) {
        ownership(&app).await;
    }
}

/// The events of an iCalendar text, each as (property name → value), read by `ical`.
fn events(text: &str) -> Vec<Vec<(String, String)>> {
    let mut parser = ical::IcalParser::new(std::io::BufReader::new(text.as_bytes()));
    let calendar = parser.next().expect("one calendar").expect("the feed parses");
    assert!(parser.next().is_none(), "one calendar only");
    calendar
        .events
        .into_iter()
        .map(|e| e.properties.into_iter().map(|p| (p.name, p.value.unwrap_or_default())).collect())
        .collect()
}

fn property<'a>(event: &'a [(String, String)], name: &str) -> Option<&'a str> {
    event.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

async fn make_feed(app: &TestApp, token: &str, user: &str) -> String {
    let path = format!("/v1/users/{user}/calendar-feed");
    let made = app.call_as(Some(token), Method::POST, &path, &[], None).await.expect_status(201);
    let url = made.json()["url"].as_str().unwrap().to_owned();
    assert_eq!(made.header("location").as_deref(), Some(url.as_str()));
    assert!(url.contains("/calendar/kc_") && url.ends_with(".ics"), "{url}");
    url.strip_prefix(&app.base_url).expect("an address of this Keel").to_owned()
}

async fn read(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> Response {
    app.send_raw(Method::GET, path, headers, None, None).await
}

async fn ids(app: &TestApp, base: &str) -> (String, String, String) {
    let engagement = app.get(base).await.expect_status(200).json();
    let id = |v: &Value| v.as_str().unwrap().to_owned();
    (id(&engagement["leader_id"]), id(&engagement["sponsor_ids"][0]), id(&engagement["title"]))
}

async fn follows(app: &TestApp) {
    let p = to_coaching(app).await;
    let (leader, sponsor, title) = ids(app, &p.base).await;
    let body = json!({ "scheduled_at": "2099-03-10T09:00:00Z", "duration_minutes": 60, "format": "video",
                       "agenda": "AGENDA-FOR-THE-FEED" });
    let session = p.call(app, "coach", Method::POST, "/sessions", Some(body)).await.expect_status(201).json();
    let session_id = session["id"].as_str().unwrap().to_owned();

    // The leader's feed: the session with its agenda, confirmed, revision 0.
    let feed = make_feed(app, &p.tokens["leader"], &leader).await;
    let first = read(app, &feed, &[]).await.expect_status(200);
    assert_eq!(first.header("content-type").as_deref(), Some("text/calendar; charset=utf-8"));
    let etag = first.header("etag").expect("an ETag");
    let modified = first.header("last-modified").expect("a Last-Modified");
    let listed = events(&first.text());
    let event = listed.iter().find(|e| property(e, "UID") == Some(&format!("{session_id}@keel"))).expect("the session");
    assert_eq!(property(event, "SUMMARY"), Some(format!("Coaching session: {title}").as_str()));
    assert_eq!(property(event, "DTSTART"), Some("20990310T090000Z"));
    assert_eq!(property(event, "DTEND"), Some("20990310T100000Z"));
    assert_eq!(property(event, "STATUS"), Some("CONFIRMED"));
    assert_eq!(property(event, "SEQUENCE"), Some("0"));
    assert_eq!(property(event, "DESCRIPTION"), Some("AGENDA-FOR-THE-FEED"));
    // Unchanged: 304 by the tag and by the date.
    read(app, &feed, &[("if-none-match", etag.as_str())]).await.expect_status(304);
    read(app, &feed, &[("if-modified-since", modified.as_str())]).await.expect_status(304);

    // The sponsor's feed: the schedule and status only.
    let sponsor_email = app.get(&format!("/v1/users/{sponsor}")).await.expect_status(200).json()["email"].clone();
    let sponsor_token = app.token_for(sponsor_email.as_str().unwrap());
    let theirs = make_feed(app, &sponsor_token, &sponsor).await;
    let text = read(app, &theirs, &[]).await.expect_status(200).text();
    assert!(text.contains(&format!("{session_id}@keel")), "{text}");
    assert!(!text.contains("AGENDA-FOR-THE-FEED"), "the agenda is the leader's and the coach's: {text}");

    // Cancelled: the event stays, CANCELLED with a higher SEQUENCE, and the tag changes.
    let body = json!({ "status": "cancelled", "reason": "Travel" });
    p.call(app, "coach", Method::PATCH, &format!("/sessions/{session_id}"), Some(body)).await.expect_status(200);
    let after = read(app, &feed, &[("if-none-match", etag.as_str())]).await.expect_status(200);
    assert_ne!(after.header("etag"), Some(etag));
    let listed = events(&after.text());
    let event = listed.iter().find(|e| property(e, "UID") == Some(&format!("{session_id}@keel"))).expect("the session");
    assert_eq!(property(event, "STATUS"), Some("CANCELLED"));
    let sequence: u32 = property(event, "SEQUENCE").unwrap().parse().unwrap();
    assert!(sequence >= 1, "a cancellation is a revision: {sequence}");
}

async fn ownership(app: &TestApp) {
    let p = to_coaching(app).await;
    let (leader, _, _) = ids(app, &p.base).await;
    let path = format!("/v1/users/{leader}/calendar-feed");
    // Nobody has one yet; only the person makes theirs: the coach gets 404, an admin 403.
    app.call_as(Some(&p.tokens["leader"]), Method::GET, &path, &[], None).await.expect_status(404);
    app.call_as(Some(&p.tokens["coach"]), Method::POST, &path, &[], None).await.expect_status(404);
    app.post(&path, &json!({})).await.expect_status(403);
    let first = make_feed(app, &p.tokens["leader"], &leader).await;
    let status = app.call_as(Some(&p.tokens["leader"]), Method::GET, &path, &[], None).await.expect_status(200);
    assert!(status.json()["created_at"].is_string());
    app.call_as(Some(&p.tokens["coach"]), Method::GET, &path, &[], None).await.expect_status(404);
    // Rotated: the old address is gone at once, saying nothing of whose it was.
    let second = make_feed(app, &p.tokens["leader"], &leader).await;
    assert_ne!(first, second);
    let gone = read(app, &first, &[]).await.expect_status(404).text();
    assert!(!gone.contains(&leader), "{gone}");
    read(app, &second, &[]).await.expect_status(200);
    read(app, "/calendar/kc_not-a-feed.ics", &[]).await.expect_status(404);
    read(app, "/calendar/kc_not-a-feed", &[]).await.expect_status(404);
    // A deactivated person's feed stops; an admin revokes it, and it is gone for good.
    app.delete(&format!("/v1/users/{leader}"), None).await.expect_status(204);
    read(app, &second, &[]).await.expect_status(404);
    app.delete(&path, None).await.expect_status(204);
    app.delete(&path, None).await.expect_status(404);
    app.get(&path).await.expect_status(404);
    // Every change is audited.
    let audit = app.get("/v1/audit-events?resource_type=calendar_feed").await.expect_status(200).json();
    let actions: Vec<&str> = audit["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for action in ["calendar_feed.created", "calendar_feed.rotated", "calendar_feed.revoked"] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
}
