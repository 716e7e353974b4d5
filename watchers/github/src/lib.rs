//! The `github` watcher: releases of a GitHub repository, read from the REST API
//! (`GET /repos/{owner}/{repo}/releases?per_page=100`, following `Link: <…>; rel="next"`).
//!
//! ```toml
//! [watch]
//! kind = "github"
//! repo = "example-os/live-iso"
//! tag_pattern = '^v?(?P<version>[0-9][0-9.]*)$'   # the default
//! asset_pattern = '^example-os-[0-9.]+-(?P<arch>x86_64|aarch64)\.iso$'
//! checksum_asset = "{name}.sha256"                 # only for assets without a digest
//! ```
//!
//! A release's tag gives the version (through `tag_pattern`); each asset whose name matches
//! `asset_pattern` is a candidate. The digest is the asset's `digest` field
//! (`sha256:<hex>`, which GitHub computes on upload) when present, else the checksum asset
//! the recipe names in the same release; an asset with neither is left out. Drafts are
//! never candidates; pre-releases are returned marked as such, and `repack-watch` drops them
//! unless the recipe sets `prerelease = true`.
//!
//! The API base (`api`, default [`DEFAULT_API`]) is configurable so tests and GitHub
//! Enterprise can point elsewhere. An [`ApiToken`] handed in by the caller is sent as a
//! bearer token to that origin only (never to a `Link` elsewhere), marked sensitive, and
//! never printed. Pages are capped at [`MAX_PAGE_BYTES`], [`MAX_PAGES`] pages are read.
//!
//! The API needs request headers (`Accept`, the token) and a response header (`Link`) the
//! shared [`Fetcher`]'s document requests do not carry, so it is read with a client built
//! from the fetcher's settings (user agent, timeouts, mirror rewrites, no redirects), one
//! attempt per page, each holding a slot of the fetcher's per-host limit
//! ([`Fetcher::host_permit`]).
//!
//! API pages are conditional like every other feed document: with a feed cache, each page
//! is kept by its URL together with its validators and the next page's URL its `Link`
//! header named ([`StoredFeed::next_url`]), and the next check sends `If-None-Match` (and
//! `If-Modified-Since`). GitHub answers an unchanged page with 304, which reads no body
//! and, for a request with a token, does not count against the primary rate limit (GitHub's
//! "Best practices for using the REST API"). The kept body is parsed again and the walk
//! goes on to the kept next page: a 304 need not repeat the `Link` header, so the header of
//! the 200 that carried the body is what counts. A 200 replaces the copy, next page
//! included, so a page that changed (a new release shifts every page after it) is read
//! whole. The token rule is applied to every page URL, kept ones too. Checksum assets go
//! through [`Feeds`] (conditional on kept copies).

// Feed errors carry the fetcher's error (both URLs); returned once per check.
#![allow(clippy::result_large_err)]

use repack_core::{Candidate, Recipe, Sha256Digest};
use repack_fetch::{FetchError, Fetcher};
use repack_watch_common::{
    ChecksumSetting, DigestSource, Entry, FeedError, Feeds, NamePattern, StoredFeed,
    VersionPattern, into_candidates, text, urls,
};
use reqwest::StatusCode;
use reqwest::header::{
    ACCEPT, AUTHORIZATION, ETAG, HeaderMap, HeaderName, HeaderValue, IF_MODIFIED_SINCE,
    IF_NONE_MATCH, LAST_MODIFIED, LINK,
};
use serde::Deserialize;
use std::fmt;
use url::Url;

/// GitHub's public API.
pub const DEFAULT_API: &str = "https://api.github.com";

/// Largest page of releases accepted. A page of 100 releases with long notes is a few MB.
pub const MAX_PAGE_BYTES: u64 = 16 * 1024 * 1024;

/// Most pages read (of [`PER_PAGE`] releases each): the newest 1000 releases.
pub const MAX_PAGES: usize = 10;

/// Releases asked for per page (the API's maximum).
pub const PER_PAGE: usize = 100;

const WHAT: &str = "GitHub releases";

/// A GitHub API token. Its text is only ever put in an `Authorization` header (marked
/// sensitive); `Debug` prints `<redacted>` and there is no `Display`.
#[derive(Clone)]
pub struct ApiToken(String);

impl ApiToken {
    /// Wraps a token; `None` for an empty or blank one.
    pub fn new(token: impl Into<String>) -> Option<ApiToken> {
        let token = token.into();
        let token = token.trim();
        (!token.is_empty()).then(|| ApiToken(token.to_owned()))
    }
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiToken(<redacted>)")
    }
}

