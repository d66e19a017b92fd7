//! Engagements: creation rules, the state machine over HTTP, the timeline, events and audit.

use actix_web::http::Method;
use keel_tests::{TestApp, both_backends};
use serde_json::{Value, json};

struct Cast {
    org: String,
    leader: String,
    coach: String,
    sponsor: String,
    hr: String,
    tokens: std::collections::HashMap<&'static str, String>,
}

async fn cast(app: &TestApp) -> Cast {
    let org = app.create_org("Acme").await["id"].as_str().unwrap().to_owned();
    let mut ids = std::collections::HashMap::new();
    let mut tokens = std::collections::HashMap::new();
    for (who, email, organization, roles) in [
        ("leader", "leader@acme.test", Some(org.clone()), json!([])),
        ("sponsor", "sponsor@acme.test", Some(org.clone()), json!([])),
        ("hr", "hr@acme.test", Some(org.clone()), json!(["hr_partner"])),
        ("coach", "coach@provider.test", None, json!(["coach"])),
    ] {
        let user = app
            .create_user(json!({ "email": email, "name": who, "organization_id": organization, "roles": roles }))
            .await;
        ids.insert(who, user["id"].as_str().unwrap().to_owned());
        tokens.insert(who, app.token_for(email));
    }
    Cast {
        org,
        leader: ids["leader"].clone(),
        coach: ids["coach"].clone(),
        sponsor: ids["sponsor"].clone(),
        hr: ids["hr"].clone(),
        tokens,
    }
}

fn body(c: &Cast) -> Value {
    json!({
        "organization_id": c.org, "title": "Leading through the merger", "leader_id": c.leader,
        "coach_id": c.coach, "sponsor_ids": [c.sponsor], "hr_partner_id": c.hr, "start_date": "2026-01-15"
    })
}

async fn transition(app: &TestApp, token: &str, id: &str, to: &str, reason: Option<&str>) -> keel_tests::Response {
    let body = json!({ "to": to, "reason": reason });
    app.call_as(Some(token), Method::POST, &format!("/v1/engagements/{id}/transitions"), &[], Some(&body)).await
}

fn codes(problem: &Value) -> Vec<String> {
    problem["errors"].as_array().unwrap().iter().map(|e| e["code"].as_str().unwrap().to_owned()).collect()
}

