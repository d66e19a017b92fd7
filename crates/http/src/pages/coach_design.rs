//! The coach's design composer (docs/program.md, assessment and design): a version of the
//! program design composed from the released themes and the outcomes, with its items (kind,
//! title, description, cadence); started blank or as a copy of the version before, showing what
//! changed since it and the decisions on it with their comments; saved and submitted through
//! the API's commands with the coach as the caller.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use keel_commands::coach::Composer;
use keel_domain::design::{DesignInput, DesignItem, DesignStatus, ItemKind};
use keel_domain::{EngagementId, OutcomeId, ThemeId};

use super::designs::{DecisionView, change_text, decision_views};
use super::forms::{Fields, Refused, field, opened_at, optional, refused_by, unreadable};
use super::{Chrome, PageError, Visitor, render, see_other};
use crate::state::AppState;

/// Blank item rows the composer offers beyond the version's items.
const BLANK_ITEMS: usize = 3;

fn csrf(fields: &[(String, String)]) -> &str {
    field(fields, "csrf")
}

struct Choice {
    id: String,
    label: String,
    detail: String,
    chosen: bool,
}

#[derive(Clone)]
struct ItemRow {
    n: usize,
    kind: String,
    title: String,
    description: String,
    cadence: String,
}

#[derive(Template)]
#[template(path = "pages/coach_design.html")]
struct ComposerPage {
    chrome: Chrome,
    id: EngagementId,
    title: String,
    version: i32,
    status: &'static str,
    draft: bool,
    revision: i64,
    summary: String,
    themes: Vec<Choice>,
    outcomes: Vec<Choice>,
    items: Vec<ItemRow>,
    previous: Option<i32>,
    changes: Vec<String>,
    decisions: Vec<DecisionView>,
    message: Option<&'static str>,
    refused: Option<Refused>,
}

impl ComposerPage {
    fn field_error(&self, field: &str) -> &str {
        self.refused.as_ref().map_or("", |r| r.error_for(field))
    }
}

/// What the composer typed, or (none typed) what the version holds.
struct Typed {
    summary: String,
    themes: Vec<String>,
    outcomes: Vec<String>,
    items: Vec<ItemRow>,
}

fn typed_from(fields: &[(String, String)]) -> Typed {
    let all = |name: &str| fields.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect();
    let rows = fields.iter().filter_map(|(k, _)| k.strip_prefix("item")?.split_once('_')?.0.parse::<usize>().ok());
    let count = rows.max().unwrap_or(0);
    let items = (1..=count)
        .map(|n| ItemRow {
            n,
            kind: field(fields, &format!("item{n}_kind")).to_owned(),
            title: field(fields, &format!("item{n}_title")).to_owned(),
            description: field(fields, &format!("item{n}_description")).to_owned(),
            cadence: field(fields, &format!("item{n}_cadence")).to_owned(),
        })
        .collect();
    Typed { summary: field(fields, "summary").to_owned(), themes: all("theme"), outcomes: all("outcome"), items }
}

fn page(
    visitor: &Visitor,
    data: Composer,
    typed: Option<Typed>,
    message: Option<&'static str>,
    refused: Option<Refused>,
) -> ComposerPage {
    let Composer { people, design, previous, decisions, themes, outcomes } = data;
    let typed = typed.unwrap_or_else(|| Typed {
        summary: design.summary.clone(),
        themes: design.theme_ids.iter().map(ToString::to_string).collect(),
        outcomes: design.outcome_ids.iter().map(ToString::to_string).collect(),
        items: design
            .items
            .iter()
            .enumerate()
            .map(|(i, item)| ItemRow {
                n: i + 1,
                kind: item.kind.as_str().to_owned(),
                title: item.title.clone(),
                description: item.description.clone().unwrap_or_default(),
                cadence: item.cadence.clone().unwrap_or_default(),
            })
            .collect(),
    });
    let filled = typed.items.iter().filter(|i| !i.title.trim().is_empty() || !i.description.trim().is_empty());
    let mut items: Vec<ItemRow> = filled.cloned().collect();
    let first_blank = items.len() + 1;
    items.iter_mut().enumerate().for_each(|(i, item)| item.n = i + 1);
    items.extend((0..BLANK_ITEMS).map(|b| ItemRow {
        n: first_blank + b,
        kind: String::new(),
        title: String::new(),
        description: String::new(),
        cadence: String::new(),
    }));
    ComposerPage {
        chrome: visitor.chrome(),
        id: people.engagement.id,
        title: people.engagement.title.clone(),
        version: design.version,
        status: super::words::design_status(design.status),
        draft: design.status == DesignStatus::Draft,
        revision: design.revision,
        summary: typed.summary,
        themes: themes
            .iter()
            .map(|t| Choice {
                id: t.id.to_string(),
                label: t.title.clone(),
                detail: t.description.clone().unwrap_or_default(),
                chosen: typed.themes.contains(&t.id.to_string()),
            })
            .collect(),
        outcomes: outcomes
            .iter()
            .map(|o| Choice {
                id: o.id.to_string(),
                label: o.title.clone(),
                detail: format!(
                    "{}: {} → {}",
                    o.measure.as_deref().unwrap_or("no measure"),
                    o.baseline.as_deref().unwrap_or("?"),
                    o.target.as_deref().unwrap_or("?")
                ),
                chosen: typed.outcomes.contains(&o.id.to_string()),
            })
            .collect(),
        items,
        previous: previous.as_ref().map(|p| p.version),
        changes: previous.map(|p| design.changes_since(&p).iter().map(change_text).collect()).unwrap_or_default(),
        decisions: decision_views(&decisions, &people),
        message,
        refused,
    }
}

