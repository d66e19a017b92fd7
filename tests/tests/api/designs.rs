//! Steps 4 and 5: designs and decisions, walked to `coaching`; simultaneous final approvals.
//!
//! The walk to `coaching` is made over HTTP here, request by request; the other tests start from
//! the same state reached through the application layer ([`to_coaching`]).

use std::collections::HashMap;
use std::time::Duration;

use actix_web::http::Method;
use keel_tests::fixtures::to_assessment_design;
pub(crate) use keel_tests::fixtures::{Program, to_coaching};
use keel_tests::{Backend, SmtpSink, TestApp, both_backends};
use serde_json::{Value, json};

both_backends! {
    fn designs_and_decisions_walk_to_coaching(backend: Backend);
    fn simultaneous_final_approvals(app: TestApp);
}

/// An engagement with two sponsors, walked by its coach to `assessment_design` over HTTP: the
/// state [`to_assessment_design`] reaches through the application layer.
async fn walk_to_assessment_design(app: &TestApp) -> Program {
    let org = app.create_org("Acme").await["id"].as_str().unwrap().to_owned();
    let mut ids = HashMap::new();
    let mut tokens = HashMap::new();
    for (who, email, organization, roles) in [
        ("leader", "leader@acme.test", Some(org.clone()), json!([])),
        ("sponsor", "sponsor@acme.test", Some(org.clone()), json!([])),
        ("sponsor2", "cfo@acme.test", Some(org.clone()), json!([])),
        ("coach", "coach@provider.test", None, json!(["coach"])),
    ] {
        let user = app
            .create_user(json!({ "email": email, "name": who, "organization_id": organization, "roles": roles }))
            .await;
        ids.insert(who, user["id"].as_str().unwrap().to_owned());
        tokens.insert(who, app.token_for(email));
    }
    let body = json!({
        "organization_id": org, "title": "Leading", "leader_id": ids["leader"], "coach_id": ids["coach"],
        "sponsor_ids": [ids["sponsor"], ids["sponsor2"]], "start_date": "2026-01-15"
    });
    let engagement =
        app.post("/v1/engagements", &body).await.expect_status(201).json()["id"].as_str().unwrap().to_owned();
    let mut p = Program {
        base: format!("/v1/engagements/{engagement}"),
        engagement,
        tokens,
        outcome: String::new(),
        theme: String::new(),
    };
    let outcome = json!({ "title": "Delegates", "baseline": "2", "target": "8", "measure": "log" });
    p.outcome = p.call(app, "coach", Method::POST, "/outcomes", Some(outcome)).await.expect_status(201).json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let context = json!({ "met_on": "2026-01-12", "attendees": ["Coach", "Leader"] });
    p.call(app, "coach", Method::PUT, "/context", Some(context)).await.expect_status(200);
    p.call(app, "coach", Method::POST, "/transitions", Some(json!({ "to": "leader_interview" })))
        .await
        .expect_status(200);
    p.call(app, "coach", Method::PUT, "/leader-interview", Some(json!({ "interviewed_on": "2026-01-20" })))
        .await
        .expect_status(200);
    p.call(app, "coach", Method::POST, "/transitions", Some(json!({ "to": "stakeholder_interviews" })))
        .await
        .expect_status(200);
    for i in 0..3 {
        let rater = json!({ "name": format!("Rater-Secret-{i}"), "email": format!("rater.secret{i}@acme.test"), "relationship": "peer" });
        let rater = p.call(app, "coach", Method::POST, "/raters", Some(rater)).await.expect_status(201).json();
        let path = format!("/raters/{}/interview", rater["id"].as_str().unwrap());
        let notes = json!({ "interviewed_on": "2026-02-01", "notes": format!("NOTES-SECRET-{i}") });
        p.call(app, "coach", Method::PUT, &path, Some(notes)).await.expect_status(200);
    }
    p.theme = p
        .call(app, "coach", Method::POST, "/themes", Some(json!({ "kind": "strength", "title": "Calm" })))
        .await
        .expect_status(201)
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    p.call(app, "coach", Method::POST, "/themes/release", None).await.expect_status(200);
    p.call(app, "coach", Method::POST, "/transitions", Some(json!({ "to": "assessment_design" })))
        .await
        .expect_status(200);
    p
}

fn design_body(p: &Program) -> Value {
    json!({
        "summary": "Delegation first, then coaching the team",
        "theme_ids": [p.theme], "outcome_ids": [p.outcome],
        "items": [
            { "kind": "practice", "title": "Delegate one decision a day", "cadence": "daily" },
            { "kind": "reading", "title": "Turn the Ship Around" }
        ]
    })
}

