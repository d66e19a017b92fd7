//! Round trips per request, read from the `Server-Timing` header every answer carries: a list
//! page costs the same number of statements whatever its length (no N+1), and single reads stay
//! within a small, fixed budget.

use actix_web::http::Method;
use keel_tests::{Response, TestApp, both_backends};
use serde_json::json;

/// The statements an answer cost, from its `Server-Timing` header.
pub(crate) fn statements(response: &Response) -> u64 {
    let timing = response.header("server-timing").expect("server-timing header");
    let desc = timing.split("desc=\"").nth(1).expect("desc");
    desc.split(' ').next().unwrap().parse().expect("a count")
}

async fn cost(app: &TestApp, token: &str, path: &str) -> (u64, usize) {
    let response = app.call_as(Some(token), Method::GET, path, &[], None).await.expect_status(200);
    let items = response.json()["items"].as_array().map_or(1, Vec::len);
    (statements(&response), items)
}

both_backends! {
    async fn list_pages_cost_the_same_whatever_their_length(app) {
        // Counted without the principal cache, so that every request resolves its caller.
        let mut app = app;
        app.restart_with(|config| config.principal_cache_ms = 0).await;
        let org = app.create_org("Acme").await["id"].as_str().unwrap().to_owned();
        let mut ids = Vec::new();
        for (email, roles, organization) in [
            ("hr@acme.test", json!(["hr_partner"]), Some(&org)),
            ("leader@acme.test", json!([]), Some(&org)),
            ("coach@provider.test", json!(["coach"]), None),
        ] {
            let user = app.create_user(json!({ "email": email, "name": "n", "organization_id": organization, "roles": roles })).await;
            ids.push(user["id"].as_str().unwrap().to_owned());
        }
        let mut sponsors = Vec::new();
        for n in 0..3 {
            let user = app.create_user(json!({ "email": format!("s{n}@acme.test"), "name": "s", "organization_id": org })).await;
            sponsors.push(user["id"].as_str().unwrap().to_owned());
        }
        let hr = app.token_for("hr@acme.test");
        let coach = app.token_for("coach@provider.test");
        let leader = app.token_for("leader@acme.test");
        let hook = json!({ "url": "http://127.0.0.1:1/refused", "event_types": ["engagement.created"] });
        let hook = app.call_as(Some(&hr), Method::POST, "/v1/webhooks", &[], Some(&hook)).await.expect_status(201).json();
        for n in 0..5 {
            let more = json!({ "url": format!("https://hr{n}.example.com/"), "event_types": ["review.completed"] });
            app.call_as(Some(&hr), Method::POST, "/v1/webhooks", &[], Some(&more)).await.expect_status(201);
            app.create_org(&format!("Org {n}")).await;
        }
        let mut engagement = String::new();
        for n in 0..30 {
            let body = json!({
                "organization_id": org, "title": format!("Program {n}"), "hr_partner_id": ids[0], "leader_id": ids[1],
                "coach_id": ids[2], "sponsor_ids": sponsors, "start_date": "2026-01-05"
            });
            engagement = app.post("/v1/engagements", &body).await.expect_status(201).json()["id"].as_str().unwrap().to_owned();
        }
        for n in 0..30 {
            let outcome = json!({ "title": format!("Outcome {n}"), "baseline": "1", "target": "2", "measure": "m" });
            let path = format!("/v1/engagements/{engagement}/outcomes");
            app.call_as(Some(&coach), Method::POST, &path, &[], Some(&outcome)).await.expect_status(201);
        }
        let hook_id = hook["id"].as_str().unwrap();
        let lists = [
            (&app.admin_token, "/v1/engagements".to_owned()),
            (&hr, "/v1/engagements".to_owned()),
            (&coach, "/v1/engagements".to_owned()),
            (&leader, "/v1/engagements".to_owned()),
            (&hr, "/v1/users".to_owned()),
            (&app.admin_token, "/v1/organizations".to_owned()),
            (&hr, "/v1/audit-events".to_owned()),
            (&hr, format!("/v1/engagements/{engagement}/outcomes")),
            (&hr, "/v1/webhooks".to_owned()),
            (&hr, format!("/v1/webhooks/{hook_id}/deliveries")),
        ];
        for (token, path) in lists {
            let sep = if path.contains('?') { '&' } else { '?' };
            let (one, _) = cost(&app, token, &format!("{path}{sep}limit=1")).await;
            let (many, items) = cost(&app, token, &format!("{path}{sep}limit=200")).await;
            assert!(items >= 5, "{path}: a long page ({items} items)");
            assert_eq!(one, many, "{path}: {one} statements for 1 item, {many} for {items}");
            // One statement resolves the caller; an engagement page (sponsors included) is one more.
            let budget = if path == "/v1/engagements" { 2 } else { 4 };
            assert!(many <= budget, "{path}: {many} statements");
        }
        let (single, _) = cost(&app, &hr, &format!("/v1/engagements/{engagement}")).await;
        assert_eq!(single, 2, "get an engagement: the caller, then the engagement with its sponsors");
    }

    async fn a_callers_second_request_reuses_their_lookup(app) {
        let user = app.create_user(json!({ "email": "kim@example.com", "name": "Kim" })).await;
        let token = app.token_for("kim@example.com");
        let first = app.call_as(Some(&token), Method::GET, "/v1/me", &[], None).await.expect_status(200);
        let second = app.call_as(Some(&token), Method::GET, "/v1/me", &[], None).await.expect_status(200);
        assert_eq!(statements(&first), statements(&second) + 1, "the second request skips the caller's lookup");
        // A change to the user through this instance applies at once.
        app.delete(&format!("/v1/users/{}", user["id"].as_str().unwrap()), None).await.expect_status(204);
        app.call_as(Some(&token), Method::GET, "/v1/me", &[], None).await.expect_status(401);
    }
}

