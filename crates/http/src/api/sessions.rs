//! Step 6: coaching sessions and the hours ledger. What a reader sees of a session is decided by
//! the policy's session view: the coach all content (private notes only as their author), the
//! leader the shared summary, sponsors, hr_partners and admins schedule, status and duration.

use actix_web::http::StatusCode;
use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, get, patch, post};
use chrono::{DateTime, Utc};
use keel_commands::sessions::{self, Completion, SeenSession};
use keel_domain::coaching::{
    ActionItemChanges, LedgerMonth, Session, SessionChanges, SessionContent, SessionFormat as FormatValue,
    SessionKind as KindValue, SessionStatus as SessionStatusValue,
};
use keel_domain::policy::SessionView;
use keel_domain::template::SessionRequest;
use keel_domain::{EngagementId, SessionId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{created, double_option, resource};
use crate::extract::{Caller, IfMatchVersion, JsonBody};
use crate::problem::ApiError;
use crate::state::AppState;

/// A coaching session. Content fields appear only for readers allowed to see them.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionResponse {
    pub id: Uuid,
    #[serde(serialize_with = "crate::json::timestamp")]
    pub scheduled_at: DateTime<Utc>,
    /// Planned minutes; once completed, the actual ones.
    pub duration_minutes: u32,
    pub format: FormatValue,
    pub kind: KindValue,
    pub status: SessionStatusValue,
    /// Why it was cancelled or a no-show.
    pub status_reason: Option<String>,
    /// Which of the template's planned sessions this is (0-based), if it is one.
    pub plan_index: Option<u32>,
    /// That planned session's title (e.g. `Opening session`).
    pub plan_title: Option<String>,
    /// The answer recorded for the planned session's choice (content: coach and leader).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub choice: Option<String>,
    #[serde(serialize_with = "crate::json::optional_timestamp")]
    pub completed_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agenda: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check_in: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress_review: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub challenges: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_goals: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action_plan: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skill_building: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reflection: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_steps: Option<String>,
    /// For the leader (and the coach).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shared_summary: Option<String>,
    /// Only for the coach who wrote them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_notes: Option<String>,
    pub version: i64,
}

fn view(s: &Session, v: SessionView) -> SessionResponse {
    let content = |field: &Option<String>| if v.content { field.clone() } else { None };
    SessionResponse {
        id: s.id.as_uuid(),
        scheduled_at: s.scheduled_at,
        duration_minutes: s.duration_minutes,
        format: s.format,
        kind: s.kind,
        status: s.status,
        status_reason: s.status_reason.clone(),
        plan_index: s.plan_index,
        plan_title: s.plan_title.clone(),
        choice: if v.shared_summary { s.choice.clone() } else { None },
        completed_at: s.completed_at,
        agenda: if v.agenda() { s.agenda.clone() } else { None },
        check_in: content(&s.content.check_in),
        progress_review: content(&s.content.progress_review),
        challenges: content(&s.content.challenges),
        session_goals: content(&s.content.session_goals),
        action_plan: content(&s.content.action_plan),
        skill_building: content(&s.content.skill_building),
        reflection: content(&s.content.reflection),
        next_steps: content(&s.content.next_steps),
        shared_summary: if v.shared_summary { s.content.shared_summary.clone() } else { None },
        private_notes: if v.private_notes { s.content.private_notes.clone() } else { None },
        version: s.version,
    }
}

fn viewed(seen: &SeenSession) -> SessionResponse {
    view(&seen.session, seen.view)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionList {
    pub items: Vec<SessionResponse>,
}

/// What the request leaves out comes from the engagement's program template: the next of its
/// planned sessions (if any is left), then its session defaults; an agenda left out is written
/// from the template's session plan.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleSessionRequest {
    #[serde(serialize_with = "crate::json::timestamp")]
    pub scheduled_at: DateTime<Utc>,
    /// 15–480 minutes for a regular session; 5–30 for a micro session.
    #[schema(minimum = 5, maximum = 480)]
    pub duration_minutes: Option<u32>,
    pub format: Option<FormatValue>,
    pub kind: Option<KindValue>,
    #[schema(max_length = 20000, pattern = "multiline")]
    pub agenda: Option<String>,
}

