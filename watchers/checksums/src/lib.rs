//! The `checksums` watcher: an upstream publishes a `SHA256SUMS`-style list next to its
//! ISOs, and every listed file whose name matches the recipe's pattern is a release.
//!
//! ```toml
//! [watch]
//! kind = "checksums"
//! url = "https://cdimage.debian.org/debian-cd/current-live/amd64/iso-hybrid/SHA256SUMS"
//! pattern = '^debian-live-(?P<version>[0-9.]+)-amd64-standard\.iso$'
//! ```
//!
//! With `dir_pattern`, `url` is instead an index of version directories (Ubuntu's
//! `releases/` with `24.04/`, `24.04.1/`, `26.04/` and codename links like `noble/`): the
//! newest `max_dirs` directories whose name matches `dir_pattern` are read, each through
//! its `list` (default `SHA256SUMS`). A directory whose list is missing (404) is not
//! complete yet and is skipped; every other failure is an error.
//!
//! [`candidates`] fetches (capped at [`MAX_LIST_BYTES`] and [`MAX_INDEX_BYTES`]) through
//! [`Feeds`] (the shared fetcher, conditionally on kept copies), parses with `repack-verify`,
//! and resolves each ISO URL relative to the list's *upstream* URL. A list carries no dates:
//! each candidate's `published_at` is the `Last-Modified` of the list that names it. [`candidates_from_list`] is the same for one list without the
//! network. Like every watcher it only fetches and parses, and returns every candidate:
//! choosing the newest and every other policy is `repack-watch`'s job. It refuses an HTML
//! page served with status 200 in place of a list, an empty list, and names that would
//! resolve outside the list's directory.

// Feed errors carry the fetcher's error (both URLs); returned once per check.
#![allow(clippy::result_large_err)]

use repack_core::{Candidate, Checksum, Recipe};
use repack_watch_common::dirs::{self, DEFAULT_DIRS, MAX_DIRS};
use repack_watch_common::{FeedError, FeedText, Feeds, VersionPattern, checksum, text, urls};
use serde::Deserialize;
use url::Url;

/// Largest checksum list accepted. Real ones are a few kilobytes.
pub const MAX_LIST_BYTES: u64 = 4 * 1024 * 1024;

/// Largest index of version directories accepted. Ubuntu's is about 20 kB.
pub const MAX_INDEX_BYTES: u64 = 2 * 1024 * 1024;

const LIST: &str = "checksum list";
const INDEX: &str = "directory index";

/// The `[watch]` settings of the `checksums` kind.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, try_from = "RawConfig")]
pub struct Config {
    /// The checksum list, or with `dir_pattern` the index of version directories.
    pub url: String,
    /// Matched against each listed file name; its `version` group gives the version, an
    /// optional `arch` group the upstream's architecture name.
    pub pattern: VersionPattern,
    /// Matched against directory names of the index at `url`.
    pub dir_pattern: Option<VersionPattern>,
    /// The list's file name inside each version directory.
    pub list: String,
    /// How many of the newest version directories are read.
    pub max_dirs: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    url: String,
    pattern: VersionPattern,
    dir_pattern: Option<VersionPattern>,
    list: Option<String>,
    max_dirs: Option<usize>,
}

impl TryFrom<RawConfig> for Config {
    type Error = String;

    fn try_from(raw: RawConfig) -> Result<Self, String> {
        if !(raw.url.starts_with("http://") || raw.url.starts_with("https://")) {
            return Err(format!("`url = \"{}\"` must be an http(s) URL", raw.url));
        }
        if raw.dir_pattern.is_none() && (raw.list.is_some() || raw.max_dirs.is_some()) {
            return Err("`list` and `max_dirs` only apply with `dir_pattern`".to_owned());
        }
        let list = raw.list.unwrap_or_else(|| "SHA256SUMS".to_owned());
        if list.split('/').any(|segment| !urls::plain_segment(segment)) {
            return Err(format!(
                "`list = \"{list}\"` must be a relative path inside the version directory"
            ));
        }
        let max_dirs = raw.max_dirs.unwrap_or(DEFAULT_DIRS);
        if !(1..=MAX_DIRS).contains(&max_dirs) {
            return Err(format!(
                "`max_dirs = {max_dirs}` must be between 1 and {MAX_DIRS}"
            ));
        }
        Ok(Config {
            url: raw.url,
            pattern: raw.pattern,
            dir_pattern: raw.dir_pattern,
            list,
            max_dirs,
        })
    }
}

