//! `/v1/reports/…`: utilization, pipeline, outcomes and participation, as JSON or (with
//! `Accept: text/csv`) as RFC 4180 CSV streamed a page of programs at a time (docs/reports.md).

use std::sync::Arc;

use actix_web::http::header::{self, HeaderValue};
use actix_web::web::{Bytes, Data};
use actix_web::{HttpRequest, HttpResponse, get};
use chrono::{DateTime, NaiveDate, Utc};
use keel_commands::reports::{
    self, CoachLine, ContractLine, OutcomeAggregate, OutcomeLine, ProgramLine, ReportQuery, Resume, Scope,
};
use keel_commands::{DbConnection, StoreError};
use keel_domain::contract::format_hundredths;
use keel_domain::report::spreadsheet_safe;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::extract::{ApiQuery, Caller};
use crate::problem::ApiError;
use crate::state::AppState;

/// The filters every report takes.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReportParams {
    /// Admins: one organization (default: all; 404 for one that does not exist). Others get
    /// their own organization's; naming another is 404.
    pub organization_id: Option<Uuid>,
    /// Only the programs this coach runs.
    pub coach_id: Option<Uuid>,
    /// Only the engagements of this program template (groups have none, so none are included).
    pub template_id: Option<Uuid>,
    /// Programs running on or after this date (their planned end is not before it).
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<NaiveDate>,
    /// Programs running on or before this date (they start by it); not before `from` (422
    /// `before_from` otherwise).
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<NaiveDate>,
}

impl From<ReportParams> for ReportQuery {
    fn from(p: ReportParams) -> Self {
        ReportQuery {
            organization_id: p.organization_id.map(Into::into),
            coach_id: p.coach_id.map(Into::into),
            template_id: p.template_id.map(Into::into),
            from: p.from,
            to: p.to,
        }
    }
}

/// Hours of `minutes`, to the hundredth (as the hours ledger gives them).
fn hours(minutes: i64) -> f64 {
    (minutes as f64 / 60.0 * 100.0).round() / 100.0
}

fn wants_csv(request: &HttpRequest) -> bool {
    request.headers().get_all(header::ACCEPT).filter_map(|v| v.to_str().ok()).any(|v| v.contains("text/csv"))
}

/// What each program's row of a CSV report holds, a page of programs at a time.
type Rows =
    Arc<dyn Fn(&mut DbConnection, &[ProgramLine], NaiveDate) -> Result<Vec<Vec<String>>, StoreError> + Send + Sync>;

fn csv_bytes(header: Option<&[&str]>, rows: &[Vec<String>]) -> Result<Bytes, std::io::Error> {
    let mut writer = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    if let Some(header) = header {
        writer.write_record(header)?;
    }
    for row in rows {
        writer.write_record(row)?;
    }
    writer.into_inner().map(Bytes::from).map_err(|e| std::io::Error::other(e.to_string()))
}

/// A CSV answer: the header, then the rows of each page of programs as it is read, so the whole
/// report is never held in memory.
fn csv_response(
    state: Data<AppState>,
    scope: Scope,
    name: &str,
    header: &'static [&'static str],
    rows: Rows,
) -> HttpResponse {
    let today = scope.now.date_naive();
    let scope = Arc::new(scope);
    let start = (state, scope, rows, Resume::Engagements(None), true);
    let stream = futures_util::stream::unfold(start, move |(state, scope, rows, at, first)| async move {
        if at == Resume::Done && !first {
            return None;
        }
        let (page_scope, page_rows, page_at) = (scope.clone(), rows.clone(), at.clone());
        let page = state
            .run(move |conn| {
                let (lines, next) = reports::lines(conn, &page_scope, &page_at, reports::Detail::Figures)?;
                let found: Vec<Vec<String>> = page_rows(conn, &lines, today)?;
                Ok((found, next))
            })
            .await;
        match page {
            Ok((found, next)) => {
                let bytes = csv_bytes(first.then_some(header), &found);
                let next = if bytes.is_err() { Resume::Done } else { next };
                Some((bytes, (state, scope, rows, next, false)))
            }
            Err(error) => {
                tracing::warn!(?error, "a CSV report stopped while streaming");
                Some((
                    Err(std::io::Error::other("the report could not be read")),
                    (state, scope, rows, Resume::Done, false),
                ))
            }
        }
    });
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8")))
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}-{today}.csv\"")))
        .streaming(stream)
}

