//! A group's page: for a participant (present or former), the group's sessions with their agenda
//! and shared summary, and their own outcomes and action items (marked done here); for the coach,
//! the sponsor, the hr_partner or an admin, the schedule, attendance and hours — never another
//! participant's items, and for sponsors, hr_partners and admins no content (the policy decides
//! through the same queries as the API).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use keel_commands::groups::GroupPage;
use keel_domain::group::{GroupItemStatus, Participation};
use keel_domain::{GroupActionItemId, GroupId};
use serde::Deserialize;

use super::designs::when;
use super::extensions::hours;
use super::words;
use super::{Chrome, PageError, Visitor, after_form, render};
use crate::state::AppState;

struct SessionView {
    when: String,
    minutes: u32,
    format: String,
    status: &'static str,
    attendance: String,
    agenda: String,
    summary: String,
}

struct OutcomeView {
    title: String,
    detail: String,
}

struct ItemView {
    title: String,
    details: String,
    due: String,
    status: &'static str,
    open: bool,
    action: String,
}

#[derive(Template)]
#[template(path = "pages/group.html")]
struct Page {
    chrome: Chrome,
    name: String,
    standing: &'static str,
    kind: &'static str,
    coach: String,
    participants: usize,
    size: u32,
    dates: String,
    hours_used: String,
    hours_budget: String,
    sessions: Vec<SessionView>,
    participant: bool,
    current: bool,
    outcomes: Vec<OutcomeView>,
    items: Vec<ItemView>,
    message: Option<String>,
    error: Option<String>,
}

fn page(visitor: &Visitor, data: GroupPage, message: Option<String>, error: Option<String>) -> Page {
    let GroupPage { seen, sessions, coach, hours: ledger, mine } = data;
    let group = &seen.group;
    let me = visitor.person.as_ref().map(|p| p.id);
    let standing = match seen.participation {
        Participation::Current => "You take part in this group.",
        Participation::Former => "You took part in this group.",
        Participation::Never if me == Some(group.coach_id) => "You coach this group.",
        Participation::Never if me == Some(group.sponsor_id) => "You sponsor this group.",
        Participation::Never => "You follow this group for the organization.",
    };
    let today = keel_domain::time::now().date_naive();
    let so_far: Vec<_> = ledger.iter().filter(|m| m.month.first_day() <= today).collect();
    let (outcomes, items) = mine.unwrap_or_default();
    Page {
        chrome: visitor.chrome(),
        name: group.name.clone(),
        standing,
        kind: match group.kind {
            keel_domain::group::GroupKind::Cohort => "A cohort of individuals",
            keel_domain::group::GroupKind::Team => "A team with its leader",
        },
        coach,
        participants: seen.memberships.iter().filter(|m| m.is_current()).count(),
        size: group.max_participants,
        dates: format!("{} to {}", group.start_date.format("%-d %B %Y"), group.planned_end_date.format("%-d %B %Y")),
        hours_used: hours(so_far.iter().map(|m| m.used_minutes).sum()),
        hours_budget: hours(so_far.iter().map(|m| m.available_minutes()).sum()),
        sessions: sessions
            .iter()
            .map(|s| {
                let came = s.attendance.iter().filter(|a| a.attended).count();
                SessionView {
                    when: when(s.session.scheduled_at),
                    minutes: s.session.duration_minutes,
                    format: words::session_format(s.session.format).to_owned(),
                    status: words::group_session_status(s.session.status),
                    attendance: if s.attendance.is_empty() {
                        String::new()
                    } else {
                        format!("{came} of {} attended", s.attendance.len())
                    },
                    agenda: if s.view.content { s.session.agenda.clone().unwrap_or_default() } else { String::new() },
                    summary: if s.view.content {
                        s.session.shared_summary.clone().unwrap_or_default()
                    } else {
                        String::new()
                    },
                }
            })
            .collect(),
        participant: seen.participation != Participation::Never,
        current: seen.participation == Participation::Current,
        outcomes: outcomes
            .iter()
            .map(|o| OutcomeView {
                title: o.title.clone(),
                detail: match (&o.baseline, &o.target) {
                    (Some(b), Some(t)) => format!("{b} → {t}"),
                    _ => o.measure.clone().unwrap_or_default(),
                },
            })
            .collect(),
        items: items
            .iter()
            .filter(|i| i.status != GroupItemStatus::Dropped)
            .map(|i| ItemView {
                title: i.title.clone(),
                details: i.details.clone().unwrap_or_default(),
                due: i.due_date.map(|d| d.format("%-d %B %Y").to_string()).unwrap_or_default(),
                status: words::group_item_status(i.status),
                open: i.status == GroupItemStatus::Open,
                action: format!("/groups/{}/action-items/{}/done", group.id, i.id),
            })
            .collect(),
        message,
        error,
    }
}

async fn load(state: &AppState, visitor: &Visitor, id: GroupId) -> Result<GroupPage, PageError> {
    let caller = visitor.require()?;
    Ok(state.run(move |conn| keel_commands::groups::page(conn, &caller, id)).await?)
}

#[derive(Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    done: Option<String>,
    #[serde(default)]
    saved: Option<String>,
}

/// The group's page: the coach's desk for its coach, the page below for everyone else.
pub async fn group(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<GroupId>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, PageError> {
    let data = match super::coach_group::load(&state, &visitor, path.into_inner()).await? {
        Ok(desk) => return super::coach_group::render_desk(&visitor, desk, query.saved.as_deref()),
        Err(data) => data,
    };
    let message = query.done.as_ref().map(|_| "Marked done. Your coach will see it.".to_owned());
    Ok(visitor.finish(render(StatusCode::OK, &page(&visitor, data, message, None))?))
}

#[derive(Deserialize)]
pub struct DoneForm {
    #[serde(default)]
    csrf: String,
}

/// A participant marks their own action item done, through the API's command.
pub async fn item_done(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<(GroupId, GroupActionItemId)>,
    form: web::Form<DoneForm>,
) -> Result<HttpResponse, PageError> {
    visitor.check_form(&form.csrf)?;
    let caller = visitor.require()?;
    let Some(me) = visitor.person.as_ref().map(|p| p.id) else { return Err(PageError::not_found()) };
    let (id, item) = path.into_inner();
    let done = state
        .run(move |conn| keel_commands::groups::update_item(conn, &caller, (id, me, item), None, GroupItemStatus::Done))
        .await;
    let (status, error) = match after_form(done, &format!("/groups/{id}?done=1"))? {
        Ok(redirect) => return Ok(redirect),
        Err(refused) => refused,
    };
    let data = load(&state, &visitor, id).await?;
    Ok(visitor.finish(render(status, &page(&visitor, data, None, Some(error)))?))
}
