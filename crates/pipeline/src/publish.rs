//! Publishing and the catalogue flip: a staged release becomes visible, then current.
//!
//! [`Pipeline::publish`] hands the [`StagedRelease`] to the configured publisher and hands
//! on a [`PublishedRelease`]; [`Pipeline::make_current`] records it as the recipe's current
//! build (a [`NewBuild`], one catalogue transaction) and applies the publisher's retention.

use crate::{Pipeline, PipelineError};
use repack_catalog::NewBuild;
use repack_core::{Manifest, Recipe};
use repack_publish::{Publisher, StagedRelease};

/// A release the publisher made visible, not yet current.
pub(crate) struct PublishedRelease {
    pub manifest: Manifest,
    /// Where the publisher put it (see [`repack_publish::Published::location`]).
    pub location: String,
}

impl<P: Publisher> Pipeline<P> {
    /// Makes `release` visible (or finds it already published).
    pub(crate) async fn publish(
        &self,
        recipe: &Recipe,
        release: StagedRelease,
    ) -> Result<PublishedRelease, PipelineError> {
        let manifest = release.manifest().clone();
        tracing::info!(recipe = %recipe.id, tag = %release.tag(), "publishing release");
        let published = self.publisher.publish(release).await?;
        tracing::info!(location = %published.location, new = published.newly_published, "release published");
        Ok(PublishedRelease {
            manifest,
            location: published.location,
        })
    }

    /// Records `release` as the current build of its recipe and arch, then prunes.
    pub(crate) async fn make_current(
        &self,
        recipe: &Recipe,
        release: PublishedRelease,
    ) -> Result<NewBuild, PipelineError> {
        let build = NewBuild::new(release.manifest, release.location);
        self.catalog.publish_build(&build).await?;
        self.prune(&recipe.id).await;
        Ok(build)
    }

    /// Applies the publisher's retention to `recipe` once a build is current. The current
    /// builds of every recipe are protected, and so is every release a kept release points
    /// into. A failure is logged, not returned: the build is published and current, and the
    /// next build prunes again.
    async fn prune(&self, recipe: &str) {
        let protection = match self.protection(recipe).await {
            Ok(protection) => protection,
            Err(error) => {
                tracing::warn!(%recipe, %error, "retention skipped: cannot read the catalogue");
                return;
            }
        };
        match self.publisher.prune(recipe, &protection).await {
            Ok(deleted) if !deleted.is_empty() => {
                tracing::info!(%recipe, ?deleted, "retention: old releases deleted")
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%recipe, %error, "retention failed; old releases kept"),
        }
    }
}
