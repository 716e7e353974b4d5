//! The watcher registry: turns a recipe's [`WatchSource`] into release [`Candidate`]s and
//! picks the newest one.
//!
//! Each feed kind is one `repack-watch-<kind>` crate that fetches and parses and returns
//! *every* candidate; [`candidates`] dispatches to it with one `match` arm per kind (a new
//! kind is one crate, one variant of [`WatchSource`], one arm here). Policy lives here:
//! [`newest`] orders candidates with [`Version`] and refuses to guess — a feed with no
//! matching release, or two different files claiming the newest version, is an error, so a
//! failed or empty check can never look like "nothing new".
//!
//! Not here yet: include/exclude filters, arch mapping, conditional requests (ETag/304)
//! against stored feed state, the compliance suite run against every kind.

// Errors carry both URLs, both digests and paths so that a person can act on them. They are
// returned once per download or check, never in a loop, so their size costs nothing.
#![allow(clippy::result_large_err)]

use repack_core::{Candidate, Recipe, Version, WatchSource};
use repack_fetch::Fetcher;
use repack_watch_checksums::ChecksumsError;

/// Occurs when a recipe's feed cannot be checked or has no usable release.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WatchError {
    /// Occurs when the `checksums` watcher fails (fetch, HTML page, malformed list, ...).
    #[error("cannot check `{recipe}` for new releases")]
    Checksums {
        recipe: String,
        #[source]
        source: ChecksumsError,
    },
    /// Occurs when the feed was read but no entry matched the recipe's pattern.
    #[error("no release of `{recipe}` in {url} matches the pattern `{pattern}`")]
    NoMatchingRelease {
        recipe: String,
        url: String,
        pattern: String,
    },
    /// Occurs when several different files match with the same newest version: the pattern
    /// is too loose, and picking one would be a guess.
    #[error(
        "`{recipe}`: several files in {url} match version {version} ({}); tighten the pattern",
        .names.join(", ")
    )]
    AmbiguousRelease {
        recipe: String,
        url: String,
        version: String,
        names: Vec<String>,
    },
}

impl WatchError {
    /// A stable, short identifier of the failure, for metrics labels and the catalogue.
    pub fn kind(&self) -> &'static str {
        match self {
            WatchError::Checksums { source, .. } => source.kind(),
            WatchError::NoMatchingRelease { .. } => "watch-no-matching-release",
            WatchError::AmbiguousRelease { .. } => "watch-ambiguous-release",
        }
    }
}

/// The feed URL and the pattern of a watch source, for messages.
fn feed(source: &WatchSource) -> (&str, &str) {
    match source {
        WatchSource::Checksums { url, pattern } => (url, pattern),
    }
}

/// Every release the recipe's feed lists, unordered and unfiltered beyond the kind's own
/// pattern. May be empty.
pub async fn candidates(recipe: &Recipe, fetcher: &Fetcher) -> Result<Vec<Candidate>, WatchError> {
    match &recipe.watch {
        WatchSource::Checksums { url, pattern } => {
            repack_watch_checksums::candidates(recipe, url, pattern, fetcher)
                .await
                .map_err(|source| WatchError::Checksums {
                    recipe: recipe.id.clone(),
                    source,
                })
        }
    }
}

/// The newest release the recipe's feed lists (see [`pick_newest`]).
pub async fn newest(recipe: &Recipe, fetcher: &Fetcher) -> Result<Candidate, WatchError> {
    let found = candidates(recipe, fetcher).await?;
    let chosen = pick_newest(recipe, found)?;
    tracing::info!(recipe = %recipe.id, version = %chosen.version, iso_url = %chosen.iso_url, "newest upstream release");
    Ok(chosen)
}

/// Picks the candidate with the highest [`Version`]. No candidate is
/// [`WatchError::NoMatchingRelease`]; different files sharing the highest version are
/// [`WatchError::AmbiguousRelease`] (the same file listed twice is fine).
pub fn pick_newest(recipe: &Recipe, candidates: Vec<Candidate>) -> Result<Candidate, WatchError> {
    let (url, pattern) = feed(&recipe.watch);
    let Some(best) = candidates
        .iter()
        .max_by(|a, b| Version::new(a.version.as_str()).cmp(&Version::new(b.version.as_str())))
    else {
        return Err(WatchError::NoMatchingRelease {
            recipe: recipe.id.clone(),
            url: url.to_owned(),
            pattern: pattern.to_owned(),
        });
    };
    let top = Version::new(best.version.as_str());
    let mut tied: Vec<&Candidate> = Vec::new();
    for candidate in candidates
        .iter()
        .filter(|c| Version::new(c.version.as_str()) == top)
    {
        if !tied
            .iter()
            .any(|t| t.iso_url == candidate.iso_url && t.sha256 == candidate.sha256)
        {
            tied.push(candidate);
        }
    }
    if tied.len() > 1 {
        return Err(WatchError::AmbiguousRelease {
            recipe: recipe.id.clone(),
            url: url.to_owned(),
            version: best.version.clone(),
            names: tied.iter().map(|c| c.iso_name.clone()).collect(),
        });
    }
    Ok(best.clone())
}
