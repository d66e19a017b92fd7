//! Group and team coaching (issue 15, seed 002) over HTTP: a cohort of ten with attendance and
//! hours counted once, joining and leaving with history kept, bad input refused, and a
//! confidentiality sweep across participants, sponsor, hr_partner and admin.

use std::collections::HashMap;

use actix_web::http::Method;
use keel_tests::{Backend, TestApp, both_backends};
use serde_json::{Value, json};

both_backends! {
    fn a_participant_reads_only_the_sessions_held_while_a_member(backend: Backend);
    fn a_participant_follows_the_group_on_their_page(backend: Backend);
    fn a_cohort_of_ten_meets_with_attendance_and_hours(app: TestApp);
    fn participants_never_see_each_others_items(app: TestApp);
    fn a_team_is_coached_with_its_leader(app: TestApp);
    fn the_coach_runs_the_group_on_its_page(backend: Backend);
    fn group_sessions_are_mailed_as_invitations_and_cancellations(backend: Backend);
}

/// People of Acme (and one of Globex) and their tokens.
struct Cast {
    org: String,
    ids: HashMap<String, String>,
    tokens: HashMap<String, String>,
}

impl Cast {
    async fn new(app: &TestApp, participants: usize) -> Cast {
        let org = app.create_org("Acme").await["id"].as_str().unwrap().to_owned();
        let globex = app.create_org("Globex").await["id"].as_str().unwrap().to_owned();
        let mut people: Vec<(String, Option<String>, Value)> = vec![
            ("hr".into(), Some(org.clone()), json!(["hr_partner"])),
            ("coach".into(), None, json!(["coach"])),
            ("sponsor".into(), Some(org.clone()), json!([])),
            ("outsider".into(), Some(globex.clone()), json!([])),
            ("hr_globex".into(), Some(globex), json!(["hr_partner"])),
        ];
        people.extend((0..participants).map(|i| (format!("p{i}"), Some(org.clone()), json!([]))));
        let mut ids = HashMap::new();
        let mut tokens = HashMap::new();
        for (who, organization, roles) in people {
            let email = format!("{who}@people.test");
            let user = app
                .create_user(
                    json!({ "email": email, "name": who.clone(), "organization_id": organization, "roles": roles }),
                )
                .await;
            ids.insert(who.clone(), user["id"].as_str().unwrap().to_owned());
            tokens.insert(who, app.token_for(&email));
        }
        Cast { org, ids, tokens }
    }

    async fn call(
        &self,
        app: &TestApp,
        who: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> keel_tests::Response {
        if who == "admin" {
            app.call(method, path, &[], body.as_ref()).await
        } else {
            app.call_as(Some(&self.tokens[who]), method, path, &[], body.as_ref()).await
        }
    }

    async fn cohort(&self, app: &TestApp, size: u32) -> String {
        let body = json!({
            "organization_id": self.org, "kind": "cohort", "name": "Emerging leaders", "coach_id": self.ids["coach"],
            "sponsor_id": self.ids["sponsor"], "hr_partner_id": self.ids["hr"], "max_participants": size,
            "monthly_hours_budget": 3.0, "start_date": "2026-01-05"
        });
        let group = self.call(app, "hr", Method::POST, "/v1/groups", Some(body)).await.expect_status(201).json();
        group["id"].as_str().unwrap().to_owned()
    }

    async fn join(&self, app: &TestApp, group: &str, who: &str) -> keel_tests::Response {
        let body = json!({ "user_id": self.ids[who] });
        self.call(app, "hr", Method::POST, &format!("/v1/groups/{group}/members"), Some(body)).await
    }
}

/// A cohort with p0 and p1 (in it since 5 January 2026), a completed session (agenda, shared summary and private notes
/// marked) that p0 attended, and for each of them an outcome and an action item of their own
/// (`OUTCOME-OF-p0`, `ITEM-OF-p1`, …). Returns the group and the session.
async fn planted(app: &TestApp, cast: &Cast) -> (String, String) {
    let group = cast.cohort(app, 10).await;
    let base = format!("/v1/groups/{group}");
    cast.join(app, &group, "p0").await.expect_status(201);
    cast.join(app, &group, "p1").await.expect_status(201);
    keel_tests::fixtures::backdate_memberships(app, &group, "2026-01-05 00:00:00");
    let session = json!({ "scheduled_at": "2026-02-03T09:00:00Z", "duration_minutes": 90, "format": "video", "agenda": "GROUP-AGENDA" });
    let session = cast.call(app, "coach", Method::POST, &format!("{base}/sessions"), Some(session)).await;
    let session = session.expect_status(201).json()["id"].as_str().unwrap().to_owned();
    let complete = json!({
        "actual_duration_minutes": 90, "attended": [cast.ids["p0"]],
        "shared_summary": "GROUP-SUMMARY", "private_notes": "PRIVATE-GROUP-NOTES"
    });
    let path = format!("{base}/sessions/{session}/complete");
    cast.call(app, "coach", Method::POST, &path, Some(complete)).await.expect_status(200);
    for who in ["p0", "p1"] {
        let outcome = json!({ "title": format!("OUTCOME-OF-{who}"), "baseline": "2", "target": "5" });
        let path = format!("{base}/participants/{}/outcomes", cast.ids[who]);
        cast.call(app, "coach", Method::POST, &path, Some(outcome)).await.expect_status(201);
        let item = json!({ "title": format!("ITEM-OF-{who}"), "session_id": session });
        let path = format!("{base}/participants/{}/action-items", cast.ids[who]);
        cast.call(app, "coach", Method::POST, &path, Some(item)).await.expect_status(201);
    }
    (group, session)
}

fn field_codes(problem: &Value) -> Vec<(String, String)> {
    problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap().to_owned(), e["code"].as_str().unwrap().to_owned()))
        .collect()
}

