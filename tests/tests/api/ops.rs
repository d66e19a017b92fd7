//! Operations endpoints and the published contract.

use std::time::{Duration, Instant};

use keel_tests::{Backend, TcpProxy, TestApp, TestDatabase, both_backends};
use serde_json::json;

both_backends! {
    async fn health_and_readiness(app) {
        assert_eq!(app.get("/healthz").await.expect_status(200).json(), json!({ "status": "ok" }));
        let ready = app.get("/readyz").await.expect_status(200).json();
        let backend = if app.backend == Backend::Postgres { "postgres" } else { "sqlite" };
        assert_eq!(ready, json!({ "status": "ready", "database": backend }));
    }

    async fn metrics_count_requests_by_route_and_status(app) {
        app.create_org("Acme").await;
        app.get(&format!("/v1/organizations/{}", uuid::Uuid::now_v7())).await.expect_status(404);
        let response = app.get("/metrics").await.expect_status(200);
        assert!(response.header("content-type").unwrap().starts_with("text/plain"));
        let text = response.text();
        assert!(
            text.contains(r#"keel_http_requests_total{method="POST",route="/v1/organizations",status="201"} 1"#),
            "{text}"
        );
        assert!(text.contains(r#"keel_http_requests_total{method="GET",route="/v1/organizations/{org_id}",status="404"} 1"#));
        assert!(text.contains("keel_http_request_duration_seconds_bucket{"));
        assert!(text.contains("keel_db_pool_max_connections 4"), "pool gauges");
        assert!(text.contains("keel_outbox_pending{kind=\"email\"} 0"), "the empty queue is shown: {text}");
    }

    async fn the_served_document_is_the_committed_one(app) {
        let served = app.get("/openapi.json").await.expect_status(200).text();
        let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/openapi.json")).unwrap();
        assert_eq!(served, committed, "GET /openapi.json must serve openapi/openapi.json");
        let redirect = app.get("/docs").await.expect_status(308);
        assert_eq!(redirect.header("location").as_deref(), Some("/docs/"));
        let docs = app.get("/docs/").await.expect_status(200);
        assert!(docs.text().contains("swagger-ui"), "Swagger UI page");
        // A page for people, not an operation of the contract; another method is still a 405.
        assert!(!committed.contains("\"/docs"), "the docs page is not in the document");
        app.call(actix_web::http::Method::POST, "/docs", &[], None).await.expect_status(405);
    }
}

async fn wait_for_status(app: &TestApp, path: &str, status: u16) -> keel_tests::Response {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let response = app.get(path).await;
        if response.status.as_u16() == status || Instant::now() > deadline {
            return response;
        }
        actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Readiness follows the database: 503 while it is unreachable, 200 again once it is back,
/// without a restart. The database is cut off through a TCP proxy, so no other test is affected.
#[actix_web::test]
async fn readiness_follows_an_unreachable_database_without_restart() {
    let Some(db) = TestDatabase::create(Backend::Postgres) else { return };
    let proxy = TcpProxy::start(keel_tests::postgres_address());
    let proxied_url = db.url().replacen(&keel_tests::postgres_address(), &proxy.address(), 1);
    let config = keel::Config { db_pool_size: 2, db_acquire_timeout_secs: 1, ..keel_tests::test_config(&proxied_url) };
    let app = TestApp::start(config, db);
    app.get("/readyz").await.expect_status(200);

    proxy.cut();
    let problem = wait_for_status(&app, "/readyz", 503).await.expect_problem(503);
    assert_eq!(problem["code"], "database_unavailable");
    let response = app.get("/v1/organizations").await;
    assert_eq!(response.header("retry-after").as_deref(), Some("5"));
    response.expect_problem(503);
    app.get("/healthz").await.expect_status(200);

    proxy.restore();
    wait_for_status(&app, "/readyz", 200).await.expect_status(200);
    app.get("/v1/organizations").await.expect_status(200);
}

/// The committed OpenAPI document is what the code generates.
#[test]
fn committed_openapi_document_is_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/openapi.json");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    let generated = keel_http::openapi::document_json();
    assert!(
        committed == generated,
        "openapi/openapi.json is stale: regenerate it with `cargo run -p keel -- openapi > openapi/openapi.json`"
    );
}

/// Every operation has an operationId, tags and the standard error responses.
#[test]
fn every_operation_is_fully_documented() {
    let doc: serde_json::Value = serde_json::from_str(&keel_http::openapi::document_json()).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["license"]["identifier"], "Apache-2.0");
    let mut ids = std::collections::HashSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            assert!(ids.insert(id.to_owned()), "duplicate operationId {id}");
            assert!(op["tags"].as_array().is_some_and(|t| !t.is_empty()), "{id} has no tag");
            let responses = op["responses"].as_object().unwrap();
            if path.starts_with("/v1/") {
                for status in ["500", "503"] {
                    assert!(responses.contains_key(status), "{id} lacks {status}");
                }
            }
            if op.get("requestBody").is_some() {
                // The OAuth token endpoint answers in RFC 6749's format: no 415 or 422.
                let statuses: &[&str] =
                    if id == "issue_token" { &["400", "413"] } else { &["400", "413", "415", "422"] };
                for status in statuses {
                    assert!(responses.contains_key(*status), "{id} lacks {status}");
                }
            }
            if path.contains('{') {
                assert!(responses.contains_key("404"), "{id} lacks 404");
            }
        }
    }
    assert!(ids.len() >= 13, "{ids:?}");

    // Every $ref points at something in the document.
    fn refs<'a>(value: &'a serde_json::Value, found: &mut Vec<&'a str>) {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(serde_json::Value::String(target)) = map.get("$ref") {
                    found.push(target);
                }
                map.values().for_each(|v| refs(v, found));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| refs(v, found)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    refs(&doc, &mut found);
    for target in found {
        let pointer = target.strip_prefix('#').expect("local reference");
        assert!(doc.pointer(pointer).is_some(), "dangling reference {target}");
    }
}
