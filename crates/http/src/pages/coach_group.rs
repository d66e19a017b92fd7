//! A group as its coach runs it (docs/access.md, groups): sessions scheduled, moved and
//! cancelled, completed with attendance taken from a checklist of the people in the group, the
//! shared summary and private notes; each participant's own outcomes and action items set. Every
//! form calls the API's command with the coach as the caller; a refused form comes back with its
//! reason and what was typed.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{NaiveDate, NaiveDateTime};
use keel_commands::coach::GroupDesk;
use keel_commands::groups::{GroupCompletion, NewGroupItem};
use keel_domain::coaching::SessionFormat;
use keel_domain::group::{GroupItemStatus, GroupSessionStatus};
use keel_domain::{GroupId, GroupSessionId, UserId};

use super::coach::{optional, unreadable};
use super::designs::when;
use super::extensions::hours;
use super::{Chrome, PageError, Visitor, render, see_other};
use crate::problem::ApiError;
use crate::state::AppState;

type Fields = web::Form<Vec<(String, String)>>;

/// A refused form: its anchor, why, and what was typed in it.
type Refusal = (String, String, Vec<(String, String)>);

fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
}

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
    /// The refused form (its anchor), why, and what was typed in it.
    refused: Option<Refusal>,
}

impl DeskPage {
    /// What was typed in `field` of the refused form `form`, or "".
    fn typed(&self, form: &str, name: &str) -> &str {
        self.refused.as_ref().filter(|(f, _, _)| f == form).map_or("", |(_, _, fields)| field(fields, name))
    }

    fn refused_on(&self, form: &str) -> Option<&str> {
        self.refused.as_ref().filter(|(f, _, _)| f == form).map(|(_, text, _)| text.as_str())
    }

    /// Whether `who` was ticked as present on the refused completion of session form `form`
    /// (everyone is ticked on a fresh form).
    fn ticked(&self, form: &str, who: &UserId) -> bool {
        match self.refused.as_ref().filter(|(f, _, _)| f == form) {
            Some((_, _, fields)) => fields.iter().any(|(k, v)| k == "attended" && *v == who.to_string()),
            None => true,
        }
    }
}

fn format_label(format: SessionFormat) -> &'static str {
    match format {
        SessionFormat::InPerson => "In person",
        SessionFormat::Video => "Video",
        SessionFormat::Phone => "Phone",
        SessionFormat::Text => "Text",
    }
}

fn page(visitor: &Visitor, desk: GroupDesk, message: Option<&'static str>, refused: Option<Refusal>) -> DeskPage {
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
                    format: format_label(s.session.format),
                    status: match s.session.status {
                        GroupSessionStatus::Scheduled => "Scheduled",
                        GroupSessionStatus::Completed => "Completed",
                        GroupSessionStatus::Cancelled => "Cancelled",
                    },
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
                        let status = if i.status == GroupItemStatus::Done { "Done" } else { "To do" };
                        let due = i.due_date.map(|d| format!("due {}", d.format("%-d %B %Y"))).unwrap_or_default();
                        (i.title.clone(), status, due)
                    })
                    .collect(),
            })
            .collect(),
        message,
        refused,
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
    let (status, text) = match result {
        Ok(_) => return Ok(see_other(&format!("/groups/{id}?saved={saved}#{form}"))),
        Err(ApiError::Problem(problem)) if matches!(problem.status, 409 | 412 | 422) => super::refusal(&problem),
        Err(other) => return Err(other.into()),
    };
    refused(state, visitor, id, status, (form, text, fields)).await
}

async fn refused(
    state: &AppState,
    visitor: &Visitor,
    id: GroupId,
    status: StatusCode,
    refusal: Refusal,
) -> Result<HttpResponse, PageError> {
    match load(state, visitor, id).await? {
        Ok(desk) => Ok(visitor.finish(render(status, &page(visitor, desk, None, Some(refusal)))?)),
        Err(_) => Err(PageError::not_found()),
    }
}

fn time(text: &str) -> Option<keel_domain::time::Timestamp> {
    NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%dT%H:%M").ok().map(|t| t.and_utc())
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
    let (Some(at), Ok(minutes)) = (time(field(&fields, "at")), field(&fields, "minutes").trim().parse::<u32>()) else {
        let text = "Nothing was saved: give the time (UTC) and the length in minutes.".to_owned();
        return refused(&state, &visitor, id, StatusCode::UNPROCESSABLE_ENTITY, ("sessions".to_owned(), text, fields))
            .await;
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
        "move" => match time(field(&fields, "at")) {
            Some(at) => (Some(at), None, None),
            None => {
                let text = "Nothing was saved: give the new time (UTC).".to_owned();
                return refused(&state, &visitor, id, StatusCode::UNPROCESSABLE_ENTITY, (anchor, text, fields)).await;
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
    let Ok(actual_minutes) = field(&fields, "actual_minutes").trim().parse::<u32>() else {
        let text = "Nothing was saved: give how long the session took, in minutes.".to_owned();
        return refused(&state, &visitor, id, StatusCode::UNPROCESSABLE_ENTITY, (anchor, text, fields)).await;
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
    let due = match field(&fields, "due").trim() {
        "" => None,
        text => match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            Ok(date) => Some(date),
            Err(_) => {
                let text = "Nothing was saved: the due date could not be read (2026-12-07).".to_owned();
                return refused(&state, &visitor, id, StatusCode::UNPROCESSABLE_ENTITY, (anchor, text, fields)).await;
            }
        },
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