/// Parts of many tables read in one statement.
mod together {
    use actix_web::http::Method;
    use keel_tests::{Backend, both_backends};
    use serde_json::json;

    both_backends! {
        fn parts_read_together_are_those_each_table_reads(backend: Backend);
    }

    /// `repo::parts` reads many tables in one statement, as JSON objects of their columns: every part
    /// it reads is the same value, in the same order, as the table's own repository reads.
    async fn parts_read_together_are_those_each_table_reads(backend: Backend) {
        use keel_domain::review::ReviewKind;
        use keel_persistence::repo::parts::{self, Part, Wanted};
        use keel_persistence::repo::{
            action_items, designs, extensions, organizations, program, reviews, sessions, stakeholders,
        };
        let Some((app, smtp)) = crate::pages::app_with_mail(backend).await else { return };
        let (p, _, _) = crate::pages::planted(&app, &smtp).await;
        p.call(&app, "coach", Method::POST, "/transitions", Some(json!({ "to": "mid_review" })))
            .await
            .expect_status(200);
        let review =
            json!({ "narrative": "N", "outcomes": [{ "outcome_id": p.outcome, "actual": "5", "note": "up" }] });
        p.call(&app, "coach", Method::PUT, "/reviews/mid", Some(review)).await.expect_status(200);
        let engagement = app.get(&p.base).await.expect_status(200).json();
        let database = app.db.open();
        let conn = &mut *database.conn().expect("a connection");
        let id: keel_domain::EngagementId = p.engagement.parse().unwrap();
        let organization: keel_domain::OrganizationId =
            engagement["organization_id"].as_str().unwrap().parse().unwrap();
        let leader: keel_domain::UserId = engagement["leader_id"].as_str().unwrap().parse().unwrap();
        let wanted = Wanted {
            engagements: &[id],
            parts: Part::WHOLE_PROGRAM,
            organizations: &[organization],
            names: &[leader],
            ..Wanted::default()
        };
        let mut loaded = parts::load(conn, wanted).expect("read together");
        let read = loaded.take(id);
        assert_eq!(read.sessions, sessions::list(conn, id).unwrap());
        assert_eq!(read.action_items, action_items::list(conn, id, &Default::default()).unwrap());
        assert_eq!(read.designs, designs::list(conn, id).unwrap());
        assert_eq!(read.decisions, designs::decisions(conn, id, None).unwrap());
        assert_eq!(read.raters, stakeholders::raters(conn, id).unwrap());
        assert_eq!(read.invitation_expiries, stakeholders::invitation_expiries(conn, id).unwrap());
        assert_eq!(read.themes, stakeholders::themes(conn, id, false).unwrap());
        assert_eq!(read.outcomes, program::outcomes(conn, id).unwrap());
        assert_eq!(read.measurements, program::measurements(conn, id).unwrap());
        assert_eq!(read.context, program::get_context(conn, id).unwrap());
        assert_eq!(read.interview, program::get_leader_interview(conn, id).unwrap());
        let mid = reviews::get(conn, id, ReviewKind::Mid).unwrap();
        assert_eq!(read.reviews, mid.into_iter().collect::<Vec<_>>());
        assert!(read.mid_review_entered.is_some(), "the program entered its mid review");
        assert_eq!(read.extensions, extensions::list(conn, id).unwrap());
        assert_eq!(loaded.organizations[&organization], organizations::get(conn, organization).unwrap());
        assert_eq!(loaded.names[&leader], "leader");
        // Not empty: every part holds something to compare (the planted program's content).
        assert!(read.sessions.len() >= 2 && read.sessions.iter().any(|s| s.content.private_notes.is_some()));
        assert!(!read.action_items.is_empty() && !read.designs.is_empty() && read.decisions.len() >= 3);
        assert!(read.raters.len() >= 4 && !read.invitation_expiries.is_empty() && !read.themes.is_empty());
        assert!(!read.measurements.is_empty() && read.context.is_some() && read.interview.is_some());
        assert!(!read.extensions.is_empty() && !read.reviews.is_empty());
        // One statement for all of it.
        let before = keel_persistence::instrument::statements_on_this_thread();
        parts::load(conn, wanted).expect("read together");
        assert_eq!(keel_persistence::instrument::statements_on_this_thread() - before, 1);
    }
}
