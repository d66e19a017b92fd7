//! Test databases: each test gets its own, copied from a template migrated once.
//!
//! The first test of a run that needs a backend migrates a template for it (unless an earlier
//! run did); tests then get copies of it, and the server each starts finds no migration left to
//! apply:
//!
//! - SQLite: the template is `keel_tpl_<hash>.sqlite` in the system's temporary directory; a test
//!   copies it to a file in a temporary directory of its own.
//! - PostgreSQL: the template is the database `keel_tpl_<hash>`, and copies are made with
//!   `CREATE DATABASE keel_t_<run>_<n> TEMPLATE keel_tpl_<hash>`. A copy a test is done with is
//!   emptied and used again by a later test rather than dropped (see [`Postgres`] for why), and
//!   a background thread does that work, and makes copies ahead, while the tests run.
//!
//! `<hash>` is a hash of that backend's migration files: a changed migration gets a new template.
//! Concurrent test processes build a template once: under an advisory lock on PostgreSQL, by
//! renaming a finished file into place on SQLite. The copies a run holds when it ends are taken
//! over by the next run. To clear everything away, drop the `keel_tpl_%`, `keel_t_%` and
//! `keel_e_%` databases and delete the `keel_tpl_*.sqlite` files.
//!
//! PostgreSQL is found at `KEEL_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432`).
//! When it cannot be reached the PostgreSQL variants say so on stderr and pass without running,
//! unless `KEEL_REQUIRE_POSTGRES=1` (set by `.ci/run`), in which case they fail.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, Once, OnceLock};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, RunQueryDsl};
use keel_persistence::{DbConnection, migrations};
use sha2::Digest;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    fn migrations_dir(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// A database of one test, given up when dropped: a SQLite file is deleted, a PostgreSQL copy is
/// emptied for a later test (an empty PostgreSQL database is dropped).
pub enum TestDatabase {
    Sqlite { _dir: tempfile::TempDir, url: String },
    Postgres { name: String, url: String },
}

impl TestDatabase {
    /// A database with every migration applied and no rows (a copy of the template); `None` when
    /// PostgreSQL is unavailable and not required.
    pub fn create(backend: Backend) -> Option<TestDatabase> {
        match backend {
            Backend::Sqlite => {
                let (dir, path) = sqlite_file();
                std::fs::copy(sqlite_template(), &path).expect("copy the SQLite template");
                Some(sqlite_database(dir, &path))
            }
            Backend::Postgres => Some(postgres_database(postgres()?.take())),
        }
    }

    /// A fresh database without any table, for tests that run the migrations themselves.
    pub fn create_empty(backend: Backend) -> Option<TestDatabase> {
        match backend {
            Backend::Sqlite => {
                let (dir, path) = sqlite_file();
                Some(sqlite_database(dir, &path))
            }
            Backend::Postgres => {
                let postgres = postgres()?;
                let mut admin = postgres_admin().expect("connect to PostgreSQL");
                Some(postgres_database(postgres.create(&mut admin, EMPTY).expect("create the test database")))
            }
        }
    }

    pub fn url(&self) -> &str {
        match self {
            TestDatabase::Sqlite { url, .. } | TestDatabase::Postgres { url, .. } => url,
        }
    }

    /// A pool on this database, for tests that look underneath the API.
    pub fn open(&self) -> keel_persistence::Database {
        let url = keel_persistence::DatabaseUrl::parse(self.url()).expect("url");
        keel_persistence::Database::open(url, &keel_persistence::PoolOptions::default()).expect("open")
    }

    /// Waits until the outbox holds nothing undelivered: every message queued so far has been
    /// handed to its receiver (or given up). What a test then sees in the SMTP sink or a webhook
    /// receiver is all that will ever arrive, with no sleep to prove it.
    pub async fn wait_until_sent(&self, timeout: Duration) {
        let database = self.open();
        let deadline = Instant::now() + timeout;
        loop {
            let pending = keel_persistence::repo::outbox::pending(&mut database.conn().unwrap()).unwrap();
            if pending == 0 {
                return;
            }
            assert!(Instant::now() < deadline, "{pending} messages still queued after {timeout:?}");
            actix_web::rt::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until the outbox's messages have been attempted at least `attempts` times in all.
    pub async fn wait_for_attempts(&self, attempts: i64, timeout: Duration) {
        let database = self.open();
        let deadline = Instant::now() + timeout;
        loop {
            let stats = keel_persistence::repo::outbox::stats(&mut database.conn().unwrap()).unwrap();
            let made: i64 = stats.iter().map(|s| s.attempts).sum();
            if made >= attempts {
                return;
            }
            assert!(Instant::now() < deadline, "{made} of {attempts} delivery attempts after {timeout:?}");
            actix_web::rt::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // Emptied (or dropped) in the background; what a run still holds at its end, a later run
        // takes over.
        if let TestDatabase::Postgres { name, .. } = self
            && let Some(postgres) = postgres()
        {
            postgres.give_back(std::mem::take(name));
        }
    }
}

// ---- SQLite ----

fn sqlite_file() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("keel.db");
    (dir, path)
}

fn sqlite_database(dir: tempfile::TempDir, path: &Path) -> TestDatabase {
    TestDatabase::Sqlite { url: format!("sqlite://{}", path.display()), _dir: dir }
}

/// The migrated SQLite template of this run's migrations, built on first use.
fn sqlite_template() -> &'static Path {
    static TEMPLATE: OnceLock<PathBuf> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let path = std::env::temp_dir().join(format!("keel_tpl_{}.sqlite", migrations_hash(Backend::Sqlite)));
        if !path.exists() {
            // Built under a name of its own and renamed into place when complete, so a concurrent
            // test process never copies half a template (and one that built it too just replaces
            // it with an identical file).
            let building = path.with_extension(format!("building-{}", uuid::Uuid::now_v7().simple()));
            migrate(&format!("sqlite://{}", building.display())).expect("migrate the SQLite template");
            std::fs::rename(&building, &path).expect("move the SQLite template into place");
        }
        path
    })
}

