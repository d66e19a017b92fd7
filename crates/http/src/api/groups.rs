//! `/v1/groups`: group and team coaching (seed 002). A cohort (individuals of one organization who
//! are not an intact team) or a team with its leader; group sessions with attendance, whose hours
//! count once against the group's budget; each participant's own outcomes and action items, which
//! only they and the coach see. Sponsors and hr_partners see the schedule and attendance, never
//! the content.

use actix_web::http::StatusCode;
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, delete, get, patch, post};
use chrono::{DateTime, NaiveDate, Utc};
use keel_commands::groups::{self, GroupCompletion, NewGroupItem, SeenGroup, SeenGroupSession};
use keel_domain::coaching::SessionFormat as FormatValue;
use keel_domain::group::{
    GroupActionItem, GroupChanges, GroupItemStatus as GroupItemStatusValue, GroupKind as GroupKindValue, GroupOutcome,
    GroupSessionStatus as GroupSessionStatusValue, Membership, NewGroup,
};
use keel_domain::{GroupActionItemId, GroupId, GroupSessionId, UserId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::sessions::{HoursLedger, ledger_response};
use super::{PageParams, created, next_cursor, page_request, resource};
use crate::extract::{ApiQuery, Caller, IfMatchVersion, JsonBody};
use crate::problem::ApiError;
use crate::state::AppState;

/// A coaching group.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupResponse {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub kind: GroupKindValue,
    #[schema(example = "Emerging leaders 2026")]
    pub name: String,
    pub coach_id: Uuid,
    pub sponsor_id: Uuid,
    pub hr_partner_id: Option<Uuid>,
    /// A team's leader (a participant too); null for a cohort.
    pub team_leader_id: Option<Uuid>,
    pub max_participants: u32,
    pub monthly_hours_budget: f64,
    #[serde(serialize_with = "crate::json::date")]
    pub start_date: NaiveDate,
    #[serde(serialize_with = "crate::json::date")]
    pub planned_end_date: NaiveDate,
    /// Who takes part now (see `/members` for everyone who did, with dates).
    pub participant_ids: Vec<Uuid>,
    /// The coaching contract whose hours the group draws on (see `/v1/contracts`).
    pub contract_id: Option<Uuid>,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

fn group_response(seen: &SeenGroup) -> GroupResponse {
    let g = &seen.group;
    GroupResponse {
        id: g.id.as_uuid(),
        organization_id: g.organization_id.as_uuid(),
        kind: g.kind,
        name: g.name.clone(),
        coach_id: g.coach_id.as_uuid(),
        sponsor_id: g.sponsor_id.as_uuid(),
        hr_partner_id: g.hr_partner_id.map(|u| u.as_uuid()),
        team_leader_id: g.team_leader_id.map(|u| u.as_uuid()),
        max_participants: g.max_participants,
        monthly_hours_budget: g.monthly_hours_budget,
        start_date: g.start_date,
        planned_end_date: g.planned_end_date,
        contract_id: g.contract_id.map(|id| id.as_uuid()),
        participant_ids: seen.memberships.iter().filter(|m| m.is_current()).map(|m| m.user_id.as_uuid()).collect(),
        created_at: g.created_at,
        updated_at: g.updated_at,
        version: g.version,
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GroupPage {
    pub items: Vec<GroupSummary>,
    pub next_cursor: Option<String>,
}

/// A group in a list (without its participants).
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupSummary {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub kind: GroupKindValue,
    pub name: String,
    pub coach_id: Uuid,
    #[serde(serialize_with = "crate::json::date")]
    pub start_date: NaiveDate,
    #[serde(serialize_with = "crate::json::date")]
    pub planned_end_date: NaiveDate,
    pub version: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateGroupRequest {
    pub organization_id: Uuid,
    pub kind: GroupKindValue,
    #[schema(min_length = 1, example = "Emerging leaders 2026", max_length = 200)]
    pub name: String,
    /// An active user holding the coach role.
    pub coach_id: Uuid,
    /// An active user of the organization.
    pub sponsor_id: Uuid,
    /// An active hr_partner of the organization.
    pub hr_partner_id: Option<Uuid>,
    /// Required for a team (and joins it); not allowed for a cohort.
    pub team_leader_id: Option<Uuid>,
    /// 2–50; default 12.
    #[schema(minimum = 2, maximum = 50)]
    pub max_participants: Option<u32>,
    /// Default: the organization's `default_monthly_hours_budget`.
    #[schema(minimum = 0.25, maximum = 200)]
    pub monthly_hours_budget: Option<f64>,
    pub start_date: NaiveDate,
    /// Default: six months after the start.
    pub planned_end_date: Option<NaiveDate>,
    /// A contract of the organization whose period holds `start_date`; the group's plan must fit
    /// in what it has left (409 `contract_overdrawn` otherwise, unless the organization allows
    /// overdraft).
    pub contract_id: Option<Uuid>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateGroupRequest {
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// Not below the number of participants now.
    #[schema(minimum = 2, maximum = 50)]
    pub max_participants: Option<u32>,
    #[schema(minimum = 0.25, maximum = 200)]
    pub monthly_hours_budget: Option<f64>,
    pub planned_end_date: Option<NaiveDate>,
    /// Another contract of the organization (`null`: none); a change that raises what the group
    /// holds must fit in it.
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub contract_id: Option<Option<Uuid>>,
}

/// One person's time in the group.
#[derive(Debug, Serialize, ToSchema)]
pub struct MembershipResponse {
    pub user_id: Uuid,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub joined_at: DateTime<Utc>,
    /// Null while they take part.
    #[serde(serialize_with = "crate::json::optional_timestamp")]
    pub left_at: Option<DateTime<Utc>>,
}

fn membership_response(m: &Membership) -> MembershipResponse {
    MembershipResponse { user_id: m.user_id.as_uuid(), joined_at: m.joined_at, left_at: m.left_at }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MembershipList {
    pub items: Vec<MembershipResponse>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JoinRequest {
    /// An active user of the group's organization.
    pub user_id: Uuid,
}

/// Whether a participant was at a completed session.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttendanceResponse {
    pub user_id: Uuid,
    pub attended: bool,
}

/// A group session. The agenda and shared summary appear for the coach and the participants;
/// private notes for the coach who wrote them.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupSessionResponse {
    pub id: Uuid,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub scheduled_at: DateTime<Utc>,
    pub duration_minutes: u32,
    pub format: FormatValue,
    pub status: GroupSessionStatusValue,
    pub status_reason: Option<String>,
    #[serde(serialize_with = "crate::json::optional_timestamp")]
    pub completed_at: Option<DateTime<Utc>>,
    /// Everyone in the group when it was completed, and whether they came.
    pub attendance: Vec<AttendanceResponse>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agenda: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shared_summary: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_notes: Option<String>,
    pub version: i64,
}

fn session_response(seen: &SeenGroupSession) -> GroupSessionResponse {
    let s = &seen.session;
    let content = |field: &Option<String>| if seen.view.content { field.clone() } else { None };
    GroupSessionResponse {
        id: s.id.as_uuid(),
        scheduled_at: s.scheduled_at,
        duration_minutes: s.duration_minutes,
        format: s.format,
        status: s.status,
        status_reason: s.status_reason.clone(),
        completed_at: s.completed_at,
        attendance: seen
            .attendance
            .iter()
            .map(|a| AttendanceResponse { user_id: a.user_id.as_uuid(), attended: a.attended })
            .collect(),
        agenda: content(&s.agenda),
        shared_summary: content(&s.shared_summary),
        private_notes: if seen.view.private_notes { s.private_notes.clone() } else { None },
        version: s.version,
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GroupSessionList {
    pub items: Vec<GroupSessionResponse>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleGroupSessionRequest {
    pub scheduled_at: DateTime<Utc>,
    /// 15–480 minutes.
    #[schema(minimum = 15, maximum = 480)]
    pub duration_minutes: u32,
    pub format: FormatValue,
    #[schema(max_length = 20000, pattern = "multiline")]
    pub agenda: Option<String>,
}

/// Move a scheduled session, or cancel it (`status: cancelled` with a reason).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateGroupSessionRequest {
    pub scheduled_at: Option<DateTime<Utc>>,
    /// Only `cancelled`.
    pub status: Option<GroupSessionStatusValue>,
    #[schema(max_length = 2000, pattern = "line-optional")]
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteGroupSessionRequest {
    #[schema(minimum = 15, maximum = 480)]
    pub actual_duration_minutes: u32,
    /// The participants who were there; everyone else in the group is recorded as absent.
    #[serde(default)]
    #[schema(max_items = 50)]
    pub attended: Vec<Uuid>,
    /// For the participants.
    #[schema(max_length = 20000, pattern = "multiline")]
    pub shared_summary: Option<String>,
    /// Seen only by you, the coach who writes them.
    #[schema(max_length = 20000, pattern = "multiline")]
    pub private_notes: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GroupOutcomeResponse {
    pub id: Uuid,
    pub participant_id: Uuid,
    pub title: String,
    pub measure: Option<String>,
    pub baseline: Option<String>,
    pub target: Option<String>,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub created_at: DateTime<Utc>,
}

fn outcome_response(o: &GroupOutcome) -> GroupOutcomeResponse {
    GroupOutcomeResponse {
        id: o.id.as_uuid(),
        participant_id: o.participant_id.as_uuid(),
        title: o.title.clone(),
        measure: o.measure.clone(),
        baseline: o.baseline.clone(),
        target: o.target.clone(),
        created_at: o.created_at,
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GroupOutcomeList {
    pub items: Vec<GroupOutcomeResponse>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateGroupOutcomeRequest {
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    #[schema(max_length = 2000, pattern = "line-optional")]
    pub measure: Option<String>,
    #[schema(max_length = 2000, pattern = "line-optional")]
    pub baseline: Option<String>,
    #[schema(max_length = 2000, pattern = "line-optional")]
    pub target: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GroupActionItemResponse {
    pub id: Uuid,
    pub participant_id: Uuid,
    /// The group session that set it.
    pub session_id: Option<Uuid>,
    pub title: String,
    pub details: Option<String>,
    pub due_date: Option<NaiveDate>,
    pub status: GroupItemStatusValue,
    pub version: i64,
}

fn item_response(i: &GroupActionItem) -> GroupActionItemResponse {
    GroupActionItemResponse {
        id: i.id.as_uuid(),
        participant_id: i.participant_id.as_uuid(),
        session_id: i.session_id.map(|s| s.as_uuid()),
        title: i.title.clone(),
        details: i.details.clone(),
        due_date: i.due_date,
        status: i.status,
        version: i.version,
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GroupActionItemList {
    pub items: Vec<GroupActionItemResponse>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateGroupActionItemRequest {
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    #[schema(max_length = 20000, pattern = "multiline")]
    pub details: Option<String>,
    pub due_date: Option<NaiveDate>,
    /// A session of the group that set it.
    pub session_id: Option<Uuid>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateGroupActionItemRequest {
    pub status: GroupItemStatusValue,
}

/// Create a group (admin, the organization's hr_partner, or its API client with
/// engagements:write). A team's leader joins it.
#[utoipa::path(tag = "groups", request_body = CreateGroupRequest,
    responses((status = 201, description = "Created", body = GroupResponse,
        headers(("ETag" = String, description = "The version"), ("Location" = String, description = "The group's URL")))))]
#[post("/groups")]
pub async fn create_group(
    caller: Caller,
    state: Data<AppState>,
    body: JsonBody<CreateGroupRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.0;
    let input = NewGroup {
        organization_id: b.organization_id.into(),
        kind: b.kind,
        name: b.name,
        coach_id: b.coach_id.into(),
        sponsor_id: b.sponsor_id.into(),
        hr_partner_id: b.hr_partner_id.map(Into::into),
        team_leader_id: b.team_leader_id.map(Into::into),
        max_participants: b.max_participants,
        monthly_hours_budget: b.monthly_hours_budget,
        start_date: b.start_date,
        planned_end_date: b.planned_end_date,
        contract_id: b.contract_id.map(Into::into),
    };
    let seen = state.run(move |conn| groups::create(conn, &caller, input, &[])).await?;
    Ok(created(format!("/v1/groups/{}", seen.group.id), seen.group.version, &group_response(&seen)))
}

/// The groups the caller may see: all for admins, the organization's for its hr_partner and API
/// clients, those they coach, sponsor or take part in for everyone else.
#[utoipa::path(tag = "groups", params(PageParams),
    responses((status = 200, description = "A page of groups", body = GroupPage)))]
#[get("/groups")]
pub async fn list_groups(
    caller: Caller,
    state: Data<AppState>,
    query: ApiQuery<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let scope = "groups";
    let page = page_request(&state, scope, query.0.limit, query.0.cursor.as_deref())?;
    let result = state.run(move |conn| groups::list(conn, &caller, page)).await?;
    Ok(HttpResponse::Ok().json(GroupPage {
        next_cursor: next_cursor(&state, scope, &result, |g| g.id.as_uuid()),
        items: result
            .items
            .iter()
            .map(|g| GroupSummary {
                id: g.id.as_uuid(),
                organization_id: g.organization_id.as_uuid(),
                kind: g.kind,
                name: g.name.clone(),
                coach_id: g.coach_id.as_uuid(),
                start_date: g.start_date,
                planned_end_date: g.planned_end_date,
                version: g.version,
            })
            .collect(),
    }))
}

/// A group (its coach, sponsor, hr_partner, participants present and past, and admins).
#[utoipa::path(tag = "groups", params(("group_id" = Uuid, Path, description = "The group")),
    responses((status = 200, description = "The group", body = GroupResponse, headers(("ETag" = String, description = "The version")))))]
#[get("/groups/{group_id}")]
pub async fn get_group(caller: Caller, state: Data<AppState>, id: Path<GroupId>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let seen = state.run(move |conn| groups::get(conn, &caller, id)).await?;
    Ok(resource(StatusCode::OK, seen.group.version, &group_response(&seen)))
}

/// Change a group's name, size, budget or planned end (its hr_partner or an admin).
#[utoipa::path(tag = "groups",
    params(("group_id" = Uuid, Path, description = "The group"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; refused with 412 if it is no longer current")),
    request_body = UpdateGroupRequest,
    responses((status = 200, description = "The group", body = GroupResponse, headers(("ETag" = String, description = "The new version"))),
        (status = 409, response = crate::openapi::Conflict)))]
#[patch("/groups/{group_id}")]
pub async fn update_group(
    caller: Caller,
    state: Data<AppState>,
    id: Path<GroupId>,
    if_match: IfMatchVersion,
    body: JsonBody<UpdateGroupRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let b = body.0;
    let changes = GroupChanges {
        name: b.name,
        max_participants: b.max_participants,
        monthly_hours_budget: b.monthly_hours_budget,
        planned_end_date: b.planned_end_date,
        contract_id: b.contract_id.map(|id| id.map(Into::into)),
    };
    let seen = state.run(move |conn| groups::update(conn, &caller, id, if_match.0.as_ref(), &changes)).await?;
    Ok(resource(StatusCode::OK, seen.group.version, &group_response(&seen)))
}

/// Everyone who took part in the group, with when they joined and left.
#[utoipa::path(tag = "groups", params(("group_id" = Uuid, Path, description = "The group")),
    responses((status = 200, description = "The memberships, oldest first", body = MembershipList)))]
#[get("/groups/{group_id}/members")]
pub async fn list_members(caller: Caller, state: Data<AppState>, id: Path<GroupId>) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let seen = state.run(move |conn| groups::get(conn, &caller, id)).await?;
    Ok(HttpResponse::Ok().json(MembershipList { items: seen.memberships.iter().map(membership_response).collect() }))
}

/// A person joins the group (its hr_partner or an admin): an active user of the group's
/// organization, while the group has room (409 `group_full`).
#[utoipa::path(tag = "groups", params(("group_id" = Uuid, Path, description = "The group")),
    request_body = JoinRequest,
    responses((status = 201, description = "Joined", body = MembershipResponse),
        (status = 409, response = crate::openapi::Conflict)))]
#[post("/groups/{group_id}/members")]
pub async fn add_member(
    caller: Caller,
    state: Data<AppState>,
    id: Path<GroupId>,
    body: JsonBody<JoinRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let user = UserId::from(body.0.user_id);
    let membership = state.run(move |conn| groups::join(conn, &caller, id, user)).await?;
    Ok(HttpResponse::Created().json(membership_response(&membership)))
}

/// A person leaves the group (its hr_partner or an admin); their history stays.
#[utoipa::path(tag = "groups",
    params(("group_id" = Uuid, Path, description = "The group"), ("user_id" = Uuid, Path, description = "The participant")),
    responses((status = 204, description = "Left"), (status = 409, response = crate::openapi::Conflict)))]
#[delete("/groups/{group_id}/members/{user_id}")]
pub async fn remove_member(
    caller: Caller,
    state: Data<AppState>,
    path: Path<(GroupId, UserId)>,
) -> Result<HttpResponse, ApiError> {
    let (id, user) = path.into_inner();
    state.run(move |conn| groups::leave(conn, &caller, id, user)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The group's sessions in time order, with attendance (content as the caller may see it).
#[utoipa::path(tag = "groups", params(("group_id" = Uuid, Path, description = "The group")),
    responses((status = 200, description = "The sessions", body = GroupSessionList)))]
#[get("/groups/{group_id}/sessions")]
pub async fn list_group_sessions(
    caller: Caller,
    state: Data<AppState>,
    id: Path<GroupId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let all = state.run(move |conn| groups::sessions(conn, &caller, id)).await?;
    Ok(HttpResponse::Ok().json(GroupSessionList { items: all.iter().map(session_response).collect() }))
}

/// Schedule a group session (the coach).
#[utoipa::path(tag = "groups", params(("group_id" = Uuid, Path, description = "The group")),
    request_body = ScheduleGroupSessionRequest,
    responses((status = 201, description = "Scheduled", body = GroupSessionResponse, headers(("ETag" = String, description = "The version")))))]
#[post("/groups/{group_id}/sessions")]
pub async fn schedule_group_session(
    caller: Caller,
    state: Data<AppState>,
    id: Path<GroupId>,
    body: JsonBody<ScheduleGroupSessionRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let b = body.0;
    let input = (b.scheduled_at, b.duration_minutes, b.format, b.agenda);
    let seen = state.run(move |conn| groups::schedule(conn, &caller, id, input)).await?;
    let location = format!("/v1/groups/{id}/sessions/{}", seen.session.id);
    Ok(created(location, seen.session.version, &session_response(&seen)))
}

/// One group session.
#[utoipa::path(tag = "groups",
    params(("group_id" = Uuid, Path, description = "The group"), ("session_id" = Uuid, Path, description = "The session")),
    responses((status = 200, description = "The session", body = GroupSessionResponse, headers(("ETag" = String, description = "The version")))))]
