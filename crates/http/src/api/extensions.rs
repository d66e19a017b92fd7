//! Extensions (change orders): the coach asks for more hours (and optionally a later end); every
//! sponsor is emailed; a sponsor approves or declines. The hr_partner and the leader see them.

use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, get, post};
use chrono::{DateTime, NaiveDate, Utc};
use keel_commands::extensions::{self, ExtensionInput};
use keel_domain::coaching::Extension;
use keel_domain::{EngagementId, ExtensionId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::extract::{Caller, JsonBody};
use crate::problem::ApiError;
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct ExtensionResponse {
    pub id: Uuid,
    #[schema(example = 2.0)]
    pub hours: f64,
    /// The month the hours are for, `YYYY-MM`.
    #[schema(example = "2026-05")]
    pub month: String,
    pub new_planned_end_date: Option<NaiveDate>,
    pub reason: String,
    pub status: keel_domain::coaching::ExtensionStatus,
    pub decided_by: Option<Uuid>,
    pub decision_comment: Option<String>,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub requested_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

impl From<&Extension> for ExtensionResponse {
    fn from(x: &Extension) -> Self {
        ExtensionResponse {
            id: x.id.as_uuid(),
            hours: x.minutes as f64 / 60.0,
            month: x.month.to_string(),
            new_planned_end_date: x.new_planned_end_date,
            reason: x.reason.clone(),
            status: x.status,
            decided_by: x.decided_by.map(|u| u.as_uuid()),
            decision_comment: x.decision_comment.clone(),
            requested_at: x.requested_at,
            decided_at: x.decided_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExtensionList {
    pub items: Vec<ExtensionResponse>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtensionRequest {
    /// Additional hours, up to 200.
    #[schema(exclusive_minimum = 0, maximum = 200)]
    pub hours: f64,
    /// The month the hours are for, `YYYY-MM`, between the start and the (new) planned end.
    #[schema(pattern = "^[0-9]{4}-(0[1-9]|1[0-2])$", example = "2026-03")]
    pub month: String,
    /// A later planned end, if the program should run longer.
    pub new_planned_end_date: Option<NaiveDate>,
    #[schema(max_length = 2000, pattern = "multiline-required")]
    pub reason: String,
}

#[derive(Clone, Copy, Debug, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExtensionVerdict {
    Approve,
    Decline,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtensionDecisionRequest {
    pub decision: ExtensionVerdict,
    #[schema(max_length = 2000, pattern = "multiline")]
    pub comment: Option<String>,
}

/// The engagement's extensions (coach, leader, sponsors, hr_partner, admin).
#[utoipa::path(tag = "sessions", params(("id" = Uuid, Path, description = "The engagement")),
    responses((status = 200, description = "The extensions", body = ExtensionList)))]
#[get("/engagements/{id}/extensions")]
pub async fn list_extensions(
    caller: Caller,
    state: Data<AppState>,
    id: Path<EngagementId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let all = state.run(move |conn| extensions::list(conn, &caller, id)).await?;
    Ok(HttpResponse::Ok().json(ExtensionList { items: all.iter().map(ExtensionResponse::from).collect() }))
}

/// Request an extension (the coach). Every sponsor is emailed.
#[utoipa::path(tag = "sessions", params(("id" = Uuid, Path, description = "The engagement")),
    request_body = ExtensionRequest,
    responses((status = 201, description = "Requested", body = ExtensionResponse), (status = 409, response = crate::openapi::Conflict)))]
#[post("/engagements/{id}/extensions")]
pub async fn request_extension(
    caller: Caller,
    state: Data<AppState>,
    id: Path<EngagementId>,
    body: JsonBody<ExtensionRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let b = body.0;
    let input = ExtensionInput {
        hours: b.hours,
        month: b.month,
        new_planned_end_date: b.new_planned_end_date,
        reason: b.reason,
    };
    let links = state.pages.links.clone();
    let extension = state.run(move |conn| extensions::request(conn, &caller, id, &input, &links)).await?;
    Ok(HttpResponse::Created()
        .insert_header(("location", format!("/v1/engagements/{id}/extensions/{}", extension.id)))
        .json(ExtensionResponse::from(&extension)))
}

/// Approve or decline an extension (a sponsor; once). An approval raises the named month's
/// budget and, if it asked for one, moves the planned end.
#[utoipa::path(tag = "sessions",
    params(("id" = Uuid, Path, description = "The engagement"), ("ext_id" = Uuid, Path, description = "The extension")),
    request_body = ExtensionDecisionRequest,
    responses((status = 200, description = "Decided", body = ExtensionResponse), (status = 409, response = crate::openapi::Conflict)))]
#[post("/engagements/{id}/extensions/{ext_id}/decision")]
pub async fn decide_extension(
    caller: Caller,
    state: Data<AppState>,
    path: Path<(EngagementId, ExtensionId)>,
    body: JsonBody<ExtensionDecisionRequest>,
) -> Result<HttpResponse, ApiError> {
    let (id, ext_id) = path.into_inner();
    let approve = matches!(body.0.decision, ExtensionVerdict::Approve);
    let comment = body.0.comment;
    let extension =
        state.run(move |conn| extensions::decide(conn, &caller, (id, ext_id), approve, comment.as_deref())).await?;
    Ok(HttpResponse::Ok().json(ExtensionResponse::from(&extension)))
}
