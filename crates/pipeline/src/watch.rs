//! The first step: the recipe's newest upstream release, and the build it would make.
//!
//! [`Pipeline::newest`] asks the recipe's watcher (through the catalogue's copies of its
//! feed, [`CatalogFeedCache`]) for the newest [`Candidate`], records it as seen and refuses a
//! feed that went backwards; [`Pipeline::plan`] derives the [`PlannedBuild`]: the build key
//! and tag the catalogue is asked about before anything is downloaded.

use crate::{Pipeline, PipelineError};
use repack_catalog::{Catalog, SeenRelease};
use repack_core::{BuildKey, Candidate, OutputSettings, Recipe};
use repack_publish::Publisher;

/// A candidate with the build key and tag it would be published under.
pub(crate) struct PlannedBuild {
    pub candidate: Candidate,
    /// The upstream ISO's sha256 (checked while it downloads), the recipe's build hash and
    /// the format version.
    pub key: BuildKey,
    /// `<version>-<8 hex of the build key>`.
    pub tag: String,
}

impl<P: Publisher> Pipeline<P> {
    /// The newest upstream release of `recipe`, recorded in `releases_seen`; an error when
    /// it is older than the current build.
    pub(crate) async fn newest(&self, recipe: &Recipe) -> Result<Candidate, PipelineError> {
        let feed_cache = CatalogFeedCache(self.catalog.clone());
        let mut ctx = repack_watch::WatchContext::new(recipe, &self.fetcher);
        ctx.feed_cache = Some(&feed_cache);
        let candidate = repack_watch::newest(&ctx).await?;
        self.catalog
            .record_release_seen(&SeenRelease::of(&candidate))
            .await?;
        // A feed going backwards (older than what is current) never builds anything.
        let current = self.catalog.current(&recipe.id, recipe.arch).await?;
        repack_watch::ensure_not_backwards(
            recipe,
            &candidate,
            current.as_ref().map(|build| build.version.as_str()),
        )?;
        Ok(candidate)
    }

    /// The build `candidate` would make: refused when upstream gave no sha256 to check the
    /// ISO against.
    pub(crate) fn plan(
        &self,
        recipe: &Recipe,
        candidate: Candidate,
    ) -> Result<PlannedBuild, PipelineError> {
        let sha256 = repack_watch::require_sha256(recipe, &candidate)?;
        let output = OutputSettings {
            part_size: self.settings.part_size,
        };
        let key = BuildKey::new(sha256, recipe.build_hash(&output));
        let tag = key.tag(&candidate.version);
        tracing::info!(recipe = %recipe.id, %tag, "build key derived");
        Ok(PlannedBuild {
            candidate,
            key,
            tag,
        })
    }
}

/// The catalogue as the watchers' [`FeedCache`](repack_watch::FeedCache): the copies of
/// feed documents live in its `feed_state` table, so every process sharing the catalogue
/// shares them, and a restart keeps them.
#[derive(Debug, Clone)]
pub struct CatalogFeedCache(pub Catalog);

impl repack_watch::FeedCache for CatalogFeedCache {
    fn get<'a>(
        &'a self,
        url: &'a str,
    ) -> repack_watch::CacheFuture<'a, Option<repack_watch::StoredFeed>> {
        Box::pin(async move {
            let state = self
                .0
                .feed_state(url)
                .await
                .map_err(cache_error("read", url))?;
            Ok(state.map(|state| repack_watch::StoredFeed {
                etag: state.etag,
                last_modified: state.last_modified,
                next_url: state.next_url,
                body: state.body,
            }))
        })
    }

    fn put<'a>(
        &'a self,
        url: &'a str,
        feed: &'a repack_watch::StoredFeed,
    ) -> repack_watch::CacheFuture<'a, ()> {
        Box::pin(async move {
            let copy = repack_catalog::FeedCopy {
                etag: feed.etag.as_deref(),
                last_modified: feed.last_modified.as_deref(),
                next_url: feed.next_url.as_deref(),
                body: &feed.body,
            };
            self.0
                .store_feed(url, &copy)
                .await
                .map_err(cache_error("store", url))
        })
    }

    fn revalidated<'a>(&'a self, url: &'a str) -> repack_watch::CacheFuture<'a, ()> {
        Box::pin(async move {
            self.0
                .feed_revalidated(url)
                .await
                .map(drop)
                .map_err(cache_error("update", url))
        })
    }
}

fn cache_error(
    action: &'static str,
    url: &str,
) -> impl FnOnce(repack_catalog::CatalogError) -> repack_watch::FeedCacheError {
    let url = url.to_owned();
    move |error| repack_watch::FeedCacheError {
        action,
        url,
        source: Box::new(error),
    }
}
