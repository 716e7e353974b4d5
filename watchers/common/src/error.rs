//! The one error type of feed reading.

use repack_fetch::FetchError;
use repack_verify::VerifyError;

/// Occurs when a feed cannot be turned into candidates. `what` names the document
/// (`checksum list`, `directory listing`, `JSON feed`, ...), `url` its upstream URL.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FeedError {
    /// Occurs when a document cannot be downloaded (HTTP error, too large, not UTF-8, no
    /// connection); the cause names the URL actually requested.
    #[error("cannot fetch the {what} {url}")]
    Fetch {
        what: &'static str,
        url: String,
        #[source]
        source: FetchError,
    },
    /// Occurs when the server answered with an HTML page (an error, login or maintenance
    /// page served with status 200) where a list or document was expected.
    #[error("{url} returned an HTML page, not a {what}")]
    HtmlPage { what: &'static str, url: String },
    /// Occurs when the document parses but lists nothing at all: an empty feed is a broken
    /// feed, never "nothing new".
    #[error("the {what} {url} lists nothing")]
    Empty { what: &'static str, url: String },
    /// Occurs when the document is not what its kind promises (invalid JSON or YAML, the
    /// selected list is missing, an entry lacks a required field, ...).
    #[error("the {what} {url} is malformed: {detail}")]
    Malformed {
        what: &'static str,
        url: String,
        detail: String,
    },
    /// Occurs when a checksum list has a malformed line, a conflicting duplicate or is too
    /// large.
    #[error("the checksum list {url} is not valid")]
    ChecksumList {
        url: String,
        #[source]
        source: VerifyError,
    },
    /// Occurs when a listed name or link cannot be turned into a URL safely (it would leave
    /// its directory, is not http(s), ...).
    #[error("the {what} {url}: `{value}` is not a usable link: {reason}")]
    BadLink {
        what: &'static str,
        url: String,
        value: String,
        reason: &'static str,
    },
    /// Occurs when a digest in a feed is not 64 hex digits.
    #[error("the {what} {url}: {entry} has `{text}` as its sha256, not 64 hex digits")]
    BadDigest {
        what: &'static str,
        url: String,
        entry: String,
        text: String,
    },
    /// Occurs when a feed yields more entries than [`crate::MAX_ENTRIES`].
    #[error("the {what} {url} yields more than {limit} entries; refusing to go on")]
    TooMany {
        what: &'static str,
        url: String,
        limit: usize,
    },
    /// Occurs when a checksum file the recipe names exists but does not list the ISO.
    #[error("the checksum list {url} has no entry for `{name}`")]
    NotInChecksumList { url: String, name: String },
}

impl FeedError {
    /// A stable, short identifier of the failure (the fetch or checksum-list kind when there
    /// is one), for metrics labels and the catalogue.
    pub fn kind(&self) -> &'static str {
        match self {
            FeedError::Fetch { source, .. } => source.kind(),
            FeedError::HtmlPage { .. } => "feed-html-page",
            FeedError::Empty { .. } => "feed-empty",
            FeedError::Malformed { .. } => "feed-malformed",
            FeedError::ChecksumList { source, .. } => source.kind(),
            FeedError::BadLink { .. } => "feed-bad-link",
            FeedError::BadDigest { .. } => "feed-bad-digest",
            FeedError::TooMany { .. } => "feed-too-many",
            FeedError::NotInChecksumList { .. } => "feed-not-in-checksum-list",
        }
    }

    /// The upstream URL of the document the error is about.
    pub fn url(&self) -> &str {
        match self {
            FeedError::Fetch { url, .. }
            | FeedError::HtmlPage { url, .. }
            | FeedError::Empty { url, .. }
            | FeedError::Malformed { url, .. }
            | FeedError::ChecksumList { url, .. }
            | FeedError::BadLink { url, .. }
            | FeedError::BadDigest { url, .. }
            | FeedError::TooMany { url, .. }
            | FeedError::NotInChecksumList { url, .. } => url,
        }
    }

    /// Wraps a fetch error for the document `what` at `url`.
    pub fn fetch(what: &'static str, url: &str) -> impl FnOnce(FetchError) -> FeedError {
        let url = url.to_owned();
        move |source| FeedError::Fetch { what, url, source }
    }
}
