//! `repack watch [RECIPE…|--all] [--json]`: what is new upstream, without building anything.
//!
//! For each recipe: the newest upstream release (version, ISO URL, when the upstream
//! published it and when repack first saw it), what is published (the catalogue's current
//! build), and a state — `new` (upstream is newer or nothing is published), `current`,
//! `backwards` (upstream is older than what is published: nothing would be built) or
//! `failing` (the check failed: the error's kind and since when the recipe fails). A failing
//! recipe still shows the newest release an earlier check saw, with when it was last seen.
//!
//! Every check goes through the catalogue the way a build's does: feeds are requested
//! conditionally on the copies kept in `feed_state` (a 304 reads no body), the newest
//! release is recorded in `releases_seen`, and the outcome in `checks` — a backwards feed as
//! a failed check of kind `watch-backwards`, exactly as `repack run` records it, so `repack
//! status` agrees. `--all` checks every recipe of the recipe directories, at most
//! [`SWEEP_CONCURRENCY`] at a time (the fetcher's per-host limit applies on top); a recipe
//! file that does not load is reported as failing (`recipe-invalid`).
//!
//! Exit code: 0, or 3 when any recipe is failing; 1 when the command itself fails (an
//! unknown recipe id, the catalogue unreachable). `--json` prints an array, one object per
//! recipe sorted by id, every time in RFC 3339 UTC.

use super::{fetcher, open_catalog};
use crate::cli::WatchArgs;
use crate::config::Config;
use anyhow::{Context, Result, bail};
use repack_catalog::{Catalog, CheckOutcome, CheckRecord, ReleaseSeen, SeenRelease};
use repack_core::Recipe;
use repack_fetch::Fetcher;
use repack_pipeline::CatalogFeedCache;
use repack_watch::{ApiToken, Freshness, WatchContext};
use serde::Serialize;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use time::OffsetDateTime;

/// Recipes checked at the same time by `--all`.
pub const SWEEP_CONCURRENCY: usize = 8;

/// Exit code when at least one recipe is failing.
const EXIT_FAILING: u8 = 3;

/// How the newest upstream release relates to what is published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum State {
    New,
    Current,
    Backwards,
    Failing,
}

impl State {
    fn as_str(self) -> &'static str {
        match self {
            State::New => "new",
            State::Current => "current",
            State::Backwards => "backwards",
            State::Failing => "failing",
        }
    }
}

#[derive(Debug, Serialize)]
struct Report {
    recipe: String,
    state: State,
    /// The newest upstream release: found now, or by the last check that found one.
    upstream: Option<Upstream>,
    /// The current build in the catalogue.
    published: Option<Published>,
    /// Why the check failed (`failing`) or refused the feed (`backwards`).
    error: Option<Failure>,
    #[serde(with = "time::serde::rfc3339")]
    checked_at: OffsetDateTime,
}

#[derive(Debug, Serialize)]
struct Upstream {
    version: String,
    iso_url: String,
    sha256: Option<String>,
    /// When the upstream published it, when the feed says (or its list's Last-Modified).
    #[serde(with = "time::serde::rfc3339::option")]
    published_at: Option<OffsetDateTime>,
    /// When repack first saw it.
    #[serde(with = "time::serde::rfc3339")]
    first_seen_at: OffsetDateTime,
    /// When a check last found it newest (now, unless the check failed).
    #[serde(with = "time::serde::rfc3339")]
    last_seen_at: OffsetDateTime,
}

#[derive(Debug, Serialize)]
struct Published {
    version: String,
    tag: String,
    /// When the build was published.
    #[serde(with = "time::serde::rfc3339")]
    published_at: OffsetDateTime,
}

#[derive(Debug, Serialize)]
struct Failure {
    kind: String,
    message: String,
    /// The first failed check since the last good one.
    #[serde(with = "time::serde::rfc3339")]
    since: OffsetDateTime,
    consecutive_failures: u32,
}

/// What the sweep shares between its tasks.
struct Shared {
    catalog: Catalog,
    fetcher: Fetcher,
    token: Option<ApiToken>,
}