/// The `[watch]` settings of the `github` kind.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, try_from = "RawConfig")]
pub struct Config {
    /// `owner/name`.
    pub repo: String,
    /// The API base URL, without a trailing slash.
    pub api: String,
    /// Matched against tag names; its `version` group gives the version.
    pub tag_pattern: VersionPattern,
    /// Matched against asset names; an optional `arch` group gives the upstream arch.
    pub asset_pattern: NamePattern,
    /// A checksum asset of the same release, for assets the API gives no digest for.
    pub checksum_asset: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    repo: String,
    api: Option<String>,
    tag_pattern: Option<VersionPattern>,
    asset_pattern: NamePattern,
    checksum_asset: Option<String>,
}

impl TryFrom<RawConfig> for Config {
    type Error = String;

    fn try_from(raw: RawConfig) -> Result<Self, String> {
        let parts: Vec<&str> = raw.repo.split('/').collect();
        let valid_part = |part: &str| {
            !part.is_empty()
                && part != "."
                && part != ".."
                && part
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        };
        if parts.len() != 2 || !parts.iter().all(|part| valid_part(part)) {
            return Err(format!("`repo = \"{}\"` must be `owner/name`", raw.repo));
        }
        let api = raw.api.unwrap_or_else(|| DEFAULT_API.to_owned());
        if !(api.starts_with("http://") || api.starts_with("https://")) || Url::parse(&api).is_err()
        {
            return Err(format!("`api = \"{api}\"` must be an http(s) URL"));
        }
        if let Some(template) = &raw.checksum_asset {
            urls::check_template(template)?;
            if template.contains('/') {
                return Err(format!(
                    "`checksum_asset = \"{template}\"` names an asset of the same release, without `/`"
                ));
            }
        }
        let tag_pattern = match raw.tag_pattern {
            Some(pattern) => pattern,
            None => VersionPattern::new(r"^v?(?P<version>[0-9][0-9A-Za-z.~+-]*)$")?,
        };
        Ok(Config {
            repo: raw.repo,
            api: api.trim_end_matches('/').to_owned(),
            tag_pattern,
            asset_pattern: raw.asset_pattern,
            checksum_asset: raw.checksum_asset,
        })
    }
}

impl Config {
    /// The first page's URL.
    pub fn releases_url(&self) -> String {
        format!(
            "{}/repos/{}/releases?per_page={PER_PAGE}",
            self.api, self.repo
        )
    }
}

/// One release as the API gives it (only the fields used).
#[derive(Debug, Deserialize)]
struct Release {
    tag_name: String,
    #[serde(default)]
    draft: bool,
    #[serde(default)]
    prerelease: bool,
    published_at: Option<String>,
    #[serde(default)]
    assets: Vec<Asset>,
}

#[derive(Debug, Deserialize)]
struct Asset {
    name: String,
    browser_download_url: String,
    size: Option<u64>,
    digest: Option<String>,
}

/// Every matching asset of every release (drafts left out), newest page first.
pub async fn candidates(
    config: &Config,
    recipe: &Recipe,
    feeds: Feeds<'_>,
    token: Option<&ApiToken>,
) -> Result<Vec<Candidate>, FeedError> {
    let fetcher = feeds.fetcher;
    let client = client(fetcher)?;
    let api_origin = Url::parse(&config.api)
        .map(|url| url.origin())
        .map_err(|_| bad_url(&config.api))?;
    let first = config.releases_url();
    let mut next = Some(first.clone());
    let mut entries = Vec::new();
    let mut releases_seen = 0usize;
    let mut pages = 0usize;
    while let Some(url) = next.take() {
        if pages == MAX_PAGES {
            tracing::info!(recipe = %recipe.id, url = %first, pages, "stopped after the newest pages of releases");
            break;
        }
        pages += 1;
        let page_url = Url::parse(&url).map_err(|_| bad_url(&url))?;
        let send_token = page_url.origin() == api_origin;
        let page = read_page(&client, feeds, &url, token.filter(|_| send_token)).await?;
        let (page_entries, count) = entries_from_page(config, &url, &page.body)?;
        releases_seen += count;
        entries.extend(page_entries);
        next = page.next_url;
    }
    if releases_seen == 0 {
        return Err(FeedError::Empty {
            what: WHAT,
            url: first,
        });
    }
    let source = match &config.checksum_asset {
        Some(template) => DigestSource::Setting(ChecksumSetting::File(template.clone())),
        None => DigestSource::Feed,
    };
    let found = into_candidates(recipe, WHAT, &first, entries, &source, feeds).await?;
    tracing::info!(recipe = %recipe.id, url = %first, releases = releases_seen, candidates = found.len(), "read GitHub releases");
    Ok(found)
}

