//! `repack menu`: write menu.ipxe from the catalogue's current builds.

use crate::config::Config;
use anyhow::{Context, Result};
use repack_pipeline::{BuildSettings, Pipeline};
use repack_publish::DirectoryPublisher;
use std::path::Path;
use std::process::ExitCode;

pub async fn menu(config: &Config, output: Option<&Path>) -> Result<ExitCode> {
    let catalog = super::open_catalog(config).await?;
    let pipeline = Pipeline {
        fetcher: super::fetcher(config)?,
        catalog,
        publisher: DirectoryPublisher::new(&config.output_dir),
        settings: BuildSettings {
            part_size: config.part_size,
            public_url: config.public_url.clone(),
        },
    };
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
    pipeline.catalog.close().await;
    result?;
    Ok(ExitCode::SUCCESS)
}