/// One recipe to check: loaded, or the reason its file does not load.
enum Target {
    Loaded(Box<Recipe>),
    Invalid { id: String, error: String },
}

pub async fn watch(config: &Config, args: WatchArgs) -> Result<ExitCode> {
    let targets = if args.all {
        every_recipe(&config.recipe_dirs)?
    } else {
        let mut targets = Vec::with_capacity(args.recipes.len());
        for id in &args.recipes {
            targets.push(Target::Loaded(Box::new(Recipe::find(
                id,
                &config.recipe_dirs,
            )?)));
        }
        targets
    };
    let shared = Arc::new(Shared {
        catalog: open_catalog(config).await?,
        fetcher: fetcher(config)?,
        token: std::env::var(crate::env_vars::REPACK_GITHUB_TOKEN)
            .ok()
            .and_then(ApiToken::new),
    });
    let result = sweep(&shared, targets).await;
    shared.catalog.close().await;
    let reports = result?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    } else {
        for report in &reports {
            print_human(report);
        }
    }
    let failing = reports.iter().any(|report| report.state == State::Failing);
    Ok(if failing {
        ExitCode::from(EXIT_FAILING)
    } else {
        ExitCode::SUCCESS
    })
}

/// Checks every target, [`SWEEP_CONCURRENCY`] at a time; the reports sorted by recipe id.
async fn sweep(shared: &Arc<Shared>, targets: Vec<Target>) -> Result<Vec<Report>> {
    let slots = Arc::new(tokio::sync::Semaphore::new(SWEEP_CONCURRENCY));
    let mut tasks = tokio::task::JoinSet::new();
    for target in targets {
        let shared = Arc::clone(shared);
        let slots = Arc::clone(&slots);
        tasks.spawn(async move {
            let _slot = slots.acquire_owned().await.expect("never closed");
            match target {
                Target::Loaded(recipe) => check(&shared, &recipe).await,
                Target::Invalid { id, error } => {
                    let outcome = Outcome::Failed {
                        kind: "recipe-invalid",
                        message: error,
                    };
                    report(&shared.catalog, &id, None, outcome).await
                }
            }
        });
    }
    let mut reports = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        reports.push(joined.context("a recipe check panicked")??);
    }
    reports.sort_by(|a, b| a.recipe.cmp(&b.recipe));
    Ok(reports)
}

