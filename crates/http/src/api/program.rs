//! Steps 1 and 2 of the program: the context meeting, outcomes with measurements, and the leader
//! interview. Who may see each is decided by the policy's per-part rules (docs/access.md): the leader
//! interview is the coach's alone; the context notes are not shown to hr_partners or admins.

use actix_web::http::StatusCode;
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, delete, get, patch, post, put};
use chrono::{DateTime, NaiveDate, Utc};
use keel_commands::program;
use keel_domain::program::{
    ContextMeeting, ContextMeetingInput, LeaderInterview, LeaderInterviewInput, Measurement, MeasurementInput,
    MeasurementSource as MeasurementSourceValue, Outcome, OutcomeChanges,
};
use keel_domain::{EngagementId, OutcomeId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{created, double_option, resource};
use crate::extract::{Caller, IfMatchVersion, JsonBody};
use crate::problem::ApiError;
use crate::state::AppState;

// ---- context meeting ----

#[derive(Debug, Serialize, ToSchema)]
pub struct ContextMeetingResponse {
    #[serde(serialize_with = "crate::json::date")]
    pub met_on: NaiveDate,
    pub attendees: Vec<String>,
    pub notes: String,
    /// The benchmarks agreed for the program.
    pub benchmarks: Vec<String>,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl From<&ContextMeeting> for ContextMeetingResponse {
    fn from(m: &ContextMeeting) -> Self {
        ContextMeetingResponse {
            met_on: m.met_on,
            attendees: m.attendees.clone(),
            notes: m.notes.clone(),
            benchmarks: m.benchmarks.clone(),
            updated_at: m.updated_at,
            version: m.version,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContextMeetingRequest {
    /// Required.
    #[schema(required = true, nullable = false)]
    pub met_on: Option<NaiveDate>,
    /// Who attended: 1 to 50 names.
    #[serde(default)]
    #[schema(min_items = 1, max_items = 50)]
    pub attendees: Vec<String>,
    #[schema(max_length = 20000, pattern = "multiline")]
    pub notes: Option<String>,
    #[serde(default)]
    #[schema(max_items = 50)]
    pub benchmarks: Vec<String>,
}

/// Record (or replace) the context meeting. Coach only.
#[utoipa::path(
    tag = "program",
    params(("id" = Uuid, Path, description = "The engagement"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; refused with 412 if it is no longer current")),
    request_body = ContextMeetingRequest,
    responses((status = 200, description = "The context meeting", body = ContextMeetingResponse, headers(("ETag" = String, description = "The version"))))
)]
#[put("/engagements/{id}/context")]
pub async fn put_context(
    caller: Caller,
    state: Data<AppState>,
    id: Path<EngagementId>,
    if_match: IfMatchVersion,
    body: JsonBody<ContextMeetingRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let b = body.0;
    let input =
        ContextMeetingInput { met_on: b.met_on, attendees: b.attendees, notes: b.notes, benchmarks: b.benchmarks };
    let meeting = state.run(move |conn| program::put_context(conn, &caller, id, if_match.0.as_ref(), input)).await?;
    Ok(resource(StatusCode::OK, meeting.version, &ContextMeetingResponse::from(&meeting)))
}

/// The context meeting (coach, leader and sponsors).
#[utoipa::path(
    tag = "program",
    params(("id" = Uuid, Path, description = "The engagement")),
    responses((status = 200, description = "The context meeting", body = ContextMeetingResponse, headers(("ETag" = String, description = "The version"))))
)]
#[get("/engagements/{id}/context")]
pub async fn get_context(
    caller: Caller,
    state: Data<AppState>,
    id: Path<EngagementId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let meeting = state.run(move |conn| program::get_context(conn, &caller, id)).await?;
    Ok(resource(StatusCode::OK, meeting.version, &ContextMeetingResponse::from(&meeting)))
}

// ---- outcomes ----

#[derive(Debug, Serialize, ToSchema)]
pub struct MeasurementResponse {
    pub id: Uuid,
    #[schema(example = "6")]
    pub value: String,
    pub note: Option<String>,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub measured_at: DateTime<Utc>,
    pub source: MeasurementSourceValue,
}

impl From<&Measurement> for MeasurementResponse {
    fn from(m: &Measurement) -> Self {
        MeasurementResponse {
            id: m.id.as_uuid(),
            value: m.value.clone(),
            note: m.note.clone(),
            measured_at: m.measured_at,
            source: m.source,
        }
    }
}

/// An intended outcome of the program and its measurements over time.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutcomeResponse {
    pub id: Uuid,
    #[schema(example = "Delegates decisions to the team")]
    pub title: String,
    pub description: Option<String>,
    /// How it is judged.
    pub measure: Option<String>,
    pub baseline: Option<String>,
    pub target: Option<String>,
    /// For numeric outcomes.
    pub unit: Option<String>,
    /// In time order.
    pub measurements: Vec<MeasurementResponse>,
    pub version: i64,
}

fn outcome_response(o: &Outcome, measurements: &[Measurement]) -> OutcomeResponse {
    OutcomeResponse {
        id: o.id.as_uuid(),
        title: o.title.clone(),
        description: o.description.clone(),
        measure: o.measure.clone(),
        baseline: o.baseline.clone(),
        target: o.target.clone(),
        unit: o.unit.clone(),
        measurements: measurements.iter().filter(|m| m.outcome_id == o.id).map(MeasurementResponse::from).collect(),
        version: o.version,
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OutcomeList {
    pub items: Vec<OutcomeResponse>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOutcomeRequest {
    #[schema(max_length = 200)]
    pub title: String,
    #[schema(max_length = 2000, pattern = "multiline")]
    pub description: Option<String>,
    #[schema(max_length = 2000, pattern = "multiline")]
    pub measure: Option<String>,
    #[schema(max_length = 200, pattern = "multiline")]
    pub baseline: Option<String>,
    #[schema(max_length = 200, pattern = "multiline")]
    pub target: Option<String>,
    #[schema(max_length = 50, pattern = "multiline")]
    pub unit: Option<String>,
}

/// A partial update; `null` clears an optional field.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOutcomeRequest {
    #[schema(max_length = 200)]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 2000, pattern = "multiline")]
    pub description: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 2000, pattern = "multiline")]
    pub measure: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 200, pattern = "multiline")]
    pub baseline: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 200, pattern = "multiline")]
    pub target: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 50, pattern = "multiline")]
    pub unit: Option<Option<String>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeasurementRequest {
    #[schema(max_length = 200)]
    pub value: String,
    #[schema(max_length = 2000, pattern = "multiline")]
    pub note: Option<String>,
    /// Default: now.
    pub measured_at: Option<DateTime<Utc>>,
    pub source: MeasurementSourceValue,
}

