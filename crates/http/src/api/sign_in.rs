//! Sign-in links for people: `POST /v1/auth/sign-in-links` mails a one-time code (answering 202
//! whether or not the address is known, so it cannot be used to find out who has an account), and
//! `POST /v1/auth/sign-in-links/redeem` exchanges it for an access token, once.

use actix_web::http::StatusCode;
use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse, post};
use keel_commands::sign_in;
use keel_domain::audit::{Actor, CommandContext};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::oauth::TokenResponse;
use crate::auth::random_token;
use crate::extract::JsonBody;
use crate::middleware::RequestId;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInLinkRequest {
    /// A valid address of at most 254 characters; anything else is a 422.
    #[schema(example = "ann.lee@example.com", format = Email, max_length = 254)]
    pub email: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SignInLinkAccepted {
    #[schema(example = "If the address belongs to an active user, a sign-in link is on its way.")]
    pub message: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RedeemSignInLinkRequest {
    /// The code from the sign-in email.
    pub token: String,
}

/// Email a one-time sign-in link. Always 202: the answer does not say whether the address is known.
#[utoipa::path(
    tag = "auth",
    request_body = SignInLinkRequest,
    responses(
        (status = 202, description = "Accepted", body = SignInLinkAccepted),
        (status = 429, response = crate::openapi::TooManyRequests),
    )
)]
#[post("/auth/sign-in-links")]
pub async fn create_sign_in_link(
    req: HttpRequest,
    state: Data<AppState>,
    request_id: Option<actix_web::web::ReqData<RequestId>>,
    body: JsonBody<SignInLinkRequest>,
) -> Result<HttpResponse, ApiError> {
    state.limits.check_ip(&req, "sign-in")?;
    let email = keel_domain::user::Email::parse_field("email", &body.0.email)?;
    state.limits.check_mail_to(&email.normalized())?;
    let link_base = state.sign_in_url.clone();
    let ctx = CommandContext {
        actor: Actor::Anonymous,
        request_id: request_id.map(|r| r.into_inner().0).unwrap_or_default(),
    };
    let token = random_token("", 32);
    let token_hash = keel_commands::tokens::hash(&token);
    state.run(move |conn| sign_in::request_link(conn, &ctx, &email, &token, &token_hash, link_base.as_deref())).await?;
    Ok(HttpResponse::Accepted().json(SignInLinkAccepted {
        message: "If the address belongs to an active user, a sign-in link is on its way.".to_owned(),
    }))
}

/// Exchange a sign-in code for an access token. Each code works once, within 15 minutes.
#[utoipa::path(
    tag = "auth",
    request_body = RedeemSignInLinkRequest,
    responses(
        (status = 200, description = "The access token", body = TokenResponse),
        (status = 400, description = "The code is invalid, expired or already used", body = Problem, content_type = "application/problem+json"),
        (status = 429, response = crate::openapi::TooManyRequests),
    )
)]
#[post("/auth/sign-in-links/redeem")]
pub async fn redeem_sign_in_link(
    req: HttpRequest,
    state: Data<AppState>,
    body: JsonBody<RedeemSignInLinkRequest>,
) -> Result<HttpResponse, ApiError> {
    state.limits.check_ip(&req, "redeem")?;
    let token_hash = keel_commands::tokens::hash(&body.0.token);
    let user = state.run(move |conn| sign_in::redeem(conn, &token_hash)).await?.ok_or_else(|| {
        ApiError::problem(
            Problem::new(StatusCode::BAD_REQUEST, "The sign-in code is invalid, expired or already used.")
                .typed("invalid-sign-in-code", "Bad request")
                .with_code("invalid_sign_in_code"),
        )
    })?;
    let token = state.tokens.issue_for_user(&user, None);
    Ok(HttpResponse::Ok().insert_header(("cache-control", "no-store")).json(TokenResponse {
        access_token: token.access_token,
        token_type: "Bearer".to_owned(),
        expires_in: token.expires_in,
        scope: String::new(),
    }))
}
