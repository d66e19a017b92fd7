//! API clients (service accounts of HR systems): create, list, rotate the secret, revoke.
//!
//! Secrets are made by the front (it shows the secret once); a command asks for its hash only once
//! the caller is allowed, so a refused caller costs no password hashing.

use keel_domain::OrganizationId;
use keel_domain::api_client::{ApiClient, NewApiClient};
use keel_domain::audit::AuditRecord;
use keel_domain::page::{Page, PageRequest};
use keel_domain::policy::{self, Action};
use keel_persistence::repo::{api_clients, organizations};
use keel_persistence::{DbConnection, StoreError};

use crate::frame::{self, Caller};

const RESOURCE: &str = "api_client";

fn authorize(caller: &Caller, organization_id: OrganizationId) -> Result<(), StoreError> {
    policy::check(&caller.principal, &Action::ManageApiClients { organization_id })?;
    Ok(())
}

/// Creates an API client of organization `org` with the given `client_id` and the hash of its
/// secret (`secret_hash` makes it). A missing organization is a 404 (checked before the input, as
/// a failed insert would not say so).
pub fn create(
    conn: &mut DbConnection,
    caller: &Caller,
    org: OrganizationId,
    input: NewApiClient,
    client_id: String,
    secret_hash: impl FnOnce() -> String,
) -> Result<ApiClient, StoreError> {
    authorize(caller, org)?;
    let secret_hash = secret_hash();
    frame::run(conn, |tx, effects| {
        organizations::get(tx, org)?;
        let client = ApiClient::create(org, input, client_id, secret_hash)?;
        api_clients::insert(tx, &client)?;
        let record = AuditRecord::new(&caller.ctx, "api_client.created", RESOURCE, &client.client_id, Some(org));
        effects.audit(record.with_fields(vec!["name", "scopes"]));
        Ok(client)
    })
}

/// The organization whose API clients the caller may list: `org`, if they manage its API
/// clients. A front whose page cursor names the organization asks this before it reads the
/// cursor, so a caller who may not list is refused before their cursor is judged.
pub fn visible(caller: &Caller, org: OrganizationId) -> Result<OrganizationId, StoreError> {
    authorize(caller, org)?;
    Ok(org)
}

/// The organization's API clients (revoked ones included), oldest first.
pub fn list(
    conn: &mut DbConnection,
    caller: &Caller,
    org: OrganizationId,
    page: PageRequest,
) -> Result<Page<ApiClient>, StoreError> {
    let org = visible(caller, org)?;
    api_clients::list(conn, org, page)
}

/// Replaces the client's secret by the one `secret_hash` hashes; the old secret stops working.
/// A revoked client is refused (409 `api_client_revoked`).
pub fn rotate_secret(
    conn: &mut DbConnection,
    caller: &Caller,
    org: OrganizationId,
    client_id: &str,
    secret_hash: impl FnOnce() -> String,
) -> Result<ApiClient, StoreError> {
    authorize(caller, org)?;
    let secret_hash = secret_hash();
    frame::run_versioned(conn, None, |tx, effects| {
        let current = api_clients::lock(tx, org, client_id)?;
        let next = current.rotate_secret(secret_hash.clone())?;
        api_clients::save(tx, &next, current.version)?;
        let record = AuditRecord::new(&caller.ctx, "api_client.secret_rotated", RESOURCE, client_id, Some(org));
        effects.audit(record.with_fields(vec!["secret"]));
        Ok(next)
    })
}

/// Revokes the client: its secret and its tokens stop working. Revoking a revoked client changes
/// nothing.
pub fn revoke(
    conn: &mut DbConnection,
    caller: &Caller,
    org: OrganizationId,
    client_id: &str,
) -> Result<ApiClient, StoreError> {
    authorize(caller, org)?;
    frame::run_versioned(conn, None, |tx, effects| {
        let current = api_clients::lock(tx, org, client_id)?;
        let Some(next) = current.revoke() else { return Ok(current) };
        api_clients::save(tx, &next, current.version)?;
        let record = AuditRecord::new(&caller.ctx, "api_client.revoked", RESOURCE, client_id, Some(org));
        effects.audit(record.with_fields(vec!["revoked_at"]));
        Ok(next)
    })
}

/// The active client `client_id` whose secret `verify` accepts, for the client-credentials grant.
/// The secret is checked against a dummy hash when the client is unknown, so a wrong id costs
/// the same time as a wrong secret (`verify(hash)` says whether the secret matches `hash`).
pub fn authenticate(
    conn: &mut DbConnection,
    client_id: &str,
    dummy_hash: &str,
    verify: impl FnOnce(&str) -> bool,
) -> Result<Option<ApiClient>, StoreError> {
    let client = api_clients::find_by_client_id(conn, client_id)?;
    let matches = verify(client.as_ref().map_or(dummy_hash, |c| c.secret_hash.as_str()));
    Ok(client.filter(|c| matches && c.is_active()))
}