async fn a_cohort_of_ten_meets_with_attendance_and_hours(app: TestApp) {
    let cast = Cast::new(&app, 11).await;
    let group = cast.cohort(&app, 10).await;
    let base = format!("/v1/groups/{group}");
    for i in 0..10 {
        cast.join(&app, &group, &format!("p{i}")).await.expect_status(201);
    }
    keel_tests::fixtures::backdate_memberships(&app, &group, "2026-01-05 00:00:00");
    // Over its size, someone of another organization, someone already in it: refused, nothing written.
    assert_eq!(cast.join(&app, &group, "p10").await.expect_problem(409)["code"], "group_full");
    let problem = cast.join(&app, &group, "outsider").await.expect_problem(422);
    assert_eq!(field_codes(&problem), [("user_id".to_owned(), "wrong_organization".to_owned())]);
    assert_eq!(cast.join(&app, &group, "p0").await.expect_problem(409)["code"], "already_member");
    let too_big = json!({
        "organization_id": cast.org, "kind": "cohort", "name": "Too big", "coach_id": cast.ids["coach"],
        "sponsor_id": cast.ids["sponsor"], "max_participants": 51, "start_date": "2026-01-05"
    });
    let problem = cast.call(&app, "hr", Method::POST, "/v1/groups", Some(too_big)).await.expect_problem(422);
    assert_eq!(field_codes(&problem), [("max_participants".to_owned(), "out_of_range".to_owned())]);
    let group_json = cast.call(&app, "sponsor", Method::GET, &base, None).await.expect_status(200).json();
    assert_eq!(group_json["participant_ids"].as_array().unwrap().len(), 10);

    // Two sessions of 90 minutes in February: the month's 3 hours, counted once for all ten.
    let schedule = |at: &str| json!({ "scheduled_at": at, "duration_minutes": 90, "format": "in_person" });
    let mut sessions = Vec::new();
    for at in ["2026-02-03T09:00:00Z", "2026-02-17T09:00:00Z", "2026-02-24T09:00:00Z"] {
        let created = cast.call(&app, "coach", Method::POST, &format!("{base}/sessions"), Some(schedule(at))).await;
        sessions.push(created.expect_status(201).json()["id"].as_str().unwrap().to_owned());
    }
    let present: Vec<&String> = (0..8).map(|i| &cast.ids[&format!("p{i}")]).collect();
    let complete =
        json!({ "actual_duration_minutes": 90, "attended": present, "shared_summary": "We practised feedback" });
    let path = format!("{base}/sessions/{}/complete", sessions[0]);
    let done = cast.call(&app, "coach", Method::POST, &path, Some(complete.clone())).await.expect_status(200).json();
    let attendance = done["attendance"].as_array().unwrap();
    assert_eq!(attendance.len(), 10, "everyone in the group is on the register");
    assert_eq!(attendance.iter().filter(|a| a["attended"] == true).count(), 8);
    let hours = cast.call(&app, "sponsor", Method::GET, &format!("{base}/hours"), None).await.expect_status(200).json();
    let february = hours["months"].as_array().unwrap().iter().find(|m| m["month"] == "2026-02").unwrap().clone();
    assert_eq!(february["used_hours"], 1.5, "counted once, not once per participant");
    cast.call(
        &app,
        "coach",
        Method::POST,
        &format!("{base}/sessions/{}/complete", sessions[1]),
        Some(complete.clone()),
    )
    .await
    .expect_status(200);
    let path = format!("{base}/sessions/{}/complete", sessions[2]);
    let over = cast.call(&app, "coach", Method::POST, &path, Some(complete)).await;
    assert_eq!(over.expect_problem(409)["code"], "over_budget");
    // Someone not in the group cannot be marked present.
    let stranger = json!({ "actual_duration_minutes": 30, "attended": [cast.ids["p10"]] });
    let problem = cast
        .call(&app, "coach", Method::POST, &format!("{base}/sessions/{}/complete", sessions[2]), Some(stranger))
        .await
        .expect_problem(422);
    assert_eq!(field_codes(&problem), [("attended[0]".to_owned(), "not_a_member".to_owned())]);

    // p3 leaves: history kept, room for p10; p3 still reads what they took part in.
    let p3 = &cast.ids["p3"];
    cast.call(&app, "hr", Method::DELETE, &format!("{base}/members/{p3}"), None).await.expect_status(204);
    assert_eq!(
        cast.call(&app, "hr", Method::DELETE, &format!("{base}/members/{p3}"), None).await.expect_problem(409)["code"],
        "not_a_member"
    );
    cast.join(&app, &group, "p10").await.expect_status(201);
    let members = cast.call(&app, "p0", Method::GET, &format!("{base}/members"), None).await.expect_status(200).json();
    let members = members["items"].as_array().unwrap();
    assert_eq!(members.len(), 11);
    let left = members.iter().find(|m| m["user_id"] == json!(p3)).unwrap();
    assert!(left["left_at"].is_string(), "{left}");
    let seen = cast.call(&app, "p3", Method::GET, &format!("{base}/sessions"), None).await.expect_status(200).json();
    assert_eq!(seen["items"][0]["shared_summary"], "We practised feedback");
    // The new participant joins the register from the next session on.
    let path = format!("{base}/sessions");
    let fourth = cast.call(&app, "coach", Method::POST, &path, Some(schedule("2026-03-03T09:00:00Z"))).await;
    let fourth = fourth.expect_status(201).json()["id"].as_str().unwrap().to_owned();
    let complete = json!({ "actual_duration_minutes": 60, "attended": [cast.ids["p10"]] });
    let path = format!("{base}/sessions/{fourth}/complete");
    let done = cast.call(&app, "coach", Method::POST, &path, Some(complete)).await;
    let register = done.expect_status(200).json()["attendance"].as_array().unwrap().clone();
    assert_eq!(register.len(), 10);
    assert!(!register.iter().any(|a| a["user_id"] == json!(p3)), "p3 left before it");

    // Each change is audited and announced (ids and counts only).
    let database = app.db.open();
    let conn = &mut database.conn().unwrap();
    let events = keel_persistence::repo::events::for_organization(conn, cast.org.parse().unwrap()).unwrap();
    let count = |t: &str| events.iter().filter(|(e, _)| e == t).count();
    assert_eq!((count("group.created"), count("group.member_joined"), count("group.member_left")), (1, 11, 1));
    assert_eq!((count("group.session_scheduled"), count("group.session_completed")), (4, 3));
    let completed = events.iter().find(|(t, _)| t == "group.session_completed").unwrap();
    assert!(completed.1.contains("\"attended\":8") && !completed.1.contains("practised"), "{}", completed.1);
}

