//! Errors a domain decision can produce. Each kind maps to one HTTP status in the http crate;
//! nothing here names a status code.

use serde::Serialize;

/// One invalid field: where, a stable machine-readable code, and a human message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub code: &'static str,
    pub message: String,
}

/// Every invalid field of one request, collected rather than stopping at the first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: impl Into<String>, code: &'static str, message: impl Into<String>) {
        self.0.push(FieldError { field: field.into(), code, message: message.into() });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(value)` when nothing was invalid.
    pub fn finish<T>(self, value: T) -> Result<T, DomainError> {
        if self.is_empty() { Ok(value) } else { Err(DomainError::Validation(self)) }
    }

    pub fn single(field: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
        let mut errors = Self::new();
        errors.add(field, code, message);
        errors
    }
}

/// What a domain rule or a store can refuse.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    #[error("the request has invalid fields")]
    Validation(ValidationErrors),
    #[error("{resource} not found")]
    NotFound { resource: &'static str },
    /// The request conflicts with the current state (a duplicate, a refused transition...).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// A phase transition whose guards are not met: every unmet condition, by stable code.
    #[error("the transition's conditions are not met")]
    GuardsUnmet { unmet: Vec<crate::engagement::Unmet> },
    /// The caller can see the resource but may not do this (deny-as-404 uses `NotFound`).
    #[error("{message}")]
    Forbidden { message: String },
    /// A change that would allocate more hours than a contract holds (docs/contracts.md).
    #[error("{}", .0.message())]
    Overdrawn(Box<crate::contract::Overdraft>),
    /// An `If-Match` precondition named a version that is no longer current.
    /// `current` is the version now stored, when known.
    #[error("the resource was modified since the version given in If-Match")]
    StaleVersion { current: Option<i64> },
}

impl DomainError {
    pub fn not_found(resource: &'static str) -> Self {
        Self::NotFound { resource }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::Conflict { code, message: message.into() }
    }
}

/// An `If-Match` precondition on a versioned resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Precondition {
    /// `If-Match: *`: any current version.
    Any,
    /// One of these versions must be current.
    OneOf(Vec<i64>),
}

impl Precondition {
    /// Whether a change may proceed on a resource at version `current`.
    pub fn check(precondition: Option<&Precondition>, current: i64) -> Result<(), DomainError> {
        match precondition {
            None | Some(Precondition::Any) => Ok(()),
            Some(Precondition::OneOf(versions)) if versions.contains(&current) => Ok(()),
            Some(Precondition::OneOf(_)) => Err(DomainError::StaleVersion { current: Some(current) }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preconditions() {
        assert!(Precondition::check(None, 3).is_ok());
        assert!(Precondition::check(Some(&Precondition::Any), 3).is_ok());
        assert!(Precondition::check(Some(&Precondition::OneOf(vec![2, 3])), 3).is_ok());
        assert!(matches!(
            Precondition::check(Some(&Precondition::OneOf(vec![2])), 3),
            Err(DomainError::StaleVersion { current: Some(3) })
        ));
    }
}
