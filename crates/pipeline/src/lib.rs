//! One build job, start to finish: watch → fetch → iso → boot/initrd → assemble → publish →
//! catalogue → menus.
//!
//! [`Pipeline::run`] asks the recipe's watcher for the newest upstream release, derives its
//! [`BuildKey`](repack_core::BuildKey) and stops when the catalogue already has that build.
//! Otherwise it downloads the ISO (verified against the upstream checksum), lays the release
//! out in a staging directory (kernel, the upstream initrd with one appended overlay that must
//! pass the kernel-rules lint, root images split into parts, manifest), publishes it, records
//! it as current in one catalogue transaction, and regenerates the menu. The watcher reads
//! its feed through the catalogue ([`CatalogFeedCache`]: conditional requests against the
//! copies in `feed_state`), and the newest release it found is recorded in `releases_seen`. Any failure leaves
//! the published tree, the catalogue and the menu as they were, and is recorded as the
//! recipe's last check so a broken upstream is reported, not mistaken for "nothing new".
//!
//! The root images are laid out while the ISO downloads (see `stream.rs`): the fetcher leaves
//! their bytes out of the stored ISO, so every byte is written to disk once, and the build
//! only moves the finished, hashed parts into the staging directory once the ISO's digest
//! matched. When that cannot be done (cached ISO, unusual layout) the build copies them out
//! of the verified ISO instead.
//!
//! CPU- and disk-bound stages run in `spawn_blocking`; the async side only does network and
//! database work.

// The error carries the failing stage's own error (the fetcher's names both URLs, both
// digests and paths); it is returned once per build, so its size costs nothing.
#![allow(clippy::result_large_err)]

mod build;
mod consistency;
mod error;
mod menu;
mod stream;
/// The trust chain lives with the watchers, so their compliance suite proves it per feed kind.
pub use repack_watch::trust;

pub use menu::{render as render_menu, render_endpoints};

pub use error::PipelineError;

use repack_catalog::{Catalog, CheckOutcome, NewBuild, SeenRelease};
use repack_core::{BuildKey, OutputSettings, Recipe};
use repack_fetch::{Fetcher, Reporter};
use repack_publish::{Publisher, StagedRelease, Staging};

/// Settings of the build itself (not of where things come from or go to).
#[derive(Debug, Clone)]
pub struct BuildSettings {
    /// Files larger than this are stored as parts of this size.
    pub part_size: u64,
    /// Base URL of the published tree as the booting machine sees it (default of the menu's
    /// `repack-base` variable).
    pub public_url: String,
    /// Directories holding the keys recipes pin (`<name>-<FINGERPRINT>.asc`).
    pub key_dirs: Vec<std::path::PathBuf>,
    /// Where releases are laid out before they are published (one directory per attempt).
    /// On the publisher's filesystem for a directory publisher, so publishing is a rename.
    pub staging_dir: std::path::PathBuf,
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The newest upstream release is already published; nothing changed.
    UpToDate { version: String, tag: String },
    /// A new release was published and made current.
    Published {
        version: String,
        tag: String,
        location: String,
    },
}

/// Everything one build needs, shared by every run of a process.
pub struct Pipeline<P> {
    pub fetcher: Fetcher,
    pub catalog: Catalog,
    pub publisher: P,
    pub settings: BuildSettings,
}

impl<P: Publisher> Pipeline<P> {
    /// Builds and publishes the newest release of `recipe`, unless it is already current.
    pub async fn run(
        &self,
        recipe: &Recipe,
        reporter: &dyn Reporter,
    ) -> Result<Outcome, PipelineError> {
        let result = self.run_unrecorded(recipe, reporter).await;
        let outcome = match &result {
            Ok(_) => CheckOutcome::Success,
            Err(error) => CheckOutcome::failure(error.kind(), error::describe_chain(error)),
        };
        if let Err(record_error) = self.catalog.record_check(&recipe.id, outcome).await {
            tracing::error!(recipe = %recipe.id, error = %record_error, "cannot record the check");
            if result.is_ok() {
                return Err(PipelineError::Catalog(record_error));
            }
        }
        result
    }

