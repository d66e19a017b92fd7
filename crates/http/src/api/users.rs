//! `/v1/users`

use actix_web::http::StatusCode;
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, delete, get, patch, post};
use chrono::{DateTime, Utc};

use keel_commands::filters::UserFilter;
use keel_commands::users;
use keel_domain::user::{NewUser, Role, Role as UserRole, User, UserPatch, UserStatus as UserStatusValue};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{created, double_option, etag, next_cursor, page_request, resource};
use crate::extract::{ApiQuery, Caller, IfMatchVersion, JsonBody};
use crate::problem::ApiError;
use crate::state::AppState;

/// A person.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserResponse {
    pub id: Uuid,
    #[schema(example = "ann.lee@example.com")]
    pub email: String,
    #[schema(example = "Ann Lee")]
    pub name: String,
    /// Null for provider-side coaches and admins.
    pub organization_id: Option<Uuid>,
    pub roles: Vec<UserRole>,
    pub status: UserStatusValue,
    /// The HR system's or identity provider's id, unique per organization.
    pub external_id: Option<String>,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub updated_at: DateTime<Utc>,
    /// Incremented by every change; the ETag is this number, quoted.
    pub version: i64,
    /// Set when someone else changed the address: until then no sign-in link goes to it.
    #[serde(serialize_with = "crate::json::optional_timestamp")]
    pub sign_in_hold_until: Option<DateTime<Utc>>,
}

impl From<&User> for UserResponse {
    fn from(user: &User) -> Self {
        UserResponse {
            id: user.id.as_uuid(),
            email: user.email.as_str().to_owned(),
            name: user.name.clone(),
            organization_id: user.organization_id.map(|id| id.as_uuid()),
            roles: user.roles.iter().copied().collect(),
            status: user.status,
            external_id: user.external_id.clone(),
            created_at: user.created_at,
            updated_at: user.updated_at,
            version: user.version,
            sign_in_hold_until: user.sign_in_hold_until,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    /// Unique, case-insensitively.
    #[schema(example = "ann.lee@example.com", format = Email, max_length = 254)]
    pub email: String,
    /// 1 to 200 characters, trimmed.
    #[schema(example = "Ann Lee", max_length = 200)]
    pub name: String,
    /// Required for hr_partners; omit for provider-side coaches and admins.
    pub organization_id: Option<Uuid>,
    #[serde(default)]
    pub roles: Vec<UserRole>,
    #[schema(max_length = 200)]
    pub external_id: Option<String>,
}

/// A partial update: only the fields present change; `external_id: null` clears it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    #[schema(format = Email, max_length = 254)]
    pub email: Option<String>,
    #[schema(max_length = 200)]
    pub name: Option<String>,
    /// Replaces the roles.
    pub roles: Option<Vec<UserRole>>,
    pub status: Option<UserStatusValue>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub external_id: Option<Option<String>>,
}

/// Filters of the user list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserListParams {
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
    /// Only users of this organization.
    pub organization_id: Option<Uuid>,
    /// Only users holding this role.
    #[param(inline)]
    pub role: Option<UserRole>,
    #[param(inline)]
    pub status: Option<UserStatusValue>,
    /// Exact address, case-insensitive.
    pub email: Option<String>,
}

/// A page of users.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserPage {
    pub items: Vec<UserResponse>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// Create a user.
#[utoipa::path(
    tag = "users",
    request_body = CreateUserRequest,
    responses(
        (status = 201, description = "Created", body = UserResponse,
         headers(("ETag" = String, description = "The version"), ("Location" = String, description = "The new user's URL"))),
        (status = 409, response = crate::openapi::Conflict),
    )
)]
#[post("/users")]
pub async fn create_user(
    caller: Caller,
    state: Data<AppState>,
    body: JsonBody<CreateUserRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let roles: Vec<Role> = body.roles;
    let organization_id = body.organization_id.map(Into::into);
    let input = NewUser { email: body.email, name: body.name, organization_id, roles, external_id: body.external_id };
    let user = state.run(move |conn| users::create(conn, &caller, input)).await?;
    Ok(created(format!("/v1/users/{}", user.id), user.version, &UserResponse::from(&user)))
}

