//! Step 3, the 360: raters and their interviews or feedback (the coach's alone: everyone else
//! gets 404), feedback submitted by raters with their one-time code, and themes released to the
//! leader and sponsors once enough stakeholders contributed.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::web::{Data, Path, ReqData};
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, put};
use chrono::{DateTime, NaiveDate, Utc};
use keel_commands::stakeholders::{self, FeedbackInput};
use keel_domain::audit::{Actor, CommandContext};
use keel_domain::stakeholders::{
    Rater, RaterChanges, Relationship as RelationshipValue, Theme, ThemeChanges, ThemeKind as ThemeKindValue,
};
use keel_domain::{EngagementId, RaterId, ThemeId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{created, double_option, resource};
use crate::extract::{Caller, IfMatchVersion, JsonBody};
use crate::middleware::RequestId;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// A 360 stakeholder (coach only).
#[derive(Debug, Serialize, ToSchema)]
pub struct RaterResponse {
    pub id: Uuid,
    pub name: String,
    pub email: Option<String>,
    pub relationship: RelationshipValue,
    pub status: keel_domain::stakeholders::RaterStatus,
    pub version: i64,
}

impl From<&Rater> for RaterResponse {
    fn from(r: &Rater) -> Self {
        RaterResponse {
            id: r.id.as_uuid(),
            name: r.name.clone(),
            email: r.email.as_ref().map(|e| e.as_str().to_owned()),
            relationship: r.relationship,
            status: r.status,
            version: r.version,
        }
    }
}

/// A rater with what they contributed (coach only).
#[derive(Debug, Serialize, ToSchema)]
pub struct RaterDetail {
    #[serde(flatten)]
    pub rater: RaterResponse,
    pub interview: Option<RaterInterviewBody>,
    pub feedback: Option<FeedbackResponse>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RaterInterviewBody {
    /// Required.
    #[schema(required = true, nullable = false)]
    pub interviewed_on: Option<NaiveDate>,
    #[schema(max_length = 20000, pattern = "multiline-required")]
    pub notes: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackResponse {
    pub strengths: String,
    pub development_areas: String,
    pub comments: Option<String>,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub submitted_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RaterList {
    pub items: Vec<RaterResponse>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRaterRequest {
    #[schema(max_length = 200)]
    pub name: String,
    #[schema(format = Email, max_length = 254)]
    pub email: Option<String>,
    pub relationship: RelationshipValue,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRaterRequest {
    #[schema(max_length = 200)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, format = Email, max_length = 254)]
    pub email: Option<Option<String>>,
    pub relationship: Option<RelationshipValue>,
}

/// Written feedback, submitted by a rater with their one-time code as the bearer token.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackRequest {
    #[schema(max_length = 20000, pattern = "multiline-required")]
    pub strengths: String,
    #[schema(max_length = 20000, pattern = "multiline-required")]
    pub development_areas: String,
    #[schema(max_length = 20000, pattern = "multiline")]
    pub comments: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackReceived {
    #[schema(example = "Thank you: your feedback reached the coach.")]
    pub message: String,
}

/// The engagement's raters (coach only).
#[utoipa::path(tag = "stakeholders", params(("id" = Uuid, Path, description = "The engagement")),
    responses((status = 200, description = "The raters", body = RaterList)))]
#[get("/engagements/{id}/raters")]
pub async fn list_raters(
    caller: Caller,
    state: Data<AppState>,
    id: Path<EngagementId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let raters = state.run(move |conn| stakeholders::list_raters(conn, &caller, id)).await?;
    Ok(HttpResponse::Ok().json(RaterList { items: raters.iter().map(RaterResponse::from).collect() }))
}

/// Add a rater (coach only).
#[utoipa::path(tag = "stakeholders", params(("id" = Uuid, Path, description = "The engagement")),
    request_body = CreateRaterRequest,
    responses((status = 201, description = "Created", body = RaterResponse, headers(("ETag" = String, description = "The version")))))]
#[post("/engagements/{id}/raters")]
pub async fn create_rater(
    caller: Caller,
    state: Data<AppState>,
    id: Path<EngagementId>,
    body: JsonBody<CreateRaterRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let b = body.0;
    let input = RaterChanges { name: Some(b.name), email: Some(b.email), relationship: Some(b.relationship) };
    let rater = state.run(move |conn| stakeholders::create_rater(conn, &caller, id, &input)).await?;
    Ok(created(format!("/v1/engagements/{id}/raters/{}", rater.id), rater.version, &RaterResponse::from(&rater)))
}

/// A rater with their interview and feedback (coach only).
#[utoipa::path(tag = "stakeholders", params(("id" = Uuid, Path, description = "The engagement"), ("rater_id" = Uuid, Path, description = "The rater")),
    responses((status = 200, description = "The rater", body = RaterDetail, headers(("ETag" = String, description = "The version")))))]
