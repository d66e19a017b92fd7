//! One connection type over PostgreSQL and SQLite, the pool, and the write transaction.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::r2d2::R2D2Connection;
use diesel::{Connection, PgConnection, SqliteConnection};

use crate::error::StoreError;

/// A connection to either backend; diesel generates the query plumbing for both.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

impl DbConnection {
    pub fn backend(&self) -> Backend {
        match self {
            DbConnection::Postgresql(_) => Backend::Postgres,
            DbConnection::Sqlite(_) => Backend::Sqlite,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Postgres => "postgres",
            Backend::Sqlite => "sqlite",
        })
    }
}

/// Where the database is, parsed from `DATABASE_URL`: `postgres://…` / `postgresql://…` selects
/// PostgreSQL; `sqlite://path`, `sqlite:path` or a plain file path selects SQLite.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Postgres(String),
    Sqlite(PathBuf),
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> Result<DatabaseUrl, StoreError> {
        let url = url.trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(url.to_owned()));
        }
        let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
        if path.is_empty() || path == ":memory:" || path.contains("://") {
            return Err(StoreError::Config(format!(
                "unsupported database URL {url:?}: use postgres://… or a SQLite file path (sqlite://path)"
            )));
        }
        Ok(DatabaseUrl::Sqlite(PathBuf::from(path)))
    }

    pub fn backend(&self) -> Backend {
        match self {
            DatabaseUrl::Postgres(_) => Backend::Postgres,
            DatabaseUrl::Sqlite(_) => Backend::Sqlite,
        }
    }

    /// A description safe to log: the password of a PostgreSQL URL is masked.
    pub fn redacted(&self) -> String {
        match self {
            DatabaseUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
            DatabaseUrl::Postgres(url) => redact_password(url),
        }
    }

    fn connect(&self) -> Result<DbConnection, diesel::ConnectionError> {
        let mut conn = self.connect_uninstrumented()?;
        conn.set_instrumentation(crate::instrument::StatementCounter);
        Ok(conn)
    }

    fn connect_uninstrumented(&self) -> Result<DbConnection, diesel::ConnectionError> {
        match self {
            DatabaseUrl::Postgres(url) => {
                let mut conn = PgConnection::establish(url)?;
                // No JIT compilation: Keel's statements are short, and PostgreSQL compiles the
                // reports' (whose estimated cost is high) for longer than they run: 0.8 s of a
                // 0.9 s page of 500 programs (docs/operations.md, what a request costs).
                conn.batch_execute("SET jit = off").map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                Ok(DbConnection::Postgresql(conn))
            }
            DatabaseUrl::Sqlite(path) => {
                let mut conn = SqliteConnection::establish(&path.to_string_lossy())?;
                // WAL lets readers run beside the single writer; the busy timeout makes a writer
                // wait for the lock instead of failing; foreign keys are off by default in SQLite.
                conn.batch_execute(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;",
                )
                .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let Some((userinfo, host)) = rest.split_once('@') else { return url.to_owned() };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

/// r2d2 manager that knows which backend to open (rather than guessing from the URL).
pub struct ConnectionManager {
    url: DatabaseUrl,
}

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConnection, Self::Error> {
        self.url.connect().map_err(diesel::r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), Self::Error> {
        conn.ping().map_err(diesel::r2d2::Error::QueryError)
    }

    /// Broken: left inside a transaction, or its server went away while it was used (see
    /// `instrument`); such a connection is closed instead of going back to the pool.
    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        let lost = crate::instrument::take_connection_lost();
        lost || conn.is_broken()
    }
}

pub type Pool = r2d2::Pool<ConnectionManager>;
pub type PooledConnection = r2d2::PooledConnection<ConnectionManager>;

/// Pool settings.
#[derive(Clone, Debug)]
pub struct PoolOptions {
    pub max_size: u32,
    /// How long a request waits for a free connection before the database counts as unavailable.
    pub acquire_timeout: Duration,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self { max_size: 10, acquire_timeout: Duration::from_secs(5) }
    }
}

/// The database: a connection pool over one backend.
#[derive(Clone)]
pub struct Database {
    pool: Pool,
    url: DatabaseUrl,
}

impl Database {
    /// Opens a pool. It does not fail when the database is down: connections are made on demand,
    /// so the server can start, report not-ready and recover once the database is back.
    pub fn open(url: DatabaseUrl, options: &PoolOptions) -> Result<Database, StoreError> {
        if let DatabaseUrl::Sqlite(path) = &url {
            create_parent_dir(path)?;
        }
        let pool = r2d2::Pool::builder()
            .max_size(options.max_size.max(1))
            .min_idle(Some(0))
            // No ping per checkout: it would cost a round trip on every request. A connection
            // whose server went away fails its request with 503 and is then dropped.
            .test_on_check_out(false)
            .connection_timeout(options.acquire_timeout)
            .error_handler(Box::new(LogErrors))
            .build_unchecked(ConnectionManager { url: url.clone() });
        Ok(Database { pool, url })
    }

    pub fn backend(&self) -> Backend {
        self.url.backend()
    }

    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// A connection from the pool, or `Unavailable` when none can be had in time.
    pub fn conn(&self) -> Result<PooledConnection, StoreError> {
        self.pool.get().map_err(|e| StoreError::Unavailable(e.to_string()))
    }

    /// Checks that the database answers, waiting at most `timeout` for a connection.
    pub fn ping(&self, timeout: Duration) -> Result<(), StoreError> {
        let mut conn = self.pool.get_timeout(timeout).map_err(|e| StoreError::Unavailable(e.to_string()))?;
        conn.ping().map_err(|e| StoreError::Unavailable(e.to_string()))
    }

    /// (open connections, idle connections, maximum).
    pub fn pool_state(&self) -> (u32, u32, u32) {
        let state = self.pool.state();
        (state.connections, state.idle_connections, self.pool.max_size())
    }
}

fn create_parent_dir(path: &Path) -> Result<(), StoreError> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() && !dir.exists() => std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Config(format!("cannot create directory {}: {e}", dir.display()))),
        _ => Ok(()),
    }
}

