//! The `checksums` watcher: an upstream publishes a `SHA256SUMS`-style list next to its
//! ISOs, and every listed file whose name matches the recipe's pattern is a release.
//!
//! [`candidates`] fetches the list (capped at [`MAX_LIST_BYTES`]) through the shared
//! [`Fetcher`], parses it with `repack-verify`, keeps the names matching the recipe's
//! `pattern` (its `version` group gives the version) and resolves each ISO URL relative to
//! the list's *upstream* URL — mirror rewrites are the fetcher's business, so candidates
//! always carry upstream URLs. [`candidates_from_list`] is the same without the network.
//!
//! Like every watcher it only fetches and parses, and returns every candidate: choosing the
//! newest, and treating "nothing matched" as an error, is `repack-watch`'s job. It refuses an
//! HTML page served with status 200 in place of the list, an empty list, and names that would
//! resolve outside the list's directory.

// Errors carry both URLs, both digests and paths so that a person can act on them. They are
// returned once per download or check, never in a loop, so their size costs nothing.
#![allow(clippy::result_large_err)]

use regex::Regex;
use repack_core::{Candidate, Recipe};
use repack_fetch::{FetchError, Fetcher};
use repack_verify::{ChecksumList, VerifyError, parse_checksum_list};
use url::Url;

/// Largest checksum list accepted. Real ones are a few kilobytes.
pub const MAX_LIST_BYTES: u64 = 4 * 1024 * 1024;

/// Occurs when the checksum list cannot be turned into candidates.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChecksumsError {
    /// Occurs when the list cannot be downloaded (HTTP error, too large, not UTF-8, ...).
    #[error("cannot fetch the checksum list {url}")]
    Fetch {
        url: String,
        #[source]
        source: FetchError,
    },
    /// Occurs when the server answered with an HTML page (an error or login page served
    /// with status 200) instead of a checksum list.
    #[error("{url} returned an HTML page, not a checksum list")]
    HtmlPage { url: String },
    /// Occurs when the list has a malformed line, a conflicting duplicate or is too large.
    #[error("checksum list {url} is not valid")]
    Parse {
        url: String,
        #[source]
        source: VerifyError,
    },
    /// Occurs when the list parses but names no file at all.
    #[error("checksum list {url} lists no files")]
    EmptyList { url: String },
    /// Occurs when the recipe's pattern is not a regular expression with a `version` group.
    #[error("watch pattern `{pattern}` is not usable: {reason}")]
    BadPattern { pattern: String, reason: String },
    /// Occurs when the list URL is not an absolute URL with a path.
    #[error("checksum list URL `{url}` cannot be a base for ISO URLs")]
    BadListUrl { url: String },
    /// Occurs when a matching name would resolve outside the list's directory
    /// (`..`, empty segments, backslashes).
    #[error("checksum list {url} line {line}: file name `{name}` is not a plain relative path")]
    UnsafeName {
        url: String,
        line: usize,
        name: String,
    },
}

impl ChecksumsError {
    /// A stable, short identifier of the failure (the underlying fetch or parse kind when
    /// there is one), for metrics labels and the catalogue.
    pub fn kind(&self) -> &'static str {
        match self {
            ChecksumsError::Fetch { source, .. } => source.kind(),
            ChecksumsError::HtmlPage { .. } => "checksums-html-page",
            ChecksumsError::Parse { source, .. } => source.kind(),
            ChecksumsError::EmptyList { .. } => "checksums-empty-list",
            ChecksumsError::BadPattern { .. } => "checksums-bad-pattern",
            ChecksumsError::BadListUrl { .. } => "checksums-bad-list-url",
            ChecksumsError::UnsafeName { .. } => "checksums-unsafe-name",
        }
    }
}

/// Fetches the checksum list at `url` and returns a candidate for every listed file whose
/// name matches `pattern`, in list order. An empty vector means the list was fine but
/// nothing matched.
pub async fn candidates(
    recipe: &Recipe,
    url: &str,
    pattern: &str,
    fetcher: &Fetcher,
) -> Result<Vec<Candidate>, ChecksumsError> {
    // Check what does not need the network first.
    compile_pattern(pattern)?;
    base_url(url)?;
    let text = fetcher
        .fetch_text(url, MAX_LIST_BYTES)
        .await
        .map_err(|source| ChecksumsError::Fetch {
            url: url.to_owned(),
            source,
        })?;
    let found = candidates_from_list(recipe, url, pattern, &text)?;
    tracing::info!(recipe = %recipe.id, %url, candidates = found.len(), "read checksum list");
    Ok(found)
}

