//! The mid- and end-of-program reviews on the coach's pages (docs/program.md, reviews): each
//! outcome's intended change (baseline → target) beside what is true now, the narrative, the
//! program's changes (mid) or what was achieved and the next step, with the renewal's outcomes
//! (end); recorded through the API's command with the coach as the caller.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use keel_commands::coach::ToReview;
use keel_domain::EngagementId;
use keel_domain::program::OutcomeChanges;
use keel_domain::review::{NextStep, OutcomeReview, ReviewInput, ReviewKind};

use super::forms::{Fields, Refused, field, opened_at, optional, refused_by, unreadable};
use super::{Chrome, PageError, Visitor, render, see_other};
use crate::state::AppState;

/// Rows offered for the renewal's outcomes.
const RENEWAL_ROWS: usize = 3;

fn kind_of(text: &str) -> Result<ReviewKind, PageError> {
    ReviewKind::parse(text).ok_or_else(PageError::not_found)
}

struct OutcomeRow {
    n: usize,
    id: String,
    title: String,
    intended: String,
    latest: String,
    actual: String,
    note: String,
    achieved: String,
}

struct RenewalRow {
    n: usize,
    title: String,
    measure: String,
    baseline: String,
    target: String,
}

#[derive(Template)]
#[template(path = "pages/coach_review.html")]
struct ReviewPage {
    chrome: Chrome,
    id: EngagementId,
    title: String,
    kind: &'static str,
    end: bool,
    heading: &'static str,
    version: String,
    narrative: String,
    program_changes: String,
    achievements: String,
    next_step: String,
    outcomes: Vec<OutcomeRow>,
    renewal: Vec<RenewalRow>,
    refused: Option<Refused>,
}

impl ReviewPage {
    fn field_error(&self, field: &str) -> &str {
        self.refused.as_ref().map_or("", |r| r.error_for(field))
    }
}

fn page(
    visitor: &Visitor,
    kind: ReviewKind,
    data: ToReview,
    typed: Option<&[(String, String)]>,
    refused: Option<Refused>,
) -> ReviewPage {
    let ToReview { engagement, outcomes, measurements, review } = data;
    let recorded = |name: &str| -> String {
        match (typed, &review) {
            (Some(fields), _) => field(fields, name).to_owned(),
            (None, Some(r)) => match name {
                "narrative" => r.narrative.clone(),
                "program_changes" => r.program_changes.clone().unwrap_or_default(),
                "achievements" => r.achievements.clone().unwrap_or_default(),
                "next_step" => r.next_step.map(|n| n.as_str().to_owned()).unwrap_or_default(),
                _ => String::new(),
            },
            (None, None) => String::new(),
        }
    };
    let rows = outcomes
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let n = i + 1;
            let entry = review.as_ref().and_then(|r| r.outcomes.iter().find(|e| e.outcome_id == o.id));
            let latest = measurements.iter().filter(|m| m.outcome_id == o.id).max_by_key(|m| m.measured_at);
            let from_typed = |name: &str| typed.map(|f| field(f, &format!("outcome{n}_{name}")).to_owned());
            OutcomeRow {
                n,
                id: o.id.to_string(),
                title: o.title.clone(),
                intended: format!(
                    "{}: {} → {}",
                    o.measure.as_deref().unwrap_or("no measure"),
                    o.baseline.as_deref().unwrap_or("?"),
                    o.target.as_deref().unwrap_or("?")
                ),
                latest: latest
                    .map(|m| format!("{} on {}", m.value, m.measured_at.format("%-d %B %Y")))
                    .unwrap_or_else(|| "no measurement yet".to_owned()),
                actual: from_typed("actual").unwrap_or_else(|| entry.map(|e| e.actual.clone()).unwrap_or_default()),
                note: from_typed("note").unwrap_or_else(|| entry.and_then(|e| e.note.clone()).unwrap_or_default()),
                achieved: from_typed("achieved").unwrap_or_else(|| {
                    entry.and_then(|e| e.achieved).map(|a| if a { "yes" } else { "no" }.to_owned()).unwrap_or_default()
                }),
            }
        })
        .collect();
    let renewal = (1..=RENEWAL_ROWS)
        .map(|n| {
            let get =
                |name: &str| typed.map(|f| field(f, &format!("renewal{n}_{name}")).to_owned()).unwrap_or_default();
            RenewalRow {
                n,
                title: get("title"),
                measure: get("measure"),
                baseline: get("baseline"),
                target: get("target"),
            }
        })
        .collect();
    ReviewPage {
        chrome: visitor.chrome(),
        id: engagement.id,
        title: engagement.title.clone(),
        kind: kind.as_str(),
        end: kind == ReviewKind::End,
        heading: if kind == ReviewKind::End { "End-of-program review" } else { "Mid-program review" },
        version: review.as_ref().map(|r| r.version.to_string()).unwrap_or_else(|| "0".to_owned()),
        narrative: recorded("narrative"),
        program_changes: recorded("program_changes"),
        achievements: recorded("achievements"),
        next_step: recorded("next_step"),
        outcomes: rows,
        renewal,
        refused,
    }
}