async fn load(state: &AppState, visitor: &Visitor, key: (EngagementId, i32)) -> Result<Composer, PageError> {
    let caller = visitor.require()?;
    Ok(state.run(move |conn| keel_commands::coach::composer(conn, &caller, key)).await?)
}

#[derive(serde::Deserialize)]
pub struct SavedQuery {
    #[serde(default)]
    saved: Option<String>,
}

pub async fn composer(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<(EngagementId, i32)>,
    query: web::Query<SavedQuery>,
) -> Result<HttpResponse, PageError> {
    let data = load(&state, &visitor, path.into_inner()).await?;
    let message = query.saved.as_ref().map(|_| "The draft is saved. Nobody else reads it until you submit it.");
    Ok(visitor.finish(render(StatusCode::OK, &page(&visitor, data, None, message, None))?))
}

/// The design as the composer typed it, for the command.
fn design_input(typed: &Typed) -> Result<DesignInput, PageError> {
    let themes = typed.themes.iter().map(|v| v.parse::<ThemeId>()).collect::<Result<Vec<_>, _>>();
    let themes = themes.map_err(|_| unreadable())?;
    let outcomes = typed.outcomes.iter().map(|v| v.parse::<OutcomeId>()).collect::<Result<Vec<_>, _>>();
    let outcomes = outcomes.map_err(|_| unreadable())?;
    let mut items = Vec::new();
    for row in &typed.items {
        if row.title.trim().is_empty() && row.description.trim().is_empty() && row.cadence.trim().is_empty() {
            continue;
        }
        let kind = match row.kind.trim() {
            "" => ItemKind::Practice,
            chosen => chosen.parse::<ItemKind>().map_err(|_| unreadable())?,
        };
        items.push(DesignItem {
            kind,
            title: row.title.trim().to_owned(),
            description: optional(&row.description),
            cadence: optional(&row.cadence),
        });
    }
    Ok(DesignInput {
        summary: Some(typed.summary.trim().to_owned()),
        theme_ids: Some(themes),
        outcome_ids: Some(outcomes),
        items: Some(items),
    })
}

/// Saves the draft as typed.
pub async fn save(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<(EngagementId, i32)>,
    form: Fields,
) -> Result<HttpResponse, PageError> {
    let fields = form.into_inner();
    visitor.check_form(csrf(&fields))?;
    let caller = visitor.require()?;
    let (id, version) = path.into_inner();
    let typed = typed_from(&fields);
    let input = design_input(&typed)?;
    let precondition = opened_at(field(&fields, "revision"));
    let result = state
        .run(move |conn| {
            keel_commands::designs::update(conn, &caller, (id, version), precondition.as_ref(), &input).map(|_| ())
        })
        .await;
    match refused_by(result, "design")? {
        Ok(()) => Ok(see_other(&format!("/engagements/{id}/designs/{version}/edit?saved=1"))),
        Err((status, refused)) => {
            let data = load(&state, &visitor, (id, version)).await?;
            Ok(visitor.finish(render(status, &page(&visitor, data, Some(typed), None, Some(refused)))?))
        }
    }
}

/// Submits the saved draft for the leader's and sponsors' decision.
pub async fn submit(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<(EngagementId, i32)>,
    form: Fields,
) -> Result<HttpResponse, PageError> {
    let fields = form.into_inner();
    visitor.check_form(csrf(&fields))?;
    let caller = visitor.require()?;
    let (id, version) = path.into_inner();
    let precondition = opened_at(field(&fields, "revision"));
    let links = state.pages.links.clone();
    let result = state
        .run(move |conn| {
            keel_commands::designs::submit(conn, &caller, (id, version), precondition.as_ref(), &links).map(|_| ())
        })
        .await;
    match refused_by(result, "design")? {
        Ok(()) => Ok(see_other(&format!("/engagements/{id}?saved=submitted#design"))),
        Err((status, refused)) => {
            let data = load(&state, &visitor, (id, version)).await?;
            Ok(visitor.finish(render(status, &page(&visitor, data, None, None, Some(refused)))?))
        }
    }
}

/// Starts the next version: blank, or a copy of `copy_from`.
pub async fn start(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<EngagementId>,
    form: Fields,
) -> Result<HttpResponse, PageError> {
    let fields = form.into_inner();
    visitor.check_form(csrf(&fields))?;
    let caller = visitor.require()?;
    let id = path.into_inner();
    let copy_from = match field(&fields, "copy_from").trim() {
        "" => None,
        v => Some(v.parse::<i32>().map_err(|_| unreadable())?),
    };
    let input = DesignInput::default();
    let result = state.run(move |conn| keel_commands::designs::create(conn, &caller, id, copy_from, &input)).await;
    match refused_by(result, "design")? {
        Ok(design) => Ok(see_other(&format!("/engagements/{id}/designs/{}/edit", design.version))),
        Err(refused) => super::coach::show_refused(&state, &visitor, id, refused, Default::default()).await,
    }
}
