//! An engagement managed from the hr_partner's workspace (and an admin's): its title, monthly
//! hours, planned end, contract and sponsors changed, the program put on hold, resumed or
//! cancelled. Each through the API's command (`PATCH /v1/engagements/{id}`, the phase
//! transition) with the signed-in person as the caller; a refusal (an overdrawn contract, a
//! stale form, a sponsor who may not be one) shown in words on the form, nothing saved.

use std::collections::BTreeSet;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use keel_domain::engagement::{Engagement, EngagementPatch, Phase};
use keel_domain::{ContractId, EngagementId, UserId};

use super::forms::{Fields, Refused, date_field, field, hours_field, opened_at, optional, refused_on_form};
use super::hr::{Choice, nav, workspace};
use super::{Chrome, PageError, Visitor, render, see_other};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "pages/hr_engagement.html")]
struct ManagePage {
    chrome: Chrome,
    nav: Vec<(&'static str, &'static str, bool)>,
    id: String,
    title: String,
    version: i64,
    phase: &'static str,
    /// Where a resume goes (on hold only), in words and as the phase's name.
    resume_to: Option<(&'static str, &'static str)>,
    /// Whether it can still be put on hold or cancelled (not ended).
    open: bool,
    on_hold: bool,
    sponsors: Vec<Choice>,
    contracts: Vec<Choice>,
    saved: Option<&'static str>,
    refused: Option<Refused>,
    typed: Vec<(String, String)>,
    /// The reason typed for a hold or a cancellation that was refused.
    reason: String,
}

impl ManagePage {
    fn typed(&self, name: &str) -> &str {
        field(&self.typed, name)
    }

    fn error(&self, name: &str) -> &str {
        self.refused.as_ref().map_or("", |r| r.error_for(name))
    }

    fn refused_here(&self, form: &str) -> bool {
        self.refused.as_ref().is_some_and(|r| r.form == form)
    }
}

/// What the form shows for an engagement as recorded.
fn recorded(engagement: &Engagement) -> Vec<(String, String)> {
    let mut typed = vec![
        ("title".to_owned(), engagement.title.clone()),
        ("monthly_hours_budget".to_owned(), engagement.monthly_hours_budget.to_string()),
        ("planned_end_date".to_owned(), engagement.planned_end_date.to_string()),
        ("contract_id".to_owned(), engagement.contract_id.map(|c| c.to_string()).unwrap_or_default()),
    ];
    typed.extend(engagement.sponsor_ids.iter().map(|s| ("sponsor_id".to_owned(), s.to_string())));
    typed
}

#[derive(serde::Deserialize)]
pub struct SavedQuery {
    #[serde(default)]
    saved: String,
}

/// A form sent back: its refusal, the terms as typed (none: as recorded), the reason typed.
#[derive(Default)]
struct Form {
    refused: Option<(StatusCode, Refused)>,
    typed: Option<Vec<(String, String)>>,
    reason: String,
}

async fn manage_page(
    state: &web::Data<AppState>,
    visitor: &Visitor,
    id: EngagementId,
    form: Form,
    saved: Option<&'static str>,
) -> Result<HttpResponse, PageError> {
    let Form { refused, typed, reason } = form;
    let (caller, _) = workspace(visitor)?;
    let (engagement, directory) = state
        .run(move |conn| {
            let engagement = keel_commands::engagements::get(conn, &caller, id)?;
            let directory = keel_commands::hr::directory(conn, &caller, engagement.organization_id)?;
            Ok((engagement, directory))
        })
        .await?;
    let typed = typed.unwrap_or_else(|| recorded(&engagement));
    let sponsors_typed: BTreeSet<&str> =
        typed.iter().filter(|(k, _)| k == "sponsor_id").map(|(_, v)| v.as_str()).collect();
    let view = ManagePage {
        chrome: visitor.chrome(),
        nav: nav(""),
        id: engagement.id.to_string(),
        title: engagement.title.clone(),
        version: engagement.version,
        phase: engagement.phase.label(),
        resume_to: engagement.held_from.filter(|_| engagement.phase == Phase::OnHold).map(|p| (p.label(), p.as_str())),
        open: !engagement.phase.is_terminal(),
        on_hold: engagement.phase == Phase::OnHold,
        sponsors: directory
            .people
            .iter()
            .filter(|u| u.id != engagement.leader_id)
            .map(|u| Choice {
                value: u.id.to_string(),
                label: format!("{} ({})", u.name, u.email.as_str()),
                chosen: sponsors_typed.contains(u.id.to_string().as_str()),
            })
            .collect(),
        contracts: directory
            .contracts
            .iter()
            .map(|c| Choice {
                value: c.id.to_string(),
                label: format!("{} ({} to {})", c.name, c.start_date, c.end_date),
                chosen: field(&typed, "contract_id") == c.id.to_string(),
            })
            .collect(),
        saved,
        refused: refused.as_ref().map(|(_, r)| r.clone()),
        typed,
        reason,
    };
    let status = refused.map_or(StatusCode::OK, |(s, _)| s);
    Ok(visitor.finish(render(status, &view)?))
}