// ---- PostgreSQL ----

fn postgres_base() -> String {
    std::env::var("KEEL_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
        .trim_end_matches('/')
        .to_owned()
}

fn postgres_required() -> bool {
    std::env::var("KEEL_REQUIRE_POSTGRES").is_ok_and(|v| v == "1" || v == "true")
}

/// `host:port` of the test PostgreSQL server, as written in its URL.
pub fn postgres_address() -> String {
    let base = postgres_base();
    let after_scheme = base.split_once("://").map_or(base.as_str(), |(_, rest)| rest);
    let host = after_scheme.rsplit_once('@').map_or(after_scheme, |(_, host)| host);
    host.split('/').next().unwrap_or(host).to_owned()
}

/// A connection to the server's `postgres` database, from which databases are created and dropped.
fn postgres_admin() -> Result<PgConnection, diesel::ConnectionError> {
    PgConnection::establish(&format!("{}/postgres?connect_timeout=5", postgres_base()))
}

fn connect_to(name: &str) -> Result<PgConnection, String> {
    PgConnection::establish(&format!("{}/{name}?connect_timeout=5", postgres_base())).map_err(|e| e.to_string())
}

/// The advisory lock (one number: any will do, as long as every test process uses it) under
/// which a template is built.
const TEMPLATE_LOCK: i64 = 0x6b65_656c_5f74_706c; // "keel_tpl"
/// The first number of the advisory lock each test process holds while it runs, the second being
/// its run number: a database named after a run nobody holds is left over, for a later run to
/// take over or drop.
const RUN_LOCK: i32 = 0x6b65_656c; // "keel"
/// Copies of the template (`keel_t_<run>_<n>`) and empty databases (`keel_e_<run>_<n>`).
const COPY: &str = "keel_t_";
const EMPTY: &str = "keel_e_";

/// How many copies of the template are kept ready for the tests to come.
const AHEAD: usize = 2;
/// How many of the copies an earlier run left a run takes over (the others are dropped).
const KEEP: usize = 16;
/// How long a copy a test is done with rests before it is emptied: long enough for its server's
/// last database calls (a delivery cut short finishes its statement) to be over.
const REST: Duration = Duration::from_millis(300);

/// The PostgreSQL databases of this test process.
///
/// Copying a database is expensive on a server that syncs its writes: the copy takes in the
/// whole template, system catalogs included, and every `DROP DATABASE` forces a checkpoint that
/// slows down every other test's writes. So a copy a test is done with is not dropped but emptied
/// (every table but the migrations' truncated, after its connections are ended) and handed to a
/// later test; a copy whose schema no longer matches the template's is dropped instead.
/// Background threads keep `AHEAD` copies ready and empty the used ones while the tests run;
/// the copies left when a run ends are taken over by the next one. So a run makes only a few
/// copies, and drops about as many.
struct Postgres {
    template: String,
    /// The template's schema, as [`fingerprint`] sees it.
    schema: String,
    /// This run's number, part of every database name, held as an advisory lock by `_lock`.
    run: i32,
    _lock: Mutex<PgConnection>,
    next: AtomicU64,
    stock: Mutex<Stock>,
    work: Condvar,
}

#[derive(Default)]
struct Stock {
    /// Copies of the template ready to be taken: new ones, and used ones emptied.
    ready: Vec<String>,
    /// Copies the tests are done with (and since when), to be emptied.
    used: Vec<(String, Instant)>,
    /// Empty databases the tests are done with, and what earlier runs left and this one does not
    /// take over.
    to_drop: Vec<String>,
    /// Whether those were looked for.
    looked: bool,
}

enum Job {
    Create,
    Empty(String),
    Drop(String),
    LookForLeftOvers,
}

/// This process's PostgreSQL, set up on first use (the template migrated if need be, the
/// background threads started); `None` when PostgreSQL is unreachable and not required (after
/// saying so once).
fn postgres() -> Option<&'static Postgres> {
    static POSTGRES: OnceLock<Result<Postgres, String>> = OnceLock::new();
    match POSTGRES.get_or_init(Postgres::connect) {
        Ok(postgres) => {
            static STARTED: Once = Once::new();
            STARTED.call_once(|| postgres.keep_stock());
            Some(postgres)
        }
        Err(error) if postgres_required() => {
            panic!("PostgreSQL is required (KEEL_REQUIRE_POSTGRES=1) but unreachable at {}: {error}", postgres_base())
        }
        Err(error) => {
            static NOTICE: OnceLock<()> = OnceLock::new();
            NOTICE.get_or_init(|| {
                // Written past the test harness's capture so that it is seen.
                let _ = writeln!(
                    std::io::stderr(),
                    "\nNOTICE: PostgreSQL unreachable at {} ({error}); PostgreSQL tests SKIPPED, SQLite tests run.\n",
                    postgres_base()
                );
            });
            None
        }
    }
}