/// The session after this one, proposed (status `proposed`) with the next steps as its agenda;
/// the coach confirms it with `status: scheduled`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NextSessionRequest {
    pub scheduled_at: DateTime<Utc>,
    #[schema(minimum = 5, maximum = 480)]
    pub duration_minutes: Option<u32>,
    pub format: Option<FormatValue>,
    pub kind: Option<KindValue>,
}

/// Homework: an open action item of the leader, set by the session.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HomeworkRequest {
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    #[schema(max_length = 20000, pattern = "multiline")]
    pub details: Option<String>,
    pub due_date: Option<chrono::NaiveDate>,
}

/// Move, confirm (`status: scheduled` for a requested time), cancel or mark a no-show (with a
/// reason).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSessionRequest {
    pub scheduled_at: Option<DateTime<Utc>>,
    pub duration_minutes: Option<u32>,
    pub format: Option<FormatValue>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 20000, pattern = "multiline")]
    pub agenda: Option<Option<String>>,
    pub status: Option<SessionStatusValue>,
    #[schema(max_length = 2000, pattern = "line-optional")]
    pub reason: Option<String>,
}

/// What happened in the session (seed 004's structure).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteSessionRequest {
    pub actual_duration_minutes: u32,
    #[schema(max_length = 20000, pattern = "multiline")]
    pub check_in: Option<String>,
    #[schema(max_length = 20000, pattern = "multiline")]
    pub progress_review: Option<String>,
    #[schema(max_length = 20000, pattern = "multiline")]
    pub challenges: Option<String>,
    #[schema(max_length = 20000, pattern = "multiline")]
    pub session_goals: Option<String>,
    #[schema(max_length = 20000, pattern = "multiline")]
    pub action_plan: Option<String>,
    #[schema(max_length = 20000, pattern = "multiline")]
    pub skill_building: Option<String>,
    #[schema(max_length = 20000, pattern = "multiline")]
    pub reflection: Option<String>,
    #[schema(max_length = 20000, pattern = "multiline")]
    pub next_steps: Option<String>,
    /// Shared with the leader.
    #[schema(max_length = 20000, pattern = "multiline")]
    pub shared_summary: Option<String>,
    /// Seen only by you, the coach who writes them.
    #[schema(max_length = 20000, pattern = "multiline")]
    pub private_notes: Option<String>,
    /// For a planned session with a choice (e.g. the opening session's focus): one of its options.
    #[schema(max_length = 100, pattern = "line-optional")]
    pub choice: Option<String>,
    /// Each becomes an open action item of the leader, set by this session.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub homework: Vec<HomeworkRequest>,
    /// Proposes the next session, with `next_steps` as its agenda.
    pub next_session: Option<NextSessionRequest>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerMonthResponse {
    /// `YYYY-MM`.
    #[schema(example = "2026-03")]
    pub month: String,
    /// The month's budget (prorated for partial first and last months).
    pub budget_hours: f64,
    /// Added by approved extensions.
    pub extension_hours: f64,
    pub used_hours: f64,
    pub remaining_hours: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HoursLedger {
    /// The coaching contract the hours are drawn from; null when none.
    pub contract: Option<ContractRef>,
    pub monthly_hours_budget: f64,
    pub months: Vec<LedgerMonthResponse>,
    pub total_budget_hours: f64,
    pub total_extension_hours: f64,
    pub total_used_hours: f64,
    pub total_remaining_hours: f64,
}

/// The contract a program draws on: which, not what it holds (see `/v1/contracts`).
#[derive(Debug, Serialize, ToSchema)]
pub struct ContractRef {
    pub id: Uuid,
    #[schema(example = "2027 leadership coaching")]
    pub name: String,
}

impl From<&keel_domain::contract::Contract> for ContractRef {
    fn from(c: &keel_domain::contract::Contract) -> Self {
        ContractRef { id: c.id.as_uuid(), name: c.name.clone() }
    }
}

fn hours(minutes: i64) -> f64 {
    (minutes as f64 / 60.0 * 100.0).round() / 100.0
}

pub(crate) fn ledger_response(
    contract: Option<ContractRef>,
    monthly_hours_budget: f64,
    months: &[LedgerMonth],
) -> HoursLedger {
    let sum = |f: fn(&LedgerMonth) -> i64| months.iter().map(f).sum::<i64>();
    HoursLedger {
        contract,
        monthly_hours_budget,
        months: months
            .iter()
            .map(|m| LedgerMonthResponse {
                month: m.month.to_string(),
                budget_hours: hours(m.budget_minutes),
                extension_hours: hours(m.extension_minutes),
                used_hours: hours(m.used_minutes),
                remaining_hours: hours(m.remaining_minutes()),
            })
            .collect(),
        total_budget_hours: hours(sum(|m| m.budget_minutes)),
        total_extension_hours: hours(sum(|m| m.extension_minutes)),
        total_used_hours: hours(sum(|m| m.used_minutes)),
        total_remaining_hours: hours(sum(|m| m.remaining_minutes())),
    }
}

/// The engagement's sessions in time order (content as the caller may see it).
#[utoipa::path(tag = "sessions", params(("id" = Uuid, Path, description = "The engagement")),
    responses((status = 200, description = "The sessions", body = SessionList)))]
