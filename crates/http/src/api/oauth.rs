//! `POST /v1/oauth/token`: the OAuth 2.0 client-credentials grant (RFC 6749 §4.4) for API clients.
//! Errors follow RFC 6749 §5.2 (`{"error": …, "error_description": …}`), not RFC 9457, because
//! OAuth client libraries expect that format from a token endpoint.

use std::collections::HashMap;
use std::sync::LazyLock;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::web::{Bytes, Data};
use actix_web::{HttpMessage, HttpRequest, HttpResponse, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use keel_commands::api_clients;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{hash_secret, verify_secret};
use crate::middleware::KeepBody;
use crate::problem::ApiError;
use crate::state::AppState;

/// The token request, form-encoded. Client credentials go in HTTP Basic (preferred) or here.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenRequest {
    /// Must be `client_credentials`.
    #[schema(example = "client_credentials")]
    pub grant_type: String,
    /// Space-separated scopes to request (a subset of the client's); all granted ones if omitted.
    #[schema(example = "users:read engagements:read")]
    pub scope: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    pub token_type: String,
    /// Seconds until the token expires.
    #[schema(example = 3600)]
    pub expires_in: u64,
    /// The scopes granted, space-separated.
    #[schema(example = "users:read engagements:read")]
    pub scope: String,
}

/// An RFC 6749 §5.2 error.
#[derive(Debug, Serialize, ToSchema)]
pub struct OAuthError {
    /// `invalid_request`, `invalid_client`, `invalid_grant`, `unauthorized_client`,
    /// `unsupported_grant_type` or `invalid_scope`.
    #[schema(example = "invalid_client")]
    pub error: String,
    pub error_description: String,
}

fn oauth_error(status: StatusCode, error: &str, description: &str, basic_challenge: bool) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    response.insert_header((header::CACHE_CONTROL, "no-store")).insert_header((header::PRAGMA, "no-cache"));
    if basic_challenge {
        response.insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"keel\""));
    }
    let mut response = response.json(OAuthError { error: error.to_owned(), error_description: description.to_owned() });
    response.extensions_mut().insert(KeepBody);
    response
}

fn invalid_request(description: &str) -> HttpResponse {
    oauth_error(StatusCode::BAD_REQUEST, "invalid_request", description, false)
}

/// Client credentials from `Authorization: Basic` (RFC 6749 §2.3.1: form-urlencoded, then base64).
fn basic_credentials(req: &HttpRequest) -> Result<Option<(String, String)>, &'static str> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else { return Ok(None) };
    let bad = || "the Authorization header is not valid HTTP Basic client authentication";
    let value = value.to_str().map_err(|_| bad())?;
    let Some((scheme, encoded)) = value.trim().split_once(' ') else { return Err(bad()) };
    if !scheme.eq_ignore_ascii_case("basic") {
        // Another scheme (e.g. a Bearer token sent by habit) is not client authentication.
        return Ok(None);
    }
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| bad())?;
    let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(bad)?;
    let unescape = |s: &str| form_urlencoded::parse(format!("v={s}").as_bytes()).next().map(|(_, v)| v.into_owned());
    Ok(Some((unescape(id).ok_or_else(bad)?, unescape(secret).ok_or_else(bad)?)))
}

/// A hash to verify against when the client does not exist, so that the answer takes as long as
/// for a wrong secret and does not reveal which client ids exist.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| hash_secret("not-a-secret"));

/// Issue an access token to an API client (client-credentials grant).
#[utoipa::path(
    tag = "auth",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "The access token", body = TokenResponse),
        (status = 400, description = "invalid_request, unsupported_grant_type or invalid_scope (RFC 6749 §5.2)", body = OAuthError),
        (status = 401, description = "invalid_client: unknown client, wrong secret, or revoked (RFC 6749 §5.2)", body = OAuthError),
        (status = 429, response = crate::openapi::TooManyRequests),
    )
)]
#[post("/oauth/token")]
pub async fn issue_token(req: HttpRequest, state: Data<AppState>, body: Bytes) -> Result<HttpResponse, ApiError> {
    state.limits.check_ip(&req, "token")?;
    let form_type =
        req.mime_type().ok().flatten().is_some_and(|m| m.essence_str() == "application/x-www-form-urlencoded");
    if !form_type {
        return Ok(invalid_request("the request must be application/x-www-form-urlencoded"));
    }
    let mut params: HashMap<String, String> = HashMap::new();
    for (name, value) in form_urlencoded::parse(&body) {
        if params.insert(name.to_string(), value.into_owned()).is_some() {
            return Ok(invalid_request(&format!("the parameter {name} is repeated")));
        }
    }
    let basic = match basic_credentials(&req) {
        Ok(basic) => basic,
        Err(description) => return Ok(invalid_request(description)),
    };
    match params.get("grant_type").map(String::as_str) {
        None => return Ok(invalid_request("grant_type is required")),
        Some("client_credentials") => {}
        Some(_) => {
            return Ok(oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "only the client_credentials grant is supported",
                false,
            ));
        }
    }
    let body_credentials = match (params.get("client_id"), params.get("client_secret")) {
        (Some(id), Some(secret)) => Some((id.clone(), secret.clone())),
        (None, None) => None,
        // Half a credential is no client authentication (RFC 6749 §5.2: invalid_client).
        _ => {
            return Ok(oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "client_id and client_secret go together",
                false,
            ));
        }
    };
    let used_basic = basic.is_some();
    let (client_id, secret) = match (basic, body_credentials) {
        (Some(_), Some(_)) => return Ok(invalid_request("use one client authentication method, not two")),
        (Some(credentials), None) | (None, Some(credentials)) => credentials,
        (None, None) => {
            return Ok(oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "client authentication is required",
                true,
            ));
        }
    };
    state.limits.check_identity("token", &client_id)?;
    let client = state
        .run(move |conn| api_clients::authenticate(conn, &client_id, &DUMMY_HASH, |hash| verify_secret(&secret, hash)))
        .await?;
    let Some(client) = client else {
        return Ok(oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "the client is unknown, revoked, or the secret is wrong",
            used_basic,
        ));
    };
    let scopes = match client.grant(params.get("scope").map(String::as_str)) {
        Ok(scopes) => scopes,
        Err(scope) => {
            return Ok(oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                &format!("the scope {scope:?} is unknown or not granted to this client"),
                false,
            ));
        }
    };
    let token = state.tokens.issue_for_client(&client.client_id, &client.organization_id.to_string(), &scopes);
    tracing::info!(client_id = %client.client_id, "access token issued to API client");
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .insert_header((header::PRAGMA, HeaderValue::from_static("no-cache")))
        .json(TokenResponse {
            access_token: token.access_token,
            token_type: "Bearer".to_owned(),
            expires_in: token.expires_in,
            scope: scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" "),
        }))
}
