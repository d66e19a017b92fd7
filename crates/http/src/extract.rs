//! Extractors that turn requests into typed input, failing with problem documents.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::error::PathError;
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use keel_domain::Precondition;
use keel_domain::audit::{Actor, CommandContext};
use keel_domain::policy::Principal;
use serde::de::DeserializeOwned;

use crate::auth::Verified;
use crate::middleware::RequestId;
use crate::problem::{ApiError, Problem, ProblemFieldError};
use crate::state::AppState;

/// The maximum accepted request body, set from configuration as app data.
#[derive(Clone, Copy, Debug)]
pub struct BodyLimit(pub usize);

/// A JSON request body: `application/json` (or any `+json` type), at most [`BodyLimit`] bytes,
/// deserialized with the path of the offending field reported on failure.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req.app_data::<BodyLimit>().map_or(1024 * 1024, |l| l.0);
        let content_type_ok = match req.mime_type() {
            Ok(Some(mime)) => mime.subtype() == "json" || mime.suffix().is_some_and(|s| s == "json"),
            _ => false,
        };
        let declared_length = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            if !content_type_ok {
                return Err(ApiError::problem(
                    Problem::new(
                        StatusCode::UNSUPPORTED_MEDIA_TYPE,
                        "The request body must be JSON, sent with Content-Type: application/json.",
                    )
                    .with_code("unsupported_media_type"),
                ));
            }
            if declared_length.is_some_and(|n| n > limit) {
                return Err(too_large(limit));
            }
            let body = bytes.await.map_err(|e| {
                if e.as_response_error().status_code() == StatusCode::PAYLOAD_TOO_LARGE {
                    too_large(limit)
                } else {
                    ApiError::bad_request("unreadable-body", "The request body could not be read.", vec![])
                }
            })?;
            if body.len() > limit {
                return Err(too_large(limit));
            }
            let mut document: serde_json::Value = serde_json::from_slice(&body).map_err(|err| {
                ApiError::bad_request(
                    "malformed-json",
                    format!("The request body is not valid: {err}"),
                    vec![ApiError::field("", "malformed_json", strip_position(&err.to_string()))],
                )
            })?;
            // Every JSON body of the API is an object; serde would read a struct from an array
            // by position, so an array (or anything else) is refused before it gets that far.
            if !document.is_object() {
                return Err(ApiError::bad_request(
                    "invalid-body",
                    "The request body is not valid: it must be a JSON object.",
                    vec![ApiError::field("", "invalid", "expected a JSON object")],
                ));
            }
            integral_numbers_as_integers(&mut document);
            match serde_path_to_error::deserialize::<_, T>(document) {
                Ok(value) => Ok(JsonBody(value)),
                Err(err) => {
                    let path = err.path().to_string();
                    let inner = err.into_inner();
                    let field = if path == "." { String::new() } else { path };
                    Err(ApiError::bad_request(
                        "invalid-body",
                        format!("The request body is not valid: {inner}"),
                        vec![ApiError::field(&field, "invalid", strip_position(&inner.to_string()))],
                    ))
                }
            }
        })
    }
}

/// JSON has one number type: `3.0` is the integer 3 to JSON Schema (and to every client that
/// writes numbers as doubles), so a number without a fractional part is taken where an integer
/// is expected. Anything else stays as sent (`3.5` for an integer is still refused).
pub(crate) fn integral_numbers_as_integers(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Number(n) => {
            if let Some(f) = n.as_f64().filter(|f| n.is_f64() && f.fract() == 0.0 && f.abs() < 9.0e15) {
                // Exactly representable: |f| < 2^53.
                *n = if f < 0.0 { (f as i64).into() } else { (f as u64).into() };
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_numbers_as_integers),
        Value::Object(fields) => fields.values_mut().for_each(integral_numbers_as_integers),
        Value::Null | Value::Bool(_) | Value::String(_) => {}
    }
}

fn too_large(limit: usize) -> ApiError {
    ApiError::problem(
        Problem::new(StatusCode::PAYLOAD_TOO_LARGE, format!("The request body exceeds the limit of {limit} bytes."))
            .with_code("payload_too_large"),
    )
}

