//! The Keel server: configuration, wiring and start-up. `main.rs` is the CLI on top of this;
//! the black-box tests start the server through [`start`] exactly as `keel serve` does.

pub mod config;
pub mod delivery;
pub mod telemetry;
pub mod webhooks;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use actix_web::HttpServer;
use actix_web::dev::Server;
use keel_domain::DomainError;
use keel_domain::audit::{Actor, CommandContext};
use keel_domain::user::{User, UserStatus};
use keel_http::auth::{ExternalIdp, KeyError, KeyFile, TokenService, TokenSettings};
use keel_http::{HttpSettings, Shared};
use keel_persistence::repo::{secrets, users};
use keel_persistence::{Database, DatabaseUrl, PoolOptions, StoreError};

pub use config::Config;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: String, source: std::io::Error },
    #[error(transparent)]
    Keys(#[from] KeyError),
    #[error("{0}")]
    Invalid(String),
}

/// Opens the configured database (creating a SQLite file if needed).
pub fn open_database(config: &Config) -> Result<Database, StoreError> {
    let url = DatabaseUrl::parse(&config.database_url)?;
    Database::open(
        url,
        &PoolOptions {
            max_size: config.pool_size(),
            acquire_timeout: Duration::from_secs(config.db_acquire_timeout_secs.max(1)),
        },
    )
}

/// Applies pending migrations; returns the versions applied.
pub fn migrate(db: &Database) -> Result<Vec<String>, StoreError> {
    let mut conn = db.conn()?;
    keel_persistence::migrations::run_pending(&mut conn)
}

fn random_key() -> String {
    let mut key = [0u8; 32];
    keel_http::auth::rand_fill(&mut key);
    key.iter().map(|b| format!("{b:02x}")).collect()
}

/// The token service: Keel's signing keys (created on first use) and, when configured, the
/// external identity provider's public keys.
pub fn token_service(config: &Config) -> Result<TokenService, StartError> {
    let keys = KeyFile::load_or_create(&config.jwt_keys_path())?;
    let idp_settings = [&config.idp_issuer, &config.idp_audience, &config.idp_keys_file];
    let idp = match idp_settings.iter().filter(|s| !s.is_empty()).count() {
        0 => None,
        3 => Some(ExternalIdp::load(
            config.idp_issuer.clone(),
            config.idp_audience.clone(),
            Path::new(&config.idp_keys_file),
        )?),
        _ => {
            return Err(StartError::Invalid(
                "idp_issuer, idp_audience and idp_keys_file must be set together".to_owned(),
            ));
        }
    };
    let settings = TokenSettings {
        issuer: config.token_issuer.clone(),
        audience: config.token_audience.clone(),
        user_ttl: Duration::from_secs(config.user_token_ttl_secs.max(1)),
        client_ttl: Duration::from_secs(config.client_token_ttl_secs.max(1)),
    };
    Ok(TokenService::new(&keys, settings, idp))
}

fn operator(command: &str) -> CommandContext {
    CommandContext { actor: Actor::System, request_id: format!("cli:{command}") }
}

/// Creates the first admin, or makes an existing active user an admin. Running it again changes
/// nothing. Returns the admin and whether anything changed.
pub fn bootstrap_admin(db: &Database, email: &str, name: &str) -> Result<(User, bool), StartError> {
    let mut conn = db.conn()?;
    let (user, done) = keel_commands::users::bootstrap_admin(&mut conn, &operator("bootstrap-admin"), email, name)
        .map_err(|error| match error {
            StoreError::Domain(DomainError::Conflict { message, .. }) => StartError::Invalid(message),
            other => other.into(),
        })?;
    Ok((user, done != keel_commands::users::Bootstrap::AlreadyAdmin))
}

/// An access token for an existing, active user (for operators and scripts).
pub fn issue_token(config: &Config, db: &Database, email: &str, ttl: Option<Duration>) -> Result<String, StartError> {
    let mut conn = db.conn()?;
    let user = users::find_by_email(&mut conn, email)?
        .ok_or_else(|| StartError::Invalid(format!("no user has the email {email}")))?;
    if user.status != UserStatus::Active {
        return Err(StartError::Invalid(format!("{email} is deactivated")));
    }
    Ok(token_service(config)?.issue_for_user(&user, ttl).access_token)
}