#[get("/engagements/{id}/raters/{rater_id}")]
pub async fn get_rater(
    caller: Caller,
    state: Data<AppState>,
    path: Path<(EngagementId, RaterId)>,
) -> Result<HttpResponse, ApiError> {
    let path = path.into_inner();
    let (rater, (interview, feedback)) = state.run(move |conn| stakeholders::get_rater(conn, &caller, path)).await?;
    let detail = RaterDetail {
        rater: RaterResponse::from(&rater),
        interview: interview.map(|i| RaterInterviewBody { interviewed_on: Some(i.interviewed_on), notes: i.notes }),
        feedback: feedback.map(|f| FeedbackResponse {
            strengths: f.strengths,
            development_areas: f.development_areas,
            comments: f.comments,
            submitted_at: f.submitted_at,
        }),
    };
    Ok(resource(StatusCode::OK, rater.version, &detail))
}

/// Change a rater (coach only).
#[utoipa::path(tag = "stakeholders",
    params(("id" = Uuid, Path, description = "The engagement"), ("rater_id" = Uuid, Path, description = "The rater"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; refused with 412 if it is no longer current")),
    request_body = UpdateRaterRequest,
    responses((status = 200, description = "The rater", body = RaterResponse, headers(("ETag" = String, description = "The new version")))))]
#[patch("/engagements/{id}/raters/{rater_id}")]
pub async fn update_rater(
    caller: Caller,
    state: Data<AppState>,
    path: Path<(EngagementId, RaterId)>,
    if_match: IfMatchVersion,
    body: JsonBody<UpdateRaterRequest>,
) -> Result<HttpResponse, ApiError> {
    let path = path.into_inner();
    let b = body.0;
    let changes = RaterChanges { name: b.name, email: b.email, relationship: b.relationship };
    let rater =
        state.run(move |conn| stakeholders::update_rater(conn, &caller, path, if_match.0.as_ref(), &changes)).await?;
    Ok(resource(StatusCode::OK, rater.version, &RaterResponse::from(&rater)))
}

/// Remove a rater (coach only): no longer counted; their feedback link stops working.
#[utoipa::path(tag = "stakeholders", params(("id" = Uuid, Path, description = "The engagement"), ("rater_id" = Uuid, Path, description = "The rater"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; refused with 412 if it is no longer current")),
    responses((status = 204, description = "Removed")))]
#[delete("/engagements/{id}/raters/{rater_id}")]
pub async fn delete_rater(
    caller: Caller,
    state: Data<AppState>,
    path: Path<(EngagementId, RaterId)>,
    if_match: IfMatchVersion,
) -> Result<HttpResponse, ApiError> {
    let path = path.into_inner();
    state.run(move |conn| stakeholders::delete_rater(conn, &caller, path, if_match.0.as_ref())).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Record (or replace) the coach's interview with a rater; the rater then counts towards
/// `min_raters`.
#[utoipa::path(tag = "stakeholders", params(("id" = Uuid, Path, description = "The engagement"), ("rater_id" = Uuid, Path, description = "The rater")),
    request_body = RaterInterviewBody,
    responses((status = 200, description = "The rater", body = RaterResponse)))]
#[put("/engagements/{id}/raters/{rater_id}/interview")]
pub async fn put_rater_interview(
    caller: Caller,
    state: Data<AppState>,
    path: Path<(EngagementId, RaterId)>,
    body: JsonBody<RaterInterviewBody>,
) -> Result<HttpResponse, ApiError> {
    let path = path.into_inner();
    let RaterInterviewBody { interviewed_on, notes } = body.0;
    let rater =
        state.run(move |conn| stakeholders::record_interview(conn, &caller, path, interviewed_on, &notes)).await?;
    Ok(HttpResponse::Ok().json(RaterResponse::from(&rater)))
}

