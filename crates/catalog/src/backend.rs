//! The one place that knows which database the catalogue runs on: URL parsing, connection
//! settings, the migration set and how a write transaction starts. Everything else writes
//! portable SQL (`$1` placeholders, `ON CONFLICT` upserts, text timestamps) against [`Db`].
//!
//! Only SQLite is built today. A PostgreSQL backend adds a variant here, its own migration
//! directory (`migrations/postgres`) and nothing in the query code.

use crate::CatalogError;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::time::Duration;

/// The database type every query is written against.
pub(crate) type Db = sqlx::Sqlite;

/// A connection pool to the catalogue.
pub(crate) type DbPool = sqlx::Pool<Db>;

/// Schema migrations, embedded at build time.
pub(crate) static MIGRATOR: Migrator = sqlx::migrate!("../../migrations/sqlite");

/// Starts a write transaction. SQLite's default `BEGIN` (deferred) takes the write lock only
/// at the first write, and a reader upgrading to a writer fails with `SQLITE_BUSY` without
/// waiting; `BEGIN IMMEDIATE` takes the lock up front, so concurrent publishers queue on the
/// busy timeout instead of failing.
pub(crate) const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";

/// How long a connection waits for another writer before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Pool size: WAL lets readers run beside the one writer; more connections than this only
/// queue on the write lock.
const MAX_CONNECTIONS: u32 = 8;

/// Opens a pool for `url`: `sqlite:///abs/path.db`, `sqlite://relative.db` or `sqlite:path`.
/// The file (not its directory) is created when missing.
pub(crate) async fn connect(url: &str) -> Result<DbPool, CatalogError> {
    let options = options(url)?;
    SqlitePoolOptions::new()
        .max_connections(MAX_CONNECTIONS)
        .connect_with(options)
        .await
        .map_err(|source| CatalogError::Open {
            url: redact(url),
            source,
        })
}

/// Connection settings for `url`, or why it cannot be used.
fn options(url: &str) -> Result<SqliteConnectOptions, CatalogError> {
    let invalid = |reason: String| CatalogError::InvalidUrl {
        url: redact(url),
        reason,
    };
    let Some((scheme, _)) = url.split_once(':') else {
        return Err(invalid(
            "expected `sqlite:///absolute/path.db` or `sqlite://relative.db`".into(),
        ));
    };
    match scheme {
        "sqlite" => {}
        "postgres" | "postgresql" => {
            return Err(invalid(
                "PostgreSQL is not supported yet; use a `sqlite://` URL".into(),
            ));
        }
        other => return Err(invalid(format!("unknown database scheme `{other}`"))),
    }
    Ok(SqliteConnectOptions::from_str(url)
        .map_err(|error| invalid(error.to_string()))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // NORMAL is durable across application crashes in WAL mode; only an OS crash can lose
        // the last transactions, never corrupt the file.
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(BUSY_TIMEOUT)
        .foreign_keys(true))
}

/// `url` without a password, for messages.
pub(crate) fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::{options, redact};
    use std::path::Path;

    #[test]
    fn absolute_and_relative_sqlite_urls() {
        let absolute = options("sqlite:///var/lib/repack/catalog.db").unwrap();
        assert_eq!(
            absolute.get_filename(),
            Path::new("/var/lib/repack/catalog.db")
        );
        let relative = options("sqlite://catalog.db").unwrap();
        assert_eq!(relative.get_filename(), Path::new("catalog.db"));
        let short = options("sqlite:data/catalog.db").unwrap();
        assert_eq!(short.get_filename(), Path::new("data/catalog.db"));
        assert!(options("postgres://db/repack").is_err());
        assert!(options("catalog.db").is_err());
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
    }
}