fn text(cell: &str) -> String {
    spreadsheet_safe(cell).into_owned()
}

fn optional<T: ToString>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

fn phase_or_status(line: &ProgramLine) -> String {
    line.phase.map(|p| p.as_str()).or(line.group_status).unwrap_or_default().to_owned()
}

// ---------- utilization ----------

/// One contract's hours: bought, held by its programs, used, and what is left, with cost where
/// priced and the pace of the last 90 days.
#[derive(Debug, Serialize, ToSchema)]
pub struct UtilizationContract {
    pub contract_id: Uuid,
    pub organization_id: Uuid,
    pub name: String,
    pub provider: Option<String>,
    #[schema(value_type = String, format = Date)]
    pub start_date: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub end_date: NaiveDate,
    /// Engagements and groups drawing on it (all of them, whatever the other filters).
    pub programs: usize,
    pub bought_hours: f64,
    pub allocated_hours: f64,
    pub used_hours: f64,
    /// Bought less allocated; negative when overdrawn.
    pub unallocated_hours: f64,
    /// Bought less used.
    pub remaining_hours: f64,
    pub currency: Option<String>,
    pub price_per_hour: Option<String>,
    pub used_cost: Option<String>,
    pub allocated_cost: Option<String>,
    /// Hours used per 30 days over the last 90.
    pub burn_rate_hours_per_month: f64,
    /// When the remaining hours run out at that pace (null: nothing used lately).
    #[schema(value_type = Option<String>, format = Date)]
    pub projected_exhaustion_date: Option<NaiveDate>,
    /// Hours used in each calendar month with any use, in order.
    pub months: Vec<MonthUse>,
}

/// Hours a contract's programs used in one calendar month.
#[derive(Debug, Serialize, ToSchema)]
pub struct MonthUse {
    #[schema(example = "2026-03")]
    pub month: String,
    pub used_hours: f64,
}

/// One engagement's or group's hours, as its ledger gives them.
#[derive(Debug, Serialize, ToSchema)]
pub struct UtilizationProgram {
    /// `engagement` or `group`.
    pub kind: String,
    pub id: Uuid,
    pub organization_id: Uuid,
    pub title: String,
    pub leader_name: Option<String>,
    pub coach_id: Uuid,
    pub coach_name: String,
    pub template_id: Option<Uuid>,
    pub contract_id: Option<Uuid>,
    /// An engagement's phase; a group's standing by its dates (`not_started`, `running`,
    /// `past_planned_end`).
    pub phase: String,
    #[schema(value_type = String, format = Date)]
    pub start_date: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub planned_end_date: NaiveDate,
    pub monthly_hours_budget: f64,
    /// The ledger's total budget, extensions, used and remaining hours.
    pub budgeted_hours: f64,
    pub extended_hours: f64,
    pub used_hours: f64,
    pub remaining_hours: f64,
    /// What it holds of its contract (an ended program: what it used).
    pub allocated_hours: f64,
    pub currency: Option<String>,
    pub used_cost: Option<String>,
    pub burn_rate_hours_per_month: f64,
    #[schema(value_type = Option<String>, format = Date)]
    pub projected_exhaustion_date: Option<NaiveDate>,
}

