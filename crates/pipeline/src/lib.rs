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
//! This crate is wiring only: each stage is one step that hands a typed value to the next,
//! and the stage's work lives in the stage's crate.
//!
//! | step | module | hands on | work done by |
//! |------|--------|----------|--------------|
//! | newest release, build key | `watch.rs` | [`Candidate`](repack_core::Candidate), then a `PlannedBuild` | repack-watch, repack-catalog |
//! | download, trust | `fetch.rs` | a `VerifiedIso` | repack-fetch, repack-watch's [`trust`], repack-assemble's [`RootfsTap`](repack_assemble::RootfsTap) |
//! | assembly | `assemble.rs` | a [`StagedRelease`](repack_assemble::StagedRelease) | repack-assemble ([`Assembly`](repack_assemble::Assembly)) |
//! | publishing, catalogue flip | `publish.rs` | a `PublishedRelease`, then a [`NewBuild`](repack_catalog::NewBuild) recorded current | repack-publish, repack-catalog |
//! | menu | `menu.rs` | `menu.ipxe` | repack-menu |
//!
//! The root images are laid out while the ISO downloads (repack-assemble's `RootfsTap`): the
//! fetcher leaves their bytes out of the stored ISO, so every byte is written to disk once,
//! and the build only moves the finished, hashed parts into the staging directory once the
//! ISO's digest matched. When that cannot be done (cached ISO, unusual layout) the build
//! copies them out of the verified ISO instead.
//!
//! CPU- and disk-bound stages run in `spawn_blocking`; the async side only does network and
//! database work.

// The error carries the failing stage's own error (the fetcher's names both URLs, both
// digests and paths); it is returned once per build, so its size costs nothing.
#![allow(clippy::result_large_err)]

mod assemble;
mod error;
mod fetch;
mod menu;
mod publish;
mod reuse;
mod watch;
/// The trust chain lives with the watchers, so their compliance suite proves it per feed kind.
pub use repack_watch::trust;

pub use menu::{render as render_menu, render_endpoints};

pub use error::PipelineError;
pub use watch::CatalogFeedCache;

use repack_catalog::{BuildRecord, Catalog, CheckOutcome};
use repack_core::Recipe;
use repack_fetch::{Fetcher, Reporter};
use repack_publish::Publisher;

/// Settings of the build itself (not of where things come from or go to).
#[derive(Debug, Clone)]
pub struct BuildSettings {
    /// Files larger than this are stored as parts of this size.
    pub part_size: u64,
    /// Base URL of the published tree as the booting machine sees it (default of the menu's
    /// `repack-base` variable).
    pub public_url: String,
    /// Whether a build points at byte-identical root-image parts that earlier releases of
    /// its recipe published (by their URL under `public_url`) instead of storing them again.
    pub reuse_parts: bool,
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

    /// The stages in order, each handing its typed value to the next.
    async fn run_unrecorded(
        &self,
        recipe: &Recipe,
        reporter: &dyn Reporter,
    ) -> Result<Outcome, PipelineError> {
        let candidate = self.newest(recipe).await?;
        let planned = self.plan(recipe, candidate)?;
        if let Some(existing) = self.catalog.find_build(&planned.key).await? {
            return self.up_to_date(recipe, existing).await;
        }
        let mut iso = self.fetch(recipe, &planned, reporter).await?;
        let release = self.assemble(recipe, planned, &mut iso).await?;
        let published = self.publish(recipe, release).await?;
        let current = self.make_current(recipe, published).await?;
        // What is left of the download (a hollow ISO, the stream directory) is removed when
        // the run ends, after the menu.
        let _leftovers = self.evict(iso).await;
        // The release is published and current from here on: a menu that cannot be rendered
        // must not read as "nothing was published".
        self.menu_after_publish(&current.manifest.tag, &current.location)
            .await?;
        Ok(Outcome::Published {
            version: current.manifest.version,
            tag: current.manifest.tag,
            location: current.location,
        })
    }

    /// The newest release is already published as `existing`: nothing is built.
    async fn up_to_date(
        &self,
        recipe: &Recipe,
        existing: BuildRecord,
    ) -> Result<Outcome, PipelineError> {
        tracing::info!(recipe = %recipe.id, tag = %existing.tag, "already published; nothing to do");
        // A run killed between the catalogue commit and the menu left a menu without this
        // build: render it again (the publisher leaves an unchanged menu untouched).
        self.menu_after_publish(&existing.tag, &existing.location)
            .await?;
        Ok(Outcome::UpToDate {
            version: existing.version,
            tag: existing.tag,
        })
    }
}
