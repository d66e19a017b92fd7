//! Users: people with global roles, belonging to an organization or to the provider side.

use std::collections::BTreeSet;
use std::str::FromStr;

use crate::error::{DomainError, ValidationErrors};
use crate::id::{OrganizationId, UserId};
use crate::time::{self, Timestamp};
use crate::validate;
use crate::wire::wire_enum;

pub const NAME_MAX: usize = 200;
pub const EMAIL_MAX: usize = 254;
pub const EXTERNAL_ID_MAX: usize = 200;

wire_enum!(
    /// A global role.
    Role as UserRole { Admin => "admin", HrPartner => "hr_partner", Coach => "coach" }
);

wire_enum!(UserStatus as UserStatusValue { Active => "active", Deactivated => "deactivated" });

/// An email address as given (trimmed), with its normalized form used for uniqueness and lookup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email {
    address: String,
}

impl Email {
    pub fn parse(value: &str) -> Result<Email, &'static str> {
        let address = value.trim();
        if address.is_empty() {
            return Err("required");
        }
        if address.len() > EMAIL_MAX {
            return Err("too_long");
        }
        // RFC 5321/5322 syntax as implemented by the `email_address` crate; display names
        // ("Ann <a@b.c>") and IP-literal domains are refused as well.
        match email_address::EmailAddress::from_str(address) {
            Ok(parsed) if parsed.as_str() == address && !address.contains(['<', '>', '[', ']']) => {
                Ok(Email { address: address.to_owned() })
            }
            _ => Err("invalid_email"),
        }
    }

    /// Parses an address given as `field` of a request, as a validation error naming it.
    pub fn parse_field(field: &str, value: &str) -> Result<Email, DomainError> {
        let mut errors = ValidationErrors::new();
        let email = parse_email_as(&mut errors, field, value);
        errors.finish(())?;
        Ok(email.expect("validated"))
    }

    pub fn as_str(&self) -> &str {
        &self.address
    }

    /// The case-insensitive key: two addresses that differ only in case are the same person.
    pub fn normalized(&self) -> String {
        normalize_email(&self.address)
    }
}

/// Normalizes an email for comparison (trimmed, lower case).
pub fn normalize_email(value: &str) -> String {
    value.trim().to_lowercase()
}

#[derive(Clone, Debug, PartialEq)]
pub struct User {
    pub id: UserId,
    pub email: Email,
    pub name: String,
    pub organization_id: Option<OrganizationId>,
    pub roles: BTreeSet<Role>,
    pub status: UserStatus,
    pub external_id: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
    /// Until then no sign-in link goes to the address and no identity provider signs in by it:
    /// someone else changed it (docs/access.md, people).
    pub sign_in_hold_until: Option<Timestamp>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub organization_id: Option<OrganizationId>,
    pub roles: Vec<Role>,
    pub external_id: Option<String>,
}

/// A partial update. `external_id: Some(None)` clears it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UserPatch {
    pub email: Option<String>,
    pub name: Option<String>,
    pub roles: Option<Vec<Role>>,
    pub status: Option<UserStatus>,
    pub external_id: Option<Option<String>>,
}

/// What a patch would change on a user, compared with the user as they are.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserChanges {
    pub name: bool,
    /// The address, compared case-insensitively (a change of case re-addresses nobody).
    pub email: bool,
    pub roles: bool,
    pub status: bool,
    pub external_id: bool,
    /// The roles after the change.
    pub new_roles: BTreeSet<Role>,
    /// Whether the change opens another way into the account: a new address, or a new identity
    /// provider subject (clearing it opens none).
    pub reidentifies: bool,
}

impl UserChanges {
    /// Whether the change would take `user` out of their own account: a status change (an
    /// active user can only be deactivated) or an admin's roles without admin.
    pub fn locks_out(&self, user: &User) -> bool {
        self.status || (self.roles && user.has_role(Role::Admin) && !self.new_roles.contains(&Role::Admin))
    }

    /// Whether anything but the name changes.
    pub fn beyond_name(&self) -> bool {
        self.email || self.roles || self.status || self.external_id
    }

    /// Whether the change puts sign-in on hold (docs/access.md, people): it gives the account a new address or
    /// identity-provider subject, and someone other than the user (`by_self` false) makes it.
    pub fn holds_sign_in(&self, by_self: bool) -> bool {
        self.reidentifies && !by_self
    }
}

impl UserPatch {
    /// What this patch would change on `user` (fields sent with their current value change
    /// nothing).
    pub fn changes(&self, user: &User) -> UserChanges {
        let new_roles: BTreeSet<Role> = match &self.roles {
            Some(roles) => roles.iter().copied().collect(),
            None => user.roles.clone(),
        };
        let email = self.email.as_deref().is_some_and(|e| normalize_email(e) != user.email.normalized());
        let new_external_id = self.external_id.as_ref().map(|e| e.as_deref().map(str::trim).filter(|v| !v.is_empty()));
        let external_id = new_external_id.is_some_and(|e| e != user.external_id.as_deref());
        UserChanges {
            name: self.name.as_deref().is_some_and(|n| n.trim() != user.name),
            email,
            roles: new_roles != user.roles,
            status: self.status.is_some_and(|s| s != user.status),
            external_id,
            new_roles,
            reidentifies: email || (external_id && new_external_id.flatten().is_some()),
        }
    }

