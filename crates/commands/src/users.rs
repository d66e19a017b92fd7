//! People: create, read, list, change, deactivate; and the operator's first admin.

use keel_domain::audit::{AuditRecord, CommandContext};
use keel_domain::organization::OrganizationSettings;
use keel_domain::outbox::Message;
use keel_domain::page::{Page, PageRequest};
use keel_domain::policy::{self, Action, Visibility};
use keel_domain::user::{NewUser, Role, User, UserChanges, UserPatch, UserStatus};
use keel_domain::{DomainError, Precondition, UserId, ValidationErrors};
use keel_persistence::repo::organizations;
use keel_persistence::repo::users::{self, UserFilter};
use keel_persistence::{DbConnection, StoreError};

use crate::frame::{self, Caller, Effects};
use crate::notifications;

const RESOURCE: &str = "user";

pub fn create(conn: &mut DbConnection, caller: &Caller, input: NewUser) -> Result<User, StoreError> {
    let action = Action::CreateUser { organization_id: input.organization_id, roles: &input.roles };
    policy::check(&caller.principal, &action)?;
    frame::run(conn, |tx, effects| insert(tx, &caller.ctx, effects, input))
}

/// Validates and inserts a user; whether the organization exists and the email is free are
/// checked in the same transaction as the insert.
fn insert(
    conn: &mut DbConnection,
    ctx: &CommandContext,
    effects: &mut Effects,
    input: NewUser,
) -> Result<User, StoreError> {
    let user = User::create(input)?;
    if let Some(org) = user.organization_id
        && !organizations::exists(conn, org)?
    {
        let error = ValidationErrors::single("organization_id", "not_found", "no organization has this id");
        return Err(DomainError::Validation(error).into());
    }
    users::insert(conn, &user)?;
    effects.audit(AuditRecord::new(ctx, "user.created", RESOURCE, user.id, user.organization_id));
    Ok(user)
}

pub fn get(conn: &mut DbConnection, caller: &Caller, id: UserId) -> Result<User, StoreError> {
    let user = users::get(conn, id)?;
    policy::check(&caller.principal, &Action::ReadUser { user: &user })?;
    Ok(user)
}

/// The users matching `filter` that the caller may see: everyone for admins, the organization's
/// people for its managers, oneself for anyone else (asking for another organization gives an
/// empty page).
pub fn list(
    conn: &mut DbConnection,
    caller: &Caller,
    mut filter: UserFilter,
    page: PageRequest,
) -> Result<Page<User>, StoreError> {
    match policy::user_visibility(&caller.principal)? {
        Visibility::All => {}
        Visibility::Organization(own) => match policy::narrow_to_organization(own, filter.organization_id) {
            Some(org) => filter.organization_id = Some(org),
            None => return Ok(Page::empty()),
        },
        Visibility::OnlySelf(me) => filter.id = Some(me),
    }
    users::list(conn, &filter, page)
}

/// Changes a person (docs/access.md, people). Someone else giving the account a new address or identity-provider
/// subject puts sign-in on hold for the organization's `email_change_hold_hours` and tells the old
/// address.
pub fn update(
    conn: &mut DbConnection,
    caller: &Caller,
    id: UserId,
    precondition: Option<&Precondition>,
    patch: &UserPatch,
) -> Result<User, StoreError> {
    frame::run_versioned(conn, precondition, |tx, effects| {
        // The policy decides on the locked row, before If-Match: a caller who may not see the
        // user learns nothing from a 412.
        let current = users::lock(tx, id)?;
        let changes = patch.changes(&current);
        policy::check(&caller.principal, &Action::UpdateUser { user: &current, changes: &changes })?;
        Precondition::check(precondition, current.version)?;
        change(tx, &caller.ctx, effects, &current, patch, &changes)
    })
}

/// `current` after `patch`, written, with its audit record and, when it re-addresses the account
/// on someone else's word, the hold and the notice to the old address.
fn change(
    conn: &mut DbConnection,
    ctx: &CommandContext,
    effects: &mut Effects,
    current: &User,
    patch: &UserPatch,
    changes: &UserChanges,
) -> Result<User, StoreError> {
    let hold = if changes.holds_sign_in(ctx.actor.is_user(current.id)) {
        let settings = match current.organization_id {
            Some(org) => organizations::get(conn, org)?.settings,
            None => OrganizationSettings::default(),
        };
        Some(settings.sign_in_hold())
    } else {
        None
    };
    let next = current.apply(patch, hold)?;
    users::save(conn, &next, current.version)?;
    if hold.is_some() {
        let email = notifications::sign_in::reidentified_email(current, &next);
        effects.queue(Message::Email { organization_id: next.organization_id, engagement_id: None, email });
    }
    let record = AuditRecord::new(ctx, "user.updated", RESOURCE, next.id, next.organization_id);
    effects.audit(record.with_fields(patch.changed_fields()));
    Ok(next)
}

/// Deactivates a person (kept for history); deactivating a deactivated person changes nothing.
pub fn deactivate(
    conn: &mut DbConnection,
    caller: &Caller,
    id: UserId,
    precondition: Option<&Precondition>,
) -> Result<User, StoreError> {
    frame::run_versioned(conn, precondition, |tx, effects| {
        let current = users::lock(tx, id)?;
        policy::check(&caller.principal, &Action::DeactivateUser { user: &current })?;
        Precondition::check(precondition, current.version)?;
        let next = current.deactivate();
        if next.version == current.version {
            return Ok(current);
        }
        users::save(tx, &next, current.version)?;
        let record = AuditRecord::new(&caller.ctx, "user.deactivated", RESOURCE, id, next.organization_id);
        effects.audit(record.with_fields(vec!["status"]));
        Ok(next)
    })
}

/// What `bootstrap_admin` did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bootstrap {
    Created,
    Promoted,
    AlreadyAdmin,
}

/// The operator's command: creates the first admin, or makes an existing active user an admin;
/// running it again changes nothing. A deactivated user is refused (409 `user_deactivated`).
pub fn bootstrap_admin(
    conn: &mut DbConnection,
    ctx: &CommandContext,
    email: &str,
    name: &str,
) -> Result<(User, Bootstrap), StoreError> {
    frame::run(conn, |tx, effects| match users::find_by_email(tx, email)? {
        Some(user) if user.status != UserStatus::Active => Err(DomainError::conflict(
            "user_deactivated",
            format!(
                "{} exists but is deactivated; reactivate it first (PATCH /v1/users/{} with status active)",
                user.email.as_str(),
                user.id
            ),
        )
        .into()),
        Some(user) if user.has_role(Role::Admin) => Ok((user, Bootstrap::AlreadyAdmin)),
        Some(user) => {
            let current = users::lock(tx, user.id)?;
            let roles = current.roles.iter().copied().chain([Role::Admin]).collect();
            let patch = UserPatch { roles: Some(roles), ..Default::default() };
            let changes = patch.changes(&current);
            Ok((change(tx, ctx, effects, &current, &patch, &changes)?, Bootstrap::Promoted))
        }
        None => {
            let input = NewUser {
                email: email.to_owned(),
                name: name.to_owned(),
                roles: vec![Role::Admin],
                ..Default::default()
            };
            Ok((insert(tx, ctx, effects, input)?, Bootstrap::Created))
        }
    })
}
