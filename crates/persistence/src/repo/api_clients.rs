//! API clients.

use diesel::prelude::*;
use keel_domain::OrganizationId;
use keel_domain::api_client::ApiClient;
use keel_domain::audit::{AuditRecord, CommandContext};
use keel_domain::page::{Page, PageRequest};

use crate::connection::{DbConnection, write_transaction};
use crate::error::StoreError;
use crate::repo::{audit, versioned};
use crate::rows::ApiClientRow;
use crate::schema::api_clients;

const RESOURCE: &str = "api_client";

pub fn create(conn: &mut DbConnection, ctx: &CommandContext, client: ApiClient) -> Result<ApiClient, StoreError> {
    write_transaction(conn, |conn| {
        diesel::insert_into(api_clients::table).values(ApiClientRow::from(&client)).execute(conn)?;
        let record =
            AuditRecord::new(ctx, "api_client.created", RESOURCE, &client.client_id, Some(client.organization_id));
        audit::append(conn, &record.with_fields(vec!["name", "scopes"]))?;
        Ok(client)
    })
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

fn get_for_update(conn: &mut DbConnection, org: OrganizationId, client_id: &str) -> Result<ApiClient, StoreError> {
    let row: Option<ApiClientRow> = super::first_for_update!(
        conn,
        api_clients::table
            .filter(api_clients::client_id.eq(client_id))
            .filter(api_clients::organization_id.eq(org.to_string()))
            .select(ApiClientRow::as_select())
    )?;
    row.map(ApiClient::try_from).transpose()?.ok_or_else(|| StoreError::not_found(RESOURCE))
}

fn write(conn: &mut DbConnection, client: &ApiClient, expected_version: i64) -> QueryResult<usize> {
    diesel::update(
        api_clients::table
            .filter(api_clients::id.eq(client.id.to_string()))
            .filter(api_clients::version.eq(expected_version)),
    )
    .set(ApiClientRow::from(client))
    .execute(conn)
}

/// Replaces the secret's hash; the old secret stops working.
pub fn rotate_secret(
    conn: &mut DbConnection,
    ctx: &CommandContext,
    org: OrganizationId,
    client_id: &str,
    secret_hash: String,
) -> Result<ApiClient, StoreError> {
    versioned::modify(
        conn,
        None,
        |conn| get_for_update(conn, org, client_id),
        |_conn, current| {
            let next = current.rotate_secret(secret_hash.clone())?;
            let record = AuditRecord::new(ctx, "api_client.secret_rotated", RESOURCE, client_id, Some(org));
            Ok(Some(versioned::Change::new(next, record.with_fields(vec!["secret"]))))
        },
        write,
    )
}

/// Revokes the client; revoking a revoked client changes nothing.
pub fn revoke(
    conn: &mut DbConnection,
    ctx: &CommandContext,
    org: OrganizationId,
    client_id: &str,
) -> Result<ApiClient, StoreError> {
    versioned::modify(
        conn,
        None,
        |conn| get_for_update(conn, org, client_id),
        |_conn, current| {
            Ok(current.revoke().map(|next| {
                let record = AuditRecord::new(ctx, "api_client.revoked", RESOURCE, client_id, Some(org));
                versioned::Change::new(next, record.with_fields(vec!["revoked_at"]))
            }))
        },
        write,
    )
}