async fn participants_never_see_each_others_items(app: TestApp) {
    let cast = Cast::new(&app, 2).await;
    let (group, session) = planted(&app, &cast).await;
    let base = format!("/v1/groups/{group}");
    // A participant does not set their own items.
    let path = format!("{base}/participants/{}/outcomes", cast.ids["p0"]);
    cast.call(&app, "p0", Method::POST, &path, Some(json!({ "title": "x" }))).await.expect_problem(403);

    // Every reader, every group endpoint: what each may see, and nothing more.
    let paths = {
        let mut paths = vec![
            base.clone(),
            format!("{base}/members"),
            format!("{base}/sessions"),
            format!("{base}/sessions/{session}"),
            format!("{base}/hours"),
            "/v1/groups".to_owned(),
        ];
        for who in ["p0", "p1"] {
            paths.push(format!("{base}/participants/{}/outcomes", cast.ids[who]));
            paths.push(format!("{base}/participants/{}/action-items", cast.ids[who]));
        }
        paths
    };
    let readers = ["p0", "p1", "coach", "sponsor", "hr", "admin", "hr_globex", "outsider"];
    let mut seen: HashMap<&str, String> = HashMap::new();
    for who in readers {
        let mut text = String::new();
        for path in &paths {
            let response = cast.call(&app, who, Method::GET, path, None).await;
            let own_items = path.contains("/participants/") && who.starts_with('p') && path.contains(&cast.ids[who]);
            let items = path.contains("/participants/");
            let expected = match who {
                "hr_globex" | "outsider" if path != "/v1/groups" => 404,
                "coach" => 200,
                "p0" | "p1" if items && !own_items => 404,
                "sponsor" | "hr" | "admin" if items => 404,
                _ => 200,
            };
            assert_eq!(response.status.as_u16(), expected, "{who} GET {path}: {}", response.text());
            text.push_str(&response.text());
        }
        seen.insert(who, text);
    }
    let shows = |who: &str, marker: &str| seen[who].contains(marker);
    for who in ["p0", "p1", "coach"] {
        assert!(shows(who, "GROUP-SUMMARY") && shows(who, "GROUP-AGENDA"), "{who} reads the group's summary");
    }
    for who in ["sponsor", "hr", "admin", "hr_globex", "outsider"] {
        assert!(!shows(who, "GROUP-SUMMARY") && !shows(who, "GROUP-AGENDA"), "{who} sees no content");
    }
    for who in readers {
        assert_eq!(shows(who, "PRIVATE-GROUP-NOTES"), who == "coach", "{who} and the private notes");
        assert_eq!(shows(who, "OUTCOME-OF-p0"), who == "coach" || who == "p0", "{who} and p0's outcome");
        assert_eq!(shows(who, "ITEM-OF-p1"), who == "coach" || who == "p1", "{who} and p1's action item");
    }
    // The sponsor and the hr_partner see the schedule and the attendance.
    let sessions = cast.call(&app, "sponsor", Method::GET, &format!("{base}/sessions"), None).await.json();
    let register = sessions["items"][0]["attendance"].as_array().unwrap().clone();
    assert_eq!(register.len(), 2);
    assert!(register.iter().any(|a| a["user_id"] == json!(cast.ids["p0"]) && a["attended"] == true));

    // p0 marks their item done; p1's item is not there for p0.
    let path = format!("{base}/participants/{}/action-items", cast.ids["p0"]);
    let items = cast.call(&app, "p0", Method::GET, &path, None).await;
    let item = items.json()["items"][0]["id"].as_str().unwrap().to_owned();
    let path = format!("{base}/participants/{}/action-items/{item}", cast.ids["p0"]);
    let done = cast.call(&app, "p0", Method::PATCH, &path, Some(json!({ "status": "done" }))).await.expect_status(200);
    assert_eq!(done.json()["status"], "done");
    cast.call(&app, "p1", Method::PATCH, &path, Some(json!({ "status": "done" }))).await.expect_problem(404);
}

