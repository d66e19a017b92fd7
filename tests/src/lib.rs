//! Test support: each test gets its own database (a SQLite file in a temporary directory, or a
//! PostgreSQL schema) and its own Keel server on a free loopback port, so tests run in parallel
//! with no clean-up code and no shared state.
//!
//! PostgreSQL is found at `KEEL_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432`).
//! When it cannot be reached the PostgreSQL variants say so on stderr and pass without running,
//! unless `KEEL_REQUIRE_POSTGRES=1` (set by `.ci/run`), in which case they fail.

use std::io::Write;

use std::sync::OnceLock;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::http::{Method, StatusCode, header::HeaderMap};
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use keel::Config;
use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

const TEST_DATABASE: &str = "keel_test";

fn postgres_base() -> String {
    std::env::var("KEEL_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
        .trim_end_matches('/')
        .to_owned()
}

fn postgres_required() -> bool {
    std::env::var("KEEL_REQUIRE_POSTGRES").is_ok_and(|v| v == "1" || v == "true")
}

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

/// Whether PostgreSQL is reachable (checked once per test process); creates the test database.
fn postgres_available() -> bool {
    static AVAILABLE: OnceLock<Result<(), String>> = OnceLock::new();
    let result = AVAILABLE.get_or_init(|| {
        let base = postgres_base();
        let mut admin =
            PgConnection::establish(&format!("{base}/postgres?connect_timeout=5")).map_err(|e| e.to_string())?;
        // Concurrent test processes may race to create it; "already exists" is fine.
        let _ = admin.batch_execute(&format!("CREATE DATABASE {TEST_DATABASE}"));
        PgConnection::establish(&format!("{base}/{TEST_DATABASE}")).map(|_| ()).map_err(|e| e.to_string())
    });
    match result {
        Ok(()) => true,
        Err(error) if postgres_required() => {
            panic!("PostgreSQL is required (KEEL_REQUIRE_POSTGRES=1) but unreachable at {}: {error}", postgres_base())
        }
        Err(error) => {
            static NOTICE: OnceLock<()> = OnceLock::new();
            NOTICE.get_or_init(|| {
                // Written past the test harness's capture so that it is seen.
                let _ = writeln!(
                    std::io::stderr(),
                    "\nNOTICE: PostgreSQL unreachable at {} ({error}); PostgreSQL tests SKIPPED, SQLite tests run.\n",
                    postgres_base()
                );
            });
            false
        }
    }
}

/// A database of one test, removed when dropped.
pub enum TestDatabase {
    Sqlite { _dir: tempfile::TempDir, url: String },
    Postgres { schema: String, url: String },
}

impl TestDatabase {
    /// A fresh, empty database; `None` when PostgreSQL is unavailable and not required.
    pub fn create(backend: Backend) -> Option<TestDatabase> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let url = format!("sqlite://{}", dir.path().join("keel.db").display());
                Some(TestDatabase::Sqlite { _dir: dir, url })
            }
            Backend::Postgres => {
                if !postgres_available() {
                    return None;
                }
                let schema = format!("t_{}", uuid::Uuid::now_v7().simple());
                let mut conn =
                    PgConnection::establish(&format!("{}/{TEST_DATABASE}", postgres_base())).expect("connect");
                conn.batch_execute(&format!("CREATE SCHEMA {schema}")).expect("create schema");
                let url = format!("{}/{TEST_DATABASE}?options=-csearch_path%3D{schema}", postgres_base());
                Some(TestDatabase::Postgres { schema, url })
            }
        }
    }

    pub fn url(&self) -> &str {
        match self {
            TestDatabase::Sqlite { url, .. } | TestDatabase::Postgres { url, .. } => url,
        }
    }

    /// A pool on this database, for tests that look underneath the API.
    pub fn open(&self) -> keel_persistence::Database {
        let url = keel_persistence::DatabaseUrl::parse(self.url()).expect("url");
        keel_persistence::Database::open(url, &keel_persistence::PoolOptions::default()).expect("open")
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let TestDatabase::Postgres { schema, .. } = self
            && let Ok(mut conn) = PgConnection::establish(&format!("{}/{TEST_DATABASE}", postgres_base()))
        {
            let _ = conn.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
        }
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
    handle: ServerHandle,
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
        let keel::Started { server, addr, worker } = keel::start(&config).expect("keel starts");
        let handle = server.handle();
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
            handle,
            worker,
            db,
            _data_dir: data_dir,
        }
    }

    /// Stops this instance (server and delivery worker, as a process exit would) and starts a
    /// new one on the same database and data directory, with the configuration adjusted.
    pub async fn restart_with(&mut self, adjust: impl FnOnce(&mut Config)) {
        self.handle.stop(true).await;
        self.worker.abort();
        adjust(&mut self.config);
        let keel::Started { server, addr, worker } = keel::start(&self.config).expect("keel restarts");
        self.handle = server.handle();
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
        drop(self.handle.stop(false));
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

/// Declares each test once and runs it on SQLite and on PostgreSQL:
/// `both_backends! { async fn name(app) { … } }` makes `sqlite::name` and `postgres::name`.
#[macro_export]
macro_rules! both_backends {
    ($(async fn $name:ident($app:ident) $body:block)*) => {
        mod sqlite {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[actix_web::test]
                async fn $name() {
                    let $app = $crate::TestApp::spawn($crate::Backend::Sqlite).await.expect("sqlite is always available");
                    $body
                }
            )*
        }
        mod postgres {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[actix_web::test]
                async fn $name() {
                    let Some($app) = $crate::TestApp::spawn($crate::Backend::Postgres).await else { return };
                    $body
                }
            )*
        }
    };
}