    pub fn changed_fields(&self) -> Vec<&'static str> {
        let mut fields = Vec::new();
        for (set, name) in [
            (self.email.is_some(), "email"),
            (self.name.is_some(), "name"),
            (self.roles.is_some(), "roles"),
            (self.status.is_some(), "status"),
            (self.external_id.is_some(), "external_id"),
        ] {
            if set {
                fields.push(name);
            }
        }
        fields
    }
}

fn parse_email(errors: &mut ValidationErrors, value: &str) -> Option<Email> {
    parse_email_as(errors, "email", value)
}

fn parse_email_as(errors: &mut ValidationErrors, field: &str, value: &str) -> Option<Email> {
    match Email::parse(value) {
        Ok(email) => Some(email),
        Err(code) => {
            let message = match code {
                "required" => "is required".to_owned(),
                "too_long" => format!("must be at most {EMAIL_MAX} characters"),
                _ => "is not a valid email address".to_owned(),
            };
            errors.add(field, code, message);
            None
        }
    }
}

fn parse_external_id(errors: &mut ValidationErrors, value: &str) -> Option<String> {
    validate::text(errors, "external_id", value, 1, EXTERNAL_ID_MAX)
}

fn check_roles(errors: &mut ValidationErrors, roles: &BTreeSet<Role>, organization_id: Option<OrganizationId>) {
    if roles.contains(&Role::HrPartner) && organization_id.is_none() {
        errors.add("roles", "hr_partner_requires_organization", "an hr_partner must belong to an organization");
    }
}

impl User {
    /// Validates a new user. Whether the organization exists and whether the email is free are
    /// checked by the store in the same transaction as the insert.
    pub fn create(input: NewUser) -> Result<User, DomainError> {
        let mut errors = ValidationErrors::new();
        let email = parse_email(&mut errors, &input.email);
        let name = validate::text(&mut errors, "name", &input.name, 1, NAME_MAX);
        let external_id = input.external_id.as_deref().and_then(|v| parse_external_id(&mut errors, v));
        let roles: BTreeSet<Role> = input.roles.into_iter().collect();
        check_roles(&mut errors, &roles, input.organization_id);
        errors.finish(())?;
        let now = time::now();
        Ok(User {
            id: UserId::generate(),
            email: email.expect("validated"),
            name: name.expect("validated"),
            organization_id: input.organization_id,
            roles,
            status: UserStatus::Active,
            external_id,
            created_at: now,
            updated_at: now,
            version: 1,
            sign_in_hold_until: None,
        })
    }

    /// The user after `patch`, validated; the version is bumped. `hold` (when
    /// [`UserChanges::holds_sign_in`]) is how long a new address or identity-provider subject must
    /// wait before it signs anyone in.
    pub fn apply(&self, patch: &UserPatch, hold: Option<chrono::Duration>) -> Result<User, DomainError> {
        let mut errors = ValidationErrors::new();
        let mut next = self.clone();
        if let Some(email) = patch.email.as_deref().and_then(|e| parse_email(&mut errors, e)) {
            next.email = email;
        }
        if let Some(name) = patch.name.as_deref().and_then(|n| validate::text(&mut errors, "name", n, 1, NAME_MAX)) {
            next.name = name;
        }
        if let Some(roles) = &patch.roles {
            next.roles = roles.iter().copied().collect();
        }
        if let Some(status) = patch.status {
            next.status = status;
        }
        match &patch.external_id {
            Some(Some(value)) => next.external_id = parse_external_id(&mut errors, value).or(next.external_id),
            Some(None) => next.external_id = None,
            None => {}
        }
        check_roles(&mut errors, &next.roles, next.organization_id);
        errors.finish(())?;
        next.updated_at = time::now();
        next.version += 1;
        if let Some(hold) = hold.filter(|_| patch.changes(self).reidentifies) {
            next.sign_in_hold_until = (hold > chrono::Duration::zero()).then(|| next.updated_at + hold);
        }
        Ok(next)
    }

    /// Whether a sign-in that finds this user by address (a sign-in link, an identity provider's
    /// verified email) or by identity-provider subject may go ahead now: not for a deactivated
    /// user, nor while the hold after someone else re-addressed the account lasts.
    pub fn may_sign_in(&self, now: Timestamp) -> bool {
        self.status == UserStatus::Active && !self.held(now)
    }

    /// Whether the hold after someone else re-addressed the account lasts at `now`.
    pub fn held(&self, now: Timestamp) -> bool {
        self.sign_in_hold_until.is_some_and(|until| until > now)
    }

