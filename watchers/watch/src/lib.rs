//! The watcher registry: from a recipe's `[watch]` table to the newest release it wants.
//!
//! [`WatchConfig::parse`] reads the raw table the recipe carries (core keeps it raw) into one
//! kind's typed settings ([`KindConfig`]) plus the options every kind shares ([`Policy`]);
//! the binary runs it when a recipe loads, so an unknown kind or key fails early with the
//! recipe's file and the key. A [`Watcher`] (each kind's settings, and [`KindConfig`]
//! dispatching to them) fetches and parses the feed and returns *every* candidate; the kinds
//! are one crate each (`repack-watch-checksums`, `-html-index`, `-json`, `-yaml`, `-github`).
//! [`newest`] then applies the policy the same way for every kind: include/exclude on file
//! names, pre-releases out unless `prerelease = true`, architecture names mapped to the
//! recipe's, versions ordered ([`policy::order_key`]), ties between different files refused.
//! [`ensure_not_backwards`] compares the result with the published version: a feed going
//! backwards never fires a build.
//!
//! A failed, empty or HTML-error-page check is always an error, never "nothing new".
//!
//! Politeness: a [`WatchContext`] may carry a [`FeedCache`] (the binary's is the catalogue's
//! `feed_state` table). Every document a kind reads is then requested conditionally on the
//! copy kept from the last 200 (`If-None-Match`, `If-Modified-Since`); on a 304 no body is
//! read and the kind parses the kept copy again, so the candidates are exactly those of the
//! last 200. Without a cache every request is unconditional. Each candidate carries the
//! upstream's publish time when there is one: a date in the feed (`json`, `yaml`, `github`),
//! else the `Last-Modified` of the list or page naming it (`checksums`, `html-index`).
//!
//! Trust: a candidate carries the signature URL and the pinned keys; [`trust`] checks the
//! signature over its checksum list before the ISO is requested, or over the ISO itself as it
//! downloads (the OpenPGP rules are `repack-verify`'s). It lives here so the compliance suite
//! proves it for every feed kind, with the kind's own feed shape.
//!
//! The `testing` feature adds the `compliance` module: the suite every kind's tests run against their
//! own fixtures. `fuzzing` (hidden) holds the harness of the cargo-fuzz target in `fuzz/`
//! (version ordering), whose corpus replays as an ordinary test.

// Errors carry the fetcher's error (both URLs) and are returned once per check.
#![allow(clippy::result_large_err)]

#[cfg(feature = "testing")]
pub mod compliance;
mod config;
mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod policy;
pub mod trust;

pub use config::{KINDS, KindConfig, SHARED_KEYS, WatchConfig};
pub use error::WatchError;
pub use policy::{Freshness, Policy, Selection, freshness, pick_newest};
pub use repack_watch_common::{
    CacheCounts, CacheFuture, FeedCache, FeedCacheError, FeedError, Feeds, MemoryFeedCache,
    StoredFeed,
};
pub use repack_watch_github::ApiToken;

use repack_core::{Candidate, Recipe, Sha256Digest};
use repack_fetch::Fetcher;

/// What a watcher needs besides its settings.
#[derive(Clone, Copy)]
pub struct WatchContext<'a> {
    pub recipe: &'a Recipe,
    pub fetcher: &'a Fetcher,
    /// Sent to the GitHub API only; the caller reads it from the environment.
    pub github_token: Option<&'a ApiToken>,
    /// Where copies of feed documents are kept between checks, for conditional requests;
    /// `None`: nothing is kept, every request is unconditional.
    pub feed_cache: Option<&'a dyn FeedCache>,
}

impl<'a> WatchContext<'a> {
    pub fn new(recipe: &'a Recipe, fetcher: &'a Fetcher) -> Self {
        WatchContext {
            recipe,
            fetcher,
            github_token: None,
            feed_cache: None,
        }
    }

    /// How the kinds read documents: the fetcher and the cache.
    pub fn feeds(&self) -> Feeds<'a> {
        Feeds::new(self.fetcher).with_cache(self.feed_cache)
    }
}

impl std::fmt::Debug for WatchContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WatchContext")
            .field("recipe", &self.recipe.id)
            .field("fetcher", self.fetcher)
            .field("github_token", &self.github_token)
            .field("feed_cache", &self.feed_cache.is_some())
            .finish()
    }
}

/// A feed kind: fetches and parses, and returns every release it lists (unordered, not
/// filtered by the recipe's policy; may be empty when nothing matched the kind's own
/// pattern).
pub trait Watcher {
    fn candidates(
        &self,
        ctx: &WatchContext<'_>,
    ) -> impl Future<Output = Result<Vec<Candidate>, FeedError>> + Send;
}

