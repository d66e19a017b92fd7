//! The Keel server: configuration, wiring and start-up. `main.rs` is the CLI on top of this;
//! the black-box tests start the server through [`start`] exactly as `keel serve` does.

pub mod config;
pub mod telemetry;

use std::net::SocketAddr;
use std::time::Duration;

use actix_web::HttpServer;
use actix_web::dev::Server;
use keel_http::{HttpSettings, Shared};
use keel_persistence::repo::secrets;
use keel_persistence::{Database, DatabaseUrl, PoolOptions, StoreError};
use rand::RngCore;

pub use config::Config;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: String, source: std::io::Error },
}

/// Opens the configured database (creating a SQLite file if needed).
pub fn open_database(config: &Config) -> Result<Database, StoreError> {
    let url = DatabaseUrl::parse(&config.database_url)?;
    Database::open(
        url,
        &PoolOptions {
            max_size: config.db_pool_size,
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
    rand::rng().fill_bytes(&mut key);
    key.iter().map(|b| format!("{b:02x}")).collect()
}

/// Migrates the database and starts the HTTP server. Returns the server (to await or stop) and
/// the address it listens on (the port is chosen by the OS when the configured one is 0).
pub fn start(config: &Config) -> Result<(Server, SocketAddr), StartError> {
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
    let shared = Shared::new(db, cursor_key.as_bytes(), HttpSettings { max_body_bytes: config.max_body_bytes });
    let mut server =
        HttpServer::new(move || keel_http::build_app(&shared)).shutdown_timeout(config.shutdown_timeout_secs);
    if config.workers > 0 {
        server = server.workers(config.workers);
    }
    let server = server.bind(&config.bind).map_err(|source| StartError::Bind { addr: config.bind.clone(), source })?;
    let addr = server.addrs().first().copied().ok_or_else(|| StartError::Bind {
        addr: config.bind.clone(),
        source: std::io::Error::other("no address bound"),
    })?;
    tracing::info!(%addr, "listening");
    Ok((server.run(), addr))
}
