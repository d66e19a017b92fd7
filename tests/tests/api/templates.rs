//! Program templates (issue 15): the built-in micro coaching and introductory sequence walked over
//! HTTP from creation to the end review, session plans (agenda, homework, proposed next session,
//! the opening session's choice), an organization's own templates with immutable versions, who
//! may read and change them, and bad templates refused with nothing written.

use actix_web::http::Method;
use keel_tests::{Backend, TestApp, both_backends};
use serde_json::{Value, json};

both_backends! {
    fn a_micro_coaching_leader_follows_their_program_on_their_page(backend: Backend);
    fn micro_coaching_from_creation_to_the_end_review(app: TestApp);
    fn the_introductory_sequence_with_its_planned_sessions(app: TestApp);
    fn organization_templates_are_copied_edited_and_versioned(app: TestApp);
    fn bad_templates_are_refused_and_nothing_is_written(app: TestApp);
}

const EXECUTIVE: &str = "00000000-0000-7000-8000-000000000001";
const MICRO: &str = "00000000-0000-7000-8000-000000000002";
const INTRODUCTORY: &str = "00000000-0000-7000-8000-000000000003";

/// An organization with its hr_partner, a coach, a leader and a sponsor; their tokens.
struct Org {
    id: String,
    ids: std::collections::HashMap<&'static str, String>,
    tokens: std::collections::HashMap<&'static str, String>,
}

impl Org {
    async fn new(app: &TestApp, name: &str) -> Org {
        let id = app.create_org(name).await["id"].as_str().unwrap().to_owned();
        let domain = name.to_lowercase();
        let mut ids = std::collections::HashMap::new();
        let mut tokens = std::collections::HashMap::new();
        for (who, roles, org) in [
            ("hr", json!(["hr_partner"]), Some(&id)),
            ("coach", json!(["coach"]), None),
            ("leader", json!([]), Some(&id)),
            ("sponsor", json!([]), Some(&id)),
        ] {
            let email = format!("{who}@{domain}.test");
            let user =
                app.create_user(json!({ "email": email, "name": who, "organization_id": org, "roles": roles })).await;
            ids.insert(who, user["id"].as_str().unwrap().to_owned());
            tokens.insert(who, app.token_for(&email));
        }
        Org { id, ids, tokens }
    }

    async fn call(
        &self,
        app: &TestApp,
        who: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> keel_tests::Response {
        let token = if who == "admin" { None } else { Some(self.tokens[who].as_str()) };
        match token {
            Some(token) => app.call_as(Some(token), method, path, &[], body.as_ref()).await,
            None => app.call(method, path, &[], body.as_ref()).await,
        }
    }

    /// An engagement of `template` created by the hr_partner, starting 5 January 2026.
    async fn engagement(&self, app: &TestApp, template: Option<&str>) -> Value {
        let mut body = json!({
            "organization_id": self.id, "title": "Focused on delegation", "leader_id": self.ids["leader"],
            "coach_id": self.ids["coach"], "sponsor_ids": [self.ids["sponsor"]], "start_date": "2026-01-05"
        });
        if let Some(template) = template {
            body["template_id"] = json!(template);
        }
        self.call(app, "hr", Method::POST, "/v1/engagements", Some(body)).await.expect_status(201).json()
    }
}

fn codes(problem: &Value) -> Vec<String> {
    problem["errors"].as_array().unwrap().iter().map(|e| e["code"].as_str().unwrap().to_owned()).collect()
}

fn fields(problem: &Value) -> Vec<(String, String)> {
    problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap().to_owned(), e["code"].as_str().unwrap().to_owned()))
        .collect()
}

/// The coach's calls under one engagement.
struct Walk<'a> {
    app: &'a TestApp,
    org: &'a Org,
    base: String,
}