    /// Deactivation keeps the user for history; their access ends.
    pub fn deactivate(&self) -> User {
        let mut next = self.clone();
        if next.status != UserStatus::Deactivated {
            next.status = UserStatus::Deactivated;
            next.updated_at = time::now();
            next.version += 1;
        }
        next
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> NewUser {
        NewUser { email: " Ann.Lee@Example.com ".into(), name: " Ann Lee ".into(), ..Default::default() }
    }

    #[test]
    fn email_is_trimmed_and_normalized_for_uniqueness() {
        let user = User::create(input()).unwrap();
        assert_eq!(user.email.as_str(), "Ann.Lee@Example.com");
        assert_eq!(user.email.normalized(), "ann.lee@example.com");
        assert_eq!(user.name, "Ann Lee");
        assert_eq!(user.status, UserStatus::Active);
    }

    #[test]
    fn invalid_emails_are_refused() {
        for bad in ["", "plain", "a@", "@b.c", "Ann <ann@example.com>", "a b@example.com"] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(Email::parse("first.last+tag@sub.example.co").is_ok());
    }

    #[test]
    fn hr_partner_needs_an_organization_and_roles_are_deduplicated() {
        let err = User::create(NewUser { roles: vec![Role::HrPartner], ..input() }).unwrap_err();
        let DomainError::Validation(errors) = err else { panic!() };
        assert_eq!(errors.0[0].code, "hr_partner_requires_organization");

        let user = User::create(NewUser { roles: vec![Role::Coach, Role::Admin, Role::Coach], ..input() }).unwrap();
        assert_eq!(user.roles.iter().copied().collect::<Vec<_>>(), vec![Role::Admin, Role::Coach]);
    }

    #[test]
    fn patch_can_clear_external_id_and_deactivate_bumps_version_once() {
        let user = User::create(NewUser { external_id: Some("E-1".into()), ..input() }).unwrap();
        let patched = user.apply(&UserPatch { external_id: Some(None), ..Default::default() }, None).unwrap();
        assert_eq!(patched.external_id, None);
        assert_eq!(patched.version, 2);
        let gone = patched.deactivate();
        assert_eq!(gone.status, UserStatus::Deactivated);
        assert_eq!(gone.version, 3);
        assert_eq!(gone.deactivate().version, 3, "deactivating twice changes nothing");
    }

    #[test]
    fn an_address_changed_by_someone_else_waits_out_the_hold() {
        let user = User::create(input()).unwrap();
        let new_address = UserPatch { email: Some("new@example.com".into()), ..Default::default() };
        assert!(new_address.changes(&user).holds_sign_in(false));
        let hold = Some(chrono::Duration::hours(72));
        let moved = user.apply(&new_address, hold).unwrap();
        let until = moved.sign_in_hold_until.expect("held");
        assert_eq!(until, moved.updated_at + chrono::Duration::hours(72));
        assert!(!moved.may_sign_in(time::now()));
        assert!(moved.may_sign_in(until));

        // The user's own change, a zero hold, or a change of case alone: no hold.
        assert!(!new_address.changes(&user).holds_sign_in(true));
        assert_eq!(user.apply(&new_address, None).unwrap().sign_in_hold_until, None);
        let zero = Some(chrono::Duration::zero());
        assert_eq!(user.apply(&new_address, zero).unwrap().sign_in_hold_until, None);
        let case = UserPatch { email: Some("ANN.LEE@example.com".into()), ..Default::default() };
        assert!(!case.changes(&user).reidentifies);
        assert_eq!(user.apply(&case, hold).unwrap().sign_in_hold_until, None);
        // A later change of the name keeps a running hold.
        let renamed = moved.apply(&UserPatch { name: Some("Ann".into()), ..Default::default() }, None).unwrap();
        assert_eq!(renamed.sign_in_hold_until, Some(until));
        // A new identity-provider subject is a new way in too; clearing it is not.
        let subject = UserPatch { external_id: Some(Some("idp-123".into())), ..Default::default() };
        assert!(subject.changes(&user).reidentifies);
        let linked = user.apply(&subject, None).unwrap();
        assert!(!UserPatch { external_id: Some(None), ..Default::default() }.changes(&linked).reidentifies);
    }

    #[test]
    fn changes_compare_with_the_current_values() {
        let user = User::create(NewUser { external_id: Some("E-1".into()), ..input() }).unwrap();
        let same = UserPatch {
            name: Some("Ann Lee".into()),
            email: Some("ann.lee@example.com".into()),
            roles: Some(vec![]),
            status: Some(UserStatus::Active),
            external_id: Some(Some("E-1".into())),
        };
        assert_eq!(same.changes(&user), UserChanges { new_roles: BTreeSet::new(), ..UserChanges::default() });
        let other = UserPatch { external_id: Some(None), roles: Some(vec![Role::HrPartner]), ..Default::default() };
        let changes = other.changes(&user);
        assert!(changes.external_id && changes.roles && changes.beyond_name());
        assert_eq!(changes.new_roles, BTreeSet::from([Role::HrPartner]));
    }

    #[test]
    fn names_are_length_bounded() {
        let err = User::create(NewUser { name: "x".repeat(NAME_MAX + 1), ..input() }).unwrap_err();
        let DomainError::Validation(errors) = err else { panic!() };
        assert_eq!((errors.0[0].field.as_str(), errors.0[0].code), ("name", "too_long"));
    }
}
