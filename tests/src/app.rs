//! A running Keel for one test: its own database (see [`crate::database`]), data directory and
//! server on a free loopback port, with an admin and an HTTP client; and the responses it gives.

use std::time::Duration;

use actix_web::http::{Method, StatusCode, header::HeaderMap};
use keel::Config;
use serde_json::Value;

use crate::database::{Backend, TestDatabase};

/// The configuration of a test server on `database_url`.
pub fn test_config(database_url: &str) -> Config {
    Config {
        database_url: database_url.to_owned(),
        bind: "127.0.0.1:0".to_owned(),
        workers: 1,
        db_pool_size: 4,
        db_acquire_timeout_secs: 2,
        // High enough for tests that call the credential endpoints many times; the limit tests
        // set their own.
        auth_rate_per_ip_per_minute: 10_000,
        auth_rate_per_identity_per_minute: 10_000,
        api_rate_per_minute: 100_000,
        // Webhook receivers in tests listen on loopback; the URL tests turn this off.
        webhook_allow_internal: true,
        ..Config::default()
    }
}

/// A running Keel with its own database and data directory, an admin, and an HTTP client.
pub struct TestApp {
    pub base_url: String,
    pub backend: Backend,
    pub client: awc::Client,
    pub config: Config,
    /// The bootstrapped admin's id and token (sent by default).
    pub admin_id: String,
    pub admin_token: String,
    handles: keel::Handles,
    /// The metrics listener's address, when the configuration sets `metrics_bind`.
    pub metrics_addr: Option<std::net::SocketAddr>,
    worker: actix_web::rt::task::JoinHandle<()>,
    // Declared last: dropped after the server is told to stop.
    pub db: TestDatabase,
    _data_dir: tempfile::TempDir,
}

pub const ADMIN_EMAIL: &str = "admin@keel.test";