/// The engagement's outcomes with their measurements (coach, leader, sponsors, hr_partner, admin).
#[utoipa::path(
    tag = "program",
    params(("id" = Uuid, Path, description = "The engagement")),
    responses((status = 200, description = "The outcomes", body = OutcomeList))
)]
#[get("/engagements/{id}/outcomes")]
pub async fn list_outcomes(
    caller: Caller,
    state: Data<AppState>,
    id: Path<EngagementId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let (outcomes, measurements) = state.run(move |conn| program::list_outcomes(conn, &caller, id)).await?;
    Ok(HttpResponse::Ok()
        .json(OutcomeList { items: outcomes.iter().map(|o| outcome_response(o, &measurements)).collect() }))
}

/// Define an outcome (coach). Leaving `context` needs every outcome to have a baseline, a target
/// and a measure.
#[utoipa::path(
    tag = "program",
    params(("id" = Uuid, Path, description = "The engagement")),
    request_body = CreateOutcomeRequest,
    responses((status = 201, description = "Created", body = OutcomeResponse, headers(("ETag" = String, description = "The version"))))
)]
#[post("/engagements/{id}/outcomes")]
pub async fn create_outcome(
    caller: Caller,
    state: Data<AppState>,
    id: Path<EngagementId>,
    body: JsonBody<CreateOutcomeRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let b = body.0;
    let changes = OutcomeChanges {
        title: Some(b.title),
        description: Some(b.description),
        measure: Some(b.measure),
        baseline: Some(b.baseline),
        target: Some(b.target),
        unit: Some(b.unit),
    };
    let outcome = state.run(move |conn| program::create_outcome(conn, &caller, id, &changes)).await?;
    Ok(created(
        format!("/v1/engagements/{id}/outcomes/{}", outcome.id),
        outcome.version,
        &outcome_response(&outcome, &[]),
    ))
}

