//! `/v1/engagements`: engagements, phase transitions and the timeline.

use actix_web::http::StatusCode;
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, get, patch, post};
use chrono::{DateTime, NaiveDate, Utc};
use keel_commands::engagements;
use keel_commands::filters::EngagementFilter;
use keel_domain::EngagementId;
use keel_domain::engagement::{
    Engagement, EngagementPatch, NewEngagement, Phase as PhaseValue, TransitionRecord, validate_reason,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{PageParams, created, next_cursor, page_request, resource};
use crate::extract::{ApiQuery, Caller, IfMatchVersion, JsonBody};
use crate::problem::ApiError;
use crate::state::AppState;

/// A coaching engagement.
#[derive(Debug, Serialize, ToSchema)]
pub struct EngagementResponse {
    pub id: Uuid,
    pub organization_id: Uuid,
    #[schema(example = "Leading through the merger")]
    pub title: String,
    /// The coachee.
    pub leader_id: Uuid,
    pub coach_id: Uuid,
    pub sponsor_ids: Vec<Uuid>,
    pub hr_partner_id: Option<Uuid>,
    pub phase: PhaseValue,
    /// For an engagement on hold: the phase it resumes to.
    pub held_from: Option<PhaseValue>,
    #[serde(serialize_with = "crate::json::date")]
    pub start_date: NaiveDate,
    #[serde(serialize_with = "crate::json::date")]
    pub planned_end_date: NaiveDate,
    #[schema(example = 3.0)]
    pub monthly_hours_budget: f64,
    /// The engagement this one renews.
    pub renewed_from_id: Option<Uuid>,
    /// The program template the engagement runs (see `/v1/program-templates`).
    pub template_id: Uuid,
    /// The template's version it was created with; later edits of the template do not change it.
    pub template_version: i64,
    /// The coaching contract whose hours the engagement draws on (see `/v1/contracts`).
    pub contract_id: Option<Uuid>,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub updated_at: DateTime<Utc>,
    /// Incremented by every change; the ETag is this number, quoted.
    pub version: i64,
}

impl From<&Engagement> for EngagementResponse {
    fn from(e: &Engagement) -> Self {
        EngagementResponse {
            id: e.id.as_uuid(),
            organization_id: e.organization_id.as_uuid(),
            title: e.title.clone(),
            leader_id: e.leader_id.as_uuid(),
            coach_id: e.coach_id.as_uuid(),
            sponsor_ids: e.sponsor_ids.iter().map(|id| id.as_uuid()).collect(),
            hr_partner_id: e.hr_partner_id.map(|id| id.as_uuid()),
            phase: e.phase,
            held_from: e.held_from,
            start_date: e.start_date,
            planned_end_date: e.planned_end_date,
            monthly_hours_budget: e.monthly_hours_budget,
            renewed_from_id: e.renewed_from_id.map(|id| id.as_uuid()),
            template_id: e.template_id.as_uuid(),
            template_version: e.template_version,
            contract_id: e.contract_id.map(|id| id.as_uuid()),
            created_at: e.created_at,
            updated_at: e.updated_at,
            version: e.version,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEngagementRequest {
    pub organization_id: Uuid,
    #[schema(example = "Leading through the merger", max_length = 200)]
    pub title: String,
    /// An active user of the organization.
    pub leader_id: Uuid,
    /// An active user holding the coach role.
    pub coach_id: Uuid,
    /// One or more active users of the organization (not the leader), each once.
    #[schema(min_items = 1)]
    pub sponsor_ids: Vec<Uuid>,
    /// An active hr_partner of the organization.
    pub hr_partner_id: Option<Uuid>,
    #[serde(serialize_with = "crate::json::date")]
    pub start_date: NaiveDate,
    /// Default: the template's default length after the start (six months for the executive
    /// template); must lie within the template's length (6–12 months for the executive one)
    /// unless `allow_any_duration` is set.
    pub planned_end_date: Option<NaiveDate>,
    #[serde(default)]
    pub allow_any_duration: bool,
    /// Default: the template's `default_monthly_hours_budget`, else the organization's.
    #[schema(minimum = 0.25, maximum = 200)]
    pub monthly_hours_budget: Option<f64>,
    /// The program template (a built-in one or one of the organization's); default: the
    /// executive template (`00000000-0000-7000-8000-000000000001`).
    pub template_id: Option<Uuid>,
    /// A contract of the organization whose period holds `start_date`. What the engagement plans
    /// (its monthly budget over its planned months) must fit in what the contract has left, unless
    /// the organization allows overdraft: otherwise 409 `contract_overdrawn` with the numbers.
    pub contract_id: Option<Uuid>,
}

/// A partial update; `hr_partner_id: null` removes the hr_partner. The same rules as on creation
/// apply; an ended engagement cannot change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateEngagementRequest {
    #[schema(max_length = 200)]
    pub title: Option<String>,
    pub planned_end_date: Option<NaiveDate>,
    #[serde(default)]
    pub allow_any_duration: bool,
    #[schema(minimum = 0.25, maximum = 200)]
    pub monthly_hours_budget: Option<f64>,
    /// Replaces the sponsors (one or more, each once).
    #[schema(min_items = 1)]
    pub sponsor_ids: Option<Vec<Uuid>>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub hr_partner_id: Option<Option<Uuid>>,
    /// Moves the engagement onto another contract of the organization (`null`: none). A budget,
    /// end date or contract change that raises what the engagement holds must fit in the
    /// contract (409 `contract_overdrawn` otherwise, unless the organization allows overdraft).
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub contract_id: Option<Option<Uuid>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionRequest {
    pub to: PhaseValue,
    /// Why; required to cancel.
    #[schema(max_length = 2000, pattern = "line-optional")]
    pub reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineEntry {
    pub id: Uuid,
    /// Null for the creation of the engagement.
    pub from: Option<PhaseValue>,
    pub to: PhaseValue,
    pub reason: Option<String>,
    pub actor_kind: keel_domain::audit::ActorKind,
    pub actor_id: Option<String>,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub occurred_at: DateTime<Utc>,
}

impl From<&TransitionRecord> for TimelineEntry {
    fn from(t: &TransitionRecord) -> Self {
        TimelineEntry {
            id: t.id.as_uuid(),
            from: t.from,
            to: t.to,
            reason: t.reason.clone(),
            actor_kind: t.actor_kind,
            actor_id: t.actor_id.clone(),
            occurred_at: t.occurred_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EngagementPage {
    pub items: Vec<EngagementResponse>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TimelinePage {
    pub items: Vec<TimelineEntry>,
    pub next_cursor: Option<String>,
}

#[derive(Clone, Copy, Debug, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EngagementStatus {
    /// Not completed, renewed or cancelled.
    Active,
    /// Completed, renewed or cancelled.
    Ended,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EngagementListParams {
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
    pub organization_id: Option<Uuid>,
    #[param(inline)]
    pub phase: Option<PhaseValue>,
    pub coach_id: Option<Uuid>,
    pub leader_id: Option<Uuid>,
    pub sponsor_id: Option<Uuid>,
    #[param(inline)]
    pub status: Option<EngagementStatus>,
}

fn location(e: &Engagement) -> String {
    format!("/v1/engagements/{}", e.id)
}

/// Create an engagement (admin, the organization's hr_partner, or an API client with
/// engagements:write). It starts in `context`.
#[utoipa::path(
    tag = "engagements",
    request_body = CreateEngagementRequest,
    responses((status = 201, description = "Created", body = EngagementResponse,
        headers(("ETag" = String, description = "The version"), ("Location" = String, description = "The engagement's URL"))))
)]
#[post("/engagements")]
pub async fn create_engagement(
    caller: Caller,
    state: Data<AppState>,
    body: JsonBody<CreateEngagementRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.0;
    let input = NewEngagement {
        organization_id: b.organization_id.into(),
        title: b.title,
        leader_id: b.leader_id.into(),
        coach_id: b.coach_id.into(),
        sponsor_ids: b.sponsor_ids.into_iter().map(Into::into).collect(),
        hr_partner_id: b.hr_partner_id.map(Into::into),
        start_date: b.start_date,
        planned_end_date: b.planned_end_date,
        allow_any_duration: b.allow_any_duration,
        monthly_hours_budget: b.monthly_hours_budget,
        template_id: b.template_id.map(Into::into),
        contract_id: b.contract_id.map(Into::into),
    };
    let engagement = state.run(move |conn| engagements::create(conn, &caller, input)).await?;
    Ok(created(location(&engagement), engagement.version, &EngagementResponse::from(&engagement)))
}

/// List the engagements the caller may see, oldest first, with filters.
#[utoipa::path(
    tag = "engagements",
    params(EngagementListParams),
    responses((status = 200, description = "A page of engagements", body = EngagementPage))
)]
#[get("/engagements")]
pub async fn list_engagements(
    caller: Caller,
    state: Data<AppState>,
    query: ApiQuery<EngagementListParams>,
) -> Result<HttpResponse, ApiError> {
    let q = query.0;
    let filter = EngagementFilter {
        organization_id: q.organization_id.map(Into::into),
        phase: q.phase,
        coach_id: q.coach_id.map(Into::into),
        leader_id: q.leader_id.map(Into::into),
        sponsor_id: q.sponsor_id.map(Into::into),
        participant: None,
        active: q.status.map(|s| matches!(s, EngagementStatus::Active)),
    };
    let scope = format!("engagements|{:?}", filter);
    let page = page_request(&state, &scope, q.limit, q.cursor.as_deref())?;
    let result = state.run(move |conn| engagements::list(conn, &caller, filter, page)).await?;
    Ok(HttpResponse::Ok().json(EngagementPage {
        next_cursor: next_cursor(&state, &scope, &result, |e| e.id.as_uuid()),
        items: result.items.iter().map(EngagementResponse::from).collect(),
    }))
}

/// Get an engagement.
#[utoipa::path(
    tag = "engagements",
    params(("id" = Uuid, Path, description = "The engagement")),
    responses((status = 200, description = "The engagement", body = EngagementResponse, headers(("ETag" = String, description = "The version"))))
)]
#[get("/engagements/{id}")]
pub async fn get_engagement(
    caller: Caller,
    state: Data<AppState>,
    id: Path<EngagementId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let engagement = state.run(move |conn| engagements::get(conn, &caller, id)).await?;
    Ok(resource(StatusCode::OK, engagement.version, &EngagementResponse::from(&engagement)))
}

/// Change an engagement's details. Its budget, dates and people are changed by the organization's
/// hr_partner (or its API client with `engagements:write`) or an admin; the coach may change the
/// title only (more hours come through an extension).
#[utoipa::path(
    tag = "engagements",
    params(
        ("id" = Uuid, Path, description = "The engagement"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; refused with 412 if it is no longer current"),
    ),
    request_body = UpdateEngagementRequest,
    responses(
        (status = 200, description = "The engagement", body = EngagementResponse, headers(("ETag" = String, description = "The new version"))),
        (status = 409, response = crate::openapi::Conflict),
    )
)]
#[patch("/engagements/{id}")]
pub async fn update_engagement(
    caller: Caller,
    state: Data<AppState>,
    id: Path<EngagementId>,
    if_match: IfMatchVersion,
    body: JsonBody<UpdateEngagementRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let b = body.0;
    let patch = EngagementPatch {
        title: b.title,
        planned_end_date: b.planned_end_date,
        allow_any_duration: b.allow_any_duration,
        monthly_hours_budget: b.monthly_hours_budget,
        sponsor_ids: b.sponsor_ids.map(|ids| ids.into_iter().map(Into::into).collect()),
        hr_partner_id: b.hr_partner_id.map(|id| id.map(Into::into)),
        contract_id: b.contract_id.map(|id| id.map(Into::into)),
    };
    let engagement = state.run(move |conn| engagements::update(conn, &caller, id, if_match.0.as_ref(), &patch)).await?;
    Ok(resource(StatusCode::OK, engagement.version, &EngagementResponse::from(&engagement)))
}

/// Move the program to another phase. The coach (or an admin) moves it through the steps of its
/// template (the eight steps for the executive template, fewer for others; each template says
/// which guards apply to leaving each step);
/// the organization's hr_partner may put it `on_hold`, resume it, or cancel it (reason required).
/// A transition whose conditions are not met is a 409 listing every unmet condition in `errors`
/// by a stable code: transition_not_allowed, engagement_ended, reason_required, sponsor_missing,
/// outcome_missing, outcome_missing_baseline, outcome_missing_target, outcome_missing_measure,
/// context_meeting_missing, leader_interview_missing, stakeholder_contributions_insufficient,
/// design_not_submitted, design_not_approved_by_leader, design_not_approved_by_sponsor,
/// mid_review_not_completed, mid_review_missing, end_review_missing, renewal_via_end_review.
#[utoipa::path(
    tag = "engagements",
    params(
        ("id" = Uuid, Path, description = "The engagement"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; refused with 412 if it is no longer current"),
    ),
    request_body = TransitionRequest,
    responses(
        (status = 200, description = "The engagement in its new phase", body = EngagementResponse, headers(("ETag" = String, description = "The new version"))),
        (status = 409, description = "Refused: `errors` lists every unmet condition by code", body = crate::problem::Problem, content_type = "application/problem+json"),
    )
)]
#[post("/engagements/{id}/transitions")]
pub async fn transition_engagement(
    caller: Caller,
    state: Data<AppState>,
    id: Path<EngagementId>,
    if_match: IfMatchVersion,
    body: JsonBody<TransitionRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let to = body.0.to;
    let reason = validate_reason(body.0.reason.as_deref())?;
    let engagement =
        state.run(move |conn| engagements::transition(conn, &caller, id, if_match.0.as_ref(), to, reason)).await?;
    Ok(resource(StatusCode::OK, engagement.version, &EngagementResponse::from(&engagement)))
}

/// The engagement's timeline: every phase change with who, when, from, to and why.
#[utoipa::path(
    tag = "engagements",
    params(("id" = Uuid, Path, description = "The engagement"), PageParams),
    responses((status = 200, description = "A page of the timeline", body = TimelinePage))
)]
#[get("/engagements/{id}/timeline")]
pub async fn get_timeline(
    caller: Caller,
    state: Data<AppState>,
    id: Path<EngagementId>,
    query: ApiQuery<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let scope = format!("timeline|{id}");
    let page = page_request(&state, &scope, query.0.limit, query.0.cursor.as_deref())?;
    let result = state.run(move |conn| engagements::timeline(conn, &caller, id, page)).await?;
    Ok(HttpResponse::Ok().json(TimelinePage {
        next_cursor: next_cursor(&state, &scope, &result, |t| t.id.as_uuid()),
        items: result.items.iter().map(TimelineEntry::from).collect(),
    }))
}
