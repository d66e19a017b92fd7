//! The coach's sessions (docs/program.md, coaching): scheduled from the workspace with the
//! template's next planned session filled in; moved, confirmed, cancelled or marked missed; and
//! completed on a page of their own with the session plan's parts, the shared summary, private
//! notes, homework and the proposed next session, the month's ledger beside it, and an extension
//! request when the month cannot cover the session. Action items with the leader's notes. Each
//! form calls the API's command with the coach as the caller; times are in UTC, and say so.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use keel_commands::coach::ToComplete;
use keel_commands::sessions::{Completion, SeenSession};
use keel_domain::coaching::{
    ActionItem, ActionItemChanges, ActionItemStatus, LedgerMonth, NewSession, SessionChanges, SessionContent,
    SessionFormat, SessionStatus,
};
use keel_domain::template::SessionRequest;
use keel_domain::time::Timestamp;
use keel_domain::{EngagementId, SessionId};
use serde::Deserialize;

use super::coach::{Drafts, answer};
use super::extensions::hours;
use super::forms::{
    FIELD_TIME, Refused, date_field, minutes_field, opened_at, optional, refused_by, time_field, unreadable,
};
use super::words;
use super::{Chrome, PageError, Visitor, render};
use crate::state::AppState;

fn when(at: Timestamp) -> String {
    at.format("%A %-d %B %Y, %H:%M UTC").to_string()
}

fn format_field(text: &str) -> Result<Option<SessionFormat>, PageError> {
    match text.trim() {
        "" => Ok(None),
        chosen => chosen.parse::<SessionFormat>().map(Some).map_err(|_| unreadable()),
    }
}

// ---- on the workspace ----

/// A session as the coach's workspace lists it.
pub(super) struct SessionCard {
    pub id: SessionId,
    pub when: String,
    pub at: String,
    pub minutes: u32,
    pub format: &'static str,
    pub status: &'static str,
    pub title: String,
    pub agenda: String,
    pub summary: String,
    /// The coach's private notes, when they wrote them.
    pub notes: String,
    /// Not yet held: it can be moved, cancelled, marked missed or completed.
    pub open: bool,
    /// Requested by the leader or proposed by the session before: the coach confirms it.
    pub confirmable: bool,
    pub version: i64,
    pub complete_href: String,
}

pub(super) fn row(engagement: EngagementId, seen: &SeenSession) -> SessionCard {
    let s = &seen.session;
    SessionCard {
        notes: if seen.view.private_notes {
            s.content.private_notes.clone().unwrap_or_default()
        } else {
            String::new()
        },
        id: s.id,
        when: when(s.scheduled_at),
        at: s.scheduled_at.format(FIELD_TIME).to_string(),
        minutes: s.duration_minutes,
        format: words::session_format(s.format),
        status: words::session_status(s.status),
        title: s.plan_title.clone().unwrap_or_default(),
        agenda: s.agenda.clone().unwrap_or_default(),
        summary: s.content.shared_summary.clone().unwrap_or_default(),
        open: matches!(s.status, SessionStatus::Requested | SessionStatus::Proposed | SessionStatus::Scheduled),
        confirmable: matches!(s.status, SessionStatus::Requested | SessionStatus::Proposed),
        version: s.version,
        complete_href: format!("/engagements/{engagement}/sessions/{}/complete", s.id),
    }
}

#[derive(Clone, Default, Deserialize)]
pub struct ScheduleForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    pub at: String,
    #[serde(default)]
    pub minutes: String,
    #[serde(default)]
    pub format: String,
    #[serde(default)]
    pub agenda: String,
    /// The planned session it takes (shown, not sent to the command: the command works it out).
    #[serde(default)]
    pub planned: String,
}

/// The schedule form as the template fills it in.
pub(super) fn schedule_draft(next: Option<&NewSession>) -> ScheduleForm {
    next.map_or_else(ScheduleForm::default, |n| ScheduleForm {
        csrf: String::new(),
        at: String::new(),
        minutes: n.duration_minutes.to_string(),
        format: n.format.as_str().to_owned(),
        agenda: n.agenda.clone().unwrap_or_default(),
        planned: n.planned.as_ref().map(|(_, title)| title.clone()).unwrap_or_default(),
    })
}