/// One coach's sums over the programs of the report.
#[derive(Debug, Serialize, ToSchema)]
pub struct UtilizationCoach {
    pub coach_id: Uuid,
    pub name: String,
    pub programs: usize,
    pub budgeted_hours: f64,
    pub extended_hours: f64,
    pub allocated_hours: f64,
    pub used_hours: f64,
    pub remaining_hours: f64,
    pub burn_rate_hours_per_month: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UtilizationReport {
    #[serde(serialize_with = "crate::json::timestamp")]
    pub generated_at: DateTime<Utc>,
    pub contracts: Vec<UtilizationContract>,
    pub programs: Vec<UtilizationProgram>,
    pub coaches: Vec<UtilizationCoach>,
}

fn uuid(text: &str) -> Uuid {
    text.parse().unwrap_or_default()
}

fn contract_json(c: &ContractLine, today: NaiveDate) -> UtilizationContract {
    let k = &c.contract;
    UtilizationContract {
        contract_id: k.id.as_uuid(),
        organization_id: k.organization_id.as_uuid(),
        name: k.name.clone(),
        provider: k.provider.clone(),
        start_date: k.start_date,
        end_date: k.end_date,
        programs: c.programs,
        bought_hours: hours(c.standing.bought_minutes),
        allocated_hours: hours(c.standing.allocated_minutes),
        used_hours: hours(c.standing.used_minutes),
        unallocated_hours: hours(c.standing.unallocated_minutes()),
        remaining_hours: hours(c.standing.remaining_minutes()),
        currency: k.price.as_ref().map(|p| p.currency.clone()),
        price_per_hour: k.price.as_ref().map(|p| p.amount()),
        used_cost: c.used_cost().map(format_hundredths),
        allocated_cost: c.allocated_cost().map(format_hundredths),
        burn_rate_hours_per_month: hours(keel_domain::report::burn_minutes_per_month(c.recent_minutes).round() as i64),
        projected_exhaustion_date: c.exhaustion_date(today),
        months: c
            .months
            .iter()
            .map(|(month, minutes)| MonthUse { month: month.clone(), used_hours: hours(*minutes) })
            .collect(),
    }
}

fn program_json(l: &ProgramLine, today: NaiveDate) -> UtilizationProgram {
    UtilizationProgram {
        kind: l.kind.as_str().to_owned(),
        id: uuid(&l.id),
        organization_id: uuid(&l.organization_id),
        title: l.title.clone(),
        leader_name: l.leader.as_ref().map(|(_, name)| name.clone()),
        coach_id: uuid(&l.coach.0),
        coach_name: l.coach.1.clone(),
        template_id: l.template_id.as_deref().map(uuid),
        contract_id: l.contract.as_ref().map(|c| c.id.as_uuid()),
        phase: phase_or_status(l),
        start_date: l.start_date,
        planned_end_date: l.planned_end_date,
        monthly_hours_budget: l.monthly_hours_budget,
        budgeted_hours: hours(l.draw.planned_minutes),
        extended_hours: hours(l.draw.extension_minutes),
        used_hours: hours(l.draw.used_minutes),
        remaining_hours: hours(l.remaining_minutes()),
        allocated_hours: hours(l.draw.allocated_minutes()),
        currency: l.used_cost().map(|(_, c)| c.to_owned()),
        used_cost: l.used_cost().map(|(cost, _)| format_hundredths(cost)),
        burn_rate_hours_per_month: hours(l.burn_minutes_per_month().round() as i64),
        projected_exhaustion_date: l.exhaustion_date(today),
    }
}

fn coach_json(c: &CoachLine) -> UtilizationCoach {
    UtilizationCoach {
        coach_id: uuid(&c.coach_id),
        name: c.name.clone(),
        programs: c.programs,
        budgeted_hours: hours(c.planned_minutes),
        extended_hours: hours(c.extension_minutes),
        allocated_hours: hours(c.allocated_minutes),
        used_hours: hours(c.used_minutes),
        remaining_hours: hours(c.remaining_minutes),
        burn_rate_hours_per_month: hours(keel_domain::report::burn_minutes_per_month(c.recent_minutes).round() as i64),
    }
}

const UTILIZATION_CSV: &[&str] = &[
    "kind",
    "id",
    "organization_id",
    "title",
    "leader_name",
    "coach_name",
    "template_id",
    "contract_id",
    "contract_name",
    "phase",
    "start_date",
    "planned_end_date",
    "monthly_hours_budget",
    "budgeted_hours",
    "extended_hours",
    "allocated_hours",
    "used_hours",
    "remaining_hours",
    "currency",
    "used_cost",
    "burn_rate_hours_per_month",
    "projected_exhaustion_date",
];

fn utilization_row(l: &ProgramLine, today: NaiveDate) -> Vec<String> {
    let p = program_json(l, today);
    vec![
        p.kind,
        l.id.clone(),
        l.organization_id.clone(),
        text(&l.title),
        text(&p.leader_name.unwrap_or_default()),
        text(&p.coach_name),
        optional(l.template_id.as_ref()),
        optional(p.contract_id),
        text(&l.contract.as_ref().map(|c| c.name.clone()).unwrap_or_default()),
        p.phase,
        p.start_date.to_string(),
        p.planned_end_date.to_string(),
        p.monthly_hours_budget.to_string(),
        p.budgeted_hours.to_string(),
        p.extended_hours.to_string(),
        p.allocated_hours.to_string(),
        p.used_hours.to_string(),
        p.remaining_hours.to_string(),
        optional(p.currency),
        optional(p.used_cost),
        p.burn_rate_hours_per_month.to_string(),
        optional(p.projected_exhaustion_date),
    ]
}

/// Utilization: per contract (bought, allocated, used, remaining, cost where priced, burn rate,
/// projected exhaustion), per engagement and group (the ledger's totals), and per coach. With
/// `Accept: text/csv`, one row per engagement and group, streamed. The organization's
/// hr_partner, its API clients with `reports:read`, and admins (every organization).
#[utoipa::path(
    tag = "reports",
    params(ReportParams),
    responses((status = 200, description = "The report", content(
        (UtilizationReport = "application/json"),
        (String = "text/csv", example = "kind,id,organization_id,title,leader_name,coach_name,template_id,contract_id,contract_name,phase,start_date,planned_end_date,monthly_hours_budget,budgeted_hours,extended_hours,allocated_hours,used_hours,remaining_hours,currency,used_cost,burn_rate_hours_per_month,projected_exhaustion_date\r\n"),
    )),
    (status = 404, response = crate::openapi::NotFound),
    (status = 422, response = crate::openapi::UnprocessableEntity))
)]
#[get("/reports/utilization")]
pub async fn utilization_report(
    caller: Caller,
    state: Data<AppState>,
    request: HttpRequest,
    query: ApiQuery<ReportParams>,
) -> Result<HttpResponse, ApiError> {
    let query: ReportQuery = query.0.into();
    if wants_csv(&request) {
        let scope = state.run(move |conn| reports::scope(conn, &caller, query)).await?;
        return Ok(csv(Report::Utilization, state, scope));
    }
    let report = state.run(move |conn| reports::utilization(conn, &caller, query)).await?;
    let today = report.scope.now.date_naive();
    Ok(HttpResponse::Ok().json(UtilizationReport {
        generated_at: report.scope.now,
        contracts: report.contracts.iter().map(|c| contract_json(c, today)).collect(),
        programs: report.programs.iter().map(|l| program_json(l, today)).collect(),
        coaches: report.coaches.iter().map(coach_json).collect(),
    }))
}

