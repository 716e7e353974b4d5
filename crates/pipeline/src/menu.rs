//! From catalogue rows to the iPXE menu text.

use crate::PipelineError;
use repack_catalog::BuildRecord;
use repack_menu::{MenuEntry, MenuOptions};

/// Renders the menu for the current builds; `public_url` is the default `${repack-base}`.
pub fn render(builds: &[BuildRecord], public_url: &str) -> Result<String, PipelineError> {
    let entries = builds
        .iter()
        .map(|build| MenuEntry::from_manifest(&build.manifest, &build.location))
        .collect::<Result<Vec<_>, _>>()?;
    let options = MenuOptions::new(public_url)?;
    Ok(repack_menu::render_ipxe(&entries, &options))
}
