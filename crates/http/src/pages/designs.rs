//! The design review (docs/program.md, step 5): the leader and every sponsor read the submitted version,
//! what the assessment found, the outcomes it aims at and what changed since the previous
//! version, and approve it or ask for changes, exactly as through the API.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use keel_commands::pages::Participants;
use keel_domain::EngagementId;
use keel_domain::design::{self, Decision, Design, DesignChange, ItemKind, Verdict};
use keel_domain::program::Outcome;
use keel_domain::stakeholders::{Theme, ThemeKind};

use super::{Chrome, DecidedQuery, DecisionForm, PageError, Visitor, after_form, render};
use crate::state::AppState;

pub(super) struct ThemeView {
    kind: &'static str,
    title: String,
    description: String,
}

pub(super) struct OutcomeView {
    pub(super) title: String,
    pub(super) measure: String,
    pub(super) baseline: String,
    pub(super) target: String,
}

struct ItemView {
    title: String,
    description: String,
    cadence: String,
}

struct ItemGroup {
    heading: &'static str,
    items: Vec<ItemView>,
}

/// A decision on a version of the design: who, what, their comment and when.
pub(super) struct DecisionView {
    pub(super) version: i32,
    pub(super) who: String,
    pub(super) decision: &'static str,
    pub(super) comment: String,
    pub(super) at: String,
}

/// Every decision on every version, newest first, with the deciders' names.
pub(super) fn decision_views(decisions: &[Decision], people: &Participants) -> Vec<DecisionView> {
    decisions
        .iter()
        .rev()
        .map(|d| DecisionView {
            version: d.design_version,
            who: people.name_of(d.approver_id),
            decision: verdict_text(d.verdict),
            comment: d.comment.clone().unwrap_or_default(),
            at: when(d.decided_at),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "pages/design.html")]
struct Review {
    chrome: Chrome,
    title: String,
    leader: String,
    coach: String,
    version: i32,
    status: &'static str,
    submitted_at: Option<String>,
    summary: String,
    themes: Vec<ThemeView>,
    outcomes: Vec<OutcomeView>,
    item_groups: Vec<ItemGroup>,
    previous_version: Option<i32>,
    changes: Vec<String>,
    decisions: Vec<DecisionView>,
    waiting_for: String,
    may_decide: bool,
    my_decision: Option<&'static str>,
    action: String,
    message: Option<String>,
    error: Option<String>,
}

/// Everything the review shows, read in one go as the signed-in person.
struct Loaded {
    people: Participants,
    design: Design,
    decisions: Vec<Decision>,
    previous: Option<Design>,
    themes: Vec<Theme>,
    outcomes: Vec<Outcome>,
}

pub(super) fn verdict_text(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Approve => "approved",
        Verdict::RequestChanges => "asked for changes",
    }
}

pub(super) fn theme_view(theme: &Theme) -> ThemeView {
    ThemeView {
        kind: match theme.kind {
            ThemeKind::Strength => "Strength",
            ThemeKind::DevelopmentArea => "Development area",
        },
        title: theme.title.clone(),
        description: theme.description.clone().unwrap_or_default(),
    }
}

pub(super) fn outcome_view(outcome: &Outcome) -> OutcomeView {
    let with_unit = |v: &Option<String>| match (v, &outcome.unit) {
        (Some(v), Some(unit)) => format!("{v} {unit}"),
        (Some(v), None) => v.clone(),
        (None, _) => "not set".to_owned(),
    };
    OutcomeView {
        title: outcome.title.clone(),
        measure: outcome.measure.clone().unwrap_or_else(|| "not set".to_owned()),
        baseline: with_unit(&outcome.baseline),
        target: with_unit(&outcome.target),
    }
}

pub(super) fn change_text(change: &DesignChange) -> String {
    match change {
        DesignChange::Summary => "The summary was rewritten.".to_owned(),
        DesignChange::ItemAdded(title) => format!("Added: {title}."),
        DesignChange::ItemRemoved(title) => format!("Removed: {title}."),
        DesignChange::ItemChanged(title) => format!("Changed: {title}."),
        DesignChange::Themes => "It answers a different set of themes.".to_owned(),
        DesignChange::Outcomes => "It aims at a different set of outcomes.".to_owned(),
    }
}

pub(super) fn when(t: keel_domain::time::Timestamp) -> String {
    t.format("%-d %B %Y, %H:%M UTC").to_string()
}

