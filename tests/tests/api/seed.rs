//! `keel seed`: generated data is consistent with each phase and works through the API like data
//! made through it.

use std::collections::BTreeMap;

use actix_web::http::Method;
use keel_persistence::seed::SeedPlan;
use keel_tests::{TestApp, both_backends};
use serde_json::{Value, json};

async fn all_engagements(app: &TestApp) -> Vec<Value> {
    let mut items = Vec::new();
    let mut path = "/v1/engagements?limit=200".to_owned();
    loop {
        let page = app.get(&path).await.expect_status(200).json();
        items.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/engagements?limit=200&cursor={cursor}"),
            None => return items,
        }
    }
}

async fn email_of(app: &TestApp, user_id: &str) -> String {
    app.get(&format!("/v1/users/{user_id}")).await.expect_status(200).json()["email"].as_str().unwrap().to_owned()
}

both_backends! {
    async fn seeded_data_is_consistent_and_usable_through_the_api(app) {
        let plan = SeedPlan { organizations: 2, engagements: 60, sessions_per_engagement: 6, random_seed: 7 };
        let database = keel::open_database(&app.config).expect("database");
        let mut seen = Vec::new();
        let report = keel::seed(&database, &plan, &mut |done| seen.push(done)).expect("seed");
        assert_eq!((report.organizations, report.engagements), (2, 60));
        assert_eq!(seen.last(), Some(&60), "progress reaches the total: {seen:?}");
        // 60 engagements x 6 sessions on average, carried by those that reached coaching.
        assert!((340..=400).contains(&report.sessions), "{report:?}");

        let engagements = all_engagements(&app).await;
        assert_eq!(engagements.len(), 60);
        let mut phases: BTreeMap<String, usize> = BTreeMap::new();
        for e in &engagements {
            *phases.entry(e["phase"].as_str().unwrap().to_owned()).or_default() += 1;
            assert!(!e["sponsor_ids"].as_array().unwrap().is_empty(), "every engagement has a sponsor");
        }
        for phase in ["context", "leader_interview", "stakeholder_interviews", "assessment_design", "sponsor_review",
                      "coaching", "mid_review", "end_review", "completed", "renewed", "on_hold", "cancelled"] {
            assert!(phases.contains_key(phase), "an engagement in {phase}: {phases:?}");
        }

        // An engagement in coaching, seen by its HR partner and its coach.
        let e = engagements.iter().find(|e| e["phase"] == "coaching").unwrap();
        let id = e["id"].as_str().unwrap();
        let hr = app.token_for(&email_of(&app, e["hr_partner_id"].as_str().unwrap()).await);
        let coach = app.token_for(&email_of(&app, e["coach_id"].as_str().unwrap()).await);
        let hr_list = app.call_as(Some(&hr), Method::GET, "/v1/engagements?limit=200", &[], None).await.expect_status(200).json();
        assert_eq!(hr_list["items"].as_array().unwrap().len(), 30, "the HR partner sees their organization's half");
        let path = |p: &str| format!("/v1/engagements/{id}{p}");
        app.call_as(Some(&hr), Method::GET, &path(""), &[], None).await.expect_status(200);
        let designs = app.call_as(Some(&coach), Method::GET, &path("/designs"), &[], None).await.expect_status(200).json();
        assert_eq!(designs["items"][0]["status"], "approved", "{designs}");
        let outcomes = app.call_as(Some(&coach), Method::GET, &path("/outcomes"), &[], None).await.expect_status(200).json();
        assert_eq!(outcomes["items"].as_array().unwrap().len(), 3);
        app.call_as(Some(&coach), Method::GET, &path("/context"), &[], None).await.expect_status(200);
        app.call_as(Some(&coach), Method::GET, &path("/leader-interview"), &[], None).await.expect_status(200);

        let sessions = app.call_as(Some(&coach), Method::GET, &path("/sessions"), &[], None).await.expect_status(200).json();
        let sessions = sessions["items"].as_array().unwrap().clone();
        assert!(sessions.iter().any(|s| s["status"] == "completed" && s["private_notes"].is_string()), "the coach reads their notes");
        let hours = app.call_as(Some(&coach), Method::GET, &path("/hours"), &[], None).await.expect_status(200).json();
        let used: f64 = hours["months"].as_array().unwrap().iter().map(|m| m["used_hours"].as_f64().unwrap()).sum();
        assert!(used > 0.0, "completed sessions count against the budget: {hours}");
        for month in hours["months"].as_array().unwrap() {
            assert!(month["remaining_hours"].as_f64().unwrap() >= 0.0, "the budget covers every month: {hours}");
        }
        // A scheduled session completes within the budget.
        let next = sessions.iter().find(|s| s["status"] == "scheduled").expect("a scheduled session");
        let done = json!({ "actual_duration_minutes": next["duration_minutes"], "shared_summary": "Worked on delegation." });
        let complete = path(&format!("/sessions/{}/complete", next["id"].as_str().unwrap()));
        let completed = app.call_as(Some(&coach), Method::POST, &complete, &[], Some(&done)).await.expect_status(200).json();
        assert_eq!(completed["status"], "completed");

        // Seeding again adds to what is there (unique e-mail addresses).
        let again = keel::seed(&database, &SeedPlan { random_seed: 8, ..plan }, &mut |_| {}).expect("second seed");
        assert_eq!(again.engagements, 60);
        assert_eq!(all_engagements(&app).await.len(), 120);
    }
}
