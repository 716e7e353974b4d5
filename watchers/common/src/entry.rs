//! One release as a feed lists it, before the digest is settled, and the step that turns
//! entries into [`Candidate`]s with the recipe's checksum source.

use crate::checksum::{ChecksumFiles, ChecksumSetting};
use crate::{FeedError, Feeds, MAX_ENTRIES};
use repack_core::{Candidate, Checksum, Recipe, Sha256Digest};
use url::Url;

/// One release a feed lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub version: String,
    /// The ISO's file name (the last segment of `url`, decoded).
    pub name: String,
    pub url: Url,
    pub upstream_arch: Option<String>,
    /// The digest when the feed itself carries it.
    pub sha256: Option<Sha256Digest>,
    /// The checksum list the digest came from, when the kind read one.
    pub checksum_url: Option<String>,
    pub size: Option<u64>,
    /// When the upstream published the release (RFC 3339 UTC): the feed's own date, or the
    /// `Last-Modified` of the document that lists it.
    pub published_at: Option<String>,
    pub prerelease: bool,
}

impl Entry {
    /// An entry with the required facts; the optional ones start empty.
    pub fn new(version: String, name: String, url: Url) -> Entry {
        Entry {
            version,
            name,
            url,
            upstream_arch: None,
            sha256: None,
            checksum_url: None,
            size: None,
            published_at: None,
            prerelease: false,
        }
    }
}

/// Where the digests of a kind's entries come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DigestSource {
    /// Every entry carries its digest (the kind guarantees it).
    Feed,
    /// The recipe's `checksum` setting.
    Setting(ChecksumSetting),
}

/// Turns entries into candidates of `recipe`. With a checksum file, entries whose file is
/// not published (404) are left out; with `checksum = "none"` they are
/// [`Checksum::Unverified`]. More than [`MAX_ENTRIES`] entries is an error.
pub async fn into_candidates(
    recipe: &Recipe,
    what: &'static str,
    feed_url: &str,
    entries: Vec<Entry>,
    source: &DigestSource,
    feeds: Feeds<'_>,
) -> Result<Vec<Candidate>, FeedError> {
    if entries.len() > MAX_ENTRIES {
        return Err(FeedError::TooMany {
            what,
            url: feed_url.to_owned(),
            limit: MAX_ENTRIES,
        });
    }
    let mut files = ChecksumFiles::new(feeds);
    let mut candidates = Vec::with_capacity(entries.len());
    for entry in entries {
        let (checksum, checksum_url) = match (source, entry.sha256) {
            (_, Some(sha256)) => (Checksum::Sha256(sha256), entry.checksum_url.clone()),
            (DigestSource::Setting(ChecksumSetting::None), None) => (Checksum::Unverified, None),
            (DigestSource::Setting(ChecksumSetting::File(template)), None) => {
                match files
                    .lookup(&entry.url, template, &entry.name, &entry.version)
                    .await?
                {
                    Some(found) => (Checksum::Sha256(found.sha256), Some(found.list_url)),
                    None => continue,
                }
            }
            (DigestSource::Feed, None) => {
                return Err(FeedError::Malformed {
                    what,
                    url: feed_url.to_owned(),
                    detail: format!("`{}` has no sha256", entry.name),
                });
            }
        };
        let mut candidate = Candidate::new(
            recipe.id.clone(),
            entry.version,
            recipe.arch,
            entry.url.to_string(),
            entry.name,
            checksum,
        );
        candidate.upstream_arch = entry.upstream_arch;
        candidate.checksum_url = checksum_url;
        candidate.size = entry.size;
        candidate.published_at = entry.published_at;
        candidate.prerelease = entry.prerelease;
        candidates.push(candidate);
    }
    Ok(candidates)
}