/// `host:port` of the test PostgreSQL server, as written in its URL.
pub fn postgres_address() -> String {
    let base = postgres_base();
    let after_scheme = base.split_once("://").map_or(base.as_str(), |(_, rest)| rest);
    let host = after_scheme.rsplit_once('@').map_or(after_scheme, |(_, host)| host);
    host.split('/').next().unwrap_or(host).to_owned()
}

/// A loopback TCP proxy that a test can cut and restore, to make a server unreachable for one
/// test without touching the server itself.
pub struct TcpProxy {
    address: std::net::SocketAddr,
    state: std::sync::Arc<ProxyState>,
}

#[derive(Default)]
struct ProxyState {
    cut: std::sync::atomic::AtomicBool,
    open: std::sync::Mutex<Vec<std::net::TcpStream>>,
    stopped: std::sync::atomic::AtomicBool,
}

impl TcpProxy {
    pub fn start(target: String) -> TcpProxy {
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let address = listener.local_addr().expect("proxy address");
        let state = std::sync::Arc::new(ProxyState::default());
        let shared = state.clone();
        std::thread::spawn(move || {
            for incoming in listener.incoming() {
                if shared.stopped.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = incoming else { continue };
                if shared.cut.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let Ok(upstream) = std::net::TcpStream::connect(&target) else { continue };
                let pipes = [(client.try_clone(), upstream.try_clone()), (upstream.try_clone(), client.try_clone())];
                for pipe in pipes {
                    if let (Ok(mut from), Ok(mut to)) = pipe {
                        std::thread::spawn(move || {
                            let _ = std::io::copy(&mut from, &mut to);
                            let _ = to.shutdown(std::net::Shutdown::Both);
                        });
                    }
                }
                shared.open.lock().unwrap().extend([client, upstream]);
            }
        });
        TcpProxy { address, state }
    }

    pub fn address(&self) -> String {
        self.address.to_string()
    }

    /// Refuses new connections and breaks the open ones.
    pub fn cut(&self) {
        self.state.cut.store(true, std::sync::atomic::Ordering::SeqCst);
        for stream in self.state.open.lock().unwrap().drain(..) {
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
    }

    pub fn restore(&self) {
        self.state.cut.store(false, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.cut();
        self.state.stopped.store(true, std::sync::atomic::Ordering::SeqCst);
        // Wake the accept loop so it sees `stopped`.
        let _ = std::net::TcpStream::connect(self.address);
    }
}

/// A minimal SMTP server (RFC 5321: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) on loopback
/// that keeps every message it receives, for tests that read the mail Keel sends.
pub struct SmtpSink {
    address: std::net::SocketAddr,
    mails: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    stopped: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl SmtpSink {
    pub fn start() -> SmtpSink {
        Self::start_on("127.0.0.1:0")
    }

    /// Listens on `address` (e.g. a port reserved earlier with [`free_port`]).
    pub fn start_on(address: &str) -> SmtpSink {
        let listener = std::net::TcpListener::bind(address).expect("bind SMTP sink");
        let address = listener.local_addr().expect("address");
        let mails = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let stopped = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (store, stop) = (mails.clone(), stopped.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    let store = store.clone();
                    std::thread::spawn(move || {
                        let _ = smtp_session(stream, &store);
                    });
                }
            }
        });
        SmtpSink { address, mails, stopped }
    }

