//! The one place that knows which databases the catalogue runs on: URL parsing, connection
//! settings, the migration set of each backend and the few dialect differences (how a write
//! transaction starts, how a claim skips locked rows). Everything else — the catalogue's
//! queries here and the job queue's in `repack-queue` — writes portable SQL (`$1`
//! placeholders, `ON CONFLICT`, `RETURNING`, text timestamps) against one [`Database`].
//!
//! # SQLite and PostgreSQL through `sqlx::Any`
//!
//! The backend is chosen by the URL's scheme at run time, so the query code must work on either.
//! The alternatives were an enum of typed pools, which needs every query body written (or
//! macro-expanded) once per backend and a dispatch macro exported to the queue crate, or
//! generic functions whose `Encode`/`Decode` bounds for each column type spread through every
//! signature. `Any` fits because the schema is deliberately kept to what `Any` carries without
//! loss on both backends: TEXT (timestamps are RFC 3339 text) and integers, with NULLs. Both
//! crates then write each query once, against one pool type.
//!
//! The traps, and what this module does about each:
//! - `AnyConnectOptions` is only a URL: SQLite's WAL journal, busy timeout, `synchronous` and
//!   foreign keys cannot travel through it. They are set by [`SQLITE_SETUP`] on every new
//!   connection (before the pool hands it out), and `mode=rwc` is added to the URL so a
//!   missing file is created, as `SqliteConnectOptions::create_if_missing` did.
//! - The pool retries a refused connection quietly until its acquire timeout and then reports
//!   only "timed out". [`Database::connect`] opens one connection directly first, so the real
//!   cause (refused, authentication, missing database or directory) is reported at once.
//! - The `Any` drivers must be installed before the first connection
//!   (`install_default_drivers`, idempotent).
//! - PostgreSQL compares text by the database's collation, SQLite byte-wise: the PostgreSQL
//!   migrations declare `COLLATE "C"` on text columns so ordering and the text-timestamp
//!   comparisons are the same on both.
//!
//! Only integers and text are bound or read; a new column of another type (a boolean, a
//! native timestamp) would decode differently per backend and must not be added.

use crate::CatalogError;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Any, AnyConnection, AnyPool, Connection, Transaction};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

/// Schema migrations of each backend, embedded at build time. The catalogue's migrator also
/// creates the job queue's tables (their files live in the same directories): sqlx records
/// applied versions in one table per database, and a second migrator on the same database
/// would refuse the versions it does not know.
static SQLITE_MIGRATOR: Migrator = sqlx::migrate!("../../migrations/sqlite");
static POSTGRES_MIGRATOR: Migrator = sqlx::migrate!("../../migrations/postgres");

/// Connection settings applied to every SQLite connection. WAL lets readers run beside the
/// one writer; NORMAL is durable across application crashes in WAL mode (only an OS crash can
/// lose the last transactions, never corrupt the file); the busy timeout (30 s) makes a
/// writer wait for another instead of failing at once. Set first, so the WAL switch waits too.
const SQLITE_SETUP: &str = "PRAGMA busy_timeout = 30000; \
                            PRAGMA journal_mode = WAL; \
                            PRAGMA synchronous = NORMAL; \
                            PRAGMA foreign_keys = ON;";

/// SQLite pool size: more connections than this only queue on the write lock.
const SQLITE_MAX_CONNECTIONS: u32 = 8;

/// PostgreSQL pool size per process; several workers share the server's `max_connections`.
const POSTGRES_MAX_CONNECTIONS: u32 = 10;

/// Which database a [`Database`] talks to. Exhaustive on purpose: a new backend must be
/// handled wherever a dialect difference is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// A file, for one machine (`sqlite://…`).
    Sqlite,
    /// A server, for many workers sharing one queue (`postgres://…`, `postgresql://…`).
    Postgres,
}

impl Backend {
    /// The backend a URL names by its scheme, or why it names none.
    pub fn of_url(url: &str) -> Result<Backend, CatalogError> {
        let Some((scheme, _)) = url.split_once(':') else {
            return Err(invalid_url(
                url,
                "expected `sqlite:///absolute/path.db`, `sqlite://relative.db` or \
                 `postgres://user@host/database`",
            ));
        };
        match scheme {
            "sqlite" => Ok(Backend::Sqlite),
            "postgres" | "postgresql" => Ok(Backend::Postgres),
            other => Err(invalid_url(
                url,
                &format!("unknown database scheme `{other}` (expected `sqlite` or `postgres`)"),
            )),
        }
    }