#[get("/groups/{group_id}/sessions/{session_id}")]
pub async fn get_group_session(
    caller: Caller,
    state: Data<AppState>,
    path: Path<(GroupId, GroupSessionId)>,
) -> Result<HttpResponse, ApiError> {
    let key = path.into_inner();
    let seen = state.run(move |conn| groups::session(conn, &caller, key)).await?;
    Ok(resource(StatusCode::OK, seen.session.version, &session_response(&seen)))
}

/// Move a scheduled group session, or cancel it with a reason (the coach).
#[utoipa::path(tag = "groups",
    params(("group_id" = Uuid, Path, description = "The group"), ("session_id" = Uuid, Path, description = "The session"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; refused with 412 if it is no longer current")),
    request_body = UpdateGroupSessionRequest,
    responses((status = 200, description = "The session", body = GroupSessionResponse, headers(("ETag" = String, description = "The new version"))),
        (status = 409, response = crate::openapi::Conflict)))]
#[patch("/groups/{group_id}/sessions/{session_id}")]
pub async fn update_group_session(
    caller: Caller,
    state: Data<AppState>,
    path: Path<(GroupId, GroupSessionId)>,
    if_match: IfMatchVersion,
    body: JsonBody<UpdateGroupSessionRequest>,
) -> Result<HttpResponse, ApiError> {
    let key = path.into_inner();
    let b = body.0;
    let changes = (b.scheduled_at, b.status, b.reason);
    let seen = state.run(move |conn| groups::change_session(conn, &caller, key, if_match.0.as_ref(), changes)).await?;
    Ok(resource(StatusCode::OK, seen.session.version, &session_response(&seen)))
}

