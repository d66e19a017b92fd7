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
}

pub async fn home(state: web::Data<AppState>, visitor: Visitor) -> Result<HttpResponse, PageError> {
    let caller = visitor.require()?;
    let (mine, groups) = state
        .run(move |conn| {
            Ok((keel_commands::pages::my_engagements(conn, &caller)?, keel_commands::groups::mine(conn, &caller)?))
        })
        .await?;
    let groups = groups
        .into_iter()
        .map(|(g, role)| GroupView { name: g.name.clone(), href: format!("/groups/{}", g.id), role })
        .collect();
    let engagements = mine
        .into_iter()
        .map(|m| EngagementView {
            title: m.engagement.title.clone(),
            href: format!("/engagements/{}", m.engagement.id),
            role: m.role,
            phase: m.engagement.phase.label(),
            waiting: m.waiting.iter().map(todo).collect(),
            next: m.next.clone(),
        })
        .collect();
    Ok(visitor.finish(render(StatusCode::OK, &Home { chrome: visitor.chrome(), engagements, groups })?))
}
