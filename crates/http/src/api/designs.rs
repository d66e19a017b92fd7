//! Steps 4 and 5: versioned program designs and the decisions of leader and sponsors.

use actix_web::http::StatusCode;
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, get, patch, post};
use chrono::{DateTime, Utc};
use keel_commands::designs;
use keel_domain::design::{
    Decision, Design, DesignInput, DesignItem, ItemKind as ItemKindValue, Verdict as DecisionValue,
};
use keel_domain::{EngagementId, OutcomeId, ThemeId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{created, resource};
use crate::extract::{Caller, IfMatchVersion, JsonBody};
use crate::problem::ApiError;
use crate::state::AppState;

/// A practice, exercise or reading of the program.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DesignItemBody {
    pub kind: ItemKindValue,
    #[schema(example = "Delegate one decision a day", max_length = 200)]
    pub title: String,
    #[schema(max_length = 5000, pattern = "multiline")]
    pub description: Option<String>,
    #[schema(example = "daily", max_length = 200)]
    pub cadence: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionResponse {
    pub id: Uuid,
    pub approver_id: Uuid,
    pub role: keel_domain::design::ApproverRole,
    pub decision: keel_domain::design::Verdict,
    pub comment: Option<String>,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub decided_at: DateTime<Utc>,
}

impl From<&Decision> for DecisionResponse {
    fn from(d: &Decision) -> Self {
        DecisionResponse {
            id: d.id.as_uuid(),
            approver_id: d.approver_id.as_uuid(),
            role: d.role,
            decision: d.verdict,
            comment: d.comment.clone(),
            decided_at: d.decided_at,
        }
    }
}

/// One version of the program design, with the decisions on it.
#[derive(Debug, Serialize, ToSchema)]
pub struct DesignResponse {
    pub version: i32,
    pub status: keel_domain::design::DesignStatus,
    pub summary: String,
    pub theme_ids: Vec<Uuid>,
    pub outcome_ids: Vec<Uuid>,
    pub items: Vec<DesignItemBody>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub decisions: Vec<DecisionResponse>,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub updated_at: DateTime<Utc>,
    /// Bumped by every change of this version; the ETag is this number, quoted.
    pub revision: i64,
}

fn design_response(d: &Design, decisions: &[Decision]) -> DesignResponse {
    DesignResponse {
        version: d.version,
        status: d.status,
        summary: d.summary.clone(),
        theme_ids: d.theme_ids.iter().map(|id| id.as_uuid()).collect(),
        outcome_ids: d.outcome_ids.iter().map(|id| id.as_uuid()).collect(),
        items: d
            .items
            .iter()
            .map(|i| DesignItemBody {
                kind: i.kind,
                title: i.title.clone(),
                description: i.description.clone(),
                cadence: i.cadence.clone(),
            })
            .collect(),
        submitted_at: d.submitted_at,
        decisions: decisions.iter().filter(|x| x.design_version == d.version).map(DecisionResponse::from).collect(),
        created_at: d.created_at,
        updated_at: d.updated_at,
        revision: d.revision,
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DesignList {
    pub items: Vec<DesignResponse>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDesignRequest {
    /// Start from this version's content.
    #[schema(minimum = 1)]
    pub copy_from: Option<i32>,
    #[schema(max_length = 20000, pattern = "multiline")]
    pub summary: Option<String>,
    pub theme_ids: Option<Vec<Uuid>>,
    pub outcome_ids: Option<Vec<Uuid>>,
    /// At most 100.
    #[schema(max_items = 100)]
    pub items: Option<Vec<DesignItemBody>>,
}

/// Changes to a draft; fields present replace the draft's.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateDesignRequest {
    #[schema(max_length = 20000, pattern = "multiline")]
    pub summary: Option<String>,
    pub theme_ids: Option<Vec<Uuid>>,
    pub outcome_ids: Option<Vec<Uuid>>,
    /// At most 100.
    #[schema(max_items = 100)]
    pub items: Option<Vec<DesignItemBody>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    pub decision: DecisionValue,
    /// Required to request changes.
    #[schema(max_length = 5000, pattern = "multiline")]
    pub comment: Option<String>,
}

fn input(
    summary: Option<String>,
    themes: Option<Vec<Uuid>>,
    outcomes: Option<Vec<Uuid>>,
    items: Option<Vec<DesignItemBody>>,
) -> DesignInput {
    DesignInput {
        summary,
        theme_ids: themes.map(|ids| ids.into_iter().map(ThemeId::from).collect()),
        outcome_ids: outcomes.map(|ids| ids.into_iter().map(OutcomeId::from).collect()),
        items: items.map(|items| {
            items
                .into_iter()
                .map(|i| DesignItem { kind: i.kind, title: i.title, description: i.description, cadence: i.cadence })
                .collect()
        }),
    }
}

/// Every design version with its decisions (coach, leader, sponsors, hr_partner, admin).
#[utoipa::path(tag = "designs", params(("id" = Uuid, Path, description = "The engagement")),
    responses((status = 200, description = "The versions, oldest first", body = DesignList)))]
#[get("/engagements/{id}/designs")]
pub async fn list_designs(
    caller: Caller,
    state: Data<AppState>,
    id: Path<EngagementId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let (all, decisions) = state.run(move |conn| designs::list(conn, &caller, id)).await?;
    Ok(HttpResponse::Ok().json(DesignList { items: all.iter().map(|d| design_response(d, &decisions)).collect() }))
}

/// Draft the next version (coach), optionally copied from an earlier one.
#[utoipa::path(tag = "designs", params(("id" = Uuid, Path, description = "The engagement")),
    request_body = CreateDesignRequest,
    responses((status = 201, description = "The new draft", body = DesignResponse, headers(("ETag" = String, description = "The revision"))),
        (status = 409, response = crate::openapi::Conflict)))]
