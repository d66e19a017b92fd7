//! Repositories: the only place SQL is written.

pub mod action_items;
pub mod api_clients;
pub mod audit;
pub mod calendar_feeds;
pub mod contracts;
pub mod designs;
pub mod engagements;
pub mod events;
pub mod extensions;
pub mod groups;
pub mod idempotency;
pub mod organizations;
pub mod outbox;
pub mod pages;
pub mod parts;
pub mod program;
pub mod reports;
pub mod reviews;
pub mod secrets;
pub mod sessions;
pub mod sign_in;
pub mod stakeholders;
pub mod sums;
pub mod templates;
pub mod users;
pub mod webhooks;

use diesel::prelude::*;

/// Runs a single-row select that locks the row for the rest of the transaction: `FOR UPDATE` on
/// PostgreSQL; on SQLite the write transaction (`BEGIN IMMEDIATE`) already holds the database's
/// write lock. Concurrent changes of one row then queue instead of racing.
macro_rules! first_for_update {
    ($conn:expr, $query:expr) => {
        match $conn {
            $crate::DbConnection::Postgresql(c) => $query.for_update().first(c).optional(),
            $crate::DbConnection::Sqlite(c) => $query.first(c).optional(),
        }
    };
}
pub(crate) use first_for_update;

/// An update guarded by the version read must have written exactly one row; none means another
/// writer changed the row since (a stale version).
pub(crate) fn written_once(rows: usize) -> Result<(), crate::StoreError> {
    if rows == 1 { Ok(()) } else { Err(keel_domain::DomainError::StaleVersion { current: None }.into()) }
}

/// `Some(row)` or `None`, turning diesel's NotFound into an absence.
pub(crate) fn optional<T>(result: QueryResult<T>) -> QueryResult<Option<T>> {
    result.optional()
}