/// Every release the recipe's checksum list(s) name, in list order (newest directory
/// first when walking an index). An empty vector means the lists were fine but nothing
/// matched.
pub async fn candidates(
    config: &Config,
    recipe: &Recipe,
    feeds: Feeds<'_>,
) -> Result<Vec<Candidate>, FeedError> {
    let Some(dir_pattern) = &config.dir_pattern else {
        let list = fetch_list(feeds, &config.url).await?;
        let found = dated(
            candidates_from_list(config, recipe, &config.url, &list.body)?,
            &list,
        );
        tracing::info!(recipe = %recipe.id, url = %config.url, candidates = found.len(), "read checksum list");
        return Ok(found);
    };
    let index = urls::base(INDEX, &config.url)?;
    let page = feeds
        .text(&config.url, MAX_INDEX_BYTES)
        .await
        .map_err(FeedError::fetch(INDEX, &config.url))?;
    let all = dirs::version_dirs(&index, &page.body, dir_pattern);
    if all.is_empty() {
        return Err(FeedError::Empty {
            what: INDEX,
            url: config.url.clone(),
        });
    }
    let mut found = Vec::new();
    let mut lists_read = 0;
    for dir in all.iter().take(config.max_dirs) {
        let list_url = join(&dir.url, &config.list);
        match feeds.text(&list_url, MAX_LIST_BYTES).await {
            Ok(list) => {
                lists_read += 1;
                let listed = candidates_from_list(config, recipe, &list_url, &list.body)?;
                found.extend(dated(listed, &list));
            }
            Err(error) if error.status() == Some(404) => {
                tracing::info!(recipe = %recipe.id, url = %list_url, "version directory has no checksum list yet (404); skipped");
            }
            Err(source) => {
                return Err(FeedError::Fetch {
                    what: LIST,
                    url: list_url,
                    source,
                });
            }
        }
    }
    if lists_read == 0 {
        return Err(FeedError::Empty {
            what: INDEX,
            url: config.url.clone(),
        });
    }
    tracing::info!(recipe = %recipe.id, url = %config.url, lists_read, candidates = found.len(), "read version directories");
    Ok(found)
}

async fn fetch_list(feeds: Feeds<'_>, url: &str) -> Result<FeedText, FeedError> {
    feeds
        .text(url, MAX_LIST_BYTES)
        .await
        .map_err(FeedError::fetch(LIST, url))
}

/// The candidates of `list`, each published when the list last changed.
fn dated(mut found: Vec<Candidate>, list: &FeedText) -> Vec<Candidate> {
    let published_at = list.published_at();
    for candidate in &mut found {
        candidate.published_at.clone_from(&published_at);
    }
    found
}

/// `relative` (plain segments, checked when the recipe loaded) inside the directory `dir`.
fn join(dir: &Url, relative: &str) -> String {
    let mut url = dir.clone();
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty();
        path.extend(relative.split('/'));
    }
    url.to_string()
}

/// [`candidates`] over one list already fetched from `url`.
pub fn candidates_from_list(
    config: &Config,
    recipe: &Recipe,
    url: &str,
    body: &str,
) -> Result<Vec<Candidate>, FeedError> {
    let base = urls::base(LIST, url)?;
    let list = checksum::parse_list(url, text::strip_bom(body), "")?;
    let mut found = Vec::new();
    for entry in list.entries() {
        let Some((version, arch)) = config.pattern.captures(&entry.name) else {
            continue;
        };
        let iso_url =
            urls::resolve_listed(&base, &entry.name).ok_or_else(|| FeedError::BadLink {
                what: LIST,
                url: url.to_owned(),
                value: entry.name.clone(),
                reason: "the name is not a plain relative path (line shown in the list)",
            })?;
        let iso_name = entry.name.rsplit('/').next().unwrap_or(&entry.name);
        let mut candidate = Candidate::new(
            recipe.id.clone(),
            version,
            recipe.arch,
            iso_url.to_string(),
            iso_name,
            Checksum::Sha256(entry.sha256),
        );
        candidate.upstream_arch = arch;
        candidate.checksum_url = Some(url.to_owned());
        found.push(candidate);
    }
    Ok(found)
}
