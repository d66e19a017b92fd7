//! Pages for the people in the program (docs/access.md, pages): server-rendered HTML reached from Keel's mails,
//! for raters, leaders, sponsors and anyone signing in. Every action goes through the same command
//! as its API twin, with the signed-in person as the caller; this module only speaks HTML.
//!
//! - [`visitor`]: who is looking (the session cookie), the form token (CSRF) and the response
//!   headers every page carries;
//! - [`links`]: the landing page, the sign-in page, links from mails, sign-out;
//! - [`feedback`]: a rater's feedback form;
//! - [`designs`], [`extensions`]: the decisions asked of the leader and sponsors;
//! - [`home`]: a person's programs; [`program`]: an engagement's page (the leader's program, or
//!   a sponsor's overview), drawn with [`chart`].

pub mod calendar;
pub mod chart;
pub mod coach;
pub mod coach_design;
pub mod coach_group;
pub mod coach_review;
pub mod coach_sessions;
pub mod designs;
pub mod extensions;
pub mod feedback;
pub mod forms;
pub mod group;
pub mod home;
pub mod hr;
pub mod hr_engagement;
pub mod hr_groups;
pub mod hr_people;
pub mod links;
pub mod program;
pub mod visitor;
pub mod words;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError, web};
use askama::Template;

use crate::problem::ApiError;
pub use visitor::Visitor;

/// The stylesheet, compiled in (pages load nothing from elsewhere).
const STYLESHEET: &str = include_str!("../../assets/keel.css");
/// The icon browsers show in the tab (and ask for at `/favicon.ico` on every page view).
const ICON: &str = include_str!("../../assets/favicon.svg");

/// The pages' routes (they are HTML for people, not part of the API's OpenAPI document).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(links::landing))
        .route("/assets/keel.css", web::get().to(stylesheet))
        .route("/assets/favicon.svg", web::get().to(icon))
        .route("/favicon.ico", web::get().to(icon))
        .route("/sign-in", web::get().to(links::sign_in_form))
        .route("/sign-in", web::post().to(links::sign_in))
        .route("/sign-out", web::post().to(links::sign_out))
        .route("/l/{token}", web::get().to(links::open_link))
        .route("/l/{token}", web::post().to(links::follow_link))
        .route("/l/{token}/renew", web::post().to(links::renew_link))
        .route("/feedback/{code}", web::get().to(feedback::form))
        .route("/feedback/{code}", web::post().to(feedback::submit))
        .route("/feedback/{code}/renew", web::post().to(feedback::renew))
        .route("/home", web::get().to(home::home))
        .route("/home/calendar", web::get().to(calendar::page))
        .route("/home/calendar", web::post().to(calendar::subscribe))
        .route("/home/calendar/revoke", web::post().to(calendar::revoke))
        .route("/contracts", web::get().to(hr::contracts))
        .route("/contracts", web::post().to(hr::create_contract))
        .route("/contracts/{id}", web::get().to(hr::contract))
        .route("/contracts/{id}", web::post().to(hr::update_contract))
        .route("/dashboard", web::get().to(hr::dashboard))
        .route("/reports/{name}", web::get().to(hr::report_csv))
        .route("/engagements/new", web::get().to(hr::new_engagement))
        .route("/engagements/new", web::post().to(hr::create_engagement))
        .route("/people", web::get().to(hr_people::people))
        .route("/people", web::post().to(hr_people::add_person))
        .route("/groups/new", web::get().to(hr_groups::new_group))
        .route("/groups/new", web::post().to(hr_groups::create_group))
        .route("/groups/{id}", web::get().to(group::group))
        .route("/groups/{id}/action-items/{item}/done", web::post().to(group::item_done))
        .route("/groups/{id}/sessions", web::post().to(coach_group::schedule))
        .route("/groups/{id}/sessions/{session}/change", web::post().to(coach_group::change))
        .route("/groups/{id}/sessions/{session}/complete", web::post().to(coach_group::complete))
        .route("/groups/{id}/participants/{user}/outcomes", web::post().to(coach_group::add_outcome))
        .route("/groups/{id}/participants/{user}/action-items", web::post().to(coach_group::add_item))
        .route("/engagements/{id}", web::get().to(program::engagement))
        .route("/engagements/{id}/manage", web::get().to(hr_engagement::page))
        .route("/engagements/{id}/manage", web::post().to(hr_engagement::save_terms))
        .route("/engagements/{id}/manage/phase", web::post().to(hr_engagement::change_phase))
        .route("/engagements/{id}/context", web::post().to(coach::context))
        .route("/engagements/{id}/outcomes", web::post().to(coach::outcome))
        .route("/engagements/{id}/leader-interview", web::post().to(coach::interview))
        .route("/engagements/{id}/phase", web::post().to(coach::phase))
        .route("/engagements/{id}/raters", web::post().to(coach::add_rater))
        .route("/engagements/{id}/raters/{rater}/invitation", web::post().to(coach::invite_rater))
        .route("/engagements/{id}/raters/{rater}/interview", web::post().to(coach::rater_interview))
        .route("/engagements/{id}/themes", web::post().to(coach::add_theme))
        .route("/engagements/{id}/themes/release", web::post().to(coach::release_themes))
        .route("/engagements/{id}/sessions", web::post().to(coach_sessions::schedule))
        .route("/engagements/{id}/sessions/{session}/change", web::post().to(coach_sessions::change))
        .route("/engagements/{id}/sessions/{session}/complete", web::get().to(coach_sessions::completion_form))
        .route("/engagements/{id}/sessions/{session}/complete", web::post().to(coach_sessions::complete))
        .route("/engagements/{id}/extensions", web::post().to(coach_sessions::request_extension))
        .route("/engagements/{id}/reviews/{kind}", web::get().to(coach_review::form))
        .route("/engagements/{id}/reviews/{kind}", web::post().to(coach_review::record))
        .route("/engagements/{id}/designs", web::post().to(coach_design::start))
        .route("/engagements/{id}/designs/{version}/edit", web::get().to(coach_design::composer))
        .route("/engagements/{id}/designs/{version}/edit", web::post().to(coach_design::save))
        .route("/engagements/{id}/designs/{version}/submit", web::post().to(coach_design::submit))
        .route("/engagements/{id}/action-items", web::post().to(coach_sessions::add_item))
        .route("/engagements/{id}/sessions/{session}/calendar.ics", web::get().to(program::calendar))
        .route("/engagements/{id}/action-items/{item}/done", web::post().to(program::homework_done))
        .route("/engagements/{id}/designs/{version}", web::get().to(designs::review))
        .route("/engagements/{id}/designs/{version}/decision", web::post().to(designs::decide))
        .route("/engagements/{id}/extensions/{extension}", web::get().to(extensions::review))
        .route("/engagements/{id}/extensions/{extension}/decision", web::post().to(extensions::decide));
}

