//! Repositories: the only place SQL is written.

pub mod audit;
pub mod organizations;
pub mod secrets;
pub mod users;

use diesel::prelude::*;

/// `Some(row)` or `None`, turning diesel's NotFound into an absence.
pub(crate) fn optional<T>(result: QueryResult<T>) -> QueryResult<Option<T>> {
    result.optional()
}
