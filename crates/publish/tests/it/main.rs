//! Integration tests of repack-publish.
//!
//! - `directory`: the directory publisher (complete-or-nothing, idempotent, atomic files).
//! - `github`: the GitHub publisher against the testkit's strict stand-in (happy path,
//!   resume after a kill, stale assets, rate limits, 5xx storms, no-op re-runs, names,
//!   retention). The memory check lives in `tests/memory.rs`, a binary of its own, because
//!   peak RSS is per process.

mod directory;
mod github;
