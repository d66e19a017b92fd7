//! A rater's feedback form, reached from the invitation's link (the invitation's code is in the
//! link; opening it uses nothing up, sending the form does). Raters are not Keel users: the code
//! allows this one form and nothing else.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use keel_commands::stakeholders::{FeedbackInput, FeedbackPage};
use keel_domain::stakeholders::{FEEDBACK_MAX, Relationship};
use serde::Deserialize;

use super::{Chrome, PageError, Visitor, links, render};
use crate::problem::ApiError;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "pages/feedback.html")]
struct Form {
    chrome: Chrome,
    rater: String,
    relationship: &'static str,
    leader: String,
    coach: String,
    action: String,
    error: Option<String>,
    strengths: String,
    development_areas: String,
    comments: String,
    max_len: usize,
}

#[derive(Template)]
#[template(path = "pages/feedback_received.html")]
struct Received {
    chrome: Chrome,
    just_now: bool,
}

fn relationship(r: Relationship) -> &'static str {
    match r {
        Relationship::Boss => "their manager",
        Relationship::Peer => "a peer",
        Relationship::DirectReport => "someone who reports to them",
        Relationship::Other => "a colleague",
    }
}

async fn page(state: &AppState, code: &str) -> Result<FeedbackPage, PageError> {
    let code = code.to_owned();
    Ok(state.run(move |conn| keel_commands::stakeholders::feedback_page(conn, &code)).await?)
}

fn show(
    visitor: &Visitor,
    status: StatusCode,
    code: &str,
    found: FeedbackPage,
    sent: Option<(&FeedbackFields, String)>,
) -> Result<HttpResponse, PageError> {
    match found {
        FeedbackPage::Open { rater, relationship: r, leader, coach } => {
            let (error, fields) = match sent {
                Some((fields, error)) => (Some(error), fields.clone()),
                None => (None, FeedbackFields::default()),
            };
            let form = Form {
                chrome: visitor.chrome(),
                rater,
                relationship: relationship(r),
                leader,
                coach,
                action: format!("/feedback/{code}"),
                error,
                strengths: fields.strengths,
                development_areas: fields.development_areas,
                comments: fields.comments,
                max_len: FEEDBACK_MAX,
            };
            Ok(visitor.finish(render(status, &form)?))
        }
        FeedbackPage::Received => {
            Ok(visitor.finish(render(StatusCode::OK, &Received { chrome: visitor.chrome(), just_now: false })?))
        }
        FeedbackPage::Closed => links::invalid(visitor, &format!("/feedback/{code}/renew"), false),
    }
}

pub async fn form(
    state: web::Data<AppState>,
    visitor: Visitor,
    code: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let found = page(&state, &code).await?;
    show(&visitor, StatusCode::OK, &code, found, None)
}

#[derive(Clone, Default, Deserialize)]
pub struct FeedbackFields {
    #[serde(default)]
    strengths: String,
    #[serde(default)]
    development_areas: String,
    #[serde(default)]
    comments: String,
}

#[derive(Deserialize)]
pub struct FeedbackForm {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    fields: FeedbackFields,
}

/// Sends the feedback, once: a second send (a double click, the back button) finds it received.
pub async fn submit(
    state: web::Data<AppState>,
    visitor: Visitor,
    code: web::Path<String>,
    form: web::Form<FeedbackForm>,
) -> Result<HttpResponse, PageError> {
    visitor.check_form(&form.csrf)?;
    let code = code.into_inner();
    let fields = form.into_inner().fields;
    let input = FeedbackInput {
        strengths: fields.strengths.clone(),
        development_areas: fields.development_areas.clone(),
        comments: Some(fields.comments.clone()).filter(|c| !c.trim().is_empty()),
    };
    let ctx = visitor.anonymous_ctx();
    let hash = keel_commands::tokens::hash(&code);
    let sent = state.run(move |conn| keel_commands::stakeholders::submit_feedback(conn, &ctx, &hash, &input)).await;
    match sent {
        Ok(()) => Ok(visitor.finish(render(StatusCode::OK, &Received { chrome: visitor.chrome(), just_now: true })?)),
        Err(ApiError::Problem(problem)) if problem.status == 422 => {
            let message = problem
                .errors
                .iter()
                .map(|e| format!("{}: {}", label(&e.field), e.message))
                .collect::<Vec<_>>()
                .join("; ");
            let found = page(&state, &code).await?;
            show(
                &visitor,
                StatusCode::UNPROCESSABLE_ENTITY,
                &code,
                found,
                Some((&fields, format!("Please check your answers. {message}."))),
            )
        }
        Err(ApiError::Problem(problem)) if problem.status == 404 => {
            let found = page(&state, &code).await?;
            show(&visitor, StatusCode::OK, &code, found, None)
        }
        Err(other) => Err(other.into()),
    }
}

fn label(field: &str) -> &str {
    match field {
        "strengths" => "Strengths",
        "development_areas" => "Where they could develop",
        "comments" => "Anything else",
        other => other,
    }
}

#[derive(Deserialize)]
pub struct RenewForm {
    #[serde(default)]
    csrf: String,
}

/// An expired invitation: a fresh one is mailed to the rater if they may still give feedback.
pub async fn renew(
    req: HttpRequest,
    state: web::Data<AppState>,
    visitor: Visitor,
    code: web::Path<String>,
    form: web::Form<RenewForm>,
) -> Result<HttpResponse, PageError> {
    visitor.check_form(&form.csrf)?;
    state.limits.check_ip(&req, "renew-link")?;
    let code = code.into_inner();
    let looked_up = code.clone();
    if let Some(address) =
        state.run(move |conn| keel_commands::stakeholders::invitation_address(conn, &looked_up)).await?
    {
        state.limits.check_mail_to(&address)?;
    }
    let ctx = visitor.anonymous_ctx();
    let links = state.pages.links.clone();
    state.run(move |conn| keel_commands::stakeholders::renew_invitation(conn, &ctx, &code, &links)).await?;
    links::invalid(&visitor, "", true)
}
