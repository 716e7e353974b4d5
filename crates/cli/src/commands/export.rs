//! `repack export endpoints`: the current builds as a netboot.xyz `endpoints.yml` fragment.

use crate::config::Config;
use crate::services::Services;
use anyhow::{Context, Result};
use std::path::Path;
use std::process::ExitCode;

pub async fn endpoints(config: &Config, output: Option<&Path>) -> Result<ExitCode> {
    let services = Services::open(config).await?;
    let rendered = async {
        let builds = services.pipeline.catalog.current_builds().await?;
        Ok::<_, anyhow::Error>(repack_pipeline::render_endpoints(&builds)?)
    }
    .await;
    services.close().await;
    let text = rendered?;
    match output {
        None => print!("{text}"),
        Some(path) if path == Path::new("-") => print!("{text}"),
        Some(path) => {
            // Whole or not at all: a reader never sees half a list.
            let temporary = path.with_extension("yml.tmp");
            std::fs::write(&temporary, &text)
                .and_then(|()| std::fs::rename(&temporary, path))
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("wrote {}", path.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}