async fn a_team_is_coached_with_its_leader(app: TestApp) {
    let cast = Cast::new(&app, 3).await;
    let team = json!({
        "organization_id": cast.org, "kind": "team", "name": "Finance leadership team", "coach_id": cast.ids["coach"],
        "sponsor_id": cast.ids["sponsor"], "team_leader_id": cast.ids["p0"], "start_date": "2026-01-05"
    });
    let created = cast.call(&app, "hr", Method::POST, "/v1/groups", Some(team.clone())).await.expect_status(201).json();
    assert_eq!(created["participant_ids"], json!([cast.ids["p0"]]), "the team's leader is in it");
    assert_eq!(created["max_participants"], 12);
    let mut cohort = team.clone();
    cohort["kind"] = json!("cohort");
    let problem = cast.call(&app, "hr", Method::POST, "/v1/groups", Some(cohort)).await.expect_problem(422);
    assert_eq!(field_codes(&problem), [("team_leader_id".to_owned(), "not_applicable".to_owned())]);
    let mut leaderless = team;
    leaderless.as_object_mut().unwrap().remove("team_leader_id");
    let problem = cast.call(&app, "hr", Method::POST, "/v1/groups", Some(leaderless)).await.expect_problem(422);
    assert_eq!(field_codes(&problem), [("team_leader_id".to_owned(), "required".to_owned())]);
    // The groups each person sees.
    let listed = cast.call(&app, "p0", Method::GET, "/v1/groups", None).await.json();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    let listed = cast.call(&app, "p1", Method::GET, "/v1/groups", None).await.json();
    assert!(listed["items"].as_array().unwrap().is_empty());
    let listed = cast.call(&app, "hr_globex", Method::GET, "/v1/groups", None).await.json();
    assert!(listed["items"].as_array().unwrap().is_empty());
}

