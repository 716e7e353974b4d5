//! The `json` watcher: an upstream publishes its releases as a JSON document, and the
//! recipe says where the list is, which fields hold what, and which entries it wants.
//!
//! ```toml
//! [watch]
//! kind = "json"
//! url = "https://fedoraproject.org/releases.json"
//! fields = { url = "link", sha256 = "sha256", size = "size", arch = "arch" }
//! filter = { variant = "Workstation", subvariant = "Workstation" }
//! pattern = '^Fedora-Workstation-Live-(?P<version>[0-9]+-[0-9.]+)\.x86_64\.iso$'
//! ```
//!
//! Shapes met so far: Fedora's `releases.json` (a list of `{version, arch, link, variant,
//! subvariant, sha256, size}` with `size` as a string), Arch's releases JSON (`{releases:
//! [{version, release_date, iso_url, sha256_sum, ...}]}` with `iso_url` relative to a
//! mirror: set `base_url`), Pop!_OS's build API (one object `{version, url, sha_sum, size,
//! build, ...}`). The settings and the selection are [`StructuredConfig`] and
//! [`select`], shared with the `yaml` kind.
//!
//! [`candidates`] fetches the document (capped at [`MAX_DOCUMENT_BYTES`]) through [`Feeds`]
//! (the shared fetcher, conditionally on kept copies) and returns every selected release.
//! An HTML page served with status 200, a document that is not JSON, a missing list and an
//! empty list are errors. Publish times come from the document's `date` field only: its
//! `Last-Modified` changes whenever any release is added.

// Feed errors carry the fetcher's error (both URLs); returned once per check.
#![allow(clippy::result_large_err)]

use repack_core::{Candidate, Recipe};
use repack_watch_common::entry::Entry;
use repack_watch_common::select::{StructuredConfig, select, structured_candidates};
use repack_watch_common::{FeedError, Feeds, text};

/// Largest document accepted. Fedora's `releases.json`, the largest known, is ~300 kB.
pub const MAX_DOCUMENT_BYTES: u64 = 8 * 1024 * 1024;

const WHAT: &str = "JSON feed";

/// The `[watch]` settings of the `json` kind.
pub type Config = StructuredConfig;

/// Every release the document lists that passes the recipe's filters and pattern.
pub async fn candidates(
    config: &Config,
    recipe: &Recipe,
    feeds: Feeds<'_>,
) -> Result<Vec<Candidate>, FeedError> {
    structured_candidates(
        config,
        recipe,
        feeds,
        WHAT,
        MAX_DOCUMENT_BYTES,
        entries_from_document,
    )
    .await
}

/// The selected entries of a document already fetched from `config.url`.
pub fn entries_from_document(config: &Config, body: &str) -> Result<Vec<Entry>, FeedError> {
    let body = text::document(WHAT, &config.url, body)?;
    let document: serde_json::Value =
        serde_json::from_str(body).map_err(|error| FeedError::Malformed {
            what: WHAT,
            url: config.url.clone(),
            detail: format!("not JSON: {error}"),
        })?;
    select(config, WHAT, &document)
}
