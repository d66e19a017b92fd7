//! `/v1/me`: who the token belongs to.

use actix_web::web::Data;
use actix_web::{HttpResponse, get};
use keel_commands::users;
use keel_domain::policy::Principal;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::users::UserResponse;
use crate::extract::Caller;
use crate::problem::ApiError;
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    User,
    ApiClient,
}

/// The authenticated actor.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeResponse {
    pub kind: ActorKind,
    /// The user (for people).
    pub user: Option<UserResponse>,
    /// The API client's `client_id` (for API clients).
    pub client_id: Option<String>,
    pub organization_id: Option<Uuid>,
    /// The scopes granted to this token (API clients).
    pub scopes: Vec<String>,
}

/// The caller: the user behind the token, or the API client with its organization and scopes.
#[utoipa::path(tag = "auth", responses((status = 200, description = "The caller", body = MeResponse)))]
#[get("/me")]
pub async fn get_me(caller: Caller, state: Data<AppState>) -> Result<HttpResponse, ApiError> {
    let body = match caller.0.principal.clone() {
        Principal::User { id, .. } => {
            let user = state.run(move |conn| users::get(conn, &caller, id)).await?;
            MeResponse {
                kind: ActorKind::User,
                organization_id: user.organization_id.map(|o| o.as_uuid()),
                user: Some(UserResponse::from(&user)),
                client_id: None,
                scopes: Vec::new(),
            }
        }
        Principal::ApiClient { id, organization_id, scopes } => MeResponse {
            kind: ActorKind::ApiClient,
            user: None,
            client_id: Some(id),
            organization_id: Some(organization_id.as_uuid()),
            scopes: scopes.iter().map(|s| s.as_str().to_owned()).collect(),
        },
    };
    Ok(HttpResponse::Ok().json(body))
}