#[post("/engagements/{id}/designs")]
pub async fn create_design(
    caller: Caller,
    state: Data<AppState>,
    id: Path<EngagementId>,
    body: JsonBody<CreateDesignRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let b = body.0;
    let copy_from = b.copy_from;
    let draft = input(b.summary, b.theme_ids, b.outcome_ids, b.items);
    let design = state.run(move |conn| designs::create(conn, &caller, id, copy_from, &draft)).await?;
    Ok(created(
        format!("/v1/engagements/{id}/designs/{}", design.version),
        design.revision,
        &design_response(&design, &[]),
    ))
}

/// One design version with its decisions.
#[utoipa::path(tag = "designs", params(("id" = Uuid, Path, description = "The engagement"), ("version" = i32, Path, description = "The version")),
    responses((status = 200, description = "The version", body = DesignResponse, headers(("ETag" = String, description = "The revision")))))]
#[get("/engagements/{id}/designs/{version}")]
pub async fn get_design(
    caller: Caller,
    state: Data<AppState>,
    path: Path<(EngagementId, i32)>,
) -> Result<HttpResponse, ApiError> {
    let (id, version) = path.into_inner();
    let (design, decisions) = state.run(move |conn| designs::get(conn, &caller, (id, version))).await?;
    Ok(resource(StatusCode::OK, design.revision, &design_response(&design, &decisions)))
}

/// Change a draft (coach). A submitted version is immutable (409): draft a new version instead.
#[utoipa::path(tag = "designs",
    params(("id" = Uuid, Path, description = "The engagement"), ("version" = i32, Path, description = "The version"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; refused with 412 if it is no longer current")),
    request_body = UpdateDesignRequest,
    responses((status = 200, description = "The draft", body = DesignResponse, headers(("ETag" = String, description = "The new revision"))),
        (status = 409, response = crate::openapi::Conflict)))]
#[patch("/engagements/{id}/designs/{version}")]
pub async fn update_design(
    caller: Caller,
    state: Data<AppState>,
    path: Path<(EngagementId, i32)>,
    if_match: IfMatchVersion,
    body: JsonBody<UpdateDesignRequest>,
) -> Result<HttpResponse, ApiError> {
    let (id, version) = path.into_inner();
    let b = body.0;
    let changes = input(b.summary, b.theme_ids, b.outcome_ids, b.items);
    let design =
        state.run(move |conn| designs::update(conn, &caller, (id, version), if_match.0.as_ref(), &changes)).await?;
    Ok(resource(StatusCode::OK, design.revision, &design_response(&design, &[])))
}

/// Submit a draft for review (coach): it becomes immutable, the engagement moves to
/// `sponsor_review`, and the leader and every sponsor are emailed.
#[utoipa::path(tag = "designs",
    params(("id" = Uuid, Path, description = "The engagement"), ("version" = i32, Path, description = "The version"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; refused with 412 if it is no longer current")),
    responses((status = 200, description = "The submitted version", body = DesignResponse, headers(("ETag" = String, description = "The new revision"))),
        (status = 409, response = crate::openapi::Conflict), (status = 422, response = crate::openapi::UnprocessableEntity)))]
#[post("/engagements/{id}/designs/{version}/submit")]
pub async fn submit_design(
    caller: Caller,
    state: Data<AppState>,
    path: Path<(EngagementId, i32)>,
    if_match: IfMatchVersion,
) -> Result<HttpResponse, ApiError> {
    let (id, version) = path.into_inner();
    let links = state.pages.links.clone();
    let design =
        state.run(move |conn| designs::submit(conn, &caller, (id, version), if_match.0.as_ref(), &links)).await?;
    Ok(resource(StatusCode::OK, design.revision, &design_response(&design, &[])))
}

/// Decide on the submitted version: the leader and each sponsor, once each. When all have
/// approved, the design is `approved` and the coach may move to `coaching`; a request for changes
/// (with a comment) returns the engagement to `assessment_design`. A decision on a version that is
/// not the submitted one is 409.
#[utoipa::path(tag = "designs",
    params(("id" = Uuid, Path, description = "The engagement"), ("version" = i32, Path, description = "The version")),
    request_body = DecisionRequest,
    responses((status = 201, description = "The decision, and the version after it", body = DesignResponse),
        (status = 409, response = crate::openapi::Conflict)))]
#[post("/engagements/{id}/designs/{version}/decisions")]
pub async fn decide_design(
    caller: Caller,
    state: Data<AppState>,
    path: Path<(EngagementId, i32)>,
    body: JsonBody<DecisionRequest>,
) -> Result<HttpResponse, ApiError> {
    let (id, version) = path.into_inner();
    let verdict = body.0.decision;
    let comment = body.0.comment;
    let (design, decisions) =
        state.run(move |conn| designs::decide(conn, &caller, (id, version), verdict, comment.as_deref())).await?;
    Ok(HttpResponse::Created().json(design_response(&design, &decisions)))
}