/// The matching assets of one page of releases fetched from `url`, and how many releases
/// the page had. Assets without a digest are kept only when the recipe names a checksum
/// asset.
pub fn entries_from_page(
    config: &Config,
    url: &str,
    body: &str,
) -> Result<(Vec<Entry>, usize), FeedError> {
    let body = text::document(WHAT, url, body)?;
    let releases: Vec<Release> =
        serde_json::from_str(body).map_err(|error| FeedError::Malformed {
            what: WHAT,
            url: url.to_owned(),
            detail: format!("not a list of releases: {error}"),
        })?;
    let mut entries = Vec::new();
    for release in &releases {
        if release.draft {
            continue;
        }
        let Some((version, _)) = config.tag_pattern.captures(&release.tag_name) else {
            continue;
        };
        for asset in &release.assets {
            let Some(captured) = config.asset_pattern.captures(&asset.name) else {
                continue;
            };
            let link = Url::parse(&asset.browser_download_url)
                .ok()
                .filter(|link| matches!(link.scheme(), "http" | "https"))
                .ok_or_else(|| FeedError::BadLink {
                    what: WHAT,
                    url: url.to_owned(),
                    value: asset.browser_download_url.clone(),
                    reason: "not an http(s) URL",
                })?;
            let name = urls::file_name(&link).unwrap_or_else(|| asset.name.clone());
            let mut entry = Entry::new(version.clone(), name, link);
            entry.upstream_arch = captured.arch;
            entry.size = asset.size;
            entry.published_at = release
                .published_at
                .as_deref()
                .and_then(repack_watch_common::published_at);
            entry.prerelease = release.prerelease;
            match asset.digest.as_deref() {
                Some(digest) => {
                    entry.sha256 =
                        Some(parse_digest(digest).ok_or_else(|| FeedError::BadDigest {
                            what: WHAT,
                            url: url.to_owned(),
                            entry: format!("asset `{}` of {}", asset.name, release.tag_name),
                            text: digest.chars().take(80).collect(),
                        })?);
                }
                None if config.checksum_asset.is_none() => {
                    tracing::info!(tag = %release.tag_name, asset = %asset.name, "asset has no digest and the recipe names no checksum asset; left out");
                    continue;
                }
                None => {}
            }
            entries.push(entry);
        }
    }
    Ok((entries, releases.len()))
}

/// `sha256:<hex>`; other algorithms are not digests we can check.
fn parse_digest(text: &str) -> Option<Sha256Digest> {
    text.strip_prefix("sha256:")?.parse().ok()
}

/// The `rel="next"` target of a `Link` header.
pub fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        params
            .split(';')
            .any(|param| {
                let param = param.trim().replace(' ', "");
                param == "rel=\"next\"" || param == "rel=next"
            })
            .then(|| target.to_owned())
    })
}

fn bad_url(url: &str) -> FeedError {
    FeedError::BadLink {
        what: WHAT,
        url: url.to_owned(),
        value: url.to_owned(),
        reason: "not an absolute http(s) URL",
    }
}

fn client(fetcher: &Fetcher) -> Result<reqwest::Client, FeedError> {
    let config = fetcher.config();
    reqwest::Client::builder()
        .user_agent(config.user_agent.clone())
        .connect_timeout(config.connect_timeout)
        .read_timeout(config.read_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|source| FeedError::Fetch {
            what: WHAT,
            url: DEFAULT_API.to_owned(),
            source: FetchError::Client { source },
        })
}

/// One page of releases, through the feed cache: conditional on the kept copy if there is
/// one (a 304 gives back the kept body and next page, and notes the copy as confirmed), else
/// read whole and kept when the reply had a validator.
async fn read_page(
    client: &reqwest::Client,
    feeds: Feeds<'_>,
    url: &str,
    token: Option<&ApiToken>,
) -> Result<StoredFeed, FeedError> {
    let kept = feeds.kept(url, MAX_PAGE_BYTES).await;
    match get_page(client, feeds.fetcher, url, token, kept.as_ref()).await? {
        Page::NotModified => {
            let kept = kept.expect("a request is conditional only with a kept copy");
            feeds.confirmed(url).await;
            Ok(kept)
        }
        Page::Modified(page) => {
            feeds.keep(url, &page).await;
            Ok(page)
        }
    }
}

/// What the API answered for one page.
enum Page {
    /// A 200: the body (capped), its validators and the `rel="next"` target of its `Link`.
    Modified(StoredFeed),
    /// A 304 to a request made conditional on a kept copy: no body was read.
    NotModified,
}

