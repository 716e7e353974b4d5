//! Integration tests of the `checksums` watcher against feeds served on 127.0.0.1 by
//! `repack_testkit::feed::FeedServer`, with fixtures shaped like Ubuntu's and Debian's.
//!
//! Modules:
//! - `lists`: matching, versions, digests, URL resolution, snapshots of real-shaped lists.
//! - `dirs`: walking Ubuntu's `releases/` index; a directory without its list or its list's
//!   signature yet is not ready: reported, passed over, and the one before is read.
//! - `refusals`: HTML with status 200, empty list, 404, malformed list, escaping names,
//!   size cap, unusable settings.
//! - `compliance`: the registry's compliance suite, flat list and directory walk.

// Test helpers hand the crates' errors back as they are (they carry URLs and causes).
#![allow(clippy::result_large_err)]

mod compliance;
mod dirs;
mod lists;
mod refusals;

use repack_core::Recipe;
use repack_testkit::feed::FeedServer;
use repack_watch::{KindConfig, WatchConfig};

pub const STANDARD: &str = r"^debian-live-(?P<version>[0-9.]+)-amd64-standard\.iso$";

/// A fixture file's text.
pub fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A recipe of kind `checksums` with these `[watch]` keys, and its parsed settings.
pub fn config(watch: &str) -> (Recipe, repack_watch_checksums::Config) {
    let recipe = repack_watch::compliance::recipe("checksums", watch, "");
    let KindConfig::Checksums(config) = WatchConfig::parse(&recipe).unwrap().kind else {
        panic!("not a checksums config");
    };
    (recipe, config)
}

/// `url = "<base><path>"` and the pattern.
pub fn flat(server: &FeedServer, path: &str, pattern: &str) -> String {
    format!("url = \"{}{path}\"\npattern = '{pattern}'", server.base())
}

pub struct Env {
    pub server: FeedServer,
    pub fetcher: repack_fetch::Fetcher,
    _cache: tempfile::TempDir,
}

impl Env {
    pub async fn start() -> Env {
        let cache = tempfile::tempdir().unwrap();
        Env {
            server: FeedServer::start().await,
            fetcher: repack_watch::compliance::fetcher(cache.path()),
            _cache: cache,
        }
    }
}

pub fn hex(c: char) -> String {
    c.to_string().repeat(64)
}

/// One line per candidate, for snapshots and compact assertions.
pub fn summary(found: &[repack_core::Candidate]) -> String {
    found
        .iter()
        .map(|c| {
            format!(
                "{} | {} | {} | {:?} | arch {:?} | list {}",
                c.version,
                c.iso_name,
                c.iso_url,
                c.checksum,
                c.upstream_arch,
                c.checksum_url.as_deref().unwrap_or("-")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}