    /// A short lowercase name, for logs and test names.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }

    /// The statement that opens a write transaction. SQLite's default `BEGIN` (deferred) takes
    /// the write lock only at the first write, and a reader upgrading to a writer fails with
    /// `SQLITE_BUSY` without waiting; `BEGIN IMMEDIATE` takes it up front, so writers queue on
    /// the busy timeout and a read-then-write transaction sees no other writer in between.
    /// PostgreSQL locks rows as they are written.
    pub fn begin_write(self) -> &'static str {
        match self {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        }
    }

    /// The locking clause of a subquery that picks one row to claim (`SELECT … LIMIT 1` +
    /// this). PostgreSQL: lock the row and skip rows other transactions hold, so concurrent
    /// claimers take different rows without waiting. SQLite has no row locks: nothing, as the
    /// claim runs inside [`Backend::begin_write`] and writers take turns.
    pub fn skip_locked(self) -> &'static str {
        match self {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        }
    }

    fn migrator(self) -> &'static Migrator {
        match self {
            Backend::Sqlite => &SQLITE_MIGRATOR,
            Backend::Postgres => &POSTGRES_MIGRATOR,
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A connection pool to the catalogue database, shared by the catalogue and the job queue.
/// Cheap to clone. Its `Debug` and [`Database::url`] never show a password.
#[derive(Clone)]
pub struct Database {
    pool: AnyPool,
    backend: Backend,
    /// The URL with any password replaced, for messages.
    url: Arc<str>,
}

impl Database {
    /// Connects to `url` (`sqlite:///abs/path.db`, `sqlite://relative.db`, `sqlite:path`, or
    /// `postgres://user:password@host:port/database`, `?host=/socket/dir` for a Unix socket).
    /// A missing SQLite file (not its directory) is created. Does not migrate.
    pub(crate) async fn connect(url: &str) -> Result<Database, CatalogError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::of_url(url)?;
        let options = match backend {
            Backend::Sqlite => sqlite_any_options(url)?,
            Backend::Postgres => AnyConnectOptions::from_str(url)
                .map_err(|error| invalid_url(url, &error.to_string()))?,
        };
        let open_error = |source| CatalogError::Open {
            url: redact(url),
            source,
        };
        // One direct connection first: its error names the cause (see the module docs).
        let mut probe = AnyConnection::connect_with(&options)
            .await
            .map_err(open_error)?;
        setup(backend, &mut probe).await.map_err(open_error)?;
        probe.close().await.map_err(open_error)?;

        let max_connections = match backend {
            Backend::Sqlite => SQLITE_MAX_CONNECTIONS,
            Backend::Postgres => POSTGRES_MAX_CONNECTIONS,
        };
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .after_connect(move |connection, _| Box::pin(setup(backend, connection)))
            .connect_lazy_with(options);
        Ok(Database {
            pool,
            backend,
            url: redact(url).into(),
        })
    }

    /// Applies the backend's pending migrations (the catalogue's and the job queue's tables).
    pub(crate) async fn migrate(&self) -> Result<(), CatalogError> {
        self.backend
            .migrator()
            .run(&self.pool)
            .await
            .map_err(|source| CatalogError::Migrate {
                url: self.url.to_string(),
                source,
            })
    }

    /// The pool, for queries written in portable SQL (see the module docs for the rules).
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The URL it was opened with, password replaced by `***`: safe in messages.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Starts a write transaction ([`Backend::begin_write`]).
    pub async fn begin_write(&self) -> Result<Transaction<'static, Any>, sqlx::Error> {
        self.pool.begin_with(self.backend.begin_write()).await
    }

    /// Closes every connection, waiting for queries in flight.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Database")
            .field("backend", &self.backend)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// Per-connection settings ([`SQLITE_SETUP`]; nothing for PostgreSQL).
async fn setup(backend: Backend, connection: &mut AnyConnection) -> Result<(), sqlx::Error> {
    if backend == Backend::Sqlite {
        sqlx::raw_sql(SQLITE_SETUP).execute(connection).await?;
    }
    Ok(())
}

