//! `repack watch <recipe>`: what is newest upstream, without building anything.

use crate::config::Config;
use anyhow::Result;
use repack_core::Recipe;
use std::process::ExitCode;

pub async fn watch(config: &Config, recipe_id: &str) -> Result<ExitCode> {
    let recipe = Recipe::find(recipe_id, &config.recipe_dirs)?;
    let fetcher = super::fetcher(config)?;
    let candidate = repack_watch::newest(&recipe, &fetcher).await?;
    println!("{}", serde_json::to_string_pretty(&candidate)?);
    Ok(ExitCode::SUCCESS)
}
