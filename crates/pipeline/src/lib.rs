//! One build job, start to finish: watch → fetch → iso → boot/initrd → assemble → publish →
//! catalogue → menus.
//!
//! [`Pipeline::run`] asks the recipe's watcher for the newest upstream release, derives its
//! [`BuildKey`](repack_core::BuildKey) and stops when the catalogue already has that build.
//! Otherwise it downloads the ISO (verified against the upstream checksum), lays the release
//! out in a staging directory (kernel, the upstream initrd with one appended overlay that must
//! pass the kernel-rules lint, root images split into parts, manifest), publishes it, records
//! it as current in one catalogue transaction, and regenerates the menu. Any failure leaves
//! the published tree, the catalogue and the menu as they were, and is recorded as the
//! recipe's last check so a broken upstream is reported, not mistaken for "nothing new".
//!
//! CPU- and disk-bound stages run in `spawn_blocking`; the async side only does network and
//! database work.

mod build;
mod error;
mod menu;

pub use menu::render as render_menu;

pub use error::PipelineError;

use repack_catalog::{Catalog, CheckOutcome, NewBuild};
use repack_core::{BuildKey, Recipe};
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
        let candidate = repack_watch::newest(recipe, &self.fetcher).await?;
        let key = BuildKey::new(candidate.sha256, recipe.build_hash());
        let tag = key.tag(&candidate.version);
        tracing::info!(recipe = %recipe.id, %tag, "build key derived");
        if let Some(existing) = self.catalog.find_build(&key).await? {
            tracing::info!(recipe = %recipe.id, tag = %existing.tag, "already published; nothing to do");
            return Ok(Outcome::UpToDate {
                version: existing.version,
                tag: existing.tag,
            });
        }

        let iso = self
            .fetcher
            .fetch_iso(&candidate.iso_url, candidate.sha256, reporter)
            .await?;
        tracing::info!(path = %iso.path.display(), size = iso.size, cached = iso.from_cache, "ISO verified");

        let staging = self.publisher.create_staging(&recipe.id, &tag)?;
        let job = build::BuildJob {
            recipe: recipe.clone(),
            candidate,
            key,
            tag: tag.clone(),
            iso_path: iso.path.clone(),
            iso_size: iso.size,
            staging_dir: staging.path().to_owned(),
            part_size: self.settings.part_size,
        };
        let manifest = tokio::task::spawn_blocking(move || job.build())
            .await
            .map_err(|error| PipelineError::Task(error.to_string()))??;

        let published = self.publisher.publish(staging, &manifest).await?;
        tracing::info!(location = %published.location, new = published.newly_published, "release published");
        self.catalog
            .publish_build(&NewBuild::new(manifest.clone(), published.location.clone()))
            .await?;
        self.regenerate_menu().await?;
        Ok(Outcome::Published {
            version: manifest.version,
            tag,
            location: published.location,
        })
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
