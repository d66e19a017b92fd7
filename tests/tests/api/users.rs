//! `/v1/users`: validation, case-insensitive uniqueness, filters, pagination, deactivation.

use std::collections::HashSet;

use keel_tests::both_backends;
use serde_json::{Value, json};

async fn walk(app: &keel_tests::TestApp, query: &str, limit: usize) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/v1/users?limit={limit}{query}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = app.get(&path).await.expect_status(200).json();
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= limit);
        ids.extend(items.iter().map(|u| u["id"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    ids
}

both_backends! {
    async fn create_user_with_roles_and_organization(app) {
        let org = app.create_org("Acme").await;
        let response = app
            .post("/v1/users", &json!({
                "email": "  Ann.Lee@Example.com ", "name": " Ann Lee ", "organization_id": org["id"],
                "roles": ["hr_partner", "coach", "hr_partner"], "external_id": "HR-1"
            }))
            .await
            .expect_status(201);
        let user = response.json();
        assert_eq!(user["email"], "Ann.Lee@Example.com");
        assert_eq!(user["name"], "Ann Lee");
        assert_eq!(user["roles"], json!(["hr_partner", "coach"]));
        assert_eq!(user["status"], "active");
        assert_eq!(user["organization_id"], org["id"]);
        assert_eq!(user["external_id"], "HR-1");
        let fetched = app.get(response.header("location").as_deref().unwrap()).await.expect_status(200).json();
        assert_eq!(fetched, user);
    }

    async fn duplicate_email_is_409_case_insensitively(app) {
        app.create_user(json!({ "email": "ann@example.com", "name": "Ann" })).await;
        let problem = app.post("/v1/users", &json!({ "email": "ANN@Example.COM", "name": "Other Ann" })).await.expect_problem(409);
        assert_eq!(problem["code"], "email_taken");
        let all = app.get("/v1/users?email=ann@example.com").await.json();
        assert_eq!(all["items"].as_array().unwrap().len(), 1, "nothing written");
        // Changing another user's email to a taken one is refused the same way.
        let bob = app.create_user(json!({ "email": "bob@example.com", "name": "Bob" })).await;
        let path = format!("/v1/users/{}", bob["id"].as_str().unwrap());
        assert_eq!(app.patch(&path, None, &json!({ "email": "Ann@example.com" })).await.expect_problem(409)["code"], "email_taken");
    }

    async fn external_id_is_unique_per_organization(app) {
        let acme = app.create_org("Acme").await;
        let globex = app.create_org("Globex").await;
        app.create_user(json!({ "email": "a@x.com", "name": "A", "organization_id": acme["id"], "external_id": "E1" })).await;
        let problem = app
            .post("/v1/users", &json!({ "email": "b@x.com", "name": "B", "organization_id": acme["id"], "external_id": "E1" }))
            .await
            .expect_problem(409);
        assert_eq!(problem["code"], "external_id_taken");
        app.create_user(json!({ "email": "c@x.com", "name": "C", "organization_id": globex["id"], "external_id": "E1" })).await;
    }

    async fn invalid_users_are_422_with_every_field(app) {
        let problem = app
            .post("/v1/users", &json!({ "email": "not-an-email", "name": "x".repeat(201), "roles": ["hr_partner"] }))
            .await
            .expect_problem(422);
        let codes: Vec<(&str, &str)> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["field"].as_str().unwrap(), e["code"].as_str().unwrap()))
            .collect();
        assert_eq!(codes, [("email", "invalid_email"), ("name", "too_long"), ("roles", "hr_partner_requires_organization")]);
        let problem = app
            .post("/v1/users", &json!({ "email": "a@example.com", "name": "A", "organization_id": uuid::Uuid::now_v7() }))
            .await
            .expect_problem(422);
        assert_eq!(problem["errors"][0], json!({ "field": "organization_id", "code": "not_found", "message": "no organization has this id" }));
    }

    async fn patch_and_deactivate(app) {
        let user = app.create_user(json!({ "email": "a@example.com", "name": "A", "external_id": "X" })).await;
        let path = format!("/v1/users/{}", user["id"].as_str().unwrap());
        let updated = app
            .patch(&path, Some("\"1\""), &json!({ "name": "Ann", "roles": ["coach"], "external_id": null }))
            .await
            .expect_status(200)
            .json();
        assert_eq!(updated["name"], "Ann");
        assert_eq!(updated["roles"], json!(["coach"]));
        assert!(updated["external_id"].is_null());
        assert_eq!(updated["email"], "a@example.com", "absent fields are kept");

        app.delete(&path, Some("\"1\"")).await.expect_problem(412);
        let deleted = app.delete(&path, Some("\"2\"")).await.expect_status(204);
        assert_eq!(deleted.header("etag").as_deref(), Some("\"3\""));
        let gone = app.get(&path).await.expect_status(200).json();
        assert_eq!(gone["status"], "deactivated", "kept for history");
        // Repeating it is harmless.
        app.delete(&path, None).await.expect_status(204);
        assert_eq!(app.get(&path).await.json()["version"], 3);
        app.delete(&format!("/v1/users/{}", uuid::Uuid::now_v7()), None).await.expect_problem(404);
    }

    async fn list_filters(app) {
        let acme = app.create_org("Acme").await;
        let hr = app.create_user(json!({ "email": "hr@acme.com", "name": "HR", "organization_id": acme["id"], "roles": ["hr_partner"] })).await;
        let leader = app.create_user(json!({ "email": "lead@acme.com", "name": "Lead", "organization_id": acme["id"] })).await;
        let coach = app.create_user(json!({ "email": "coach@provider.com", "name": "Coach", "roles": ["coach"] })).await;
        app.delete(&format!("/v1/users/{}", leader["id"].as_str().unwrap()), None).await.expect_status(204);

        let ids = |page: Value| -> Vec<Value> { page["items"].as_array().unwrap().iter().map(|u| u["id"].clone()).collect() };
        let org_id = acme["id"].as_str().unwrap();
        assert_eq!(ids(app.get(&format!("/v1/users?organization_id={org_id}")).await.json()), vec![hr["id"].clone(), leader["id"].clone()]);
        assert_eq!(ids(app.get("/v1/users?role=coach").await.json()), vec![coach["id"].clone()]);
        assert_eq!(ids(app.get("/v1/users?role=hr_partner").await.json()), vec![hr["id"].clone()]);
        assert_eq!(ids(app.get("/v1/users?status=deactivated").await.json()), vec![leader["id"].clone()]);
        assert_eq!(ids(app.get("/v1/users?email=COACH@provider.com").await.json()), vec![coach["id"].clone()]);
        assert_eq!(ids(app.get(&format!("/v1/users?organization_id={org_id}&status=active")).await.json()), vec![hr["id"].clone()]);
        assert_eq!(ids(app.get("/v1/users?role=admin").await.json()), vec![Value::from(app.admin_id.clone())]);
    }

    async fn pagination_walks_250_users_without_duplicates_or_gaps(app) {
        // The bootstrapped admin is the first user.
        let mut created = vec![app.admin_id.clone()];
        for i in 0..250 {
            let user = app.create_user(json!({ "email": format!("user{i:03}@example.com"), "name": format!("User {i}") })).await;
            created.push(user["id"].as_str().unwrap().to_owned());
        }
        for limit in [50usize, 77, 200] {
            let seen = walk(&app, "", limit).await;
            assert_eq!(seen, created, "limit {limit}: every user once, in creation order");
        }
        let default = app.get("/v1/users").await.json();
        assert_eq!(default["items"].as_array().unwrap().len(), 50, "default page size");
        let unique: HashSet<_> = created.iter().collect();
        assert_eq!(unique.len(), 251);
    }

    async fn cursors_are_tamper_proof_and_bound_to_filters(app) {
        for i in 0..3 {
            app.create_user(json!({ "email": format!("u{i}@example.com"), "name": "U", "roles": ["coach"] })).await;
        }
        let page = app.get("/v1/users?limit=1&role=coach").await.json();
        let cursor = page["next_cursor"].as_str().unwrap().to_owned();
        app.get(&format!("/v1/users?limit=1&role=coach&cursor={cursor}")).await.expect_status(200);

        let mut bytes = cursor.clone().into_bytes();
        bytes[5] = if bytes[5] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).unwrap();
        let problem = app.get(&format!("/v1/users?limit=1&role=coach&cursor={tampered}")).await.expect_problem(400);
        assert_eq!(problem["code"], "invalid_cursor");
        app.get(&format!("/v1/users?limit=1&role=admin&cursor={cursor}")).await.expect_problem(400);
        app.get("/v1/users?cursor=garbage!").await.expect_problem(400);
        // A users cursor is not an organizations cursor.
        app.get(&format!("/v1/organizations?cursor={cursor}")).await.expect_problem(400);
    }
}