impl Walk<'_> {
    async fn call(&self, who: &str, method: Method, path: &str, body: Option<Value>) -> keel_tests::Response {
        self.org.call(self.app, who, method, &format!("{}{path}", self.base), body).await
    }

    async fn go(&self, to: &str) -> keel_tests::Response {
        self.call("coach", Method::POST, "/transitions", Some(json!({ "to": to }))).await
    }

    async fn outcome(&self) -> String {
        let outcome = json!({ "title": "Delegates", "measure": "decisions a week", "baseline": "2", "target": "8" });
        let created = self.call("coach", Method::POST, "/outcomes", Some(outcome)).await.expect_status(201).json();
        created["id"].as_str().unwrap().to_owned()
    }

    async fn timeline(&self) -> Vec<String> {
        let timeline = self.call("hr", Method::GET, "/timeline", None).await.expect_status(200).json();
        timeline["items"].as_array().unwrap().iter().map(|t| t["to"].as_str().unwrap().to_owned()).collect()
    }
}

async fn micro_coaching_from_creation_to_the_end_review(app: TestApp) {
    let org = Org::new(&app, "Acme").await;
    // Everyone signed in reads the built-in templates.
    let list = org.call(&app, "leader", Method::GET, "/v1/program-templates", None).await.expect_status(200).json();
    let ids: Vec<&str> = list["items"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [EXECUTIVE, MICRO, INTRODUCTORY]);
    let micro = org.call(&app, "sponsor", Method::GET, &format!("/v1/program-templates/{MICRO}"), None).await;
    let micro = micro.expect_status(200).json();
    let steps: Vec<&str> = micro["steps"].as_array().unwrap().iter().map(|s| s["phase"].as_str().unwrap()).collect();
    assert_eq!(steps, ["context", "coaching", "end_review"]);
    assert_eq!((micro["built_in"].as_bool(), micro["sponsor_decision_required"].as_bool()), (Some(true), Some(false)));

    // Created from the template: weeks, not months; its own budget.
    let engagement = org.engagement(&app, Some(MICRO)).await;
    assert_eq!(
        (&engagement["template_id"], &engagement["template_version"], &engagement["planned_end_date"]),
        (&json!(MICRO), &json!(1), &json!("2026-02-16")),
        "six weeks after the start"
    );
    assert_eq!(engagement["monthly_hours_budget"], 2.0);
    let walk = Walk { app: &app, org: &org, base: format!("/v1/engagements/{}", engagement["id"].as_str().unwrap()) };

    // Context asks for focused goals only: no context meeting, no interview, no 360, no design.
    assert_eq!(codes(&walk.go("coaching").await.expect_problem(409)), ["outcome_missing"]);
    assert_eq!(codes(&walk.go("leader_interview").await.expect_problem(409)), ["transition_not_allowed"]);
    walk.outcome().await;
    walk.go("coaching").await.expect_status(200);

    // A session with nothing but its time is a micro session in text, with the micro plan.
    let session = walk
        .call("coach", Method::POST, "/sessions", Some(json!({ "scheduled_at": "2026-01-12T08:00:00Z" })))
        .await
        .expect_status(201)
        .json();
    assert_eq!((session["kind"].as_str(), session["duration_minutes"].as_u64()), (Some("micro"), Some(15)));
    assert_eq!(session["format"], "text");
    assert!(session["agenda"].as_str().unwrap().starts_with("1. Goal — "), "{session}");
    let id = session["id"].as_str().unwrap();

    // Completing it sets homework and proposes the next session, in one transaction.
    let complete = json!({
        "actual_duration_minutes": 12, "session_goals": "Hand over the weekly report",
        "next_steps": "Check how the hand-over went",
        "homework": [{ "title": "Brief Sam on the report", "due_date": "2026-01-16" }],
        "next_session": { "scheduled_at": "2026-01-19T08:00:00Z" }
    });
    walk.call("coach", Method::POST, &format!("/sessions/{id}/complete"), Some(complete)).await.expect_status(200);
    let items = walk.call("leader", Method::GET, "/action-items", None).await.expect_status(200).json();
    let item = &items["items"][0];
    assert_eq!((item["title"].as_str(), item["session_id"].as_str()), (Some("Brief Sam on the report"), Some(id)));
    assert_eq!((item["status"].as_str(), item["due_date"].as_str()), (Some("open"), Some("2026-01-16")));
    let sessions = walk.call("leader", Method::GET, "/sessions", None).await.expect_status(200).json();
    let proposed = &sessions["items"][1];
    assert_eq!((proposed["status"].as_str(), proposed["kind"].as_str()), (Some("proposed"), Some("micro")));
    assert!(
        proposed["agenda"].as_str().unwrap().contains("Agreed at the last session:\nCheck how the hand-over went"),
        "{proposed}"
    );
    // The coach confirms it.
    let confirm = json!({ "status": "scheduled" });
    let path = format!("/sessions/{}", proposed["id"].as_str().unwrap());
    let confirmed = walk.call("coach", Method::PATCH, &path, Some(confirm)).await.expect_status(200).json();
    assert_eq!(confirmed["status"], "scheduled");

    // Straight to the end review: micro coaching has no mid review.
    walk.go("end_review").await.expect_status(200);
    let outcomes = walk.call("coach", Method::GET, "/outcomes", None).await.json();
    let end = json!({
        "narrative": "The report is delegated", "achievements": "Sam owns the weekly report",
        "outcomes": [{ "outcome_id": outcomes["items"][0]["id"], "actual": "6", "achieved": false }],
        "next_step": "completed"
    });
    walk.call("coach", Method::PUT, "/reviews/end", Some(end)).await.expect_status(200);
    assert_eq!(walk.timeline().await, ["context", "coaching", "end_review", "completed"]);
}