/// [`candidates`] over a list already fetched from `url`.
pub fn candidates_from_list(
    recipe: &Recipe,
    url: &str,
    pattern: &str,
    text: &str,
) -> Result<Vec<Candidate>, ChecksumsError> {
    let regex = compile_pattern(pattern)?;
    let base = base_url(url)?;
    if looks_like_html(text) {
        return Err(ChecksumsError::HtmlPage {
            url: url.to_owned(),
        });
    }
    let list: ChecksumList = parse_checksum_list(text).map_err(|source| ChecksumsError::Parse {
        url: url.to_owned(),
        source,
    })?;
    if list.is_empty() {
        return Err(ChecksumsError::EmptyList {
            url: url.to_owned(),
        });
    }
    let mut found = Vec::new();
    for entry in list.entries() {
        let Some(version) = regex
            .captures(&entry.name)
            .and_then(|captures| captures.name("version"))
            .map(|version| version.as_str())
            .filter(|version| !version.is_empty())
        else {
            continue;
        };
        let unsafe_name = || ChecksumsError::UnsafeName {
            url: url.to_owned(),
            line: entry.line,
            name: entry.name.clone(),
        };
        let iso_url = resolve(&base, &entry.name).ok_or_else(unsafe_name)?;
        let iso_name = entry.name.rsplit('/').next().unwrap_or(&entry.name);
        found.push(Candidate {
            recipe: recipe.id.clone(),
            version: version.to_owned(),
            arch: recipe.arch,
            iso_url: iso_url.into(),
            iso_name: iso_name.to_owned(),
            sha256: entry.sha256,
        });
    }
    Ok(found)
}

fn compile_pattern(pattern: &str) -> Result<Regex, ChecksumsError> {
    let bad = |reason: String| ChecksumsError::BadPattern {
        pattern: pattern.to_owned(),
        reason,
    };
    let regex = Regex::new(pattern).map_err(|error| bad(error.to_string()))?;
    if !regex
        .capture_names()
        .flatten()
        .any(|name| name == "version")
    {
        return Err(bad("it has no `(?P<version>...)` group".to_owned()));
    }
    Ok(regex)
}

fn base_url(url: &str) -> Result<Url, ChecksumsError> {
    Url::parse(url)
        .ok()
        .filter(|base| matches!(base.scheme(), "http" | "https") && !base.cannot_be_a_base())
        .ok_or_else(|| ChecksumsError::BadListUrl {
            url: url.to_owned(),
        })
}

/// The URL of `name` (a relative path as listed) in the directory of the list at `base`.
/// Each segment is percent-encoded, so `?`, `#`, `%` and spaces stay part of the name;
/// `None` for names that could leave the directory.
fn resolve(base: &Url, name: &str) -> Option<Url> {
    let segments: Vec<&str> = name.split('/').collect();
    if segments
        .iter()
        .any(|segment| matches!(*segment, "" | "." | "..") || segment.contains('\\'))
    {
        return None;
    }
    let mut url = base.clone();
    url.set_query(None);
    url.set_fragment(None);
    {
        let mut path = url.path_segments_mut().ok()?;
        path.pop();
        path.extend(segments);
    }
    Some(url)
}

/// A checksum list never starts with `<`; an HTML or XML page always does.
fn looks_like_html(text: &str) -> bool {
    text.trim_start_matches('\u{feff}')
        .trim_start()
        .starts_with('<')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_in_the_list_directory_with_encoding() {
        let base = Url::parse("https://cd.example/live/12/SHA256SUMS?x=1#f").unwrap();
        let cases = [
            ("a.iso", "https://cd.example/live/12/a.iso"),
            ("sub/a b.iso", "https://cd.example/live/12/sub/a%20b.iso"),
            ("a#1?.iso", "https://cd.example/live/12/a%231%3F.iso"),
            ("100%.iso", "https://cd.example/live/12/100%25.iso"),
            ("http://evil/x.iso", ""),
        ];
        for (name, expected) in cases {
            let resolved = resolve(&base, name).map(String::from).unwrap_or_default();
            assert_eq!(resolved, expected, "{name}");
        }
        let directory = Url::parse("https://cd.example/live/").unwrap();
        assert_eq!(
            resolve(&directory, "a.iso").unwrap().as_str(),
            "https://cd.example/live/a.iso"
        );
    }

    #[test]
    fn escaping_names_do_not_resolve() {
        let base = Url::parse("https://cd.example/live/SHA256SUMS").unwrap();
        for name in [
            "../a.iso",
            "a/../../b.iso",
            "/etc/a.iso",
            "./a.iso",
            "a\\..\\b",
            "a//b",
        ] {
            assert!(resolve(&base, name).is_none(), "{name}");
        }
    }

    #[test]
    fn html_is_recognised() {
        assert!(looks_like_html("\n  <!DOCTYPE html><html>"));
        assert!(looks_like_html("\u{feff}<html>"));
        assert!(!looks_like_html("abc  a.iso"));
    }
}
