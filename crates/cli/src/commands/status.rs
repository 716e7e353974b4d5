//! `repack status`: the current build and the last upstream check of every recipe.
//!
//! `--json` prints every time as RFC 3339 in UTC (`2026-12-03T07:46:04.047216Z`), the form
//! JSON consumers parse; the human output may be friendlier.

use crate::config::Config;
use anyhow::Result;
use serde::Serialize;
use std::collections::BTreeMap;
use std::process::ExitCode;
use time::OffsetDateTime;

#[derive(Serialize, Default)]
struct RecipeStatus {
    current: Vec<CurrentBuild>,
    #[serde(with = "time::serde::rfc3339::option")]
    last_check: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    last_success: Option<OffsetDateTime>,
    last_error: Option<LastError>,
    consecutive_failures: u32,
}

#[derive(Serialize)]
struct CurrentBuild {
    arch: String,
    version: String,
    tag: String,
    location: String,
    /// When this build was published (and became current).
    #[serde(with = "time::serde::rfc3339")]
    published_at: OffsetDateTime,
}

#[derive(Serialize)]
struct LastError {
    kind: String,
    #[serde(with = "time::serde::rfc3339")]
    at: OffsetDateTime,
    message: String,
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
                published_at: build.created_at,
            });
    }
    let mut failing = false;
    for check in checks {
        let status = recipes.entry(check.recipe.clone()).or_default();
        status.last_check = Some(check.last_check_at);
        status.last_success = check.last_success_at;
        status.consecutive_failures = check.consecutive_failures;
        if check.is_failing() {
            failing = true;
        }
        status.last_error = check.last_error.map(|error| LastError {
            kind: error.kind,
            at: error.at,
            message: error.message,
        });
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
                    "  failing ({} in a row, last at {}): {}: {}",
                    status.consecutive_failures,
                    friendly_time(error.at),
                    error.kind,
                    error.message
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

/// `2026-12-03 07:46:04 UTC`: a time for people reading a terminal.
fn friendly_time(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}