/// Issue 22, finding 1: a participant reads the content of the sessions held while they were in
/// the group (joined_at ≤ session time ≤ left_at) and nothing of the others: p1 leaves and sees
/// nothing of a later session; p2 joins late and sees nothing of an earlier one; on the API and
/// on the group's page.
async fn a_participant_reads_only_the_sessions_held_while_a_member(backend: Backend) {
    use crate::pages::{app_with_mail, assert_page, signed_in};
    let Some((app, smtp)) = app_with_mail(backend).await else { return };
    let cast = Cast::new(&app, 3).await;
    let (group, earlier) = planted(&app, &cast).await;
    let base = format!("/v1/groups/{group}");
    // The group runs on past today, so that a session next week counts against its budget.
    let patch = json!({ "planned_end_date": "2027-06-30" });
    cast.call(&app, "hr", Method::PATCH, &base, Some(patch)).await.expect_status(200);
    let p1 = &cast.ids["p1"];
    cast.call(&app, "hr", Method::DELETE, &format!("{base}/members/{p1}"), None).await.expect_status(204);
    cast.join(&app, &group, "p2").await.expect_status(201);
    // A session held after p1 left and p2 joined.
    let next_week = (chrono::Utc::now() + chrono::TimeDelta::days(7)).format("%Y-%m-%dT09:00:00Z").to_string();
    let later =
        json!({ "scheduled_at": next_week, "duration_minutes": 60, "format": "video", "agenda": "LATER-AGENDA" });
    let later = cast.call(&app, "coach", Method::POST, &format!("{base}/sessions"), Some(later)).await;
    let later = later.expect_status(201).json()["id"].as_str().unwrap().to_owned();
    let complete =
        json!({ "actual_duration_minutes": 60, "attended": [cast.ids["p0"]], "shared_summary": "LATER-SUMMARY" });
    let path = format!("{base}/sessions/{later}/complete");
    cast.call(&app, "coach", Method::POST, &path, Some(complete)).await.expect_status(200);

    let listed = |who: &'static str| {
        let (app, cast, base) = (&app, &cast, base.clone());
        async move {
            let list = cast.call(app, who, Method::GET, &format!("{base}/sessions"), None).await;
            let list = list.expect_status(200).json();
            list["items"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
        }
    };
    // p0 was there for both; p1 only for the earlier one; p2 only for the later one.
    assert_eq!(listed("p0").await, [earlier.clone(), later.clone()]);
    assert_eq!(listed("p1").await, [earlier.as_str()]);
    assert_eq!(listed("p2").await, [later.as_str()]);
    // The sponsor and the hr_partner see the whole schedule (without content), as before.
    assert_eq!(listed("sponsor").await, [earlier.clone(), later.clone()]);
    for (who, session, status) in
        [("p1", &later, 404), ("p1", &earlier, 200), ("p2", &earlier, 404), ("p2", &later, 200), ("p0", &later, 200)]
    {
        let response = cast.call(&app, who, Method::GET, &format!("{base}/sessions/{session}"), None).await;
        assert_eq!(response.status.as_u16(), status, "{who} GET {session}: {}", response.text());
        let text = response.text();
        if status == 404 {
            for hidden in ["AGENDA", "SUMMARY"] {
                assert!(!text.contains(hidden), "{who}: {text}");
            }
        }
    }
    // The hours each reads count only the sessions they may see: the later one's hour is not
    // in p1's ledger, the earlier one's not in p2's.
    let used = |who: &'static str| {
        let (app, cast, base) = (&app, &cast, base.clone());
        async move {
            let ledger = cast.call(app, who, Method::GET, &format!("{base}/hours"), None).await;
            ledger.expect_status(200).json()["total_used_hours"].as_f64().unwrap()
        }
    };
    let (all, p0, p1, p2) = (used("sponsor").await, used("p0").await, used("p1").await, used("p2").await);
    assert_eq!((p0, p2), (all, 1.0), "p0 was there for both; p2 for the later hour");
    assert_eq!(p1, all - 1.0, "p1's ledger holds nothing of the session held after they left");
    // The pages say the same.
    let page = format!("/groups/{group}");
    let mut former = signed_in(&app, &smtp, "p1@people.test").await;
    let html = assert_page(&former.get(&page).await, 200);
    assert!(html.contains("You took part in this group.") && html.contains("GROUP-SUMMARY"), "{html}");
    assert!(!html.contains("LATER-AGENDA") && !html.contains("LATER-SUMMARY"), "p1 reads a later session:\n{html}");
    let mut late = signed_in(&app, &smtp, "p2@people.test").await;
    let html = assert_page(&late.get(&page).await, 200);
    assert!(html.contains("LATER-AGENDA") && html.contains("LATER-SUMMARY"), "{html}");
    assert!(!html.contains("GROUP-AGENDA") && !html.contains("GROUP-SUMMARY"), "p2 reads an earlier session:\n{html}");
}