#[get("/engagements/{id}/sessions")]
pub async fn list_sessions(
    caller: Caller,
    state: Data<AppState>,
    id: Path<EngagementId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let all = state.run(move |conn| sessions::list(conn, &caller, id)).await?;
    Ok(HttpResponse::Ok().json(SessionList { items: all.iter().map(viewed).collect() }))
}

/// Schedule a session (the coach), or request a time (the leader; the coach confirms it). Only
/// while the engagement is in `coaching`. The leader and the coach get an email with a calendar
/// invitation.
#[utoipa::path(tag = "sessions", params(("id" = Uuid, Path, description = "The engagement")),
    request_body = ScheduleSessionRequest,
    responses((status = 201, description = "Scheduled (or requested)", body = SessionResponse, headers(("ETag" = String, description = "The version"))),
        (status = 409, response = crate::openapi::Conflict)))]
#[post("/engagements/{id}/sessions")]
pub async fn schedule_session(
    caller: Caller,
    state: Data<AppState>,
    id: Path<EngagementId>,
    body: JsonBody<ScheduleSessionRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let b = body.0;
    let input = SessionRequest {
        scheduled_at: Some(b.scheduled_at),
        duration_minutes: b.duration_minutes,
        format: b.format,
        kind: b.kind,
        agenda: b.agenda,
    };
    let seen = state.run(move |conn| sessions::schedule(conn, &caller, id, input)).await?;
    Ok(created(format!("/v1/engagements/{id}/sessions/{}", seen.session.id), seen.session.version, &viewed(&seen)))
}

/// One session (content as the caller may see it).
#[utoipa::path(tag = "sessions", params(("id" = Uuid, Path, description = "The engagement"), ("session_id" = Uuid, Path, description = "The session")),
    responses((status = 200, description = "The session", body = SessionResponse, headers(("ETag" = String, description = "The version")))))]
#[get("/engagements/{id}/sessions/{session_id}")]
pub async fn get_session(
    caller: Caller,
    state: Data<AppState>,
    path: Path<(EngagementId, SessionId)>,
) -> Result<HttpResponse, ApiError> {
    let (id, session_id) = path.into_inner();
    let seen = state.run(move |conn| sessions::get(conn, &caller, (id, session_id))).await?;
    Ok(resource(StatusCode::OK, seen.session.version, &viewed(&seen)))
}

/// Move, confirm, cancel or mark a no-show (the coach). A move or a confirmation mails an updated
/// calendar invitation to the leader and the coach.
#[utoipa::path(tag = "sessions",
    params(("id" = Uuid, Path, description = "The engagement"), ("session_id" = Uuid, Path, description = "The session"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read; refused with 412 if it is no longer current")),
    request_body = UpdateSessionRequest,
    responses((status = 200, description = "The session", body = SessionResponse, headers(("ETag" = String, description = "The new version"))),
        (status = 409, response = crate::openapi::Conflict)))]
