//! `Idempotency-Key`: repeats return the first response without running again; a different
//! request with the same key is 422; concurrent repeats create one row.

use actix_web::http::Method;
use keel_tests::both_backends;
use serde_json::json;

both_backends! {
    async fn a_repeat_returns_the_first_response_and_creates_nothing(app) {
        let body = json!({ "name": "Acme" });
        let headers = [("idempotency-key", "create-acme-1")];
        let first = app.call(Method::POST, "/v1/organizations", &headers, Some(&body)).await.expect_status(201);
        let second = app.call(Method::POST, "/v1/organizations", &headers, Some(&body)).await.expect_status(201);
        assert_eq!(second.header("idempotent-replayed").as_deref(), Some("true"));
        assert!(first.header("idempotent-replayed").is_none());
        assert_eq!(first.json(), second.json());
        assert_eq!(first.header("location"), second.header("location"));
        assert_eq!(first.header("etag"), second.header("etag"));
        let list = app.get("/v1/organizations").await.json();
        assert_eq!(list["items"].as_array().unwrap().len(), 1, "one organization");

        // The same key with another body is refused; another key runs.
        let problem = app.call(Method::POST, "/v1/organizations", &headers, Some(&json!({ "name": "Globex" }))).await.expect_problem(422);
        assert_eq!(problem["code"], "idempotency_key_reused");
        app.call(Method::POST, "/v1/organizations", &[("idempotency-key", "create-globex")], Some(&json!({ "name": "Globex" })))
            .await
            .expect_status(201);

        // Keys are per caller: another user's identical key is theirs.
        app.create_user(json!({ "email": "hr@acme.test", "name": "HR" })).await;
        let token = app.token_for("hr@acme.test");
        let theirs = app.call_as(Some(&token), Method::POST, "/v1/organizations", &headers, Some(&body)).await;
        assert_eq!(theirs.status.as_u16(), 403, "runs as them (not an admin), not replayed");
        assert!(theirs.header("idempotent-replayed").is_none());

        // Client errors are remembered too; bad keys are a 400.
        let invalid = [("idempotency-key", "bad-body-1")];
        app.call(Method::POST, "/v1/organizations", &invalid, Some(&json!({ "name": "" }))).await.expect_problem(422);
        let again = app.call(Method::POST, "/v1/organizations", &invalid, Some(&json!({ "name": "" }))).await;
        assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
        again.expect_problem(422);
        app.call(Method::POST, "/v1/organizations", &[("idempotency-key", "has space")], Some(&body)).await.expect_problem(400);
    }

    async fn concurrent_repeats_create_one_row(app) {
        let body = json!({ "email": "same@acme.test", "name": "Same" });
        let headers = [("idempotency-key", "user-same")];
        let calls = (0..4).map(|_| app.call(Method::POST, "/v1/users", &headers, Some(&body)));
        let responses = futures_util::future::join_all(calls).await;
        for response in &responses {
            assert!(matches!(response.status.as_u16(), 201 | 409), "{}: {}", response.status, response.text());
        }
        assert!(responses.iter().any(|r| r.status.as_u16() == 201));
        let users = app.get("/v1/users?email=same@acme.test").await.json();
        assert_eq!(users["items"].as_array().unwrap().len(), 1, "exactly one user");
        // Once the first has finished, a repeat is a replay.
        let replay = app.call(Method::POST, "/v1/users", &headers, Some(&body)).await;
        assert_eq!(replay.header("idempotent-replayed").as_deref(), Some("true"));
        replay.expect_status(201);
    }
}