// ---------- pipeline ----------

/// One program in the pipeline: its phase, since when, and whether that is longer than its
/// organization allows.
#[derive(Debug, Serialize, ToSchema)]
pub struct PipelineProgram {
    pub kind: String,
    pub id: Uuid,
    pub organization_id: Uuid,
    pub title: String,
    pub leader_name: Option<String>,
    pub coach_id: Uuid,
    pub coach_name: String,
    pub template_id: Option<Uuid>,
    /// An engagement's phase; a group's standing by its dates.
    pub phase: String,
    /// When the engagement entered its phase (null for groups).
    #[serde(serialize_with = "crate::json::optional_timestamp")]
    pub entered_phase_at: Option<DateTime<Utc>>,
    pub days_in_phase: Option<i64>,
    /// The organization's limit for the phase (null: never flagged).
    pub stuck_after_days: Option<u32>,
    pub stuck: bool,
}

/// How many programs are in a phase (or, for groups, a standing), and how many of them are stuck.
#[derive(Debug, Serialize, ToSchema)]
pub struct PhaseCount {
    pub phase: String,
    pub programs: usize,
    pub stuck: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PipelineReport {
    #[serde(serialize_with = "crate::json::timestamp")]
    pub generated_at: DateTime<Utc>,
    /// Every phase in program order, then the groups' standings; zero counts included.
    pub phases: Vec<PhaseCount>,
    pub programs: Vec<PipelineProgram>,
}

fn pipeline_json(l: &ProgramLine) -> PipelineProgram {
    PipelineProgram {
        kind: l.kind.as_str().to_owned(),
        id: uuid(&l.id),
        organization_id: uuid(&l.organization_id),
        title: l.title.clone(),
        leader_name: l.leader.as_ref().map(|(_, name)| name.clone()),
        coach_id: uuid(&l.coach.0),
        coach_name: l.coach.1.clone(),
        template_id: l.template_id.as_deref().map(uuid),
        phase: phase_or_status(l),
        entered_phase_at: l.entered_phase_at,
        days_in_phase: l.time_in_phase.map(|t| t.days),
        stuck_after_days: l.time_in_phase.and_then(|t| t.limit_days),
        stuck: l.stuck(),
    }
}

const PIPELINE_CSV: &[&str] = &[
    "kind",
    "id",
    "organization_id",
    "title",
    "leader_name",
    "coach_name",
    "template_id",
    "phase",
    "entered_phase_at",
    "days_in_phase",
    "stuck_after_days",
    "stuck",
];

fn pipeline_row(l: &ProgramLine) -> Vec<String> {
    let p = pipeline_json(l);
    vec![
        p.kind,
        l.id.clone(),
        l.organization_id.clone(),
        text(&p.title),
        text(&p.leader_name.unwrap_or_default()),
        text(&p.coach_name),
        optional(p.template_id),
        p.phase,
        optional(p.entered_phase_at.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))),
        optional(p.days_in_phase),
        optional(p.stuck_after_days),
        p.stuck.to_string(),
    ]
}

