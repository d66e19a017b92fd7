//! The coach's workspace: an engagement's page as its coach sees it (docs/access.md), where the
//! program's steps are done with forms instead of API calls. Each form calls the same command as
//! its API twin with the coach as the caller; a refusal shows its reason next to the fields and
//! keeps everything typed, and a form opened before someone else changed the record says so and
//! shows what is there now, the typed text still in the form.
//!
//! Today: the phase (one button per move the template allows, unmet guards in words), the
//! context meeting, outcomes and the leader interview; sessions and hours as an overview.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::NaiveDate;
use keel_commands::coach::Workspace;
use keel_domain::coaching::LedgerMonth;
use keel_domain::design::DesignStatus;
use keel_domain::engagement::Phase;
use keel_domain::program::{ContextMeetingInput, LeaderInterviewInput, OutcomeChanges};
use keel_domain::stakeholders::{RaterChanges, RaterStanding, Relationship, ThemeChanges, ThemeKind};
use keel_domain::{EngagementId, RaterId};
use serde::Deserialize;

use super::extensions::hours;
use super::forms::{Refused, date_field, opened_at, optional, refused_by, unreadable};
use super::{Chrome, PageError, Visitor, render, see_other};
use crate::problem::ApiError;
use crate::state::AppState;

/// What the coach's page is drawn from.
pub(super) struct CoachData {
    pub workspace: Workspace,
}

struct MoveView {
    forward: bool,
    to: &'static str,
    label: &'static str,
    allowed: bool,
    cancel: bool,
    unmet: Vec<String>,
}

struct RaterView {
    id: RaterId,
    name: String,
    email: String,
    relationship: &'static str,
    standing: &'static str,
    /// The invitation button's words, when the rater can be (re)invited.
    invite: Option<&'static str>,
    interviewable: bool,
    interview: RaterInterviewForm,
}

struct ThemeView {
    kind: &'static str,
    title: String,
    description: String,
    released: bool,
}

fn relationship(r: Relationship) -> &'static str {
    match r {
        Relationship::Boss => "Manager",
        Relationship::Peer => "Peer",
        Relationship::DirectReport => "Direct report",
        Relationship::Other => "Other",
    }
}

struct DesignRow {
    version: i32,
    status: String,
    draft: bool,
    /// Who decided what, with their comment.
    decisions: Vec<String>,
}

struct OutcomeRow {
    title: String,
    measure: String,
    baseline: String,
    target: String,
}

#[derive(Clone, Default, Deserialize)]
pub struct ContextForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    met_on: String,
    #[serde(default)]
    attendees: String,
    #[serde(default)]
    notes: String,
    #[serde(default)]
    benchmarks: String,
}

#[derive(Clone, Default, Deserialize)]
pub struct OutcomeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    measure: String,
    #[serde(default)]
    baseline: String,
    #[serde(default)]
    target: String,
}

#[derive(Clone, Default, Deserialize)]
pub struct InterviewForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    interviewed_on: String,
    #[serde(default)]
    commitments: String,
    #[serde(default)]
    immediate_concerns: String,
    #[serde(default)]
    common_breakdowns: String,
    #[serde(default)]
    behaviours: String,
    #[serde(default)]
    communication_style: String,
    #[serde(default)]
    promise_pattern: String,
    #[serde(default)]
    notes: String,
}

#[derive(Clone, Default, Deserialize)]
pub struct RaterForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    relationship: String,
}

#[derive(Clone, Default, Deserialize)]
pub struct RaterInterviewForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    interviewed_on: String,
    #[serde(default)]
    notes: String,
}

#[derive(Clone, Default, Deserialize)]
pub struct ThemeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
}

/// A form with nothing but its token (a button).
#[derive(Deserialize)]
pub struct ButtonForm {
    #[serde(default)]
    csrf: String,
}

#[derive(Clone, Default, Deserialize)]
pub struct MoveForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    reason: String,
}