/// A sign-in link for the person with this email to one of the pages (`/home` by default), as an
/// operator hands it over when mail does not reach them.
pub fn sign_in_link(config: &Config, db: &Database, email: &str, target: &str) -> Result<String, StartError> {
    let email = keel_domain::user::Email::parse(email).map_err(|e| StartError::Invalid(format!("{email}: {e}")))?;
    let target = keel_domain::pages::PageTarget::parse(target)
        .ok_or_else(|| StartError::Invalid(format!("{target} is not a page a link can lead to")))?;
    let addr = config.bind.parse().unwrap_or_else(|_| std::net::SocketAddr::from(([127, 0, 0, 1], 8080)));
    let links = page_settings(config, addr).links;
    let ctx = keel_domain::audit::CommandContext {
        actor: keel_domain::audit::Actor::System,
        request_id: "cli:sign-in-link".to_owned(),
    };
    let mut conn = db.conn()?;
    keel_commands::pages::issue_for_operator(&mut conn, &ctx, &email, target, &links)?.ok_or_else(|| {
        StartError::Invalid(format!(
            "{email} may not sign in to {target:?} now (unknown, deactivated, on hold or not on the engagement)",
            email = email.as_str()
        ))
    })
}

/// Fills the database with generated data (see `keel_persistence::seed`); `progress` hears how
/// many engagements have been written.
pub fn seed(
    db: &Database,
    plan: &keel_persistence::seed::SeedPlan,
    progress: &mut dyn FnMut(u64),
) -> Result<keel_persistence::seed::SeedReport, StartError> {
    let mut conn = db.conn()?;
    Ok(keel_persistence::seed::seed(&mut conn, plan, progress)?)
}

/// Adds a new signing key to the key set; tokens signed with older keys stay valid until they
/// expire or the key is removed from the file.
pub fn rotate_keys(config: &Config) -> Result<String, StartError> {
    let path = config.jwt_keys_path();
    let mut keys = KeyFile::load_or_create(&path)?;
    let kid = keys.rotate().kid.clone();
    keys.save(&path)?;
    Ok(kid)
}

/// SIGTERM (an orchestrator stopping Keel): readiness turns 503 at once, requests keep being
/// served for `drain` (a request whose head or body is still arriving completes, and the load
/// balancer notices readiness and stops sending), then the server stops gracefully: no new
/// connections, in-flight requests finish within `shutdown_timeout_secs`. SIGINT (Ctrl-C) and
/// SIGQUIT skip the drain.
async fn stop_on_signal(handles: Handles, draining: std::sync::Arc<std::sync::atomic::AtomicBool>, drain: Duration) {
    use actix_web::rt::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int), Ok(mut quit)) =
        (signal(SignalKind::terminate()), signal(SignalKind::interrupt()), signal(SignalKind::quit()))
    else {
        tracing::error!("cannot listen for signals; stop Keel with SIGKILL");
        return;
    };
    let signals: [std::pin::Pin<Box<dyn std::future::Future<Output = bool>>>; 3] = [
        Box::pin(async move { term.recv().await.is_some() }),
        Box::pin(async move { int.recv().await.is_none() }),
        Box::pin(async move { quit.recv().await.is_none() }),
    ];
    // true for SIGTERM (its stream yields), false for the others.
    let (terminate, _, _) = futures_util::future::select_all(signals).await;
    draining.store(true, std::sync::atomic::Ordering::Relaxed);
    if terminate && !drain.is_zero() {
        tracing::info!(drain_secs = drain.as_secs(), "SIGTERM: readiness says 503; serving on for the drain period");
        actix_web::rt::time::sleep(drain).await;
    }
    tracing::info!("stopping: no new connections; in-flight requests finish");
    handles.stop().await;
}

/// A started instance: the HTTP server (to await or stop), the address it listens on (the port is
/// chosen by the OS when the configured one is 0) and the delivery worker.
pub struct Started {
    pub server: Server,
    pub addr: SocketAddr,
    /// The metrics listener's address, with `metrics_bind`.
    pub metrics_addr: Option<SocketAddr>,
    /// Stops the API's server and the metrics listener together.
    pub handles: Handles,
    /// Stop it with `abort()` once the server has stopped: a delivery cut short keeps its lease
    /// and is made again (by any instance) when the lease runs out; nothing is lost.
    pub worker: actix_web::rt::task::JoinHandle<()>,
}

/// Migrates the database and starts the HTTP server and the delivery worker (on the current
/// actix runtime).
/// Where people reach this Keel (`public_base_url`, or the bound address when it is not set), how
/// long links in mails last, and whether cookies need https.
fn page_settings(config: &Config, addr: std::net::SocketAddr) -> keel_http::state::PageSettings {
    let base = if config.public_base_url.trim().is_empty() {
        format!("http://{addr}")
    } else {
        config.public_base_url.trim().to_owned()
    };
    let ttl = Duration::from_secs(u64::from(config.page_link_ttl_days.clamp(1, 90)) * 86_400);
    keel_http::state::PageSettings {
        secure_cookies: base.starts_with("https://"),
        links: keel_commands::pages::Links::new(&base, ttl),
    }
}

