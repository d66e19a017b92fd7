//! Step 6: sessions, their calendar invitations, who sees which fields, the hours ledger and the
//! over-budget refusal (also under concurrent completions).

use std::time::Duration;

use actix_web::http::Method;
use keel_tests::{Backend, SmtpSink, TestApp, both_backends};
use serde_json::{Value, json};

use crate::designs::to_coaching;

both_backends! {
    fn invitations_and_views(backend: Backend);
    fn ledger_and_budget(app: TestApp);
    fn requests_cancellations_and_rules(app: TestApp);
    fn extensions(backend: Backend);
    fn action_items(app: TestApp);
}

/// The text/calendar part of a raw mail, decoded.
pub(crate) fn calendar_text(raw: &str) -> String {
    let mail = mailparse::parse_mail(raw.as_bytes()).expect("a MIME message");
    let part = mail.subparts.iter().find(|p| p.ctype.mimetype == "text/calendar").expect("a text/calendar part");
    part.get_body().expect("decodable")
}

/// The text/calendar part of a raw mail, parsed.
pub(crate) fn calendar_in(raw: &str) -> icalendar::Calendar {
    calendar_text(raw).parse::<icalendar::Calendar>().expect("a valid iCalendar document")
}

pub(crate) fn property(calendar: &icalendar::Calendar, name: &str) -> String {
    use icalendar::Component;
    let event = calendar.components.iter().find_map(|c| c.as_event()).expect("a VEVENT");
    event.property_value(name).unwrap_or_else(|| panic!("{name} in the event")).to_owned()
}