impl Postgres {
    /// Connects, builds the template if it is not there yet, takes this run's lock and makes the
    /// first copy. Only an unreachable server is an `Err` (the tests are skipped); a template
    /// that cannot be built fails them.
    fn connect() -> Result<Postgres, String> {
        let mut admin = postgres_admin().map_err(|e| e.to_string())?;
        let template = format!("keel_tpl_{}", migrations_hash(Backend::Postgres));
        // Session-level: released by the unlock below, or when the connection closes.
        admin.batch_execute(&format!("SELECT pg_advisory_lock({TEMPLATE_LOCK})")).expect("template lock");
        if !database_exists(&mut admin, &template) {
            let building = format!("{template}_building");
            // Left behind by a process that died building it.
            drop_database(&mut admin, &building).expect("drop a half-built template");
            admin.batch_execute(&format!("CREATE DATABASE {building}")).expect("create the PostgreSQL template");
            migrate(&format!("{}/{building}", postgres_base())).expect("migrate the PostgreSQL template");
            // Renamed once complete: a template under its final name is always whole. Nothing
            // connects to it after this, so it can always be copied.
            admin.batch_execute(&format!("ALTER DATABASE {building} RENAME TO {template}")).expect("rename it");
        }
        admin.batch_execute(&format!("SELECT pg_advisory_unlock({TEMPLATE_LOCK})")).expect("template unlock");
        let run = (uuid::Uuid::now_v7().as_u128() as i32) & i32::MAX;
        // Held by this connection until the process exits.
        admin.batch_execute(&format!("SELECT pg_advisory_lock({RUN_LOCK}, {run})")).expect("run lock");
        let mut postgres = Postgres {
            template,
            schema: String::new(),
            run,
            _lock: Mutex::new(admin),
            next: AtomicU64::new(0),
            stock: Mutex::default(),
            work: Condvar::new(),
        };
        let mut admin = postgres_admin().map_err(|e| e.to_string())?;
        let first = postgres.create(&mut admin, COPY).expect("copy the template");
        match connect_to(&first).and_then(|mut conn| fingerprint(&mut conn)) {
            Ok(schema) => postgres.schema = schema,
            Err(error) => {
                let _ = drop_database(&mut admin, &first);
                panic!("the schema of a copy of the template: {error}");
            }
        }
        postgres.stock.get_mut().unwrap().ready.push(first);
        Ok(postgres)
    }