async fn load(state: &AppState, visitor: &Visitor, id: EngagementId, version: i32) -> Result<Loaded, PageError> {
    let caller = visitor.require()?;
    Ok(state
        .run(move |conn| {
            use keel_commands::{designs, program, stakeholders};
            let people = keel_commands::pages::participants(conn, &caller, id)?;
            let design = designs::get(conn, &caller, (id, version))?.0;
            // Every version's decisions: who decided what, with their comment, for each.
            let decisions = designs::list(conn, &caller, id)?.1;
            let previous = if version > 1 { Some(designs::get(conn, &caller, (id, version - 1))?.0) } else { None };
            let themes = stakeholders::themes_for_review(conn, &caller, id)?;
            let themes = themes.into_iter().filter(|t| design.theme_ids.contains(&t.id)).collect();
            let outcomes = program::list_outcomes(conn, &caller, id)?.0;
            let outcomes = outcomes.into_iter().filter(|o| design.outcome_ids.contains(&o.id)).collect();
            Ok(Loaded { people, design, decisions, previous, themes, outcomes })
        })
        .await?)
}

fn page(visitor: &Visitor, loaded: Loaded, message: Option<String>, error: Option<String>) -> Review {
    let Loaded { people, design, decisions, previous, themes, outcomes } = loaded;
    let me = visitor.person.as_ref().map(|p| p.id);
    let mine = decisions.iter().find(|d| d.design_version == design.version && Some(d.approver_id) == me);
    let awaits = |person| design::awaits_decision(&people.engagement, &design, &decisions, person);
    let may_decide = me.is_some_and(awaits);
    let waiting_for = people
        .approvers()
        .into_iter()
        .filter(|(id, _)| awaits(*id))
        .map(|(_, name)| name)
        .collect::<Vec<_>>()
        .join(", ");
    let item_groups =
        [(ItemKind::Practice, "Practices"), (ItemKind::Exercise, "Exercises"), (ItemKind::Reading, "Reading")]
            .into_iter()
            .filter_map(|(kind, heading)| {
                let items: Vec<ItemView> = design
                    .items
                    .iter()
                    .filter(|i| i.kind == kind)
                    .map(|i| ItemView {
                        title: i.title.clone(),
                        description: i.description.clone().unwrap_or_default(),
                        cadence: i.cadence.clone().unwrap_or_default(),
                    })
                    .collect();
                (!items.is_empty()).then_some(ItemGroup { heading, items })
            })
            .collect();
    Review {
        chrome: visitor.chrome(),
        title: people.engagement.title.clone(),
        leader: people.leader.1.clone(),
        coach: people.coach.1.clone(),
        version: design.version,
        status: super::words::design_status(design.status),
        submitted_at: design.submitted_at.map(when),
        summary: design.summary.clone(),
        themes: themes.iter().map(theme_view).collect(),
        outcomes: outcomes.iter().map(outcome_view).collect(),
        item_groups,
        previous_version: previous.as_ref().map(|p| p.version),
        changes: previous.map(|p| design.changes_since(&p).iter().map(change_text).collect()).unwrap_or_default(),
        decisions: decision_views(&decisions, &people),
        waiting_for,
        may_decide,
        my_decision: mine.map(|d| verdict_text(d.verdict)),
        action: format!("/engagements/{}/designs/{}/decision", design.engagement_id, design.version),
        message,
        error,
    }
}

pub async fn review(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<(EngagementId, i32)>,
    query: web::Query<DecidedQuery>,
) -> Result<HttpResponse, PageError> {
    let (id, version) = path.into_inner();
    let loaded = load(&state, &visitor, id, version).await?;
    let message = query.message();
    Ok(visitor.finish(render(StatusCode::OK, &page(&visitor, loaded, message, None))?))
}

/// Records the person's decision through the same command as the API; a second submission (a
/// double click) finds the decision made and changes nothing.
pub async fn decide(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<(EngagementId, i32)>,
    form: web::Form<DecisionForm>,
) -> Result<HttpResponse, PageError> {
    visitor.check_form(&form.csrf)?;
    let caller = visitor.require()?;
    let (id, version) = path.into_inner();
    let verdict = match form.decision.as_str() {
        "approve" => Verdict::Approve,
        "request_changes" => Verdict::RequestChanges,
        _ => {
            return Err(PageError::new(
                StatusCode::BAD_REQUEST,
                "Unknown decision",
                "Choose Approve or Request changes.",
            ));
        }
    };
    let comment = form.comment();
    let decided = state
        .run(move |conn| keel_commands::designs::decide(conn, &caller, (id, version), verdict, comment.as_deref()))
        .await;
    let (status, error) = match after_form(decided, &format!("/engagements/{id}/designs/{version}?decided=1"))? {
        Ok(redirect) => return Ok(redirect),
        Err(refused) => refused,
    };
    let loaded = load(&state, &visitor, id, version).await?;
    Ok(visitor.finish(render(status, &page(&visitor, loaded, None, Some(error)))?))
}