    async fn run_unrecorded(
        &self,
        recipe: &Recipe,
        reporter: &dyn Reporter,
    ) -> Result<Outcome, PipelineError> {
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
        let sha256 = repack_watch::require_sha256(recipe, &candidate)?;
        let output = OutputSettings {
            part_size: self.settings.part_size,
        };
        let key = BuildKey::new(sha256, recipe.build_hash(&output));
        let tag = key.tag(&candidate.version);
        tracing::info!(recipe = %recipe.id, %tag, "build key derived");
        if let Some(existing) = self.catalog.find_build(&key).await? {
            tracing::info!(recipe = %recipe.id, tag = %existing.tag, "already published; nothing to do");
            // A run killed between the catalogue commit and the menu left a menu without this
            // build: render it again (the publisher leaves an unchanged menu untouched).
            if let Err(error) = self.regenerate_menu().await {
                return Err(PipelineError::MenuAfterPublish {
                    tag: existing.tag,
                    location: existing.location,
                    source: Box::new(error),
                });
            }
            return Ok(Outcome::UpToDate {
                version: existing.version,
                tag: existing.tag,
            });
        }

        // The digest must come from signed text, or the ISO carry a signature, when the recipe
        // pins keys: checked before a byte of the ISO is requested.
        let signature_tap = match trust::before_download(
            &self.fetcher,
            &candidate,
            sha256,
            &self.settings.key_dirs,
        )
        .await?
        {
            trust::IsoProof::None => None,
            trust::IsoProof::Signature(tap) => Some(*tap),
        };

        // The root images are laid out (in the fetcher's stream directory) as they stream in,
        // and moved into the staging directory only once the ISO's digest matched.
        let stream_dir = self.fetcher.stream_dir(&sha256);
        let tap = stream::RootfsTap::new(
            recipe.iso.rootfs.clone(),
            self.settings.part_size,
            stream_dir.clone(),
        );
        let (iso, (tap, signature_tap)) = self
            .fetcher
            .fetch_iso_with_tap(&candidate.iso_url, sha256, reporter, (tap, signature_tap))
            .await?;
        tracing::info!(path = %iso.path.display(), size = iso.size, cached = iso.from_cache, hollow = iso.hollow, "ISO verified");
        // A hollow ISO (its root images were stored only as parts) and the stream directory
        // serve this build alone.
        let _downloaded = (!iso.from_cache).then(|| Leftovers {
            hollow_iso: iso.hollow.then(|| iso.path.clone()),
            stream_dir: stream_dir.clone(),
            _lease: iso.lease.clone().filter(|_| iso.hollow),
        });
        if let Some(signature_tap) = signature_tap {
            let (path, downloaded, hollow) = (iso.path.clone(), !iso.from_cache, iso.hollow);
            let verdict = tokio::task::spawn_blocking(move || {
                if hollow && !signature_tap.saw_whole_download() {
                    // The stored ISO lacks the root images' bytes and the stream missed its
                    // start: nothing left to check the signature against.
                    return Err(PipelineError::StreamIncomplete {
                        detail: "the ISO's signature could not be checked: the download was resumed by another process".to_owned(),
                    });
                }
                signature_tap.finish(&path, downloaded).map_err(PipelineError::from)
            })
            .await
            .map_err(|error| PipelineError::Task(error.to_string()))?;
            if let Err(error) = verdict {
                // Not what the pinned key signed: it leaves the cache like a mismatching ISO.
                let path = iso.path.clone();
                if self.fetcher.evict(iso).await {
                    tracing::warn!(path = %path.display(), "ISO without a valid signature removed from the download cache");
                }
                return Err(error);
            }
        }
        let streamed = if iso.from_cache {
            Vec::new()
        } else {
            let iso_size = iso.size;
            tokio::task::spawn_blocking(move || tap.finish(iso_size))
                .await
                .map_err(|error| PipelineError::Task(error.to_string()))?
                .unwrap_or_else(|reason| {
                    tracing::info!(%reason, "root images will be copied from the verified ISO");
                    Vec::new()
                })
        };

        // Creating it sweeps abandoned staging directories (whole releases): off the runtime.
        let staging = {
            let (parent, recipe_id, tag) = (
                self.settings.staging_dir.clone(),
                recipe.id.clone(),
                tag.clone(),
            );
            tokio::task::spawn_blocking(move || Staging::create(&parent, &recipe_id, &tag))
                .await
                .map_err(|error| PipelineError::Task(error.to_string()))??
        };
        let job = build::BuildJob {
            recipe: recipe.clone(),
            candidate,
            key,
            tag: tag.clone(),
            iso_path: iso.path.clone(),
            iso_size: iso.size,
            staging_dir: staging.path().to_owned(),
            part_size: self.settings.part_size,
            streamed,
            hollow: iso.hollow,
        };
        tracing::info!(recipe = %recipe.id, %tag, staging = %staging.path().display(), "assembling release");
        let manifest = tokio::task::spawn_blocking(move || job.build())
            .await
            .map_err(|error| PipelineError::Task(error.to_string()))??;

        // Checked complete before the publisher sees it; an incomplete one is deleted here.
        let release = StagedRelease::new(staging, manifest.clone())?;
        tracing::info!(recipe = %recipe.id, %tag, "publishing release");
        let published = self.publisher.publish(release).await?;
        tracing::info!(location = %published.location, new = published.newly_published, "release published");
        self.catalog
            .publish_build(&NewBuild::new(manifest.clone(), published.location.clone()))
            .await?;
        self.prune(&recipe.id).await;
        // Published and recorded: the ISO is not needed again (a failed build keeps it for
        // the retry). A hollow one goes with the build's other leftovers.
        let iso_path = iso.path.clone();
        if self.fetcher.evict(iso).await {
            tracing::info!(path = %iso_path.display(), "published ISO removed from the download cache");
        }
        // The release is published and current from here on: a menu that cannot be rendered
        // must not read as "nothing was published".
        if let Err(error) = self.regenerate_menu().await {
            return Err(PipelineError::MenuAfterPublish {
                tag,
                location: published.location,
                source: Box::new(error),
            });
        }
        Ok(Outcome::Published {
            version: manifest.version,
            tag,
            location: published.location,
        })
    }

