//! The compliance suite every feed kind passes, run by each kind's tests with that kind's
//! own fixtures (`repack_watch::compliance::run(&MyFixture).await`).
//!
//! A [`Fixture`] serves a feed listing given releases, shaped like the kind's real upstream,
//! on a [`FeedServer`] (127.0.0.1), and returns the recipe's `[watch]` keys for it. The
//! suite then checks, through the whole registry (parse, kind, policy):
//!
//! - tricky version orders pick the newest (`24.04.10` over `24.04.9` and `24.04.2`, dates,
//!   `42-1.10` over `42-1.9`), and
//!   the digest that comes with it is the one the feed gave for that file;
//! - a point release is [`Freshness::New`] against the release before it;
//! - pre-releases and dailies are ignored unless the recipe sets `prerelease = true`;
//! - releases for another architecture are ignored, whatever the upstream calls them;
//! - `exclude` drops the newest file and the next one wins;
//! - an empty feed is an error, not "nothing new";
//! - a feed going backwards is [`WatchError::Backwards`] and fires nothing;
//! - an HTML error page served with status 200 is an error;
//! - for text feeds, CRLF line ends and a byte-order mark read exactly like the original;
//! - with a [`MemoryFeedCache`] and a server that sends validators, a second check of an
//!   unchanged feed asks conditionally for every document it kept, each is answered 304
//!   and no body is read, and it finds exactly the candidates of the first; a feed changed
//!   afterwards (new validators with the new body) is seen;
//! - the trust chain ([`trust`](self::trust) has the cases): the kind's list or ISO signed by
//!   the pinned key or its bound subkey holds; a list changed after signing, another key, an
//!   expired key or a missing signature are refused naming the signature, before the ISO is
//!   requested.

mod trust;

use crate::{
    Freshness, MemoryFeedCache, WatchContext, WatchError, candidates, ensure_not_backwards, newest,
};
use repack_core::{Arch, Checksum, Recipe, Sha256Digest};
use repack_fetch::{FetchConfig, Fetcher};
use repack_testkit::feed::{FeedServer, Reply};
use std::path::Path;
use std::time::Duration;

/// One release a fixture must list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    /// The version exactly as the upstream writes it (`24.04.1`, `26.04-rc1`).
    pub version: String,
    pub arch: Arch,
    /// The digest the feed (or its checksum file) must give for this release's ISO.
    pub sha256: Sha256Digest,
}

impl Release {
    pub fn new(version: &str, arch: Arch) -> Release {
        Release {
            version: version.to_owned(),
            arch,
            sha256: Sha256Digest::of(format!("{version} {arch}").as_bytes()),
        }
    }
}

/// A kind's fixture: its feed shape.
pub trait Fixture: Sync {
    /// The kind under test, for messages.
    fn kind(&self) -> &'static str;

    /// Serves a feed listing exactly `releases` (in the given order; the list may be empty)
    /// on `server`, after [`FeedServer::clear`], and returns the `[watch]` keys of a recipe
    /// watching it (everything but `kind`), e.g. `url = "…"\npattern = '…'`. Each release
    /// needs its own file name; its architecture must be spelled the way the upstream does.
    fn serve(&self, server: &FeedServer, releases: &[Release]) -> String;

    /// Whether the feed is text a person could edit (CRLF and BOM variants are checked).
    fn is_text(&self) -> bool {
        true
    }
}

/// Runs every check against `fixture`; panics with the check's name on the first failure.
pub async fn run(fixture: &dyn Fixture) {
    let server = FeedServer::start().await;
    let cache = tempfile::tempdir().expect("temporary cache directory");
    let fetcher = fetcher(cache.path());
    let suite = Suite {
        fixture,
        server: &server,
        fetcher: &fetcher,
    };
    suite.tricky_orderings().await;
    suite.point_release().await;
    suite.prereleases_and_dailies().await;
    suite.other_architectures().await;
    suite.exclude_filter().await;
    suite.empty_feed().await;
    suite.backwards_feed().await;
    suite.html_error_page().await;
    suite.not_modified().await;
    if fixture.is_text() {
        suite.crlf_and_bom().await;
    }
    suite.trust().await;
}

