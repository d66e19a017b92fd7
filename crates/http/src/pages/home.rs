//! A signed-in person's programs: each engagement they take part in, their part in it, its
//! phase, and what waits for their decision.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use keel_commands::pages::Waiting;

use super::{Chrome, PageError, Visitor, render};
use crate::state::AppState;

pub(super) struct Todo {
    pub href: String,
    pub label: String,
}

/// A person's part in a program or group, in words.
fn part(role: &str) -> &'static str {
    match role {
        "leader" => "You are the leader",
        "sponsor" => "You sponsor it",
        "coach" => "You coach it",
        "participant" => "You take part",
        _ => "You follow it",
    }
}

pub(super) fn todo(waiting: &Waiting) -> Todo {
    match waiting {
        Waiting::Design { engagement, version } => Todo {
            href: format!("/engagements/{engagement}/designs/{version}"),
            label: format!("Program design version {version} waits for your decision"),
        },
        Waiting::Extension { engagement, extension, minutes } => Todo {
            href: format!("/engagements/{engagement}/extensions/{extension}"),
            label: format!("A request for {} extra hours waits for your decision", super::extensions::hours(*minutes)),
        },
    }
}

struct EngagementView {
    title: String,
    href: String,
    role: &'static str,
    phase: &'static str,
    waiting: Vec<Todo>,
    next: Option<String>,
}

/// A session of the coming week, across the coach's programs.
struct WeekView {
    when: String,
    title: String,
    href: String,
}

/// A choice of a filter: its value, its words, and whether it is chosen.
struct Choice {
    value: String,
    label: String,
    chosen: bool,
}

/// `?phase=…&organization=…`: the programs shown.
#[derive(serde::Deserialize)]
pub struct HomeQuery {
    #[serde(default)]
    phase: String,
    #[serde(default)]
    organization: String,
    /// The hr_partner's list: a coach, stuck only, a page.
    #[serde(default)]
    coach: String,
    #[serde(default)]
    stuck: String,
    #[serde(default)]
    page: String,
}

struct GroupView {
    name: String,
    href: String,
    role: &'static str,
}

#[derive(Template)]
#[template(path = "pages/home.html")]
struct Home {
    chrome: Chrome,
    engagements: Vec<EngagementView>,
    groups: Vec<GroupView>,
    this_week: Vec<WeekView>,
    /// Filters, offered once there are programs to tell apart.
    phases: Vec<Choice>,
    organizations: Vec<Choice>,
    filtered: bool,
}

pub async fn home(
    state: web::Data<AppState>,
    visitor: Visitor,
    query: web::Query<HomeQuery>,
) -> Result<HttpResponse, PageError> {
    let caller = visitor.require()?;
    if let Some(organization) = keel_commands::hr::workspace(&caller) {
        let q = query.into_inner();
        let list = super::hr::ListQuery { phase: q.phase, coach: q.coach, stuck: q.stuck, page: q.page };
        return super::hr::home(state, visitor, caller, organization, list).await;
    }
    let (mine, groups) = state
        .run(move |conn| {
            Ok((keel_commands::pages::my_engagements(conn, &caller)?, keel_commands::groups::mine(conn, &caller)?))
        })
        .await?;
    let groups = groups
        .into_iter()
        .map(|(g, role)| GroupView { name: g.name.clone(), href: format!("/groups/{}", g.id), role: part(role) })
        .collect();
    let mut phases: Vec<Choice> = Vec::new();
    let mut organizations: Vec<Choice> = Vec::new();
    for m in &mine {
        let phase = m.engagement.phase.as_str();
        if !phases.iter().any(|c| c.value == phase) {
            let label = m.engagement.phase.label().to_owned();
            phases.push(Choice { value: phase.to_owned(), label, chosen: query.phase == phase });
        }
        let org = m.engagement.organization_id.to_string();
        if !organizations.iter().any(|c| c.value == org) {
            let chosen = query.organization == org;
            organizations.push(Choice { value: org, label: m.organization.clone(), chosen });
        }
    }
    let shown: Vec<_> = mine
        .iter()
        .filter(|m| query.phase.is_empty() || m.engagement.phase.as_str() == query.phase)
        .filter(|m| query.organization.is_empty() || m.engagement.organization_id.to_string() == query.organization)
        .collect();
    let mut this_week: Vec<(keel_domain::time::Timestamp, WeekView)> = shown
        .iter()
        .flat_map(|m| {
            m.this_week.iter().map(|s| {
                let view = WeekView {
                    when: s.scheduled_at.format("%A %-d %B, %H:%M UTC").to_string(),
                    title: m.engagement.title.clone(),
                    href: format!("/engagements/{}#session-{}", m.engagement.id, s.id),
                };
                (s.scheduled_at, view)
            })
        })
        .collect();
    this_week.sort_by_key(|(at, _)| *at);
    let engagements = shown
        .into_iter()
        .map(|m| EngagementView {
            title: m.engagement.title.clone(),
            href: format!("/engagements/{}", m.engagement.id),
            role: part(m.role),
            phase: m.engagement.phase.label(),
            waiting: m.waiting.iter().map(todo).collect(),
            next: m.next.clone(),
        })
        .collect();
    let page = Home {
        chrome: visitor.chrome(),
        engagements,
        groups,
        this_week: this_week.into_iter().map(|(_, v)| v).collect(),
        filtered: !query.phase.is_empty() || !query.organization.is_empty(),
        phases: if mine.len() > 1 { phases } else { Vec::new() },
        organizations: if organizations.len() > 1 { organizations } else { Vec::new() },
    };
    Ok(visitor.finish(render(StatusCode::OK, &page)?))
}