    /// Applies the publisher's retention to `recipe` once a build is current. The current
    /// builds of every recipe are protected. A failure is logged, not returned: the build is
    /// published and current, and the next build prunes again.
    async fn prune(&self, recipe: &str) {
        let protected = match self.catalog.current_builds().await {
            Ok(builds) => builds
                .into_iter()
                .map(|build| build.location)
                .collect::<std::collections::BTreeSet<_>>(),
            Err(error) => {
                tracing::warn!(%recipe, %error, "retention skipped: cannot read the current builds");
                return;
            }
        };
        match self.publisher.prune(recipe, &protected).await {
            Ok(deleted) if !deleted.is_empty() => {
                tracing::info!(%recipe, ?deleted, "retention: old releases deleted")
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%recipe, %error, "retention failed; old releases kept"),
        }
    }

    /// Renders `menu.ipxe` from the catalogue's current builds and publishes it.
    pub async fn regenerate_menu(&self) -> Result<String, PipelineError> {
        let builds = self.catalog.current_builds().await?;
        let script = menu::render(&builds, &self.settings.public_url)?;
        self.publisher
            .publish_file("menu.ipxe", script.clone().into_bytes())
            .await?;
        Ok(script)
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

/// Files of one download that only its build needs: removed when the build ends, however.
/// If the process dies first, the next download sweeps them (the lease says they are in use
/// until then).
struct Leftovers {
    hollow_iso: Option<std::path::PathBuf>,
    stream_dir: std::path::PathBuf,
    _lease: Option<repack_fetch::DownloadLease>,
}

impl Drop for Leftovers {
    fn drop(&mut self) {
        if let Some(path) = &self.hollow_iso
            && let Err(error) = std::fs::remove_file(path)
            && error.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %path.display(), %error, "cannot remove the hollow ISO");
        }
        if let Err(error) = std::fs::remove_dir_all(&self.stream_dir)
            && error.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %self.stream_dir.display(), %error, "cannot remove the stream directory");
        }
    }
}
