//! Integration tests of repack-catalog. Behavioural tests run twice, on a fresh SQLite file
//! and on a fresh PostgreSQL database (`<test>::sqlite`, `<test>::postgres`; see
//! `repack_testkit::test_on_both_backends!`); a few are about one backend's URLs or files.
//!
//! Modules:
//! - `open`: URLs choose the backend, SQLite file and connection settings, migrations,
//!   connection errors without passwords;
//! - `publish`: recording builds and flipping `current`, idempotence, history, conflicts;
//! - `atomicity`: a failure inside the publish transaction and concurrent publishers;
//! - `checks`: staleness state per recipe.
//! - `feeds`: kept copies of feed documents (200 replaces, 304 only dates), releases seen
//!   (first sighting kept, publish times), since when a recipe fails.

mod atomicity;
mod checks;
mod feeds;
mod open;
mod publish;
mod support;
