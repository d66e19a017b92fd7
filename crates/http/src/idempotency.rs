//! `Idempotency-Key` on POST requests: the first response is stored per (caller, key) for 24
//! hours and returned unchanged for repeats (marked `Idempotent-Replayed: true`), without running
//! the request again; the same key with a different request is 422; a repeat that arrives while
//! the first is still running is 409. Keys live in the database, so this holds across instances.
//!
//! Keys belong to an authenticated caller who may act now: the token is verified and its user or
//! API client checked (not deactivated, not revoked) before anything is replayed, and a request
//! without such a caller (the anonymous token, sign-in and feedback endpoints, or a refused token)
//! runs as if it carried no key. A response that holds a secret (marked `Cache-Control:
//! no-store`: a client secret, a webhook secret, an access token) is never stored: only its
//! status and `Location` are, and a repeat gets a 409 saying so instead of the secret.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes};
use actix_web::{Error, HttpMessage, HttpResponse};
use futures_util::StreamExt;
use keel_commands::ops::{Claim, idempotency};
use sha2::{Digest, Sha256};

use crate::extract::BodyLimit;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

pub static IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
static REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// Response headers worth replaying.
const KEPT_HEADERS: [&str; 4] = ["content-type", "location", "etag", "cache-control"];

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Who is asking, as the owner of keys: the token's subject (so a refreshed token keeps the
/// same keys), once the caller is known to be allowed to act now. `Ok(None)`: no such caller, so
/// the request runs without idempotency (and the handler refuses a bad token itself).
async fn caller_key(req: &ServiceRequest, state: &web::Data<AppState>) -> Result<Option<String>, ApiError> {
    let Ok(verified) = crate::auth::verify_bearer(req, &state.tokens) else { return Ok(None) };
    let key = verified.caller_key();
    match crate::extract::resolve_principal(state, verified).await {
        Ok(principal) => {
            req.extensions_mut().insert(crate::extract::ResolvedPrincipal(principal));
            Ok(Some(key))
        }
        Err(ApiError::Unauthorized(_)) => Ok(None),
        Err(error) => Err(error),
    }
}

/// Whether a response holds a secret that must not be kept (it says so with `no-store`).
fn holds_secret(headers: &[(String, String)]) -> bool {
    headers.iter().any(|(name, value)| name == "cache-control" && value.split(',').any(|d| d.trim() == "no-store"))
}

/// The answer to a repeat of a request whose response held a secret, which was not kept.
fn withheld(status: u16, headers: &[(String, String)]) -> HttpResponse {
    let location = headers.iter().find(|(name, _)| name == "location").map(|(_, value)| value.as_str());
    let detail = format!(
        "The request with this Idempotency-Key already succeeded ({status}), but its response held a secret, which \
         Keel does not keep.{} If the first response was lost, rotate the secret.",
        location.map(|l| format!(" The resource is at {l}.")).unwrap_or_default()
    );
    let mut response = problem(StatusCode::CONFLICT, "idempotency_response_withheld", &detail);
    if let Some(location) = location.and_then(|l| HeaderValue::from_str(l).ok()) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

fn problem(status: StatusCode, code: &str, detail: &str) -> HttpResponse {
    Problem::new(status, detail).with_code(code).response()
}

fn into_response(req: ServiceRequest, response: HttpResponse) -> ServiceResponse<BoxBody> {
    req.into_response(response)
}

/// 1 to 255 visible ASCII characters (the document's pattern `^[!-~]+$`, `maxLength` 255).
pub(crate) fn valid_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= 255 && key.bytes().all(|b| b.is_ascii_graphic())
}

