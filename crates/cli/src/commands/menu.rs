//! `repack menu`: write menu.ipxe from the catalogue's current builds.

use crate::config::Config;
use crate::services::Services;
use anyhow::{Context, Result};
use std::path::Path;
use std::process::ExitCode;

pub async fn menu(config: &Config, output: Option<&Path>) -> Result<ExitCode> {
    let services = Services::open(config).await?;
    let pipeline = &services.pipeline;
    let result = match output {
        None => pipeline.regenerate_menu().await.map(|_| {
            eprintln!("wrote {}", config.output_dir.join("menu.ipxe").display());
        }),
        Some(path) => {
            let builds = pipeline.catalog.current_builds().await?;
            let script = repack_pipeline::render_menu(&builds, &config.public_url)?;
            if path == Path::new("-") {
                print!("{script}");
            } else {
                std::fs::write(path, script)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                eprintln!("wrote {}", path.display());
            }
            Ok(())
        }
    };
    services.close().await;
    result?;
    Ok(ExitCode::SUCCESS)
}