async fn the_introductory_sequence_with_its_planned_sessions(app: TestApp) {
    let org = Org::new(&app, "Acme").await;
    let engagement = org.engagement(&app, Some(INTRODUCTORY)).await;
    assert_eq!(engagement["planned_end_date"], "2026-07-05");
    let walk = Walk { app: &app, org: &org, base: format!("/v1/engagements/{}", engagement["id"].as_str().unwrap()) };
    assert_eq!(codes(&walk.go("coaching").await.expect_problem(409)), ["context_meeting_missing"]);
    let context = json!({ "met_on": "2026-01-06", "attendees": ["leader", "sponsor", "coach"] });
    walk.call("coach", Method::PUT, "/context", Some(context)).await.expect_status(200);
    let outcome = walk.outcome().await;
    walk.go("coaching").await.expect_status(200);

    // The sessions follow the sequence: introductory (30 minutes), then the opening session.
    let schedule = |at: &str| json!({ "scheduled_at": at });
    let first = walk.call("coach", Method::POST, "/sessions", Some(schedule("2026-02-02T09:00:00Z"))).await;
    let first = first.expect_status(201).json();
    assert_eq!((first["plan_index"].as_u64(), first["duration_minutes"].as_u64()), (Some(0), Some(30)));
    assert_eq!(first["plan_title"], "Introductory session");
    assert!(first["agenda"].as_str().unwrap().contains("10. Set next steps"), "the session plan of seed 004");
    let path = format!("/sessions/{}/complete", first["id"].as_str().unwrap());
    walk.call("coach", Method::POST, &path, Some(json!({ "actual_duration_minutes": 30 }))).await.expect_status(200);

    let opening = walk.call("coach", Method::POST, "/sessions", Some(schedule("2026-02-09T09:00:00Z"))).await;
    let opening = opening.expect_status(201).json();
    assert_eq!((opening["plan_index"].as_u64(), opening["duration_minutes"].as_u64()), (Some(1), Some(90)));
    assert!(opening["agenda"].as_str().unwrap().starts_with("Opening session\n"));
    let id = opening["id"].as_str().unwrap();
    // The choice is recorded: required, and one of the options.
    let path = format!("/sessions/{id}/complete");
    let missing = walk.call("coach", Method::POST, &path, Some(json!({ "actual_duration_minutes": 90 }))).await;
    assert_eq!(fields(&missing.expect_problem(422)), [("choice".to_owned(), "required".to_owned())]);
    let wrong = json!({ "actual_duration_minutes": 90, "choice": "both" });
    let wrong = walk.call("coach", Method::POST, &path, Some(wrong)).await.expect_problem(422);
    assert_eq!(fields(&wrong), [("choice".to_owned(), "not_an_option".to_owned())]);
    let chosen = json!({ "actual_duration_minutes": 90, "choice": "workplace_only", "shared_summary": "Work only" });
    walk.call("coach", Method::POST, &path, Some(chosen)).await.expect_status(200);
    let seen = |who: &'static str| {
        let walk = &walk;
        let path = format!("/sessions/{id}");
        async move { walk.call(who, Method::GET, &path, None).await.expect_status(200).json() }
    };
    assert_eq!(seen("leader").await["choice"], "workplace_only");
    let sponsor = seen("sponsor").await;
    assert!(sponsor.get("choice").is_none(), "content stays with the coach and the leader: {sponsor}");
    assert_eq!(sponsor["plan_title"], "Opening session", "the schedule says which session it is");

    // A cancelled planned session gives its place to the next one scheduled.
    let second = walk.call("coach", Method::POST, "/sessions", Some(schedule("2026-02-16T09:00:00Z"))).await;
    let second = second.expect_status(201).json();
    assert_eq!(second["plan_index"], 2);
    let cancel = json!({ "status": "cancelled", "reason": "travel" });
    let path = format!("/sessions/{}", second["id"].as_str().unwrap());
    walk.call("coach", Method::PATCH, &path, Some(cancel)).await.expect_status(200);
    let again = walk.call("coach", Method::POST, "/sessions", Some(schedule("2026-02-23T09:00:00Z"))).await;
    assert_eq!(again.expect_status(201).json()["plan_title"], "Second session: thinking and habits");

    // Its program has a mid review before the end review.
    assert_eq!(codes(&walk.go("end_review").await.expect_problem(409)), ["mid_review_not_completed"]);
    walk.go("mid_review").await.expect_status(200);
    let mid = json!({ "narrative": "On track", "outcomes": [{ "outcome_id": outcome, "actual": "4" }] });
    walk.call("coach", Method::PUT, "/reviews/mid", Some(mid)).await.expect_status(200);
    walk.go("coaching").await.expect_status(200);
    walk.go("end_review").await.expect_status(200);
    let end = json!({
        "narrative": "Done", "outcomes": [{ "outcome_id": outcome, "actual": "8", "achieved": true }],
        "next_step": "completed"
    });
    walk.call("coach", Method::PUT, "/reviews/end", Some(end)).await.expect_status(200);
    assert_eq!(walk.timeline().await, ["context", "coaching", "mid_review", "coaching", "end_review", "completed"]);
}