/// Complete a group session (the coach): who attended, a summary for the participants, private
/// notes. Its hours count once against the group's month (409 `over_budget` when they do not fit).
#[utoipa::path(tag = "groups",
    params(("group_id" = Uuid, Path, description = "The group"), ("session_id" = Uuid, Path, description = "The session")),
    request_body = CompleteGroupSessionRequest,
    responses((status = 200, description = "The completed session", body = GroupSessionResponse, headers(("ETag" = String, description = "The new version"))),
        (status = 409, response = crate::openapi::Conflict)))]
#[post("/groups/{group_id}/sessions/{session_id}/complete")]
pub async fn complete_group_session(
    caller: Caller,
    state: Data<AppState>,
    path: Path<(GroupId, GroupSessionId)>,
    body: JsonBody<CompleteGroupSessionRequest>,
) -> Result<HttpResponse, ApiError> {
    let key = path.into_inner();
    let b = body.0;
    let completion = GroupCompletion {
        actual_minutes: b.actual_duration_minutes,
        shared_summary: b.shared_summary,
        private_notes: b.private_notes,
        attended: b.attended.into_iter().map(UserId::from).collect(),
    };
    let seen = state.run(move |conn| groups::complete_session(conn, &caller, key, &completion)).await?;
    Ok(resource(StatusCode::OK, seen.session.version, &session_response(&seen)))
}