/// The largest form a page accepts (three feedback answers at their longest fit).
pub const FORM_LIMIT: usize = 256 * 1024;

/// How pages read forms: up to [`FORM_LIMIT`], and a form that cannot be read gets a page.
pub fn form_config() -> web::FormConfig {
    web::FormConfig::default().limit(FORM_LIMIT).error_handler(|err, _| {
        let page = match &err {
            actix_web::error::UrlencodedError::Overflow { .. } => PageError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Too much text",
                "Nothing was saved: the form is larger than Keel accepts. Shorten your answers and send it again.",
            ),
            _ => PageError::new(
                StatusCode::BAD_REQUEST,
                "The form could not be read",
                "Nothing was saved. Go back and send the form again.",
            ),
        };
        page.into()
    })
}

async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(STYLESHEET)
}

async fn icon() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("image/svg+xml")
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .body(ICON)
}

/// What every page shows around its content: who is signed in, and the form token.
#[derive(Clone, Debug, Default)]
pub struct Chrome {
    pub person: Option<String>,
    pub csrf: String,
}

/// The response headers of every page: nothing runs but Keel's own markup and stylesheet, no
/// page is framed, links (which carry tokens) send no referrer, and nothing personal is cached.
pub fn secure(response: &mut HttpResponse) {
    // A page's error is a page, not a problem document.
    response.extensions_mut().insert(crate::middleware::KeepBody);
    let headers = response.headers_mut();
    let set = |headers: &mut header::HeaderMap, name: header::HeaderName, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(
        headers,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    set(headers, header::REFERRER_POLICY, "no-referrer");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::CACHE_CONTROL, "no-store");
}

/// Renders a page with `status`.
pub fn render(status: StatusCode, page: &impl Template) -> Result<HttpResponse, PageError> {
    let html = page.render().map_err(|e| PageError::internal(format!("template: {e}")))?;
    let mut response = HttpResponse::build(status).content_type("text/html; charset=utf-8").body(html);
    secure(&mut response);
    Ok(response)
}