#[patch("/engagements/{id}/sessions/{session_id}")]
pub async fn update_session(
    caller: Caller,
    state: Data<AppState>,
    path: Path<(EngagementId, SessionId)>,
    if_match: IfMatchVersion,
    body: JsonBody<UpdateSessionRequest>,
) -> Result<HttpResponse, ApiError> {
    let (id, session_id) = path.into_inner();
    let b = body.0;
    let changes = SessionChanges {
        scheduled_at: b.scheduled_at,
        duration_minutes: b.duration_minutes,
        format: b.format,
        agenda: b.agenda,
        status: b.status,
        reason: b.reason,
    };
    let seen =
        state.run(move |conn| sessions::change(conn, &caller, (id, session_id), if_match.0.as_ref(), &changes)).await?;
    Ok(resource(StatusCode::OK, seen.session.version, &viewed(&seen)))
}

/// Complete a session (the coach): its actual length and content. Refused with 409
/// (`over_budget`, with the numbers) when its month's hours, approved extensions included, cannot
/// cover it. In the same transaction, `homework` becomes the leader's action items and
/// `next_session` a proposed session whose agenda carries the `next_steps`.
#[utoipa::path(tag = "sessions",
    params(("id" = Uuid, Path, description = "The engagement"), ("session_id" = Uuid, Path, description = "The session")),
    request_body = CompleteSessionRequest,
    responses((status = 200, description = "The completed session", body = SessionResponse, headers(("ETag" = String, description = "The new version"))),
        (status = 409, response = crate::openapi::Conflict)))]
#[post("/engagements/{id}/sessions/{session_id}/complete")]
pub async fn complete_session(
    caller: Caller,
    state: Data<AppState>,
    path: Path<(EngagementId, SessionId)>,
    body: JsonBody<CompleteSessionRequest>,
) -> Result<HttpResponse, ApiError> {
    let (id, session_id) = path.into_inner();
    let b = body.0;
    let content = SessionContent {
        check_in: b.check_in,
        progress_review: b.progress_review,
        challenges: b.challenges,
        session_goals: b.session_goals,
        action_plan: b.action_plan,
        skill_building: b.skill_building,
        reflection: b.reflection,
        next_steps: b.next_steps,
        shared_summary: b.shared_summary,
        private_notes: b.private_notes,
    };
    let completion = Completion {
        actual_minutes: b.actual_duration_minutes,
        content,
        choice: b.choice,
        homework: b
            .homework
            .into_iter()
            .map(|h| ActionItemChanges {
                title: Some(h.title),
                details: Some(h.details),
                due_date: Some(h.due_date),
                ..Default::default()
            })
            .collect(),
        next_session: b.next_session.map(|n| SessionRequest {
            scheduled_at: Some(n.scheduled_at),
            duration_minutes: n.duration_minutes,
            format: n.format,
            kind: n.kind,
            agenda: None,
        }),
    };
    let seen = state.run(move |conn| sessions::complete(conn, &caller, (id, session_id), &completion)).await?;
    Ok(resource(StatusCode::OK, seen.session.version, &viewed(&seen)))
}

/// The hours ledger: per calendar month from start to planned end, the budget (prorated for
/// partial months), approved extensions, hours used (completed sessions; no-shows when the
/// organization counts them) and remaining, with totals; and the contract the hours are drawn
/// from.
#[utoipa::path(tag = "sessions", params(("id" = Uuid, Path, description = "The engagement")),
    responses((status = 200, description = "The ledger", body = HoursLedger)))]
#[get("/engagements/{id}/hours")]
pub async fn get_hours(
    caller: Caller,
    state: Data<AppState>,
    id: Path<EngagementId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let (engagement, months, contract) = state.run(move |conn| sessions::hours(conn, &caller, id)).await?;
    let contract = contract.as_ref().map(ContractRef::from);
    Ok(HttpResponse::Ok().json(ledger_response(contract, engagement.monthly_hours_budget, &months)))
}