async fn a_participant_follows_the_group_on_their_page(backend: Backend) {
    use crate::pages::{app_with_mail, assert_page, signed_in};
    let Some((app, smtp)) = app_with_mail(backend).await else { return };
    let cast = Cast::new(&app, 2).await;
    let (group, _) = planted(&app, &cast).await;
    let base = format!("/v1/groups/{group}");
    let page = format!("/groups/{group}");

    let mut p0 = signed_in(&app, &smtp, "p0@people.test").await;
    let home = assert_page(&p0.get("/home").await, 200);
    assert!(home.contains(&page) && home.contains("Emerging leaders"), "{home}");
    let response = p0.get(&page).await;
    let html = assert_page(&response, 200);
    for shown in
        ["You take part in this group.", "GROUP-AGENDA", "GROUP-SUMMARY", "OUTCOME-OF-p0", "2 → 5", "ITEM-OF-p0"]
    {
        assert!(html.contains(shown), "{shown:?} on p0's page:\n{html}");
    }
    for hidden in ["OUTCOME-OF-p1", "ITEM-OF-p1", "PRIVATE-GROUP-NOTES"] {
        assert!(!html.contains(hidden), "{hidden} on p0's page");
    }
    // p0 marks their item done from the page.
    let path = format!("{base}/participants/{}/action-items", cast.ids["p0"]);
    let item =
        cast.call(&app, "p0", Method::GET, &path, None).await.json()["items"][0]["id"].as_str().unwrap().to_owned();
    let action = format!("/groups/{group}/action-items/{item}/done");
    let done = p0.submit(&response, &action, &[]).await;
    assert_eq!(done.status.as_u16(), 303, "{}", done.text());
    let html = assert_page(&p0.get(&format!("{page}?done=1")).await, 200);
    assert!(html.contains("Marked done") && html.contains(">Done</span>"), "{html}");
    // p1 cannot mark p0's item: it is not there for them.
    let mut p1 = signed_in(&app, &smtp, "p1@people.test").await;
    let theirs = p1.get(&page).await;
    let html = assert_page(&theirs, 200);
    assert!(html.contains("ITEM-OF-p1") && !html.contains("ITEM-OF-p0"), "{html}");
    let csrf = keel_tests::pages::form_token(&html).unwrap();
    assert_page(&p1.post(&action, &[("csrf", &csrf)]).await, 404);

    // The sponsor and the hr_partner see the schedule and attendance, not the content.
    for who in ["sponsor@people.test", "hr@people.test"] {
        let mut reader = signed_in(&app, &smtp, who).await;
        let html = assert_page(&reader.get(&page).await, 200);
        assert!(html.contains("1 of 2 attended") && html.contains("Hours so far"), "{html}");
        for hidden in ["GROUP-AGENDA", "GROUP-SUMMARY", "OUTCOME-OF", "ITEM-OF", "PRIVATE-GROUP-NOTES"] {
            assert!(!html.contains(hidden), "{hidden} on {who}'s page");
        }
    }
    // Someone of another organization gets the missing page.
    let mut outsider = signed_in(&app, &smtp, "outsider@people.test").await;
    assert_page(&outsider.get(&page).await, 404);
}

