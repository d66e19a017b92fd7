//! Organizations.

use diesel::prelude::*;
use keel_domain::audit::{AuditRecord, CommandContext};
use keel_domain::organization::{NewOrganization, Organization, OrganizationPatch};
use keel_domain::page::{Page, PageRequest};
use keel_domain::{DomainError, OrganizationId, Precondition};

use crate::connection::{DbConnection, retry_lost_races, write_transaction};
use crate::error::StoreError;
use crate::repo::audit;
use crate::rows::OrganizationRow;
use crate::schema::organizations;

const RESOURCE: &str = "organization";

pub fn create(
    conn: &mut DbConnection,
    ctx: &CommandContext,
    input: NewOrganization,
) -> Result<Organization, StoreError> {
    let org = Organization::create(input)?;
    write_transaction(conn, |conn| {
        diesel::insert_into(organizations::table).values(OrganizationRow::from(&org)).execute(conn)?;
        audit::append(conn, &AuditRecord::new(ctx, "organization.created", RESOURCE, org.id, Some(org.id)))?;
        Ok(org)
    })
}

pub fn find(conn: &mut DbConnection, id: OrganizationId) -> Result<Option<Organization>, StoreError> {
    super::optional(organizations::table.find(id.to_string()).select(OrganizationRow::as_select()).first(conn))?
        .map(Organization::try_from)
        .transpose()
}

pub fn get(conn: &mut DbConnection, id: OrganizationId) -> Result<Organization, StoreError> {
    find(conn, id)?.ok_or_else(|| StoreError::not_found(RESOURCE))
}

pub fn exists(conn: &mut DbConnection, id: OrganizationId) -> Result<bool, StoreError> {
    Ok(diesel::select(diesel::dsl::exists(organizations::table.find(id.to_string()))).get_result(conn)?)
}

pub fn list(conn: &mut DbConnection, page: PageRequest) -> Result<Page<Organization>, StoreError> {
    let mut query = organizations::table
        .select(OrganizationRow::as_select())
        .order(organizations::id.asc())
        .limit(i64::from(page.limit) + 1)
        .into_boxed();
    if let Some(after) = page.after {
        query = query.filter(organizations::id.gt(after.to_string()));
    }
    let rows = query.load(conn)?;
    let items = rows.into_iter().map(Organization::try_from).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_overfetch(items, page.limit))
}

pub fn update(
    conn: &mut DbConnection,
    ctx: &CommandContext,
    id: OrganizationId,
    precondition: Option<&Precondition>,
    patch: &OrganizationPatch,
) -> Result<Organization, StoreError> {
    retry_lost_races(precondition.is_some(), || {
        write_transaction(conn, |conn| {
            let current = get(conn, id)?;
            Precondition::check(precondition, current.version)?;
            let next = current.apply(patch)?;
            save(conn, &next, current.version)?;
            audit::append(
                conn,
                &AuditRecord::new(ctx, "organization.updated", RESOURCE, id, Some(id))
                    .with_fields(patch.changed_fields()),
            )?;
            Ok(next)
        })
    })
}

/// Writes `org` if the stored version is still `expected_version` (optimistic concurrency: a
/// concurrent writer that got there first makes this a stale-version refusal).
fn save(conn: &mut DbConnection, org: &Organization, expected_version: i64) -> Result<(), StoreError> {
    let updated = diesel::update(
        organizations::table
            .filter(organizations::id.eq(org.id.to_string()))
            .filter(organizations::version.eq(expected_version)),
    )
    .set(OrganizationRow::from(org))
    .execute(conn)?;
    // Zero rows: a concurrent writer changed the row after we read it.
    if updated == 1 { Ok(()) } else { Err(DomainError::StaleVersion { current: None }.into()) }
}
