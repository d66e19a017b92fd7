//! Action items (homework): set by the coach, owned by the leader, who marks them done or adds a
//! note. Only the coach and the leader see them (docs/access.md).

use actix_web::http::StatusCode;
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, get, patch, post};
use chrono::{DateTime, NaiveDate, Utc};
use keel_commands::action_items;
use keel_commands::filters::ActionItemFilter;
use keel_domain::coaching::{ActionItem, ActionItemChanges, ActionItemStatus as ActionItemStatusValue};
use keel_domain::{ActionItemId, EngagementId, SessionId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{created, double_option, resource};
use crate::extract::{ApiQuery, Caller, IfMatchVersion, JsonBody};
use crate::problem::ApiError;
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct ActionItemResponse {
    pub id: Uuid,
    #[schema(example = "Delegate the budget review")]
    pub title: String,
    pub details: Option<String>,
    pub due_date: Option<NaiveDate>,
    pub status: ActionItemStatusValue,
    /// The session that set it.
    pub session_id: Option<Uuid>,
    /// The leader's note.
    pub leader_note: Option<String>,
    /// Open and past its due date.
    pub overdue: bool,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

fn response(item: &ActionItem) -> ActionItemResponse {
    ActionItemResponse {
        id: item.id.as_uuid(),
        title: item.title.clone(),
        details: item.details.clone(),
        due_date: item.due_date,
        status: item.status,
        session_id: item.session_id.map(|id| id.as_uuid()),
        leader_note: item.leader_note.clone(),
        overdue: item.overdue(Utc::now().date_naive()),
        updated_at: item.updated_at,
        version: item.version,
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ActionItemList {
    pub items: Vec<ActionItemResponse>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActionItemListParams {
    #[param(inline)]
    pub status: Option<ActionItemStatusValue>,
    /// Only items due on or before this date.
    pub due_before: Option<NaiveDate>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateActionItemRequest {
    #[schema(max_length = 200)]
    pub title: String,
    #[schema(max_length = 20000, pattern = "multiline")]
    pub details: Option<String>,
    pub due_date: Option<NaiveDate>,
    /// The session that set it.
    pub session_id: Option<Uuid>,
}

/// The leader may change `status` (done, open) and `leader_note`; the coach anything.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateActionItemRequest {
    #[schema(max_length = 200)]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 20000, pattern = "multiline")]
    pub details: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<NaiveDate>)]
    pub due_date: Option<Option<NaiveDate>>,
    pub status: Option<ActionItemStatusValue>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 5000, pattern = "multiline")]
    pub leader_note: Option<Option<String>>,
}

/// The engagement's action items (coach and leader), with overdue ones flagged.
#[utoipa::path(tag = "sessions", params(("id" = Uuid, Path, description = "The engagement"), ActionItemListParams),
    responses((status = 200, description = "The action items", body = ActionItemList)))]
#[get("/engagements/{id}/action-items")]
pub async fn list_action_items(
    caller: Caller,
    state: Data<AppState>,
    id: Path<EngagementId>,
    query: ApiQuery<ActionItemListParams>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let filter = ActionItemFilter { status: query.0.status, due_before: query.0.due_before };
    let items = state.run(move |conn| action_items::list(conn, &caller, id, &filter)).await?;
    Ok(HttpResponse::Ok().json(ActionItemList { items: items.iter().map(response).collect() }))
}

/// Set an action item for the leader (the coach).
#[utoipa::path(tag = "sessions", params(("id" = Uuid, Path, description = "The engagement")),
    request_body = CreateActionItemRequest,
    responses((status = 201, description = "Created", body = ActionItemResponse, headers(("ETag" = String, description = "The version")))))]
#[post("/engagements/{id}/action-items")]
pub async fn create_action_item(
    caller: Caller,
    state: Data<AppState>,
    id: Path<EngagementId>,
    body: JsonBody<CreateActionItemRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let b = body.0;
    let session = b.session_id.map(SessionId::from);
    let input = ActionItemChanges {
        title: Some(b.title),
        details: Some(b.details),
        due_date: Some(b.due_date),
        ..Default::default()
    };
    let item = state.run(move |conn| action_items::create(conn, &caller, id, session, &input)).await?;
    Ok(created(format!("/v1/engagements/{id}/action-items/{}", item.id), item.version, &response(&item)))
}

/// Change an action item: the coach anything; the leader marks it done (or open) and adds a note.
#[utoipa::path(tag = "sessions",
    params(("id" = Uuid, Path, description = "The engagement"), ("item_id" = Uuid, Path, description = "The action item"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; refused with 412 if it is no longer current")),
    request_body = UpdateActionItemRequest,
    responses((status = 200, description = "The action item", body = ActionItemResponse, headers(("ETag" = String, description = "The new version")))))]
#[patch("/engagements/{id}/action-items/{item_id}")]
pub async fn update_action_item(
    caller: Caller,
    state: Data<AppState>,
    path: Path<(EngagementId, ActionItemId)>,
    if_match: IfMatchVersion,
    body: JsonBody<UpdateActionItemRequest>,
) -> Result<HttpResponse, ApiError> {
    let (id, item_id) = path.into_inner();
    let b = body.0;
    let changes = ActionItemChanges {
        title: b.title,
        details: b.details,
        due_date: b.due_date,
        status: b.status,
        leader_note: b.leader_note,
    };
    let item = state
        .run(move |conn| action_items::update(conn, &caller, (id, item_id), if_match.0.as_ref(), &changes))
        .await?;
    Ok(resource(StatusCode::OK, item.version, &response(&item)))
}