/// A fetcher for tests: no retries, short timeouts, cache in `cache_dir`.
pub fn fetcher(cache_dir: &Path) -> Fetcher {
    let mut config = FetchConfig::new(cache_dir);
    config.retries = 0;
    config.read_timeout = Duration::from_secs(5);
    Fetcher::new(config).expect("HTTP client")
}

/// A recipe `compliance` (x86_64) with the fixture's `[watch]` keys and `extra` lines.
pub fn recipe(kind: &str, watch: &str, extra: &str) -> Recipe {
    let text = format!(
        r#"id = "compliance"
name = "Compliance"
os = "test"
arch = "x86_64"
schedule = "0 4 * * *"
boot = "live-boot"

[watch]
kind = "{kind}"
{watch}
{extra}

[iso]
kernel = "live/vmlinuz"
initrd = "live/initrd.img"
rootfs = ["live/filesystem.squashfs"]
"#
    );
    Recipe::from_toml(&text, Path::new("compliance.toml"))
        .unwrap_or_else(|error| panic!("the fixture's recipe does not load: {error}\n{text}"))
}

struct Suite<'a> {
    fixture: &'a dyn Fixture,
    server: &'a FeedServer,
    fetcher: &'a Fetcher,
}

fn x86(versions: &[&str]) -> Vec<Release> {
    versions
        .iter()
        .map(|v| Release::new(v, Arch::X86_64))
        .collect()
}

