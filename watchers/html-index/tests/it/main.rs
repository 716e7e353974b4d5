//! Integration tests of the `html-index` watcher against listings and pages served on
//! 127.0.0.1 by `repack_testkit::feed::FeedServer`, shaped like Manjaro's and Arch's.
//!
//! Modules:
//! - `listings`: Manjaro (`{name}.sha256`), Arch (date directories, `sha256sums.txt`), a
//!   download page; snapshots of the candidates.
//! - `checksums`: a missing checksum file leaves its ISO out; one that does not list the
//!   ISO is an error; `checksum = "none"` is explicit and cannot be built.
//! - `never_panics`: property tests over arbitrary pages.
//! - `corpus`: the fuzz target's committed corpus replayed through its harness.
//! - `compliance`: the registry's compliance suite.

// Test helpers hand the crates' errors back as they are (they carry URLs and causes).
#![allow(clippy::result_large_err)]

mod checksums;
mod compliance;
mod corpus;
mod listings;
mod never_panics;

use repack_core::{Candidate, Recipe};
use repack_testkit::feed::FeedServer;
use repack_watch::{KindConfig, WatchConfig};

pub fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub fn config(watch: &str) -> (Recipe, repack_watch_html_index::Config) {
    let recipe = repack_watch::compliance::recipe("html-index", watch, "");
    let KindConfig::HtmlIndex(config) = WatchConfig::parse(&recipe).unwrap().kind else {
        panic!("not an html-index config");
    };
    (recipe, config)
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

    /// The candidates' summary with the server's address replaced by `[BASE]/`.
    pub fn summary(&self, found: &[Candidate]) -> String {
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
            .replace(self.server.base(), "[BASE]/")
    }
}

pub fn hex(c: char) -> String {
    c.to_string().repeat(64)
}