both_backends! {
    async fn steps_one_and_two_walked_by_the_coach(app) {
        let c = cast(&app).await;
        let e = app.post("/v1/engagements", &body(&c)).await.expect_status(201).json();
        let id = e["id"].as_str().unwrap();
        let base = format!("/v1/engagements/{id}");
        let (coach, leader, sponsor, hr) = (&c.tokens["coach"], &c.tokens["leader"], &c.tokens["sponsor"], &c.tokens["hr"]);
        let as_ = |token: &str, method: Method, path: String, body: Option<Value>| {
            let token = token.to_owned();
            let app = &app;
            async move { app.call_as(Some(&token), method, &path, &[], body.as_ref()).await }
        };

        let outcome = as_(coach, Method::POST, format!("{base}/outcomes"), Some(json!({ "title": "Delegates more" })))
            .await
            .expect_status(201)
            .json();
        let problem = transition(&app, coach, id, "leader_interview", None).await.expect_problem(409);
        assert_eq!(
            codes(&problem),
            ["outcome_missing_baseline", "outcome_missing_target", "outcome_missing_measure", "context_meeting_missing"]
        );
        let outcome_path = format!("{base}/outcomes/{}", outcome["id"].as_str().unwrap());
        let complete = json!({ "baseline": "2 decisions a week", "target": "8 decisions a week", "measure": "delegation log" });
        as_(coach, Method::PATCH, outcome_path.clone(), Some(complete)).await.expect_status(200);
        let context = json!({
            "met_on": "2026-01-12", "attendees": ["Coach", "Leader", "Sponsor"],
            "notes": "Sponsor wants faster decisions", "benchmarks": ["Decision latency"]
        });
        as_(coach, Method::PUT, format!("{base}/context"), Some(context)).await.expect_status(200);
        transition(&app, coach, id, "leader_interview", None).await.expect_status(200);

        assert_eq!(codes(&transition(&app, coach, id, "stakeholder_interviews", None).await.expect_problem(409)), ["leader_interview_missing"]);
        let interview = json!({ "interviewed_on": "2026-01-20", "commitments": "Ship the merger plan", "promise_pattern": "Overcommits" });
        as_(coach, Method::PUT, format!("{base}/leader-interview"), Some(interview)).await.expect_status(200);
        transition(&app, coach, id, "stakeholder_interviews", None).await.expect_status(200);
        let problem = transition(&app, coach, id, "assessment_design", None).await.expect_problem(409);
        assert_eq!(codes(&problem), ["stakeholder_contributions_insufficient"]);
        assert!(problem["errors"][0]["message"].as_str().unwrap().contains("0 of the 3"));

        // Confidentiality: the leader interview is the coach's alone; the context notes are not
        // for hr_partners or admins.
        for token in [leader, sponsor, hr, &app.admin_token] {
            as_(token, Method::GET, format!("{base}/leader-interview"), None).await.expect_problem(404);
        }
        let coach_view = as_(coach, Method::GET, format!("{base}/leader-interview"), None).await.expect_status(200).json();
        assert_eq!(coach_view["promise_pattern"], "Overcommits");
        for token in [hr, &app.admin_token] {
            as_(token, Method::GET, format!("{base}/context"), None).await.expect_problem(404);
        }
        let leader_view = as_(leader, Method::GET, format!("{base}/context"), None).await.expect_status(200).json();
        assert_eq!(leader_view["benchmarks"], json!(["Decision latency"]));

        // Measurements: the coach records, everyone who sees outcomes sees them in time order.
        let path = format!("{outcome_path}/measurements");
        as_(coach, Method::POST, path.clone(), Some(json!({ "value": "4", "source": "session", "measured_at": "2026-02-01T10:00:00Z" })))
            .await
            .expect_status(201);
        as_(coach, Method::POST, path.clone(), Some(json!({ "value": "3", "source": "stakeholder", "measured_at": "2026-01-25T10:00:00Z" })))
            .await
            .expect_status(201);
        as_(leader, Method::POST, path, Some(json!({ "value": "9", "source": "session" }))).await.expect_problem(403);
        let outcomes = as_(hr, Method::GET, format!("{base}/outcomes"), None).await.expect_status(200).json();
        let values: Vec<&str> = outcomes["items"][0]["measurements"].as_array().unwrap().iter().map(|m| m["value"].as_str().unwrap()).collect();
        assert_eq!(values, ["3", "4"]);
        assert_eq!(outcomes["items"][0]["measurements"][0]["measured_at"], "2026-01-25T10:00:00Z");

        // Nothing the leader should not see appears anywhere the leader can read.
        for path in [base.clone(), format!("{base}/timeline"), format!("{base}/outcomes"), format!("{base}/context"), "/v1/engagements".to_owned()] {
            let text = as_(leader, Method::GET, path.clone(), None).await.text();
            assert!(!text.contains("Overcommits") && !text.contains("Ship the merger plan"), "{path}: {text}");
        }
    }

    async fn create_with_defaults_events_and_audit(app) {
        let c = cast(&app).await;
        let response = app.post("/v1/engagements", &body(&c)).await.expect_status(201);
        assert_eq!(response.header("etag").as_deref(), Some("\"1\""));
        let e = response.json();
        assert_eq!(e["phase"], "context");
        assert_eq!(e["planned_end_date"], "2026-07-15", "six months by default");
        assert_eq!(e["monthly_hours_budget"], 3.0);
        assert_eq!(e["sponsor_ids"], json!([c.sponsor]));
        assert!(e["held_from"].is_null() && e["renewed_from_id"].is_null());
        let id: keel_domain::EngagementId = e["id"].as_str().unwrap().parse().unwrap();

        let db = app.db.open();
        let mut conn = db.conn().unwrap();
        let events = keel_persistence::repo::events::for_engagement(&mut conn, id).unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].0, "engagement.created");
        let audit = keel_persistence::repo::audit::for_resource(&mut conn, "engagement", &id.to_string()).unwrap();
        assert_eq!(audit[0].action, "engagement.created");
    }

    async fn creation_rules_are_validated(app) {
        let c = cast(&app).await;
        let mut bad = body(&c);
        bad["coach_id"] = json!(c.leader);
        bad["sponsor_ids"] = json!([c.leader, c.sponsor, c.sponsor]);
        bad["hr_partner_id"] = json!(c.sponsor);
        bad["planned_end_date"] = json!("2026-03-01");
        let problem = app.post("/v1/engagements", &bad).await.expect_problem(422);
        let fields: Vec<(String, String)> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["field"].as_str().unwrap().to_owned(), e["code"].as_str().unwrap().to_owned()))
            .collect();
        let expected = [
            ("coach_id", "missing_role"),
            ("coach_id", "same_as_leader"),
            ("sponsor_ids[0]", "same_as_leader"),
            ("sponsor_ids[2]", "duplicate"),
            ("hr_partner_id", "missing_role"),
            ("planned_end_date", "out_of_range"),
        ];
        assert_eq!(fields, expected.map(|(f, c)| (f.to_owned(), c.to_owned())));
        let mut unknown = body(&c);
        unknown["organization_id"] = json!(uuid::Uuid::now_v7());
        assert_eq!(app.post("/v1/engagements", &unknown).await.expect_problem(422)["errors"][0]["field"], "organization_id");
        let list = app.get("/v1/engagements").await.json();
        assert!(list["items"].as_array().unwrap().is_empty(), "nothing written");
    }

    async fn guards_hold_resume_cancel_and_the_timeline(app) {
        let c = cast(&app).await;
        let e = app.post("/v1/engagements", &body(&c)).await.expect_status(201).json();
        let id = e["id"].as_str().unwrap();
        let (coach, hr, leader, sponsor) = (&c.tokens["coach"], &c.tokens["hr"], &c.tokens["leader"], &c.tokens["sponsor"]);

        let problem = transition(&app, coach, id, "leader_interview", None).await.expect_problem(409);
        assert_eq!(problem["code"], "transition_refused");
        assert_eq!(codes(&problem), ["outcome_missing", "context_meeting_missing"]);
        assert_eq!(codes(&transition(&app, coach, id, "coaching", None).await.expect_problem(409)), ["transition_not_allowed"]);

        // Only the coach moves the program forward; leader and sponsor may not move it at all.
        transition(&app, hr, id, "leader_interview", None).await.expect_problem(403);
        transition(&app, leader, id, "on_hold", None).await.expect_problem(403);
        transition(&app, sponsor, id, "cancelled", Some("no")).await.expect_problem(403);

        let held = transition(&app, hr, id, "on_hold", Some("parental leave")).await.expect_status(200).json();
        assert_eq!((held["phase"].as_str(), held["held_from"].as_str()), (Some("on_hold"), Some("context")));
        assert_eq!(codes(&transition(&app, coach, id, "coaching", None).await.expect_problem(409)), ["transition_not_allowed"]);
        let resumed = transition(&app, coach, id, "context", None).await.expect_status(200).json();
        assert_eq!(resumed["phase"], "context");
        assert!(resumed["held_from"].is_null());

        assert_eq!(codes(&transition(&app, hr, id, "cancelled", None).await.expect_problem(409)), ["reason_required"]);
        transition(&app, hr, id, "cancelled", Some("the leader left the company")).await.expect_status(200);
        assert_eq!(codes(&transition(&app, coach, id, "context", None).await.expect_problem(409)), ["engagement_ended"]);

        let timeline = app
            .call_as(Some(leader), Method::GET, &format!("/v1/engagements/{id}/timeline"), &[], None)
            .await
            .expect_status(200)
            .json();
        let steps: Vec<(Value, Value, Value)> = timeline["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| (t["from"].clone(), t["to"].clone(), t["reason"].clone()))
            .collect();
        assert_eq!(
            steps,
            vec![
                (Value::Null, json!("context"), json!("created")),
                (json!("context"), json!("on_hold"), json!("parental leave")),
                (json!("on_hold"), json!("context"), Value::Null),
                (json!("context"), json!("cancelled"), json!("the leader left the company")),
            ]
        );
        assert_eq!(timeline["items"][1]["actor_id"], c.hr.as_str());
        assert_eq!(timeline["items"][1]["actor_kind"], "user");

        let db = app.db.open();
        let events = keel_persistence::repo::events::for_engagement(&mut db.conn().unwrap(), id.parse().unwrap()).unwrap();
        let types: Vec<&str> = events.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(types, ["engagement.created", "engagement.phase_changed", "engagement.phase_changed", "engagement.phase_changed"]);
        assert!(!events[3].1.contains("left the company"), "event payloads carry no free text: {}", events[3].1);
    }

    async fn details_change_under_the_creation_rules(app) {
        let c = cast(&app).await;
        let e = app.post("/v1/engagements", &body(&c)).await.expect_status(201).json();
        let path = format!("/v1/engagements/{}", e["id"].as_str().unwrap());
        let second_sponsor = app.create_user(json!({ "email": "cfo@acme.test", "name": "CFO", "organization_id": c.org })).await;
        let updated = app
            .call_as(
                Some(&c.tokens["hr"]),
                Method::PATCH,
                &path,
                &[("if-match", "\"1\"")],
                Some(&json!({ "title": "Year two", "sponsor_ids": [c.sponsor, second_sponsor["id"]], "hr_partner_id": null, "monthly_hours_budget": 4.5 })),
            )
            .await
            .expect_status(200)
            .json();
        assert_eq!(updated["title"], "Year two");
        assert_eq!(updated["sponsor_ids"].as_array().unwrap().len(), 2);
        assert!(updated["hr_partner_id"].is_null());
        assert_eq!(updated["monthly_hours_budget"], 4.5);
        // The new sponsor now sees it.
        let cfo = app.token_for("cfo@acme.test");
        app.call_as(Some(&cfo), Method::GET, &path, &[], None).await.expect_status(200);
        // Same rules as on creation; the leader and sponsors cannot change it.
        let problem = app.patch(&path, None, &json!({ "sponsor_ids": [c.leader] })).await.expect_problem(422);
        assert_eq!(problem["errors"][0]["code"], "same_as_leader");
        app.patch(&path, None, &json!({ "planned_end_date": "2028-01-01" })).await.expect_problem(422);
        app.call_as(Some(&c.tokens["leader"]), Method::PATCH, &path, &[], Some(&json!({ "title": "Mine" }))).await.expect_problem(403);
        app.patch(&path, Some("\"1\""), &json!({ "title": "Stale" })).await.expect_problem(412);
    }

    async fn simultaneous_transitions_with_the_same_if_match(app) {
        let c = cast(&app).await;
        let e = app.post("/v1/engagements", &body(&c)).await.expect_status(201).json();
        let path = format!("/v1/engagements/{}/transitions", e["id"].as_str().unwrap());
        let hold = json!({ "to": "on_hold" });
        let cancel = json!({ "to": "cancelled", "reason": "budget" });
        let (coach, hr) = (c.tokens["coach"].clone(), c.tokens["hr"].clone());
        let (a, b) = futures_util::future::join(
            app.call_as(Some(&coach), Method::POST, &path, &[("if-match", "\"1\"")], Some(&hold)),
            app.call_as(Some(&hr), Method::POST, &path, &[("if-match", "\"1\"")], Some(&cancel)),
        )
        .await;
        let mut statuses = [a.status.as_u16(), b.status.as_u16()];
        statuses.sort();
        assert_eq!(statuses, [200, 412]);
        let now = app.get(&format!("/v1/engagements/{}", e["id"].as_str().unwrap())).await.json();
        assert_eq!(now["version"], 2, "exactly one transition happened");
    }

    async fn lists_filter_and_show_participants_their_own(app) {
        let c = cast(&app).await;
        let first = app.post("/v1/engagements", &body(&c)).await.expect_status(201).json();
        let other_leader = app
            .create_user(json!({ "email": "other@acme.test", "name": "Other", "organization_id": c.org }))
            .await;
        let mut second_body = body(&c);
        second_body["leader_id"] = other_leader["id"].clone();
        let second = app.post("/v1/engagements", &second_body).await.expect_status(201).json();
        transition(&app, &c.tokens["hr"], second["id"].as_str().unwrap(), "on_hold", None).await.expect_status(200);

        let ids = |page: Value| -> Vec<Value> { page["items"].as_array().unwrap().iter().map(|e| e["id"].clone()).collect() };
        let as_leader = app.call_as(Some(&c.tokens["leader"]), Method::GET, "/v1/engagements", &[], None).await.json();
        assert_eq!(ids(as_leader), vec![first["id"].clone()]);
        let as_sponsor = app.call_as(Some(&c.tokens["sponsor"]), Method::GET, "/v1/engagements", &[], None).await.json();
        assert_eq!(ids(as_sponsor).len(), 2);
        assert_eq!(ids(app.get("/v1/engagements?phase=on_hold").await.json()), vec![second["id"].clone()]);
        assert_eq!(ids(app.get(&format!("/v1/engagements?leader_id={}", c.leader)).await.json()), vec![first["id"].clone()]);
        assert_eq!(ids(app.get(&format!("/v1/engagements?sponsor_id={}", c.sponsor)).await.json()).len(), 2);
        assert_eq!(ids(app.get(&format!("/v1/engagements?coach_id={}", c.coach)).await.json()).len(), 2);
        assert_eq!(ids(app.get("/v1/engagements?status=ended").await.json()).len(), 0);
        assert_eq!(ids(app.get("/v1/engagements?status=active").await.json()).len(), 2);
        let page = app.get("/v1/engagements?limit=1").await.json();
        let cursor = page["next_cursor"].as_str().unwrap();
        assert_eq!(ids(app.get(&format!("/v1/engagements?limit=1&cursor={cursor}")).await.json()), vec![second["id"].clone()]);
    }
}
