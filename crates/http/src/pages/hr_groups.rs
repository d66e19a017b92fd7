//! A new group (a cohort, or a team with its leader) from the hr_partner's workspace (and an
//! admin's), with its participants: the command of `POST /v1/groups`, which makes the group
//! and adds the people chosen in one transaction, its refusals (an overdrawn contract, a team
//! without its leader, more people than places) shown in words on the form, nothing made.

use std::collections::BTreeSet;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use keel_domain::group::{GroupKind, NewGroup};
use keel_domain::{OrganizationId, UserId};

use super::forms::{Fields, Refused, count_field, date_field, field, hours_field, refused_on_form};
use super::hr::{Choice, OrganizationQuery, choose_organization, nav, organization_of, workspace};
use super::{Chrome, PageError, Visitor, render, see_other};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "pages/hr_new_group.html")]
struct NewGroupPage {
    chrome: Chrome,
    nav: Vec<(&'static str, &'static str, bool)>,
    organization: String,
    kinds: Vec<Choice>,
    coaches: Vec<Choice>,
    sponsors: Vec<Choice>,
    team_leaders: Vec<Choice>,
    participants: Vec<Choice>,
    contracts: Vec<Choice>,
    refused: Option<Refused>,
    typed: Vec<(String, String)>,
}

impl NewGroupPage {
    fn typed(&self, name: &str) -> &str {
        field(&self.typed, name)
    }

    fn error(&self, name: &str) -> &str {
        self.refused.as_ref().map_or("", |r| r.error_for(name))
    }
}

async fn new_group_page(
    state: &web::Data<AppState>,
    visitor: &Visitor,
    organization: Option<OrganizationId>,
    refused: Option<(StatusCode, Refused)>,
    typed: Vec<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let (caller, own) = workspace(visitor)?;
    let Some(organization) = organization.or(own) else {
        let purpose = "Choose the organization the group is for.";
        return choose_organization(state, visitor, caller, "/groups/new", "New group", purpose).await;
    };
    let directory = state.run(move |conn| keel_commands::hr::directory(conn, &caller, organization)).await?;
    let chosen: BTreeSet<&str> = typed.iter().filter(|(k, _)| k == "participant").map(|(_, v)| v.as_str()).collect();
    let choose = |value: String, label: String, name: &str| {
        let chosen = field(&typed, name) == value;
        Choice { value, label, chosen }
    };
    let people: Vec<(String, String)> =
        directory.people.iter().map(|u| (u.id.to_string(), format!("{} ({})", u.name, u.email.as_str()))).collect();
    let view = NewGroupPage {
        chrome: visitor.chrome(),
        nav: nav("/groups/new"),
        organization: organization.to_string(),
        kinds: [
            (GroupKind::Cohort, "A cohort: people from across the organization"),
            (GroupKind::Team, "A team, with its leader"),
        ]
        .into_iter()
        .map(|(kind, label)| choose(kind.as_str().to_owned(), label.to_owned(), "kind"))
        .collect(),
        coaches: directory.coaches.iter().map(|u| choose(u.id.to_string(), u.name.clone(), "coach_id")).collect(),
        sponsors: people.iter().map(|(v, l)| choose(v.clone(), l.clone(), "sponsor_id")).collect(),
        team_leaders: people.iter().map(|(v, l)| choose(v.clone(), l.clone(), "team_leader_id")).collect(),
        participants: people
            .iter()
            .map(|(v, l)| Choice { value: v.clone(), label: l.clone(), chosen: chosen.contains(v.as_str()) })
            .collect(),
        contracts: directory
            .contracts
            .iter()
            .map(|c| {
                choose(c.id.to_string(), format!("{} ({} to {})", c.name, c.start_date, c.end_date), "contract_id")
            })
            .collect(),
        refused: refused.as_ref().map(|(_, r)| r.clone()),
        typed,
    };
    let status = refused.map_or(StatusCode::OK, |(s, _)| s);
    Ok(visitor.finish(render(status, &view)?))
}

pub async fn new_group(
    state: web::Data<AppState>,
    visitor: Visitor,
    query: web::Query<OrganizationQuery>,
) -> Result<HttpResponse, PageError> {
    let asked = query.organization_id.parse().ok();
    new_group_page(&state, &visitor, asked, None, Vec::new()).await
}

/// What the form asks for, read; a field that cannot be read is refused by name.
fn input_of(organization: OrganizationId, typed: &[(String, String)]) -> Result<(NewGroup, Vec<UserId>), Refused> {
    let person = |name: &str| field(typed, name).parse::<UserId>().ok();
    let kind = field(typed, "kind")
        .parse::<GroupKind>()
        .map_err(|_| Refused::unreadable("group", "the kind of group", "kind", "choose a cohort or a team"))?;
    let Some(start_date) = date_field("group", "start_date", field(typed, "start_date"))? else {
        return Err(Refused::unreadable("group", "the start", "start_date", "is required"));
    };
    let mut participants = Vec::new();
    for (_, value) in typed.iter().filter(|(k, _)| k == "participant") {
        let id = value.parse::<UserId>().map_err(|_| {
            Refused::unreadable("group", "a participant", "participants", "choose the participants from the list")
        })?;
        if !participants.contains(&id) {
            participants.push(id);
        }
    }
    let input = NewGroup {
        organization_id: organization,
        kind,
        name: field(typed, "name").trim().to_owned(),
        // Not chosen: an id no one has, which the command refuses by name.
        coach_id: person("coach_id").unwrap_or_else(UserId::generate),
        sponsor_id: person("sponsor_id").unwrap_or_else(UserId::generate),
        hr_partner_id: None,
        team_leader_id: person("team_leader_id"),
        max_participants: count_field("group", "max_participants", field(typed, "max_participants"))?,
        monthly_hours_budget: hours_field("group", "monthly_hours_budget", field(typed, "monthly_hours_budget"))?,
        start_date,
        planned_end_date: date_field("group", "planned_end_date", field(typed, "planned_end_date"))?,
        contract_id: field(typed, "contract_id").parse().ok(),
    };
    Ok((input, participants))
}

pub async fn create_group(
    state: web::Data<AppState>,
    visitor: Visitor,
    form: Fields,
) -> Result<HttpResponse, PageError> {
    let typed = form.into_inner();
    visitor.check_form(field(&typed, "csrf"))?;
    let (caller, own) = workspace(&visitor)?;
    let Some(organization) = organization_of(own, &typed) else { return Err(PageError::not_found()) };
    let (input, participants) = match input_of(organization, &typed) {
        Ok(read) => read,
        Err(refused) => {
            let refused = Some((StatusCode::UNPROCESSABLE_ENTITY, refused));
            return new_group_page(&state, &visitor, Some(organization), refused, typed).await;
        }
    };
    let result = state.run(move |conn| keel_commands::groups::create(conn, &caller, input, &participants)).await;
    match refused_on_form(result, "group")? {
        Ok(seen) => Ok(visitor.finish(see_other(&format!("/groups/{}", seen.group.id)))),
        Err(refused) => new_group_page(&state, &visitor, Some(organization), Some(refused), typed).await,
    }
}