    /// `smtp://127.0.0.1:<port>` for Keel's `smtp_url`.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.address)
    }

    /// The messages received, headers as sent and bodies decoded (as a mail client shows them).
    pub fn messages(&self) -> Vec<String> {
        self.mails.lock().unwrap().iter().map(|m| decode_message(m)).collect()
    }

    /// Waits up to `timeout` for a message whose raw text (as sent) contains every one of `needles`.
    pub async fn raw_wait_for(&self, needles: &[&str], timeout: Duration) -> Option<String> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let found = self.mails.lock().unwrap().iter().find(|m| needles.iter().all(|n| m.contains(n))).cloned();
            if let Some(mail) = found {
                return Some(mail);
            }
            if std::time::Instant::now() > deadline {
                return None;
            }
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits up to `timeout` for a message containing `needle`.
    pub async fn wait_for(&self, needle: &str, timeout: Duration) -> Option<String> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if let Some(mail) = self.messages().into_iter().find(|m| m.contains(needle)) {
                return Some(mail);
            }
            if std::time::Instant::now() > deadline {
                return None;
            }
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stopped.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = std::net::TcpStream::connect(self.address);
    }
}

fn smtp_session(stream: std::net::TcpStream, store: &std::sync::Mutex<Vec<String>>) -> std::io::Result<()> {
    use std::io::{BufRead, BufReader};
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    let mut reply = |text: &str| writer.write_all(text.as_bytes());
    reply("220 keel-test-smtp ESMTP ready\r\n")?;
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_ascii_uppercase();
        if command.starts_with("EHLO") {
            reply("250-keel-test-smtp\r\n250 8BITMIME\r\n")?;
        } else if command.starts_with("HELO") {
            reply("250 keel-test-smtp\r\n")?;
        } else if command.starts_with("MAIL FROM")
            || command.starts_with("RCPT TO")
            || command == "RSET"
            || command == "NOOP"
        {
            reply("250 OK\r\n")?;
        } else if command == "DATA" {
            reply("354 End data with <CR><LF>.<CR><LF>\r\n")?;
            let mut data = String::new();
            loop {
                line.clear();
                if reader.read_line(&mut line)? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" || line == ".\n" {
                    break;
                }
                // Dot-unstuffing (RFC 5321 §4.5.2).
                data.push_str(line.strip_prefix('.').unwrap_or(&line));
            }
            store.lock().unwrap().push(data);
            reply("250 OK: queued\r\n")?;
        } else if command == "QUIT" {
            reply("221 Bye\r\n")?;
            return Ok(());
        } else {
            reply("502 Command not implemented\r\n")?;
        }
    }
}

/// Decodes a quoted-printable body (RFC 2045 §6.7); other messages are returned as they are.
fn decode_message(raw: &str) -> String {
    let Some((headers, body)) = raw.split_once("\r\n\r\n") else { return raw.to_owned() };
    if !headers.to_ascii_lowercase().contains("content-transfer-encoding: quoted-printable") {
        return raw.to_owned();
    }
    let joined = body.replace("=\r\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Ok(byte) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    format!("{headers}\r\n\r\n{}", String::from_utf8_lossy(&out))
}

/// A loopback port that was free a moment ago (to start a server on later).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A request a [`WebhookReceiver`] got, and the status it answered.
#[derive(Clone, Debug)]
pub struct ReceivedHook {
    /// Header names in lower case.
    pub headers: std::collections::BTreeMap<String, String>,
    pub body: Vec<u8>,
    pub answered: u16,
}

impl ReceivedHook {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map(String::as_str).unwrap_or("")
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }
}

#[derive(Default)]
struct ReceiverState {
    requests: std::sync::Mutex<Vec<ReceivedHook>>,
    failures_left: std::sync::atomic::AtomicUsize,
}

