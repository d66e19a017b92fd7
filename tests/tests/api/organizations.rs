//! `/v1/organizations`: create, get, list, update with ETag / If-Match.

use keel_tests::both_backends;
use serde_json::json;

both_backends! {
    async fn create_then_get_with_defaults_location_and_etag(app) {
        let response = app.post("/v1/organizations", &json!({ "name": "  Acme Corp  " })).await.expect_status(201);
        let org = response.json();
        let id = org["id"].as_str().unwrap();
        assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 7);
        assert_eq!(response.header("location").unwrap(), format!("/v1/organizations/{id}"));
        assert_eq!(response.header("etag").as_deref(), Some("\"1\""));
        assert_eq!(org["name"], "Acme Corp");
        assert_eq!(
            org["settings"],
            json!({ "min_raters": 3, "default_monthly_hours_budget": 3.0, "no_show_counts": false, "email_change_hold_hours": 72, "allow_contract_overdraft": false,
                "stuck_after_days": { "context": 30, "leader_interview": 30, "stakeholder_interviews": 45, "assessment_design": 30,
                                      "sponsor_review": 30, "mid_review": 30, "end_review": 30, "on_hold": 60 } })
        );

        let fetched = app.get(&format!("/v1/organizations/{id}")).await.expect_status(200);
        assert_eq!(fetched.header("etag").as_deref(), Some("\"1\""));
        assert_eq!(fetched.json(), org);
    }

    async fn invalid_organizations_are_422_listing_every_field(app) {
        let problem = app
            .post("/v1/organizations", &json!({ "name": "", "settings": { "min_raters": 0, "default_monthly_hours_budget": -1 } }))
            .await
            .expect_problem(422);
        let fields: Vec<&str> = problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["name", "settings.min_raters", "settings.default_monthly_hours_budget"]);
        assert_eq!(problem["errors"][0]["code"], "required");
    }

    async fn unknown_organization_is_404(app) {
        let problem = app.get(&format!("/v1/organizations/{}", uuid::Uuid::now_v7())).await.expect_problem(404);
        assert_eq!(problem["code"], "organization_not_found");
    }

    async fn patch_honours_if_match(app) {
        let org = app.create_org("Acme").await;
        let path = format!("/v1/organizations/{}", org["id"].as_str().unwrap());

        let updated = app.patch(&path, Some("\"1\""), &json!({ "settings": { "min_raters": 5 } })).await.expect_status(200);
        assert_eq!(updated.header("etag").as_deref(), Some("\"2\""));
        let body = updated.json();
        assert_eq!(body["settings"]["min_raters"], 5);
        assert_eq!(body["settings"]["default_monthly_hours_budget"], 3.0, "untouched settings are kept");
        assert_eq!(body["version"], 2);

        // A stale version is refused and changes nothing.
        let problem = app.patch(&path, Some("\"1\""), &json!({ "name": "Stale" })).await.expect_problem(412);
        assert_eq!(problem["code"], "stale_version");
        assert_eq!(app.get(&path).await.json()["name"], "Acme");

        // `*`, a list containing the current version, and no If-Match all proceed.
        app.patch(&path, Some("*"), &json!({ "name": "Star" })).await.expect_status(200);
        app.patch(&path, Some("\"1\", \"3\""), &json!({ "name": "Listed" })).await.expect_status(200);
        let last = app.patch(&path, None, &json!({ "name": "Unconditional" })).await.expect_status(200);
        assert_eq!(last.json()["version"], 5);
        // Weak tags never match for If-Match.
        app.patch(&path, Some("W/\"5\""), &json!({ "name": "Weak" })).await.expect_problem(412);
        // An unparseable If-Match is a 400.
        app.patch(&path, Some("five"), &json!({ "name": "Bad" })).await.expect_problem(400);
    }

    async fn concurrent_updates_with_the_same_if_match_one_wins(app) {
        let org = app.create_org("Acme").await;
        let path = format!("/v1/organizations/{}", org["id"].as_str().unwrap());
        let first = json!({ "name": "First" });
        let second = json!({ "name": "Second" });
        let (a, b) = futures_util::future::join(
            app.patch(&path, Some("\"1\""), &first),
            app.patch(&path, Some("\"1\""), &second),
        )
        .await;
        let mut statuses = [a.status.as_u16(), b.status.as_u16()];
        statuses.sort();
        assert_eq!(statuses, [200, 412]);
        assert_eq!(app.get(&path).await.json()["version"], 2);
    }

    async fn concurrent_unconditional_updates_all_apply(app) {
        let org = app.create_org("Acme").await;
        let path = format!("/v1/organizations/{}", org["id"].as_str().unwrap());
        let bodies: Vec<_> = (0..10).map(|i| json!({ "settings": { "min_raters": i + 1 } })).collect();
        let responses = futures_util::future::join_all(bodies.iter().map(|b| app.patch(&path, None, b))).await;
        for response in responses {
            response.expect_status(200);
        }
        // Each change was applied once, to the version before it: none lost, none refused.
        assert_eq!(app.get(&path).await.json()["version"], 11);
    }

    async fn list_pages_through_organizations(app) {
        for i in 0..5 {
            app.create_org(&format!("Org {i}")).await;
        }
        let first = app.get("/v1/organizations?limit=2").await.expect_status(200).json();
        assert_eq!(first["items"].as_array().unwrap().len(), 2);
        let cursor = first["next_cursor"].as_str().unwrap();
        let second = app.get(&format!("/v1/organizations?limit=2&cursor={cursor}")).await.expect_status(200).json();
        assert_eq!(second["items"][0]["name"], "Org 2");
        let cursor = second["next_cursor"].as_str().unwrap();
        let third = app.get(&format!("/v1/organizations?limit=2&cursor={cursor}")).await.expect_status(200).json();
        assert_eq!(third["items"].as_array().unwrap().len(), 1);
        assert!(third["next_cursor"].is_null());
    }
}
