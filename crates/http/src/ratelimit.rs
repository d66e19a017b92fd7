//! The per-caller rate limit of the API (people and API clients), as middleware: requests with a
//! valid bearer token are counted against their user or client. The probes and the document
//! (`/healthz`, `/readyz`, `/metrics`, `/openapi.json`) are not counted: a load balancer or a
//! scraper polls them, and the document lists no 429 for them.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, web};

use crate::state::AppState;

static LIMIT: HeaderName = HeaderName::from_static("ratelimit-limit");
static REMAINING: HeaderName = HeaderName::from_static("ratelimit-remaining");
static RESET: HeaderName = HeaderName::from_static("ratelimit-reset");

/// The paths that are never counted (exact: another spelling is counted, which only limits more).
const UNCOUNTED: [&str; 4] = ["/healthz", "/readyz", "/metrics", "/openapi.json"];

pub async fn rate_limit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    if UNCOUNTED.contains(&req.path()) {
        return next.call(req).await.map(ServiceResponse::map_into_boxed_body);
    }
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let caller = state
        .as_ref()
        .and_then(|state| crate::auth::verify_bearer(&req, &state.tokens).ok())
        .map(|verified| verified.caller_key());
    let (Some(state), Some(caller)) = (state, caller) else {
        return next.call(req).await.map(ServiceResponse::map_into_boxed_body);
    };
    let counted = state.api_limits.count(&caller);
    let mut res = match counted.retry_after {
        Some(seconds) => {
            let problem = crate::limits::rate_limited(
                format!("Too many requests: the limit is {} a minute. Retry after {seconds} seconds.", counted.limit),
                seconds,
            );
            req.into_response(problem.response())
        }
        None => next.call(req).await?.map_into_boxed_body(),
    };
    let headers = res.headers_mut();
    headers.insert(LIMIT.clone(), HeaderValue::from(counted.limit));
    headers.insert(REMAINING.clone(), HeaderValue::from(counted.remaining));
    headers.insert(RESET.clone(), HeaderValue::from(counted.reset));
    Ok(res)
}
