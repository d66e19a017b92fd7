//! A group as its coach runs it (docs/access.md, groups): sessions scheduled, moved and
//! cancelled, completed with attendance taken from a checklist of the people in the group, the
//! shared summary and private notes; each participant's own outcomes and action items set. Every
//! form calls the API's command with the coach as the caller; a refused form comes back with its
//! reason and what was typed.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use keel_commands::coach::GroupDesk;
use keel_commands::groups::{GroupCompletion, NewGroupItem};
use keel_domain::coaching::SessionFormat;
use keel_domain::group::{GroupItemStatus, GroupSessionStatus};
use keel_domain::{GroupId, GroupSessionId, UserId};

use super::designs::when;
use super::extensions::hours;
use super::forms::{Fields, Refused, date_field, field, minutes_field, optional, refused_by, time_field, unreadable};
use super::words;
use super::{Chrome, PageError, Visitor, render, see_other};
use crate::problem::ApiError;
use crate::state::AppState;

struct SessionCard {
    id: GroupSessionId,
    when: String,
    at: String,
    minutes: u32,
    format: &'static str,
    status: &'static str,
    open: bool,
    attendance: String,
    agenda: String,
    summary: String,
    notes: String,
}

struct ParticipantCard {
    id: UserId,
    name: String,
    outcomes: Vec<String>,
    items: Vec<(String, &'static str, String)>,
}

#[derive(Template)]
#[template(path = "pages/coach_group.html")]
struct DeskPage {
    chrome: Chrome,
    id: GroupId,
    name: String,
    participants_count: usize,
    size: u32,
    dates: String,
    hours_used: String,
    hours_budget: String,
    sessions: Vec<SessionCard>,
    participants: Vec<ParticipantCard>,
    message: Option<&'static str>,
    refused: Option<Refused>,
    /// What was typed in the refused form.
    typed: Vec<(String, String)>,
}

impl DeskPage {
    /// What was typed in `name` of the refused form `form`, or "".
    fn typed(&self, form: &str, name: &str) -> &str {
        if self.refused_on(form).is_some() { field(&self.typed, name) } else { "" }
    }

    fn refused_on(&self, form: &str) -> Option<&str> {
        self.refused.as_ref().filter(|r| r.form == form).map(|r| r.text.as_str())
    }