/// serde_json appends " at line 1 column 9"; the field path already says where.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// Query parameters, deserialized with the offending parameter named on failure.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned> FromRequest for ApiQuery<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // No filter, id or cursor holds a control character; a NUL would not even reach the
        // database (PostgreSQL text cannot hold one).
        let pairs = form_urlencoded::parse(req.query_string().as_bytes());
        if let Some((name, _)) = pairs.clone().find(|(k, v)| k.chars().chain(v.chars()).any(char::is_control)) {
            return std::future::ready(Err(ApiError::bad_request(
                "invalid-query",
                format!("The query parameter {name:?} contains a control character."),
                vec![ApiError::field(&name, "invalid_characters", "must not contain control characters")],
            )));
        }
        // An empty parameter (`?cursor=`) means the same as an absent one.
        let present: String =
            form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs.filter(|(_, v)| !v.is_empty())).finish();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(present.as_bytes()));
        std::future::ready(serde_path_to_error::deserialize::<_, T>(de).map(ApiQuery).map_err(|err| {
            let field = err.path().to_string();
            let message = err.into_inner().to_string();
            ApiError::bad_request(
                "invalid-query",
                format!("A query parameter is not valid: {message}"),
                vec![ApiError::field(&field, "invalid", message)],
            )
        }))
    }
}

/// The `If-Match` precondition of a request, if it sent one.
#[derive(Debug)]
pub struct IfMatchVersion(pub Option<Precondition>);

impl FromRequest for IfMatchVersion {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // A value that is not visible ASCII is no entity-tag list (and never an empty header).
        let values: Result<Vec<&str>, _> = req.headers().get_all(header::IF_MATCH).map(|v| v.to_str()).collect();
        let read = values.map_err(|_| ()).and_then(|values| read_if_match(&values.join(",")));
        let read = read.map(IfMatchVersion).map_err(|()| {
            ApiError::bad_request(
                "invalid-header",
                "If-Match must be * or a list of quoted entity tags, e.g. If-Match: \"3\".",
                vec![ApiError::field("If-Match", "invalid", "not a valid entity-tag list")],
            )
        });
        std::future::ready(read)
    }
}

/// What an `If-Match` value asks: nothing when it is absent or empty (an empty header is the same
/// as none, as the document says), else the parsed precondition; `Err` when it is neither.
pub(crate) fn read_if_match(value: &str) -> Result<Option<Precondition>, ()> {
    if value.trim().is_empty() {
        return Ok(None);
    }
    parse_if_match(value).map(Some).ok_or(())
}

/// Parses `*` or a comma-separated list of entity tags (RFC 9110 §13.1.1). If-Match compares
/// strongly, so weak tags (`W/"3"`) are accepted but never match; tags that are not one of our
/// version numbers never match either.
pub(crate) fn parse_if_match(value: &str) -> Option<Precondition> {
    if value.trim() == "*" {
        return Some(Precondition::Any);
    }
    let mut versions = Vec::new();
    for tag in value.split(',').map(str::trim) {
        let (weak, quoted) = match tag.strip_prefix("W/") {
            Some(rest) => (true, rest),
            None => (false, tag),
        };
        let opaque = quoted.strip_prefix('"')?.strip_suffix('"')?;
        if opaque.contains('"') {
            return None;
        }
        if let (false, Ok(version)) = (weak, opaque.parse::<i64>()) {
            versions.push(version);
        }
    }
    Some(Precondition::OneOf(versions))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_parsing() {
        assert_eq!(parse_if_match("*"), Some(Precondition::Any));
        assert_eq!(parse_if_match("\"3\""), Some(Precondition::OneOf(vec![3])));
        assert_eq!(parse_if_match("\"1\", W/\"2\", \"x\",\"4\""), Some(Precondition::OneOf(vec![1, 4])));
        assert_eq!(parse_if_match("five"), None);
        assert_eq!(parse_if_match("\"3"), None);
        assert_eq!(parse_if_match(""), None);
        // Issue 22: an empty header is the same as none, as the document's pattern allows.
        assert_eq!(read_if_match(""), Ok(None));
        assert_eq!(read_if_match("  "), Ok(None));
        assert_eq!(read_if_match("\"3\""), Ok(Some(Precondition::OneOf(vec![3]))));
        assert_eq!(read_if_match("five"), Err(()));
    }

    #[test]
    fn whole_numbers_written_as_decimals_are_integers() {
        let mut body = serde_json::json!({"a": 57.0, "b": [1e2, -3.0, 2.5], "c": {"d": 0.0}, "e": "4.0"});
        integral_numbers_as_integers(&mut body);
        assert_eq!(body, serde_json::json!({"a": 57, "b": [100, -3, 2.5], "c": {"d": 0}, "e": "4.0"}));
        assert!(body["a"].is_u64() && body["b"][1].is_i64() && body["b"][2].is_f64());
    }
}