    fn new_name(&self, kind: &str) -> String {
        format!("{kind}{}_{}", self.run, self.next.fetch_add(1, Ordering::Relaxed))
    }

    /// A new database: a copy of the template (`COPY`), or an empty one (`EMPTY`).
    fn create(&self, admin: &mut PgConnection, kind: &str) -> Result<String, String> {
        let name = self.new_name(kind);
        let from = if kind == COPY { format!(" TEMPLATE {}", self.template) } else { String::new() };
        admin.batch_execute(&format!("CREATE DATABASE {name}{from}")).map_err(|e| e.to_string())?;
        Ok(name)
    }

    /// A copy of the template: a ready one, else a new one.
    fn take(&self) -> String {
        let ready = self.stock.lock().unwrap().ready.pop();
        self.work.notify_all();
        ready.unwrap_or_else(|| {
            let mut admin = postgres_admin().expect("connect to PostgreSQL");
            self.create(&mut admin, COPY).expect("create the test database")
        })
    }

    /// Takes back a database a test is done with: a copy to empty and use again, an empty
    /// database to drop.
    fn give_back(&self, name: String) {
        let mut stock = self.stock.lock().unwrap();
        if name.starts_with(COPY) {
            stock.used.push((name, Instant::now()));
        } else {
            stock.to_drop.push(name);
        }
        drop(stock);
        self.work.notify_all();
    }

    /// The background threads: one keeps `AHEAD` copies ready; the other empties used copies,
    /// drops what is to be dropped and, once, looks for what earlier runs left over.
    fn keep_stock(&'static self) {
        std::thread::spawn(|| {
            self.work_on(|stock| (stock.ready.len() < AHEAD).then_some(Job::Create));
        });
        std::thread::spawn(|| {
            self.work_on(|stock| {
                if let Some(at) = stock.used.iter().position(|(_, since)| since.elapsed() >= REST) {
                    Some(Job::Empty(stock.used.remove(at).0))
                } else if !stock.used.is_empty() {
                    // Resting: look again when it is time.
                    None
                } else if let Some(name) = stock.to_drop.pop() {
                    Some(Job::Drop(name))
                } else if !stock.looked {
                    stock.looked = true;
                    Some(Job::LookForLeftOvers)
                } else {
                    None
                }
            });
        });
    }

