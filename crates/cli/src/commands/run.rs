//! `repack run <recipe>`: build and publish the newest release of one recipe.

use crate::config::Config;
use anyhow::{Result, anyhow};
use repack_core::Recipe;
use repack_pipeline::{BuildSettings, Outcome, Pipeline};
use repack_publish::DirectoryPublisher;
use std::process::ExitCode;

pub async fn run(config: &Config, recipe_id: &str) -> Result<ExitCode> {
    let recipe = Recipe::find(recipe_id, &config.recipe_dirs)?;
    if let Some(source) = &config.source {
        tracing::info!(config = %source.display(), "configuration loaded");
    }
    let pipeline = Pipeline {
        fetcher: super::fetcher(config)?,
        catalog: super::open_catalog(config).await?,
        publisher: DirectoryPublisher::new(&config.output_dir),
        settings: BuildSettings {
            part_size: config.part_size,
            public_url: config.public_url.clone(),
        },
    };
    let reporter = crate::reporter::for_terminal();
    let result = pipeline.run(&recipe, reporter.as_ref()).await;
    pipeline.catalog.close().await;
    match result {
        Ok(Outcome::UpToDate { version, tag }) => {
            println!(
                "{}: nothing new upstream; {version} is published as {tag}",
                recipe.id
            );
            Ok(ExitCode::SUCCESS)
        }
        Ok(Outcome::Published {
            version,
            tag,
            location,
        }) => {
            println!(
                "{}: published {version} as {tag} in {}",
                recipe.id,
                config.output_dir.join(location).display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            let kind = error.kind();
            Err(anyhow!(error).context(format!(
                "building `{}` failed ({kind}); nothing was published and the catalogue is unchanged",
                recipe.id
            )))
        }
    }
}
