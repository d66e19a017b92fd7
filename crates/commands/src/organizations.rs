//! Organizations (tenants): create, read, list, change.

use keel_domain::OrganizationId;
use keel_domain::Precondition;
use keel_domain::audit::AuditRecord;
use keel_domain::organization::{NewOrganization, Organization, OrganizationPatch};
use keel_domain::page::{Page, PageRequest};
use keel_domain::policy::{self, Action, Visibility};
use keel_persistence::repo::organizations;
use keel_persistence::{DbConnection, StoreError};

use crate::frame::{self, Caller};

const RESOURCE: &str = "organization";

pub fn create(conn: &mut DbConnection, caller: &Caller, input: NewOrganization) -> Result<Organization, StoreError> {
    policy::check(&caller.principal, &Action::CreateOrganization)?;
    let org = Organization::create(input)?;
    frame::run(conn, |tx, effects| {
        organizations::insert(tx, &org)?;
        effects.audit(AuditRecord::new(&caller.ctx, "organization.created", RESOURCE, org.id, Some(org.id)));
        Ok(org)
    })
}

pub fn get(conn: &mut DbConnection, caller: &Caller, id: OrganizationId) -> Result<Organization, StoreError> {
    policy::check(&caller.principal, &Action::ReadOrganization { id })?;
    organizations::get(conn, id)
}

/// The organizations the caller may see: all for admins, their own for its members.
pub fn list(conn: &mut DbConnection, caller: &Caller, page: PageRequest) -> Result<Page<Organization>, StoreError> {
    let only = match policy::organization_visibility(&caller.principal) {
        Some(Visibility::All) => None,
        Some(Visibility::Organization(id)) => Some(id),
        Some(Visibility::OnlySelf(_)) | None => return Ok(Page::empty()),
    };
    organizations::list(conn, only, page)
}

pub fn update(
    conn: &mut DbConnection,
    caller: &Caller,
    id: OrganizationId,
    precondition: Option<&Precondition>,
    patch: &OrganizationPatch,
) -> Result<Organization, StoreError> {
    policy::check(&caller.principal, &Action::UpdateOrganization { id })?;
    frame::run_versioned(conn, precondition, |tx, effects| {
        let current = organizations::lock(tx, id)?;
        Precondition::check(precondition, current.version)?;
        let next = current.apply(patch)?;
        organizations::save(tx, &next, current.version)?;
        let record = AuditRecord::new(&caller.ctx, "organization.updated", RESOURCE, id, Some(id));
        effects.audit(record.with_fields(patch.changed_fields()));
        Ok(next)
    })
}