impl Watcher for repack_watch_checksums::Config {
    async fn candidates(&self, ctx: &WatchContext<'_>) -> Result<Vec<Candidate>, FeedError> {
        repack_watch_checksums::candidates(self, ctx.recipe, ctx.feeds()).await
    }
}

impl Watcher for repack_watch_html_index::Config {
    async fn candidates(&self, ctx: &WatchContext<'_>) -> Result<Vec<Candidate>, FeedError> {
        repack_watch_html_index::candidates(self, ctx.recipe, ctx.feeds()).await
    }
}

/// The `json` and `yaml` kinds share their settings type; the variant decides the format.
async fn structured(
    kind: &KindConfig,
    ctx: &WatchContext<'_>,
) -> Result<Vec<Candidate>, FeedError> {
    match kind {
        KindConfig::Json(config) => {
            repack_watch_json::candidates(config, ctx.recipe, ctx.feeds()).await
        }
        KindConfig::Yaml(config) => {
            repack_watch_yaml::candidates(config, ctx.recipe, ctx.feeds()).await
        }
        _ => unreachable!("only called for json and yaml"),
    }
}

impl Watcher for repack_watch_github::Config {
    async fn candidates(&self, ctx: &WatchContext<'_>) -> Result<Vec<Candidate>, FeedError> {
        repack_watch_github::candidates(self, ctx.recipe, ctx.feeds(), ctx.github_token).await
    }
}

impl Watcher for KindConfig {
    async fn candidates(&self, ctx: &WatchContext<'_>) -> Result<Vec<Candidate>, FeedError> {
        match self {
            KindConfig::Checksums(config) => config.candidates(ctx).await,
            KindConfig::HtmlIndex(config) => config.candidates(ctx).await,
            KindConfig::Json(_) | KindConfig::Yaml(_) => structured(self, ctx).await,
            KindConfig::Github(config) => config.candidates(ctx).await,
        }
    }
}

/// Every release the recipe's feed lists, before the recipe's policy.
pub async fn candidates(ctx: &WatchContext<'_>) -> Result<Vec<Candidate>, WatchError> {
    let config = WatchConfig::parse(ctx.recipe)?;
    read(&config, ctx).await
}

async fn read(config: &WatchConfig, ctx: &WatchContext<'_>) -> Result<Vec<Candidate>, WatchError> {
    config
        .kind
        .candidates(ctx)
        .await
        .map_err(|source| WatchError::Feed {
            recipe: ctx.recipe.id.clone(),
            kind: config.kind.name(),
            source,
        })
}

/// The newest release the recipe wants: the feed read, the policy applied, the newest
/// picked, the signature location filled in.
pub async fn newest(ctx: &WatchContext<'_>) -> Result<Candidate, WatchError> {
    let config = WatchConfig::parse(ctx.recipe)?;
    let found = read(&config, ctx).await?;
    let selection = config.policy.select(ctx.recipe, found);
    let mut chosen = pick_newest(ctx.recipe, &config.kind.url(), selection)?;
    config.policy.sign(&mut chosen);
    tracing::info!(recipe = %ctx.recipe.id, version = %chosen.version, iso_url = %chosen.iso_url, "newest upstream release");
    Ok(chosen)
}

/// [`freshness`] of `newest` against the published version, with
/// [`Freshness::Backwards`] as [`WatchError::Backwards`]: a feed going backwards is
/// reported, and never builds anything.
pub fn ensure_not_backwards(
    recipe: &Recipe,
    newest: &Candidate,
    published: Option<&str>,
) -> Result<Freshness, WatchError> {
    match freshness(&newest.version, published) {
        Freshness::Backwards => Err(WatchError::Backwards {
            recipe: recipe.id.clone(),
            url: newest.iso_url.clone(),
            found: newest.version.clone(),
            published: published.unwrap_or_default().to_owned(),
        }),
        other => Ok(other),
    }
}

/// The candidate's SHA-256, or [`WatchError::Unverified`] when the recipe declared that the
/// upstream publishes none (such a release cannot be built).
pub fn require_sha256(recipe: &Recipe, candidate: &Candidate) -> Result<Sha256Digest, WatchError> {
    candidate
        .checksum
        .sha256()
        .ok_or_else(|| WatchError::Unverified {
            recipe: recipe.id.clone(),
            version: candidate.version.clone(),
            url: candidate.iso_url.clone(),
        })
}