/// Checks a `sqlite:` URL and turns it into `Any` options that create a missing file.
fn sqlite_any_options(url: &str) -> Result<AnyConnectOptions, CatalogError> {
    sqlite_options(url)?;
    let has_mode = url
        .split_once('?')
        .is_some_and(|(_, query)| query.split('&').any(|pair| pair.starts_with("mode=")));
    let url_with_mode = match (has_mode, url.contains('?')) {
        (true, _) => url.to_owned(),
        (false, true) => format!("{url}&mode=rwc"),
        (false, false) => format!("{url}?mode=rwc"),
    };
    AnyConnectOptions::from_str(&url_with_mode)
        .map_err(|error| invalid_url(url, &error.to_string()))
}

/// SQLite's reading of `url`, for checking it.
fn sqlite_options(url: &str) -> Result<SqliteConnectOptions, CatalogError> {
    SqliteConnectOptions::from_str(url).map_err(|error| invalid_url(url, &error.to_string()))
}

fn invalid_url(url: &str, reason: &str) -> CatalogError {
    CatalogError::InvalidUrl {
        url: redact(url),
        reason: reason.to_owned(),
    }
}

/// `url` with its password (in the user info or a `password=` parameter) replaced by `***`,
/// for messages.
pub(crate) fn redact(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let mut out = match base.split_once("://") {
        Some((scheme, rest)) => {
            let authority_end = rest.find('/').unwrap_or(rest.len());
            match rest[..authority_end].rfind('@') {
                Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
                None => base.to_owned(),
            }
        }
        None => base.to_owned(),
    };
    if let Some(query) = query {
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, _)) if key.to_ascii_lowercase().contains("password") => {
                    format!("{key}=***")
                }
                _ => pair.to_owned(),
            })
            .collect();
        out.push('?');
        out.push_str(&pairs.join("&"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{Backend, redact, sqlite_any_options, sqlite_options};
    use std::path::Path;

    #[test]
    fn absolute_and_relative_sqlite_urls() {
        let absolute = sqlite_options("sqlite:///var/lib/repack/catalog.db").unwrap();
        assert_eq!(
            absolute.get_filename(),
            Path::new("/var/lib/repack/catalog.db")
        );
        let relative = sqlite_options("sqlite://catalog.db").unwrap();
        assert_eq!(relative.get_filename(), Path::new("catalog.db"));
        let short = sqlite_options("sqlite:data/catalog.db").unwrap();
        assert_eq!(short.get_filename(), Path::new("data/catalog.db"));
    }

    #[test]
    fn sqlite_urls_create_missing_files_unless_a_mode_is_given() {
        let created = sqlite_any_options("sqlite:///tmp/my catalog.db").unwrap();
        assert!(
            created.database_url.as_str().ends_with("?mode=rwc"),
            "{}",
            created.database_url
        );
        let read_only = sqlite_any_options("sqlite:///tmp/c.db?mode=ro").unwrap();
        assert!(!read_only.database_url.as_str().contains("rwc"));
        assert!(sqlite_any_options("sqlite:///tmp/c.db?unknown=1").is_err());
    }

    #[test]
    fn the_scheme_chooses_the_backend() {
        let backend = |url| Backend::of_url(url).map_err(|error| error.to_string());
        assert_eq!(backend("sqlite:x.db"), Ok(Backend::Sqlite));
        assert_eq!(backend("postgres://db/repack"), Ok(Backend::Postgres));
        assert_eq!(backend("postgresql://db/repack"), Ok(Backend::Postgres));
        let unknown = backend("mysql://u:secret@db/repack").unwrap_err();
        assert!(
            unknown.contains("unknown database scheme `mysql`"),
            "{unknown}"
        );
        assert!(!unknown.contains("secret"), "{unknown}");
        assert!(backend("catalog.db").is_err());
    }

    #[test]
    fn redacts_credentials_only() {
        assert_eq!(
            redact("sqlite:///var/lib/repack/db"),
            "sqlite:///var/lib/repack/db"
        );
        assert_eq!(
            redact("postgres://u:secret@db/repack"),
            "postgres://***@db/repack"
        );
        assert_eq!(redact("sqlite:x.db"), "sqlite:x.db");
        assert_eq!(
            redact("postgres://u@db/repack?password=secret&sslmode=require"),
            "postgres://***@db/repack?password=***&sslmode=require"
        );
        assert_eq!(
            redact("postgres://db/repack?host=/run/postgresql"),
            "postgres://db/repack?host=/run/postgresql"
        );
    }
}