#[derive(Debug)]
struct LogErrors;

impl r2d2::HandleError<diesel::r2d2::Error> for LogErrors {
    fn handle_error(&self, error: diesel::r2d2::Error) {
        tracing::warn!(%error, "database connection error");
    }
}

/// Runs `f` in a transaction that takes the write lock up front.
///
/// On SQLite this is `BEGIN IMMEDIATE`: a deferred transaction that reads and then writes can fail
/// with `SQLITE_BUSY` when another writer got there first; taking the lock first makes writers
/// queue (bounded by the busy timeout). On PostgreSQL it is an ordinary transaction.
pub fn write_transaction<T, F>(conn: &mut DbConnection, f: F) -> Result<T, StoreError>
where
    F: FnOnce(&mut DbConnection) -> Result<T, StoreError>,
{
    match conn {
        DbConnection::Sqlite(c) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?,
        DbConnection::Postgresql(c) => AnsiTransactionManager::begin_transaction(c)?,
    }
    match f(conn) {
        Ok(value) => {
            <DbConnection as Connection>::TransactionManager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(error) => {
            if let Err(rollback) = <DbConnection as Connection>::TransactionManager::rollback_transaction(conn) {
                tracing::error!(%rollback, "rollback failed");
            }
            Err(error)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_select_the_backend() {
        assert_eq!(DatabaseUrl::parse("postgres://u@h/db").unwrap().backend(), Backend::Postgres);
        assert_eq!(DatabaseUrl::parse("postgresql://u@h/db").unwrap().backend(), Backend::Postgres);
        assert_eq!(DatabaseUrl::parse("sqlite://data/keel.db").unwrap(), DatabaseUrl::Sqlite("data/keel.db".into()));
        assert_eq!(DatabaseUrl::parse("sqlite:keel.db").unwrap(), DatabaseUrl::Sqlite("keel.db".into()));
        assert_eq!(DatabaseUrl::parse("./keel.db").unwrap(), DatabaseUrl::Sqlite("./keel.db".into()));
        assert!(DatabaseUrl::parse("mysql://h/db").is_err());
        assert!(DatabaseUrl::parse("").is_err());
    }

    #[test]
    fn passwords_are_not_logged() {
        let url = DatabaseUrl::parse("postgres://keel:s3cret@db:5432/keel").unwrap();
        assert_eq!(url.redacted(), "postgres://keel:***@db:5432/keel");
        assert!(!format!("{url:?}").contains("s3cret"));
    }
}
