//! Operations endpoints: liveness, readiness, metrics, the OpenAPI document, and the fallback
//! for unknown routes (404) and wrong methods (405).

use std::time::Duration;

use actix_web::dev::ResourceDef;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse, get};
use serde::Serialize;
use utoipa::ToSchema;

use crate::problem::{ApiError, Problem};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: String,
}

#[derive(Serialize, ToSchema)]
pub struct Readiness {
    #[schema(example = "ready")]
    pub status: String,
    /// The database backend: `postgres` or `sqlite`.
    #[schema(example = "postgres")]
    pub database: String,
}

/// Liveness: the process is up. Does not touch the database.
#[utoipa::path(tag = "ops", responses((status = 200, description = "Alive", body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok".to_owned() })
}

/// Readiness: the database answers. 503 while it does not; ready again once it does.
#[utoipa::path(
    tag = "ops",
    responses(
        (status = 200, description = "Ready to serve", body = Readiness),
        (status = 503, description = "The database is unreachable (`database_unavailable`), or Keel is shutting down (`shutting_down`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/readyz")]
pub async fn readyz(state: Data<AppState>) -> Result<HttpResponse, ApiError> {
    if state.draining.load(std::sync::atomic::Ordering::Relaxed) {
        return Err(ApiError::problem(
            Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "Keel is shutting down; requests already sent are still served.",
            )
            .with_code("shutting_down"),
        ));
    }
    let backend = state.db.backend().to_string();
    let db = state.db.clone();
    // The ping runs on the blocking pool, behind requests that may each be waiting
    // `db_acquire_timeout` for a connection: readiness answers within its own timeout whatever
    // they do (a probe that waits longer than that learns nothing).
    let ping = actix_web::web::block(move || db.ping(READY_TIMEOUT));
    let checked = match actix_web::rt::time::timeout(READY_TIMEOUT + Duration::from_millis(500), ping).await {
        Ok(done) => done.map_err(|e| ApiError::Internal(format!("blocking task failed: {e}")))?,
        Err(_) => Err(keel_commands::StoreError::Unavailable("the ping did not answer in time".to_owned())),
    };
    if let Err(error) = checked {
        tracing::warn!(%error, "readiness check failed");
        return Err(ApiError::problem(
            Problem::new(StatusCode::SERVICE_UNAVAILABLE, "The database is unreachable.")
                .with_code("database_unavailable"),
        ));
    }
    Ok(HttpResponse::Ok().json(Readiness { status: "ready".to_owned(), database: backend }))
}

/// Prometheus metrics: request counts and latency histograms by route and status, pool usage, and
/// the delivery queue (`keel_outbox_*`: depth, delivered, failed, attempts, oldest waiting message).
/// When the operator gives metrics a listener of their own (`metrics_bind`), they are served
/// there and this route answers 404.
#[utoipa::path(
    tag = "ops",
    responses(
        (status = 200, description = "Prometheus text exposition format", body = String, content_type = "text/plain; version=0.0.4"),
        (status = 404, description = "Metrics are served on their own listener (`metrics_bind`), not here", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/metrics")]
pub async fn metrics(state: Data<AppState>) -> HttpResponse {
    if state.metrics_elsewhere {
        return Problem::new(StatusCode::NOT_FOUND, "Metrics are served on their own listener.".to_owned())
            .with_code("route_not_found")
            .response();
    }
    render_metrics(state).await
}

/// The metrics, on whichever listener serves them.
pub async fn render_metrics(state: Data<AppState>) -> HttpResponse {
    let db = state.db.clone();
    let stats = actix_web::web::block(move || {
        let mut conn = db.conn()?;
        keel_commands::ops::queue_stats(&mut conn)
    })
    .await;
    match stats {
        Ok(Ok(stats)) => state.metrics.set_outbox(&stats, keel_domain::time::now()),
        Ok(Err(error)) => tracing::warn!(%error, "metrics: cannot read the outbox"),
        Err(error) => tracing::warn!(%error, "metrics: blocking task failed"),
    }
    let body = state.metrics.render(state.db.pool_state());
    HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(body)
}

/// This OpenAPI document.
#[utoipa::path(
    tag = "ops",
    responses((status = 200, description = "The OpenAPI 3.1 document", body = Object, content_type = "application/json"))
)]
#[get("/openapi.json")]
pub async fn openapi_json(state: Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(state.openapi_json.to_string())
}

/// The interactive documentation lives at `/docs/`.
#[utoipa::path(
    tag = "ops",
    responses((status = 308, description = "Redirect to the Swagger UI at /docs/", headers(("Location" = String, description = "/docs/"))))
)]
#[get("/docs")]
pub async fn docs() -> HttpResponse {
    HttpResponse::PermanentRedirect().insert_header((header::LOCATION, "/docs/")).finish()
}

/// Known routes, to answer 405 (with `Allow`) for a wrong method and 404 for an unknown path.
pub struct RouteTable(Vec<(ResourceDef, Vec<&'static str>)>);

impl RouteTable {
    pub fn new(routes: Vec<(String, Vec<&'static str>)>) -> RouteTable {
        RouteTable(routes.into_iter().map(|(path, methods)| (ResourceDef::new(path), methods)).collect())
    }

    /// The methods of the routes matching `path` that are most specific (the most literal
    /// segments: `…/themes/release` over `…/themes/{theme_id}`).
    fn allowed(&self, path: &str) -> Option<Vec<&'static str>> {
        let literals =
            |def: &ResourceDef| def.pattern().unwrap_or_default().split('/').filter(|s| !s.contains('{')).count();
        let matching: Vec<_> = self.0.iter().filter(|(def, _)| def.is_match(path)).collect();
        let most = matching.iter().map(|(def, _)| literals(def)).max()?;
        let methods: Vec<&'static str> = matching
            .into_iter()
            .filter(|(def, _)| literals(def) == most)
            .flat_map(|(_, methods)| methods.iter().copied())
            .collect();
        (!methods.is_empty()).then_some(methods)
    }

    /// The methods of the most specific routes matching `path` when `method` is not among them
    /// (`PATCH …/themes/release` reached `…/themes/{theme_id}` and is a 405, not a bad id).
    pub fn refuses(&self, path: &str, method: &str) -> Option<Vec<&'static str>> {
        self.allowed(path).filter(|methods| !methods.contains(&method))
    }
}

/// 405 with `Allow`.
pub fn method_not_allowed(req: &HttpRequest, methods: &[&str]) -> HttpResponse {
    let allow = methods.join(", ");
    let mut response = Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{} is not supported here; allowed: {allow}.", req.method()),
    )
    .with_code("method_not_allowed")
    .response();
    if let Ok(value) = HeaderValue::from_str(&allow) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
}

/// The default service: 405 for a known path with another method, else 404.
fn accepts_html(req: &HttpRequest) -> bool {
    req.headers().get(header::ACCEPT).and_then(|a| a.to_str().ok()).is_some_and(|a| a.contains("text/html"))
}

pub async fn fallback(req: HttpRequest, routes: Data<RouteTable>) -> HttpResponse {
    match routes.allowed(req.path()) {
        Some(methods) => method_not_allowed(&req, &methods),
        // A browser asking for a page that does not exist gets a page.
        None if !req.path().starts_with("/v1/") && accepts_html(&req) => {
            actix_web::ResponseError::error_response(&crate::pages::PageError::not_found())
        }
        None => Problem::new(StatusCode::NOT_FOUND, format!("No resource at {}.", req.path()))
            .with_code("route_not_found")
            .response(),
    }
}

/// How long readiness waits for a connection.
pub const READY_TIMEOUT: Duration = Duration::from_secs(2);
