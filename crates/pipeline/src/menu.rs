//! From catalogue rows to the iPXE menu text and netboot.xyz's `endpoints.yml`.

use crate::PipelineError;
use repack_catalog::BuildRecord;
use repack_menu::{MenuEntry, MenuOptions};

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
