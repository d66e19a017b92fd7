//! Organizations.

use diesel::prelude::*;
use keel_domain::audit::{AuditRecord, CommandContext};
use keel_domain::organization::{NewOrganization, Organization, OrganizationPatch};
use keel_domain::page::{Page, PageRequest};
use keel_domain::{OrganizationId, Precondition};

use crate::connection::{DbConnection, write_transaction};
use crate::error::StoreError;
use crate::repo::{audit, versioned};
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

/// A page of organizations; `only` restricts it to one (callers who see only their own).
pub fn list(
    conn: &mut DbConnection,
    only: Option<OrganizationId>,
    page: PageRequest,
) -> Result<Page<Organization>, StoreError> {
    let mut query = organizations::table
        .select(OrganizationRow::as_select())
        .order(organizations::id.asc())
        .limit(i64::from(page.limit) + 1)
        .into_boxed();
    if let Some(id) = only {
        query = query.filter(organizations::id.eq(id.to_string()));
    }
    if let Some(after) = page.after {
        query = query.filter(organizations::id.gt(after.to_string()));
    }
    let rows = query.load(conn)?;
    let items = rows.into_iter().map(Organization::try_from).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_overfetch(items, page.limit))
}

/// The current state, with the row locked until the transaction ends.
fn get_for_update(conn: &mut DbConnection, id: OrganizationId) -> Result<Organization, StoreError> {
    let row: Option<OrganizationRow> =
        super::first_for_update!(conn, organizations::table.find(id.to_string()).select(OrganizationRow::as_select()))?;
    row.map(Organization::try_from).transpose()?.ok_or_else(|| StoreError::not_found(RESOURCE))
}

pub fn update(
    conn: &mut DbConnection,
    ctx: &CommandContext,
    id: OrganizationId,
    precondition: Option<&Precondition>,
    patch: &OrganizationPatch,
) -> Result<Organization, StoreError> {
    versioned::modify(
        conn,
        precondition,
        |conn| get_for_update(conn, id),
        |_conn, current| {
            let record = AuditRecord::new(ctx, "organization.updated", RESOURCE, id, Some(id));
            Ok(Some(versioned::Change::new(current.apply(patch)?, record.with_fields(patch.changed_fields()))))
        },
        write,
    )
}

/// Writes `org` if the stored version is still `expected_version`; returns the rows written.
fn write(conn: &mut DbConnection, org: &Organization, expected_version: i64) -> QueryResult<usize> {
    diesel::update(
        organizations::table
            .filter(organizations::id.eq(org.id.to_string()))
            .filter(organizations::version.eq(expected_version)),
    )
    .set(OrganizationRow::from(org))
    .execute(conn)
}