impl Suite<'_> {
    async fn check(
        &self,
        releases: &[Release],
        extra: &str,
    ) -> Result<repack_core::Candidate, WatchError> {
        let watch = self.fixture.serve(self.server, releases);
        let recipe = recipe(self.fixture.kind(), &watch, extra);
        newest(&WatchContext::new(&recipe, self.fetcher)).await
    }

    fn name(&self, check: &str) -> String {
        format!("compliance `{check}` of kind `{}`", self.fixture.kind())
    }

    async fn expect_newest(
        &self,
        check: &str,
        releases: &[Release],
        extra: &str,
        expected: &Release,
    ) {
        let chosen = self
            .check(releases, extra)
            .await
            .unwrap_or_else(|error| panic!("{}: {error} ({})", self.name(check), chain(&error)));
        assert_eq!(chosen.version, expected.version, "{}", self.name(check));
        assert_eq!(
            chosen.checksum,
            Checksum::Sha256(expected.sha256),
            "{}: the digest is not the one listed for {}",
            self.name(check),
            expected.version
        );
        assert_eq!(chosen.recipe, "compliance");
        assert_eq!(chosen.arch, Arch::X86_64);
        assert!(
            chosen.iso_url.ends_with(&chosen.iso_name)
                || chosen
                    .iso_url
                    .contains(&chosen.iso_name.replace(' ', "%20")),
            "{}: {} does not end in {}",
            self.name(check),
            chosen.iso_url,
            chosen.iso_name
        );
    }

    async fn expect_error(&self, check: &str, releases: &[Release]) -> WatchError {
        match self.check(releases, "").await {
            Ok(chosen) => panic!("{}: expected an error, got {chosen:?}", self.name(check)),
            Err(error) => error,
        }
    }

    async fn tricky_orderings(&self) {
        let releases = x86(&["24.04.9", "24.04.10", "24.04", "23.10.1", "24.04.2"]);
        self.expect_newest("tricky orderings", &releases, "", &releases[1])
            .await;
        let dates = x86(&["2026.11.30", "2026.12.01", "2025.12.31"]);
        self.expect_newest("date versions", &dates, "", &dates[1])
            .await;
        // Fedora's `<release>-<compose>` (`42-1.1`).
        let composes = x86(&["42-1.9", "41-1.4", "42-1.10", "42-1.1"]);
        self.expect_newest("compose versions", &composes, "", &composes[2])
            .await;
    }

    async fn point_release(&self) {
        let releases = x86(&["24.04", "24.04.1", "24.04.2"]);
        self.expect_newest("point release", &releases, "", &releases[2])
            .await;
        let chosen = self.check(&releases, "").await.expect("point release");
        let recipe = recipe(self.fixture.kind(), "", "");
        assert_eq!(
            ensure_not_backwards(&recipe, &chosen, Some("24.04.1")).unwrap(),
            Freshness::New,
            "{}",
            self.name("point release")
        );
    }

    async fn prereleases_and_dailies(&self) {
        let releases = x86(&[
            "24.04.1",
            "26.04-beta1",
            "26.04-rc1",
            "26.04~alpha2",
            "26.04-daily",
        ]);
        self.expect_newest("pre-releases ignored", &releases, "", &releases[0])
            .await;
        self.expect_newest(
            "pre-releases allowed",
            &releases,
            "prerelease = true",
            &releases[2],
        )
        .await;
    }

    async fn other_architectures(&self) {
        let mut releases = x86(&["24.04.1"]);
        releases.push(Release::new("24.04.2", Arch::Arm64));
        releases.push(Release::new("24.04.3", Arch::Arm64));
        self.expect_newest("other architectures", &releases, "", &releases[0])
            .await;
    }

    async fn exclude_filter(&self) {
        let releases = x86(&["24.04.1", "24.04.2"]);
        // The newest file's name contains its version; excluding it leaves the other one.
        self.expect_newest(
            "exclude",
            &releases,
            "exclude = '24\\.04\\.2'",
            &releases[0],
        )
        .await;
    }

    async fn empty_feed(&self) {
        let error = self.expect_error("empty feed", &[]).await;
        assert!(
            matches!(error.kind(), "feed-empty" | "watch-no-matching-release"),
            "{}: {error} ({})",
            self.name("empty feed"),
            error.kind()
        );
        assert!(error.to_string().contains("compliance"), "{error}");
    }

    async fn backwards_feed(&self) {
        let releases = x86(&["24.04", "24.04.1"]);
        let chosen = self.check(&releases, "").await.expect("backwards feed");
        let recipe = recipe(self.fixture.kind(), "", "");
        let error = ensure_not_backwards(&recipe, &chosen, Some("24.04.2")).unwrap_err();
        assert_eq!(
            error.kind(),
            "watch-backwards",
            "{}",
            self.name("backwards")
        );
        assert_eq!(
            ensure_not_backwards(&recipe, &chosen, Some("24.04.1")).unwrap(),
            Freshness::Current
        );
    }

    async fn html_error_page(&self) {
        let releases = x86(&["24.04.1"]);
        let watch = self.fixture.serve(self.server, &releases);
        self.server.answer_everything(Some(Reply::html(
            "<!DOCTYPE html>\n<html><head><title>503 Service Unavailable</title></head>\
             <body><h1>Down for maintenance</h1><a href=\"/\">Home</a></body></html>\n",
        )));
        let recipe = recipe(self.fixture.kind(), &watch, "");
        let result = newest(&WatchContext::new(&recipe, self.fetcher)).await;
        self.server.answer_everything(None);
        let error = result.expect_err("an HTML error page must be an error");
        assert!(
            matches!(
                error.kind(),
                "feed-html-page" | "feed-empty" | "watch-no-matching-release"
            ),
            "{}: {error} ({})",
            self.name("HTML error page"),
            error.kind()
        );
    }

    async fn not_modified(&self) {
        let check = self.name("304 Not Modified");
        let releases = x86(&["24.04", "24.04.1"]);
        self.server.set_validators(true);
        let watch = self.fixture.serve(self.server, &releases);
        let recipe = recipe(self.fixture.kind(), &watch, "");
        let cache = MemoryFeedCache::new();
        let mut ctx = WatchContext::new(&recipe, self.fetcher);
        ctx.feed_cache = Some(&cache);

        let before = self.server.requests().len();
        let first = passed(&check, candidates(&ctx).await);
        let first_newest = passed(&check, newest(&ctx).await);
        assert_eq!(first_newest.version, "24.04.1", "{check}");
        let kept = cache.urls();
        assert!(
            !kept.is_empty(),
            "{check}: nothing was kept from the first check"
        );
        let counts = cache.counts();

        let second_start = self.server.requests().len();
        let second = passed(&check, candidates(&ctx).await);
        let second_newest = passed(&check, newest(&ctx).await);
        let asked = self.server.requests().split_off(second_start);
        assert!(!asked.is_empty(), "{check}: the second check asked nothing");
        for request in &asked {
            let url = self.server.url_of(request);
            assert!(
                kept.contains(&url),
                "{check}: {url} was read by the second check but not by the first ({kept:?})"
            );
            assert!(
                request.conditional() && request.not_modified() && request.body_bytes == 0,
                "{check}: {url} had a kept copy but was not answered 304: {request:?}"
            );
        }
        assert_eq!(
            cache.counts().puts,
            counts.puts,
            "{check}: a 304 must not store anything"
        );
        assert_eq!(
            cache.counts().revalidations - counts.revalidations,
            asked.len(),
            "{check}: every 304 confirms a kept copy"
        );
        assert_eq!(
            second, first,
            "{check}: a 304 must yield the same candidates"
        );
        assert_eq!(second_newest, first_newest, "{check}");
        assert!(
            self.server.requests()[before..second_start]
                .iter()
                .any(|request| request.status == 200 && request.body_bytes > 0),
            "{check}: the first check read no body"
        );

        // A changed feed: new bodies, new entity tags; the kept copies must not hide it.
        let changed = x86(&["24.04", "24.04.1", "24.04.2"]);
        self.fixture.serve(self.server, &changed);
        let third_start = self.server.requests().len();
        let third = newest(&ctx).await;
        self.server.set_validators(false);
        let third = passed(&check, third);
        assert_eq!(
            third.version, "24.04.2",
            "{check}: the changed feed was not seen"
        );
        assert_eq!(
            third.checksum,
            Checksum::Sha256(changed[2].sha256),
            "{check}"
        );
        assert!(
            self.server.requests()[third_start..]
                .iter()
                .any(|request| request.conditional() && request.status == 200),
            "{check}: a changed document must come back whole with a 200"
        );
    }

    async fn crlf_and_bom(&self) {
        let releases = x86(&["24.04.9", "24.04.10"]);
        for (what, filter) in [
            ("CRLF", crlf as repack_testkit::feed::BodyFilter),
            ("BOM", bom),
        ] {
            self.server.filter_bodies(Some(filter));
            let result = self.check(&releases, "").await;
            self.server.filter_bodies(None);
            let chosen = result
                .unwrap_or_else(|error| panic!("{}: {error} ({})", self.name(what), chain(&error)));
            assert_eq!(chosen.version, "24.04.10", "{}", self.name(what));
            assert_eq!(
                chosen.checksum,
                Checksum::Sha256(releases[1].sha256),
                "{}",
                self.name(what)
            );
        }
    }
}

/// `\n` → `\r\n`.
fn crlf(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + body.len() / 16);
    for &byte in body {
        if byte == b'\n' {
            out.push(b'\r');
        }
        out.push(byte);
    }
    out
}

/// A UTF-8 byte-order mark in front.
fn bom(body: &[u8]) -> Vec<u8> {
    let mut out = "\u{feff}".as_bytes().to_vec();
    out.extend_from_slice(body);
    out
}

/// The value of a check that must pass, or a panic naming the check and the whole error.
fn passed<T>(check: &str, result: Result<T, WatchError>) -> T {
    result.unwrap_or_else(|error| panic!("{check}: {error} ({})", chain(&error)))
}

fn chain(error: &dyn std::error::Error) -> String {
    let mut text = String::new();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}