/// A webhook receiver on loopback: a real HTTP server that records every request and answers 500
/// to the first `fail_first` ones, 200 after.
pub struct WebhookReceiver {
    pub address: std::net::SocketAddr,
    state: std::sync::Arc<ReceiverState>,
    handle: ServerHandle,
}

impl WebhookReceiver {
    pub fn start(fail_first: usize) -> WebhookReceiver {
        Self::start_on("127.0.0.1:0", fail_first)
    }

    /// Listens on `address` (e.g. a port reserved earlier with [`free_port`]).
    pub fn start_on(address: &str, fail_first: usize) -> WebhookReceiver {
        use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
        let state = std::sync::Arc::new(ReceiverState::default());
        state.failures_left.store(fail_first, std::sync::atomic::Ordering::SeqCst);
        let data = web::Data::from(state.clone());
        async fn receive(state: web::Data<ReceiverState>, request: HttpRequest, body: web::Bytes) -> HttpResponse {
            let fail = state
                .failures_left
                .fetch_update(std::sync::atomic::Ordering::SeqCst, std::sync::atomic::Ordering::SeqCst, |n| {
                    n.checked_sub(1)
                })
                .is_ok();
            let answered = if fail { 500 } else { 200 };
            let headers = request
                .headers()
                .iter()
                .map(|(name, value)| (name.as_str().to_owned(), value.to_str().unwrap_or_default().to_owned()))
                .collect();
            state.requests.lock().unwrap().push(ReceivedHook { headers, body: body.to_vec(), answered });
            if fail { HttpResponse::InternalServerError().body("not now") } else { HttpResponse::Ok().finish() }
        }
        let server = HttpServer::new(move || App::new().app_data(data.clone()).default_service(web::to(receive)))
            .workers(1)
            .disable_signals()
            .bind(address)
            .expect("bind the webhook receiver");
        let address = server.addrs()[0];
        let server = server.run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        WebhookReceiver { address, state, handle }
    }

    /// The URL to subscribe.
    pub fn url(&self) -> String {
        format!("http://{}/keel/events", self.address)
    }

    /// Every request received so far, in order.
    pub fn received(&self) -> Vec<ReceivedHook> {
        self.state.requests.lock().unwrap().clone()
    }

    /// Waits up to `timeout` until `count` requests were answered 200; returns every request.
    pub async fn wait_for_accepted(&self, count: usize, timeout: Duration) -> Vec<ReceivedHook> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let received = self.received();
            if received.iter().filter(|r| r.answered == 200).count() >= count || std::time::Instant::now() > deadline {
                return received;
            }
            actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

/// Verifies a delivery the way a receiver does, written from the Standard Webhooks specification
/// (not with Keel's code): the signed content is `{webhook-id}.{webhook-timestamp}.{body}`; the
/// key is the base64 after `whsec_`; `webhook-signature` holds space-separated `v1,<base64
/// HMAC-SHA256>` entries, one of which must match; the timestamp must be within `tolerance_secs`
/// of now.
pub fn verify_webhook(secret: &str, hook: &ReceivedHook, tolerance_secs: i64) -> Result<(), String> {
    use base64::Engine;
    use hmac::Mac;
    let engine = base64::engine::general_purpose::STANDARD;
    let id = hook.header("webhook-id");
    let timestamp = hook.header("webhook-timestamp");
    if id.is_empty() {
        return Err("no webhook-id".into());
    }
    let sent_at: i64 = timestamp.parse().map_err(|_| format!("bad webhook-timestamp {timestamp:?}"))?;
    let now = chrono::Utc::now().timestamp();
    if (now - sent_at).abs() > tolerance_secs {
        return Err(format!("timestamp {sent_at} is too far from now ({now})"));
    }
    let key = engine
        .decode(secret.strip_prefix("whsec_").ok_or("the secret lacks the whsec_ prefix")?)
        .map_err(|e| format!("secret: {e}"))?;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).map_err(|e| e.to_string())?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(&hook.body);
    for entry in hook.header("webhook-signature").split(' ') {
        if let Some(("v1", signature)) = entry.split_once(',')
            && let Ok(signature) = engine.decode(signature)
            && mac.clone().verify_slice(&signature).is_ok()
        {
            return Ok(());
        }
    }
    Err(format!("no signature matches: {:?}", hook.header("webhook-signature")))
}