#[derive(Template)]
#[template(path = "pages/coach.html")]
pub(super) struct CoachPage {
    chrome: Chrome,
    id: EngagementId,
    at: Phase,
    title: String,
    leader: String,
    sponsors: String,
    program: String,
    phase: &'static str,
    next: Option<String>,
    dates: String,
    hours_used: String,
    hours_budget: String,
    version: i64,
    moves: Vec<MoveView>,
    move_reason: String,
    context_recorded: Option<String>,
    context: ContextForm,
    /// What is recorded, shown beside a form refused because it changed since it was opened.
    context_now: ContextForm,
    outcomes: Vec<OutcomeRow>,
    outcome: OutcomeForm,
    interview_recorded: Option<String>,
    interview: InterviewForm,
    interview_now: InterviewForm,
    contributions: u32,
    min_raters: u32,
    raters: Vec<RaterView>,
    rater: RaterForm,
    themes: Vec<ThemeView>,
    theme: ThemeForm,
    /// Themes wait to be released (and the program is not over).
    may_release: bool,
    sessions: Vec<super::coach_sessions::SessionCard>,
    schedule: super::coach_sessions::ScheduleForm,
    may_schedule: bool,
    ledger: Vec<super::coach_sessions::LedgerRow>,
    designs: Vec<DesignRow>,
    /// A new version may be started (no draft is open, the program is at its design).
    may_start_design: bool,
    /// The review the program is at: its page and its name.
    review: Option<(String, &'static str)>,
    last_design: Option<i32>,
    action_items: Vec<super::coach_sessions::ItemRow>,
    item: super::coach_sessions::ItemForm,
    message: Option<&'static str>,
    refused: Option<Refused>,
}

impl CoachPage {
    /// The refusal of `form`, if it is the one that was refused.
    fn refused_on(&self, form: &str) -> Option<&Refused> {
        self.refused.as_ref().filter(|r| r.form == form)
    }

    /// Whether a hold, resume or cancel is offered besides the way on.
    fn has_other_moves(&self) -> bool {
        self.moves.iter().any(|m| !m.forward)
    }

    /// Whether the forms of `step` are shown open: the step the program is at, and any step whose
    /// form was just refused; the others are a click away.
    fn open_step(&self, step: &str) -> bool {
        let current = match self.at {
            Phase::Context => ["context", "outcome"].contains(&step),
            Phase::LeaderInterview => step == "interview",
            Phase::StakeholderInterviews => ["raters", "themes"].contains(&step),
            Phase::Coaching => ["sessions", "items"].contains(&step),
            Phase::AssessmentDesign => ["design", "themes"].contains(&step),
            _ => false,
        };
        let refused =
            self.refused.as_ref().is_some_and(|r| r.form == step || (step == "raters" && r.form.starts_with("rater-")));
        current || refused
    }

    /// Whether `form` was refused because the record changed since it was opened.
    fn stale(&self, form: &str) -> bool {
        self.refused_on(form).is_some_and(|r| r.stale)
    }

