//! `/v1/organizations/{org_id}/api-clients`: service accounts of HR systems.

use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, delete, get, post};
use chrono::{DateTime, Utc};
use keel_commands::api_clients;
use keel_domain::OrganizationId;
use keel_domain::api_client::{ApiClient, NewApiClient};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{PageParams, next_cursor, page_request};
use crate::auth::{hash_secret, random_token};
use crate::extract::{ApiQuery, Caller, JsonBody};
use crate::problem::ApiError;
use crate::state::AppState;

/// An API client (its secret is never shown again after creation or rotation).
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiClientResponse {
    #[schema(example = "kc_8kq3W2nE1bX0p7rT5yUa9A")]
    pub client_id: String,
    pub organization_id: Uuid,
    #[schema(example = "Workday sync")]
    pub name: String,
    #[schema(example = json!(["users:read", "engagements:read"]))]
    pub scopes: Vec<String>,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub secret_rotated_at: DateTime<Utc>,
    /// Set when the client was revoked; its secret and tokens no longer work.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<&ApiClient> for ApiClientResponse {
    fn from(c: &ApiClient) -> Self {
        ApiClientResponse {
            client_id: c.client_id.clone(),
            organization_id: c.organization_id.as_uuid(),
            name: c.name.clone(),
            scopes: c.scopes.iter().map(|s| s.as_str().to_owned()).collect(),
            created_at: c.created_at,
            secret_rotated_at: c.secret_rotated_at,
            revoked_at: c.revoked_at,
        }
    }
}

/// An API client with its secret: shown once, store it now.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiClientWithSecret {
    #[serde(flatten)]
    pub client: ApiClientResponse,
    /// The client secret. It is stored only as a hash and cannot be shown again.
    #[schema(example = "kcs_rA1u3mV…")]
    pub client_secret: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiClientRequest {
    #[schema(example = "Workday sync", max_length = 200)]
    pub name: String,
    /// At least one of: engagements:read, engagements:write, users:read, users:write, reports:read, webhooks:manage.
    #[schema(example = json!(["users:read", "users:write"]), min_items = 1)]
    pub scopes: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiClientPage {
    pub items: Vec<ApiClientResponse>,
    pub next_cursor: Option<String>,
}

/// Create an API client for an HR system. The response holds the secret, shown only this once.
#[utoipa::path(
    tag = "auth",
    params(("org_id" = Uuid, Path, description = "The organization")),
    request_body = CreateApiClientRequest,
    responses((status = 201, description = "Created; store the secret now", body = ApiClientWithSecret))
)]
#[post("/organizations/{org_id}/api-clients")]
pub async fn create_api_client(
    caller: Caller,
    state: Data<AppState>,
    org: Path<Uuid>,
    body: JsonBody<CreateApiClientRequest>,
) -> Result<HttpResponse, ApiError> {
    let org = OrganizationId::from(org.into_inner());
    let input = NewApiClient { organization_id: Some(org), name: body.0.name, scopes: body.0.scopes };
    let secret = random_token("kcs_", 32);
    let hash = {
        let secret = secret.clone();
        move || hash_secret(&secret)
    };
    let client =
        state.run(move |conn| api_clients::create(conn, &caller, org, input, random_token("kc_", 16), hash)).await?;
    let location = format!("/v1/organizations/{org}/api-clients/{}", client.client_id);
    Ok(HttpResponse::Created()
        .insert_header(("location", location))
        .insert_header(("cache-control", "no-store"))
        .json(ApiClientWithSecret { client: ApiClientResponse::from(&client), client_secret: secret }))
}

/// List the organization's API clients (without secrets), revoked ones included.
#[utoipa::path(
    tag = "auth",
    params(("org_id" = Uuid, Path, description = "The organization"), PageParams),
    responses((status = 200, description = "A page of API clients", body = ApiClientPage))
)]
#[get("/organizations/{org_id}/api-clients")]
pub async fn list_api_clients(
    caller: Caller,
    state: Data<AppState>,
    org: Path<Uuid>,
    query: ApiQuery<PageParams>,
) -> Result<HttpResponse, ApiError> {
    // The caller is refused before their cursor is read.
    let org = api_clients::visible(&caller, org.into_inner().into())?;
    let scope = format!("api-clients|{org}");
    let page = page_request(&state, &scope, query.0.limit, query.0.cursor.as_deref())?;
    let result = state.run(move |conn| api_clients::list(conn, &caller, org, page)).await?;
    Ok(HttpResponse::Ok().json(ApiClientPage {
        next_cursor: next_cursor(&state, &scope, &result, |c| c.id.as_uuid()),
        items: result.items.iter().map(ApiClientResponse::from).collect(),
    }))
}

/// Replace the client's secret; the old secret stops working (tokens already issued stay valid
/// until they expire). The response holds the new secret, shown only this once.
#[utoipa::path(
    tag = "auth",
    params(("org_id" = Uuid, Path, description = "The organization"), ("client_id" = String, Path, description = "The client")),
    responses(
        (status = 200, description = "The new secret", body = ApiClientWithSecret),
        (status = 409, response = crate::openapi::Conflict),
    )
)]
#[post("/organizations/{org_id}/api-clients/{client_id}/rotate-secret")]
pub async fn rotate_api_client_secret(
    caller: Caller,
    state: Data<AppState>,
    path: Path<(Uuid, String)>,
) -> Result<HttpResponse, ApiError> {
    let (org, client_id) = path.into_inner();
    let org = OrganizationId::from(org);
    let secret = random_token("kcs_", 32);
    let hash = {
        let secret = secret.clone();
        move || hash_secret(&secret)
    };
    let client = state.run(move |conn| api_clients::rotate_secret(conn, &caller, org, &client_id, hash)).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .json(ApiClientWithSecret { client: ApiClientResponse::from(&client), client_secret: secret }))
}

/// Revoke the client: its secret and every token issued to it stop working at once.
#[utoipa::path(
    tag = "auth",
    params(("org_id" = Uuid, Path, description = "The organization"), ("client_id" = String, Path, description = "The client")),
    responses((status = 204, description = "Revoked"))
)]
#[delete("/organizations/{org_id}/api-clients/{client_id}")]
pub async fn revoke_api_client(
    caller: Caller,
    state: Data<AppState>,
    path: Path<(Uuid, String)>,
) -> Result<HttpResponse, ApiError> {
    let (org, client_id) = path.into_inner();
    let org = OrganizationId::from(org);
    state.run(move |conn| api_clients::revoke(conn, &caller, org, &client_id)).await?;
    state.principals.clear();
    Ok(HttpResponse::NoContent().finish())
}
