//! The conventions every endpoint follows (README.md, conventions): problem documents for every error, request
//! ids, times in RFC 3339 UTC, and no internal detail in a 500.

use actix_web::http::Method;
use keel_tests::both_backends;
use serde_json::json;

both_backends! {
    async fn an_empty_query_parameter_is_an_absent_one(app) {
        app.create_org("Acme").await;
        let all = app.get("/v1/organizations").await.expect_status(200).json();
        for path in [
            "/v1/organizations?cursor=",
            "/v1/organizations?cursor=&limit=",
            "/v1/users?organization_id=&role=&status=&email=&cursor=",
            "/v1/engagements?organization_id=&phase=&coach_id=&status=&cursor=",
            "/v1/program-templates?organization_id=",
            "/v1/audit-events?cursor=",
        ] {
            let response = app.get(path).await;
            assert_eq!(response.status.as_u16(), 200, "{path}: {}", response.text());
        }
        assert_eq!(app.get("/v1/organizations?cursor=&limit=").await.json(), all, "the same as no parameter");
        // A value that is there must still be valid.
        app.get("/v1/organizations?cursor=x").await.expect_problem(400);
        app.get("/v1/organizations?limit=0").await.expect_problem(400);
    }

    async fn malformed_json_is_a_400_problem(app) {
        let response = app.send(Method::POST, "/v1/organizations", &[], Some("application/json"), Some(b"{\"name\": ".to_vec())).await;
        let problem = response.expect_problem(400);
        assert_eq!(problem["code"], "malformed_json");
        // Nothing was written.
        let list = app.get("/v1/organizations").await.expect_status(200).json();
        assert_eq!(list["items"].as_array().unwrap().len(), 0);
    }

    async fn wrong_types_and_unknown_fields_name_the_field(app) {
        let problem = app.post("/v1/organizations", &json!({ "name": 42 })).await.expect_problem(400);
        assert_eq!(problem["errors"][0]["field"], "name");
        let problem = app.post("/v1/organizations", &json!({ "name": "Acme", "nmae": "typo" })).await.expect_problem(400);
        assert!(problem["errors"][0]["message"].as_str().unwrap().contains("nmae"), "{problem}");
        let problem = app
            .post("/v1/organizations", &json!({ "name": "Acme", "settings": { "min_raters": "three" } }))
            .await
            .expect_problem(400);
        assert_eq!(problem["errors"][0]["field"], "settings.min_raters");
        // A body is an object: an array is not read field by field (found by the fuzzer, which
        // had PATCH an organization with [null, null] answered 200).
        let org = app.create_org("Acme").await;
        let path = format!("/v1/organizations/{}", org["id"].as_str().unwrap());
        for body in [json!([null, null]), json!(["Renamed"]), json!("Renamed"), json!(null)] {
            let problem = app.patch(&path, None, &body).await.expect_problem(400);
            assert_eq!(problem["code"], "invalid_body", "{body}: {problem}");
        }
        let problem = app.post("/v1/organizations", &json!(["Acme"])).await.expect_problem(400);
        assert_eq!(problem["errors"][0]["message"], "expected a JSON object");
        assert_eq!(app.get(&path).await.expect_status(200).json()["version"], org["version"]);
    }

    async fn oversized_bodies_are_413_and_write_nothing(app) {
        let big = json!({ "name": "x".repeat(2 * 1024 * 1024) });
        let problem = app.post("/v1/organizations", &big).await.expect_problem(413);
        assert_eq!(problem["code"], "payload_too_large");
        let list = app.get("/v1/organizations").await.expect_status(200).json();
        assert!(list["items"].as_array().unwrap().is_empty());
    }

    async fn non_json_bodies_are_415(app) {
        let response = app.send(Method::POST, "/v1/organizations", &[], Some("text/plain"), Some(b"{\"name\":\"A\"}".to_vec())).await;
        assert_eq!(response.expect_problem(415)["code"], "unsupported_media_type");
        let response = app.send(Method::POST, "/v1/organizations", &[], None, Some(b"{\"name\":\"A\"}".to_vec())).await;
        response.expect_problem(415);
        // `+json` media types are JSON too.
        let response = app.send(Method::POST, "/v1/organizations", &[], Some("application/merge-patch+json"), Some(b"{\"name\":\"A\"}".to_vec())).await;
        response.expect_status(201);
    }

    async fn unknown_routes_are_404_and_wrong_methods_405(app) {
        assert_eq!(app.get("/v1/nothing-here").await.expect_problem(404)["code"], "route_not_found");
        let response = app.call(Method::PUT, "/v1/users", &[], None).await;
        assert_eq!(response.header("allow").as_deref(), Some("GET, POST"));
        response.expect_problem(405);
        let id = uuid::Uuid::now_v7();
        let response = app.call(Method::POST, &format!("/v1/users/{id}"), &[], None).await;
        let allow = response.header("allow").unwrap();
        for method in ["GET", "PATCH", "DELETE"] {
            assert!(allow.contains(method), "{allow}");
        }
        response.expect_problem(405);
    }

    async fn bad_path_and_query_parameters_are_400_naming_them(app) {
        let problem = app.get("/v1/users/not-a-uuid").await.expect_problem(400);
        assert_eq!(problem["errors"][0]["field"], "user_id");
        let problem = app.get("/v1/users?limit=ten").await.expect_problem(400);
        assert_eq!(problem["errors"][0]["field"], "limit");
        let problem = app.get("/v1/users?role=boss").await.expect_problem(400);
        assert_eq!(problem["errors"][0]["field"], "role");
        for limit in ["0", "201", "-1"] {
            let problem = app.get(&format!("/v1/users?limit={limit}")).await.expect_problem(400);
            assert_eq!(problem["errors"][0]["field"], "limit");
        }
        app.get("/v1/users?limit=200").await.expect_status(200);
    }

    async fn request_ids_are_echoed_or_generated(app) {
        let response = app.call(Method::GET, "/healthz", &[("x-request-id", "trace-abc.123")], None).await;
        assert_eq!(response.header("x-request-id").as_deref(), Some("trace-abc.123"));
        let generated = app.get("/healthz").await.header("x-request-id").unwrap();
        assert_eq!(uuid::Uuid::parse_str(&generated).unwrap().get_version_num(), 7);
        // Unreasonable ids are replaced, not echoed.
        let response = app.call(Method::GET, "/healthz", &[("x-request-id", "<script>")], None).await;
        assert_ne!(response.header("x-request-id").as_deref(), Some("<script>"));
        // Errors carry it too.
        let response = app.call(Method::GET, "/nope", &[("x-request-id", "err-1")], None).await;
        assert_eq!(response.header("x-request-id").as_deref(), Some("err-1"));
    }

    async fn times_are_rfc3339_utc_with_z(app) {
        let org = app.create_org("Acme").await;
        for field in ["created_at", "updated_at"] {
            let value = org[field].as_str().unwrap();
            assert!(value.ends_with('Z'), "{field} = {value}");
            chrono::DateTime::parse_from_rfc3339(value).unwrap();
        }
    }

    async fn internal_errors_reveal_nothing(app) {
        // Corrupt a row underneath the API: the read fails inside the server.
        let user = app.create_user(json!({ "email": "a@example.com", "name": "A" })).await;
        let id = user["id"].as_str().unwrap().to_owned();
        let db = app.db.open();
        let mut conn = db.conn().unwrap();
        use diesel::prelude::*;
        diesel::sql_query(format!("UPDATE users SET email = 'not an email' WHERE id = '{id}'"))
            .execute(&mut *conn)
            .unwrap();
        let response = app.call(Method::GET, &format!("/v1/users/{id}"), &[("x-request-id", "boom-1")], None).await;
        assert_eq!(response.header("x-request-id").as_deref(), Some("boom-1"));
        let problem = response.expect_problem(500);
        let text = problem.to_string();
        assert!(!text.contains("not an email") && !text.contains("stored") && !text.contains("users"), "{text}");
    }
}