pub fn start(config: &Config) -> Result<Started, StartError> {
    let db = open_database(config)?;
    let applied = migrate(&db)?;
    if !applied.is_empty() {
        tracing::info!(?applied, "migrations applied");
    }
    let cursor_key = {
        let mut conn = db.conn()?;
        secrets::get_or_create(&mut conn, "cursor_hmac_key", random_key)?
    };
    tracing::info!(database = %db.url().redacted(), backend = %db.backend(), "database ready");
    let tokens = token_service(config)?;
    let listener = std::net::TcpListener::bind(&config.bind)
        .map_err(|source| StartError::Bind { addr: config.bind.clone(), source })?;
    let addr = listener.local_addr().map_err(|source| StartError::Bind { addr: config.bind.clone(), source })?;
    let pages = page_settings(config, addr);
    let shared = Shared::new(
        db,
        cursor_key.as_bytes(),
        tokens,
        HttpSettings {
            max_body_bytes: config.max_body_bytes,
            sign_in_url: Some(config.sign_in_url.clone()).filter(|u| !u.is_empty()),
            limits: keel_http::limits::LimitSettings {
                per_ip_per_minute: config.auth_rate_per_ip_per_minute,
                per_identity_per_minute: config.auth_rate_per_identity_per_minute,
                trust_forwarded: config.trust_forwarded_for,
            },
            api_rate_per_minute: config.api_rate_per_minute,
            principal_cache: Duration::from_millis(config.principal_cache_ms),
            webhooks: keel_http::WebhookSettings {
                allow_internal: config.webhook_allow_internal,
                secret_overlap: Duration::from_secs(config.webhook_secret_overlap_secs),
            },
            pages,
            metrics_elsewhere: !config.metrics_bind.trim().is_empty(),
        },
    );
    // Database work runs on each worker's blocking threads; more of them than there are pooled
    // connections would only wait for one, so the excess queues as tasks instead of threads.
    let workers = config.worker_count();
    let blocking = (config.pool_size() as usize).div_ceil(workers).max(1);
    let draining = shared.state.draining.clone();
    let metrics = start_metrics(config, shared.state.clone())?;
    let server = HttpServer::new(move || keel_http::build_app(&shared))
        .disable_signals()
        .shutdown_timeout(config.shutdown_timeout_secs)
        .workers(workers)
        .worker_max_blocking_threads(blocking);
    let server = server.listen(listener).map_err(|source| StartError::Bind { addr: config.bind.clone(), source })?;
    tracing::info!(%addr, "listening");
    let worker = delivery::Worker {
        db: open_database(config)?,
        mailer: delivery::Mailer::from_config(config)?,
        webhooks: webhooks::WebhookSender::from_config(config),
        retry: keel_domain::outbox::RetryPolicy {
            base: Duration::from_millis(config.outbox_retry_base_ms.max(1)),
            ..Default::default()
        },
        poll: Duration::from_millis(config.outbox_poll_ms.max(10)),
        lease: delivery::LEASE,
    };
    let worker = actix_web::rt::spawn(worker.run());
    let server = server.run();
    let (metrics_addr, metrics_handle) = match metrics {
        Some((addr, metrics)) => {
            let handle = metrics.handle();
            actix_web::rt::spawn(metrics);
            (Some(addr), Some(handle))
        }
        None => (None, None),
    };
    let handles = Handles { api: server.handle(), metrics: metrics_handle };
    actix_web::rt::spawn(stop_on_signal(handles.clone(), draining, Duration::from_secs(config.shutdown_drain_secs)));
    Ok(Started { server, addr, worker, metrics_addr, handles })
}

/// The servers of one instance: the API's and, with `metrics_bind`, the metrics listener's.
#[derive(Clone)]
pub struct Handles {
    pub api: actix_web::dev::ServerHandle,
    pub metrics: Option<actix_web::dev::ServerHandle>,
}

impl Handles {
    /// Stops both (gracefully: in-flight requests finish).
    pub async fn stop(&self) {
        if let Some(metrics) = &self.metrics {
            metrics.stop(true).await;
        }
        self.api.stop(true).await;
    }
}

/// With `metrics_bind`: a listener of its own that serves `/metrics` and nothing else, so an
/// operator can keep the metrics off the public port (see the README, Operations).
fn start_metrics(
    config: &Config,
    state: actix_web::web::Data<keel_http::state::AppState>,
) -> Result<Option<(SocketAddr, Server)>, StartError> {
    let bind = config.metrics_bind.trim();
    if bind.is_empty() {
        return Ok(None);
    }
    let failed = |source| StartError::Bind { addr: bind.to_owned(), source };
    let listener = std::net::TcpListener::bind(bind).map_err(failed)?;
    let addr = listener.local_addr().map_err(failed)?;
    let server = HttpServer::new(move || {
        actix_web::App::new()
            .app_data(state.clone())
            .route("/metrics", actix_web::web::get().to(keel_http::api::ops::render_metrics))
            .default_service(actix_web::web::to(actix_web::HttpResponse::NotFound))
    })
    .disable_signals()
    .workers(1)
    .listen(listener)
    .map_err(failed)?
    .run();
    tracing::info!(%addr, "metrics listening");
    Ok(Some((addr, server)))
}