/// Email the rater a one-time link to their feedback form (its code also works with POST /v1/feedback).
#[utoipa::path(tag = "stakeholders", params(("id" = Uuid, Path, description = "The engagement"), ("rater_id" = Uuid, Path, description = "The rater")),
    responses((status = 202, description = "The invitation is on its way", body = RaterResponse), (status = 409, response = crate::openapi::Conflict)))]
#[post("/engagements/{id}/raters/{rater_id}/invitation")]
pub async fn invite_rater(
    caller: Caller,
    state: Data<AppState>,
    path: Path<(EngagementId, RaterId)>,
) -> Result<HttpResponse, ApiError> {
    let path = path.into_inner();
    let links = state.pages.links.clone();
    let rater = state.run(move |conn| stakeholders::invite(conn, &caller, path, &links)).await?;
    Ok(HttpResponse::Accepted().json(RaterResponse::from(&rater)))
}

/// Submit written feedback as a rater, with the one-time code from the invitation as the bearer
/// token. Each code works once, within 14 days.
#[utoipa::path(tag = "stakeholders",
    request_body = FeedbackRequest,
    responses(
        (status = 201, description = "Received", body = FeedbackReceived),
        (status = 401, description = "The code is missing, invalid, expired or used", body = Problem, content_type = "application/problem+json"),
        (status = 429, response = crate::openapi::TooManyRequests),
    ),
    security(("rater_code" = []))
)]
#[post("/feedback")]
pub async fn submit_feedback(
    req: HttpRequest,
    state: Data<AppState>,
    request_id: Option<ReqData<RequestId>>,
    body: JsonBody<FeedbackRequest>,
) -> Result<HttpResponse, ApiError> {
    state.limits.check_ip(&req, "feedback")?;
    let refused = || {
        let mut response =
            Problem::new(StatusCode::UNAUTHORIZED, "The feedback code is missing, invalid, expired or already used.")
                .with_code("invalid_feedback_code");
        response.problem_type = "urn:keel:problem:invalid-feedback-code".to_owned();
        ApiError::problem(response)
    };
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim().to_owned())
        .ok_or_else(refused)?;
    let FeedbackRequest { strengths, development_areas, comments } = body.0;
    let input = FeedbackInput { strengths, development_areas, comments };
    let ctx = CommandContext {
        actor: Actor::Anonymous,
        request_id: request_id.map(|r| r.into_inner().0).unwrap_or_default(),
    };
    state
        .run(move |conn| stakeholders::submit_feedback(conn, &ctx, &keel_commands::tokens::hash(&token), &input))
        .await
        .map_err(|e| match e {
            ApiError::Problem(p) if p.status == 404 => refused(),
            other => other,
        })?;
    Ok(HttpResponse::Created()
        .json(FeedbackReceived { message: "Thank you: your feedback reached the coach.".to_owned() }))
}

// ---- themes ----

/// An anonymised theme of the 360.
#[derive(Debug, Serialize, ToSchema)]
pub struct ThemeResponse {
    pub id: Uuid,
    pub kind: ThemeKindValue,
    pub title: String,
    pub description: Option<String>,
    /// Null until released to the leader and sponsors.
    pub released_at: Option<DateTime<Utc>>,
    pub version: i64,
}