    /// Does the jobs `next` finds in the stock, one at a time, for as long as the process runs
    /// (waiting, when there is none, until the stock changes or a resting copy may be emptied).
    fn work_on(&self, mut next: impl FnMut(&mut Stock) -> Option<Job>) {
        let mut admin = None;
        loop {
            let job = {
                let mut stock = self.stock.lock().unwrap();
                loop {
                    if let Some(job) = next(&mut stock) {
                        break job;
                    }
                    stock = self.work.wait_timeout(stock, REST / 3).unwrap().0;
                }
            };
            let conn = match &mut admin {
                Some(conn) => conn,
                None => match postgres_admin() {
                    Ok(conn) => admin.insert(conn),
                    Err(_) => {
                        std::thread::sleep(Duration::from_secs(1));
                        continue;
                    }
                },
            };
            let done = match job {
                Job::Create => self.create(conn, COPY).map(|name| self.ready(name)),
                // A copy not emptied, or no longer the template's, is not used again.
                Job::Empty(name) => {
                    self.empty(&name).map(|()| self.ready(name.clone())).or_else(|_| drop_database(conn, &name))
                }
                Job::Drop(name) => drop_database(conn, &name),
                Job::LookForLeftOvers => self.left_overs(conn).map(|names| self.adopt(conn, names)),
            };
            if done.is_err() {
                // The server went away or refused: start again on a new connection, calmly.
                admin = None;
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    }

    fn ready(&self, name: String) {
        self.stock.lock().unwrap().ready.push(name);
        self.work.notify_all();
    }

    /// Makes a used copy as good as new: its connections ended, every table but the migrations'
    /// emptied; `Err` when its schema is no longer the template's.
    fn empty(&self, name: &str) -> Result<(), String> {
        let mut conn = connect_to(name)?;
        conn.batch_execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid(); \
             DO $$ DECLARE tables text; BEGIN \
               SELECT string_agg(format('%I', tablename), ', ') INTO tables FROM pg_tables \
                 WHERE schemaname = 'public' AND tablename <> '__diesel_schema_migrations'; \
               EXECUTE 'TRUNCATE ' || tables || ' RESTART IDENTITY CASCADE'; \
             END $$;",
        )
        .map_err(|e| e.to_string())?;
        let schema = fingerprint(&mut conn)?;
        if schema == self.schema { Ok(()) } else { Err(format!("{name}: the schema changed")) }
    }

    /// Takes over the copies earlier runs left (up to `KEEP`, renamed as this run's: a copy of
    /// another template fails the schema check when emptied and is dropped then), and drops the
    /// rest.
    fn adopt(&self, admin: &mut PgConnection, left: Vec<String>) {
        let mut kept = 0;
        for name in left {
            if name.starts_with(COPY) && kept < KEEP {
                let ours = self.new_name(COPY);
                // Fails when another run took it first.
                if admin.batch_execute(&format!("ALTER DATABASE {name} RENAME TO {ours}")).is_ok() {
                    kept += 1;
                    // Ready to be emptied at once: nothing has used it since its run ended.
                    let since = Instant::now().checked_sub(REST).unwrap_or_else(Instant::now);
                    self.stock.lock().unwrap().used.push((ours, since));
                }
            } else {
                self.stock.lock().unwrap().to_drop.push(name);
            }
        }
        self.work.notify_all();
    }

    /// The test databases of runs that are over (their lock is free): the copies they kept for
    /// later tests, and any database of a run stopped early.
    fn left_overs(&self, admin: &mut PgConnection) -> Result<Vec<String>, String> {
        #[derive(diesel::QueryableByName)]
        struct Name {
            #[diesel(sql_type = diesel::sql_types::Text)]
            name: String,
        }
        #[derive(diesel::QueryableByName)]
        struct Run {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            run: i64,
        }
        let names: Vec<Name> = diesel::sql_query(
            "SELECT datname::text AS name FROM pg_database WHERE datname LIKE 'keel\\_t\\_%' OR datname LIKE 'keel\\_e\\_%'",
        )
        .load(admin)
        .map_err(|e| e.to_string())?;
        let live: Vec<Run> = diesel::sql_query(format!(
            "SELECT objid::bigint AS run FROM pg_locks \
             WHERE locktype = 'advisory' AND classid::bigint = {RUN_LOCK} AND objsubid = 2 AND granted"
        ))
        .load(admin)
        .map_err(|e| e.to_string())?;
        let over = |name: &String| {
            // Both prefixes are as long.
            let run = name[COPY.len()..].split_once('_').map(|(run, _)| run.parse::<i64>());
            matches!(run, Some(Ok(run)) if run != i64::from(self.run) && !live.iter().any(|l| l.run == run))
        };
        Ok(names.into_iter().map(|n| n.name).filter(over).collect())
    }
}

/// A database's schema in brief: its tables, indexes and other relations with their columns
/// (a migration changed in place changes it), its triggers, and the migrations applied.
fn fingerprint(conn: &mut PgConnection) -> Result<String, String> {
    #[derive(diesel::QueryableByName)]
    struct Schema {
        #[diesel(sql_type = diesel::sql_types::Text)]
        schema: String,
    }
    let found: Schema = diesel::sql_query(
        "SELECT concat_ws(' | ', \
           (SELECT string_agg(relname::text || ':' || relkind::text, ',' ORDER BY relname) FROM pg_class \
             WHERE relnamespace = 'public'::regnamespace), \
           (SELECT string_agg(c.relname::text || '.' || a.attname::text || ':' || format_type(a.atttypid, a.atttypmod), ',' \
                    ORDER BY c.relname, a.attnum) \
              FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
             WHERE c.relnamespace = 'public'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped), \
           (SELECT string_agg(tgname::text, ',' ORDER BY tgname) FROM pg_trigger WHERE NOT tgisinternal), \
           (SELECT string_agg(version::text, ',' ORDER BY version) FROM __diesel_schema_migrations)) AS schema",
    )
    .get_result(conn)
    .map_err(|e| e.to_string())?;
    Ok(found.schema)
}

