//! Keel's persistence: one diesel codebase over PostgreSQL and SQLite.
//!
//! Repositories take a `&mut DbConnection`; every mutation runs in one write transaction together
//! with its audit record.

pub mod connection;
pub mod error;
pub mod instrument;
pub mod migrations;
pub mod repo;
pub mod rows;
pub mod schema;
pub mod seed;

pub use connection::{Backend, Database, DatabaseUrl, DbConnection, PoolOptions, write_transaction};
pub use error::StoreError;
