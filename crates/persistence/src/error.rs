//! Store errors: a domain refusal, an unavailable database, or an unexpected database failure.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use keel_domain::DomainError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A rule refused the change (not found, conflict, validation, stale version).
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// The database could not be reached or is too busy: the caller may retry later.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Bad configuration (URL, paths).
    #[error("{0}")]
    Config(String),
    #[error("migration failed: {0}")]
    Migration(String),
    /// Anything else: a bug or an operational fault. Never shown to clients.
    #[error("database error: {0}")]
    Database(DieselError),
}

/// Unique constraints and the conflict each one means, matched by index name (PostgreSQL) or
/// by the column list SQLite reports.
const UNIQUE_CONFLICTS: &[(&str, &str, &str, &str)] = &[
    (
        "users_email_normalized_key",
        "users.email_normalized",
        "email_taken",
        "a user with this email address already exists",
    ),
    (
        "users_organization_external_id_key",
        "users.organization_id, users.external_id",
        "external_id_taken",
        "a user with this external_id already exists in the organization",
    ),
    (
        "design_decisions_once_key",
        "design_decisions.engagement_id, design_decisions.design_version, design_decisions.approver_id",
        "decision_already_made",
        "you have already decided on this version",
    ),
];

impl From<DieselError> for StoreError {
    fn from(error: DieselError) -> Self {
        match &error {
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                let constraint = info.constraint_name().unwrap_or_default();
                let message = info.message();
                for (index, sqlite_columns, code, text) in UNIQUE_CONFLICTS {
                    if constraint == *index || message.contains(sqlite_columns) {
                        return StoreError::Domain(DomainError::conflict(code, *text));
                    }
                }
                StoreError::Database(error)
            }
            DieselError::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                info,
            ) => StoreError::Unavailable(info.message().to_owned()),
            // SQLite reports lock contention beyond the busy timeout as "database is locked".
            DieselError::DatabaseError(_, info) if info.message().contains("database is locked") => {
                StoreError::Unavailable(info.message().to_owned())
            }
            _ => StoreError::Database(error),
        }
    }
}

impl StoreError {
    pub fn not_found(resource: &'static str) -> Self {
        StoreError::Domain(DomainError::not_found(resource))
    }
}
