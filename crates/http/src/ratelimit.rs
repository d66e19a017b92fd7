//! The per-caller rate limit of the API (people and API clients), as middleware: requests with a
//! valid bearer token are counted against their user or client.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, web};

use crate::auth::Verified;
use crate::problem::Problem;
use crate::state::AppState;

static LIMIT: HeaderName = HeaderName::from_static("ratelimit-limit");
static REMAINING: HeaderName = HeaderName::from_static("ratelimit-remaining");
static RESET: HeaderName = HeaderName::from_static("ratelimit-reset");

pub async fn rate_limit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let caller = state.as_ref().and_then(|state| {
        let authorization = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
        let (scheme, token) = authorization.trim().split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return None;
        }
        match state.tokens.verify(token.trim()).ok()? {
            Verified::User { id } => Some(format!("user:{id}")),
            Verified::ApiClient { client_id, .. } => Some(format!("client:{client_id}")),
            Verified::External { subject, .. } => Some(format!("idp:{subject}")),
        }
    });
    let (Some(state), Some(caller)) = (state, caller) else {
        return next.call(req).await.map(ServiceResponse::map_into_boxed_body);
    };
    let counted = state.api_limits.count(&caller);
    let mut res = match counted.retry_after {
        Some(seconds) => {
            let problem = Problem::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!("Too many requests: the limit is {} a minute. Retry after {seconds} seconds.", counted.limit),
            )
            .with_code("rate_limited")
            .retry_after(seconds);
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