/// A month of the hours ledger, in words.
pub(super) struct LedgerRow {
    pub month: String,
    pub budget: String,
    pub extensions: String,
    pub used: String,
    pub remaining: String,
}

pub(super) fn ledger_row(m: &LedgerMonth) -> LedgerRow {
    LedgerRow {
        month: m.month.first_day().format("%B %Y").to_string(),
        budget: hours(m.budget_minutes),
        extensions: hours(m.extension_minutes),
        used: hours(m.used_minutes),
        remaining: hours(m.remaining_minutes()),
    }
}

/// Homework as the coach follows it.
pub(super) struct ItemRow {
    pub title: String,
    pub details: String,
    pub due: String,
    pub status: &'static str,
    pub overdue: bool,
    pub note: String,
}

pub(super) fn item_row(i: &ActionItem) -> ItemRow {
    let today = keel_domain::time::now().date_naive();
    ItemRow {
        title: i.title.clone(),
        details: i.details.clone().unwrap_or_default(),
        due: i.due_date.map(|d| d.format("%-d %B %Y").to_string()).unwrap_or_default(),
        status: words::item_status(i.status),
        overdue: i.status == ActionItemStatus::Open && i.due_date.is_some_and(|d| d < today),
        note: i.leader_note.clone().unwrap_or_default(),
    }
}

#[derive(Clone, Default, Deserialize)]
pub struct ItemForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub details: String,
    #[serde(default)]
    pub due: String,
}

/// The coach schedules a session.
pub async fn schedule(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<EngagementId>,
    form: web::Form<ScheduleForm>,
) -> Result<HttpResponse, PageError> {
    visitor.check_form(&form.csrf)?;
    let caller = visitor.require()?;
    let id = path.into_inner();
    let typed = form.into_inner();
    let drafts = || Drafts { schedule: Some(typed.clone()), ..Drafts::default() };
    let read = time_field("sessions", "at", &typed.at)
        .and_then(|at| minutes_field("sessions", "minutes", &typed.minutes).map(|minutes| (at, minutes)));
    let (at, minutes) = match read {
        Ok(read) => read,
        Err(refused) => return refused_page(&state, &visitor, id, refused, drafts()).await,
    };
    let request = SessionRequest {
        scheduled_at: at,
        duration_minutes: minutes,
        format: format_field(&typed.format)?,
        kind: None,
        agenda: optional(&typed.agenda),
    };
    let result = state.run(move |conn| keel_commands::sessions::schedule(conn, &caller, id, request)).await;
    answer(&state, &visitor, id, ("sessions".to_owned(), "session"), result, drafts()).await
}

async fn refused_page(
    state: &AppState,
    visitor: &Visitor,
    id: EngagementId,
    refused: Refused,
    drafts: Drafts,
) -> Result<HttpResponse, PageError> {
    super::coach::show_refused(state, visitor, id, (StatusCode::UNPROCESSABLE_ENTITY, refused), drafts).await
}

#[derive(Deserialize)]
pub struct ChangeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    version: String,
    /// `move`, `confirm`, `cancel` or `no_show`.
    #[serde(default)]
    action: String,
    #[serde(default)]
    at: String,
    #[serde(default)]
    minutes: String,
    #[serde(default)]
    reason: String,
}