async fn organization_templates_are_copied_edited_and_versioned(app: TestApp) {
    let org = Org::new(&app, "Acme").await;
    let other = Org::new(&app, "Globex").await;
    let create = json!({
        "organization_id": org.id, "copy_from": MICRO, "name": "Micro for new managers",
        "length": { "unit": "weeks", "min": 2, "default": 4, "max": 8 }
    });
    let created = org.call(&app, "hr", Method::POST, "/v1/program-templates", Some(create.clone())).await;
    let created = created.expect_status(201);
    assert_eq!(created.header("etag").as_deref(), Some("\"1\""));
    let template = created.json();
    let id = template["id"].as_str().unwrap().to_owned();
    assert_eq!((template["based_on_id"].as_str(), template["built_in"].as_bool()), (Some(MICRO), Some(false)));
    assert_eq!(template["steps"].as_array().unwrap().len(), 3, "copied from micro coaching");
    let path = format!("/v1/program-templates/{id}");

    // An engagement started on version 1 keeps it; a new one gets version 2.
    let before = org.engagement(&app, Some(&id)).await;
    assert_eq!(
        (before["template_version"].as_i64(), before["planned_end_date"].as_str()),
        (Some(1), Some("2026-02-02"))
    );
    let edit = json!({ "length": { "unit": "weeks", "min": 2, "default": 3, "max": 6 }, "name": "Micro, shorter" });
    let stale = app.call_as(Some(&org.tokens["hr"]), Method::PATCH, &path, &[("if-match", "\"7\"")], Some(&edit)).await;
    stale.expect_problem(412);
    let edited =
        app.call_as(Some(&org.tokens["hr"]), Method::PATCH, &path, &[("if-match", "\"1\"")], Some(&edit)).await;
    let edited = edited.expect_status(200).json();
    assert_eq!((edited["version"].as_i64(), edited["name"].as_str()), (Some(2), Some("Micro, shorter")));
    let after = org.engagement(&app, Some(&id)).await;
    assert_eq!((after["template_version"].as_i64(), after["planned_end_date"].as_str()), (Some(2), Some("2026-01-26")));
    let v1 = org.call(&app, "coach", Method::GET, &format!("{path}/versions/1"), None).await.expect_status(200).json();
    assert_eq!((v1["name"].as_str(), v1["length"]["default"].as_u64()), (Some("Micro for new managers"), Some(4)));
    // The running engagement still follows version 1: its length rule is 2 to 8 weeks.
    let engagement = format!("/v1/engagements/{}", before["id"].as_str().unwrap());
    let longer = json!({ "planned_end_date": "2026-02-23" });
    org.call(&app, "hr", Method::PATCH, &engagement, Some(longer)).await.expect_status(200);

    // Built-in templates do not change.
    let built_in = format!("/v1/program-templates/{MICRO}");
    let refused = org.call(&app, "admin", Method::PATCH, &built_in, Some(json!({ "name": "Mine" }))).await;
    assert_eq!(refused.expect_problem(409)["code"], "template_built_in");

    // Who reads and who changes: the organization's people read, coaches read every
    // organization's, another organization sees nothing; only admins and hr_partners change.
    for who in ["leader", "sponsor", "coach", "hr"] {
        org.call(&app, who, Method::GET, &path, None).await.expect_status(200);
    }
    other.call(&app, "hr", Method::GET, &path, None).await.expect_problem(404);
    other.call(&app, "leader", Method::GET, &path, None).await.expect_problem(404);
    let listed = other.call(&app, "hr", Method::GET, "/v1/program-templates", None).await.json();
    assert_eq!(listed["items"].as_array().unwrap().len(), 3, "the built-in ones only");
    let listed = org.call(&app, "hr", Method::GET, "/v1/program-templates", None).await.json();
    assert_eq!(listed["items"].as_array().unwrap().len(), 4);
    for who in ["leader", "coach"] {
        org.call(&app, who, Method::PATCH, &path, Some(json!({ "name": "x" }))).await.expect_problem(403);
        org.call(&app, who, Method::POST, "/v1/program-templates", Some(create.clone())).await.expect_problem(403);
    }
    other.call(&app, "hr", Method::PATCH, &path, Some(json!({ "name": "x" }))).await.expect_problem(404);
    other.call(&app, "hr", Method::POST, "/v1/program-templates", Some(create.clone())).await.expect_problem(404);
    // Another organization's template cannot run an engagement here.
    let body = json!({
        "organization_id": other.id, "title": "T", "leader_id": other.ids["leader"], "coach_id": other.ids["coach"],
        "sponsor_ids": [other.ids["sponsor"]], "start_date": "2026-01-05", "template_id": id
    });
    let problem = other.call(&app, "hr", Method::POST, "/v1/engagements", Some(body.clone())).await.expect_problem(422);
    assert_eq!(fields(&problem), [("template_id".to_owned(), "not_found".to_owned())]);
    let problem = app.post("/v1/engagements", &body).await.expect_problem(422);
    assert_eq!(fields(&problem), [("template_id".to_owned(), "wrong_organization".to_owned())]);

    // Audited, and announced as events.
    let audit = app.get("/v1/audit-events?limit=200").await.expect_status(200).json();
    let actions: Vec<&str> = audit["items"].as_array().unwrap().iter().filter_map(|a| a["action"].as_str()).collect();
    assert!(actions.contains(&"template.created") && actions.contains(&"template.updated"), "{actions:?}");
    let database = app.db.open();
    let conn = &mut database.conn().unwrap();
    let events = keel_persistence::repo::events::for_organization(conn, org.id.parse().unwrap()).unwrap();
    let types: Vec<&str> = events.iter().map(|(t, _)| t.as_str()).collect();
    assert!(types.contains(&"template.created") && types.contains(&"template.updated"), "{types:?}");
}

