//! The assembly step: a verified ISO becomes a staged release.
//!
//! [`Pipeline::assemble`] only wires repack-assemble in: a fresh [`Staging`] directory and
//! an [`Assembly`] of the planned build, run off the async runtime; the work (resolving the
//! recipe's paths, the kernel-modules check, the patched initrd, the parts and the manifest)
//! is [`Assembly::build`]'s.

use crate::fetch::VerifiedIso;
use crate::watch::PlannedBuild;
use crate::{Pipeline, PipelineError};
use repack_assemble::{Assembly, StagedRelease, Staging};
use repack_core::Recipe;
use repack_publish::Publisher;

impl<P: Publisher> Pipeline<P> {
    /// Lays `planned` out from `iso` (taking the root images streamed during the download)
    /// in a new staging directory, checked complete.
    pub(crate) async fn assemble(
        &self,
        recipe: &Recipe,
        planned: PlannedBuild,
        iso: &mut VerifiedIso,
    ) -> Result<StagedRelease, PipelineError> {
        let PlannedBuild {
            candidate,
            key,
            tag,
        } = planned;
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
        let published = self.published_parts(recipe).await;
        let assembly = Assembly {
            recipe: recipe.clone(),
            candidate,
            key,
            tag: tag.clone(),
            iso_path: iso.iso.path.clone(),
            iso_size: iso.iso.size,
            part_size: self.settings.part_size,
            streamed: std::mem::take(&mut iso.streamed),
            hollow: iso.iso.hollow,
            published,
        };
        tracing::info!(recipe = %recipe.id, %tag, staging = %staging.path().display(), "assembling release");
        let release = tokio::task::spawn_blocking(move || assembly.build(staging))
            .await
            .map_err(|error| PipelineError::Task(error.to_string()))??;
        Ok(release)
    }
}
