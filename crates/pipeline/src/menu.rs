//! The last step: from catalogue rows to the iPXE menu text and netboot.xyz's
//! `endpoints.yml`, and `menu.ipxe` published after every run.

use crate::{Pipeline, PipelineError};
use repack_catalog::BuildRecord;
use repack_menu::{MenuEntry, MenuOptions};
use repack_publish::Publisher;

impl<P: Publisher> Pipeline<P> {
    /// Renders `menu.ipxe` from the catalogue's current builds and publishes it.
    pub async fn regenerate_menu(&self) -> Result<String, PipelineError> {
        let builds = self.catalog.current_builds().await?;
        let script = render(&builds, &self.settings.public_url)?;
        self.publisher
            .publish_file("menu.ipxe", script.clone().into_bytes())
            .await?;
        Ok(script)
    }

    /// [`Pipeline::regenerate_menu`] once the build `tag` at `location` is current: a failure
    /// says that the catalogue changed anyway ([`PipelineError::MenuAfterPublish`]).
    pub(crate) async fn menu_after_publish(
        &self,
        tag: &str,
        location: &str,
    ) -> Result<(), PipelineError> {
        match self.regenerate_menu().await {
            Ok(_) => Ok(()),
            Err(error) => Err(PipelineError::MenuAfterPublish {
                tag: tag.to_owned(),
                location: location.to_owned(),
                source: Box::new(error),
            }),
        }
    }
}

/// Renders the menu for the current builds; `public_url` is the default `${repack-base}`.
pub fn render(builds: &[BuildRecord], public_url: &str) -> Result<String, PipelineError> {
    let options = MenuOptions::new(public_url)?;
    Ok(repack_menu::render_ipxe(&entries(builds)?, &options))
}

/// Renders netboot.xyz's `endpoints.yml` for the current builds (paths relative to where the
/// publisher put them).
pub fn render_endpoints(builds: &[BuildRecord]) -> Result<String, PipelineError> {
    Ok(repack_menu::render_endpoints_yml(&entries(builds)?)?)
}

fn entries(builds: &[BuildRecord]) -> Result<Vec<MenuEntry>, PipelineError> {
    Ok(builds
        .iter()
        .map(|build| MenuEntry::from_manifest(&build.manifest, &build.location))
        .collect::<Result<Vec<_>, _>>()?)
}