async fn bad_templates_are_refused_and_nothing_is_written(app: TestApp) {
    let org = Org::new(&app, "Acme").await;
    let attempt = |body: Value| {
        let org = &org;
        let app = &app;
        async move {
            let mut full = json!({ "organization_id": org.id, "name": "Broken" });
            full.as_object_mut().unwrap().extend(body.as_object().unwrap().clone());
            fields(&org.call(app, "hr", Method::POST, "/v1/program-templates", Some(full)).await.expect_problem(422))
        }
    };
    let step = |phase: &str| json!({ "phase": phase });
    let pairs =
        |list: &[(&str, &str)]| list.iter().map(|(f, c)| ((*f).to_owned(), (*c).to_owned())).collect::<Vec<_>>();
    assert_eq!(attempt(json!({ "steps": [] })).await, pairs(&[("steps", "required")]));
    assert_eq!(
        attempt(json!({ "steps": [step("context"), step("end_review"), step("coaching")] })).await,
        pairs(&[("steps[2].phase", "out_of_order")])
    );
    // A guard that cannot be met: the mid review's completion without a mid review step; the
    // sponsors' decision without a sponsor review.
    let unmeetable = json!({ "steps": [step("context"), { "phase": "coaching", "guards": ["mid_review_completed"] }, step("end_review")] });
    assert_eq!(
        attempt(unmeetable).await,
        pairs(&[("steps[1].guards[0]", "unmeetable"), ("sponsor_decision_required", "unmeetable")])
    );
    let foreign = json!({ "steps": [{ "phase": "context", "guards": ["end_review_recorded"] }, step("coaching"), step("end_review")], "sponsor_decision_required": false });
    assert_eq!(attempt(foreign).await, pairs(&[("steps[0].guards[0]", "not_of_step")]));
    let planned = json!({ "planned_sessions": [{ "title": "Quick", "kind": "micro", "duration_minutes": 45 }] });
    assert_eq!(attempt(planned).await, pairs(&[("planned_sessions[0].duration_minutes", "out_of_range")]));
    let length = json!({ "length": { "unit": "months", "min": 6, "default": 3, "max": 48 } });
    assert_eq!(attempt(length).await, pairs(&[("length.default", "out_of_range"), ("length.max", "out_of_range")]));
    // Not one of the eight steps: the document's enum allows it, the program does not.
    let ended = json!({ "steps": [step("context"), step("coaching"), step("end_review"), step("completed")] });
    assert_eq!(attempt(ended).await, pairs(&[("steps[3].phase", "not_a_step")]));
    // An unknown guard is a malformed body.
    let body = json!({ "organization_id": org.id, "name": "X", "steps": [{ "phase": "context", "guards": ["luck"] }] });
    org.call(&app, "hr", Method::POST, "/v1/program-templates", Some(body)).await.expect_problem(400);

    let listed = org.call(&app, "hr", Method::GET, "/v1/program-templates", None).await.json();
    assert_eq!(listed["items"].as_array().unwrap().len(), 3, "nothing was written");
    let audit = app.get("/v1/audit-events?limit=200").await.json();
    assert!(!audit["items"].as_array().unwrap().iter().any(|a| a["action"] == "template.created"));
}