    /// What is wrong with `field` of `form`, or "".
    fn field_error(&self, form: &str, field: &str) -> &str {
        self.refused_on(form).map_or("", |r| r.error_for(field))
    }
}

fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

fn day(d: NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

/// The page's own drafts, filled from what is recorded.
fn recorded_context(workspace: &Workspace) -> ContextForm {
    match &workspace.context {
        Some(c) => ContextForm {
            csrf: String::new(),
            version: c.version.to_string(),
            met_on: c.met_on.to_string(),
            attendees: c.attendees.join("\n"),
            notes: c.notes.clone(),
            benchmarks: c.benchmarks.join("\n"),
        },
        None => ContextForm { version: "0".to_owned(), ..ContextForm::default() },
    }
}

fn recorded_interview(workspace: &Workspace) -> InterviewForm {
    match &workspace.interview {
        Some(i) => InterviewForm {
            csrf: String::new(),
            version: i.version.to_string(),
            interviewed_on: i.interviewed_on.to_string(),
            commitments: i.commitments.clone().unwrap_or_default(),
            immediate_concerns: i.immediate_concerns.clone().unwrap_or_default(),
            common_breakdowns: i.common_breakdowns.clone().unwrap_or_default(),
            behaviours: i.behaviours.clone().unwrap_or_default(),
            communication_style: i.communication_style.clone().unwrap_or_default(),
            promise_pattern: i.promise_pattern.clone().unwrap_or_default(),
            notes: i.notes.clone().unwrap_or_default(),
        },
        None => InterviewForm { version: "0".to_owned(), ..InterviewForm::default() },
    }
}

/// What a form typed, kept on the page it is shown again on.
#[derive(Default)]
pub(super) struct Drafts {
    pub(super) schedule: Option<super::coach_sessions::ScheduleForm>,
    pub(super) item: Option<super::coach_sessions::ItemForm>,
    pub(super) rater: Option<RaterForm>,
    /// A rater's interview, by rater.
    pub(super) rater_interview: Option<(RaterId, RaterInterviewForm)>,
    pub(super) theme: Option<ThemeForm>,
    pub(super) context: Option<ContextForm>,
    pub(super) outcome: Option<OutcomeForm>,
    pub(super) interview: Option<InterviewForm>,
    pub(super) reason: Option<String>,
}

pub(super) fn coach_page(
    visitor: &Visitor,
    data: CoachData,
    message: Option<&'static str>,
    drafts: Drafts,
    refused: Option<Refused>,
) -> CoachPage {
    let CoachData { workspace } = data;
    let ledger = &workspace.ledger;
    let engagement = &workspace.people.engagement;
    let today = keel_domain::time::now();
    let so_far: Vec<&LedgerMonth> = ledger.iter().filter(|m| m.month.first_day() <= today.date_naive()).collect();
    let used: i64 = so_far.iter().map(|m| m.used_minutes).sum();
    let budget: i64 = so_far.iter().map(|m| m.available_minutes()).sum();
    let moves = workspace
        .moves
        .iter()
        .map(|m| MoveView {
            forward: m.forward,
            to: m.to.as_str(),
            label: match (engagement.phase, m.to) {
                (Phase::OnHold, to) if to != Phase::Cancelled => "Resume",
                (_, Phase::OnHold) => "Put on hold",
                (_, Phase::Cancelled) => "Cancel the program",
                (_, to) => to.label(),
            },
            allowed: m.allowed(),
            cancel: m.to == Phase::Cancelled,
            unmet: m.unmet.iter().map(|u| capitalised(&u.message)).collect(),
        })
        .collect();
    CoachPage {
        chrome: visitor.chrome(),
        id: engagement.id,
        at: engagement.phase,
        title: engagement.title.clone(),
        leader: workspace.people.leader.1.clone(),
        sponsors: workspace.people.sponsors.iter().map(|(_, n)| n.as_str()).collect::<Vec<_>>().join(", "),
        program: workspace.people.program.clone(),
        phase: engagement.phase.label(),
        next: workspace.next.clone(),
        dates: format!("{} to {}", day(engagement.start_date), day(engagement.planned_end_date)),
        hours_used: hours(used),
        hours_budget: hours(budget),
        version: engagement.version,
        moves,
        move_reason: drafts.reason.unwrap_or_default(),
        context_recorded: workspace.context.as_ref().map(|c| day(c.met_on)),
        context: drafts.context.unwrap_or_else(|| recorded_context(&workspace)),
        context_now: recorded_context(&workspace),
        outcomes: workspace
            .outcomes
            .iter()
            .map(|o| OutcomeRow {
                title: o.title.clone(),
                measure: o.measure.clone().unwrap_or_else(|| "no measure yet".to_owned()),
                baseline: o.baseline.clone().unwrap_or_else(|| "no baseline yet".to_owned()),
                target: o.target.clone().unwrap_or_else(|| "no target yet".to_owned()),
            })
            .collect(),
        outcome: drafts.outcome.unwrap_or_default(),
        interview_recorded: workspace.interview.as_ref().map(|i| day(i.interviewed_on)),
        interview: drafts.interview.unwrap_or_else(|| recorded_interview(&workspace)),
        interview_now: recorded_interview(&workspace),
        contributions: workspace.facts.stakeholder_contributions,
        min_raters: workspace.facts.min_raters,
        raters: workspace
            .raters
            .iter()
            .map(|(r, standing)| {
                let typed = drafts.rater_interview.as_ref().filter(|(id, _)| *id == r.id).map(|(_, f)| f.clone());
                RaterView {
                    id: r.id,
                    name: r.name.clone(),
                    email: r.email.as_ref().map(|e| e.as_str().to_owned()).unwrap_or_default(),
                    relationship: relationship(r.relationship),
                    standing: standing.label(),
                    invite: match standing {
                        RaterStanding::Added => Some("Invite by email"),
                        RaterStanding::Invited => Some("Send the invitation again"),
                        RaterStanding::InvitationExpired => Some("Send a new invitation"),
                        RaterStanding::Interviewed | RaterStanding::Answered => None,
                    }
                    .filter(|_| r.email.is_some()),
                    interviewable: !standing.contributed(),
                    interview: typed.unwrap_or_default(),
                }
            })
            .collect(),
        rater: drafts.rater.unwrap_or_default(),
        themes: workspace
            .themes
            .iter()
            .map(|t| ThemeView {
                kind: match t.kind {
                    ThemeKind::Strength => "Strength",
                    ThemeKind::DevelopmentArea => "Development area",
                },
                title: t.title.clone(),
                description: t.description.clone().unwrap_or_default(),
                released: t.released_at.is_some(),
            })
            .collect(),
        theme: drafts.theme.unwrap_or_default(),
        may_release: !engagement.phase.is_terminal() && workspace.themes.iter().any(|t| t.released_at.is_none()),
        sessions: workspace.sessions.iter().map(|session| super::coach_sessions::row(engagement.id, session)).collect(),
        schedule: drafts
            .schedule
            .unwrap_or_else(|| super::coach_sessions::schedule_draft(workspace.next_session.as_ref())),
        may_schedule: workspace.next_session.is_some(),
        ledger: ledger.iter().map(super::coach_sessions::ledger_row).collect(),
        designs: workspace
            .designs
            .iter()
            .map(|d| DesignRow {
                version: d.version,
                status: super::words::design_status(d.status).to_owned(),
                draft: d.status == DesignStatus::Draft,
                decisions: workspace
                    .decisions
                    .iter()
                    .filter(|x| x.design_version == d.version)
                    .map(|x| {
                        let who = workspace.people.name_of(x.approver_id);
                        let verdict = super::designs::verdict_text(x.verdict);
                        match &x.comment {
                            Some(comment) => format!("{who}: {verdict} — “{comment}”"),
                            None => format!("{who}: {verdict}"),
                        }
                    })
                    .collect(),
            })
            .collect(),
        may_start_design: workspace.may_start_design,
        last_design: workspace.designs.last().map(|d| d.version),
        review: match engagement.phase {
            Phase::MidReview => Some((format!("/engagements/{}/reviews/mid", engagement.id), "mid-program review")),
            Phase::EndReview => Some((format!("/engagements/{}/reviews/end", engagement.id), "end-of-program review")),
            _ => None,
        },
        action_items: workspace.action_items.iter().map(super::coach_sessions::item_row).collect(),
        item: drafts.item.unwrap_or_default(),
        message,
        refused,
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// What `?saved=` says after a form of the workspace went through.
pub(super) fn saved_message(saved: &str) -> Option<&'static str> {
    match saved {
        "context" => Some("The context meeting is recorded."),
        "outcome" => Some("The outcome is added."),
        "interview" => Some("The leader interview is recorded. It stays yours alone."),
        "phase" => Some("The program moved on."),
        "rater" => Some("The rater is added."),
        "invitation" => Some("The invitation is on its way."),
        "rater-interview" => Some("The rater's interview is recorded. It stays yours alone."),
        "theme" => Some("The theme is added."),
        "release" => Some("The themes are released: the leader and the sponsors can read them."),
        "session" => Some("The session is scheduled; the leader's calendar invitation is on its way."),
        "session-changed" => Some("The session is changed; the leader is told by mail."),
        "completed" => Some("The session is completed: the leader reads the shared summary and the homework."),
        "item" => Some("The action item is set for the leader."),
        "review" => Some("The review is recorded."),
        "renewal" => Some("The program continues as this new engagement, with the outcomes of the end review."),
        "submitted" => Some("The design is submitted: the leader and the sponsors are mailed for their decision."),
        _ => None,
    }
}

/// A command's answer to a form: on to the page (303), or the page again with the refusal.
pub(super) async fn answer<T>(
    state: &AppState,
    visitor: &Visitor,
    id: EngagementId,
    (form, saved): (String, &str),
    result: Result<T, ApiError>,
    drafts: Drafts,
) -> Result<HttpResponse, PageError> {
    let refused = match refused_by(result, &form)? {
        Ok(_) => return Ok(see_other(&format!("/engagements/{id}?saved={saved}#{form}"))),
        Err(refused) => refused,
    };
    show_refused(state, visitor, id, refused, drafts).await
}

pub(super) async fn show_refused(
    state: &AppState,
    visitor: &Visitor,
    id: EngagementId,
    (status, refused): (StatusCode, Refused),
    drafts: Drafts,
) -> Result<HttpResponse, PageError> {
    match super::program::load(state, visitor, id).await? {
        super::program::Loaded::Coach(data) => {
            Ok(visitor.finish(render(status, &coach_page(visitor, *data, None, drafts, Some(refused)))?))
        }
        _ => Err(PageError::not_found()),
    }
}

/// Step 1: the context meeting.
pub async fn context(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<EngagementId>,
    form: web::Form<ContextForm>,
) -> Result<HttpResponse, PageError> {
    visitor.check_form(&form.csrf)?;
    let caller = visitor.require()?;
    let id = path.into_inner();
    let typed = form.into_inner();
    let drafts = || Drafts { context: Some(typed.clone()), ..Drafts::default() };
    let met_on = match date_field("context", "met_on", &typed.met_on) {
        Ok(date) => date,
        Err(refused) => {
            return show_refused(&state, &visitor, id, (StatusCode::UNPROCESSABLE_ENTITY, refused), drafts()).await;
        }
    };
    let input = ContextMeetingInput {
        met_on,
        attendees: lines(&typed.attendees),
        notes: optional(&typed.notes),
        benchmarks: lines(&typed.benchmarks),
    };
    let precondition = opened_at(&typed.version);
    let result = state
        .run(move |conn| keel_commands::program::put_context(conn, &caller, id, precondition.as_ref(), input))
        .await;
    answer(&state, &visitor, id, ("context".to_owned(), "context"), result, drafts()).await
}

/// Step 1: an outcome, with its measure, baseline and target.
pub async fn outcome(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<EngagementId>,
    form: web::Form<OutcomeForm>,
) -> Result<HttpResponse, PageError> {
    visitor.check_form(&form.csrf)?;
    let caller = visitor.require()?;
    let id = path.into_inner();
    let typed = form.into_inner();
    let changes = OutcomeChanges {
        title: Some(typed.title.trim().to_owned()),
        description: Some(optional(&typed.description)),
        measure: Some(optional(&typed.measure)),
        baseline: Some(optional(&typed.baseline)),
        target: Some(optional(&typed.target)),
        unit: None,
    };
    let result = state.run(move |conn| keel_commands::program::create_outcome(conn, &caller, id, &changes)).await;
    answer(
        &state,
        &visitor,
        id,
        ("outcome".to_owned(), "outcome"),
        result,
        Drafts { outcome: Some(typed), ..Drafts::default() },
    )
    .await
}

/// Step 2: the leader interview, the coach's alone.
pub async fn interview(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<EngagementId>,
    form: web::Form<InterviewForm>,
) -> Result<HttpResponse, PageError> {
    visitor.check_form(&form.csrf)?;
    let caller = visitor.require()?;
    let id = path.into_inner();
    let typed = form.into_inner();
    let drafts = || Drafts { interview: Some(typed.clone()), ..Drafts::default() };
    let interviewed_on = match date_field("interview", "interviewed_on", &typed.interviewed_on) {
        Ok(date) => date,
        Err(refused) => {
            return show_refused(&state, &visitor, id, (StatusCode::UNPROCESSABLE_ENTITY, refused), drafts()).await;
        }
    };
    let input = LeaderInterviewInput {
        interviewed_on,
        commitments: optional(&typed.commitments),
        immediate_concerns: optional(&typed.immediate_concerns),
        common_breakdowns: optional(&typed.common_breakdowns),
        behaviours: optional(&typed.behaviours),
        communication_style: optional(&typed.communication_style),
        promise_pattern: optional(&typed.promise_pattern),
        notes: optional(&typed.notes),
    };
    let precondition = opened_at(&typed.version);
    let result = state
        .run(move |conn| keel_commands::program::put_leader_interview(conn, &caller, id, precondition.as_ref(), input))
        .await;
    answer(&state, &visitor, id, ("interview".to_owned(), "interview"), result, drafts()).await
}

/// The phase: one of the moves the page offered, through the transition command.
pub async fn phase(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<EngagementId>,
    form: web::Form<MoveForm>,
) -> Result<HttpResponse, PageError> {
    visitor.check_form(&form.csrf)?;
    let caller = visitor.require()?;
    let id = path.into_inner();
    let typed = form.into_inner();
    let Ok(to) = typed.to.trim().parse::<Phase>() else {
        return Err(PageError::new(StatusCode::BAD_REQUEST, "The form could not be read", "Nothing was changed."));
    };
    let precondition = opened_at(&typed.version);
    let reason = optional(&typed.reason);
    let result = state
        .run(move |conn| keel_commands::engagements::transition(conn, &caller, id, precondition.as_ref(), to, reason))
        .await;
    answer(
        &state,
        &visitor,
        id,
        ("phase".to_owned(), "phase"),
        result,
        Drafts { reason: Some(typed.reason), ..Drafts::default() },
    )
    .await
}

/// Step 3: a rater, added by the coach.
pub async fn add_rater(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<EngagementId>,
    form: web::Form<RaterForm>,
) -> Result<HttpResponse, PageError> {
    visitor.check_form(&form.csrf)?;
    let caller = visitor.require()?;
    let id = path.into_inner();
    let typed = form.into_inner();
    let relationship = match typed.relationship.trim() {
        "" => None,
        chosen => Some(chosen.parse::<Relationship>().map_err(|_| unreadable())?),
    };
    let changes =
        RaterChanges { name: Some(typed.name.trim().to_owned()), email: Some(optional(&typed.email)), relationship };
    let result = state.run(move |conn| keel_commands::stakeholders::create_rater(conn, &caller, id, &changes)).await;
    answer(
        &state,
        &visitor,
        id,
        ("raters".to_owned(), "rater"),
        result,
        Drafts { rater: Some(typed), ..Drafts::default() },
    )
    .await
}

/// Step 3: the rater's invitation by email (again, or anew once it expired).
pub async fn invite_rater(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<(EngagementId, RaterId)>,
    form: web::Form<ButtonForm>,
) -> Result<HttpResponse, PageError> {
    visitor.check_form(&form.csrf)?;
    let caller = visitor.require()?;
    let (id, rater) = path.into_inner();
    let links = state.pages.links.clone();
    let result = state.run(move |conn| keel_commands::stakeholders::invite(conn, &caller, (id, rater), &links)).await;
    answer(&state, &visitor, id, (format!("rater-{rater}"), "invitation"), result, Drafts::default()).await
}

/// Step 3: the coach's interview with a rater (counts as the rater's contribution).
pub async fn rater_interview(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<(EngagementId, RaterId)>,
    form: web::Form<RaterInterviewForm>,
) -> Result<HttpResponse, PageError> {
    visitor.check_form(&form.csrf)?;
    let caller = visitor.require()?;
    let (id, rater) = path.into_inner();
    let typed = form.into_inner();
    let anchor = format!("rater-{rater}");
    let drafts = || Drafts { rater_interview: Some((rater, typed.clone())), ..Drafts::default() };
    let interviewed_on = match date_field(&anchor, "interviewed_on", &typed.interviewed_on) {
        Ok(date) => date,
        Err(refused) => {
            return show_refused(&state, &visitor, id, (StatusCode::UNPROCESSABLE_ENTITY, refused), drafts()).await;
        }
    };
    let notes = typed.notes.clone();
    let result = state
        .run(move |conn| {
            keel_commands::stakeholders::record_interview(conn, &caller, (id, rater), interviewed_on, &notes)
        })
        .await;
    answer(&state, &visitor, id, (anchor, "rater-interview"), result, drafts()).await
}

/// Step 3: a theme of the coach's synthesis.
pub async fn add_theme(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<EngagementId>,
    form: web::Form<ThemeForm>,
) -> Result<HttpResponse, PageError> {
    visitor.check_form(&form.csrf)?;
    let caller = visitor.require()?;
    let id = path.into_inner();
    let typed = form.into_inner();
    let kind = match typed.kind.trim() {
        "" => None,
        chosen => Some(chosen.parse::<ThemeKind>().map_err(|_| unreadable())?),
    };
    let changes = ThemeChanges {
        kind,
        title: Some(typed.title.trim().to_owned()),
        description: Some(optional(&typed.description)),
    };
    let result = state.run(move |conn| keel_commands::stakeholders::create_theme(conn, &caller, id, &changes)).await;
    answer(
        &state,
        &visitor,
        id,
        ("themes".to_owned(), "theme"),
        result,
        Drafts { theme: Some(typed), ..Drafts::default() },
    )
    .await
}

/// Step 3: the themes released to the leader and the sponsors (refused below `min_raters`).
pub async fn release_themes(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<EngagementId>,
    form: web::Form<ButtonForm>,
) -> Result<HttpResponse, PageError> {
    visitor.check_form(&form.csrf)?;
    let caller = visitor.require()?;
    let id = path.into_inner();
    let result = state.run(move |conn| keel_commands::stakeholders::release_themes(conn, &caller, id)).await;
    answer(&state, &visitor, id, ("themes".to_owned(), "release"), result, Drafts::default()).await
}