/// The coach moves, confirms, cancels or marks a session missed.
pub async fn change(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<(EngagementId, SessionId)>,
    form: web::Form<ChangeForm>,
) -> Result<HttpResponse, PageError> {
    visitor.check_form(&form.csrf)?;
    let caller = visitor.require()?;
    let (id, session) = path.into_inner();
    let anchor = format!("session-{session}");
    let changes = match form.action.as_str() {
        "move" => {
            let read = time_field(&anchor, "at", &form.at)
                .and_then(|at| minutes_field(&anchor, "minutes", &form.minutes).map(|minutes| (at, minutes)));
            match read {
                Ok((at, minutes)) => {
                    SessionChanges { scheduled_at: at, duration_minutes: minutes, ..Default::default() }
                }
                Err(refused) => return refused_page(&state, &visitor, id, refused, Drafts::default()).await,
            }
        }
        "confirm" => SessionChanges { status: Some(SessionStatus::Scheduled), ..Default::default() },
        "cancel" | "no_show" => SessionChanges {
            status: Some(if form.action == "cancel" { SessionStatus::Cancelled } else { SessionStatus::NoShow }),
            reason: optional(&form.reason),
            ..Default::default()
        },
        _ => return Err(unreadable()),
    };
    let precondition = opened_at(&form.version);
    let result = state
        .run(move |conn| keel_commands::sessions::change(conn, &caller, (id, session), precondition.as_ref(), &changes))
        .await;
    answer(&state, &visitor, id, (anchor, "session-changed"), result, Drafts::default()).await
}

/// The coach sets homework for the leader.
pub async fn add_item(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<EngagementId>,
    form: web::Form<ItemForm>,
) -> Result<HttpResponse, PageError> {
    visitor.check_form(&form.csrf)?;
    let caller = visitor.require()?;
    let id = path.into_inner();
    let typed = form.into_inner();
    let drafts = || Drafts { item: Some(typed.clone()), ..Drafts::default() };
    let due = match date_field("items", "due_date", &typed.due) {
        Ok(due) => due,
        Err(refused) => return refused_page(&state, &visitor, id, refused, drafts()).await,
    };
    let input = ActionItemChanges {
        title: Some(typed.title.trim().to_owned()),
        details: Some(optional(&typed.details)),
        due_date: Some(due),
        ..ActionItemChanges::default()
    };
    let result = state.run(move |conn| keel_commands::action_items::create(conn, &caller, id, None, &input)).await;
    answer(&state, &visitor, id, ("items".to_owned(), "item"), result, drafts()).await
}

// ---- completing a session ----

/// The homework rows the completion form offers.
const HOMEWORK_ROWS: usize = 3;

/// What the completion form holds (kept whole when anything is refused).
#[derive(Clone, Default, Deserialize)]
pub struct CompleteForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    actual_minutes: String,
    #[serde(default)]
    choice: String,
    #[serde(default)]
    check_in: String,
    #[serde(default)]
    progress_review: String,
    #[serde(default)]
    challenges: String,
    #[serde(default)]
    session_goals: String,
    #[serde(default)]
    action_plan: String,
    #[serde(default)]
    skill_building: String,
    #[serde(default)]
    reflection: String,
    #[serde(default)]
    next_steps: String,
    #[serde(default)]
    shared_summary: String,
    #[serde(default)]
    private_notes: String,
    #[serde(default)]
    hw1_title: String,
    #[serde(default)]
    hw1_details: String,
    #[serde(default)]
    hw1_due: String,
    #[serde(default)]
    hw2_title: String,
    #[serde(default)]
    hw2_details: String,
    #[serde(default)]
    hw2_due: String,
    #[serde(default)]
    hw3_title: String,
    #[serde(default)]
    hw3_details: String,
    #[serde(default)]
    hw3_due: String,
    #[serde(default)]
    next_at: String,
}

impl CompleteForm {
    /// The session plan's parts: field name, label, what was typed.
    fn parts(&self) -> [(&'static str, &'static str, &str); 8] {
        [
            ("check_in", "Check-in", &self.check_in),
            ("progress_review", "Progress since last time", &self.progress_review),
            ("challenges", "Challenges", &self.challenges),
            ("session_goals", "Goals of this session", &self.session_goals),
            ("action_plan", "Action plan", &self.action_plan),
            ("skill_building", "Skill building", &self.skill_building),
            ("reflection", "Reflection", &self.reflection),
            ("next_steps", "Next steps (the agenda of the next session)", &self.next_steps),
        ]
    }

    /// The homework rows: (row number, title, details, due).
    fn homework(&self) -> [(usize, &str, &str, &str); HOMEWORK_ROWS] {
        [
            (1, &self.hw1_title, &self.hw1_details, &self.hw1_due),
            (2, &self.hw2_title, &self.hw2_details, &self.hw2_due),
            (3, &self.hw3_title, &self.hw3_details, &self.hw3_due),
        ]
    }
}

