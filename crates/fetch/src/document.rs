//! Conditional requests for small documents: a caller that kept a feed's body and its
//! validators asks "has it changed?" and gets the new body, or a 304 and no body at all.
//!
//! The fetcher stores nothing itself: the caller (the watchers, through their feed cache)
//! keeps the body and the [`DocumentValidators`] of the last 200 and hands the validators
//! back. `If-None-Match` carries the ETag exactly as the server sent it (weak ones too: the
//! weak comparison is the one RFC 9110 prescribes for `If-None-Match`), `If-Modified-Since`
//! the `Last-Modified` text unchanged; a server that knows both decides by the ETag.

use crate::fetcher::Fetcher;
use crate::{FetchError, validators};
use reqwest::header::{ETAG, HeaderMap, LAST_MODIFIED};

/// The validators of one version of a document, from the reply that carried its body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocumentValidators {
    /// `ETag`, quotes and `W/` prefix included.
    pub etag: Option<String>,
    /// `Last-Modified`, as the server wrote it (an HTTP date).
    pub last_modified: Option<String>,
}

impl DocumentValidators {
    pub(crate) fn from_headers(headers: &HeaderMap) -> DocumentValidators {
        DocumentValidators {
            etag: validators::header_text(headers, ETAG),
            last_modified: validators::header_text(headers, LAST_MODIFIED),
        }
    }

    /// True when there is nothing to make a request conditional with.
    pub fn is_empty(&self) -> bool {
        self.etag.is_none() && self.last_modified.is_none()
    }
}

/// The answer to a conditional request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conditional<T> {
    /// A 2xx with a body: the document changed (or no validators were sent).
    Modified {
        body: T,
        /// The new validators, to send next time.
        validators: DocumentValidators,
    },
    /// 304 Not Modified: the caller's copy is current. No body was read.
    NotModified,
}

impl Fetcher {
    /// Fetches a small text document like [`fetch_text`](Fetcher::fetch_text), sending
    /// `known` as `If-None-Match` / `If-Modified-Since`. A 304 to such a request is
    /// [`Conditional::NotModified`]; a 304 to an unconditional request (no `known`, or
    /// `known` empty) is an error like any other unexpected status.
    pub async fn fetch_text_if_modified(
        &self,
        url: &str,
        max_bytes: u64,
        known: Option<&DocumentValidators>,
    ) -> Result<Conditional<String>, FetchError> {
        let target = self.target(url)?;
        match self.fetch_bytes_if_modified(url, max_bytes, known).await? {
            Conditional::NotModified => Ok(Conditional::NotModified),
            Conditional::Modified { body, validators } => match String::from_utf8(body) {
                Ok(body) => Ok(Conditional::Modified { body, validators }),
                Err(error) => Err(FetchError::NotUtf8 {
                    url: target.url,
                    mirror_url: target.mirror_url,
                    valid_up_to: error.utf8_error().valid_up_to(),
                }),
            },
        }
    }

    /// [`fetch_text_if_modified`](Fetcher::fetch_text_if_modified) without the UTF-8
    /// requirement.
    pub async fn fetch_bytes_if_modified(
        &self,
        url: &str,
        max_bytes: u64,
        known: Option<&DocumentValidators>,
    ) -> Result<Conditional<Vec<u8>>, FetchError> {
        let target = self.target(url)?;
        tracing::info!(
            url = %target.url,
            mirror_url = %target.mirror_url,
            conditional = known.is_some_and(|known| !known.is_empty()),
            "fetching document"
        );
        self.with_retries(&target, || self.try_fetch_bytes(&target, max_bytes, known))
            .await
    }
}
