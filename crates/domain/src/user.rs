//! Users: people with global roles, belonging to an organization or to the provider side.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use crate::error::{DomainError, ValidationErrors};
use crate::id::{OrganizationId, UserId};
use crate::time::{self, Timestamp};
use crate::validate;

pub const NAME_MAX: usize = 200;
pub const EMAIL_MAX: usize = 254;
pub const EXTERNAL_ID_MAX: usize = 200;

/// Global roles (SPEC §1). Engagement roles (leader, sponsor) are relationships, not roles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Admin,
    HrPartner,
    Coach,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::HrPartner, Role::Coach];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::HrPartner => "hr_partner",
            Role::Coach => "coach",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Role::ALL.into_iter().find(|r| r.as_str() == s).ok_or(())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UserStatus {
    Active,
    Deactivated,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Active => "active",
            UserStatus::Deactivated => "deactivated",
        }
    }
}

impl FromStr for UserStatus {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "active" => Ok(UserStatus::Active),
            "deactivated" => Ok(UserStatus::Deactivated),
            _ => Err(()),
        }
    }
}

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

impl UserPatch {
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
    match Email::parse(value) {
        Ok(email) => Some(email),
        Err(code) => {
            let message = match code {
                "required" => "is required".to_owned(),
                "too_long" => format!("must be at most {EMAIL_MAX} characters"),
                _ => "is not a valid email address".to_owned(),
            };
            errors.add("email", code, message);
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
        })
    }

    /// The user after `patch`, validated; the version is bumped.
    pub fn apply(&self, patch: &UserPatch) -> Result<User, DomainError> {
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
        Ok(next)
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
        let patched = user.apply(&UserPatch { external_id: Some(None), ..Default::default() }).unwrap();
        assert_eq!(patched.external_id, None);
        assert_eq!(patched.version, 2);
        let gone = patched.deactivate();
        assert_eq!(gone.status, UserStatus::Deactivated);
        assert_eq!(gone.version, 3);
        assert_eq!(gone.deactivate().version, 3, "deactivating twice changes nothing");
    }

    #[test]
    fn names_are_length_bounded() {
        let err = User::create(NewUser { name: "x".repeat(NAME_MAX + 1), ..input() }).unwrap_err();
        let DomainError::Validation(errors) = err else { panic!() };
        assert_eq!((errors.0[0].field.as_str(), errors.0[0].code), ("name", "too_long"));
    }
}
