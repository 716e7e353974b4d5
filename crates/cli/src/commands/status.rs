//! `repack status`: the current build and the last upstream check of every recipe.

use crate::config::Config;
use anyhow::Result;
use serde::Serialize;
use std::collections::BTreeMap;
use std::process::ExitCode;

#[derive(Serialize, Default)]
struct RecipeStatus {
    current: Vec<CurrentBuild>,
    last_check: Option<String>,
    last_success: Option<String>,
    last_error: Option<String>,
    consecutive_failures: u32,
}

#[derive(Serialize)]
struct CurrentBuild {
    arch: String,
    version: String,
    tag: String,
    location: String,
}

pub async fn status(config: &Config, json: bool) -> Result<ExitCode> {
    let catalog = super::open_catalog(config).await?;
    let builds = catalog.current_builds().await?;
    let checks = catalog.checks().await?;
    catalog.close().await;
    let mut recipes: BTreeMap<String, RecipeStatus> = BTreeMap::new();
    for build in builds {
        recipes
            .entry(build.recipe.clone())
            .or_default()
            .current
            .push(CurrentBuild {
                arch: build.arch.to_string(),
                version: build.version,
                tag: build.tag,
                location: build.location,
            });
    }
    let mut failing = false;
    for check in checks {
        let status = recipes.entry(check.recipe.clone()).or_default();
        status.last_check = Some(check.last_check_at.to_string());
        status.last_success = check.last_success_at.map(|at| at.to_string());
        status.consecutive_failures = check.consecutive_failures;
        if check.is_failing() {
            failing = true;
        }
        status.last_error = check
            .last_error
            .map(|error| format!("{} ({}): {}", error.kind, error.at, error.message));
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&recipes)?);
    } else {
        for (recipe, status) in &recipes {
            let current = status
                .current
                .iter()
                .map(|build| format!("{} {} ({})", build.arch, build.version, build.tag))
                .collect::<Vec<_>>()
                .join(", ");
            println!(
                "{recipe}: {}",
                if current.is_empty() {
                    "nothing published"
                } else {
                    &current
                }
            );
            if let Some(error) = &status.last_error
                && status.consecutive_failures > 0
            {
                println!(
                    "  failing ({} in a row): {error}",
                    status.consecutive_failures
                );
            }
        }
    }
    Ok(if failing {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}
