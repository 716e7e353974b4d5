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
//! newest `max_dirs` *ready* directories whose name matches `dir_pattern` are read, each
//! through its `list` (default `SHA256SUMS`). A directory is not ready while an upstream is
//! still publishing it: its list answers 404, or the recipe signs its lists (`signature`
//! next to the list, e.g. `{list}.gpg`) and that signature answers 404. Such a directory is
//! reported (an info line), yields nothing and does not count: the walk falls back to the
//! next older one, so a half-published release neither fails the check nor fires a build.
//! At most [`MAX_NOT_READY`] directories are passed over in one check. An index without a
//! matching directory, or without a ready one, is an error; so is every other failure.
//! Signatures over the ISO itself (`{name}.sig`) are not looked for here: the pipeline
//! checks them as the ISO downloads.
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
use repack_watch_common::dirs::{self, DEFAULT_DIRS, MAX_DIRS, VersionDir};
use repack_watch_common::{FeedError, FeedText, Feeds, VersionPattern, checksum, text, urls};
use serde::Deserialize;
use std::collections::HashMap;
use url::Url;

/// Largest checksum list accepted. Real ones are a few kilobytes.
pub const MAX_LIST_BYTES: u64 = 4 * 1024 * 1024;

/// Largest index of version directories accepted. Ubuntu's is about 20 kB.
pub const MAX_INDEX_BYTES: u64 = 2 * 1024 * 1024;

/// Largest signature read when looking whether a list's signature is published (the
/// pipeline's cap for detached signatures).
pub const MAX_SIGNATURE_BYTES: u64 = 64 * 1024;

/// Most version directories passed over as not ready in one check before the walk stops.
/// Upstreams publish one release at a time (a point release, perhaps with its codename
/// link); more unfinished directories than this means the recipe's `list` or `signature`
/// names a file the upstream does not publish, and reading older and older directories
/// would not help.
pub const MAX_NOT_READY: usize = 3;

/// Most distinct list signatures looked for in one list (`{version}` in the template gives
/// one per version listed; real lists name one or two versions). Releases past it are
/// kept unlooked-for; the pipeline verifies the one it builds either way.
pub const MAX_SIGNATURES_PER_LIST: usize = 8;

const LIST: &str = "checksum list";
const INDEX: &str = "directory index";
const SIGNATURE: &str = "checksum list signature";

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
    /// How many of the newest ready version directories are read.
    pub max_dirs: usize,
    /// The recipe's `signature` template. Not a key of this kind: it is one of the keys
    /// every kind shares, handed over by the registry when the recipe loads. With it, a
    /// version directory whose list's signature answers 404 is not ready yet.
    pub signature: Option<String>,
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
            signature: None,
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
    let mut not_ready = 0;
    for dir in &all {
        if lists_read == config.max_dirs {
            break;
        }
        if not_ready == MAX_NOT_READY {
            tracing::info!(recipe = %recipe.id, url = %config.url, not_ready, "stopped walking back: too many version directories not ready");
            break;
        }
        match read_dir(config, recipe, feeds, dir).await? {
            Some(listed) => {
                lists_read += 1;
                found.extend(listed);
            }
            None => not_ready += 1,
        }
    }
    if lists_read == 0 {
        return Err(FeedError::Empty {
            what: INDEX,
            url: config.url.clone(),
        });
    }
    tracing::info!(recipe = %recipe.id, url = %config.url, lists_read, not_ready, candidates = found.len(), "read version directories");
    Ok(found)
}

/// The candidates of one version directory, or `None` when it is not ready yet (its list,
/// or its list's signature, answers 404).
async fn read_dir(
    config: &Config,
    recipe: &Recipe,
    feeds: Feeds<'_>,
    dir: &VersionDir,
) -> Result<Option<Vec<Candidate>>, FeedError> {
    let list_url = join(&dir.url, &config.list);
    let list = match feeds.text(&list_url, MAX_LIST_BYTES).await {
        Ok(list) => list,
        Err(error) if error.status() == Some(404) => {
            tracing::info!(recipe = %recipe.id, dir = %dir.url, url = %list_url, "version directory not ready: no checksum list yet (404); falling back to the one before");
            return Ok(None);
        }
        Err(source) => {
            return Err(FeedError::Fetch {
                what: LIST,
                url: list_url,
                source,
            });
        }
    };
    let listed = dated(
        candidates_from_list(config, recipe, &list_url, &list.body)?,
        &list,
    );
    let Some(template) = &config.signature else {
        return Ok(Some(listed));
    };
    let (signed, unsigned) = list_signatures(template, feeds, &list_url, listed).await?;
    if !unsigned.is_empty() {
        let signatures = unsigned.join(", ");
        if signed.is_empty() {
            tracing::info!(recipe = %recipe.id, dir = %dir.url, %signatures, "version directory not ready: its checksum list is not signed yet (404); falling back to the one before");
            return Ok(None);
        }
        tracing::info!(recipe = %recipe.id, dir = %dir.url, %signatures, "releases whose list signature is not published yet (404) are left out");
    }
    Ok(Some(signed))
}

/// Splits `listed` (the candidates of the list at `list_url`) into those whose list
/// signature, by the recipe's `template`, is published and those whose signature answers
/// 404 (returned as the distinct signature URLs). Signatures over the ISO (the template
/// gives a URL starting with the ISO's) and a clearsigned list (the template gives the
/// list itself) are not looked for; each signature is asked for once.
async fn list_signatures(
    template: &str,
    feeds: Feeds<'_>,
    list_url: &str,
    listed: Vec<Candidate>,
) -> Result<(Vec<Candidate>, Vec<String>), FeedError> {
    let mut published: HashMap<String, bool> = HashMap::new();
    let mut capped = false;
    let mut signed = Vec::new();
    let mut unsigned = Vec::new();
    for candidate in listed {
        let Some(url) = urls::signature_url(template, &candidate).map(String::from) else {
            // The policy reports a template that gives no URL; nothing to look for here.
            signed.push(candidate);
            continue;
        };
        if urls::signature_over(&url, &candidate) != urls::SignatureOver::List {
            signed.push(candidate);
            continue;
        }
        let is_published = match published.get(&url) {
            Some(&known) => known,
            None => {
                if published.len() == MAX_SIGNATURES_PER_LIST {
                    // Not looked for: the pipeline still verifies whichever is built.
                    if !capped {
                        tracing::warn!(url = %list_url, limit = MAX_SIGNATURES_PER_LIST, "the signature template names more signatures per list than are looked for");
                        capped = true;
                    }
                    signed.push(candidate);
                    continue;
                }
                let known = match feeds.fetcher.fetch_bytes(&url, MAX_SIGNATURE_BYTES).await {
                    Ok(_) => true,
                    Err(error) if error.status() == Some(404) => false,
                    Err(source) => return Err(FeedError::fetch(SIGNATURE, &url)(source)),
                };
                published.insert(url.clone(), known);
                if !known {
                    unsigned.push(url);
                }
                known
            }
        };
        if is_published {
            signed.push(candidate);
        }
    }
    Ok((signed, unsigned))
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
