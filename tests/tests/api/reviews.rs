//! Steps 7 and 8: the mid review (and a design change decided while coaching continues), the end
//! review to `completed`, and a renewal; progress from baseline to target.

use actix_web::http::Method;
use keel_tests::{TestApp, both_backends};
use serde_json::{Value, json};

use crate::designs::{Program, to_coaching};

both_backends! {
    fn walk_to_completed(app: TestApp);
    fn walk_to_renewed(app: TestApp);
}

fn codes(problem: &Value) -> Vec<String> {
    problem["errors"].as_array().unwrap().iter().map(|e| e["code"].as_str().unwrap().to_owned()).collect()
}

async fn go(app: &TestApp, p: &Program, to: &str) -> keel_tests::Response {
    p.call(app, "coach", Method::POST, "/transitions", Some(json!({ "to": to }))).await
}

async fn through_mid_review(app: &TestApp, p: &Program) {
    assert_eq!(codes(&go(app, p, "end_review").await.expect_problem(409)), ["mid_review_not_completed"]);
    go(app, p, "mid_review").await.expect_status(200);
    assert_eq!(codes(&go(app, p, "coaching").await.expect_problem(409)), ["mid_review_missing"]);
    let review = json!({
        "narrative": "Delegating more; the team is still hesitant",
        "outcomes": [{ "outcome_id": p.outcome, "actual": "5 a week", "note": "up from 2" }],
        "program_changes": "Add a monthly team retro"
    });
    p.call(app, "leader", Method::PUT, "/reviews/mid", Some(review.clone())).await.expect_problem(403);
    p.call(app, "coach", Method::PUT, "/reviews/mid", Some(json!({ "narrative": "x", "outcomes": [] })))
        .await
        .expect_problem(422);
    let recorded = p.call(app, "coach", Method::PUT, "/reviews/mid", Some(review)).await.expect_status(200).json();
    assert_eq!(recorded["program_changes"], "Add a monthly team retro");
    go(app, p, "coaching").await.expect_status(200);
}

async fn walk_to_completed(app: TestApp) {
    let p = to_coaching(&app).await;
    through_mid_review(&app, &p).await;

    // The design changes while coaching continues: version 2 is decided as in step 5.
    let v2 = p
        .call(
            &app,
            "coach",
            Method::POST,
            "/designs",
            Some(json!({ "copy_from": 1, "summary": "Delegation and team retros" })),
        )
        .await;
    v2.expect_status(201);
    p.call(&app, "coach", Method::POST, "/designs/2/submit", None).await.expect_status(200);
    for who in ["leader", "sponsor", "sponsor2"] {
        p.call(&app, who, Method::POST, "/designs/2/decisions", Some(json!({ "decision": "approve" })))
            .await
            .expect_status(201);
    }
    let engagement = p.call(&app, "coach", Method::GET, "", None).await.json();
    assert_eq!(engagement["phase"], "coaching", "coaching continued throughout");
    assert_eq!(p.call(&app, "sponsor", Method::GET, "/designs/2", None).await.json()["status"], "approved");

    // Progress, as a sponsor sees it: baseline 2, target 8, latest 5 → half way.
    let progress = p.call(&app, "sponsor", Method::GET, "/progress", None).await.expect_status(200).json();
    let item = &progress["items"][0];
    assert_eq!((item["baseline"].as_str(), item["target"].as_str()), (Some("2"), Some("8")));
    assert_eq!(item["share_achieved"], 0.5);
    assert_eq!(item["measurements"][0]["source"], "mid_review");

    go(&app, &p, "end_review").await.expect_status(200);
    let end = json!({
        "narrative": "A different leader", "achievements": "Delegates most decisions; the team runs the weekly plan",
        "outcomes": [{ "outcome_id": p.outcome, "actual": "8 a week", "achieved": true }],
        "next_step": "completed"
    });
    let recorded = p.call(&app, "coach", Method::PUT, "/reviews/end", Some(end)).await.expect_status(200).json();
    assert!(recorded.get("renewed_engagement_id").is_none());
    let engagement = p.call(&app, "leader", Method::GET, "", None).await.json();
    assert_eq!(engagement["phase"], "completed");
    let read = p.call(&app, "sponsor", Method::GET, "/reviews/end", None).await.expect_status(200).json();
    assert_eq!(read["outcomes"][0]["achieved"], true);
    let progress = p.call(&app, "sponsor", Method::GET, "/progress", None).await.json();
    assert_eq!(progress["items"][0]["share_achieved"], 1.0);
    let timeline = p.call(&app, "leader", Method::GET, "/timeline", None).await.json();
    let last = timeline["items"].as_array().unwrap().last().unwrap().clone();
    assert_eq!((last["from"].as_str(), last["to"].as_str()), (Some("end_review"), Some("completed")));
    let db = app.db.open();
    let events =
        keel_persistence::repo::events::for_engagement(&mut db.conn().unwrap(), p.engagement.parse().unwrap()).unwrap();
    assert_eq!(events.iter().filter(|(t, _)| t == "review.completed").count(), 2);
}

async fn walk_to_renewed(app: TestApp) {
    let p = to_coaching(&app).await;
    through_mid_review(&app, &p).await;
    go(&app, &p, "end_review").await.expect_status(200);
    let without = json!({
        "narrative": "Good progress", "outcomes": [{ "outcome_id": p.outcome, "actual": "7", "achieved": false }], "next_step": "renewed"
    });
    assert_eq!(
        p.call(&app, "coach", Method::PUT, "/reviews/end", Some(without)).await.expect_problem(422)["errors"][0]["field"],
        "renewal.outcomes"
    );
    let end = json!({
        "narrative": "Good progress; continue with the leadership team",
        "outcomes": [{ "outcome_id": p.outcome, "actual": "7", "achieved": false }],
        "next_step": "renewed",
        "renewal": { "outcomes": [
            { "title": "Builds a bench of successors", "baseline": "0", "target": "2", "measure": "ready-now successors" }
        ] }
    });
    let recorded = p.call(&app, "coach", Method::PUT, "/reviews/end", Some(end)).await.expect_status(200).json();
    let renewal = recorded["renewed_engagement_id"].as_str().expect("the renewal's id").to_owned();

    let old = p.call(&app, "coach", Method::GET, "", None).await.json();
    assert_eq!(old["phase"], "renewed");
    let new = app
        .call_as(Some(&p.tokens["leader"]), Method::GET, &format!("/v1/engagements/{renewal}"), &[], None)
        .await
        .expect_status(200)
        .json();
    assert_eq!(new["phase"], "context");
    assert_eq!(new["renewed_from_id"], old["id"]);
    for field in ["leader_id", "coach_id", "organization_id", "monthly_hours_budget"] {
        assert_eq!(new[field], old[field], "{field}");
    }
    assert_eq!(new["sponsor_ids"], old["sponsor_ids"]);
    let outcomes = app
        .call_as(Some(&p.tokens["sponsor"]), Method::GET, &format!("/v1/engagements/{renewal}/outcomes"), &[], None)
        .await
        .json();
    let titles: Vec<&str> =
        outcomes["items"].as_array().unwrap().iter().map(|o| o["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["Builds a bench of successors"]);
    let timeline = app
        .call_as(Some(&p.tokens["coach"]), Method::GET, &format!("/v1/engagements/{renewal}/timeline"), &[], None)
        .await
        .json();
    assert_eq!(timeline["items"][0]["to"], "context");
}
