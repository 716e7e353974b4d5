//! Integration tests of the `yaml` watcher with Alpine's `latest-releases.yaml` served on
//! 127.0.0.1 by `repack_testkit::feed::FeedServer`.
//!
//! Modules:
//! - `alpine`: the real shape, selected by flavor, snapshotted; refusals (not YAML, HTML
//!   with status 200, an empty list, an alias bomb).
//! - `never_panics`: property tests of the YAML reader over arbitrary text.
//! - `compliance`: the registry's compliance suite over an Alpine-shaped document.

// Test helpers hand the crates' errors back as they are (they carry URLs and causes).
#![allow(clippy::result_large_err)]

mod alpine;
mod compliance;
mod never_panics;

use repack_core::{Candidate, Recipe};
use repack_watch::{KindConfig, WatchConfig};
use repack_watch_common::Feeds;

pub fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub fn config(watch: &str) -> (Recipe, repack_watch_yaml::Config) {
    let recipe = repack_watch::compliance::recipe("yaml", watch, "");
    let KindConfig::Yaml(config) = WatchConfig::parse(&recipe).unwrap().kind else {
        panic!("not a yaml config");
    };
    (recipe, config)
}

pub async fn run(watch: &str, body: &str) -> Result<Vec<Candidate>, repack_watch::FeedError> {
    let server = repack_testkit::feed::FeedServer::start().await;
    server.put(
        "/alpine/latest-stable/releases/x86_64/latest-releases.yaml",
        repack_testkit::feed::Reply::with_type("application/x-yaml", body.as_bytes().to_vec()),
    );
    let cache = tempfile::tempdir().unwrap();
    let fetcher = repack_watch::compliance::fetcher(cache.path());
    let (recipe, config) = config(&watch.replace("{BASE}", server.base()));
    repack_watch_yaml::candidates(&config, &recipe, Feeds::new(&fetcher))
        .await
        .map(|found| {
            found
                .into_iter()
                .map(|mut c| {
                    c.iso_url = c.iso_url.replace(server.base(), "[BASE]/");
                    c
                })
                .collect()
        })
}

pub const ALPINE: &str = "url = \"{BASE}alpine/latest-stable/releases/x86_64/latest-releases.yaml\"\n\
    fields = { url = \"iso\", sha256 = \"sha256\", size = \"size\", date = \"date\", arch = \"arch\" }\n\
    pattern = '^alpine-extended-(?P<version>[0-9.]+)-[a-z0-9_]+\\.iso$'";
