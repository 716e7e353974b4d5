//! What identifies one version of a remote file (ETag, Last-Modified, size), and the
//! checks that a partial (206) reply continues the same bytes we already have.
//!
//! Servers are not trusted to honour `If-Range` (tower-http's `ServeDir` ignores it), so
//! the client compares validators itself: a strong ETag if both sides have one, otherwise
//! Last-Modified if both sides have one; the total size must agree whenever both know it.
//! When neither side has a usable validator, an unchanged size is accepted: the digest
//! check at the end still refuses a file stitched from two versions (it is then
//! quarantined and the next call downloads from scratch).

use reqwest::header::{CONTENT_LENGTH, CONTENT_RANGE, ETAG, HeaderMap, LAST_MODIFIED};
use serde::{Deserialize, Serialize};

/// Validators of one representation, as sent by the server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// Full size of the file.
    pub total: Option<u64>,
}

impl Validators {
    /// Validators of a 200 reply (total from `Content-Length`).
    pub fn from_full_reply(headers: &HeaderMap) -> Validators {
        Validators {
            etag: header_text(headers, ETAG),
            last_modified: header_text(headers, LAST_MODIFIED),
            total: header_text(headers, CONTENT_LENGTH).and_then(|v| v.parse().ok()),
        }
    }

    /// Validators of a 206 reply (total from `Content-Range`).
    pub fn from_partial_reply(headers: &HeaderMap, range: &ContentRange) -> Validators {
        Validators {
            etag: header_text(headers, ETAG),
            last_modified: header_text(headers, LAST_MODIFIED),
            total: range.total,
        }
    }

    fn strong_etag(&self) -> Option<&str> {
        self.etag.as_deref().filter(|etag| !etag.starts_with("W/"))
    }

    /// The value to send as `If-Range`: a strong ETag, else Last-Modified.
    pub fn if_range(&self) -> Option<&str> {
        self.strong_etag().or(self.last_modified.as_deref())
    }

    /// Why `now` (from a partial reply) is not the representation we saved, if it is not.
    pub fn mismatch(&self, now: &Validators) -> Option<String> {
        if let (Some(saved), Some(now)) = (self.total, now.total)
            && saved != now
        {
            return Some(format!("size changed from {saved} to {now} bytes"));
        }
        match (self.strong_etag(), now.strong_etag()) {
            (Some(saved), Some(now)) if saved != now => {
                return Some(format!("ETag changed from {saved} to {now}"));
            }
            (Some(_), Some(_)) => return None,
            _ => {}
        }
        match (&self.last_modified, &now.last_modified) {
            (Some(saved), Some(now)) if saved != now => {
                Some(format!("Last-Modified changed from {saved} to {now}"))
            }
            (Some(_), Some(_)) => None,
            _ if self.total.is_some() && now.total.is_some() => None,
            _ => Some("the server sent no validator to prove the file is unchanged".to_owned()),
        }
    }
}

/// A parsed `Content-Range: bytes first-last/total` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ContentRange {
    pub first: u64,
    pub last: u64,
    pub total: Option<u64>,
}

impl ContentRange {
    pub fn from_headers(headers: &HeaderMap) -> Option<ContentRange> {
        ContentRange::parse(&header_text(headers, CONTENT_RANGE)?)
    }

    /// Parses `bytes 100-199/1000` or `bytes 100-199/*`; anything else is `None`.
    pub fn parse(text: &str) -> Option<ContentRange> {
        let spec = text.trim().strip_prefix("bytes ")?.trim_start();
        let (range, total) = spec.split_once('/')?;
        let (first, last) = range.split_once('-')?;
        let first: u64 = first.trim().parse().ok()?;
        let last: u64 = last.trim().parse().ok()?;
        let total = match total.trim() {
            "*" => None,
            number => Some(number.parse::<u64>().ok()?),
        };
        if last < first || total.is_some_and(|total| last >= total) {
            return None;
        }
        Some(ContentRange { first, last, total })
    }

    /// Why this range is not the rest of the file starting at `offset`, if it is not.
    pub fn mismatch(&self, offset: u64) -> Option<String> {
        if self.first != offset {
            return Some(format!(
                "Content-Range starts at byte {} but byte {offset} was asked for",
                self.first
            ));
        }
        match self.total {
            Some(total) if self.last + 1 != total => Some(format!(
                "Content-Range ends at byte {} of {total}, not at the end",
                self.last
            )),
            _ => None,
        }
    }
}

pub(crate) fn header_text(
    headers: &HeaderMap,
    name: reqwest::header::HeaderName,
) -> Option<String> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(|value| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(etag: Option<&str>, modified: Option<&str>, total: Option<u64>) -> Validators {
        Validators {
            etag: etag.map(str::to_owned),
            last_modified: modified.map(str::to_owned),
            total,
        }
    }

    #[test]
    fn content_range_parses_and_rejects_nonsense() {
        assert_eq!(
            ContentRange::parse("bytes 100-199/200"),
            Some(ContentRange {
                first: 100,
                last: 199,
                total: Some(200)
            })
        );
        assert_eq!(ContentRange::parse("bytes 5-9/*").unwrap().total, None);
        for bad in [
            "bytes 9-5/10",
            "bytes 0-10/10",
            "items 0-1/2",
            "bytes */10",
            "bytes 1-2",
            "",
        ] {
            assert_eq!(ContentRange::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn content_range_must_continue_at_the_offset_to_the_end() {
        let range = ContentRange::parse("bytes 100-199/200").unwrap();
        assert!(range.mismatch(100).is_none());
        assert!(range.mismatch(0).is_some());
        assert!(
            ContentRange::parse("bytes 100-150/200")
                .unwrap()
                .mismatch(100)
                .is_some()
        );
    }

    #[test]
    fn strong_etag_decides_when_both_have_one() {
        let saved = v(Some("\"a\""), Some("Mon"), Some(10));
        assert!(
            saved
                .mismatch(&v(Some("\"a\""), Some("Tue"), Some(10)))
                .is_none()
        );
        assert!(
            saved
                .mismatch(&v(Some("\"b\""), Some("Mon"), Some(10)))
                .is_some()
        );
    }

    #[test]
    fn last_modified_decides_without_strong_etags() {
        let saved = v(Some("W/\"a\""), Some("Mon"), Some(10));
        assert!(
            saved
                .mismatch(&v(Some("W/\"b\""), Some("Mon"), Some(10)))
                .is_none()
        );
        assert!(saved.mismatch(&v(None, Some("Tue"), Some(10))).is_some());
    }

    #[test]
    fn size_change_is_always_a_mismatch_and_no_validator_at_all_is_one() {
        let saved = v(Some("\"a\""), None, Some(10));
        assert!(saved.mismatch(&v(Some("\"a\""), None, Some(11))).is_some());
        assert!(v(None, None, None).mismatch(&v(None, None, None)).is_some());
        assert!(
            v(None, None, Some(5))
                .mismatch(&v(None, None, Some(5)))
                .is_none()
        );
    }

    #[test]
    fn if_range_prefers_a_strong_etag() {
        assert_eq!(
            v(Some("\"a\""), Some("Mon"), None).if_range(),
            Some("\"a\"")
        );
        assert_eq!(
            v(Some("W/\"a\""), Some("Mon"), None).if_range(),
            Some("Mon")
        );
        assert_eq!(v(None, None, None).if_range(), None);
    }
}