/// List users, oldest first, with filters.
#[utoipa::path(
    tag = "users",
    params(UserListParams),
    responses((status = 200, description = "A page of users", body = UserPage))
)]
#[get("/users")]
pub async fn list_users(
    caller: Caller,
    state: Data<AppState>,
    query: ApiQuery<UserListParams>,
) -> Result<HttpResponse, ApiError> {
    let q = query.0;
    let filter = UserFilter {
        id: None,
        organization_id: q.organization_id.map(Into::into),
        role: q.role,
        status: q.status,
        email: q.email,
    };
    // The cursor is bound to the filters it was issued with.
    let scope = format!(
        "users|{:?}|{:?}|{:?}|{:?}",
        filter.organization_id,
        filter.role,
        filter.status,
        filter.email.as_deref().map(keel_domain::user::normalize_email)
    );
    let page = page_request(&state, &scope, q.limit, q.cursor.as_deref())?;
    let result = state.run(move |conn| users::list(conn, &caller, filter, page)).await?;
    Ok(HttpResponse::Ok().json(UserPage {
        next_cursor: next_cursor(&state, &scope, &result, |u| u.id.as_uuid()),
        items: result.items.iter().map(UserResponse::from).collect(),
    }))
}

/// Get a user.
#[utoipa::path(
    tag = "users",
    params(("user_id" = Uuid, Path, description = "The user's id")),
    responses((status = 200, description = "The user", body = UserResponse, headers(("ETag" = String, description = "The version"))))
)]
#[get("/users/{user_id}")]
pub async fn get_user(caller: Caller, state: Data<AppState>, id: Path<Uuid>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().into();
    let user = state.run(move |conn| users::get(conn, &caller, id)).await?;
    Ok(resource(StatusCode::OK, user.version, &UserResponse::from(&user)))
}

/// Update a user.
#[utoipa::path(
    tag = "users",
    params(
        ("user_id" = Uuid, Path, description = "The user's id"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; the update is refused with 412 if it is no longer current"),
    ),
    request_body = UpdateUserRequest,
    responses(
        (status = 200, description = "The updated user", body = UserResponse, headers(("ETag" = String, description = "The new version"))),
        (status = 409, response = crate::openapi::Conflict),
    )
)]
#[patch("/users/{user_id}")]
pub async fn update_user(
    caller: Caller,
    state: Data<AppState>,
    id: Path<Uuid>,
    if_match: IfMatchVersion,
    body: JsonBody<UpdateUserRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().into();
    let body = body.0;
    let patch = UserPatch {
        email: body.email,
        name: body.name,
        roles: body.roles.map(|r| r.into_iter().collect()),
        status: body.status,
        external_id: body.external_id,
    };
    let user = state.run(move |conn| users::update(conn, &caller, id, if_match.0.as_ref(), &patch)).await?;
    state.principals.clear();
    Ok(resource(StatusCode::OK, user.version, &UserResponse::from(&user)))
}

/// Deactivate a user. The user is kept for history and can no longer act; repeating it is harmless.
#[utoipa::path(
    tag = "users",
    params(
        ("user_id" = Uuid, Path, description = "The user's id"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; refused with 412 if it is no longer current"),
    ),
    responses((status = 204, description = "Deactivated", headers(("ETag" = String, description = "The new version"))))
)]
#[delete("/users/{user_id}")]
pub async fn deactivate_user(
    caller: Caller,
    state: Data<AppState>,
    id: Path<Uuid>,
    if_match: IfMatchVersion,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner().into();
    let user = state.run(move |conn| users::deactivate(conn, &caller, id, if_match.0.as_ref())).await?;
    state.principals.clear();
    Ok(HttpResponse::NoContent().insert_header(etag(user.version)).finish())
}
