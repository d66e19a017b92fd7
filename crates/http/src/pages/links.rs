//! The way in: the landing page, the sign-in page, links from mails (opening one shows where it
//! leads; only the person's own click uses it up), and signing out.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use keel_commands::pages::{LinkView, Started};
use keel_domain::pages::{PageTarget, SIGN_IN_LINK_TTL};
use keel_domain::user::Email;
use serde::Deserialize;

use super::{Chrome, PageError, Visitor, render, see_other};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "pages/landing.html")]
struct Landing {
    chrome: Chrome,
}

pub async fn landing(visitor: Visitor) -> Result<HttpResponse, PageError> {
    Ok(visitor.finish(render(StatusCode::OK, &Landing { chrome: visitor.chrome() })?))
}

#[derive(Template)]
#[template(path = "pages/sign_in.html")]
struct SignIn {
    chrome: Chrome,
    sent: bool,
    email: String,
    error: Option<String>,
    minutes: u64,
    /// Where the mailed link leads.
    next: String,
}

impl SignIn {
    fn new(visitor: &Visitor, email: String, sent: bool, error: Option<String>) -> SignIn {
        let minutes = SIGN_IN_LINK_TTL.as_secs() / 60;
        SignIn { chrome: visitor.chrome(), sent, email, error, minutes, next: PageTarget::Home.path() }
    }
}

/// `?next=`: the page a visitor was on their way to when asked to sign in (only a page a link
/// can lead to is taken; anything else is the person's programs).
#[derive(Deserialize)]
pub struct NextQuery {
    #[serde(default)]
    next: String,
}

fn next_page(next: &str) -> PageTarget {
    PageTarget::parse(next).unwrap_or(PageTarget::Home)
}

pub async fn sign_in_form(visitor: Visitor, query: web::Query<NextQuery>) -> Result<HttpResponse, PageError> {
    let next = next_page(&query.next);
    if visitor.person.is_some() {
        return Ok(see_other(&next.path()));
    }
    let mut page = SignIn::new(&visitor, String::new(), false, None);
    page.next = next.path();
    Ok(visitor.finish(render(StatusCode::OK, &page)?))
}

/// A form of a page: its token, and its fields.
#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    next: String,
}

pub async fn sign_in(
    req: HttpRequest,
    state: web::Data<AppState>,
    visitor: Visitor,
    form: web::Form<SignInForm>,
) -> Result<HttpResponse, PageError> {
    visitor.check_form(&form.csrf)?;
    state.limits.check_ip(&req, "sign-in-page")?;
    let typed = form.email.trim().to_owned();
    let email = match Email::parse(&typed) {
        Ok(email) => email,
        Err(_) => {
            let mut page =
                SignIn::new(&visitor, typed, false, Some("Enter an email address, like name@example.com.".to_owned()));
            page.next = next_page(&form.next).path();
            return Ok(visitor.finish(render(StatusCode::UNPROCESSABLE_ENTITY, &page)?));
        }
    };
    state.limits.check_mail_to(&email.normalized())?;
    let ctx = visitor.anonymous_ctx();
    let links = state.pages.links.clone();
    let address = email.clone();
    let target = next_page(&form.next);
    state.run(move |conn| keel_commands::pages::request_sign_in(conn, &ctx, &address, target, &links)).await?;
    Ok(visitor.finish(render(StatusCode::OK, &SignIn::new(&visitor, email.as_str().to_owned(), true, None))?))
}

#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    csrf: String,
}

pub async fn sign_out(
    state: web::Data<AppState>,
    visitor: Visitor,
    form: web::Form<TokenForm>,
) -> Result<HttpResponse, PageError> {
    visitor.check_form(&form.csrf)?;
    if let (Some(person), Some(token)) = (visitor.person.clone(), visitor.session.clone()) {
        let request_id = visitor.request_id.clone();
        state.run(move |conn| keel_commands::pages::sign_out(conn, &request_id, &person, &token)).await?;
    }
    let mut response = see_other("/");
    visitor.sign_out(&mut response);
    Ok(response)
}