async fn load(state: &AppState, visitor: &Visitor, key: (EngagementId, ReviewKind)) -> Result<ToReview, PageError> {
    let caller = visitor.require()?;
    Ok(state.run(move |conn| keel_commands::coach::to_review(conn, &caller, key)).await?)
}

pub async fn form(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<(EngagementId, String)>,
) -> Result<HttpResponse, PageError> {
    let (id, kind) = path.into_inner();
    let kind = kind_of(&kind)?;
    let data = load(&state, &visitor, (id, kind)).await?;
    Ok(visitor.finish(render(StatusCode::OK, &page(&visitor, kind, data, None, None))?))
}

/// The review as typed, for the command.
fn input(kind: ReviewKind, fields: &[(String, String)], data: &ToReview) -> Result<ReviewInput, PageError> {
    let outcomes = (1..=data.outcomes.len())
        .map(|n| {
            let id = field(fields, &format!("outcome{n}_id")).parse().map_err(|_| unreadable())?;
            let achieved = match field(fields, &format!("outcome{n}_achieved")) {
                "yes" => Some(true),
                "no" => Some(false),
                _ => None,
            };
            Ok(OutcomeReview {
                outcome_id: id,
                actual: field(fields, &format!("outcome{n}_actual")).trim().to_owned(),
                note: optional(field(fields, &format!("outcome{n}_note"))),
                achieved,
            })
        })
        .collect::<Result<Vec<_>, PageError>>()?;
    let next_step = match (kind, field(fields, "next_step")) {
        (ReviewKind::End, "") | (ReviewKind::Mid, _) => None,
        (ReviewKind::End, chosen) => Some(chosen.parse::<NextStep>().map_err(|_| unreadable())?),
    };
    let renewal_outcomes = if next_step == Some(NextStep::Renewed) {
        (1..=RENEWAL_ROWS)
            .filter(|n| !field(fields, &format!("renewal{n}_title")).trim().is_empty())
            .map(|n| {
                let get = |name: &str| optional(field(fields, &format!("renewal{n}_{name}")));
                OutcomeChanges {
                    title: get("title"),
                    description: None,
                    measure: Some(get("measure")),
                    baseline: Some(get("baseline")),
                    target: Some(get("target")),
                    unit: None,
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(ReviewInput {
        narrative: optional(field(fields, "narrative")),
        outcomes,
        program_changes: if kind == ReviewKind::Mid { optional(field(fields, "program_changes")) } else { None },
        achievements: if kind == ReviewKind::End { optional(field(fields, "achievements")) } else { None },
        next_step,
        renewal_outcomes,
    })
}

pub async fn record(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<(EngagementId, String)>,
    form: Fields,
) -> Result<HttpResponse, PageError> {
    let fields = form.into_inner();
    visitor.check_form(field(&fields, "csrf"))?;
    let caller = visitor.require()?;
    let (id, kind) = path.into_inner();
    let kind = kind_of(&kind)?;
    let data = load(&state, &visitor, (id, kind)).await?;
    let review = input(kind, &fields, &data)?;
    let precondition = opened_at(field(&fields, "version"));
    let result = state
        .run(move |conn| keel_commands::reviews::put(conn, &caller, (id, kind), precondition.as_ref(), review))
        .await;
    let (status, refused) = match refused_by(result, "review")? {
        Ok((_, Some(renewed))) => return Ok(see_other(&format!("/engagements/{}?saved=renewal", renewed.id))),
        Ok((_, None)) => return Ok(see_other(&format!("/engagements/{id}?saved=review#phase"))),
        Err(refused) => refused,
    };
    let data = load(&state, &visitor, (id, kind)).await?;
    Ok(visitor.finish(render(status, &page(&visitor, kind, data, Some(&fields), Some(refused)))?))
}