async fn invitations_and_views(backend: Backend) {
    let smtp = SmtpSink::start();
    let url = smtp.url();
    let Some(app) = TestApp::spawn_with(backend, move |c| {
        c.smtp_url = url;
        c.outbox_poll_ms = 50;
    })
    .await
    else {
        return;
    };
    let p = to_coaching(&app).await;
    let body = json!({ "scheduled_at": "2026-03-10T14:00:00Z", "duration_minutes": 90, "format": "video", "agenda": "Delegation review" });
    let session = p.call(&app, "coach", Method::POST, "/sessions", Some(body)).await.expect_status(201).json();
    assert_eq!(session["status"], "scheduled");
    let id = session["id"].as_str().unwrap().to_owned();

    // Both the leader and the coach get the invitation; calendar programs can read it.
    let raw = smtp
        .raw_wait_for(&["To: leader@acme.test", "text/calendar"], Duration::from_secs(10))
        .await
        .expect("mail to the leader");
    smtp.raw_wait_for(&["To: coach@provider.test", "text/calendar"], Duration::from_secs(10))
        .await
        .expect("mail to the coach");
    let calendar = calendar_in(&raw);
    assert_eq!(property(&calendar, "UID"), format!("{id}@keel"));
    assert_eq!(property(&calendar, "DTSTART"), "20260310T140000Z");
    assert_eq!(property(&calendar, "DTEND"), "20260310T153000Z");
    assert_eq!(property(&calendar, "SEQUENCE"), "0");
    assert!(property(&calendar, "SUMMARY").starts_with("Coaching session"));

    // Moving it sends an update with a higher SEQUENCE, same UID.
    let moved = p
        .call(
            &app,
            "coach",
            Method::PATCH,
            &format!("/sessions/{id}"),
            Some(json!({ "scheduled_at": "2026-03-11T09:00:00Z" })),
        )
        .await;
    moved.expect_status(200);
    let update = smtp
        .raw_wait_for(&["To: leader@acme.test", "has moved"], Duration::from_secs(10))
        .await
        .expect("the updated invitation");
    let calendar = calendar_in(&update);
    assert_eq!((property(&calendar, "UID"), property(&calendar, "SEQUENCE")), (format!("{id}@keel"), "1".to_owned()));
    assert_eq!(property(&calendar, "DTSTART"), "20260311T090000Z");

    // Cancelling a scheduled session mails a cancellation of the same event, so it leaves the
    // attendees' calendars.
    let body = json!({ "scheduled_at": "2026-03-17T14:00:00Z", "duration_minutes": 60, "format": "video" });
    let other = p.call(&app, "coach", Method::POST, "/sessions", Some(body)).await.expect_status(201).json();
    let other = other["id"].as_str().unwrap().to_owned();
    let cancel = json!({ "status": "cancelled", "reason": "leader travelling" });
    p.call(&app, "coach", Method::PATCH, &format!("/sessions/{other}"), Some(cancel)).await.expect_status(200);
    for to in ["To: leader@acme.test", "To: coach@provider.test"] {
        let raw = smtp.raw_wait_for(&[to, "Cancelled:"], Duration::from_secs(10)).await.expect("the cancellation");
        let text = calendar_text(&raw);
        assert!(text.contains("METHOD:CANCEL\r\n") && text.contains("STATUS:CANCELLED\r\n"), "{text}");
        let calendar = calendar_in(&raw);
        assert_eq!(
            (property(&calendar, "UID"), property(&calendar, "SEQUENCE")),
            (format!("{other}@keel"), "1".to_owned())
        );
        assert!(raw.contains("method=CANCEL"), "the part says it is a cancellation");
    }

    // Completion with content; each reader sees what docs/access.md allows.
    let content = json!({
        "actual_duration_minutes": 80, "check_in": "CHECKIN-TEXT", "challenges": "CHALLENGE-TEXT",
        "shared_summary": "SUMMARY-TEXT", "private_notes": "PRIVATE-TEXT"
    });
    p.call(&app, "coach", Method::POST, &format!("/sessions/{id}/complete"), Some(content)).await.expect_status(200);
    let seen = |who: &'static str| {
        let app = &app;
        let p = &p;
        let path = format!("/sessions/{id}");
        async move { p.call(app, who, Method::GET, &path, None).await.expect_status(200).json() }
    };
    let coach = seen("coach").await;
    assert_eq!(
        (coach["private_notes"].as_str(), coach["check_in"].as_str()),
        (Some("PRIVATE-TEXT"), Some("CHECKIN-TEXT"))
    );
    let leader = seen("leader").await;
    assert_eq!(leader["shared_summary"], "SUMMARY-TEXT");
    assert!(leader.get("check_in").is_none() && leader.get("private_notes").is_none(), "{leader}");
    for view in [seen("sponsor").await, app.get(&format!("{}/sessions/{id}", p.base)).await.expect_status(200).json()] {
        assert_eq!((view["status"].as_str(), view["duration_minutes"].as_u64()), (Some("completed"), Some(80)));
        let text = view.to_string();
        for secret in ["CHECKIN", "CHALLENGE", "SUMMARY-TEXT", "PRIVATE", "Delegation review"] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
    }
    let list = p.call(&app, "leader", Method::GET, "/sessions", None).await.text();
    assert!(!list.contains("PRIVATE-TEXT") && !list.contains("CHECKIN-TEXT"));
    let db = app.db.open();
    let events =
        keel_persistence::repo::events::for_engagement(&mut db.conn().unwrap(), p.engagement.parse().unwrap()).unwrap();
    assert!(events.iter().any(|(t, _)| t == "session.completed"));
    assert!(events.iter().all(|(_, payload)| !payload.contains("SUMMARY-TEXT") && !payload.contains("PRIVATE-TEXT")));

    // A deactivated leader is mailed nothing: the coach alone gets the next invitation.
    let leader_id = app.get(&p.base).await.expect_status(200).json()["leader_id"].as_str().unwrap().to_owned();
    app.delete(&format!("/v1/users/{leader_id}"), None).await.expect_status(204);
    let body = json!({ "scheduled_at": "2026-04-21T08:00:00Z", "duration_minutes": 60, "format": "video" });
    p.call(&app, "coach", Method::POST, "/sessions", Some(body)).await.expect_status(201);
    smtp.raw_wait_for(&["To: coach@provider.test", "20260421T080000Z"], Duration::from_secs(10))
        .await
        .expect("the coach's invitation");
    let to_leader = smtp.raw_wait_for(&["To: leader@acme.test", "20260421T080000Z"], Duration::from_millis(300)).await;
    assert!(to_leader.is_none(), "a deactivated leader was mailed");
}