/// An extension request from the completion page, with the completion as typed (kept).
#[derive(Clone, Default, Deserialize)]
pub struct ExtensionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    session: String,
    #[serde(default)]
    hours: String,
    #[serde(default)]
    month: String,
    #[serde(default)]
    reason: String,
    #[serde(flatten)]
    completion: CompleteForm,
}

#[derive(Template)]
#[template(path = "pages/coach_complete.html")]
struct CompletePage {
    chrome: Chrome,
    id: EngagementId,
    session: SessionId,
    title: String,
    when: String,
    planned: String,
    purpose: String,
    agenda: String,
    question: String,
    options: Vec<String>,
    month: LedgerRow,
    form: CompleteForm,
    refused: Option<Refused>,
    /// The month cannot cover the session: the extension form is offered, filled in.
    extension: Option<ExtensionForm>,
    message: Option<&'static str>,
}

impl CompletePage {
    fn field_error(&self, field: &str) -> &str {
        self.refused.as_ref().map_or("", |r| r.error_for(field))
    }
}

fn complete_page(
    visitor: &Visitor,
    data: ToComplete,
    form: Option<CompleteForm>,
    refused: Option<Refused>,
    extension: Option<ExtensionForm>,
    message: Option<&'static str>,
) -> CompletePage {
    let ToComplete { engagement, session, month, planned } = data;
    let form = form.unwrap_or_else(|| CompleteForm {
        actual_minutes: session.duration_minutes.to_string(),
        ..CompleteForm::default()
    });
    CompletePage {
        chrome: visitor.chrome(),
        id: engagement.id,
        session: session.id,
        title: engagement.title.clone(),
        when: when(session.scheduled_at),
        planned: session.plan_title.clone().unwrap_or_default(),
        purpose: planned.as_ref().and_then(|p| p.purpose.clone()).unwrap_or_default(),
        agenda: session.agenda.clone().unwrap_or_default(),
        question: planned.as_ref().and_then(|p| p.choice.as_ref()).map(|c| c.question.clone()).unwrap_or_default(),
        options: planned.as_ref().and_then(|p| p.choice.as_ref()).map(|c| c.options.clone()).unwrap_or_default(),
        month: ledger_row(&month),
        form,
        refused,
        extension,
        message,
    }
}

async fn load_completion(
    state: &AppState,
    visitor: &Visitor,
    key: (EngagementId, SessionId),
) -> Result<ToComplete, PageError> {
    let caller = visitor.require()?;
    Ok(state.run(move |conn| keel_commands::coach::to_complete(conn, &caller, key)).await?)
}

pub async fn completion_form(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<(EngagementId, SessionId)>,
) -> Result<HttpResponse, PageError> {
    let data = load_completion(&state, &visitor, path.into_inner()).await?;
    Ok(visitor.finish(render(StatusCode::OK, &complete_page(&visitor, data, None, None, None, None))?))
}

/// What the completion form asks the command for, or why it cannot be read.
fn completion(form: &CompleteForm) -> Result<Completion, Refused> {
    let actual_minutes =
        minutes_field("complete", "actual_duration_minutes", &form.actual_minutes)?.ok_or_else(|| {
            Refused::unreadable("complete", "the length", "actual_duration_minutes", "how long it took, in minutes")
        })?;
    let mut homework = Vec::new();
    for (row, title, details, due) in form.homework() {
        if title.trim().is_empty() && details.trim().is_empty() && due.trim().is_empty() {
            continue;
        }
        let due = date_field("complete", &format!("homework[{}].due_date", row - 1), due)?;
        homework.push(ActionItemChanges {
            title: Some(title.trim().to_owned()),
            details: Some(optional(details)),
            due_date: Some(due),
            ..ActionItemChanges::default()
        });
    }
    let next_at = time_field("complete", "next_session.scheduled_at", &form.next_at)?;
    Ok(Completion {
        actual_minutes,
        content: SessionContent {
            check_in: optional(&form.check_in),
            progress_review: optional(&form.progress_review),
            challenges: optional(&form.challenges),
            session_goals: optional(&form.session_goals),
            action_plan: optional(&form.action_plan),
            skill_building: optional(&form.skill_building),
            reflection: optional(&form.reflection),
            next_steps: optional(&form.next_steps),
            shared_summary: optional(&form.shared_summary),
            private_notes: optional(&form.private_notes),
        },
        choice: optional(&form.choice),
        homework,
        next_session: next_at.map(|at| SessionRequest { scheduled_at: Some(at), ..SessionRequest::default() }),
    })
}