/// A redirect after a form (303: the browser follows with a GET).
pub fn see_other(location: &str) -> HttpResponse {
    let mut response = HttpResponse::SeeOther().insert_header((header::LOCATION, location)).finish();
    secure(&mut response);
    response
}

#[derive(Template)]
#[template(path = "pages/problem.html")]
struct ProblemPage<'a> {
    chrome: Chrome,
    title: &'a str,
    detail: &'a str,
    sign_in: &'a str,
}

/// A command's refusal (409 or 422) as a page shows it above the form: its status and text.
pub fn refusal(problem: &crate::problem::Problem) -> (StatusCode, String) {
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::CONFLICT);
    let fields: Vec<&str> = problem.errors.iter().map(|e| e.message.as_str()).collect();
    let text =
        if fields.is_empty() { problem.detail.clone() } else { format!("{} ({})", problem.detail, fields.join("; ")) };
    (status, text)
}

/// What a form's command came to: done (go to `done`, 303), refused in a way the person can
/// correct or should read on the page it came from (`Err((status, text))`, shown above the
/// form), or an error page.
pub fn after_form<T>(
    result: Result<T, ApiError>,
    done: &str,
) -> Result<Result<HttpResponse, (StatusCode, String)>, PageError> {
    match result {
        Ok(_) => Ok(Ok(see_other(done))),
        Err(ApiError::Problem(problem)) if matches!(problem.status, 403 | 409 | 422) => Ok(Err(refusal(&problem))),
        Err(other) => Err(other.into()),
    }
}

/// The form of a decision (design or extension): its token, the choice and the comment.
#[derive(serde::Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub decision: String,
    #[serde(default)]
    pub comment: String,
}

impl DecisionForm {
    /// The comment, if one was written.
    pub fn comment(&self) -> Option<String> {
        Some(self.comment.clone()).filter(|c| !c.trim().is_empty())
    }
}

/// `?decided=1`, where a decision's form lands: the page then thanks the person.
#[derive(serde::Deserialize)]
pub struct DecidedQuery {
    #[serde(default)]
    decided: Option<String>,
}

impl DecidedQuery {
    pub fn message(&self) -> Option<String> {
        self.decided.as_ref().map(|_| "Thank you: your decision was recorded.".to_owned())
    }
}

/// A page's error: a clear page with the right status, never a stack trace or a JSON document.
#[derive(Debug)]
pub struct PageError {
    pub status: StatusCode,
    pub title: String,
    pub detail: String,
    /// For a 429: when to try again (sent as `Retry-After`, as the API does).
    pub retry_after: Option<u64>,
    /// For a 401: the sign-in page, on to the page that asked for it.
    pub sign_in: Option<String>,
}

impl PageError {
    pub fn new(status: StatusCode, title: &str, detail: impl Into<String>) -> PageError {
        PageError { status, title: title.to_owned(), detail: detail.into(), retry_after: None, sign_in: None }
    }

    pub fn not_found() -> PageError {
        PageError::new(
            StatusCode::NOT_FOUND,
            "Page not found",
            "This page does not exist, or it is not one you may see. If you followed a link from an email, sign in with the same address.",
        )
    }

    /// A form that did not come from this page in this browser (a forged or stale form).
    pub fn forged() -> PageError {
        PageError::new(
            StatusCode::FORBIDDEN,
            "This form has expired",
            "Nothing was changed. Go back, reload the page and send the form again.",
        )
    }

    pub fn internal(cause: String) -> PageError {
        tracing::error!(%cause, "page failed");
        PageError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong",
            "Nothing was changed. Please try again in a moment.",
        )
    }
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.status, self.title)
    }
}

impl From<ApiError> for PageError {
    fn from(error: ApiError) -> Self {
        match error {
            ApiError::Problem(problem) => match StatusCode::from_u16(problem.status) {
                Ok(StatusCode::NOT_FOUND) | Ok(StatusCode::FORBIDDEN) => PageError::not_found(),
                Ok(status) if status.is_client_error() => PageError {
                    retry_after: problem.retry_after,
                    ..PageError::new(status, &problem.title, problem.detail)
                },
                _ => PageError::internal(problem.detail),
            },
            ApiError::Unauthorized(_) => PageError::not_found(),
            ApiError::Internal(cause) => PageError::internal(cause),
        }
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let sign_in = self.sign_in.as_deref().unwrap_or("/sign-in");
        let page = ProblemPage { chrome: Chrome::default(), title: &self.title, detail: &self.detail, sign_in };
        let mut response = render(self.status, &page).unwrap_or_else(|_| HttpResponse::build(self.status).finish());
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(actix_web::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}
