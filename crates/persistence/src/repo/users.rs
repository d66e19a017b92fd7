//! Users.

use diesel::prelude::*;
use keel_domain::page::{Page, PageRequest};
use keel_domain::user::{Role, User, UserStatus, normalize_email};
use keel_domain::{OrganizationId, UserId};

use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::rows::UserRow;
use crate::schema::users;

const RESOURCE: &str = "user";

/// Filters of the user list; every one given must match.
#[derive(Clone, Debug, Default)]
pub struct UserFilter {
    /// Only this user (callers who may see only themselves).
    pub id: Option<UserId>,
    pub organization_id: Option<OrganizationId>,
    pub role: Option<Role>,
    pub status: Option<UserStatus>,
    /// Matched case-insensitively against the whole address.
    pub email: Option<String>,
}

/// Inserts a new user (its email and external id must be free: the unique indexes say so).
pub fn insert(conn: &mut DbConnection, user: &User) -> Result<(), StoreError> {
    diesel::insert_into(users::table).values(UserRow::from(user)).execute(conn)?;
    Ok(())
}

pub fn find(conn: &mut DbConnection, id: UserId) -> Result<Option<User>, StoreError> {
    super::optional(users::table.find(id.to_string()).select(UserRow::as_select()).first(conn))?
        .map(User::try_from)
        .transpose()
}

pub fn get(conn: &mut DbConnection, id: UserId) -> Result<User, StoreError> {
    find(conn, id)?.ok_or_else(|| StoreError::not_found(RESOURCE))
}

pub fn find_by_email(conn: &mut DbConnection, email: &str) -> Result<Option<User>, StoreError> {
    super::optional(
        users::table
            .filter(users::email_normalized.eq(normalize_email(email)))
            .select(UserRow::as_select())
            .first(conn),
    )?
    .map(User::try_from)
    .transpose()
}

/// Users whose `external_id` is `external_id` (in any organization; at most two are returned,
/// enough to tell a unique match from an ambiguous one).
pub fn find_by_external_id(conn: &mut DbConnection, external_id: &str) -> Result<Vec<User>, StoreError> {
    users::table
        .filter(users::external_id.eq(external_id))
        .order(users::id.asc())
        .limit(2)
        .select(UserRow::as_select())
        .load(conn)?
        .into_iter()
        .map(User::try_from)
        .collect()
}

pub fn list(conn: &mut DbConnection, filter: &UserFilter, page: PageRequest) -> Result<Page<User>, StoreError> {
    let mut query =
        users::table.select(UserRow::as_select()).order(users::id.asc()).limit(i64::from(page.limit) + 1).into_boxed();
    if let Some(id) = filter.id {
        query = query.filter(users::id.eq(id.to_string()));
    }
    if let Some(org) = filter.organization_id {
        query = query.filter(users::organization_id.eq(org.to_string()));
    }
    if let Some(role) = filter.role {
        query = match role {
            Role::Admin => query.filter(users::role_admin.eq(1)),
            Role::HrPartner => query.filter(users::role_hr_partner.eq(1)),
            Role::Coach => query.filter(users::role_coach.eq(1)),
        };
    }
    if let Some(status) = filter.status {
        query = query.filter(users::status.eq(status.as_str()));
    }
    if let Some(email) = &filter.email {
        query = query.filter(users::email_normalized.eq(normalize_email(email)));
    }
    if let Some(after) = page.after {
        query = query.filter(users::id.gt(after.to_string()));
    }
    let rows = query.load(conn)?;
    let items = rows.into_iter().map(User::try_from).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_overfetch(items, page.limit))
}

/// The organization's active hr_partners, oldest first.
pub fn active_hr_partners(conn: &mut DbConnection, organization: OrganizationId) -> Result<Vec<User>, StoreError> {
    users::table
        .filter(users::organization_id.eq(organization.to_string()))
        .filter(users::role_hr_partner.eq(1))
        .filter(users::status.eq(UserStatus::Active.as_str()))
        .order(users::id.asc())
        .select(UserRow::as_select())
        .load(conn)?
        .into_iter()
        .map(User::try_from)
        .collect()
}

/// The user, with the row locked until the transaction ends.
pub fn lock(conn: &mut DbConnection, id: UserId) -> Result<User, StoreError> {
    let row: Option<UserRow> =
        super::first_for_update!(conn, users::table.find(id.to_string()).select(UserRow::as_select()))?;
    row.map(User::try_from).transpose()?.ok_or_else(|| StoreError::not_found(RESOURCE))
}

/// Writes `user` over the stored row, which must still be at `read_version` (else the change
/// lost a race: a stale version).
pub fn save(conn: &mut DbConnection, user: &User, read_version: i64) -> Result<(), StoreError> {
    let written =
        diesel::update(users::table.filter(users::id.eq(user.id.to_string())).filter(users::version.eq(read_version)))
            .set(UserRow::from(user))
            .execute(conn)?;
    super::written_once(written)
}