impl TestApp {
    /// Starts Keel on `backend`; `None` when that backend is unavailable (PostgreSQL, not required).
    pub async fn spawn(backend: Backend) -> Option<TestApp> {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Starts Keel with the configuration adjusted by `adjust`.
    pub async fn spawn_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> Option<TestApp> {
        let db = TestDatabase::create(backend)?;
        let mut config = test_config(db.url());
        adjust(&mut config);
        Some(Self::start(config, db))
    }

    /// Starts Keel with `config` (its `data_dir` is replaced by a fresh temporary directory).
    pub fn start(mut config: Config, db: TestDatabase) -> TestApp {
        let data_dir = tempfile::tempdir().expect("data directory");
        config.data_dir = data_dir.path().display().to_string();
        let keel::Started { server, addr, worker, metrics_addr, handles } = keel::start(&config).expect("keel starts");
        actix_web::rt::spawn(server);
        let database = keel::open_database(&config).expect("database");
        let (admin, _) = keel::bootstrap_admin(&database, ADMIN_EMAIL, "Test Admin").expect("admin");
        let admin_token = keel::issue_token(&config, &database, ADMIN_EMAIL, None).expect("admin token");
        TestApp {
            base_url: format!("http://{addr}"),
            backend: if config.database_url.starts_with("postgres") { Backend::Postgres } else { Backend::Sqlite },
            client: awc::Client::builder().timeout(Duration::from_secs(30)).disable_redirects().finish(),
            config,
            admin_id: admin.id.to_string(),
            admin_token,
            handles,
            metrics_addr,
            worker,
            db,
            _data_dir: data_dir,
        }
    }

    /// Stops this instance (server and delivery worker, as a process exit would) and starts a
    /// new one on the same database and data directory, with the configuration adjusted.
    pub async fn restart_with(&mut self, adjust: impl FnOnce(&mut Config)) {
        self.handles.stop().await;
        self.worker.abort();
        adjust(&mut self.config);
        let keel::Started { server, addr, worker, metrics_addr, handles } =
            keel::start(&self.config).expect("keel restarts");
        self.handles = handles;
        self.metrics_addr = metrics_addr;
        actix_web::rt::spawn(server);
        self.worker = worker;
        self.base_url = format!("http://{addr}");
    }

    /// An access token for the user with this email, as `keel token` would print it.
    pub fn token_for(&self, email: &str) -> String {
        let database = keel::open_database(&self.config).expect("database");
        keel::issue_token(&self.config, &database, email, None).expect("token")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Sends a request as the admin; `body` is sent as JSON when given.
    pub async fn call(&self, method: Method, path: &str, headers: &[(&str, &str)], body: Option<&Value>) -> Response {
        self.call_as(Some(&self.admin_token), method, path, headers, body).await
    }

    /// Sends a request with `token` (or none).
    pub async fn call_as(
        &self,
        token: Option<&str>,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Response {
        let raw = body.map(|b| serde_json::to_vec(b).expect("json"));
        let content_type = body.map(|_| "application/json");
        self.send_with(token, method, path, headers, content_type, raw).await
    }

    /// Sends raw bytes with `token` (or none) as the bearer token.
    async fn send_with(
        &self,
        token: Option<&str>,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        content_type: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> Response {
        let authorization = token.map(|t| format!("Bearer {t}"));
        let mut all: Vec<(&str, &str)> = authorization.iter().map(|a| ("authorization", a.as_str())).collect();
        all.extend_from_slice(headers);
        self.send_raw(method, path, &all, content_type, body).await
    }

    /// A form-encoded request to the OAuth token endpoint (no bearer token).
    pub async fn oauth_token(&self, headers: &[(&str, &str)], form: &str) -> Response {
        let content_type = Some("application/x-www-form-urlencoded");
        self.send_raw(Method::POST, "/v1/oauth/token", headers, content_type, Some(form.as_bytes().to_vec())).await
    }

    /// Sends raw bytes with the given content type, as the admin.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        content_type: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> Response {
        self.send_with(Some(&self.admin_token), method, path, headers, content_type, body).await
    }

    /// Sends exactly these headers and body.
    pub async fn send_raw(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        content_type: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> Response {
        let mut request = self.client.request(method, self.url(path));
        for (name, value) in headers {
            request = request.insert_header((*name, *value));
        }
        if let Some(content_type) = content_type {
            request = request.insert_header(("content-type", content_type));
        }
        let mut response = match body {
            Some(bytes) => request.send_body(bytes).await,
            None => request.send().await,
        }
        .expect("request sent");
        let body = response.body().limit(64 * 1024 * 1024).await.expect("response body");
        Response { status: response.status(), headers: response.headers().clone(), body: body.to_vec() }
    }

    pub async fn get(&self, path: &str) -> Response {
        self.call(Method::GET, path, &[], None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.call(Method::POST, path, &[], Some(body)).await
    }

    pub async fn patch(&self, path: &str, if_match: Option<&str>, body: &Value) -> Response {
        let headers: Vec<(&str, &str)> = if_match.map(|v| ("if-match", v)).into_iter().collect();
        self.call(Method::PATCH, path, &headers, Some(body)).await
    }

    pub async fn delete(&self, path: &str, if_match: Option<&str>) -> Response {
        let headers: Vec<(&str, &str)> = if_match.map(|v| ("if-match", v)).into_iter().collect();
        self.call(Method::DELETE, path, &headers, None).await
    }

    /// Creates an organization and returns its JSON.
    pub async fn create_org(&self, name: &str) -> Value {
        let response = self.post("/v1/organizations", &serde_json::json!({ "name": name })).await;
        response.expect_status(201).json()
    }

    /// Creates a user and returns its JSON.
    pub async fn create_user(&self, body: Value) -> Value {
        self.post("/v1/users", &body).await.expect_status(201).json()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Sends the stop command now; the returned future only waits for completion.
        drop(self.handles.api.stop(false));
        if let Some(metrics) = &self.handles.metrics {
            drop(metrics.stop(false));
        }
        self.worker.abort();
    }
}

/// A response, fully read.
#[derive(Debug)]
pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).map(|v| v.to_str().expect("ascii header").to_owned())
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn expect_status(self, status: u16) -> Response {
        assert_eq!(self.status.as_u16(), status, "unexpected status; body: {}", self.text());
        self
    }

    /// Asserts an RFC 9457 problem document with this status; returns it.
    #[track_caller]
    pub fn expect_problem(self, status: u16) -> Value {
        let response = self.expect_status(status);
        assert_eq!(
            response.header("content-type").as_deref(),
            Some("application/problem+json"),
            "problem content type; body: {}",
            response.text()
        );
        let problem = response.json();
        assert_eq!(problem["status"], status, "status member");
        assert!(problem["type"].is_string() && problem["title"].is_string() && problem["detail"].is_string());
        problem
    }
}
