//! What the hr_partner's workspace reads (docs/access.md, contracts and reports): whose
//! workspace it is, and the people, coaches, templates and contracts a new engagement is made
//! from. The workspace's changes go through the same commands as the API.

use keel_domain::OrganizationId;
use keel_domain::contract::Contract;
use keel_domain::page::PageRequest;
use keel_domain::policy::{self, Action, Visibility};
use keel_domain::template::ProgramTemplate;
use keel_domain::user::{Role, User, UserStatus};
use keel_persistence::repo::users::{self, UserFilter};
use keel_persistence::{DbConnection, StoreError};

use crate::frame::Caller;

/// Whose programs the caller's workspace shows: `Some(None)` every organization's (an admin),
/// `Some(Some(org))` one organization's (its hr_partner), `None` no workspace (everyone else
/// gets their own programs).
pub fn workspace(caller: &Caller) -> Option<Option<OrganizationId>> {
    match policy::organization_visibility(&caller.principal) {
        Some(Visibility::All) => Some(None),
        Some(Visibility::Organization(org))
            if matches!(caller.principal, keel_domain::policy::Principal::User { .. })
                && policy::check(&caller.principal, &Action::ReadReports { organization_id: org }).is_ok() =>
        {
            Some(Some(org))
        }
        _ => None,
    }
}

/// What a new engagement of `organization` is made from.
pub struct Directory {
    /// The organization's active people, by name.
    pub people: Vec<User>,
    /// Active coaches, by name.
    pub coaches: Vec<User>,
    pub templates: Vec<ProgramTemplate>,
    pub contracts: Vec<Contract>,
}

fn everyone(conn: &mut DbConnection, filter: &UserFilter) -> Result<Vec<User>, StoreError> {
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let page = users::list(conn, filter, PageRequest { limit: 200, after })?;
        after = page.items.last().map(|u| u.id.as_uuid());
        all.extend(page.items);
        if !page.has_more {
            all.sort_by_key(|u: &User| u.name.to_lowercase());
            return Ok(all);
        }
    }
}

/// The choices of the new-engagement form: only for those who may create engagements in the
/// organization (coaches are named to them so that they can choose one).
pub fn directory(
    conn: &mut DbConnection,
    caller: &Caller,
    organization: OrganizationId,
) -> Result<Directory, StoreError> {
    policy::check(&caller.principal, &Action::CreateEngagement { organization_id: organization })?;
    let active = Some(UserStatus::Active);
    let people =
        everyone(conn, &UserFilter { organization_id: Some(organization), status: active, ..UserFilter::default() })?;
    let coaches = everyone(conn, &UserFilter { role: Some(Role::Coach), status: active, ..UserFilter::default() })?;
    let mut templates = Vec::new();
    let mut after = None;
    loop {
        let page = crate::templates::list(conn, caller, Some(organization), PageRequest { limit: 200, after })?;
        after = page.items.last().map(|t| t.id.as_uuid());
        templates.extend(page.items);
        if !page.has_more {
            break;
        }
    }
    let contracts = crate::contracts::list(conn, caller, Some(organization), PageRequest { limit: 200, after: None })?
        .items
        .into_iter()
        .map(|v| v.contract)
        .collect();
    Ok(Directory { people, coaches, templates, contracts })
}