/// The pipeline: engagements by phase with the time in it, and those in it longer than their
/// organization's `stuck_after_days` for the phase; groups by their standing. With
/// `Accept: text/csv`, one row per program, streamed.
#[utoipa::path(
    tag = "reports",
    params(ReportParams),
    responses((status = 200, description = "The report", content(
        (PipelineReport = "application/json"),
        (String = "text/csv", example = "kind,id,organization_id,title,leader_name,coach_name,template_id,phase,entered_phase_at,days_in_phase,stuck_after_days,stuck\r\n"),
    )),
    (status = 404, response = crate::openapi::NotFound),
    (status = 422, response = crate::openapi::UnprocessableEntity))
)]
#[get("/reports/pipeline")]
pub async fn pipeline_report(
    caller: Caller,
    state: Data<AppState>,
    request: HttpRequest,
    query: ApiQuery<ReportParams>,
) -> Result<HttpResponse, ApiError> {
    let query: ReportQuery = query.0.into();
    if wants_csv(&request) {
        let scope = state.run(move |conn| reports::scope(conn, &caller, query)).await?;
        return Ok(csv(Report::Pipeline, state, scope));
    }
    let report = state.run(move |conn| reports::pipeline(conn, &caller, query)).await?;
    Ok(HttpResponse::Ok().json(PipelineReport {
        generated_at: report.scope.now,
        phases: report
            .by_phase()
            .into_iter()
            .map(|(phase, programs, stuck)| PhaseCount { phase: phase.to_owned(), programs, stuck })
            .collect(),
        programs: report.programs.iter().map(pipeline_json).collect(),
    }))
}

