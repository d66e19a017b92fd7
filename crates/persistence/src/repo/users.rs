//! Users.

use diesel::prelude::*;
use keel_domain::audit::{AuditRecord, CommandContext};
use keel_domain::organization::OrganizationSettings;
use keel_domain::outbox::Message;
use keel_domain::page::{Page, PageRequest};
use keel_domain::sign_in;
use keel_domain::user::{NewUser, Role, User, UserPatch, UserStatus, normalize_email};
use keel_domain::{DomainError, OrganizationId, Precondition, UserId, ValidationErrors};

use crate::connection::{DbConnection, write_transaction};
use crate::error::StoreError;
use crate::repo::{audit, organizations, outbox, versioned};
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

/// The current state, with the row locked until the transaction ends.
fn get_for_update(conn: &mut DbConnection, id: UserId) -> Result<User, StoreError> {
    let row: Option<UserRow> =
        super::first_for_update!(conn, users::table.find(id.to_string()).select(UserRow::as_select()))?;
    row.map(User::try_from).transpose()?.ok_or_else(|| StoreError::not_found(RESOURCE))
}

/// The locked current state, if `authorize` allows the caller to change it. Authorization comes
/// before the `If-Match` check, so a caller who may not see the user learns nothing from a 412.
fn load_authorized(
    conn: &mut DbConnection,
    id: UserId,
    authorize: &dyn Fn(&User) -> Result<(), DomainError>,
) -> Result<User, StoreError> {
    let user = get_for_update(conn, id)?;
    authorize(&user)?;
    Ok(user)
}

pub fn update(
    conn: &mut DbConnection,
    ctx: &CommandContext,
    id: UserId,
    precondition: Option<&Precondition>,
    patch: &UserPatch,
    authorize: &dyn Fn(&User) -> Result<(), DomainError>,
) -> Result<User, StoreError> {
    versioned::modify(
        conn,
        precondition,
        |conn| load_authorized(conn, id, authorize),
        |conn, current| {
            let changes = patch.changes(current);
            let by_self = ctx.actor.is_user(current.id);
            let hold = if changes.holds_sign_in(by_self) {
                let settings = match current.organization_id {
                    Some(org) => organizations::get(conn, org)?.settings,
                    None => OrganizationSettings::default(),
                };
                Some(settings.sign_in_hold())
            } else {
                None
            };
            let next = current.apply(patch, hold)?;
            if hold.is_some() {
                let notice = sign_in::reidentified_email(current, &next);
                outbox::enqueue(
                    conn,
                    &Message::Email { organization_id: next.organization_id, engagement_id: None, email: notice },
                )?;
            }
            let record = AuditRecord::new(ctx, "user.updated", RESOURCE, id, next.organization_id);
            Ok(Some(versioned::Change::new(next, record.with_fields(patch.changed_fields()))))
        },
        write,
    )
}

/// Deactivates a user (kept for history). Deactivating a deactivated user changes nothing.
pub fn deactivate(
    conn: &mut DbConnection,
    ctx: &CommandContext,
    id: UserId,
    precondition: Option<&Precondition>,
    authorize: &dyn Fn(&User) -> Result<(), DomainError>,
) -> Result<User, StoreError> {
    versioned::modify(
        conn,
        precondition,
        |conn| load_authorized(conn, id, authorize),
        |_conn, current| {
            let next = current.deactivate();
            if next.version == current.version {
                return Ok(None);
            }
            let record = AuditRecord::new(ctx, "user.deactivated", RESOURCE, id, next.organization_id);
            Ok(Some(versioned::Change::new(next, record.with_fields(vec!["status"]))))
        },
        write,
    )
}

/// Writes `user` if the stored version is still `expected_version`; returns the rows written.
fn write(conn: &mut DbConnection, user: &User, expected_version: i64) -> QueryResult<usize> {
    diesel::update(users::table.filter(users::id.eq(user.id.to_string())).filter(users::version.eq(expected_version)))
        .set(UserRow::from(user))
        .execute(conn)
}
