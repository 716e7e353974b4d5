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
//! Politeness and freshness: [`Catalog::store_feed`] / [`Catalog::feed_state`] keep the copy
//! of each feed document a watcher read (body and validators of its last 200, by URL, with
//! the time of its last good check and, for a page of a paginated API, the next page's
//! URL), so the next check can be a conditional request; and
//! [`Catalog::record_release_seen`] notes the newest release each check found, with the
//! upstream's publish time beside the time repack first saw it.
//!
//! The current pointer is replaced, never merged: a new build's manifest (and with it its
//! file list) supersedes the previous one whole.
//!
//! The database is SQLite (a file in WAL mode with a busy timeout and foreign keys on: zero
//! setup) or PostgreSQL (many workers sharing one queue), chosen by the URL's scheme. The
//! same queries and the same behavioural tests run on both; what differs between them lives
//! in one module (see [`Backend`]). [`Catalog::database`] hands the connection pool to
//! `repack-queue`, whose job tables are created by the same migrations (one migrator per
//! backend, `migrations/sqlite` and `migrations/postgres`). Stored times are text in one
//! fixed format ([`timestamp`]), so both backends sort and compare them alike.
//!
//! This crate never touches published files: it records where a release lives, it does not
//! check it.

mod backend;
mod catalog;
mod error;
mod feeds;
mod record;
pub mod timestamp;
mod totals;

pub use backend::{Backend, Database};
pub use catalog::Catalog;
pub use error::CatalogError;
pub use feeds::MAX_FEED_BODY_BYTES;
pub use record::{
    BuildRecord, CheckFailure, CheckOutcome, CheckRecord, FeedCopy, FeedState, NewBuild,
    ReleaseSeen, SeenRelease,
};
pub use totals::RecipeTotals;
