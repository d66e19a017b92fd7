//! The people of an organization, on the hr_partner's workspace (and an admin's): listed a page
//! at a time, and added (leaders, sponsors, participants; another hr_partner) through the
//! command of `POST /v1/users`, its refusals (a taken address, a role the caller may not give)
//! shown in words on the form.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use keel_commands::filters::UserFilter;
use keel_domain::OrganizationId;
use keel_domain::page::PageRequest;
use keel_domain::user::{NewUser, Role, UserStatus};

use super::forms::{Fields, Refused, field, refused_on_form};
use super::hr::{choose_organization, nav, organization_of, workspace};
use super::{Chrome, PageError, Visitor, render, see_other};
use crate::state::AppState;

/// People a page of the list shows.
const PER_PAGE: u32 = 50;

struct PersonRow {
    name: String,
    email: String,
    roles: String,
    status: &'static str,
}

#[derive(Template)]
#[template(path = "pages/hr_people.html")]
struct PeoplePage {
    chrome: Chrome,
    nav: Vec<(&'static str, &'static str, bool)>,
    organization: String,
    rows: Vec<PersonRow>,
    next: Option<String>,
    first_page: Option<String>,
    added: Option<String>,
    refused: Option<Refused>,
    typed: Vec<(String, String)>,
}

impl PeoplePage {
    fn typed(&self, name: &str) -> &str {
        field(&self.typed, name)
    }

    fn error(&self, name: &str) -> &str {
        self.refused.as_ref().map_or("", |r| r.error_for(name))
    }

    fn role_chosen(&self, role: &str) -> bool {
        self.typed.iter().any(|(k, v)| k == "role" && v == role)
    }
}

fn role_words(role: Role) -> &'static str {
    match role {
        Role::Admin => "admin",
        Role::HrPartner => "HR partner",
        Role::Coach => "coach",
    }
}

#[derive(serde::Deserialize)]
pub struct PeopleQuery {
    #[serde(default)]
    organization_id: String,
    #[serde(default)]
    after: String,
    #[serde(default)]
    added: String,
}

async fn people_page(
    state: &web::Data<AppState>,
    visitor: &Visitor,
    organization: Option<OrganizationId>,
    after: Option<uuid::Uuid>,
    added: Option<String>,
    refused: Option<(StatusCode, Refused)>,
    typed: Vec<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let (caller, own) = workspace(visitor)?;
    let Some(organization) = organization.or(own) else {
        let purpose = "Choose the organization whose people you manage.";
        return choose_organization(state, visitor, caller, "/people", "People", purpose).await;
    };
    let filter = UserFilter { organization_id: Some(organization), ..UserFilter::default() };
    let page = state
        .run(move |conn| keel_commands::users::list(conn, &caller, filter, PageRequest { limit: PER_PAGE, after }))
        .await?;
    let base = format!("/people?organization_id={organization}");
    let view = PeoplePage {
        chrome: visitor.chrome(),
        nav: nav("/people"),
        organization: organization.to_string(),
        next: page.has_more.then(|| page.items.last().map(|u| format!("{base}&after={}", u.id.as_uuid()))).flatten(),
        first_page: after.map(|_| base.clone()),
        rows: page
            .items
            .iter()
            .map(|u| PersonRow {
                name: u.name.clone(),
                email: u.email.as_str().to_owned(),
                roles: if u.roles.is_empty() {
                    "—".to_owned()
                } else {
                    u.roles.iter().map(|r| role_words(*r)).collect::<Vec<_>>().join(", ")
                },
                status: match u.status {
                    UserStatus::Active => "Active",
                    UserStatus::Deactivated => "Deactivated",
                },
            })
            .collect(),
        added,
        refused: refused.as_ref().map(|(_, r)| r.clone()),
        typed,
    };
    let status = refused.map_or(StatusCode::OK, |(s, _)| s);
    Ok(visitor.finish(render(status, &view)?))
}

/// The organization's people, a page at a time, with the form to add one.
pub async fn people(
    state: web::Data<AppState>,
    visitor: Visitor,
    query: web::Query<PeopleQuery>,
) -> Result<HttpResponse, PageError> {
    let organization = query.organization_id.parse().ok();
    let after = query.after.parse().ok();
    let added = Some(query.added.trim().to_owned()).filter(|a| !a.is_empty()).map(|a| format!("{a} was added."));
    people_page(&state, &visitor, organization, after, added, None, Vec::new()).await
}

/// A person added through `POST /v1/users`'s command.
pub async fn add_person(state: web::Data<AppState>, visitor: Visitor, form: Fields) -> Result<HttpResponse, PageError> {
    let typed = form.into_inner();
    visitor.check_form(field(&typed, "csrf"))?;
    let (caller, own) = workspace(&visitor)?;
    let Some(organization) = organization_of(own, &typed) else { return Err(PageError::not_found()) };
    let mut roles = Vec::new();
    for (_, value) in typed.iter().filter(|(k, _)| k == "role") {
        let Ok(role) = value.parse::<Role>() else {
            let refused = Refused::unreadable("person", "a role", "roles", "choose the roles from the list");
            let refused = Some((StatusCode::UNPROCESSABLE_ENTITY, refused));
            return people_page(&state, &visitor, Some(organization), None, None, refused, typed).await;
        };
        roles.push(role);
    }
    let input = NewUser {
        email: field(&typed, "email").trim().to_owned(),
        name: field(&typed, "name").trim().to_owned(),
        organization_id: Some(organization),
        roles,
        external_id: None,
    };
    let result = state.run(move |conn| keel_commands::users::create(conn, &caller, input)).await;
    match refused_on_form(result, "person")? {
        Ok(user) => {
            let added = form_urlencoded::Serializer::new(String::new())
                .append_pair("organization_id", &organization.to_string())
                .append_pair("added", &user.name)
                .finish();
            Ok(visitor.finish(see_other(&format!("/people?{added}"))))
        }
        Err(refused) => people_page(&state, &visitor, Some(organization), None, None, Some(refused), typed).await,
    }
}
