//! The registry's error: which recipe, which feed, and what was wrong.

use repack_watch_common::FeedError;

/// Occurs when a recipe's feed cannot be checked or offers no usable release.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WatchError {
    /// Occurs when the recipe's `[watch]` table names an unknown kind, has an unknown or
    /// missing key, or a value that cannot work (a pattern without a `version` group, ...).
    #[error("recipe `{recipe}` ({recipe}.toml): [watch] {detail}")]
    Config { recipe: String, detail: String },
    /// Occurs when the feed cannot be read (fetch, HTML page, malformed or empty document).
    #[error("cannot check `{recipe}` for new releases ({kind} feed)")]
    Feed {
        recipe: String,
        kind: &'static str,
        #[source]
        source: FeedError,
    },
    /// Occurs when the feed was read but no release passes the recipe's pattern, filters,
    /// pre-release rule and architecture.
    #[error(
        "no release of `{recipe}` in {url} passes the recipe's pattern and filters \
         ({listed} listed; dropped: {excluded} by include/exclude, {prerelease} pre-releases, \
         {other_arch} for other architectures)"
    )]
    NoMatchingRelease {
        recipe: String,
        url: String,
        listed: usize,
        excluded: usize,
        prerelease: usize,
        other_arch: usize,
    },
    /// Occurs when several different files have the same newest version: the pattern is too
    /// loose, and picking one would be a guess.
    #[error(
        "`{recipe}`: several files in {url} have the newest version {version} ({}); tighten the pattern",
        .names.join(", ")
    )]
    AmbiguousRelease {
        recipe: String,
        url: String,
        version: String,
        names: Vec<String>,
    },
    /// Occurs when the newest release upstream is older than the one already published:
    /// the feed went backwards (a stale mirror, a pulled release). Nothing is built.
    #[error(
        "`{recipe}`: the newest release in {url} is {found}, older than the published {published}; \
         the feed went backwards, nothing is built"
    )]
    Backwards {
        recipe: String,
        url: String,
        found: String,
        published: String,
    },
    /// Occurs when a build needs the ISO's digest but the recipe declared the upstream
    /// publishes none (`checksum = "none"`).
    #[error(
        "`{recipe}` {version}: the upstream publishes no checksum for {url} (checksum = \"none\"); \
         it can be watched but not built"
    )]
    Unverified {
        recipe: String,
        version: String,
        url: String,
    },
}

impl WatchError {
    /// A stable, short identifier of the failure (the feed's own kind when there is one),
    /// for metrics labels and the catalogue.
    pub fn kind(&self) -> &'static str {
        match self {
            WatchError::Config { .. } => "watch-config",
            WatchError::Feed { source, .. } => source.kind(),
            WatchError::NoMatchingRelease { .. } => "watch-no-matching-release",
            WatchError::AmbiguousRelease { .. } => "watch-ambiguous-release",
            WatchError::Backwards { .. } => "watch-backwards",
            WatchError::Unverified { .. } => "watch-unverified",
        }
    }
}