impl From<&Theme> for ThemeResponse {
    fn from(t: &Theme) -> Self {
        ThemeResponse {
            id: t.id.as_uuid(),
            kind: t.kind,
            title: t.title.clone(),
            description: t.description.clone(),
            released_at: t.released_at,
            version: t.version,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ThemeList {
    pub items: Vec<ThemeResponse>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateThemeRequest {
    pub kind: ThemeKindValue,
    #[schema(max_length = 200)]
    pub title: String,
    #[schema(max_length = 5000, pattern = "multiline")]
    pub description: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateThemeRequest {
    pub kind: Option<ThemeKindValue>,
    #[schema(max_length = 200)]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 5000, pattern = "multiline")]
    pub description: Option<Option<String>>,
}

/// Themes: the coach sees all; the leader and sponsors only released ones.
#[utoipa::path(tag = "stakeholders", params(("id" = Uuid, Path, description = "The engagement")),
    responses((status = 200, description = "The themes", body = ThemeList)))]
#[get("/engagements/{id}/themes")]
pub async fn list_themes(
    caller: Caller,
    state: Data<AppState>,
    id: Path<EngagementId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let themes = state.run(move |conn| stakeholders::list_themes(conn, &caller, id)).await?;
    Ok(HttpResponse::Ok().json(ThemeList { items: themes.iter().map(ThemeResponse::from).collect() }))
}

/// Write a theme (coach only).
#[utoipa::path(tag = "stakeholders", params(("id" = Uuid, Path, description = "The engagement")),
    request_body = CreateThemeRequest,
    responses((status = 201, description = "Created", body = ThemeResponse, headers(("ETag" = String, description = "The version")))))]
#[post("/engagements/{id}/themes")]
pub async fn create_theme(
    caller: Caller,
    state: Data<AppState>,
    id: Path<EngagementId>,
    body: JsonBody<CreateThemeRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let b = body.0;
    let input = ThemeChanges { kind: Some(b.kind), title: Some(b.title), description: Some(b.description) };
    let theme = state.run(move |conn| stakeholders::create_theme(conn, &caller, id, &input)).await?;
    Ok(created(format!("/v1/engagements/{id}/themes/{}", theme.id), theme.version, &ThemeResponse::from(&theme)))
}

/// Change a theme (coach only).
#[utoipa::path(tag = "stakeholders",
    params(("id" = Uuid, Path, description = "The engagement"), ("theme_id" = Uuid, Path, description = "The theme"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; refused with 412 if it is no longer current")),
    request_body = UpdateThemeRequest,
    responses((status = 200, description = "The theme", body = ThemeResponse, headers(("ETag" = String, description = "The new version")))))]
#[patch("/engagements/{id}/themes/{theme_id}")]
pub async fn update_theme(
    caller: Caller,
    state: Data<AppState>,
    path: Path<(EngagementId, ThemeId)>,
    if_match: IfMatchVersion,
    body: JsonBody<UpdateThemeRequest>,
) -> Result<HttpResponse, ApiError> {
    let path = path.into_inner();
    let b = body.0;
    let changes = ThemeChanges { kind: b.kind, title: b.title, description: b.description };
    let theme =
        state.run(move |conn| stakeholders::update_theme(conn, &caller, path, if_match.0.as_ref(), &changes)).await?;
    Ok(resource(StatusCode::OK, theme.version, &ThemeResponse::from(&theme)))
}

/// Delete a theme (coach only).
#[utoipa::path(tag = "stakeholders", params(("id" = Uuid, Path, description = "The engagement"), ("theme_id" = Uuid, Path, description = "The theme"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; refused with 412 if it is no longer current")),
    responses((status = 204, description = "Deleted")))]
#[delete("/engagements/{id}/themes/{theme_id}")]
pub async fn delete_theme(
    caller: Caller,
    state: Data<AppState>,
    path: Path<(EngagementId, ThemeId)>,
    if_match: IfMatchVersion,
) -> Result<HttpResponse, ApiError> {
    let path = path.into_inner();
    state.run(move |conn| stakeholders::delete_theme(conn, &caller, path, if_match.0.as_ref())).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Release the themes to the leader and sponsors (coach only). Refused with 409
/// (`stakeholder_contributions_insufficient`) until at least `min_raters` stakeholders
/// contributed, and (`themes_missing`) while there is no theme.
#[utoipa::path(tag = "stakeholders", params(("id" = Uuid, Path, description = "The engagement")),
    responses((status = 200, description = "The released themes", body = ThemeList), (status = 409, response = crate::openapi::Conflict)))]
#[post("/engagements/{id}/themes/release")]
pub async fn release_themes(
    caller: Caller,
    state: Data<AppState>,
    id: Path<EngagementId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let themes = state.run(move |conn| stakeholders::release_themes(conn, &caller, id)).await?;
    Ok(HttpResponse::Ok().json(ThemeList { items: themes.iter().map(ThemeResponse::from).collect() }))
}
