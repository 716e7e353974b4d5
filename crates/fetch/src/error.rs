//! Errors of the fetcher. Each names the upstream URL, the mirror URL actually requested
//! (when a rewrite applied) and what was or was not kept.

use repack_core::Sha256Digest;
use std::fmt;
use std::path::PathBuf;

/// Occurs when a document or an ISO could not be fetched. Temporary failures were already
/// retried (`attempts` says how often it was tried).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// Occurs when the HTTP client cannot be built (TLS backend initialisation).
    #[error("cannot build the HTTP client")]
    Client {
        #[source]
        source: reqwest::Error,
    },
    /// Occurs when a URL (after mirror rewrites) is not an absolute http(s) URL.
    #[error("{}: not an absolute http(s) URL", at(.url, .mirror_url))]
    InvalidUrl { url: String, mirror_url: String },
    /// Occurs when no response arrived: DNS, connection, TLS, or a timeout before the headers.
    #[error("GET {}: no response after {attempts} attempt(s)", at(.url, .mirror_url))]
    Connect {
        url: String,
        mirror_url: String,
        attempts: u32,
        #[source]
        source: reqwest::Error,
    },
    /// Occurs when the server answers with a status other than the expected 2xx.
    #[error("GET {}: server answered HTTP {status} (after {attempts} attempt(s))", at(.url, .mirror_url))]
    Status {
        url: String,
        mirror_url: String,
        status: u16,
        attempts: u32,
    },
    /// Occurs when the body stops before its end (connection dropped, read timeout, short body).
    /// For an ISO the bytes received so far are kept and the next call resumes after them.
    #[error(
        "GET {}: transfer interrupted at byte {offset} after {attempts} attempt(s): {detail}",
        at(.url, .mirror_url)
    )]
    Interrupted {
        url: String,
        mirror_url: String,
        offset: u64,
        attempts: u32,
        detail: String,
        #[source]
        source: Option<reqwest::Error>,
    },
    /// Occurs when a document is larger than the caller's limit; reading stopped there.
    #[error("GET {}: body is larger than the limit of {limit} bytes; nothing was kept", at(.url, .mirror_url))]
    TooLarge {
        url: String,
        mirror_url: String,
        limit: u64,
    },
    /// Occurs when a document is not valid UTF-8.
    #[error("GET {}: body is not UTF-8 text (invalid byte at offset {valid_up_to})", at(.url, .mirror_url))]
    NotUtf8 {
        url: String,
        mirror_url: String,
        valid_up_to: usize,
    },
    /// Occurs when the server's reply breaks HTTP rules in a way a retry cannot fix
    /// (a partial reply to a plain GET, a body longer than announced, ...).
    #[error("GET {}: {detail}", at(.url, .mirror_url))]
    Protocol {
        url: String,
        mirror_url: String,
        detail: String,
    },
    /// Occurs when a complete download does not hash to the digest the checksum list gave.
    /// The file was moved to `quarantined_path`; nothing was left in the cache.
    #[error(
        "{}: downloaded ISO has sha256 {actual} but the checksum list says {expected}; \
         moved to {}, nothing kept in the cache",
        at(.url, .mirror_url),
        .quarantined_path.display()
    )]
    ChecksumMismatch {
        url: String,
        mirror_url: String,
        expected: Sha256Digest,
        actual: Sha256Digest,
        quarantined_path: PathBuf,
    },
    /// Occurs when the cache cannot be written or read.
    #[error("{}: cannot {action} {}", at(.url, .mirror_url), .path.display())]
    Io {
        url: String,
        mirror_url: String,
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl FetchError {
    /// A stable, short identifier of the failure, for metrics labels and the catalogue.
    pub fn kind(&self) -> &'static str {
        match self {
            FetchError::Client { .. } => "fetch-client",
            FetchError::InvalidUrl { .. } => "fetch-invalid-url",
            FetchError::Connect { .. } => "fetch-connect",
            FetchError::Status { .. } => "fetch-http-status",
            FetchError::Interrupted { .. } => "fetch-interrupted",
            FetchError::TooLarge { .. } => "fetch-too-large",
            FetchError::NotUtf8 { .. } => "fetch-not-utf8",
            FetchError::Protocol { .. } => "fetch-protocol",
            FetchError::ChecksumMismatch { .. } => "fetch-checksum-mismatch",
            FetchError::Io { .. } => "fetch-io",
        }
    }

    /// The upstream URL the caller asked for, if the error is about one.
    pub fn url(&self) -> Option<&str> {
        match self {
            FetchError::Client { .. } => None,
            FetchError::InvalidUrl { url, .. }
            | FetchError::Connect { url, .. }
            | FetchError::Status { url, .. }
            | FetchError::Interrupted { url, .. }
            | FetchError::TooLarge { url, .. }
            | FetchError::NotUtf8 { url, .. }
            | FetchError::Protocol { url, .. }
            | FetchError::ChecksumMismatch { url, .. }
            | FetchError::Io { url, .. } => Some(url),
        }
    }

    /// The HTTP status, for [`FetchError::Status`].
    pub fn status(&self) -> Option<u16> {
        match self {
            FetchError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// Formats `url` alone, or `url (mirror: mirror_url)` when a rewrite applied.
fn at<'a>(url: &'a str, mirror_url: &'a str) -> impl fmt::Display + 'a {
    struct At<'a>(&'a str, &'a str);
    impl fmt::Display for At<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            if self.0 == self.1 {
                write!(f, "{}", self.0)
            } else {
                write!(f, "{} (mirror: {})", self.0, self.1)
            }
        }
    }
    At(url, mirror_url)
}
