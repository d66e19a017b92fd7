//! Users.

use diesel::prelude::*;
use keel_domain::audit::{AuditRecord, CommandContext};
use keel_domain::page::{Page, PageRequest};
use keel_domain::user::{NewUser, Role, User, UserPatch, UserStatus, normalize_email};
use keel_domain::{DomainError, OrganizationId, Precondition, UserId, ValidationErrors};

use crate::connection::{DbConnection, retry_lost_races, write_transaction};
use crate::error::StoreError;
use crate::repo::{audit, organizations};
use crate::rows::UserRow;
use crate::schema::users;

const RESOURCE: &str = "user";

/// Filters of the user list; every one given must match.
#[derive(Clone, Debug, Default)]
pub struct UserFilter {
    pub organization_id: Option<OrganizationId>,
    pub role: Option<Role>,
    pub status: Option<UserStatus>,
    /// Matched case-insensitively against the whole address.
    pub email: Option<String>,
}

pub fn create(conn: &mut DbConnection, ctx: &CommandContext, input: NewUser) -> Result<User, StoreError> {
    let user = User::create(input)?;
    write_transaction(conn, |conn| {
        if let Some(org) = user.organization_id
            && !organizations::exists(conn, org)?
        {
            return Err(DomainError::Validation(ValidationErrors::single(
                "organization_id",
                "not_found",
                "no organization has this id",
            ))
            .into());
        }
        diesel::insert_into(users::table).values(UserRow::from(&user)).execute(conn)?;
        audit::append(conn, &AuditRecord::new(ctx, "user.created", RESOURCE, user.id, user.organization_id))?;
        Ok(user)
    })
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

pub fn list(conn: &mut DbConnection, filter: &UserFilter, page: PageRequest) -> Result<Page<User>, StoreError> {
    let mut query =
        users::table.select(UserRow::as_select()).order(users::id.asc()).limit(i64::from(page.limit) + 1).into_boxed();
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

pub fn update(
    conn: &mut DbConnection,
    ctx: &CommandContext,
    id: UserId,
    precondition: Option<&Precondition>,
    patch: &UserPatch,
) -> Result<User, StoreError> {
    retry_lost_races(precondition.is_some(), || {
        write_transaction(conn, |conn| {
            let current = get(conn, id)?;
            Precondition::check(precondition, current.version)?;
            let next = current.apply(patch)?;
            save(conn, &next, current.version)?;
            audit::append(
                conn,
                &AuditRecord::new(ctx, "user.updated", RESOURCE, id, next.organization_id)
                    .with_fields(patch.changed_fields()),
            )?;
            Ok(next)
        })
    })
}

/// Deactivates a user (kept for history). Deactivating a deactivated user changes nothing.
pub fn deactivate(
    conn: &mut DbConnection,
    ctx: &CommandContext,
    id: UserId,
    precondition: Option<&Precondition>,
) -> Result<User, StoreError> {
    retry_lost_races(precondition.is_some(), || {
        write_transaction(conn, |conn| {
            let current = get(conn, id)?;
            Precondition::check(precondition, current.version)?;
            let next = current.deactivate();
            if next.version != current.version {
                save(conn, &next, current.version)?;
                audit::append(
                    conn,
                    &AuditRecord::new(ctx, "user.deactivated", RESOURCE, id, next.organization_id)
                        .with_fields(vec!["status"]),
                )?;
            }
            Ok(next)
        })
    })
}

fn save(conn: &mut DbConnection, user: &User, expected_version: i64) -> Result<(), StoreError> {
    let updated = diesel::update(
        users::table.filter(users::id.eq(user.id.to_string())).filter(users::version.eq(expected_version)),
    )
    .set(UserRow::from(user))
    .execute(conn)?;
    // Zero rows: a concurrent writer changed the row after we read it.
    if updated == 1 { Ok(()) } else { Err(DomainError::StaleVersion { current: None }.into()) }
}
