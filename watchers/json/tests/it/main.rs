//! Integration tests of the `json` watcher with Fedora-, Arch- and Pop!_OS-shaped documents
//! served on 127.0.0.1 by `repack_testkit::feed::FeedServer`.
//!
//! Modules:
//! - `feeds`: the three real shapes, selected and snapshotted.
//! - `refusals`: not JSON, HTML with status 200, a missing list, an empty list, a malformed
//!   digest, an entry without a URL.
//! - `compliance`: the registry's compliance suite over a Fedora-shaped document.

// Test helpers hand the crates' errors back as they are (they carry URLs and causes).
#![allow(clippy::result_large_err)]

mod compliance;
mod feeds;
mod refusals;

use repack_core::{Candidate, Recipe};
use repack_watch::{KindConfig, WatchConfig};
use repack_watch_common::Feeds;

pub fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub fn config(watch: &str) -> (Recipe, repack_watch_json::Config) {
    let recipe = repack_watch::compliance::recipe("json", watch, "");
    let KindConfig::Json(config) = WatchConfig::parse(&recipe).unwrap().kind else {
        panic!("not a json config");
    };
    (recipe, config)
}

pub fn summary(found: &[Candidate]) -> String {
    found
        .iter()
        .map(|c| {
            format!(
                "{} | {} | {} | {:?} | arch {:?} | size {:?} | published {:?}",
                c.version,
                c.iso_name,
                c.iso_url,
                c.checksum,
                c.upstream_arch,
                c.size,
                c.published_at
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub async fn run(
    watch: &str,
    path: &str,
    body: &str,
) -> Result<Vec<Candidate>, repack_watch::FeedError> {
    let server = repack_testkit::feed::FeedServer::start().await;
    server.put(path, repack_testkit::feed::Reply::json(body));
    let cache = tempfile::tempdir().unwrap();
    let fetcher = repack_watch::compliance::fetcher(cache.path());
    let (recipe, config) = config(&watch.replace("{BASE}", server.base()));
    repack_watch_json::candidates(&config, &recipe, Feeds::new(&fetcher)).await
}
