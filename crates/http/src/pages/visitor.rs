//! Who is looking at a page: the person of the session cookie, if any, and the form token that
//! every form of the page carries (CSRF). A signed-in browser's token is its session's; before
//! signing in it is a random value in its own cookie, sent back with the form (double submit).
//! Either way a form is also refused when its `Origin` names another site (`null`, which
//! browsers send under the pages' `no-referrer` policy, names none).

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, web};
use keel_commands::Caller;
use keel_commands::tokens;
use keel_domain::audit::CommandContext;
use keel_domain::policy::Principal;
use keel_domain::user::User;

use super::{Chrome, PageError};
use crate::middleware::RequestId;
use crate::state::AppState;

/// The session cookie: the secret of a row in `web_sessions`.
pub const SESSION_COOKIE: &str = "keel_session";
/// The form token of a browser that is not signed in.
pub const FORM_COOKIE: &str = "keel_form";

/// The visitor of a page.
pub struct Visitor {
    pub person: Option<User>,
    /// The session cookie's secret, when signed in.
    pub session: Option<String>,
    /// The form token the page's forms carry.
    pub csrf: String,
    /// A form token made for this response (set as a cookie with it).
    new_form_cookie: bool,
    pub request_id: String,
    /// Whether cookies are marked Secure (Keel is reached over https).
    secure_cookies: bool,
    origin_ok: bool,
    /// The page asked for, when a link can lead to it (where to come back after signing in).
    page: Option<keel_domain::pages::PageTarget>,
}

impl Visitor {
    pub fn chrome(&self) -> Chrome {
        Chrome { person: self.person.as_ref().map(|p| p.name.clone()), csrf: self.csrf.clone() }
    }

    /// The signed-in person as a caller of the commands, with this request's context.
    pub fn caller(&self) -> Option<Caller> {
        let person = self.person.as_ref()?;
        Some(Caller {
            principal: Principal::for_user(person),
            ctx: keel_commands::pages::person(person, &self.request_id),
        })
    }

    /// The caller, or the answer to a visitor who must sign in first.
    pub fn require(&self) -> Result<Caller, PageError> {
        self.caller().ok_or_else(|| PageError {
            sign_in: self.page.map(|page| format!("/sign-in?next={}", page.path())),
            ..PageError::new(
                actix_web::http::StatusCode::UNAUTHORIZED,
                "Please sign in",
                "This page is for people taking part in a program. Sign in with your work email address, or use the link in the email Keel sent you.",
            )
        })
    }

    /// The context of an anonymous visitor's action (a rater's feedback).
    pub fn anonymous_ctx(&self) -> CommandContext {
        CommandContext { actor: keel_domain::audit::Actor::Anonymous, request_id: self.request_id.clone() }
    }

    /// Refuses a form that did not come from one of this browser's pages.
    pub fn check_form(&self, sent: &str) -> Result<(), PageError> {
        if self.origin_ok && !self.new_form_cookie && !self.csrf.is_empty() && tokens::same(sent, &self.csrf) {
            Ok(())
        } else {
            Err(PageError::forged())
        }
    }

    /// Adds the cookies this visit needs to `response` (a new form token).
    pub fn finish(&self, mut response: HttpResponse) -> HttpResponse {
        if self.new_form_cookie {
            let _ = response.add_cookie(&self.cookie(FORM_COOKIE, self.csrf.clone(), None));
        }
        response
    }

    /// Signs the browser in: the session cookie, for as long as the session lasts.
    pub fn sign_in(&self, response: &mut HttpResponse, session_token: String) {
        let max_age = CookieDuration::seconds(keel_domain::pages::SESSION_TTL.as_secs() as i64);
        let _ = response.add_cookie(&self.cookie(SESSION_COOKIE, session_token, Some(max_age)));
    }

    /// Signs the browser out: the session cookie is removed.
    pub fn sign_out(&self, response: &mut HttpResponse) {
        let _ = response.add_cookie(&self.cookie(SESSION_COOKIE, String::new(), Some(CookieDuration::ZERO)));
    }

    fn cookie(&self, name: &'static str, value: String, max_age: Option<CookieDuration>) -> Cookie<'static> {
        let mut cookie =
            Cookie::build(name, value).path("/").http_only(true).same_site(SameSite::Lax).secure(self.secure_cookies);
        if let Some(age) = max_age {
            cookie = cookie.max_age(age);
        }
        cookie.finish()
    }
}

/// Whether a form's `Origin` is this site, when the browser says. Pages are sent with
/// `Referrer-Policy: no-referrer` (their links carry tokens), under which browsers send
/// `Origin: null` with their own forms; `null` and no `Origin` say nothing, and the form token
/// alone decides. Another site's origin is refused whatever the token.
fn same_origin(req: &HttpRequest) -> bool {
    let Some(origin) = req.headers().get(actix_web::http::header::ORIGIN).and_then(|o| o.to_str().ok()) else {
        return true;
    };
    if origin == "null" {
        return true;
    }
    let host = req.connection_info().host().to_owned();
    origin.split_once("://").is_some_and(|(_, rest)| rest == host)
}

impl FromRequest for Visitor {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, PageError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let request_id = req.extensions().get::<RequestId>().map(|r| r.0.clone()).unwrap_or_default();
        let session = req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned()).filter(|v| !v.is_empty());
        let form_cookie = req.cookie(FORM_COOKIE).map(|c| c.value().to_owned()).filter(|v| v.len() >= 32);
        let origin_ok = same_origin(req);
        let page = keel_domain::pages::PageTarget::parse(req.path());
        Box::pin(async move {
            let state = state.ok_or_else(|| PageError::internal("application state missing".to_owned()))?;
            let secure_cookies = state.pages.secure_cookies;
            let signed_in = match session.clone() {
                Some(token) => state.run(move |conn| keel_commands::pages::session(conn, &token)).await?,
                None => None,
            };
            let (person, csrf, new_form_cookie) = match signed_in {
                Some((person, csrf)) => (Some(person), csrf, false),
                None => match form_cookie {
                    Some(value) => (None, value, false),
                    None => (None, tokens::random(32), true),
                },
            };
            let session = person.as_ref().and(session);
            Ok(Visitor { person, session, csrf, new_form_cookie, request_id, secure_cookies, origin_ok, page })
        })
    }
}