// ---------- participation ----------

/// Who took part, in counts: raters of an engagement (never who they are), attendance of a
/// group's sessions.
#[derive(Debug, Serialize, ToSchema)]
pub struct ParticipationProgram {
    pub kind: String,
    pub id: Uuid,
    pub organization_id: Uuid,
    pub title: String,
    pub coach_name: String,
    pub phase: String,
    /// Engagements: raters named, sent an invitation, and who contributed (interview or feedback).
    pub raters: i64,
    pub raters_invited: i64,
    pub raters_contributed: i64,
    /// Groups: people in it now, sessions held, and attendance records of those sessions.
    pub participants: i64,
    pub sessions_completed: i64,
    pub attended: i64,
    pub absent: i64,
    /// attended / (attended + absent), to the hundredth; null before any session.
    pub attendance_rate: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ParticipationReport {
    #[serde(serialize_with = "crate::json::timestamp")]
    pub generated_at: DateTime<Utc>,
    pub programs: Vec<ParticipationProgram>,
}

fn participation_json(l: &ProgramLine) -> ParticipationProgram {
    let records = l.attended + l.absent;
    ParticipationProgram {
        kind: l.kind.as_str().to_owned(),
        id: uuid(&l.id),
        organization_id: uuid(&l.organization_id),
        title: l.title.clone(),
        coach_name: l.coach.1.clone(),
        phase: phase_or_status(l),
        raters: l.raters,
        raters_invited: l.raters_invited,
        raters_contributed: l.raters_contributed,
        participants: l.participants,
        sessions_completed: l.sessions_completed,
        attended: l.attended,
        absent: l.absent,
        attendance_rate: (records > 0).then(|| (l.attended as f64 / records as f64 * 100.0).round() / 100.0),
    }
}

const PARTICIPATION_CSV: &[&str] = &[
    "kind",
    "id",
    "organization_id",
    "title",
    "coach_name",
    "phase",
    "raters",
    "raters_invited",
    "raters_contributed",
    "participants",
    "sessions_completed",
    "attended",
    "absent",
    "attendance_rate",
];

fn participation_row(l: &ProgramLine) -> Vec<String> {
    let p = participation_json(l);
    vec![
        p.kind,
        l.id.clone(),
        l.organization_id.clone(),
        text(&p.title),
        text(&p.coach_name),
        p.phase,
        p.raters.to_string(),
        p.raters_invited.to_string(),
        p.raters_contributed.to_string(),
        p.participants.to_string(),
        p.sessions_completed.to_string(),
        p.attended.to_string(),
        p.absent.to_string(),
        optional(p.attendance_rate),
    ]
}

/// Participation: per engagement the raters named, invited and contributed (counts only, never
/// names); per group its participants and the attendance of its sessions. With
/// `Accept: text/csv`, one row per program, streamed.
#[utoipa::path(
    tag = "reports",
    params(ReportParams),
    responses((status = 200, description = "The report", content(
        (ParticipationReport = "application/json"),
        (String = "text/csv", example = "kind,id,organization_id,title,coach_name,phase,raters,raters_invited,raters_contributed,participants,sessions_completed,attended,absent,attendance_rate\r\n"),
    )),
    (status = 404, response = crate::openapi::NotFound),
    (status = 422, response = crate::openapi::UnprocessableEntity))
)]
#[get("/reports/participation")]
pub async fn participation_report(
    caller: Caller,
    state: Data<AppState>,
    request: HttpRequest,
    query: ApiQuery<ReportParams>,
) -> Result<HttpResponse, ApiError> {
    let query: ReportQuery = query.0.into();
    if wants_csv(&request) {
        let scope = state.run(move |conn| reports::scope(conn, &caller, query)).await?;
        return Ok(csv(Report::Participation, state, scope));
    }
    let report = state.run(move |conn| reports::participation(conn, &caller, query)).await?;
    Ok(HttpResponse::Ok().json(ParticipationReport {
        generated_at: report.scope.now,
        programs: report.programs.iter().map(participation_json).collect(),
    }))
}

