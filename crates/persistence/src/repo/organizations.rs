//! Organizations.

use diesel::prelude::*;
use keel_domain::OrganizationId;
use keel_domain::organization::Organization;
use keel_domain::page::{Page, PageRequest};

use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::rows::OrganizationRow;
use crate::schema::organizations;

const RESOURCE: &str = "organization";

pub fn insert(conn: &mut DbConnection, org: &Organization) -> Result<(), StoreError> {
    diesel::insert_into(organizations::table).values(OrganizationRow::from(org)).execute(conn)?;
    Ok(())
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

/// The organization, with the row locked until the transaction ends.
pub fn lock(conn: &mut DbConnection, id: OrganizationId) -> Result<Organization, StoreError> {
    let row: Option<OrganizationRow> =
        super::first_for_update!(conn, organizations::table.find(id.to_string()).select(OrganizationRow::as_select()))?;
    row.map(Organization::try_from).transpose()?.ok_or_else(|| StoreError::not_found(RESOURCE))
}

/// Writes `org` over the stored row, which must still be at `read_version`.
pub fn save(conn: &mut DbConnection, org: &Organization, read_version: i64) -> Result<(), StoreError> {
    let written = diesel::update(
        organizations::table
            .filter(organizations::id.eq(org.id.to_string()))
            .filter(organizations::version.eq(read_version)),
    )
    .set(OrganizationRow::from(org))
    .execute(conn)?;
    super::written_once(written)
}
