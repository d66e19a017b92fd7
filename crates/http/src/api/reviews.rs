//! Steps 7 and 8: the mid- and end-of-program reviews, and progress.

use actix_web::http::StatusCode;
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, get, put};
use chrono::{DateTime, Utc};
use keel_commands::{program, reviews};
use keel_domain::EngagementId;
use keel_domain::program::OutcomeChanges;
use keel_domain::review::{NextStep as NextStepValue, OutcomeReview, Review, ReviewInput, ReviewKind, share_achieved};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::program::MeasurementResponse;
use super::resource;
use crate::extract::{Caller, IfMatchVersion, JsonBody};
use crate::problem::ApiError;
use crate::state::AppState;

/// One outcome in a review: the actual state now, and (end review) whether it was achieved.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutcomeReviewBody {
    pub outcome_id: Uuid,
    /// Recorded as a measurement (source mid_review or end_review).
    #[schema(example = "6 a week", max_length = 200)]
    pub actual: String,
    #[schema(max_length = 2000, pattern = "multiline")]
    pub note: Option<String>,
    /// Required in the end review.
    pub achieved: Option<bool>,
}

/// A new outcome of the renewal.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenewalOutcome {
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

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Renewal {
    pub outcomes: Vec<RenewalOutcome>,
}

/// A review. Mid: `program_changes`. End: `achievements`, `next_step` and, to renew, `renewal`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    #[schema(max_length = 20000, pattern = "multiline-required")]
    pub narrative: String,
    /// Every current outcome, once.
    pub outcomes: Vec<OutcomeReviewBody>,
    #[schema(max_length = 20000, pattern = "multiline")]
    pub program_changes: Option<String>,
    #[schema(max_length = 20000, pattern = "multiline")]
    pub achievements: Option<String>,
    pub next_step: Option<NextStepValue>,
    pub renewal: Option<Renewal>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewResponse {
    /// `mid` or `end`.
    pub review: String,
    pub narrative: String,
    pub outcomes: Vec<OutcomeReviewBody>,
    pub program_changes: Option<String>,
    pub achievements: Option<String>,
    pub next_step: Option<NextStepValue>,
    pub renewal: Option<Renewal>,
    /// For a renewal: the new engagement.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub renewed_engagement_id: Option<Uuid>,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub recorded_at: DateTime<Utc>,
    pub version: i64,
}

fn response(review: &Review, renewed: Option<EngagementId>) -> ReviewResponse {
    ReviewResponse {
        review: review.kind.as_str().to_owned(),
        narrative: review.narrative.clone(),
        outcomes: review
            .outcomes
            .iter()
            .map(|o| OutcomeReviewBody {
                outcome_id: o.outcome_id.as_uuid(),
                actual: o.actual.clone(),
                note: o.note.clone(),
                achieved: o.achieved,
            })
            .collect(),
        program_changes: review.program_changes.clone(),
        achievements: review.achievements.clone(),
        next_step: review.next_step,
        renewal: (!review.renewal_outcomes.is_empty()).then(|| Renewal {
            outcomes: review
                .renewal_outcomes
                .iter()
                .map(|o| RenewalOutcome {
                    title: o.title.clone().unwrap_or_default(),
                    description: o.description.clone().flatten(),
                    measure: o.measure.clone().flatten(),
                    baseline: o.baseline.clone().flatten(),
                    target: o.target.clone().flatten(),
                    unit: o.unit.clone().flatten(),
                })
                .collect(),
        }),
        renewed_engagement_id: renewed.map(|id| id.as_uuid()),
        recorded_at: review.recorded_at,
        version: review.version,
    }
}

fn input(b: ReviewRequest) -> ReviewInput {
    ReviewInput {
        narrative: Some(b.narrative),
        outcomes: b
            .outcomes
            .into_iter()
            .map(|o| OutcomeReview {
                outcome_id: o.outcome_id.into(),
                actual: o.actual,
                note: o.note,
                achieved: o.achieved,
            })
            .collect(),
        program_changes: b.program_changes,
        achievements: b.achievements,
        next_step: b.next_step,
        renewal_outcomes: b
            .renewal
            .map(|r| {
                r.outcomes
                    .into_iter()
                    .map(|o| OutcomeChanges {
                        title: Some(o.title),
                        description: Some(o.description),
                        measure: Some(o.measure),
                        baseline: Some(o.baseline),
                        target: Some(o.target),
                        unit: Some(o.unit),
                    })
                    .collect()
            })
            .unwrap_or_default(),
    }
}

async fn put_review(
    caller: Caller,
    state: Data<AppState>,
    id: EngagementId,
    kind: ReviewKind,
    if_match: IfMatchVersion,
    body: ReviewRequest,
) -> Result<HttpResponse, ApiError> {
    let review_input = input(body);
    let (review, renewal) =
        state.run(move |conn| reviews::put(conn, &caller, (id, kind), if_match.0.as_ref(), review_input)).await?;
    Ok(resource(StatusCode::OK, review.version, &response(&review, renewal.map(|r| r.id))))
}