/// Change an outcome (coach).
#[utoipa::path(
    tag = "program",
    params(("id" = Uuid, Path, description = "The engagement"), ("outcome_id" = Uuid, Path, description = "The outcome"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; refused with 412 if it is no longer current")),
    request_body = UpdateOutcomeRequest,
    responses((status = 200, description = "The outcome", body = OutcomeResponse, headers(("ETag" = String, description = "The new version"))))
)]
#[patch("/engagements/{id}/outcomes/{outcome_id}")]
pub async fn update_outcome(
    caller: Caller,
    state: Data<AppState>,
    path: Path<(EngagementId, OutcomeId)>,
    if_match: IfMatchVersion,
    body: JsonBody<UpdateOutcomeRequest>,
) -> Result<HttpResponse, ApiError> {
    let (id, outcome_id) = path.into_inner();
    let b = body.0;
    let changes = OutcomeChanges {
        title: b.title,
        description: b.description,
        measure: b.measure,
        baseline: b.baseline,
        target: b.target,
        unit: b.unit,
    };
    let (outcome, measurements) = state
        .run(move |conn| program::update_outcome(conn, &caller, (id, outcome_id), if_match.0.as_ref(), &changes))
        .await?;
    Ok(resource(StatusCode::OK, outcome.version, &outcome_response(&outcome, &measurements)))
}

/// Remove an outcome from the program (coach). It is kept, with its measurements, for history.
#[utoipa::path(
    tag = "program",
    params(("id" = Uuid, Path, description = "The engagement"), ("outcome_id" = Uuid, Path, description = "The outcome"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; refused with 412 if it is no longer current")),
    responses((status = 204, description = "Removed"))
)]
#[delete("/engagements/{id}/outcomes/{outcome_id}")]
pub async fn delete_outcome(
    caller: Caller,
    state: Data<AppState>,
    path: Path<(EngagementId, OutcomeId)>,
    if_match: IfMatchVersion,
) -> Result<HttpResponse, ApiError> {
    let (id, outcome_id) = path.into_inner();
    state.run(move |conn| program::delete_outcome(conn, &caller, (id, outcome_id), if_match.0.as_ref())).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Record a measurement of an outcome (coach).
#[utoipa::path(
    tag = "program",
    params(("id" = Uuid, Path, description = "The engagement"), ("outcome_id" = Uuid, Path, description = "The outcome")),
    request_body = MeasurementRequest,
    responses((status = 201, description = "Recorded", body = MeasurementResponse))
)]
#[post("/engagements/{id}/outcomes/{outcome_id}/measurements")]
pub async fn create_measurement(
    caller: Caller,
    state: Data<AppState>,
    path: Path<(EngagementId, OutcomeId)>,
    body: JsonBody<MeasurementRequest>,
) -> Result<HttpResponse, ApiError> {
    let (id, outcome_id) = path.into_inner();
    let b = body.0;
    let input = MeasurementInput { value: b.value, note: b.note, measured_at: b.measured_at, source: b.source };
    let measurement = state.run(move |conn| program::add_measurement(conn, &caller, (id, outcome_id), &input)).await?;
    Ok(HttpResponse::Created().json(MeasurementResponse::from(&measurement)))
}

// ---- leader interview ----

