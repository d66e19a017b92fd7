//! The one middleware every request passes: request id, span, access log, metrics, and turning
//! any error response that is not yet a problem document into one.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, web};
use percent_encoding::{CONTROLS, percent_decode_str, utf8_percent_encode};
use tracing::Instrument;
use uuid::Uuid;

use crate::problem::{self, Problem};
use crate::state::AppState;

pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Marks an error response whose body is already in the format its protocol requires (OAuth's
/// token endpoint errors), so it is not rewritten as a problem document.
#[derive(Clone, Copy, Debug)]
pub struct KeepBody;

/// The request's id: the caller's `X-Request-Id` when it is sensible, else a new UUIDv7.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

fn accept_request_id(value: Option<&HeaderValue>) -> Option<String> {
    let value = value?.to_str().ok()?;
    let ok = !value.is_empty()
        && value.len() <= 128
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:/+=".contains(&b));
    ok.then(|| value.to_owned())
}

/// The path segments that a secret follows: the routes `/l/{token}`, `/feedback/{code}` and
/// `/calendar/{token}.ics`. A new route that carries a secret in its path adds its segment here.
const SECRET_FOLLOWS: [&str; 3] = ["l", "feedback", "calendar"];
/// How the secrets Keel issues for paths begin (page links, rater codes, calendar feeds).
const SECRET_PREFIXES: [&str; 3] = ["kl_", "kr_", "kc_"];

/// The path as logged: the secret in a link from a mail (`/l/{token}`, `/feedback/{code}`) is
/// left out, so logs hold no credential, however the path is spelled. It is redacted on the
/// decoded path (percent-encoding undone until nothing changes, so `/%6c/…` and `/%256c/…` are
/// caught), segment by segment and regardless of case or empty segments; anything that still
/// looks like one of Keel's secrets is redacted too. Control characters are re-encoded.
fn loggable_path(path: &str) -> String {
    let mut decoded = path.to_owned();
    for _ in 0..4 {
        let next = percent_decode_str(&decoded).decode_utf8_lossy().into_owned();
        if next == decoded {
            break;
        }
        decoded = next;
    }
    let mut after_marker = false;
    let segments: Vec<&str> = decoded
        .split('/')
        .map(|segment| {
            let secret = (after_marker && !segment.is_empty())
                || SECRET_PREFIXES.iter().any(|p| segment.get(..p.len()).is_some_and(|s| s.eq_ignore_ascii_case(p)));
            if !segment.is_empty() {
                after_marker = SECRET_FOLLOWS.iter().any(|m| segment.trim().eq_ignore_ascii_case(m));
            }
            if secret { "[redacted]" } else { segment }
        })
        .collect();
    utf8_percent_encode(&segments.join("/"), CONTROLS).to_string()
}

pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let started = Instant::now();
    let request_id = accept_request_id(req.headers().get(&REQUEST_ID)).unwrap_or_else(|| Uuid::now_v7().to_string());
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let method = req.method().to_string();
    let path = loggable_path(req.path());
    let routed = percent_decode_str(req.path()).decode_utf8_lossy();
    let docs = routed == "/docs" || routed.starts_with("/docs/");
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let span = tracing::info_span!("request", request_id = %request_id, method = %method, path = %path);

    async move {
        let (result, db) = crate::dbtiming::measure(next.call(req)).await;
        let mut res = match result {
            Ok(res) => res.map_into_boxed_body(),
            Err(error) => {
                // Errors that escaped every handler (should not happen): answer a problem anyway.
                tracing::error!(%error, "unhandled error");
                return Err(error);
            }
        };
        if res.status().as_u16() >= 400 && !is_problem(&res) && !res.response().extensions().contains::<KeepBody>() {
            res = into_problem(res);
        }
        if docs {
            // The Swagger UI is never framed, as no page is (clickjacking).
            res.headers_mut().insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
            res.headers_mut()
                .insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("frame-ancestors 'none'"));
        }
        res.headers_mut()
            .insert(REQUEST_ID.clone(), HeaderValue::from_str(&request_id).unwrap_or(HeaderValue::from_static("-")));
        if let Ok(timing) = HeaderValue::from_str(&crate::dbtiming::server_timing(db)) {
            res.headers_mut().insert(header::HeaderName::from_static("server-timing"), timing);
        }
        let status = res.status().as_u16();
        let route = res.request().match_pattern().unwrap_or_else(|| "unmatched".to_owned());
        let elapsed = started.elapsed();
        if let Some(state) = state {
            state.metrics.observe(&method, &route, status, elapsed.as_secs_f64());
        }
        if status >= 500 {
            tracing::error!(status, route = %route, elapsed_ms = elapsed.as_secs_f64() * 1e3, db_queries = db.statements, "request failed");
        } else {
            tracing::info!(status, route = %route, elapsed_ms = elapsed.as_secs_f64() * 1e3, db_queries = db.statements, db_ms = db.time.as_secs_f64() * 1e3, "request");
        }
        Ok(res)
    }
    .instrument(span)
    .await
}

