//! `repack recipes check`: every recipe in the recipe directories (or the ones named) parses,
//! its `[watch]` table is one the registry knows, and every key it pins is in the key
//! directories. Keys that cannot ship with repack (Ubuntu's, for one) are supplied by the
//! operator; this is how an operator learns which are missing before a run fails on them.

use crate::config::Config;
use anyhow::Result;
use clap::Subcommand;
use repack_core::Recipe;
use repack_verify::{Fingerprint, Keyring};
use serde::Serialize;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum RecipesCommand {
    /// Check recipes and the keys they pin; exit 1 when any recipe has a problem.
    Check {
        /// Recipe ids (default: every `*.toml` in the recipe directories; the first
        /// directory that has an id wins, as for `repack run`).
        recipes: Vec<String>,
        /// Print JSON instead of lines.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Serialize)]
struct RecipeReport {
    id: String,
    /// The file the recipe was read from.
    file: Option<PathBuf>,
    /// Everything wrong with it; empty when it is ready to run.
    problems: Vec<String>,
    /// Pinned fingerprints whose key file is in no key directory.
    missing_keys: Vec<String>,
}

pub fn run(config: &Config, command: RecipesCommand) -> Result<ExitCode> {
    let RecipesCommand::Check { recipes, json } = command;
    let ids = if recipes.is_empty() {
        crate::services::recipe_files(&config.recipe_dirs)?
            .into_keys()
            .collect()
    } else {
        recipes
    };
    let reports: Vec<RecipeReport> = ids.iter().map(|id| check(config, id)).collect();
    if json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    } else {
        for report in &reports {
            if report.problems.is_empty() {
                println!("{}: ok", report.id);
            } else {
                println!("{}: {}", report.id, report.problems.join("; "));
            }
        }
        if reports.is_empty() {
            println!(
                "no recipes in {}",
                config
                    .recipe_dirs
                    .iter()
                    .map(|dir| dir.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    let bad = reports.is_empty() || reports.iter().any(|report| !report.problems.is_empty());
    Ok(if bad {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn check(config: &Config, id: &str) -> RecipeReport {
    let mut report = RecipeReport {
        id: id.to_owned(),
        file: config
            .recipe_dirs
            .iter()
            .map(|dir| dir.join(format!("{id}.toml")))
            .find(|path| path.is_file()),
        problems: Vec::new(),
        missing_keys: Vec::new(),
    };
    let recipe = match Recipe::find(id, &config.recipe_dirs) {
        Ok(recipe) => recipe,
        Err(error) => {
            report.problems.push(error.to_string());
            return report;
        }
    };
    let watch = match repack_watch::WatchConfig::parse(&recipe) {
        Ok(watch) => watch,
        Err(error) => {
            report.problems.push(format!("{error:#}"));
            return report;
        }
    };
    for key in &watch.policy.keys {
        let pin = match key.parse::<Fingerprint>() {
            Ok(pin) => pin,
            Err(error) => {
                report
                    .problems
                    .push(format!("pinned key `{key}` is not a fingerprint: {error}"));
                continue;
            }
        };
        if let Err(error) = Keyring::load_dirs(&config.key_dirs, std::slice::from_ref(&pin)) {
            report.missing_keys.push(pin.to_string());
            report.problems.push(error.to_string());
        }
    }
    report
}
