//! Migrations, embedded in the binary per backend (same names in both folders).

use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::connection::DbConnection;
use crate::error::StoreError;

const POSTGRES: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");
const SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

/// Applies every pending migration; returns the versions applied.
pub fn run_pending(conn: &mut DbConnection) -> Result<Vec<String>, StoreError> {
    let applied = match conn {
        DbConnection::Postgresql(c) => c.run_pending_migrations(POSTGRES).map(versions),
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE).map(versions),
    };
    applied.map_err(|e| StoreError::Migration(e.to_string()))
}

/// Reverts every applied migration (used by tests proving the down migrations work).
pub fn revert_all(conn: &mut DbConnection) -> Result<Vec<String>, StoreError> {
    let reverted = match conn {
        DbConnection::Postgresql(c) => c.revert_all_migrations(POSTGRES).map(versions),
        DbConnection::Sqlite(c) => c.revert_all_migrations(SQLITE).map(versions),
    };
    reverted.map_err(|e| StoreError::Migration(e.to_string()))
}

fn versions(list: Vec<diesel::migration::MigrationVersion<'_>>) -> Vec<String> {
    list.into_iter().map(|v| v.to_string()).collect()
}