async fn ledger_and_budget(app: TestApp) {
    let p = to_coaching(&app).await;
    let schedule = |at: &'static str, minutes: u32| {
        let app = &app;
        let p = &p;
        async move {
            let body = json!({ "scheduled_at": at, "duration_minutes": minutes, "format": "in_person" });
            p.call(app, "coach", Method::POST, "/sessions", Some(body)).await.expect_status(201).json()["id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let complete = |id: String, minutes: u32| {
        let app = &app;
        let p = &p;
        async move {
            p.call(
                app,
                "coach",
                Method::POST,
                &format!("/sessions/{id}/complete"),
                Some(json!({ "actual_duration_minutes": minutes })),
            )
            .await
        }
    };
    // February is a full month of the program: 3 hours.
    let a = schedule("2026-02-03T10:00:00Z", 120).await;
    let b = schedule("2026-02-17T10:00:00Z", 90).await;
    complete(a, 120).await.expect_status(200);
    let problem = complete(b.clone(), 90).await.expect_problem(409);
    assert_eq!(problem["code"], "over_budget");
    assert!(problem["detail"].as_str().unwrap().contains("210 of the 180 minutes available in 2026-02"), "{problem}");
    complete(b, 60).await.expect_status(200);

    let ledger = p.call(&app, "sponsor", Method::GET, "/hours", None).await.expect_status(200).json();
    let months: Vec<(String, f64, f64)> = ledger["months"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["month"].as_str().unwrap().to_owned(),
                m["budget_hours"].as_f64().unwrap(),
                m["used_hours"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(months.first().map(|m| m.0.as_str()), Some("2026-01"), "from the start month");
    assert_eq!(months.last().map(|m| m.0.as_str()), Some("2026-07"), "to the planned end month");
    let february = months.iter().find(|m| m.0 == "2026-02").unwrap();
    assert_eq!((february.1, february.2), (3.0, 3.0));
    let january = months.iter().find(|m| m.0 == "2026-01").unwrap();
    assert!(january.1 < 3.0 && january.1 > 1.0, "January is prorated from the 15th: {january:?}");
    assert_eq!(ledger["total_used_hours"], 3.0);

    // Two sessions completed at once that together exceed March: exactly one succeeds.
    let c = schedule("2026-03-03T10:00:00Z", 120).await;
    let d = schedule("2026-03-05T10:00:00Z", 120).await;
    let (first, second) = futures_util::future::join(complete(c, 120), complete(d, 120)).await;
    let mut statuses = [first.status.as_u16(), second.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 409]);
    let ledger = p.call(&app, "coach", Method::GET, "/hours", None).await.json();
    let march = ledger["months"].as_array().unwrap().iter().find(|m| m["month"] == "2026-03").unwrap().clone();
    assert_eq!(march["used_hours"], 2.0);
}

async fn requests_cancellations_and_rules(app: TestApp) {
    let p = to_coaching(&app).await;
    let body =
        json!({ "scheduled_at": "2026-04-07T08:00:00Z", "duration_minutes": 15, "format": "text", "kind": "micro" });
    let requested = p.call(&app, "leader", Method::POST, "/sessions", Some(body)).await.expect_status(201).json();
    assert_eq!((requested["status"].as_str(), requested["kind"].as_str()), (Some("requested"), Some("micro")));
    let path = format!("/sessions/{}", requested["id"].as_str().unwrap());
    p.call(&app, "coach", Method::POST, &format!("{path}/complete"), Some(json!({ "actual_duration_minutes": 15 })))
        .await
        .expect_problem(409);
    p.call(&app, "coach", Method::PATCH, &path, Some(json!({ "status": "scheduled" }))).await.expect_status(200);
    p.call(&app, "sponsor", Method::PATCH, &path, Some(json!({ "status": "cancelled", "reason": "x" })))
        .await
        .expect_problem(403);
    let problem =
        p.call(&app, "coach", Method::PATCH, &path, Some(json!({ "status": "cancelled" }))).await.expect_problem(422);
    assert_eq!(problem["errors"][0]["field"], "reason");
    let cancelled = p
        .call(&app, "coach", Method::PATCH, &path, Some(json!({ "status": "cancelled", "reason": "travel" })))
        .await
        .expect_status(200)
        .json();
    assert_eq!(
        (cancelled["status"].as_str(), cancelled["status_reason"].as_str()),
        (Some("cancelled"), Some("travel"))
    );
    p.call(&app, "coach", Method::PATCH, &path, Some(json!({ "status": "scheduled" }))).await.expect_problem(409);
    let micro =
        json!({ "scheduled_at": "2026-04-08T08:00:00Z", "duration_minutes": 45, "format": "text", "kind": "micro" });
    let problem: Value = p.call(&app, "coach", Method::POST, "/sessions", Some(micro)).await.expect_problem(422);
    assert_eq!(problem["errors"][0]["field"], "duration_minutes");
    // Scheduling only happens in coaching.
    p.call(&app, "coach", Method::POST, "/transitions", Some(json!({ "to": "mid_review" }))).await.expect_status(200);
    let later = json!({ "scheduled_at": "2026-04-20T08:00:00Z", "duration_minutes": 60, "format": "video" });
    assert_eq!(
        p.call(&app, "coach", Method::POST, "/sessions", Some(later)).await.expect_problem(409)["code"],
        "not_in_coaching"
    );
}

async fn extensions(backend: Backend) {
    let smtp = SmtpSink::start();
    let url = smtp.url();
    let Some(app) = TestApp::spawn_with(backend, move |c| {
        c.smtp_url = url;
        c.outbox_poll_ms = 50;
    })
    .await
    else {
        return;
    };
    let p = to_coaching(&app).await;
    let body = json!({ "scheduled_at": "2026-05-05T10:00:00Z", "duration_minutes": 240, "format": "in_person" });
    let long = p.call(&app, "coach", Method::POST, "/sessions", Some(body)).await.expect_status(201).json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let complete = || {
        let (app, p, long) = (&app, &p, long.clone());
        async move {
            p.call(
                app,
                "coach",
                Method::POST,
                &format!("/sessions/{long}/complete"),
                Some(json!({ "actual_duration_minutes": 240 })),
            )
            .await
        }
    };
    assert_eq!(complete().await.expect_problem(409)["code"], "over_budget", "4 hours do not fit in May's 3");

    let request = json!({ "hours": 1.0, "month": "2026-05", "new_planned_end_date": "2026-09-30", "reason": "An offsite workshop" });
    p.call(&app, "leader", Method::POST, "/extensions", Some(request.clone())).await.expect_problem(403);
    let extension = p.call(&app, "coach", Method::POST, "/extensions", Some(request)).await.expect_status(201).json();
    assert_eq!((extension["status"].as_str(), extension["hours"].as_f64()), (Some("requested"), Some(1.0)));
    for to in ["To: sponsor@acme.test", "To: cfo@acme.test"] {
        let mail = smtp.raw_wait_for(&[to, "Extension request"], Duration::from_secs(10)).await;
        assert!(mail.is_some(), "the extension request mail {to}");
    }
    let decision = format!("/extensions/{}/decision", extension["id"].as_str().unwrap());
    p.call(&app, "leader", Method::POST, &decision, Some(json!({ "decision": "approve" }))).await.expect_problem(403);
    p.call(&app, "coach", Method::POST, &decision, Some(json!({ "decision": "approve" }))).await.expect_problem(403);
    let approved = p
        .call(&app, "sponsor", Method::POST, &decision, Some(json!({ "decision": "approve", "comment": "Worth it" })))
        .await
        .expect_status(200)
        .json();
    assert_eq!(approved["status"], "approved");
    assert_eq!(
        p.call(&app, "sponsor2", Method::POST, &decision, Some(json!({ "decision": "decline" })))
            .await
            .expect_problem(409)["code"],
        "extension_decided"
    );

    complete().await.expect_status(200);
    let ledger = p.call(&app, "leader", Method::GET, "/hours", None).await.expect_status(200).json();
    let may = ledger["months"].as_array().unwrap().iter().find(|m| m["month"] == "2026-05").unwrap().clone();
    assert_eq!(
        (may["budget_hours"].as_f64(), may["extension_hours"].as_f64(), may["used_hours"].as_f64()),
        (Some(3.0), Some(1.0), Some(4.0))
    );
    assert_eq!(ledger["months"].as_array().unwrap().last().unwrap()["month"], "2026-09", "the planned end moved");
    let engagement = p.call(&app, "coach", Method::GET, "", None).await.json();
    assert_eq!(engagement["planned_end_date"], "2026-09-30");
    let seen = app.get(&format!("{}/extensions", p.base)).await.expect_status(200).json();
    assert_eq!(seen["items"].as_array().unwrap().len(), 1, "admins (and hr_partners) see extensions");
}

async fn action_items(app: TestApp) {
    let p = to_coaching(&app).await;
    let session = json!({ "scheduled_at": "2026-02-03T10:00:00Z", "duration_minutes": 60, "format": "video" });
    let session = p.call(&app, "coach", Method::POST, "/sessions", Some(session)).await.expect_status(201).json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let create = |body: Value| {
        let (app, p) = (&app, &p);
        async move { p.call(app, "coach", Method::POST, "/action-items", Some(body)).await.expect_status(201).json() }
    };
    let past =
        create(json!({ "title": "Delegate the budget review", "due_date": "2020-01-31", "session_id": session })).await;
    let future = create(json!({ "title": "Read chapter 3", "due_date": "2099-12-31" })).await;
    assert_eq!((past["overdue"].as_bool(), future["overdue"].as_bool()), (Some(true), Some(false)));
    assert_eq!(past["session_id"], session.as_str());
    let bad = json!({ "title": "x", "session_id": uuid::Uuid::now_v7() });
    p.call(&app, "coach", Method::POST, "/action-items", Some(bad)).await.expect_problem(422);

    // The leader marks it done with a note; the leader cannot rewrite it or drop it.
    let path = format!("/action-items/{}", past["id"].as_str().unwrap());
    let done = p
        .call(
            &app,
            "leader",
            Method::PATCH,
            &path,
            Some(json!({ "status": "done", "leader_note": "Handed over on Friday" })),
        )
        .await
        .expect_status(200)
        .json();
    assert_eq!((done["status"].as_str(), done["overdue"].as_bool()), (Some("done"), Some(false)));
    p.call(&app, "leader", Method::PATCH, &path, Some(json!({ "title": "Mine now" }))).await.expect_problem(403);
    p.call(&app, "leader", Method::PATCH, &path, Some(json!({ "status": "dropped" }))).await.expect_problem(403);
    p.call(&app, "coach", Method::PATCH, &path, Some(json!({ "due_date": null }))).await.expect_status(200);

    // Filters; and sponsors and admins do not see homework at all.
    let open = p.call(&app, "leader", Method::GET, "/action-items?status=open", None).await.expect_status(200).json();
    assert_eq!(open["items"].as_array().unwrap().len(), 1);
    let due = p.call(&app, "coach", Method::GET, "/action-items?due_before=2030-01-01", None).await.json();
    assert!(due["items"].as_array().unwrap().is_empty(), "the past item lost its due date");
    p.call(&app, "sponsor", Method::GET, "/action-items", None).await.expect_problem(404);
    app.get(&format!("{}/action-items", p.base)).await.expect_problem(404);
}
