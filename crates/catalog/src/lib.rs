//! The catalogue: which releases repack has published, which one is current for each
//! (recipe, arch), and how each recipe's latest upstream checks went.
//!
//! [`Catalog::open`] connects to the database named by a URL, creating and migrating it when
//! needed. The pipeline asks [`Catalog::find_build`] whether a [`BuildKey`](repack_core::BuildKey)
//! was already published (same key, nothing to do) and, after a release is public, calls
//! [`Catalog::publish_build`] with a [`NewBuild`]: one transaction records the build and
//! makes it current, so menus never see a half-recorded release and the previous current
//! build stays in place if anything fails. Menus are generated from
//! [`Catalog::current_builds`]; [`Catalog::record_check`] keeps the last check time, last
//! success and last error per recipe so a failing watcher is reported, not mistaken for
//! "nothing new".
//!
//! The current pointer is replaced, never merged: a new build's manifest (and with it its
//! file list) supersedes the previous one whole.
//!
//! Only SQLite is implemented (a file in WAL mode with a busy timeout and foreign keys on);
//! the backend choice lives in one module so PostgreSQL can be added beside it. This crate
//! never touches published files: it records where a release lives, it does not check it.

mod backend;
mod catalog;
mod error;
mod record;
mod timestamp;

pub use catalog::Catalog;
pub use error::CatalogError;
pub use record::{BuildRecord, CheckFailure, CheckOutcome, CheckRecord, NewBuild};