async fn get_review(
    caller: Caller,
    state: Data<AppState>,
    id: EngagementId,
    kind: ReviewKind,
) -> Result<HttpResponse, ApiError> {
    let review = state.run(move |conn| reviews::get(conn, &caller, (id, kind))).await?;
    Ok(resource(StatusCode::OK, review.version, &response(&review, None)))
}

/// Record the mid-program review (the coach, in `mid_review`): each outcome's actual state
/// (recorded as a measurement with source `mid_review`), a narrative and the program changes.
/// Recording it allows the move back to `coaching`; a changed design is a new design version
/// decided while coaching continues on the approved one.
#[utoipa::path(tag = "reviews",
    params(("id" = Uuid, Path, description = "The engagement"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; refused with 412 if it is no longer current")),
    request_body = ReviewRequest,
    responses((status = 200, description = "The review", body = ReviewResponse, headers(("ETag" = String, description = "The version"))),
        (status = 409, response = crate::openapi::Conflict)))]
#[put("/engagements/{id}/reviews/mid")]
pub async fn put_mid_review(
    caller: Caller,
    state: Data<AppState>,
    id: Path<EngagementId>,
    if_match: IfMatchVersion,
    body: JsonBody<ReviewRequest>,
) -> Result<HttpResponse, ApiError> {
    put_review(caller, state, id.into_inner(), ReviewKind::Mid, if_match, body.0).await
}

/// The mid-program review.
#[utoipa::path(tag = "reviews", params(("id" = Uuid, Path, description = "The engagement")),
    responses((status = 200, description = "The review", body = ReviewResponse, headers(("ETag" = String, description = "The version")))))]
#[get("/engagements/{id}/reviews/mid")]
pub async fn get_mid_review(
    caller: Caller,
    state: Data<AppState>,
    id: Path<EngagementId>,
) -> Result<HttpResponse, ApiError> {
    get_review(caller, state, id.into_inner(), ReviewKind::Mid).await
}

/// Record the end-of-program review (the coach, in `end_review`): per outcome the actual state
/// and whether it was achieved, the achievements, and the next step. `completed` closes the
/// engagement; `renewed` creates, in the same transaction, a new engagement with the same leader,
/// coach and sponsors, linked to this one, starting at `context` with `renewal.outcomes`.
#[utoipa::path(tag = "reviews",
    params(("id" = Uuid, Path, description = "The engagement"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; refused with 412 if it is no longer current")),
    request_body = ReviewRequest,
    responses((status = 200, description = "The review (and the renewal's id)", body = ReviewResponse, headers(("ETag" = String, description = "The version"))),
        (status = 409, response = crate::openapi::Conflict)))]
#[put("/engagements/{id}/reviews/end")]
pub async fn put_end_review(
    caller: Caller,
    state: Data<AppState>,
    id: Path<EngagementId>,
    if_match: IfMatchVersion,
    body: JsonBody<ReviewRequest>,
) -> Result<HttpResponse, ApiError> {
    put_review(caller, state, id.into_inner(), ReviewKind::End, if_match, body.0).await
}

/// The end-of-program review.
#[utoipa::path(tag = "reviews", params(("id" = Uuid, Path, description = "The engagement")),
    responses((status = 200, description = "The review", body = ReviewResponse, headers(("ETag" = String, description = "The version")))))]
#[get("/engagements/{id}/reviews/end")]
pub async fn get_end_review(
    caller: Caller,
    state: Data<AppState>,
    id: Path<EngagementId>,
) -> Result<HttpResponse, ApiError> {
    get_review(caller, state, id.into_inner(), ReviewKind::End).await
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OutcomeProgress {
    pub outcome_id: Uuid,
    pub title: String,
    pub baseline: Option<String>,
    pub target: Option<String>,
    pub unit: Option<String>,
    /// In time order.
    pub measurements: Vec<MeasurementResponse>,
    /// How far the latest measurement is from baseline (0) to target (1), when they are numbers.
    #[schema(example = 0.5)]
    pub share_achieved: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Progress {
    pub items: Vec<OutcomeProgress>,
}

/// Progress: each outcome's baseline, target and measurements in time order, with the share of
/// the way from baseline to target achieved — what a sponsor looks at.
#[utoipa::path(tag = "reviews", params(("id" = Uuid, Path, description = "The engagement")),
    responses((status = 200, description = "Progress per outcome", body = Progress)))]
#[get("/engagements/{id}/progress")]
pub async fn get_progress(
    caller: Caller,
    state: Data<AppState>,
    id: Path<EngagementId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let (outcomes, measurements) = state.run(move |conn| program::list_outcomes(conn, &caller, id)).await?;
    let items = outcomes
        .iter()
        .map(|o| {
            let mine: Vec<_> = measurements.iter().filter(|m| m.outcome_id == o.id).collect();
            OutcomeProgress {
                outcome_id: o.id.as_uuid(),
                title: o.title.clone(),
                baseline: o.baseline.clone(),
                target: o.target.clone(),
                unit: o.unit.clone(),
                share_achieved: share_achieved(o, &mine),
                measurements: mine.iter().map(|m| MeasurementResponse::from(*m)).collect(),
            }
        })
        .collect();
    Ok(HttpResponse::Ok().json(Progress { items }))
}
