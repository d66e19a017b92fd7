//! API clients.

use diesel::prelude::*;
use keel_domain::OrganizationId;
use keel_domain::api_client::ApiClient;
use keel_domain::page::{Page, PageRequest};

use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::rows::ApiClientRow;
use crate::schema::api_clients;

const RESOURCE: &str = "api_client";

pub fn insert(conn: &mut DbConnection, client: &ApiClient) -> Result<(), StoreError> {
    diesel::insert_into(api_clients::table).values(ApiClientRow::from(client)).execute(conn)?;
    Ok(())
}

pub fn find_by_client_id(conn: &mut DbConnection, client_id: &str) -> Result<Option<ApiClient>, StoreError> {
    super::optional(
        api_clients::table.filter(api_clients::client_id.eq(client_id)).select(ApiClientRow::as_select()).first(conn),
    )?
    .map(ApiClient::try_from)
    .transpose()
}

/// The client `client_id` of organization `org`; another organization's client is not found.
pub fn get(conn: &mut DbConnection, org: OrganizationId, client_id: &str) -> Result<ApiClient, StoreError> {
    find_by_client_id(conn, client_id)?
        .filter(|c| c.organization_id == org)
        .ok_or_else(|| StoreError::not_found(RESOURCE))
}

pub fn list(conn: &mut DbConnection, org: OrganizationId, page: PageRequest) -> Result<Page<ApiClient>, StoreError> {
    let mut query = api_clients::table
        .filter(api_clients::organization_id.eq(org.to_string()))
        .select(ApiClientRow::as_select())
        .order(api_clients::id.asc())
        .limit(i64::from(page.limit) + 1)
        .into_boxed();
    if let Some(after) = page.after {
        query = query.filter(api_clients::id.gt(after.to_string()));
    }
    let items = query.load(conn)?.into_iter().map(ApiClient::try_from).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_overfetch(items, page.limit))
}

/// The client `client_id` of organization `org` (another organization's client is not found),
/// with the row locked until the transaction ends.
pub fn lock(conn: &mut DbConnection, org: OrganizationId, client_id: &str) -> Result<ApiClient, StoreError> {
    let row: Option<ApiClientRow> = super::first_for_update!(
        conn,
        api_clients::table
            .filter(api_clients::client_id.eq(client_id))
            .filter(api_clients::organization_id.eq(org.to_string()))
            .select(ApiClientRow::as_select())
    )?;
    row.map(ApiClient::try_from).transpose()?.ok_or_else(|| StoreError::not_found(RESOURCE))
}

/// Writes `client` over the stored row, which must still be at `read_version` (else the change
/// lost a race: a stale version).
pub fn save(conn: &mut DbConnection, client: &ApiClient, read_version: i64) -> Result<(), StoreError> {
    let written = diesel::update(
        api_clients::table
            .filter(api_clients::id.eq(client.id.to_string()))
            .filter(api_clients::version.eq(read_version)),
    )
    .set(ApiClientRow::from(client))
    .execute(conn)?;
    super::written_once(written)
}
