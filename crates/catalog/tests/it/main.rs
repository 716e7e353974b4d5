//! Integration tests of repack-catalog, each on a fresh SQLite file in its own temp dir.
//!
//! Modules:
//! - `open`: URLs, file creation, WAL and migrations;
//! - `publish`: recording builds and flipping `current`, idempotence, history, conflicts;
//! - `atomicity`: a failure inside the publish transaction and concurrent publishers;
//! - `checks`: staleness state per recipe.

mod atomicity;
mod checks;
mod open;
mod publish;
mod support;
