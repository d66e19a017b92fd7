//! API clients: service accounts of HR systems, scoped to one organization and to OAuth2 scopes.

use std::collections::BTreeSet;

use crate::error::{DomainError, ValidationErrors};
use crate::id::{ApiClientId, OrganizationId};
use crate::policy::Scope;
use crate::time::{self, Timestamp};
use crate::validate;

pub const NAME_MAX: usize = 200;

#[derive(Clone, Debug, PartialEq)]
pub struct ApiClient {
    pub id: ApiClientId,
    /// The public identifier used to authenticate (`kc_…`).
    pub client_id: String,
    pub organization_id: OrganizationId,
    pub name: String,
    pub scopes: BTreeSet<Scope>,
    /// The argon2 hash of the secret (the secret itself is shown once and never stored).
    pub secret_hash: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub secret_rotated_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
    pub version: i64,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct NewApiClient {
    pub organization_id: Option<OrganizationId>,
    pub name: String,
    /// Scope names as given; each must be a known scope.
    pub scopes: Vec<String>,
}

/// Parses scope names; unknown ones are validation errors on `field`.
pub fn parse_scopes(errors: &mut ValidationErrors, field: &str, names: &[String]) -> BTreeSet<Scope> {
    let mut scopes = BTreeSet::new();
    for (i, name) in names.iter().enumerate() {
        match name.parse::<Scope>() {
            Ok(scope) => {
                scopes.insert(scope);
            }
            Err(()) => errors.add(
                format!("{field}[{i}]"),
                "unknown_scope",
                format!(
                    "unknown scope {name:?}; known: {}",
                    Scope::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
                ),
            ),
        }
    }
    scopes
}

impl ApiClient {
    /// Validates a new client. `client_id` and `secret_hash` are made by the caller (they come from
    /// a random generator and a password hash, which the domain does not do).
    pub fn create(
        organization_id: OrganizationId,
        input: NewApiClient,
        client_id: String,
        secret_hash: String,
    ) -> Result<ApiClient, DomainError> {
        let mut errors = ValidationErrors::new();
        let name = validate::text(&mut errors, "name", &input.name, 1, NAME_MAX);
        let scopes = parse_scopes(&mut errors, "scopes", &input.scopes);
        if input.scopes.is_empty() {
            errors.add("scopes", "required", "grant at least one scope");
        }
        errors.finish(())?;
        let now = time::now();
        Ok(ApiClient {
            id: ApiClientId::generate(),
            client_id,
            organization_id,
            name: name.expect("validated"),
            scopes,
            secret_hash,
            created_at: now,
            updated_at: now,
            secret_rotated_at: now,
            revoked_at: None,
            version: 1,
        })
    }

    pub fn is_active(&self) -> bool {
        self.revoked_at.is_none()
    }

    /// A new secret (hashed); the old one stops working. Refused for a revoked client.
    pub fn rotate_secret(&self, secret_hash: String) -> Result<ApiClient, DomainError> {
        if !self.is_active() {
            return Err(DomainError::conflict("api_client_revoked", "the API client is revoked"));
        }
        let now = time::now();
        Ok(ApiClient {
            secret_hash,
            secret_rotated_at: now,
            updated_at: now,
            version: self.version + 1,
            ..self.clone()
        })
    }

    /// Revokes the client: its secret and its tokens stop working. `None` when already revoked.
    pub fn revoke(&self) -> Option<ApiClient> {
        self.is_active().then(|| {
            let now = time::now();
            ApiClient { revoked_at: Some(now), updated_at: now, version: self.version + 1, ..self.clone() }
        })
    }

    /// The scopes a token request may get: all granted ones when none are asked for; `Err` with
    /// the first scope asked for that is unknown or not granted.
    pub fn grant(&self, requested: Option<&str>) -> Result<BTreeSet<Scope>, String> {
        let Some(requested) = requested.filter(|r| !r.trim().is_empty()) else { return Ok(self.scopes.clone()) };
        requested
            .split_whitespace()
            .map(|name| name.parse::<Scope>().ok().filter(|s| self.scopes.contains(s)).ok_or_else(|| name.to_owned()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> ApiClient {
        ApiClient::create(
            OrganizationId::generate(),
            NewApiClient {
                organization_id: None,
                name: "Workday".into(),
                scopes: vec!["users:read".into(), "engagements:read".into()],
            },
            "kc_1".into(),
            "hash".into(),
        )
        .unwrap()
    }

    #[test]
    fn scopes_are_validated() {
        let err = ApiClient::create(
            OrganizationId::generate(),
            NewApiClient { organization_id: None, name: "".into(), scopes: vec!["users:read".into(), "admin".into()] },
            "kc".into(),
            "h".into(),
        )
        .unwrap_err();
        let DomainError::Validation(errors) = err else { panic!() };
        let fields: Vec<_> = errors.0.iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert_eq!(fields, vec![("name", "required"), ("scopes[1]", "unknown_scope")]);
    }

    #[test]
    fn requested_scopes_must_be_granted() {
        let c = client();
        assert_eq!(c.grant(None).unwrap(), c.scopes);
        assert_eq!(c.grant(Some("users:read")).unwrap(), [Scope::UsersRead].into_iter().collect());
        assert_eq!(c.grant(Some("users:read users:write")).unwrap_err(), "users:write");
        assert_eq!(c.grant(Some("bogus")).unwrap_err(), "bogus");
    }

    #[test]
    fn revoked_clients_cannot_rotate() {
        let revoked = client().revoke().unwrap();
        assert!(revoked.revoke().is_none());
        assert!(revoked.rotate_secret("new".into()).is_err());
    }
}