/// The leader interview (coach only): commitments, concerns, breakdowns, behaviours,
/// communication style, pattern of fulfilling promises.
#[derive(Debug, Serialize, ToSchema)]
pub struct LeaderInterviewResponse {
    #[serde(serialize_with = "crate::json::date")]
    pub interviewed_on: NaiveDate,
    pub commitments: Option<String>,
    pub immediate_concerns: Option<String>,
    pub common_breakdowns: Option<String>,
    pub behaviours: Option<String>,
    pub communication_style: Option<String>,
    /// The leader's pattern of fulfilling promises.
    pub promise_pattern: Option<String>,
    pub notes: Option<String>,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl From<&LeaderInterview> for LeaderInterviewResponse {
    fn from(i: &LeaderInterview) -> Self {
        LeaderInterviewResponse {
            interviewed_on: i.interviewed_on,
            commitments: i.commitments.clone(),
            immediate_concerns: i.immediate_concerns.clone(),
            common_breakdowns: i.common_breakdowns.clone(),
            behaviours: i.behaviours.clone(),
            communication_style: i.communication_style.clone(),
            promise_pattern: i.promise_pattern.clone(),
            notes: i.notes.clone(),
            updated_at: i.updated_at,
            version: i.version,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeaderInterviewRequest {
    /// Required.
    #[schema(required = true, nullable = false)]
    pub interviewed_on: Option<NaiveDate>,
    #[schema(max_length = 20000, pattern = "multiline")]
    pub commitments: Option<String>,
    #[schema(max_length = 20000, pattern = "multiline")]
    pub immediate_concerns: Option<String>,
    #[schema(max_length = 20000, pattern = "multiline")]
    pub common_breakdowns: Option<String>,
    #[schema(max_length = 20000, pattern = "multiline")]
    pub behaviours: Option<String>,
    #[schema(max_length = 20000, pattern = "multiline")]
    pub communication_style: Option<String>,
    #[schema(max_length = 20000, pattern = "multiline")]
    pub promise_pattern: Option<String>,
    #[schema(max_length = 20000, pattern = "multiline")]
    pub notes: Option<String>,
}

/// Record (or replace) the leader interview. Coach only; nobody else can read it.
#[utoipa::path(
    tag = "program",
    params(("id" = Uuid, Path, description = "The engagement"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; refused with 412 if it is no longer current")),
    request_body = LeaderInterviewRequest,
    responses((status = 200, description = "The leader interview", body = LeaderInterviewResponse, headers(("ETag" = String, description = "The version"))))
)]
#[put("/engagements/{id}/leader-interview")]
pub async fn put_leader_interview(
    caller: Caller,
    state: Data<AppState>,
    id: Path<EngagementId>,
    if_match: IfMatchVersion,
    body: JsonBody<LeaderInterviewRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let b = body.0;
    let input = LeaderInterviewInput {
        interviewed_on: b.interviewed_on,
        commitments: b.commitments,
        immediate_concerns: b.immediate_concerns,
        common_breakdowns: b.common_breakdowns,
        behaviours: b.behaviours,
        communication_style: b.communication_style,
        promise_pattern: b.promise_pattern,
        notes: b.notes,
    };
    let interview =
        state.run(move |conn| program::put_leader_interview(conn, &caller, id, if_match.0.as_ref(), input)).await?;
    Ok(resource(StatusCode::OK, interview.version, &LeaderInterviewResponse::from(&interview)))
}

/// The leader interview (the coach only: everyone else, the leader included, gets 404).
#[utoipa::path(
    tag = "program",
    params(("id" = Uuid, Path, description = "The engagement")),
    responses((status = 200, description = "The leader interview", body = LeaderInterviewResponse, headers(("ETag" = String, description = "The version"))))
)]
#[get("/engagements/{id}/leader-interview")]
pub async fn get_leader_interview(
    caller: Caller,
    state: Data<AppState>,
    id: Path<EngagementId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let interview = state.run(move |conn| program::get_leader_interview(conn, &caller, id)).await?;
    Ok(resource(StatusCode::OK, interview.version, &LeaderInterviewResponse::from(&interview)))
}
