//! What every handler shares.

use std::sync::Arc;

use actix_web::web;
use keel_commands::{Database, DbConnection, StoreError, statements_on_this_thread};

use crate::auth::TokenService;
use crate::cursor::CursorCodec;
use crate::metrics::Metrics;
use crate::problem::ApiError;

pub struct AppState {
    pub db: Database,
    pub metrics: Metrics,
    pub cursors: CursorCodec,
    pub tokens: TokenService,
    pub limits: crate::limits::Limits,
    pub api_limits: crate::limits::ApiLimits,
    /// The front-end page that redeems sign-in links, if any.
    pub sign_in_url: Option<String>,
    pub webhooks: crate::WebhookSettings,
    /// The OpenAPI document, rendered once.
    pub openapi_json: Arc<str>,
    /// Recently resolved callers (see `principal::PrincipalCache`).
    pub principals: crate::principal::PrincipalCache,
    /// Where the pages are reached and how their links and cookies are made.
    pub pages: PageSettings,
    /// `/metrics` has a listener of its own (`metrics_bind`): on the API's it is not there.
    pub metrics_elsewhere: bool,
    /// Set when shutdown was asked for: readiness answers 503 while requests are still served
    /// for the drain period, so a load balancer stops sending new ones first.
    pub draining: Arc<std::sync::atomic::AtomicBool>,
}

/// What the pages and the mails that link to them need from the configuration.
#[derive(Clone, Debug, Default)]
pub struct PageSettings {
    /// The address of this Keel (`public_base_url`) and how long links in mails last.
    pub links: keel_commands::pages::Links,
    /// Mark cookies `Secure` (Keel is reached over https).
    pub secure_cookies: bool,
}

impl AppState {
    /// Runs blocking database work on the blocking pool with a pooled connection.
    pub async fn run<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, StoreError> + Send + 'static,
    {
        let db = self.db.clone();
        let (result, statements, time) = web::block(move || {
            let (before, started) = (statements_on_this_thread(), std::time::Instant::now());
            let result = db.conn().and_then(|mut conn| work(&mut conn));
            (result, statements_on_this_thread() - before, started.elapsed())
        })
        .await
        .map_err(|e| ApiError::Internal(format!("blocking task failed: {e}")))?;
        crate::dbtiming::add(statements, time);
        result.map_err(ApiError::from)
    }
}