/// The manage page (404 for those without a workspace, or who may not read the engagement).
pub async fn page(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<EngagementId>,
    query: web::Query<SavedQuery>,
) -> Result<HttpResponse, PageError> {
    let saved = match query.saved.as_str() {
        "terms" => Some("Saved. The people in the program see the new terms."),
        "phase" => Some("Done. The program's phase changed."),
        _ => None,
    };
    manage_page(&state, &visitor, path.into_inner(), Form::default(), saved).await
}

/// The changes the form asks for: only the fields that differ from what is recorded, so that
/// an unchanged field is not sent (and not checked) again.
fn patch_of(current: &Engagement, typed: &[(String, String)]) -> Result<EngagementPatch, Refused> {
    let mut patch = EngagementPatch::default();
    let title = field(typed, "title").trim();
    if title != current.title {
        patch.title = Some(title.to_owned());
    }
    let Some(hours) = hours_field("terms", "monthly_hours_budget", field(typed, "monthly_hours_budget"))? else {
        return Err(Refused::unreadable("terms", "the monthly hours", "monthly_hours_budget", "is required"));
    };
    if (hours - current.monthly_hours_budget).abs() > f64::EPSILON {
        patch.monthly_hours_budget = Some(hours);
    }
    match date_field("terms", "planned_end_date", field(typed, "planned_end_date"))? {
        Some(end) if end != current.planned_end_date => patch.planned_end_date = Some(end),
        Some(_) => {}
        None => return Err(Refused::unreadable("terms", "the planned end", "planned_end_date", "is required")),
    }
    let contract: Option<ContractId> = match field(typed, "contract_id").trim() {
        "" => None,
        text => Some(text.parse().map_err(|_| {
            Refused::unreadable("terms", "the contract", "contract_id", "choose one of the organization's contracts")
        })?),
    };
    if contract != current.contract_id {
        patch.contract_id = Some(contract);
    }
    let mut sponsors = Vec::new();
    for (_, value) in typed.iter().filter(|(k, _)| k == "sponsor_id") {
        let id: UserId = value.parse().map_err(|_| {
            Refused::unreadable("terms", "a sponsor", "sponsor_ids", "choose the sponsors from the list")
        })?;
        if !sponsors.contains(&id) {
            sponsors.push(id);
        }
    }
    let now: BTreeSet<UserId> = current.sponsor_ids.iter().copied().collect();
    if sponsors.iter().copied().collect::<BTreeSet<_>>() != now {
        patch.sponsor_ids = Some(sponsors);
    }
    Ok(patch)
}

/// The terms changed through `PATCH /v1/engagements/{id}`'s command, as of the version the form
/// was opened at.
pub async fn save_terms(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<EngagementId>,
    form: Fields,
) -> Result<HttpResponse, PageError> {
    let typed = form.into_inner();
    visitor.check_form(field(&typed, "csrf"))?;
    let (caller, _) = workspace(&visitor)?;
    let id = path.into_inner();
    let precondition = opened_at(field(&typed, "version"));
    let reader = caller.clone();
    let current = state.run(move |conn| keel_commands::engagements::get(conn, &reader, id)).await?;
    let patch = match patch_of(&current, &typed) {
        Ok(patch) => patch,
        Err(refused) => {
            let form = Form {
                refused: Some((StatusCode::UNPROCESSABLE_ENTITY, refused)),
                typed: Some(typed),
                ..Form::default()
            };
            return manage_page(&state, &visitor, id, form, None).await;
        }
    };
    let result = state
        .run(move |conn| keel_commands::engagements::update(conn, &caller, id, precondition.as_ref(), &patch))
        .await;
    match refused_on_form(result, "terms")? {
        Ok(_) => Ok(visitor.finish(see_other(&format!("/engagements/{id}/manage?saved=terms")))),
        Err(refused) => {
            let form = Form { refused: Some(refused), typed: Some(typed), ..Form::default() };
            manage_page(&state, &visitor, id, form, None).await
        }
    }
}

/// On hold, resumed or cancelled, through the phase transition's command.
pub async fn change_phase(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<EngagementId>,
    form: Fields,
) -> Result<HttpResponse, PageError> {
    let typed = form.into_inner();
    visitor.check_form(field(&typed, "csrf"))?;
    let (caller, _) = workspace(&visitor)?;
    let id = path.into_inner();
    let Ok(to) = field(&typed, "to").trim().parse::<Phase>() else {
        let refused = Refused::unreadable("phase", "the change", "to", "choose hold, resume or cancel");
        let form = Form { refused: Some((StatusCode::UNPROCESSABLE_ENTITY, refused)), ..Form::default() };
        return manage_page(&state, &visitor, id, form, None).await;
    };
    let precondition = opened_at(field(&typed, "version"));
    let reason = optional(field(&typed, "reason"));
    let result = state
        .run(move |conn| keel_commands::engagements::transition(conn, &caller, id, precondition.as_ref(), to, reason))
        .await;
    match refused_on_form(result, "phase")? {
        Ok(_) => Ok(visitor.finish(see_other(&format!("/engagements/{id}/manage?saved=phase")))),
        Err(refused) => {
            let form = Form { refused: Some(refused), typed: None, reason: field(&typed, "reason").to_owned() };
            manage_page(&state, &visitor, id, form, None).await
        }
    }
}