/// Issue 23: the coach schedules a group session, takes attendance from a checklist, writes the
/// shared summary and private notes, and sets a participant's own outcome and action item, on
/// the group's page.
async fn the_coach_runs_the_group_on_its_page(backend: Backend) {
    use crate::pages::{app_with_mail, assert_page, signed_in};
    let Some((app, smtp)) = app_with_mail(backend).await else { return };
    let cast = Cast::new(&app, 2).await;
    let (group, _) = planted(&app, &cast).await;
    let base = format!("/v1/groups/{group}");
    let page_path = format!("/groups/{group}");
    let mut coach = signed_in(&app, &smtp, "coach@people.test").await;
    let page = coach.get(&page_path).await;
    let html = assert_page(&page, 200);
    assert!(html.contains("You coach this group.") && html.contains("PRIVATE-GROUP-NOTES"), "{html}");
    let cost = crate::queries::statements(&page);
    assert!(cost <= 8, "the coach's group page: {cost} statements");
    assert!(
        html.contains("OUTCOME-OF-p0") && html.contains("ITEM-OF-p1"),
        "the coach sees every participant's: {html}"
    );

    // Scheduled: a time that cannot be read keeps the agenda typed.
    let schedule = format!("/groups/{group}/sessions");
    let typed = [("at", "soon"), ("minutes", "90"), ("format", "video"), ("agenda", "SECOND-AGENDA")];
    let html = assert_page(&coach.submit(&page, &schedule, &typed).await, 422);
    assert!(html.contains("SECOND-AGENDA</textarea>"), "{html}");
    let typed = [("at", "2026-03-03T09:00"), ("minutes", "90"), ("format", "video"), ("agenda", "SECOND-AGENDA")];
    assert_eq!(coach.submit(&page, &schedule, &typed).await.status.as_u16(), 303);
    let sessions = cast.call(&app, "coach", Method::GET, &format!("{base}/sessions"), None).await;
    let sessions = sessions.expect_status(200).json()["items"].clone();
    let second = sessions[1]["id"].as_str().unwrap().to_owned();
    assert_eq!(sessions[1]["scheduled_at"], "2026-03-03T09:00:00Z");

    // Completed with attendance from the checklist: p1 came, p0 did not.
    let page = coach.get(&page_path).await;
    let complete = format!("/groups/{group}/sessions/{second}/complete");
    let fields = [
        ("actual_minutes", "90"),
        ("attended", cast.ids["p1"].as_str()),
        ("shared_summary", "SECOND-SUMMARY"),
        ("private_notes", "SECOND-PRIVATE"),
    ];
    let done = coach.submit(&page, &complete, &fields).await;
    assert_eq!(done.status.as_u16(), 303, "{}", done.text());
    let html = assert_page(&coach.get(&page_path).await, 200);
    assert!(html.contains("1 of 2 attended") && html.contains("SECOND-PRIVATE"), "{html}");

    // p0's own outcome and action item, set on the page; p1 never reads them.
    let page = coach.get(&page_path).await;
    let p0 = cast.ids["p0"].clone();
    let outcome = [("title", "LISTENS-FIRST"), ("baseline", "1"), ("target", "4"), ("measure", "")];
    let set = coach.submit(&page, &format!("/groups/{group}/participants/{p0}/outcomes"), &outcome).await;
    assert_eq!(set.status.as_u16(), 303, "{}", set.text());
    let item = [("title", ""), ("details", "KEPT-DETAILS"), ("due", "")];
    let html =
        assert_page(&coach.submit(&page, &format!("/groups/{group}/participants/{p0}/action-items"), &item).await, 422);
    assert!(html.contains("value=\"KEPT-DETAILS\""), "what was typed is kept: {html}");
    let item = [("title", "ASK-FOR-FEEDBACK"), ("details", ""), ("due", "2026-03-10")];
    let set = coach.submit(&page, &format!("/groups/{group}/participants/{p0}/action-items"), &item).await;
    assert_eq!(set.status.as_u16(), 303, "{}", set.text());
    let path = format!("{base}/participants/{p0}/outcomes");
    let outcomes = cast.call(&app, "p0", Method::GET, &path, None).await.expect_status(200).json();
    assert!(outcomes["items"].as_array().unwrap().iter().any(|o| o["title"] == "LISTENS-FIRST"), "{outcomes}");
    let mut p1 = signed_in(&app, &smtp, "p1@people.test").await;
    let theirs = assert_page(&p1.get(&page_path).await, 200);
    assert!(theirs.contains("SECOND-SUMMARY"), "p1 was there: {theirs}");
    for hidden in ["LISTENS-FIRST", "ASK-FOR-FEEDBACK", "SECOND-PRIVATE", "PRIVATE-GROUP-NOTES", "name=\"attended\""] {
        assert!(!theirs.contains(hidden), "{hidden} on p1's page");
    }
    // Nobody else uses the coach's forms.
    let csrf = keel_tests::pages::form_token(&theirs).unwrap();
    let schedule_as_p1 = [("csrf", csrf.as_str()), ("at", "2026-03-04T09:00"), ("minutes", "60"), ("format", "video")];
    let refused = p1.post(&schedule, &schedule_as_p1).await;
    assert!(matches!(refused.status.as_u16(), 403 | 404), "{}", refused.status);
    let sessions = cast.call(&app, "coach", Method::GET, &format!("{base}/sessions"), None).await;
    assert_eq!(sessions.expect_status(200).json()["items"].as_array().unwrap().len(), 2, "nothing was scheduled");
}

