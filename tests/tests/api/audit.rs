//! `GET /v1/audit-events`: filters, paging, and who sees which organization's records.

use keel_tests::both_backends;
use serde_json::json;

both_backends! {
    async fn the_audit_log_api_filters_and_scopes(app) {
        use actix_web::http::Method;
        let acme = app.create_org("Acme").await["id"].as_str().unwrap().to_owned();
        let globex = app.create_org("Globex").await["id"].as_str().unwrap().to_owned();
        app.create_user(json!({ "email": "hr@acme.test", "name": "HR", "organization_id": acme, "roles": ["hr_partner"] })).await;
        let user = app.create_user(json!({ "email": "lee@acme.test", "name": "Lee", "organization_id": acme })).await;
        let user_id = user["id"].as_str().unwrap().to_owned();
        app.call(Method::PATCH, &format!("/v1/users/{user_id}"), &[("x-request-id", "audit-api-1")], Some(&json!({ "name": "Lee Secret-Name" })))
            .await
            .expect_status(200);
        app.create_user(json!({ "email": "x@globex.test", "name": "X", "organization_id": globex })).await;

        let all = app.get("/v1/audit-events?limit=200").await.expect_status(200).json();
        assert!(all["items"].as_array().unwrap().len() >= 6);
        let mine = app.get(&format!("/v1/audit-events?resource_type=user&resource_id={user_id}")).await.json();
        let actions: Vec<&str> = mine["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["user.created", "user.updated"]);
        assert_eq!(mine["items"][1]["request_id"], "audit-api-1");
        assert_eq!(mine["items"][1]["changed_fields"], json!(["name"]));
        assert!(!mine.to_string().contains("Secret-Name"), "records name fields, never values");

        // The hr_partner sees only Acme's records; other organizations' are not there.
        let hr = app.token_for("hr@acme.test");
        let seen = app.call_as(Some(&hr), Method::GET, "/v1/audit-events?limit=200", &[], None).await.expect_status(200).json();
        assert!(seen["items"].as_array().unwrap().iter().all(|e| e["organization_id"] == acme.as_str()));
        let other = app
            .call_as(Some(&hr), Method::GET, &format!("/v1/audit-events?organization_id={globex}"), &[], None)
            .await
            .json();
        assert!(other["items"].as_array().unwrap().is_empty());
        let lee = app.token_for("lee@acme.test");
        app.call_as(Some(&lee), Method::GET, "/v1/audit-events", &[], None).await.expect_problem(403);

        // Time range and paging.
        let later = app.get("/v1/audit-events?from=2999-01-01T00:00:00Z").await.json();
        assert!(later["items"].as_array().unwrap().is_empty());
        let first = app.get("/v1/audit-events?limit=2").await.json();
        let cursor = first["next_cursor"].as_str().unwrap();
        let second = app.get(&format!("/v1/audit-events?limit=2&cursor={cursor}")).await.json();
        assert_ne!(first["items"][0]["id"], second["items"][0]["id"]);
    }
}