fn database_exists(admin: &mut PgConnection, name: &str) -> bool {
    #[derive(diesel::QueryableByName)]
    struct Found {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        count: i64,
    }
    let found: Found = diesel::sql_query("SELECT count(*) AS count FROM pg_database WHERE datname = $1")
        .bind::<diesel::sql_types::Text, _>(name)
        .get_result(admin)
        .expect("look for the template");
    found.count > 0
}

/// FORCE ends the connections a stopping server may still hold.
fn drop_database(admin: &mut PgConnection, name: &str) -> Result<(), String> {
    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).map_err(|e| e.to_string())
}

fn postgres_database(name: String) -> TestDatabase {
    let url = format!("{}/{name}", postgres_base());
    TestDatabase::Postgres { name, url }
}

// ---- both ----

/// Applies every migration to the database at `url` with a connection of its own, closed when
/// done (a SQLite file is left without a write-ahead log, ready to be copied; a PostgreSQL
/// database without connections, ready to be renamed and copied).
fn migrate(url: &str) -> Result<(), String> {
    let url = keel_persistence::DatabaseUrl::parse(url).map_err(|e| e.to_string())?;
    let options = keel_persistence::PoolOptions { max_size: 1, ..Default::default() };
    let database = keel_persistence::Database::open(url, &options).map_err(|e| e.to_string())?;
    let mut conn = database.conn().map_err(|e| e.to_string())?;
    migrations::run_pending(&mut conn).map_err(|e| e.to_string())?;
    if let DbConnection::Sqlite(sqlite) = &mut *conn {
        sqlite
            .batch_execute("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode = DELETE;")
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// A short hash of a backend's migration files (names and contents).
fn migrations_hash(backend: Backend) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations").join(backend.migrations_dir());
    let mut files = Vec::new();
    let mut pending = vec![root.clone()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("the migrations folder") {
            let path = entry.expect("a migration file").path();
            if path.is_dir() { pending.push(path) } else { files.push(path) }
        }
    }
    files.sort();
    let mut hasher = sha2::Sha256::new();
    for file in files {
        hasher.update(file.strip_prefix(&root).unwrap_or(&file).to_string_lossy().as_bytes());
        hasher.update([0]);
        hasher.update(std::fs::read(&file).expect("a migration file"));
        hasher.update([0]);
    }
    hasher.finalize().iter().take(8).map(|b| format!("{b:02x}")).collect()
}