// ---------- outcomes ----------

/// One outcome of one engagement: baseline, target, latest measurement, progress, and what the
/// mid and end reviews recorded (values only, never notes).
#[derive(Debug, Serialize, ToSchema)]
pub struct OutcomeRow {
    pub engagement_id: Uuid,
    pub engagement_title: String,
    pub coach_id: Uuid,
    pub coach_name: String,
    pub template_id: Uuid,
    pub phase: Option<String>,
    pub outcome_id: Uuid,
    pub title: String,
    pub baseline: Option<String>,
    pub target: Option<String>,
    pub unit: Option<String>,
    pub latest: Option<String>,
    #[serde(serialize_with = "crate::json::optional_timestamp")]
    pub latest_measured_at: Option<DateTime<Utc>>,
    /// (latest − baseline) / (target − baseline), to the hundredth (as `/progress` gives it).
    pub progress: Option<f64>,
    /// The value the mid review recorded, and the end review's.
    pub mid_review_actual: Option<String>,
    pub end_review_actual: Option<String>,
    /// Whether the end review recorded it as achieved.
    pub achieved: Option<bool>,
}

/// Outcomes summed by template or by coach.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutcomeSummary {
    /// The template's or the coach's id.
    pub id: Uuid,
    /// The coach's name (null for templates).
    pub name: Option<String>,
    pub outcomes: usize,
    /// Outcomes with a progress share, and their mean.
    pub measured: usize,
    pub mean_progress: Option<f64>,
    /// Outcomes the end review recorded, and of those achieved.
    pub reviewed: usize,
    pub achieved: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OutcomesReport {
    #[serde(serialize_with = "crate::json::timestamp")]
    pub generated_at: DateTime<Utc>,
    pub outcomes: Vec<OutcomeRow>,
    pub by_template: Vec<OutcomeSummary>,
    pub by_coach: Vec<OutcomeSummary>,
}

fn outcome_json(o: &OutcomeLine) -> OutcomeRow {
    OutcomeRow {
        engagement_id: uuid(&o.engagement_id),
        engagement_title: o.engagement_title.clone(),
        coach_id: uuid(&o.coach.0),
        coach_name: o.coach.1.clone(),
        template_id: uuid(&o.template_id),
        phase: o.phase.map(|p| p.as_str().to_owned()),
        outcome_id: uuid(&o.outcome_id),
        title: o.title.clone(),
        baseline: o.baseline.clone(),
        target: o.target.clone(),
        unit: o.unit.clone(),
        latest: o.latest.clone(),
        latest_measured_at: o.latest_measured_at,
        progress: o.progress,
        mid_review_actual: o.mid_actual.clone(),
        end_review_actual: o.end_actual.clone(),
        achieved: o.achieved,
    }
}

fn summary_json(a: &OutcomeAggregate) -> OutcomeSummary {
    OutcomeSummary {
        id: uuid(&a.key),
        name: a.name.clone(),
        outcomes: a.outcomes,
        measured: a.measured,
        mean_progress: a.mean_progress,
        reviewed: a.reviewed,
        achieved: a.achieved,
    }
}

const OUTCOMES_CSV: &[&str] = &[
    "engagement_id",
    "engagement_title",
    "coach_name",
    "template_id",
    "phase",
    "outcome_id",
    "title",
    "baseline",
    "target",
    "unit",
    "latest",
    "latest_measured_at",
    "progress",
    "mid_review_actual",
    "end_review_actual",
    "achieved",
];

