//! `repack status`: one row per recipe — upstream version, published version, live since,
//! failing since and why, download size, RAM needed — the rows of the status page
//! (`repack_server::status`), in the terminal or as `--json` (the same array
//! `GET /api/v1/status` returns; every time RFC 3339 UTC).
//!
//! `--check-links` also requests every published file of the current builds (HEAD, at most
//! [`LINK_CHECKS_AT_ONCE`] at a time) and reports each one that is gone or unreachable.
//! Exit code: 0; 3 when a recipe is failing or a file is missing.

use crate::config::Config;
use crate::services::recipes;
use anyhow::{Context, Result};
use futures_util::StreamExt;
use repack_server::page::size;
use repack_server::status::{self, RecipeStatus, State};
use serde::Serialize;
use std::process::ExitCode;
use std::time::Duration;
use time::OffsetDateTime;

/// Files requested at the same time by `--check-links`.
pub const LINK_CHECKS_AT_ONCE: usize = 8;

/// How long one link check may take.
const LINK_TIMEOUT: Duration = Duration::from_secs(20);

/// Exit code when a recipe is failing or a published file is gone.
const EXIT_UNHEALTHY: u8 = 3;

/// A published file that did not answer 200.
#[derive(Debug, Serialize)]
struct BrokenLink {
    recipe: String,
    url: String,
    /// The HTTP status, when there was an answer.
    status: Option<u16>,
    error: String,
}

#[derive(Serialize)]
struct WithLinks<'a> {
    recipes: &'a [RecipeStatus],
    broken_links: &'a [BrokenLink],
}

pub async fn status(config: &Config, json: bool, check_links: bool) -> Result<ExitCode> {
    let known: Vec<status::KnownRecipe> = recipes(config)?
        .into_iter()
        .map(|recipe| status::KnownRecipe {
            id: recipe.id,
            name: recipe.name,
        })
        .collect();
    let catalog = super::open_catalog(config).await?;
    let rows = status::collect(
        &catalog,
        &known,
        &config.public_url,
        OffsetDateTime::now_utc(),
        config.server.stale_after,
    )
    .await;
    catalog.close().await;
    let rows = rows.context("cannot read the catalogue")?;
    let broken = if check_links {
        Some(check(&rows).await?)
    } else {
        None
    };

    if json {
        let text = match &broken {
            None => serde_json::to_string_pretty(&rows)?,
            Some(broken) => serde_json::to_string_pretty(&WithLinks {
                recipes: &rows,
                broken_links: broken,
            })?,
        };
        println!("{text}");
    } else {
        print_rows(&rows);
        if let Some(broken) = &broken {
            let files: usize = rows
                .iter()
                .flat_map(|row| &row.published)
                .map(|build| build.files.len())
                .sum();
            println!("links: {} of {files} published files missing", broken.len());
            for link in broken {
                println!("  {}: {} ({})", link.recipe, link.url, link.error);
            }
        }
    }
    let failing = rows.iter().any(|row| row.state == State::Failing);
    let missing = broken.is_some_and(|broken| !broken.is_empty());
    Ok(if failing || missing {
        ExitCode::from(EXIT_UNHEALTHY)
    } else {
        ExitCode::SUCCESS
    })
}

fn print_rows(rows: &[RecipeStatus]) {
    for row in rows {
        let upstream = row
            .upstream
            .as_ref()
            .map_or("?".to_owned(), |upstream| upstream.version.clone());
        println!(
            "{} [{}] upstream {upstream}",
            row.recipe,
            row.state.as_str()
        );
        if row.published.is_empty() {
            println!("  nothing published");
        }
        for build in &row.published {
            println!(
                "  {} {} ({}), live since {}, download {}, RAM {} MiB",
                build.arch,
                build.version,
                build.tag,
                friendly_time(build.live_since),
                size(build.download_bytes),
                build.ram_mib
            );
        }
        if let Some(check) = &row.check
            && check.consecutive_failures > 0
            && let Some(error) = &check.last_error
        {
            println!(
                "  failing since {} ({} in a row, last at {}): {}: {}",
                friendly_time(check.failing_since.unwrap_or(error.at)),
                check.consecutive_failures,
                friendly_time(error.at),
                error.kind,
                error.message
            );
        } else if row.state == State::Stale {
            let last = row
                .check
                .as_ref()
                .and_then(|check| check.last_success_at)
                .map_or("never".to_owned(), friendly_time);
            println!("  stale: last good check {last}");
        }
    }
}

/// HEADs every file of every current build; returns the ones that did not answer 200.
async fn check(rows: &[RecipeStatus]) -> Result<Vec<BrokenLink>> {
    let client = reqwest::Client::builder()
        .user_agent(concat!(
            "repack/",
            env!("CARGO_PKG_VERSION"),
            " (link check)"
        ))
        .timeout(LINK_TIMEOUT)
        .build()
        .context("cannot set up the HTTP client")?;
    let links: Vec<(&str, &str)> = rows
        .iter()
        .flat_map(|row| {
            row.published.iter().flat_map(move |build| {
                build
                    .files
                    .iter()
                    .map(move |file| (row.recipe.as_str(), file.url.as_str()))
            })
        })
        .collect();
    let results = futures_util::stream::iter(links)
        .map(|(recipe, url)| {
            let client = client.clone();
            async move {
                let outcome = client.head(url).send().await;
                let (status, error) = match outcome {
                    Ok(response) if response.status().is_success() => return None,
                    Ok(response) => (
                        Some(response.status().as_u16()),
                        format!("HTTP {}", response.status()),
                    ),
                    Err(error) => (None, error.without_url().to_string()),
                };
                Some(BrokenLink {
                    recipe: recipe.to_owned(),
                    url: url.to_owned(),
                    status,
                    error,
                })
            }
        })
        .buffered(LINK_CHECKS_AT_ONCE)
        .collect::<Vec<_>>()
        .await;
    Ok(results.into_iter().flatten().collect())
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