/// What one check found, before it is recorded.
enum Outcome {
    Found(Freshness, ReleaseSeen, Option<String>),
    Failed { kind: &'static str, message: String },
}

/// Checks one recipe's feed and records the check; catalogue errors end the command.
async fn check(shared: &Shared, recipe: &Recipe) -> Result<Report> {
    let published = shared.catalog.current(&recipe.id, recipe.arch).await?;
    let feed_cache = CatalogFeedCache(shared.catalog.clone());
    let mut ctx = WatchContext::new(recipe, &shared.fetcher);
    ctx.github_token = shared.token.as_ref();
    ctx.feed_cache = Some(&feed_cache);
    let outcome = match repack_watch::newest(&ctx).await {
        Err(error) => Outcome::Failed {
            kind: error.kind(),
            message: chain(&error),
        },
        Ok(candidate) => {
            let seen = shared
                .catalog
                .record_release_seen(&SeenRelease::of(&candidate))
                .await?;
            let version = published.as_ref().map(|build| build.version.as_str());
            match repack_watch::ensure_not_backwards(recipe, &candidate, version) {
                Ok(freshness) => Outcome::Found(freshness, seen, None),
                Err(error) => Outcome::Found(Freshness::Backwards, seen, Some(chain(&error))),
            }
        }
    };
    let published = published.map(|build| Published {
        version: build.version,
        tag: build.tag,
        published_at: build.created_at,
    });
    report(&shared.catalog, &recipe.id, published, outcome).await
}

/// Records `outcome` as the recipe's latest check and turns it into a report.
async fn report(
    catalog: &Catalog,
    recipe: &str,
    published: Option<Published>,
    outcome: Outcome,
) -> Result<Report> {
    let recorded = match &outcome {
        Outcome::Found(Freshness::Backwards, _, message) => {
            CheckOutcome::failure("watch-backwards", message.clone().unwrap_or_default())
        }
        Outcome::Found(..) => CheckOutcome::Success,
        Outcome::Failed { kind, message } => CheckOutcome::failure(*kind, message.clone()),
    };
    catalog.record_check(recipe, recorded).await?;
    let check = catalog
        .check(recipe)
        .await?
        .with_context(|| format!("the check of `{recipe}` just recorded cannot be read back"))?;
    let (state, seen) = match outcome {
        Outcome::Found(Freshness::New, seen, _) => (State::New, Some(seen)),
        Outcome::Found(Freshness::Current, seen, _) => (State::Current, Some(seen)),
        Outcome::Found(Freshness::Backwards, seen, _) => (State::Backwards, Some(seen)),
        // The newest release an earlier check found, for context.
        Outcome::Failed { .. } => (
            State::Failing,
            catalog.releases_seen(recipe).await?.into_iter().next(),
        ),
    };
    Ok(Report {
        recipe: recipe.to_owned(),
        state,
        upstream: seen.map(|seen| Upstream {
            version: seen.version,
            iso_url: seen.iso_url,
            sha256: seen.iso_sha256.map(|digest| digest.to_hex()),
            published_at: seen.published_at,
            first_seen_at: seen.first_seen_at,
            last_seen_at: seen.last_seen_at,
        }),
        published,
        error: failure(&check),
        checked_at: check.last_check_at,
    })
}

/// The failing part of a check record, when its latest check failed.
fn failure(check: &CheckRecord) -> Option<Failure> {
    let error = check.last_error.as_ref().filter(|_| check.is_failing())?;
    Some(Failure {
        kind: error.kind.clone(),
        message: error.message.clone(),
        since: check.failing_since.unwrap_or(error.at),
        consecutive_failures: check.consecutive_failures,
    })
}

/// Every recipe of the recipe directories (see [`crate::services::recipe_files`]), loaded.
fn every_recipe(dirs: &[PathBuf]) -> Result<Vec<Target>> {
    let files = crate::services::recipe_files(dirs)?;
    if files.is_empty() {
        let searched: Vec<String> = dirs.iter().map(|dir| dir.display().to_string()).collect();
        bail!("no recipes in {}", searched.join(", "));
    }
    Ok(files
        .into_iter()
        .map(|(id, path)| match Recipe::load(&path) {
            Ok(recipe) => Target::Loaded(Box::new(recipe)),
            Err(error) => Target::Invalid {
                id,
                error: error.to_string(),
            },
        })
        .collect())
}

/// An error and its causes on one line, as the catalogue stores messages.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(next) = cause {
        text.push_str(": ");
        text.push_str(&next.to_string());
        cause = next.source();
    }
    text
}

/// `2026-12-03 07:46 UTC`, for a person at a terminal.
fn human_time(at: OffsetDateTime) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    at.to_offset(time::UtcOffset::UTC)
        .format(&format)
        .unwrap_or_else(|_| at.to_string())
}

fn print_human(report: &Report) {
    let published = match &report.published {
        Some(build) => format!("published {} ({})", build.version, build.tag),
        None => "nothing published".to_owned(),
    };
    let upstream = match &report.upstream {
        Some(upstream) => {
            let released = upstream
                .published_at
                .map(|at| format!("released {}, ", human_time(at)))
                .unwrap_or_default();
            format!(
                "upstream {} ({released}first seen {})",
                upstream.version,
                human_time(upstream.first_seen_at)
            )
        }
        None => "upstream unknown".to_owned(),
    };
    println!(
        "{:<24} {:<9} {upstream}; {published}",
        report.recipe,
        report.state.as_str()
    );
    if let Some(upstream) = &report.upstream
        && report.state != State::Failing
    {
        println!("  {}", upstream.iso_url);
    }
    if let Some(error) = &report.error {
        println!(
            "  {} since {} ({} failed check(s)): {}",
            error.kind,
            human_time(error.since),
            error.consecutive_failures,
            error.message
        );
    }
}
