//! A request for extra coaching hours, decided by a sponsor (docs/program.md, hours and extensions): the hours,
//! the month, the coach's reason and the month's ledger; approve or decline, once.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use keel_commands::pages::Participants;
use keel_domain::coaching::{Extension, ExtensionStatus, LedgerMonth};
use keel_domain::{EngagementId, ExtensionId};

use super::{Chrome, DecidedQuery, DecisionForm, PageError, Visitor, after_form, render};
use crate::state::AppState;

struct LedgerView {
    month: String,
    budget: String,
    extensions: String,
    used: String,
    remaining: String,
}

#[derive(Template)]
#[template(path = "pages/extension.html")]
struct Review {
    chrome: Chrome,
    title: String,
    leader: String,
    coach: String,
    hours: String,
    period: String,
    reason: String,
    status: &'static str,
    ledger: Option<LedgerView>,
    may_decide: bool,
    action: String,
    message: Option<String>,
    error: Option<String>,
}

/// Hours from minutes, as people write them (1.5, 3).
pub(super) fn hours(minutes: i64) -> String {
    let h = minutes as f64 / 60.0;
    if (h - h.round()).abs() < 1e-9 {
        format!("{}", h.round() as i64)
    } else {
        format!("{h:.2}").trim_end_matches('0').to_owned()
    }
}

struct Loaded {
    people: Participants,
    extension: Extension,
    ledger: Option<LedgerMonth>,
}

async fn load(state: &AppState, visitor: &Visitor, id: EngagementId, ext: ExtensionId) -> Result<Loaded, PageError> {
    let caller = visitor.require()?;
    Ok(state
        .run(move |conn| {
            use keel_commands::{extensions, sessions};
            let people = keel_commands::pages::participants(conn, &caller, id)?;
            let extension = extensions::get(conn, &caller, (id, ext))?;
            let (_, months, _) = sessions::hours(conn, &caller, id)?;
            let ledger = months.into_iter().find(|m| m.month == extension.month);
            Ok(Loaded { people, extension, ledger })
        })
        .await?)
}

fn page(visitor: &Visitor, loaded: Loaded, message: Option<String>, error: Option<String>) -> Review {
    let Loaded { people, extension, ledger } = loaded;
    let me = visitor.person.as_ref().map(|p| p.id);
    let period = match extension.new_planned_end_date {
        Some(end) => format!("{} (the program would then end on {})", extension.month, end.format("%-d %B %Y")),
        None => extension.month.to_string(),
    };
    Review {
        chrome: visitor.chrome(),
        title: people.engagement.title.clone(),
        leader: people.leader.1.clone(),
        coach: people.coach.1.clone(),
        hours: hours(extension.minutes),
        period,
        reason: extension.reason.clone(),
        status: match extension.status {
            ExtensionStatus::Requested => "waiting for a sponsor's decision",
            ExtensionStatus::Approved => "approved",
            ExtensionStatus::Declined => "declined",
        },
        ledger: ledger.map(|m| LedgerView {
            month: m.month.to_string(),
            budget: hours(m.budget_minutes),
            extensions: hours(m.extension_minutes),
            used: hours(m.used_minutes),
            remaining: hours(m.available_minutes() - m.used_minutes),
        }),
        may_decide: me.is_some_and(|me| extension.awaits_decision(&people.engagement, me)),
        action: format!("/engagements/{}/extensions/{}/decision", extension.engagement_id, extension.id),
        message,
        error,
    }
}

pub async fn review(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<(EngagementId, ExtensionId)>,
    query: web::Query<DecidedQuery>,
) -> Result<HttpResponse, PageError> {
    let (id, ext) = path.into_inner();
    let loaded = load(&state, &visitor, id, ext).await?;
    let message = query.message();
    Ok(visitor.finish(render(StatusCode::OK, &page(&visitor, loaded, message, None))?))
}

pub async fn decide(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<(EngagementId, ExtensionId)>,
    form: web::Form<DecisionForm>,
) -> Result<HttpResponse, PageError> {
    visitor.check_form(&form.csrf)?;
    let caller = visitor.require()?;
    let (id, ext) = path.into_inner();
    let approve = match form.decision.as_str() {
        "approve" => true,
        "decline" => false,
        _ => return Err(PageError::new(StatusCode::BAD_REQUEST, "Unknown decision", "Choose Approve or Decline.")),
    };
    let comment = form.comment();
    let decided = state
        .run(move |conn| keel_commands::extensions::decide(conn, &caller, (id, ext), approve, comment.as_deref()))
        .await;
    let (status, error) = match after_form(decided, &format!("/engagements/{id}/extensions/{ext}?decided=1"))? {
        Ok(redirect) => return Ok(redirect),
        Err(refused) => refused,
    };
    let loaded = load(&state, &visitor, id, ext).await?;
    Ok(visitor.finish(render(status, &page(&visitor, loaded, None, Some(error)))?))
}