async fn phase(app: &TestApp, p: &Program) -> String {
    p.call(app, "coach", Method::GET, "", None).await.json()["phase"].as_str().unwrap().to_owned()
}

fn codes(problem: &Value) -> Vec<String> {
    problem["errors"].as_array().unwrap().iter().map(|e| e["code"].as_str().unwrap().to_owned()).collect()
}

async fn designs_and_decisions_walk_to_coaching(backend: Backend) {
    let smtp = SmtpSink::start();
    let smtp_url = smtp.url();
    let Some(app) = TestApp::spawn_with(backend, move |c| {
        c.smtp_url = smtp_url;
        c.outbox_poll_ms = 50;
    })
    .await
    else {
        return;
    };
    let p = walk_to_assessment_design(&app).await;

    let v1 = p.call(&app, "coach", Method::POST, "/designs", Some(design_body(&p))).await.expect_status(201);
    assert_eq!(v1.header("location").unwrap(), format!("{}/designs/1", p.base));
    let v1 = v1.json();
    assert_eq!((v1["version"].as_i64(), v1["status"].as_str()), (Some(1), Some("draft")));
    p.call(&app, "coach", Method::PATCH, "/designs/1", Some(json!({ "summary": "Delegation first" })))
        .await
        .expect_status(200);
    assert_eq!(
        codes(
            &p.call(&app, "coach", Method::POST, "/transitions", Some(json!({ "to": "sponsor_review" })))
                .await
                .expect_problem(409)
        ),
        ["design_not_submitted"]
    );

    let submitted = p.call(&app, "coach", Method::POST, "/designs/1/submit", None).await.expect_status(200).json();
    assert_eq!(submitted["status"], "submitted");
    assert_eq!(phase(&app, &p).await, "sponsor_review");
    for to in ["To: leader@acme.test", "To: sponsor@acme.test", "To: cfo@acme.test"] {
        let mail = smtp.wait_for(to, Duration::from_secs(10)).await.unwrap_or_else(|| panic!("decision mail {to}"));
        assert!(mail.contains("awaits your decision"));
    }
    let problem =
        p.call(&app, "coach", Method::PATCH, "/designs/1", Some(json!({ "summary": "x" }))).await.expect_problem(409);
    assert_eq!(problem["code"], "design_not_draft");
    p.call(&app, "leader", Method::PATCH, "/designs/1", Some(json!({ "summary": "x" }))).await.expect_problem(403);

    // A request for changes needs a comment and sends the program back to assessment_design.
    p.call(&app, "sponsor", Method::POST, "/designs/1/decisions", Some(json!({ "decision": "request_changes" })))
        .await
        .expect_problem(422);
    let decided = p
        .call(
            &app,
            "sponsor",
            Method::POST,
            "/designs/1/decisions",
            Some(json!({ "decision": "request_changes", "comment": "Add a team practice" })),
        )
        .await
        .expect_status(201)
        .json();
    assert_eq!(decided["status"], "changes_requested");
    assert_eq!(phase(&app, &p).await, "assessment_design");
    let problem = p
        .call(&app, "leader", Method::POST, "/designs/1/decisions", Some(json!({ "decision": "approve" })))
        .await
        .expect_problem(409);
    assert_eq!(problem["code"], "design_not_submitted");

    // Version 2, copied from 1.
    let v2 = p
        .call(&app, "coach", Method::POST, "/designs", Some(json!({ "copy_from": 1 })))
        .await
        .expect_status(201)
        .json();
    assert_eq!(v2["items"].as_array().unwrap().len(), 2);
    let mut items = v2["items"].as_array().unwrap().clone();
    items.push(json!({ "kind": "exercise", "title": "Team retro on decisions", "cadence": "monthly" }));
    p.call(&app, "coach", Method::PATCH, "/designs/2", Some(json!({ "items": items }))).await.expect_status(200);
    p.call(&app, "coach", Method::POST, "/designs/2/submit", None).await.expect_status(200);
    assert_eq!(phase(&app, &p).await, "sponsor_review");
    let problem = p
        .call(&app, "coach", Method::POST, "/transitions", Some(json!({ "to": "coaching" })))
        .await
        .expect_problem(409);
    assert_eq!(codes(&problem), ["design_not_approved_by_leader", "design_not_approved_by_sponsor"]);

    p.call(&app, "leader", Method::POST, "/designs/2/decisions", Some(json!({ "decision": "approve" })))
        .await
        .expect_status(201);
    let again = p
        .call(&app, "leader", Method::POST, "/designs/2/decisions", Some(json!({ "decision": "approve" })))
        .await
        .expect_problem(409);
    assert_eq!(again["code"], "decision_already_made");
    p.call(&app, "coach", Method::POST, "/designs/2/decisions", Some(json!({ "decision": "approve" })))
        .await
        .expect_problem(403);
    p.call(
        &app,
        "sponsor",
        Method::POST,
        "/designs/2/decisions",
        Some(json!({ "decision": "approve", "comment": "Good" })),
    )
    .await
    .expect_status(201);
    let problem = p
        .call(&app, "coach", Method::POST, "/transitions", Some(json!({ "to": "coaching" })))
        .await
        .expect_problem(409);
    assert_eq!(codes(&problem), ["design_not_approved_by_sponsor"], "the second sponsor has not approved");
    let last = p
        .call(&app, "sponsor2", Method::POST, "/designs/2/decisions", Some(json!({ "decision": "approve" })))
        .await
        .expect_status(201)
        .json();
    assert_eq!(last["status"], "approved");
    assert_eq!(last["decisions"].as_array().unwrap().len(), 3);

    // The hr_partner-less view of admins and the leader: designs are readable, decisions visible.
    let list = app.get(&format!("{}/designs", p.base)).await.expect_status(200).json();
    let statuses: Vec<&str> = list["items"].as_array().unwrap().iter().map(|d| d["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["changes_requested", "approved"]);

    p.call(&app, "coach", Method::POST, "/transitions", Some(json!({ "to": "coaching" }))).await.expect_status(200);
    assert_eq!(phase(&app, &p).await, "coaching");

    // Confidentiality sweep after the full walk: every GET the others can make.
    let raters = p.call(&app, "coach", Method::GET, "/raters", None).await.json();
    let rater = raters["items"][0]["id"].as_str().unwrap().to_owned();
    let coach_view = p.call(&app, "coach", Method::GET, &format!("/raters/{rater}"), None).await.text();
    assert!(
        coach_view.contains("Rater-Secret-0") && coach_view.contains("NOTES-SECRET-0"),
        "the sweep looks for real data"
    );
    let paths =
        ["", "/timeline", "/outcomes", "/context", "/themes", "/raters", "/designs", "/designs/1", "/designs/2"]
            .map(|suffix| format!("{}{suffix}", p.base))
            .into_iter()
            .chain([
                format!("{}/raters/{rater}", p.base),
                format!("{}/leader-interview", p.base),
                "/v1/engagements".to_owned(),
            ]);
    for path in paths {
        for who in ["leader", "sponsor", "sponsor2"] {
            let text = app.call_as(Some(&p.tokens[who]), Method::GET, &path, &[], None).await.text();
            assert!(
                !text.contains("Secret") && !text.contains("SECRET") && !text.contains("rater.secret"),
                "{who} GET {path}: {text}"
            );
        }
        let text = app.get(&path).await.text();
        assert!(!text.contains("Secret") && !text.contains("SECRET"), "admin GET {path}: {text}");
    }

    let db = app.db.open();
    let events =
        keel_persistence::repo::events::for_engagement(&mut db.conn().unwrap(), p.engagement.parse().unwrap()).unwrap();
    let count = |t: &str| events.iter().filter(|(e, _)| e == t).count();
    assert_eq!((count("design.submitted"), count("design.decided"), count("design.approved")), (2, 4, 1));
    assert!(events.iter().all(|(_, payload)| !payload.contains("Add a team practice")), "comments stay out of events");
}

async fn simultaneous_final_approvals(app: TestApp) {
    let p = to_assessment_design(&app).await;
    p.call(&app, "coach", Method::POST, "/designs", Some(design_body(&p))).await.expect_status(201);
    p.call(&app, "coach", Method::POST, "/designs/1/submit", None).await.expect_status(200);
    p.call(&app, "leader", Method::POST, "/designs/1/decisions", Some(json!({ "decision": "approve" })))
        .await
        .expect_status(201);
    // Both remaining sponsors approve at once: each of the two could be the final approval.
    let approve = Some(json!({ "decision": "approve" }));
    let (a, b) = futures_util::future::join(
        p.call(&app, "sponsor", Method::POST, "/designs/1/decisions", approve.clone()),
        p.call(&app, "sponsor2", Method::POST, "/designs/1/decisions", approve),
    )
    .await;
    assert_eq!((a.status.as_u16(), b.status.as_u16()), (201, 201));
    let design = p.call(&app, "coach", Method::GET, "/designs/1", None).await.json();
    assert_eq!(design["status"], "approved");
    let db = app.db.open();
    let events =
        keel_persistence::repo::events::for_engagement(&mut db.conn().unwrap(), p.engagement.parse().unwrap()).unwrap();
    assert_eq!(events.iter().filter(|(t, _)| t == "design.approved").count(), 1, "approved exactly once");
}