/// The group's hours ledger: each completed group session counted once, whoever attended.
#[utoipa::path(tag = "groups", params(("group_id" = Uuid, Path, description = "The group")),
    responses((status = 200, description = "The ledger", body = HoursLedger)))]
#[get("/groups/{group_id}/hours")]
pub async fn get_group_hours(
    caller: Caller,
    state: Data<AppState>,
    id: Path<GroupId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let (group, months, contract) = state.run(move |conn| groups::hours(conn, &caller, id)).await?;
    let contract = contract.as_ref().map(super::sessions::ContractRef::from);
    Ok(HttpResponse::Ok().json(ledger_response(contract, group.monthly_hours_budget, &months)))
}

/// A participant's own outcomes (the coach and that participant; 404 for everyone else).
#[utoipa::path(tag = "groups",
    params(("group_id" = Uuid, Path, description = "The group"), ("user_id" = Uuid, Path, description = "The participant")),
    responses((status = 200, description = "The outcomes", body = GroupOutcomeList)))]
#[get("/groups/{group_id}/participants/{user_id}/outcomes")]
pub async fn list_participant_outcomes(
    caller: Caller,
    state: Data<AppState>,
    path: Path<(GroupId, UserId)>,
) -> Result<HttpResponse, ApiError> {
    let key = path.into_inner();
    let all = state.run(move |conn| groups::outcomes(conn, &caller, key)).await?;
    Ok(HttpResponse::Ok().json(GroupOutcomeList { items: all.iter().map(outcome_response).collect() }))
}