async fn group_sessions_are_mailed_as_invitations_and_cancellations(backend: Backend) {
    use crate::pages::app_with_mail;
    use crate::sessions::{calendar_in, calendar_text, property};
    const WAIT: std::time::Duration = std::time::Duration::from_secs(10);
    let Some((app, smtp)) = app_with_mail(backend).await else { return };
    let cast = Cast::new(&app, 2).await;
    let group = cast.cohort(&app, 10).await;
    cast.join(&app, &group, "p0").await.expect_status(201);
    cast.join(&app, &group, "p1").await.expect_status(201);
    let base = format!("/v1/groups/{group}");
    let body = json!({ "scheduled_at": "2099-02-03T09:00:00Z", "duration_minutes": 90, "format": "video", "agenda": "GROUP-AGENDA" });
    let session = cast.call(&app, "coach", Method::POST, &format!("{base}/sessions"), Some(body)).await;
    let session = session.expect_status(201).json()["id"].as_str().unwrap().to_owned();
    // The coach and each participant get the invitation, agenda included.
    for to in ["coach@people.test", "p0@people.test", "p1@people.test"] {
        let wanted = [format!("To: {to}"), "Subject: Group session: Emerging leaders".to_owned()];
        let mail = smtp.raw_wait_for(&[&wanted[0], &wanted[1]], WAIT).await.expect("the invitation");
        let text = calendar_text(&mail);
        assert!(text.contains("METHOD:REQUEST\r\n"), "{text}");
        let calendar = calendar_in(&mail);
        assert_eq!(
            (property(&calendar, "UID"), property(&calendar, "SEQUENCE")),
            (format!("{session}@keel"), "0".to_owned())
        );
        assert_eq!(property(&calendar, "DTSTART"), "20990203T090000Z");
        assert!(text.contains("GROUP-AGENDA"), "{text}");
    }
    // Cancelled: the same event, cancelled, one revision on.
    let cancel = json!({ "status": "cancelled", "reason": "Coach unwell" });
    let path = format!("{base}/sessions/{session}");
    cast.call(&app, "coach", Method::PATCH, &path, Some(cancel)).await.expect_status(200);
    for to in ["coach@people.test", "p0@people.test", "p1@people.test"] {
        let wanted = [format!("To: {to}"), "Subject: Cancelled: group session".to_owned()];
        let mail = smtp.raw_wait_for(&[&wanted[0], &wanted[1]], WAIT).await.expect("the cancellation");
        let text = calendar_text(&mail);
        assert!(text.contains("METHOD:CANCEL\r\n") && text.contains("STATUS:CANCELLED\r\n"), "{text}");
        let calendar = calendar_in(&mail);
        assert_eq!(
            (property(&calendar, "UID"), property(&calendar, "SEQUENCE")),
            (format!("{session}@keel"), "1".to_owned())
        );
    }
    // The sponsor and the hr_partner are not invited (the agenda is not theirs).
    for other in ["To: sponsor@people.test", "To: hr@people.test"] {
        assert!(
            !smtp.messages().iter().any(|m| m.contains(other) && m.contains("Group session")),
            "{other} got the group's calendar mail"
        );
    }
}
