//! A fresh, empty database per test on either backend the catalogue supports, so the same
//! behavioural tests run on SQLite and PostgreSQL.
//!
//! [`TestDatabase::fresh`] gives a URL: a new SQLite file in its own temporary directory, or
//! a new database on the test PostgreSQL server ([`crate::postgres`]). Both are removed when
//! the value is dropped. [`test_on_both_backends!`](crate::test_on_both_backends) turns one
//! `async fn case(backend: TestBackend)` into two tests, `case::sqlite` and `case::postgres`.
//!
//! The URLs are plain strings: this crate does not depend on the crates under test.

use crate::postgres::PostgresDatabase;
use std::fmt;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

/// The database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TestBackend {
    Sqlite,
    Postgres,
}

impl TestBackend {
    /// Every backend, for tests that loop instead of using the macro.
    pub const ALL: [TestBackend; 2] = [TestBackend::Sqlite, TestBackend::Postgres];
}

impl fmt::Display for TestBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TestBackend::Sqlite => "sqlite",
            TestBackend::Postgres => "postgres",
        })
    }
}

/// A database of one test's own. Keep it alive for the test's duration.
#[derive(Debug)]
pub struct TestDatabase {
    url: String,
    backend: TestBackend,
    holder: Holder,
}

#[derive(Debug)]
enum Holder {
    Sqlite { path: PathBuf, _dir: TempDir },
    Postgres { _database: PostgresDatabase },
}

impl TestDatabase {
    /// A new, empty database on `backend`. Panics (failing the test, with the reason) when
    /// the backend cannot be had; it never skips.
    pub async fn fresh(backend: TestBackend) -> TestDatabase {
        match backend {
            TestBackend::Sqlite => {
                let dir = tempfile::tempdir().expect("a temporary directory for the SQLite file");
                let path = dir.path().join("catalog.db");
                TestDatabase {
                    url: format!("sqlite://{}", path.display()),
                    backend,
                    holder: Holder::Sqlite { path, _dir: dir },
                }
            }
            TestBackend::Postgres => {
                let database = PostgresDatabase::create().await;
                TestDatabase {
                    url: database.url().to_owned(),
                    backend,
                    holder: Holder::Postgres {
                        _database: database,
                    },
                }
            }
        }
    }

    /// The URL to open: `sqlite:///tmp/…/catalog.db` or `postgres://…/test_…`.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn backend(&self) -> TestBackend {
        self.backend
    }

    /// The SQLite file (which need not exist yet); `None` on PostgreSQL.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match &self.holder {
            Holder::Sqlite { path, .. } => Some(path),
            Holder::Postgres { .. } => None,
        }
    }
}

/// Runs each named `async fn name(backend: TestBackend)` as two tests, `name::sqlite` and
/// `name::postgres`, on a multi-threaded Tokio runtime (so concurrency tests are concurrent).
/// The calling crate needs `tokio` (with `macros` and `rt-multi-thread`) as a dev-dependency.
///
/// ```text
/// repack_testkit::test_on_both_backends!(publish_then_current, rollback);
///
/// async fn publish_then_current(backend: TestBackend) { /* … */ }
/// ```
#[macro_export]
macro_rules! test_on_both_backends {
    ($($case:ident),+ $(,)?) => {
        $(
            mod $case {
                #[::tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn sqlite() {
                    super::$case($crate::database::TestBackend::Sqlite).await
                }

                #[::tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn postgres() {
                    super::$case($crate::database::TestBackend::Postgres).await
                }
            }
        )+
    };
}