fn outcome_csv_row(o: &OutcomeLine) -> Vec<String> {
    let safe = |v: &Option<String>| text(v.as_deref().unwrap_or_default());
    vec![
        o.engagement_id.clone(),
        text(&o.engagement_title),
        text(&o.coach.1),
        o.template_id.clone(),
        optional(o.phase.map(|p| p.as_str())),
        o.outcome_id.clone(),
        text(&o.title),
        safe(&o.baseline),
        safe(&o.target),
        safe(&o.unit),
        safe(&o.latest),
        optional(o.latest_measured_at.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))),
        optional(o.progress),
        safe(&o.mid_actual),
        safe(&o.end_actual),
        optional(o.achieved),
    ]
}

/// Outcomes: per engagement each outcome with baseline, target, latest measurement, progress,
/// and the mid and end reviews' values and whether it was achieved; summed by template and by
/// coach. With `Accept: text/csv`, one row per outcome, streamed.
#[utoipa::path(
    tag = "reports",
    params(ReportParams),
    responses((status = 200, description = "The report", content(
        (OutcomesReport = "application/json"),
        (String = "text/csv", example = "engagement_id,engagement_title,coach_name,template_id,phase,outcome_id,title,baseline,target,unit,latest,latest_measured_at,progress,mid_review_actual,end_review_actual,achieved\r\n"),
    )),
    (status = 404, response = crate::openapi::NotFound),
    (status = 422, response = crate::openapi::UnprocessableEntity))
)]
#[get("/reports/outcomes")]
pub async fn outcomes_report(
    caller: Caller,
    state: Data<AppState>,
    request: HttpRequest,
    query: ApiQuery<ReportParams>,
) -> Result<HttpResponse, ApiError> {
    let query: ReportQuery = query.0.into();
    if wants_csv(&request) {
        let scope = state.run(move |conn| reports::scope(conn, &caller, query)).await?;
        return Ok(csv(Report::Outcomes, state, scope));
    }
    let report = state.run(move |conn| reports::outcomes(conn, &caller, query)).await?;
    let by_template = reports::aggregate(&report.outcomes, |o| (o.template_id.clone(), None));
    let by_coach = reports::aggregate(&report.outcomes, |o| (o.coach.0.clone(), Some(o.coach.1.clone())));
    Ok(HttpResponse::Ok().json(OutcomesReport {
        generated_at: report.scope.now,
        outcomes: report.outcomes.iter().map(outcome_json).collect(),
        by_template: by_template.iter().map(summary_json).collect(),
        by_coach: by_coach.iter().map(summary_json).collect(),
    }))
}

/// The four reports, by name (`/v1/reports/{name}`, and the pages' downloads).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Report {
    Utilization,
    Pipeline,
    Outcomes,
    Participation,
}

impl Report {
    pub fn named(name: &str) -> Option<Report> {
        Some(match name {
            "utilization" => Report::Utilization,
            "pipeline" => Report::Pipeline,
            "outcomes" => Report::Outcomes,
            "participation" => Report::Participation,
            _ => return None,
        })
    }
}

/// A report of `scope` as streamed CSV.
pub fn csv(report: Report, state: Data<AppState>, scope: Scope) -> HttpResponse {
    match report {
        Report::Utilization => {
            let rows: Rows = Arc::new(|_, lines, today| Ok(lines.iter().map(|l| utilization_row(l, today)).collect()));
            csv_response(state, scope, "utilization", UTILIZATION_CSV, rows)
        }
        Report::Pipeline => {
            let rows: Rows = Arc::new(|_, lines, _| Ok(lines.iter().map(pipeline_row).collect()));
            csv_response(state, scope, "pipeline", PIPELINE_CSV, rows)
        }
        Report::Participation => {
            let rows: Rows = Arc::new(|_, lines, _| Ok(lines.iter().map(participation_row).collect()));
            csv_response(state, scope, "participation", PARTICIPATION_CSV, rows)
        }
        Report::Outcomes => {
            let rows: Rows = Arc::new(|conn, lines, _| {
                Ok(reports::outcome_lines(conn, lines)?.iter().map(outcome_csv_row).collect())
            });
            csv_response(state, scope, "outcomes", OUTCOMES_CSV, rows)
        }
    }
}