async fn a_micro_coaching_leader_follows_their_program_on_their_page(backend: Backend) {
    use crate::pages::{app_with_mail, assert_page, signed_in};
    let Some((app, smtp)) = app_with_mail(backend).await else { return };
    let org = Org::new(&app, "Acme").await;
    let engagement = org.engagement(&app, Some(MICRO)).await;
    let walk = Walk { app: &app, org: &org, base: format!("/v1/engagements/{}", engagement["id"].as_str().unwrap()) };
    walk.outcome().await;
    walk.go("coaching").await.expect_status(200);
    let at = json!({ "scheduled_at": "2099-01-12T08:00:00Z" });
    walk.call("coach", Method::POST, "/sessions", Some(at)).await.expect_status(201);
    let page = format!("/engagements/{}", engagement["id"].as_str().unwrap());

    let mut leader = signed_in(&app, &smtp, "leader@acme.test").await;
    let html = assert_page(&leader.get(&page).await, 200);
    // The page follows the template: its name, and after coaching comes the end review (no mid
    // review in micro coaching); the upcoming session carries the micro plan as its agenda.
    for shown in ["Micro coaching", "Coaching sessions.", "The end-of-program review", "1. Goal", "15 min"] {
        assert!(html.contains(shown), "{shown:?} on the leader's page:\n{html}");
    }
    assert!(!html.contains("mid-program review"), "{html}");
    let mut sponsor = signed_in(&app, &smtp, "sponsor@acme.test").await;
    let html = assert_page(&sponsor.get(&page).await, 200);
    assert!(html.contains("Micro coaching") && !html.contains("1. Goal"), "the sponsor sees no agenda:\n{html}");
}