/// Set an outcome of one participant (the coach).
#[utoipa::path(tag = "groups",
    params(("group_id" = Uuid, Path, description = "The group"), ("user_id" = Uuid, Path, description = "The participant")),
    request_body = CreateGroupOutcomeRequest,
    responses((status = 201, description = "Created", body = GroupOutcomeResponse)))]
#[post("/groups/{group_id}/participants/{user_id}/outcomes")]
pub async fn create_participant_outcome(
    caller: Caller,
    state: Data<AppState>,
    path: Path<(GroupId, UserId)>,
    body: JsonBody<CreateGroupOutcomeRequest>,
) -> Result<HttpResponse, ApiError> {
    let key = path.into_inner();
    let b = body.0;
    let input = (b.title, b.measure, b.baseline, b.target);
    let outcome = state.run(move |conn| groups::add_outcome(conn, &caller, key, input)).await?;
    Ok(HttpResponse::Created().json(outcome_response(&outcome)))
}

/// A participant's own action items (the coach and that participant; 404 for everyone else).
#[utoipa::path(tag = "groups",
    params(("group_id" = Uuid, Path, description = "The group"), ("user_id" = Uuid, Path, description = "The participant")),
    responses((status = 200, description = "The action items", body = GroupActionItemList)))]
#[get("/groups/{group_id}/participants/{user_id}/action-items")]
pub async fn list_participant_action_items(
    caller: Caller,
    state: Data<AppState>,
    path: Path<(GroupId, UserId)>,
) -> Result<HttpResponse, ApiError> {
    let key = path.into_inner();
    let all = state.run(move |conn| groups::items(conn, &caller, key)).await?;
    Ok(HttpResponse::Ok().json(GroupActionItemList { items: all.iter().map(item_response).collect() }))
}