/// Who is calling, authenticated, and the request it came with: the context every command runs
/// in. A request without a valid bearer token, or whose user is deactivated (or whose API client
/// is revoked), is refused with 401 before the handler runs.
#[derive(Clone, Debug)]
pub struct Caller(pub keel_commands::Caller);

impl std::ops::Deref for Caller {
    type Target = keel_commands::Caller;
    fn deref(&self) -> &keel_commands::Caller {
        &self.0
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
            return Box::pin(async { Err(ApiError::Internal("application state missing".to_owned())) });
        };
        let request_id = req.extensions().get::<RequestId>().map(|r| r.0.clone()).unwrap_or_default();
        let resolved = req.extensions().get::<ResolvedPrincipal>().map(|r| r.0.clone());
        let verified = crate::auth::verify_bearer(req, &state.tokens);
        Box::pin(async move {
            let principal = match resolved {
                Some(principal) => principal,
                None => resolve_principal(&state, verified.map_err(ApiError::Unauthorized)?).await?,
            };
            let actor = match &principal {
                Principal::User { id, .. } => Actor::User { id: id.to_string() },
                Principal::ApiClient { id, .. } => Actor::ApiClient { id: id.clone() },
            };
            Ok(Caller(keel_commands::Caller { principal, ctx: CommandContext { actor, request_id } }))
        })
    }
}

/// A principal already resolved for this request (by the idempotency layer, which must know
/// the caller may act before it replays anything), kept in the request's extensions.
#[derive(Clone)]
pub(crate) struct ResolvedPrincipal(pub Principal);

/// The principal acting with a verified token now: looked up (a deactivated user or a revoked
/// client is refused with 401), or taken from the short-lived cache.
pub(crate) async fn resolve_principal(state: &web::Data<AppState>, verified: Verified) -> Result<Principal, ApiError> {
    if let Some(principal) = state.principals.get(&verified) {
        return Ok(principal);
    }
    let (key, generation) = (verified.clone(), state.principals.generation());
    let principal = state.run(move |conn| crate::principal::resolve(conn, verified)).await?;
    let principal = principal.map_err(ApiError::Unauthorized)?;
    state.principals.put(&key, &principal, generation);
    Ok(principal)
}

/// Path parameters that do not parse (e.g. an id that is not a UUID) are a 400 naming them.
pub fn path_error(err: PathError, req: &HttpRequest) -> actix_web::Error {
    if !req.path().starts_with("/v1/") {
        return crate::pages::PageError::not_found().into();
    }
    // `PATCH …/themes/release` reached `…/themes/{theme_id}`; the path names another resource.
    if let Some(routes) = req.app_data::<web::Data<crate::api::ops::RouteTable>>()
        && let Some(methods) = routes.refuses(req.path(), req.method().as_str())
    {
        let response = crate::api::ops::method_not_allowed(req, &methods);
        return actix_web::error::InternalError::from_response(err, response).into();
    }
    let names: Vec<ProblemFieldError> =
        req.match_info().iter().map(|(name, _)| ApiError::field(name, "invalid", "must be a UUID")).collect();
    tracing::debug!(%err, "path parameter rejected");
    ApiError::bad_request("invalid-path-parameter", "A path parameter is not valid: ids are UUIDs.", names).into()
}