pub async fn idempotency(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let Some(key) = (req.method() == Method::POST).then(|| req.headers().get(&IDEMPOTENCY_KEY).cloned()).flatten()
    else {
        return next.call(req).await.map(ServiceResponse::map_into_boxed_body);
    };
    let key = match key.to_str() {
        Ok(k) if valid_key(k) => k.to_owned(),
        _ => {
            let response = problem(
                StatusCode::BAD_REQUEST,
                "invalid_idempotency_key",
                "Idempotency-Key must be 1 to 255 visible ASCII characters.",
            );
            return Ok(into_response(req, response));
        }
    };
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return next.call(req).await.map(ServiceResponse::map_into_boxed_body);
    };
    let actor = match caller_key(&req, &state).await {
        Ok(Some(actor)) => actor,
        Ok(None) => return next.call(req).await.map(ServiceResponse::map_into_boxed_body),
        Err(error) => return Ok(into_response(req, actix_web::ResponseError::error_response(&error))),
    };
    let limit = req.app_data::<BodyLimit>().map_or(1024 * 1024, |l| l.0);

    // Buffer the body (to fingerprint the request), then hand it back to the handler.
    let mut payload = req.take_payload();
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let Ok(chunk) = chunk else {
            return Ok(into_response(
                req,
                problem(StatusCode::BAD_REQUEST, "unreadable_body", "The request body could not be read."),
            ));
        };
        if body.len() + chunk.len() > limit {
            let detail = format!("The request body exceeds the limit of {limit} bytes.");
            return Ok(into_response(req, problem(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", &detail)));
        }
        body.extend_from_slice(&chunk);
    }
    let body = body.freeze();
    req.set_payload(Payload::from(body.clone()));

    let mut hasher = Sha256::new();
    hasher.update(req.method().as_str());
    hasher.update(b"\n");
    hasher.update(req.uri().to_string());
    hasher.update(b"\n");
    hasher.update(&body);
    let request_hash = hex(&hasher.finalize());

    let claimed = {
        let (actor, key, hash) = (actor.clone(), key.clone(), request_hash.clone());
        state.run(move |conn| idempotency::claim(conn, &actor, &key, &hash)).await
    };
    let claim = match claimed {
        Ok(claim) => claim,
        Err(error) => return Ok(into_response(req, actix_web::ResponseError::error_response(&error))),
    };
    match claim {
        Claim::Mismatch => {
            let detail = "This Idempotency-Key was used for a different request; use a new key for a new request.";
            Ok(into_response(req, problem(StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused", detail)))
        }
        Claim::InProgress { retry_after_secs } => {
            let detail = "A request with this Idempotency-Key is still being processed; retry shortly.";
            let mut response = problem(StatusCode::CONFLICT, "idempotency_request_in_progress", detail);
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            Ok(into_response(req, response))
        }
        Claim::Replay { status, headers, body } => {
            let stored: Vec<(String, String)> = serde_json::from_str(&headers).unwrap_or_default();
            if holds_secret(&stored) {
                return Ok(into_response(req, withheld(status, &stored)));
            }
            let mut response = HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::OK));
            for (name, value) in stored {
                response.insert_header((name, value));
            }
            response.insert_header((REPLAYED.clone(), HeaderValue::from_static("true")));
            Ok(into_response(req, response.body(body)))
        }
        Claim::Claimed => {
            let res = next.call(req).await?;
            let status = res.status();
            let headers: Vec<(String, String)> = KEPT_HEADERS
                .iter()
                .filter_map(|name| {
                    res.headers().get(*name).and_then(|v| v.to_str().ok()).map(|v| ((*name).to_owned(), v.to_owned()))
                })
                .collect();
            let (request, response) = res.into_parts();
            let (response, body) = response.into_parts();
            let bytes: Bytes =
                actix_web::body::to_bytes(body).await.map_err(|_| ApiError::Internal("response body".to_owned()))?;
            // A secret is never stored: only the status and headers of such a response are.
            let text =
                if holds_secret(&headers) { String::new() } else { String::from_utf8_lossy(&bytes).into_owned() };
            // Our own failures are not remembered: a retry should run the request again.
            let outcome = if status.is_server_error() {
                state.run(move |conn| idempotency::release(conn, &actor, &key)).await
            } else {
                let headers = serde_json::to_string(&headers).unwrap_or_default();
                state.run(move |conn| idempotency::complete(conn, &actor, &key, status.as_u16(), &headers, &text)).await
            };
            if let Err(error) = outcome {
                tracing::error!(%error, "idempotency: cannot record the response");
            }
            Ok(ServiceResponse::new(request, response.set_body(BoxBody::new(bytes))))
        }
    }
}