#[derive(Template)]
#[template(path = "pages/link.html")]
struct LinkPage {
    chrome: Chrome,
    name: String,
    purpose: &'static str,
    action: String,
}

#[derive(Template)]
#[template(path = "pages/link_invalid.html")]
pub(super) struct LinkInvalid {
    pub chrome: Chrome,
    pub renewed: bool,
    pub renew_action: String,
}

/// Opening a link (a GET, as mail scanners do too) uses nothing up: it shows whose it is and
/// where it leads, with a button that follows it. A browser already signed in as its person
/// goes straight to the page.
pub async fn open_link(
    state: web::Data<AppState>,
    visitor: Visitor,
    token: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let token = token.into_inner();
    let peeked = token.clone();
    let view = state.run(move |conn| keel_commands::pages::peek_link(conn, &peeked)).await?;
    match view {
        LinkView::Open { target, user, .. } if visitor.person.as_ref().is_some_and(|p| p.id == user) => {
            Ok(see_other(&target.path()))
        }
        LinkView::Open { name, target, .. } => {
            let page =
                LinkPage { chrome: visitor.chrome(), name, purpose: target.purpose(), action: format!("/l/{token}") };
            Ok(visitor.finish(render(StatusCode::OK, &page)?))
        }
        LinkView::Closed => {
            // Used or expired, opened again by its person, signed in: on to the page.
            if let Some(me) = visitor.person.as_ref().map(|p| p.id) {
                let owned = token.clone();
                let owner = state.run(move |conn| keel_commands::pages::link_owner(conn, &owned)).await?;
                if let Some((_, target)) = owner.filter(|(user, _)| *user == me) {
                    return Ok(see_other(&target.path()));
                }
            }
            invalid(&visitor, &format!("/l/{token}/renew"), false)
        }
    }
}

pub(super) fn invalid(visitor: &Visitor, renew_action: &str, renewed: bool) -> Result<HttpResponse, PageError> {
    let page = LinkInvalid { chrome: visitor.chrome(), renewed, renew_action: renew_action.to_owned() };
    let status = if renewed { StatusCode::OK } else { StatusCode::GONE };
    Ok(visitor.finish(render(status, &page)?))
}

/// The person's click: uses the link up, signs the browser in and goes to the page.
pub async fn follow_link(
    state: web::Data<AppState>,
    visitor: Visitor,
    token: web::Path<String>,
    form: web::Form<TokenForm>,
) -> Result<HttpResponse, PageError> {
    visitor.check_form(&form.csrf)?;
    let token = token.into_inner();
    let used = token.clone();
    let request_id = visitor.request_id.clone();
    let started = state.run(move |conn| keel_commands::pages::follow_link(conn, &request_id, &used)).await?;
    let Some(Started { session_token, target, .. }) = started else {
        return invalid(&visitor, &format!("/l/{token}/renew"), false);
    };
    let mut response = see_other(&target.path());
    visitor.sign_in(&mut response, session_token);
    Ok(response)
}

/// A used or expired link: a fresh one is mailed to its person if they may still have one.
pub async fn renew_link(
    req: HttpRequest,
    state: web::Data<AppState>,
    visitor: Visitor,
    token: web::Path<String>,
    form: web::Form<TokenForm>,
) -> Result<HttpResponse, PageError> {
    visitor.check_form(&form.csrf)?;
    state.limits.check_ip(&req, "renew-link")?;
    let token = token.into_inner();
    let looked_up = token.clone();
    if let Some(address) = state.run(move |conn| keel_commands::pages::link_address(conn, &looked_up)).await? {
        state.limits.check_mail_to(&address)?;
    }
    let request_id = visitor.request_id.clone();
    let links = state.pages.links.clone();
    state.run(move |conn| keel_commands::pages::renew_link(conn, &request_id, &token, &links)).await?;
    invalid(&visitor, "", true)
}