fn is_problem(res: &ServiceResponse<BoxBody>) -> bool {
    res.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(problem::CONTENT_TYPE.as_bytes()))
}

/// Replaces a non-problem error response (from actix itself or a library) by a problem document
/// with the same status. Its body is dropped: it may hold internal detail.
fn into_problem(res: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let status = res.status();
    let detail = match status.as_u16() {
        500..=599 => problem::internal_problem().detail,
        _ => status.canonical_reason().unwrap_or("The request could not be processed.").to_owned(),
    };
    if let Some(error) = res.response().error() {
        tracing::debug!(%error, "error response normalized to a problem document");
    }
    let mut problem = Problem::new(status, detail).response();
    for (name, value) in res.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            problem.headers_mut().insert(name.clone(), value.clone());
        }
    }
    res.into_response(problem)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_accepted_only_when_sensible() {
        assert_eq!(accept_request_id(Some(&HeaderValue::from_static("abc-123"))), Some("abc-123".to_owned()));
        assert_eq!(accept_request_id(Some(&HeaderValue::from_static("has space"))), None);
        assert_eq!(accept_request_id(Some(&HeaderValue::from_str(&"x".repeat(129)).unwrap())), None);
        assert_eq!(accept_request_id(None), None);
    }

    #[test]
    fn secrets_in_page_links_are_not_logged() {
        assert_eq!(loggable_path("/l/kl_secret"), "/l/[redacted]");
        assert_eq!(loggable_path("/l/kl_secret/renew"), "/l/[redacted]/renew");
        assert_eq!(loggable_path("/feedback/kr_secret"), "/feedback/[redacted]");
        assert_eq!(loggable_path("/calendar/kc_secret.ics"), "/calendar/[redacted]");
        assert_eq!(loggable_path("/%63alendar/kc_secret.ics"), "/calendar/[redacted]");
        assert_eq!(loggable_path("/v1/engagements"), "/v1/engagements");
    }

    /// Issue 22, finding 2: other spellings of the same routes (the router decodes `%6c` to `l`).
    #[test]
    fn secrets_are_redacted_however_the_path_is_spelled() {
        for (spelled, logged) in [
            ("/%6c/kl_secret", "/l/[redacted]"),
            ("/%6C/kl_secret/renew", "/l/[redacted]/renew"),
            ("/l/%6bl_secret", "/l/[redacted]"),
            ("/%256c/kl_secret", "/l/[redacted]"),
            ("/%66eedback/kr_secret", "/feedback/[redacted]"),
            ("//l//kl_secret", "//l//[redacted]"),
            ("/L/kl_secret", "/L/[redacted]"),
            ("/l%2Fkl_secret", "/l/[redacted]"),
            ("/elsewhere/KL_secret", "/elsewhere/[redacted]"),
            ("/l/%0Asecret", "/l/[redacted]"),
            ("/x/%0A", "/x/%0A"),
        ] {
            assert_eq!(loggable_path(spelled), logged, "{spelled}");
            assert!(!loggable_path(spelled).contains("secret"), "{spelled}");
        }
    }
}
