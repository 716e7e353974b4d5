//! Integration tests of the watcher registry: parsing `[watch]` tables, the policy over
//! hand-made candidates, and `newest` end to end over a checksum list served on 127.0.0.1.
//! Each kind's own format, and the compliance suite per kind, are tested in its crate.
//!
//! Modules:
//! - `conditional`: feed copies kept in a cache make every document request conditional; a
//!   304 reads no body and yields the same candidates; publish times.
//! - `corpus`: the version fuzz target's committed corpus replayed through its harness.
//! - `config`: unknown kinds and keys fail at load time, naming the recipe file and key.
//! - `newest`: the whole path over HTTP; errors that must never look like "nothing new";
//!   signature location and pinned keys carried into the candidate.
//! - `pick`: the policy without the network: order, filters, arch names, ties, trust.
//! - `suite`: the compliance suite catches deliberately broken feeds.
//! - `versions`: property tests of version ordering and pre-release detection.
//! - `standin`: a feed server answering conditional requests (support, not tests).

// Test helpers hand the crates' errors back as they are (they carry URLs and causes).
#![allow(clippy::result_large_err)]

mod conditional;
mod config;
mod corpus;
mod newest;
mod pick;
mod standin;
mod suite;
mod versions;

pub use repack_watch::compliance::recipe;

pub fn hex(c: char) -> String {
    c.to_string().repeat(64)
}