    /// Whether `who` was ticked as present on the refused completion `form` (everyone is ticked
    /// on a fresh form).
    fn ticked(&self, form: &str, who: &UserId) -> bool {
        self.refused_on(form).is_none() || self.typed.iter().any(|(k, v)| k == "attended" && *v == who.to_string())
    }
}

fn page(
    visitor: &Visitor,
    desk: GroupDesk,
    message: Option<&'static str>,
    refused: Option<(Refused, Vec<(String, String)>)>,
) -> DeskPage {
    let GroupDesk { page, participants, outcomes, items } = desk;
    let group = &page.seen.group;
    let today = keel_domain::time::now().date_naive();
    let so_far: Vec<_> = page.hours.iter().filter(|m| m.month.first_day() <= today).collect();
    DeskPage {
        chrome: visitor.chrome(),
        id: group.id,
        name: group.name.clone(),
        participants_count: participants.len(),
        size: group.max_participants,
        dates: format!("{} to {}", group.start_date.format("%-d %B %Y"), group.planned_end_date.format("%-d %B %Y")),
        hours_used: hours(so_far.iter().map(|m| m.used_minutes).sum()),
        hours_budget: hours(so_far.iter().map(|m| m.available_minutes()).sum()),
        sessions: page
            .sessions
            .iter()
            .map(|s| {
                let came = s.attendance.iter().filter(|a| a.attended).count();
                SessionCard {
                    id: s.session.id,
                    when: when(s.session.scheduled_at),
                    at: s.session.scheduled_at.format("%Y-%m-%dT%H:%M").to_string(),
                    minutes: s.session.duration_minutes,
                    format: words::session_format(s.session.format),
                    status: words::group_session_status(s.session.status),
                    open: s.session.status == GroupSessionStatus::Scheduled,
                    attendance: if s.attendance.is_empty() {
                        String::new()
                    } else {
                        format!("{came} of {} attended", s.attendance.len())
                    },
                    agenda: s.session.agenda.clone().unwrap_or_default(),
                    summary: s.session.shared_summary.clone().unwrap_or_default(),
                    notes: if s.view.private_notes {
                        s.session.private_notes.clone().unwrap_or_default()
                    } else {
                        String::new()
                    },
                }
            })
            .collect(),
        participants: participants
            .into_iter()
            .map(|(id, name)| ParticipantCard {
                id,
                name,
                outcomes: outcomes
                    .iter()
                    .filter(|o| o.participant_id == id)
                    .map(|o| match (&o.baseline, &o.target) {
                        (Some(b), Some(t)) => format!("{}: {b} → {t}", o.title),
                        _ => o.title.clone(),
                    })
                    .collect(),
                items: items
                    .iter()
                    .filter(|i| i.participant_id == id && i.status != GroupItemStatus::Dropped)
                    .map(|i| {
                        let status = words::group_item_status(i.status);
                        let due = i.due_date.map(|d| format!("due {}", d.format("%-d %B %Y"))).unwrap_or_default();
                        (i.title.clone(), status, due)
                    })
                    .collect(),
            })
            .collect(),
        message,
        typed: refused.as_ref().map(|(_, typed)| typed.clone()).unwrap_or_default(),
        refused: refused.map(|(refused, _)| refused),
    }
}

/// The coach's desk of group `id`, or the person's ordinary page of it (`Err`).
pub(super) async fn load(
    state: &AppState,
    visitor: &Visitor,
    id: GroupId,
) -> Result<Result<GroupDesk, keel_commands::groups::GroupPage>, PageError> {
    let caller = visitor.require()?;
    Ok(state
        .run(move |conn| {
            let page = keel_commands::groups::page(conn, &caller, id)?;
            keel_commands::coach::group_desk(conn, &caller, page)
        })
        .await?)
}

pub(super) fn render_desk(visitor: &Visitor, desk: GroupDesk, saved: Option<&str>) -> Result<HttpResponse, PageError> {
    let message = saved.and_then(|saved| match saved {
        "session" => Some("The session is scheduled."),
        "changed" => Some("The session is changed."),
        "completed" => Some("The session is completed: its hours count once, and attendance is recorded."),
        "outcome" => Some("The outcome is set: only that participant and you see it."),
        "item" => Some("The action item is set: only that participant and you see it."),
        _ => None,
    });
    Ok(visitor.finish(render(StatusCode::OK, &page(visitor, desk, message, None))?))
}

/// A command's answer to one of the desk's forms: on to the desk (303), or the desk again with
/// the refusal and what was typed.
async fn answer<T>(
    state: &AppState,
    visitor: &Visitor,
    id: GroupId,
    (form, saved): (String, &str),
    result: Result<T, ApiError>,
    fields: Vec<(String, String)>,
) -> Result<HttpResponse, PageError> {
    match refused_by(result, &form)? {
        Ok(_) => Ok(see_other(&format!("/groups/{id}?saved={saved}#{form}"))),
        Err((status, refusal)) => refused(state, visitor, id, status, (refusal, fields)).await,
    }
}

async fn refused(
    state: &AppState,
    visitor: &Visitor,
    id: GroupId,
    status: StatusCode,
    refusal: (Refused, Vec<(String, String)>),
) -> Result<HttpResponse, PageError> {
    match load(state, visitor, id).await? {
        Ok(desk) => Ok(visitor.finish(render(status, &page(visitor, desk, None, Some(refusal)))?)),
        Err(_) => Err(PageError::not_found()),
    }
}

/// The time the form must hold (UTC).
fn required_time(form: &str, fields: &[(String, String)]) -> Result<keel_domain::time::Timestamp, Refused> {
    time_field(form, "at", field(fields, "at"))?
        .ok_or_else(|| Refused::unreadable(form, "the time", "at", "a date and time, UTC"))
}

/// Minutes the form must hold.
fn required_minutes(form: &str, name: &str, fields: &[(String, String)]) -> Result<u32, Refused> {
    minutes_field(form, name, field(fields, name))?
        .ok_or_else(|| Refused::unreadable(form, "the length", name, "a whole number of minutes"))
}

/// The coach schedules a group session.
pub async fn schedule(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<GroupId>,
    form: Fields,
) -> Result<HttpResponse, PageError> {
    let fields = form.into_inner();
    visitor.check_form(field(&fields, "csrf"))?;
    let caller = visitor.require()?;
    let id = path.into_inner();
    let read = required_time("sessions", &fields)
        .and_then(|at| required_minutes("sessions", "minutes", &fields).map(|minutes| (at, minutes)));
    let (at, minutes) = match read {
        Ok(read) => read,
        Err(refusal) => {
            return refused(&state, &visitor, id, StatusCode::UNPROCESSABLE_ENTITY, (refusal, fields)).await;
        }
    };
    let format = field(&fields, "format").parse::<SessionFormat>().map_err(|_| unreadable())?;
    let agenda = optional(field(&fields, "agenda"));
    let result =
        state.run(move |conn| keel_commands::groups::schedule(conn, &caller, id, (at, minutes, format, agenda))).await;
    answer(&state, &visitor, id, ("sessions".to_owned(), "session"), result, fields).await
}

/// The coach moves or cancels a group session.
pub async fn change(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<(GroupId, GroupSessionId)>,
    form: Fields,
) -> Result<HttpResponse, PageError> {
    let fields = form.into_inner();
    visitor.check_form(field(&fields, "csrf"))?;
    let caller = visitor.require()?;
    let (id, session) = path.into_inner();
    let anchor = format!("session-{session}");
    let change = match field(&fields, "action") {
        "move" => match required_time(&anchor, &fields) {
            Ok(at) => (Some(at), None, None),
            Err(refusal) => {
                return refused(&state, &visitor, id, StatusCode::UNPROCESSABLE_ENTITY, (refusal, fields)).await;
            }
        },
        "cancel" => (None, Some(GroupSessionStatus::Cancelled), optional(field(&fields, "reason"))),
        _ => return Err(unreadable()),
    };
    let result =
        state.run(move |conn| keel_commands::groups::change_session(conn, &caller, (id, session), None, change)).await;
    answer(&state, &visitor, id, (anchor, "changed"), result, fields).await
}

/// The coach completes a group session with its attendance.
pub async fn complete(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<(GroupId, GroupSessionId)>,
    form: Fields,
) -> Result<HttpResponse, PageError> {
    let fields = form.into_inner();
    visitor.check_form(field(&fields, "csrf"))?;
    let caller = visitor.require()?;
    let (id, session) = path.into_inner();
    let anchor = format!("session-{session}");
    let actual_minutes = match required_minutes(&anchor, "actual_minutes", &fields) {
        Ok(minutes) => minutes,
        Err(refusal) => {
            return refused(&state, &visitor, id, StatusCode::UNPROCESSABLE_ENTITY, (refusal, fields)).await;
        }
    };
    let attended = fields
        .iter()
        .filter(|(k, _)| k == "attended")
        .map(|(_, v)| v.parse::<UserId>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| unreadable())?;
    let completion = GroupCompletion {
        actual_minutes,
        shared_summary: optional(field(&fields, "shared_summary")),
        private_notes: optional(field(&fields, "private_notes")),
        attended,
    };
    let result =
        state.run(move |conn| keel_commands::groups::complete_session(conn, &caller, (id, session), &completion)).await;
    answer(&state, &visitor, id, (anchor, "completed"), result, fields).await
}

/// The coach sets a participant's own outcome.
pub async fn add_outcome(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<(GroupId, UserId)>,
    form: Fields,
) -> Result<HttpResponse, PageError> {
    let fields = form.into_inner();
    visitor.check_form(field(&fields, "csrf"))?;
    let caller = visitor.require()?;
    let (id, participant) = path.into_inner();
    let input = (
        field(&fields, "title").trim().to_owned(),
        optional(field(&fields, "measure")),
        optional(field(&fields, "baseline")),
        optional(field(&fields, "target")),
    );
    let result =
        state.run(move |conn| keel_commands::groups::add_outcome(conn, &caller, (id, participant), input)).await;
    answer(&state, &visitor, id, (format!("outcome-{participant}"), "outcome"), result, fields).await
}

/// The coach sets a participant's own action item.
pub async fn add_item(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<(GroupId, UserId)>,
    form: Fields,
) -> Result<HttpResponse, PageError> {
    let fields = form.into_inner();
    visitor.check_form(field(&fields, "csrf"))?;
    let caller = visitor.require()?;
    let (id, participant) = path.into_inner();
    let anchor = format!("item-{participant}");
    let due = match date_field(&anchor, "due", field(&fields, "due")) {
        Ok(due) => due,
        Err(refusal) => {
            return refused(&state, &visitor, id, StatusCode::UNPROCESSABLE_ENTITY, (refusal, fields)).await;
        }
    };
    let input = NewGroupItem {
        session_id: None,
        title: field(&fields, "title").trim().to_owned(),
        details: optional(field(&fields, "details")),
        due_date: due,
    };
    let result = state.run(move |conn| keel_commands::groups::add_item(conn, &caller, (id, participant), &input)).await;
    answer(&state, &visitor, id, (anchor, "item"), result, fields).await
}