/// One page, conditional on `kept`'s validators when there is a kept copy.
async fn get_page(
    client: &reqwest::Client,
    fetcher: &Fetcher,
    url: &str,
    token: Option<&ApiToken>,
    kept: Option<&StoredFeed>,
) -> Result<Page, FeedError> {
    let mirror_url = fetcher.mirror_url(url);
    let fail = |source: FetchError| FeedError::Fetch {
        what: WHAT,
        url: url.to_owned(),
        source,
    };
    let mut request = client
        .get(&mirror_url)
        .header(ACCEPT, "application/vnd.github+json")
        .header("X-GitHub-Api-Version", "2022-11-28");
    if let Some(token) = token {
        let mut value = HeaderValue::from_str(&format!("Bearer {}", token.0)).map_err(|_| {
            fail(FetchError::Protocol {
                url: url.to_owned(),
                mirror_url: mirror_url.clone(),
                detail: "the API token is not a valid header value".to_owned(),
            })
        })?;
        value.set_sensitive(true);
        request = request.header(AUTHORIZATION, value);
    }
    let mut conditional = false;
    if let Some(kept) = kept {
        for (name, value) in [
            (IF_NONE_MATCH, &kept.etag),
            (IF_MODIFIED_SINCE, &kept.last_modified),
        ] {
            // A kept validator that is not a valid header value is not sent (it came from a
            // header, so this does not happen unless the store was edited).
            if let Some(value) = value.as_deref().and_then(|v| HeaderValue::from_str(v).ok()) {
                request = request.header(name, value);
                conditional = true;
            }
        }
    }
    let _permit = fetcher.host_permit(url).await;
    tracing::info!(%url, %mirror_url, authenticated = token.is_some(), conditional, "fetching GitHub releases");
    let mut response = request.send().await.map_err(|source| {
        fail(FetchError::Connect {
            url: url.to_owned(),
            mirror_url: mirror_url.clone(),
            attempts: 1,
            source,
        })
    })?;
    let status = response.status();
    if status == StatusCode::NOT_MODIFIED && conditional {
        // A 304 has no body (RFC 9110, 15.4.5); nothing more is read.
        return Ok(Page::NotModified);
    }
    if !status.is_success() {
        return Err(fail(FetchError::Status {
            url: url.to_owned(),
            mirror_url,
            status: status.as_u16(),
            attempts: 1,
        }));
    }
    let header = |headers: &HeaderMap, name: HeaderName| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    let next_url = header(response.headers(), LINK)
        .as_deref()
        .and_then(next_link);
    let etag = header(response.headers(), ETAG);
    let last_modified = header(response.headers(), LAST_MODIFIED);
    let too_large = || {
        fail(FetchError::TooLarge {
            url: url.to_owned(),
            mirror_url: mirror_url.clone(),
            limit: MAX_PAGE_BYTES,
        })
    };
    if response
        .content_length()
        .is_some_and(|len| len > MAX_PAGE_BYTES)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if (body.len() + chunk.len()) as u64 > MAX_PAGE_BYTES {
                    return Err(too_large());
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(source) => {
                return Err(fail(FetchError::Interrupted {
                    url: url.to_owned(),
                    mirror_url: mirror_url.clone(),
                    offset: body.len() as u64,
                    attempts: 1,
                    detail: "the body broke off".to_owned(),
                    source: Some(source),
                }));
            }
        }
    }
    let body = String::from_utf8(body).map_err(|error| {
        fail(FetchError::NotUtf8 {
            url: url.to_owned(),
            mirror_url: mirror_url.clone(),
            valid_up_to: error.utf8_error().valid_up_to(),
        })
    })?;
    Ok(Page::Modified(StoredFeed {
        etag,
        last_modified,
        next_url,
        body,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_link_is_found_among_others() {
        let header = r#"<https://api.github.com/repositories/1/releases?per_page=100&page=2>; rel="next", <https://api.github.com/repositories/1/releases?per_page=100&page=5>; rel="last""#;
        assert_eq!(
            next_link(header).as_deref(),
            Some("https://api.github.com/repositories/1/releases?per_page=100&page=2")
        );
        assert_eq!(next_link(r#"<https://a/x?page=1>; rel="prev""#), None);
        assert_eq!(next_link("garbage"), None);
    }

    #[test]
    fn tokens_never_print() {
        let token = ApiToken::new("ghp_secret").unwrap();
        assert_eq!(format!("{token:?}"), "ApiToken(<redacted>)");
        assert!(ApiToken::new("  ").is_none());
    }

    #[test]
    fn digests_must_be_sha256() {
        assert!(parse_digest(&format!("sha256:{}", "a".repeat(64))).is_some());
        assert!(parse_digest(&format!("sha512:{}", "a".repeat(128))).is_none());
        assert!(parse_digest("sha256:xyz").is_none());
    }
}
