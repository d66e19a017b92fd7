//! The audit log: admins read all of it, an organization's hr_partner (or its API client with
//! `reports:read`) their organization's; anyone else nothing.

use keel_domain::page::{Page, PageRequest};
use keel_domain::policy::{self, Visibility};
use keel_persistence::repo::audit::{self, AuditFilter};
pub use keel_persistence::rows::AuditEventRow;
use keel_persistence::{DbConnection, StoreError};

use crate::frame::Caller;

/// `filter` narrowed to what the caller may read; `None` when that is nothing (another
/// organization's records, or a caller who sees only themselves). A front whose page cursor is
/// bound to the filter asks this before it reads the cursor.
pub fn visible(caller: &Caller, mut filter: AuditFilter) -> Result<Option<AuditFilter>, StoreError> {
    match policy::audit_visibility(&caller.principal)? {
        Visibility::All => {}
        Visibility::Organization(own) => {
            let asked = filter.organization_id.as_deref().map(|o| o.parse().map_err(|_| ())).transpose();
            // An organization id that does not parse names no organization the caller has.
            let Ok(asked) = asked else { return Ok(None) };
            match policy::narrow_to_organization(own, asked) {
                Some(org) => filter.organization_id = Some(org.to_string()),
                None => return Ok(None),
            }
        }
        Visibility::OnlySelf(_) => return Ok(None),
    }
    Ok(Some(filter))
}

/// A page of the audit records the caller may read, oldest first.
pub fn list(
    conn: &mut DbConnection,
    caller: &Caller,
    filter: AuditFilter,
    page: PageRequest,
) -> Result<Page<AuditEventRow>, StoreError> {
    match visible(caller, filter)? {
        Some(filter) => audit::list(conn, &filter, page),
        None => Ok(Page::empty()),
    }
}
