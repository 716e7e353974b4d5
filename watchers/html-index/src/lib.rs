//! The `html-index` watcher: releases are links on an HTML page — a directory listing
//! (Apache, nginx, lighttpd autoindex) or a download page — and each ISO's digest comes
//! from a checksum file next to it that the recipe names.
//!
//! ```toml
//! [watch]
//! kind = "html-index"
//! url = "https://download.manjaro.org/kde/25.0.10/"
//! pattern = '^manjaro-kde-(?P<version>[0-9.]+)-[0-9]+-linux[0-9]+\.iso$'
//! checksum = "{name}.sha256"       # or "sha256sums.txt", or "none" when there is none
//! ```
//!
//! With `dir_pattern`, `url` is an index of version directories (Arch's `iso/` with
//! `2026.12.01/`): the newest `max_dirs` matching directories are listed in turn, and a
//! directory that answers 404 is skipped.
//!
//! [`candidates`] fetches each page (capped at [`MAX_PAGE_BYTES`]) through [`Feeds`] (the
//! shared fetcher, conditionally on kept copies), takes the `href` of every `<a>` (parsed as a browser would, so comments
//! and scripts yield nothing), resolves it against the page's *upstream* URL, and keeps the
//! links whose file name matches `pattern`. A checksum file answering 404 leaves its ISO out
//! (not published completely yet); `checksum = "none"` yields unverified candidates that
//! can be watched but not built. A page without any link is an error, never "nothing new".
//! A listing's dates are not parsed: each candidate's `published_at` is the `Last-Modified`
//! of the page that links it.
//!
//! `fuzzing` (hidden) holds the harness of the cargo-fuzz target in `fuzz/`, whose corpus
//! replays as an ordinary test.

// Feed errors carry the fetcher's error (both URLs); returned once per check.
#![allow(clippy::result_large_err)]

#[doc(hidden)]
pub mod fuzzing;

use repack_core::{Candidate, Recipe};
use repack_watch_common::dirs::{self, DEFAULT_DIRS, MAX_DIRS};
use repack_watch_common::{
    ChecksumSetting, DigestSource, Entry, FeedError, FeedText, Feeds, MAX_ENTRIES, VersionPattern,
    into_candidates, links, urls,
};
use serde::Deserialize;
use url::Url;

/// Largest page accepted. Listings of a release directory are a few kilobytes; download
/// pages a few hundred.
pub const MAX_PAGE_BYTES: u64 = 8 * 1024 * 1024;

const PAGE: &str = "HTML index";

/// The `[watch]` settings of the `html-index` kind.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, try_from = "RawConfig")]
pub struct Config {
    /// The page listing the ISOs, or with `dir_pattern` the index of version directories.
    pub url: String,
    /// Matched against the file name of each link (decoded); its `version` group gives the
    /// version, an optional `arch` group the upstream's architecture name.
    pub pattern: VersionPattern,
    /// Matched against directory names of the index at `url`.
    pub dir_pattern: Option<VersionPattern>,
    /// How many of the newest version directories are listed.
    pub max_dirs: usize,
    /// Where each ISO's digest is: a checksum file template relative to the ISO, or none.
    pub checksum: ChecksumSetting,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    url: String,
    pattern: VersionPattern,
    dir_pattern: Option<VersionPattern>,
    max_dirs: Option<usize>,
    checksum: ChecksumSetting,
}

impl TryFrom<RawConfig> for Config {
    type Error = String;

    fn try_from(raw: RawConfig) -> Result<Self, String> {
        if !(raw.url.starts_with("http://") || raw.url.starts_with("https://")) {
            return Err(format!("`url = \"{}\"` must be an http(s) URL", raw.url));
        }
        if raw.dir_pattern.is_none() && raw.max_dirs.is_some() {
            return Err("`max_dirs` only applies with `dir_pattern`".to_owned());
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
            max_dirs,
            checksum: raw.checksum,
        })
    }
}

/// Every linked ISO matching the recipe's pattern, in page order (newest directory first
/// when walking an index).
pub async fn candidates(
    config: &Config,
    recipe: &Recipe,
    feeds: Feeds<'_>,
) -> Result<Vec<Candidate>, FeedError> {
    let mut entries = Vec::new();
    match &config.dir_pattern {
        None => {
            let page = fetch_page(feeds, &config.url).await?;
            entries.extend(dated(
                entries_from_page(config, &config.url, &page.body)?,
                &page,
            ));
        }
        Some(dir_pattern) => {
            let index = urls::base(PAGE, &config.url)?;
            let page = fetch_page(feeds, &config.url).await?;
            let all = dirs::version_dirs(&index, &page.body, dir_pattern);
            if all.is_empty() {
                return Err(FeedError::Empty {
                    what: "directory index",
                    url: config.url.clone(),
                });
            }
            for dir in all.iter().take(config.max_dirs) {
                match feeds.text(dir.url.as_str(), MAX_PAGE_BYTES).await {
                    Ok(page) => entries.extend(dated(
                        entries_from_page(config, dir.url.as_str(), &page.body)?,
                        &page,
                    )),
                    Err(error) if error.status() == Some(404) => {
                        tracing::info!(recipe = %recipe.id, url = %dir.url, "version directory answers 404; skipped");
                    }
                    Err(source) => return Err(FeedError::fetch(PAGE, dir.url.as_str())(source)),
                }
            }
        }
    }
    let source = DigestSource::Setting(config.checksum.clone());
    let found = into_candidates(recipe, PAGE, &config.url, entries, &source, feeds).await?;
    tracing::info!(recipe = %recipe.id, url = %config.url, candidates = found.len(), "read HTML index");
    Ok(found)
}

async fn fetch_page(feeds: Feeds<'_>, url: &str) -> Result<FeedText, FeedError> {
    feeds
        .text(url, MAX_PAGE_BYTES)
        .await
        .map_err(FeedError::fetch(PAGE, url))
}

/// The entries of `page`, each published when the page last changed.
fn dated(mut entries: Vec<Entry>, page: &FeedText) -> Vec<Entry> {
    let published_at = page.published_at();
    for entry in &mut entries {
        entry.published_at.clone_from(&published_at);
    }
    entries
}

/// The linked ISOs on one page fetched from `url` whose file names match the pattern, each
/// URL once. A page without any link is [`FeedError::Empty`].
pub fn entries_from_page(config: &Config, url: &str, page: &str) -> Result<Vec<Entry>, FeedError> {
    let base: Url = urls::base(PAGE, url)?;
    let links = links::hrefs(page);
    if links.truncated {
        return Err(FeedError::TooMany {
            what: PAGE,
            url: url.to_owned(),
            limit: links::MAX_LINKS,
        });
    }
    if links.hrefs.is_empty() {
        return Err(FeedError::Empty {
            what: PAGE,
            url: url.to_owned(),
        });
    }
    let mut entries: Vec<Entry> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for href in &links.hrefs {
        let Some(link) = urls::resolve_link(&base, href) else {
            continue;
        };
        let Some(name) = urls::file_name(&link) else {
            continue;
        };
        let Some((version, arch)) = config.pattern.captures(&name) else {
            continue;
        };
        if !seen.insert(link.to_string()) {
            continue;
        }
        if entries.len() == MAX_ENTRIES {
            return Err(FeedError::TooMany {
                what: PAGE,
                url: url.to_owned(),
                limit: MAX_ENTRIES,
            });
        }
        let mut entry = Entry::new(version, name, link);
        entry.upstream_arch = arch;
        entries.push(entry);
    }
    Ok(entries)
}
