//! Integration tests of the `github` watcher against a stand-in of the REST API on
//! 127.0.0.1 (`repack_testkit::feed::FeedServer`, paginated with `Link` headers).
//!
//! Modules:
//! - `releases`: tags, assets, digests (API field or checksum asset), drafts, pre-releases,
//!   pagination, snapshot of the candidates.
//! - `token`: sent to the API's origin only, never printed.
//! - `refusals`: rate limit, HTML with status 200, no releases, not a list, bad digest,
//!   a never-ending `Link` chain.
//! - `conditional`: pages kept in a feed cache are asked for with `If-None-Match`; a 304
//!   reads no body and follows the kept next page; the token rule holds for kept pages.
//! - `compliance`: the registry's compliance suite.

// Test helpers hand the crates' errors back as they are (they carry URLs and causes).
#![allow(clippy::result_large_err)]

mod compliance;
mod conditional;
mod refusals;
mod releases;
mod token;

use repack_core::{Candidate, Recipe};
use repack_testkit::feed::{FeedServer, Reply};
use repack_watch::{ApiToken, KindConfig, WatchConfig};
use repack_watch_common::Feeds;

pub const FIRST: &str = "/repos/example-os/live-iso/releases?per_page=100";
pub const SECOND: &str = "/repos/example-os/live-iso/releases?per_page=100&page=2";

pub fn fixture(name: &str, server: &FeedServer) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .replace("{BASE}", server.base())
}

pub fn config(server: &FeedServer, extra: &str) -> (Recipe, repack_watch_github::Config) {
    let watch = format!(
        "repo = \"example-os/live-iso\"\napi = \"{}\"\n\
         asset_pattern = '^example-os-[0-9][0-9a-z.-]*-(?P<arch>x86_64|aarch64)\\.iso$'\n{extra}",
        server.base()
    );
    let recipe = repack_watch::compliance::recipe("github", &watch, "");
    let KindConfig::Github(config) = WatchConfig::parse(&recipe).unwrap().kind else {
        panic!("not a github config");
    };
    (recipe, config)
}

/// Serves the two fixture pages, linked by `Link` headers.
pub fn serve_pages(server: &FeedServer) {
    let base = server.base().trim_end_matches('/');
    server.put(
        FIRST,
        Reply::json(fixture("releases-page-1.json", server)).header(
            "link",
            format!("<{base}{SECOND}>; rel=\"next\", <{base}{SECOND}>; rel=\"last\""),
        ),
    );
    server.put(
        SECOND,
        Reply::json(fixture("releases-page-2.json", server)).header(
            "link",
            format!("<{base}{FIRST}&page=1>; rel=\"prev\", <{base}{FIRST}&page=1>; rel=\"first\""),
        ),
    );
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

    pub async fn candidates(
        &self,
        extra: &str,
        token: Option<&ApiToken>,
    ) -> Result<Vec<Candidate>, repack_watch::FeedError> {
        let (recipe, config) = config(&self.server, extra);
        repack_watch_github::candidates(&config, &recipe, Feeds::new(&self.fetcher), token).await
    }
}