/// Set an action item of one participant (the coach), optionally from a group session.
#[utoipa::path(tag = "groups",
    params(("group_id" = Uuid, Path, description = "The group"), ("user_id" = Uuid, Path, description = "The participant")),
    request_body = CreateGroupActionItemRequest,
    responses((status = 201, description = "Created", body = GroupActionItemResponse, headers(("ETag" = String, description = "The version")))))]
#[post("/groups/{group_id}/participants/{user_id}/action-items")]
pub async fn create_participant_action_item(
    caller: Caller,
    state: Data<AppState>,
    path: Path<(GroupId, UserId)>,
    body: JsonBody<CreateGroupActionItemRequest>,
) -> Result<HttpResponse, ApiError> {
    let key = path.into_inner();
    let b = body.0;
    let input = NewGroupItem {
        session_id: b.session_id.map(GroupSessionId::from),
        title: b.title,
        details: b.details,
        due_date: b.due_date,
    };
    let item = state.run(move |conn| groups::add_item(conn, &caller, key, &input)).await?;
    let location = format!("/v1/groups/{}/participants/{}/action-items/{}", key.0, key.1, item.id);
    Ok(created(location, item.version, &item_response(&item)))
}

/// Mark an action item done, dropped or open again (the participant it belongs to, or the coach).
#[utoipa::path(tag = "groups",
    params(("group_id" = Uuid, Path, description = "The group"), ("user_id" = Uuid, Path, description = "The participant"),
        ("item_id" = Uuid, Path, description = "The action item"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; refused with 412 if it is no longer current")),
    request_body = UpdateGroupActionItemRequest,
    responses((status = 200, description = "The action item", body = GroupActionItemResponse, headers(("ETag" = String, description = "The new version")))))]
#[patch("/groups/{group_id}/participants/{user_id}/action-items/{item_id}")]
pub async fn update_participant_action_item(
    caller: Caller,
    state: Data<AppState>,
    path: Path<(GroupId, UserId, GroupActionItemId)>,
    if_match: IfMatchVersion,
    body: JsonBody<UpdateGroupActionItemRequest>,
) -> Result<HttpResponse, ApiError> {
    let key = path.into_inner();
    let status = body.0.status;
    let item = state.run(move |conn| groups::update_item(conn, &caller, key, if_match.0.as_ref(), status)).await?;
    Ok(resource(StatusCode::OK, item.version, &item_response(&item)))
}
