//! What repack's feed kinds share, so each `repack-watch-<kind>` crate is only its format.
//!
//! - [`Feeds`]: how a kind reads documents: through the shared fetcher, conditionally on the
//!   copy a [`FeedCache`] kept (a 304 reuses the copy, no body is read).
//! - [`FeedError`]: every way reading a feed fails, each naming the URL and what was wrong,
//!   with a stable [`FeedError::kind`].
//! - [`text`]: body hygiene before parsing: a byte-order mark is dropped, an HTML page served
//!   with status 200 in place of a list or document is refused.
//! - [`VersionPattern`] / [`NamePattern`]: the recipe's regular expressions over file names,
//!   with a `version` group (and optionally an `arch` group), checked when the recipe loads.
//! - [`links`]: the `href`s of an HTML page (directory listings, download pages), bounded.
//! - [`urls`]: resolving listed names, links and `{name}`/`{version}` templates against the
//!   feed's *upstream* URL (mirror rewrites are the fetcher's business), refusing names that
//!   would leave their directory.
//! - [`dirs`]: walking an index of version directories (`24.04/`, `24.04.1/`, ...).
//! - [`checksum`]: the recipe's `checksum` setting (a checksum file next to the ISO, or an
//!   explicit `"none"`) and fetching those files once per run.
//! - [`select`]: picking releases out of a JSON or YAML document with field names and
//!   equality filters.
//!
//! Nothing here chooses between releases: kinds return every candidate and `repack-watch`
//! applies the recipe's policy.

// Errors carry URLs and the fetcher's error (which names both URLs); they are returned once
// per check, so their size costs nothing.
#![allow(clippy::result_large_err)]

pub mod checksum;
pub mod dirs;
pub mod entry;
mod error;
pub mod feeds;
pub mod links;
mod pattern;
pub mod select;
pub mod text;
pub mod urls;

pub use checksum::{ChecksumFiles, ChecksumSetting};
pub use entry::{DigestSource, Entry, into_candidates};
pub use error::FeedError;
pub use feeds::{
    CacheCounts, CacheFuture, FeedCache, FeedCacheError, FeedText, Feeds, MemoryFeedCache,
    StoredFeed,
};
pub use pattern::{Captured, NamePattern, VersionPattern};

/// Most release entries one feed may yield. Real feeds list tens to a few thousand files;
/// past this the pattern (or the feed) is wrong, and the check fails instead of growing.
pub const MAX_ENTRIES: usize = 10_000;

/// Parses a date or time from a feed into RFC 3339 UTC: an RFC 3339 timestamp, or a plain
/// `YYYY-MM-DD` date (midnight UTC). Anything else is `None`: publish times are
/// informational and never decide what is built.
pub fn published_at(text: &str) -> Option<String> {
    use time::format_description::well_known::Rfc3339;
    let text = text.trim();
    let moment = if let Ok(moment) = time::OffsetDateTime::parse(text, &Rfc3339) {
        moment
    } else {
        let format = time::macros::format_description!("[year]-[month]-[day]");
        time::Date::parse(text, &format)
            .ok()?
            .midnight()
            .assume_utc()
    };
    moment.to_offset(time::UtcOffset::UTC).format(&Rfc3339).ok()
}

/// Parses an HTTP date (`Last-Modified: Sun, 06 Nov 1994 08:49:37 GMT`, the IMF-fixdate
/// form every current server sends) into RFC 3339 UTC. The obsolete RFC 850 and asctime
/// forms, and anything else, are `None`.
pub fn published_at_http(text: &str) -> Option<String> {
    use time::format_description::well_known::Rfc3339;
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    time::PrimitiveDateTime::parse(text.trim(), &format)
        .ok()?
        .assume_utc()
        .format(&Rfc3339)
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_become_rfc3339_utc() {
        assert_eq!(
            published_at_http("Sun, 06 Nov 1994 08:49:37 GMT").as_deref(),
            Some("1994-11-06T08:49:37Z")
        );
        assert_eq!(
            published_at_http(" Mon, 04 Nov 2024 10:00:00 GMT ").as_deref(),
            Some("2024-11-04T10:00:00Z")
        );
        assert_eq!(published_at_http("Sunday, 06-Nov-94 08:49:37 GMT"), None);
        assert_eq!(published_at_http("Mon, 04 Nov 2024 10:00:00 +0200"), None);
        assert_eq!(published_at_http("2024-11-04"), None);
    }

    #[test]
    fn publish_times_are_normalised_to_utc() {
        assert_eq!(
            published_at("2026-12-01").as_deref(),
            Some("2026-12-01T00:00:00Z")
        );
        assert_eq!(
            published_at("2026-12-01T10:00:00+02:00").as_deref(),
            Some("2026-12-01T08:00:00Z")
        );
        assert_eq!(published_at("yesterday"), None);
        assert_eq!(published_at("2026-13-01"), None);
    }
}