/// The extension a month that cannot cover the session needs, filled in for the coach.
fn extension_for(data: &ToComplete, form: &CompleteForm) -> ExtensionForm {
    let minutes = form.actual_minutes.trim().parse::<i64>().unwrap_or(i64::from(data.session.duration_minutes));
    let short = data.month.shortfall_minutes(minutes);
    ExtensionForm {
        session: data.session.id.to_string(),
        hours: hours(short),
        month: data.month.month.to_string(),
        completion: form.clone(),
        ..ExtensionForm::default()
    }
}

pub async fn complete(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<(EngagementId, SessionId)>,
    form: web::Form<CompleteForm>,
) -> Result<HttpResponse, PageError> {
    visitor.check_form(&form.csrf)?;
    let caller = visitor.require()?;
    let key = path.into_inner();
    let typed = form.into_inner();
    let (status, refused) = match completion(&typed) {
        Err(refused) => (StatusCode::UNPROCESSABLE_ENTITY, refused),
        Ok(completion) => {
            let done = state.run(move |conn| keel_commands::sessions::complete(conn, &caller, key, &completion)).await;
            match refused_by(done, "complete")? {
                Ok(_) => {
                    let (id, session) = key;
                    let to = format!("/engagements/{id}?saved=completed#session-{session}");
                    return Ok(super::see_other(&to));
                }
                // The month cannot cover the session: the extension is offered with the refusal.
                Err((status, refused)) if refused.code.as_deref() == Some("over_budget") => {
                    (status, Refused { form: "over_budget".to_owned(), ..refused })
                }
                Err(refused) => refused,
            }
        }
    };
    let data = load_completion(&state, &visitor, key).await?;
    let extension = (refused.form == "over_budget").then(|| extension_for(&data, &typed));
    let page = complete_page(&visitor, data, Some(typed), Some(refused), extension, None);
    Ok(visitor.finish(render(status, &page)?))
}

/// The coach asks the sponsors for more hours, from the completion page: the completion typed
/// so far is shown again, whatever the answer.
pub async fn request_extension(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<EngagementId>,
    form: web::Form<ExtensionForm>,
) -> Result<HttpResponse, PageError> {
    visitor.check_form(&form.csrf)?;
    let caller = visitor.require()?;
    let id = path.into_inner();
    let typed = form.into_inner();
    let session: SessionId = typed.session.parse().map_err(|_| unreadable())?;
    let asked = match typed.hours.trim().replace(',', ".").parse::<f64>() {
        Ok(hours) => {
            let input = keel_commands::extensions::ExtensionInput {
                hours,
                month: typed.month.trim().to_owned(),
                new_planned_end_date: None,
                reason: typed.reason.trim().to_owned(),
            };
            let links = state.pages.links.clone();
            let result =
                state.run(move |conn| keel_commands::extensions::request(conn, &caller, id, &input, &links)).await;
            refused_by(result, "over_budget")?.map(|_| ())
        }
        Err(_) => Err((
            StatusCode::UNPROCESSABLE_ENTITY,
            Refused::unreadable("over_budget", "the hours", "hours", "a number of hours, such as 1.5"),
        )),
    };
    let (status, refused, message) = match asked {
        Ok(()) => (
            StatusCode::OK,
            None,
            Some("The extension is requested: the sponsors are mailed. Once one approves, complete the session."),
        ),
        Err((status, refused)) => (status, Some(refused), None),
    };
    let data = load_completion(&state, &visitor, (id, session)).await?;
    let extension = refused.as_ref().map(|_| typed.clone());
    let page = complete_page(&visitor, data, Some(typed.completion), refused, extension, message);
    Ok(visitor.finish(render(status, &page)?))
}
