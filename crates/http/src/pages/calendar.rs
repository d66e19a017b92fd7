//! `/home/calendar`: a person's calendar feed address (docs/calendar.md), made, rotated and
//! stopped through the API's commands; a new address is shown once, on the answer to the form.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use keel_domain::UserId;
use keel_domain::time::Timestamp;

use super::forms::field;
use super::{Chrome, PageError, Visitor, render, see_other};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "pages/calendar.html")]
struct CalendarPage {
    chrome: Chrome,
    since: Option<String>,
    new_url: Option<String>,
    message: Option<&'static str>,
}

#[derive(serde::Deserialize)]
pub struct CalendarQuery {
    #[serde(default)]
    stopped: String,
}

/// The signed-in person, as the caller and by id: a feed is a person's own.
fn signed_in(visitor: &Visitor) -> Result<(keel_commands::Caller, UserId), PageError> {
    let caller = visitor.require()?;
    let me = visitor.person.as_ref().map(|p| p.id).ok_or_else(PageError::not_found)?;
    Ok((caller, me))
}

fn day(at: Timestamp) -> String {
    at.format("%-d %B %Y").to_string()
}

/// Whether the person has an address, with what to do about it.
pub async fn page(
    state: web::Data<AppState>,
    visitor: Visitor,
    query: web::Query<CalendarQuery>,
) -> Result<HttpResponse, PageError> {
    let (caller, me) = signed_in(&visitor)?;
    let since = state.run(move |conn| keel_commands::calendar::status(conn, &caller, me)).await?;
    let view = CalendarPage {
        chrome: visitor.chrome(),
        since: since.map(day),
        new_url: None,
        message: (!query.stopped.is_empty())
            .then_some("The address is stopped: calendars subscribed to it get nothing more."),
    };
    Ok(visitor.finish(render(StatusCode::OK, &view)?))
}

/// A new address (or a rotated one), shown on the answer: it is not kept anywhere it could be
/// read again.
pub async fn subscribe(
    state: web::Data<AppState>,
    visitor: Visitor,
    form: super::forms::Fields,
) -> Result<HttpResponse, PageError> {
    visitor.check_form(field(&form, "csrf"))?;
    let (caller, me) = signed_in(&visitor)?;
    let made = state.run(move |conn| keel_commands::calendar::subscribe(conn, &caller, me)).await?;
    let view = CalendarPage {
        chrome: visitor.chrome(),
        since: Some(day(made.created_at)),
        new_url: Some(format!("{}/calendar/{}.ics", state.pages.links.base_url, made.token)),
        message: None,
    };
    Ok(visitor.finish(render(StatusCode::OK, &view)?))
}

/// The address stops.
pub async fn revoke(
    state: web::Data<AppState>,
    visitor: Visitor,
    form: super::forms::Fields,
) -> Result<HttpResponse, PageError> {
    visitor.check_form(field(&form, "csrf"))?;
    let (caller, me) = signed_in(&visitor)?;
    state.run(move |conn| keel_commands::calendar::revoke(conn, &caller, me)).await?;
    Ok(visitor.finish(see_other("/home/calendar?stopped=1")))
}
