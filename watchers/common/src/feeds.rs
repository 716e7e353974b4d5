//! Reading feed documents politely: every document a kind fetches goes through [`Feeds`],
//! which makes the request conditional on the copy a [`FeedCache`] kept and, when the server
//! answers 304 Not Modified, hands back that copy without reading a body.
//!
//! The kinds stay pure: they ask [`Feeds::text`] for a URL and parse what comes back,
//! whether it came over the wire or out of the cache, so a 304 yields exactly the candidates
//! a 200 with the same body would (parsing again is cheap; storing parsed candidates would
//! tie the cache to each kind's output and to the recipe's pattern, which can change between
//! checks while the document does not).
//!
//! Who keeps the copies is the caller's business: the catalogue in the binary (the table
//! `feed_state`), [`MemoryFeedCache`] in tests, nothing at all with [`Feeds::new`]. Only
//! replies with a validator (ETag or Last-Modified) are kept: without one nothing could be
//! revalidated. A cache that fails is logged and bypassed; it never fails a check.
//!
//! A kind that cannot read through [`Feeds::text`] (the `github` kind needs its own request
//! and response headers) keeps its copies with [`Feeds::kept`], [`Feeds::keep`] and
//! [`Feeds::confirmed`], under the same rules. A page of a paginated API keeps the next
//! page's URL with it ([`StoredFeed::next_url`]): a 304 carries no body and need not carry
//! the `Link` header either, so the kept copy must say where the walk goes on.

use repack_fetch::{Conditional, DocumentValidators, FetchError, Fetcher};
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, PoisonError};

/// The copy of one document kept between checks: the body of its last 200 and that reply's
/// validators.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredFeed {
    pub etag: Option<String>,
    /// The `Last-Modified` header as the server wrote it (an HTTP date).
    pub last_modified: Option<String>,
    /// For a page of a paginated API: the next page's URL, as that 200's `Link: <…>;
    /// rel="next"` named it (`None` for the last page and for every other document).
    pub next_url: Option<String>,
    pub body: String,
}

/// What a [`FeedCache`] call returns: boxed so the trait can be used as `dyn FeedCache`.
pub type CacheFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, FeedCacheError>> + Send + 'a>>;

/// Where the copies of feed documents are kept, by upstream URL. `None` in a
/// [`Feeds`] (or a watcher's context) means nothing is kept and every request is
/// unconditional.
pub trait FeedCache: Send + Sync {
    /// The copy kept for `url`, if any.
    fn get<'a>(&'a self, url: &'a str) -> CacheFuture<'a, Option<StoredFeed>>;

    /// Keeps `feed`, just received with status 200, as the copy of `url` (replacing the one
    /// before), and notes the check as good.
    fn put<'a>(&'a self, url: &'a str, feed: &'a StoredFeed) -> CacheFuture<'a, ()>;

    /// Notes that the copy of `url` was confirmed current by a 304: only the time of the last
    /// good check changes; the validators and the body stay those of the last 200.
    fn revalidated<'a>(&'a self, url: &'a str) -> CacheFuture<'a, ()>;
}

/// Occurs when a [`FeedCache`] cannot read or write the copy of a document. Logged by
/// [`Feeds`], never returned from a check.
#[derive(Debug, thiserror::Error)]
#[error("the feed cache cannot {action} the copy of {url}")]
pub struct FeedCacheError {
    /// `read`, `store` or `update`.
    pub action: &'static str,
    pub url: String,
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

impl FeedCacheError {
    /// A stable, short identifier of the failure, for logs and metrics.
    pub fn kind(&self) -> &'static str {
        "feed-cache"
    }
}

/// A document as a kind sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedText {
    pub body: String,
    /// `Last-Modified` of the reply that carried this body (for a reused copy: of the last
    /// 200).
    pub last_modified: Option<String>,
    /// The body is the cached copy, confirmed by a 304.
    pub reused: bool,
}

impl FeedText {
    /// `Last-Modified` as RFC 3339 UTC ([`crate::published_at_http`]), for kinds whose feed
    /// carries no dates of its own: when the list or page naming a release last changed.
    pub fn published_at(&self) -> Option<String> {
        self.last_modified
            .as_deref()
            .and_then(crate::published_at_http)
    }
}

/// The fetcher and, optionally, the cache of feed copies: what a kind reads documents with.
/// Cheap to copy.
#[derive(Clone, Copy)]
pub struct Feeds<'a> {
    pub fetcher: &'a Fetcher,
    pub cache: Option<&'a dyn FeedCache>,
}

impl fmt::Debug for Feeds<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Feeds")
            .field("fetcher", self.fetcher)
            .field("cached", &self.cache.is_some())
            .finish()
    }
}

impl<'a> Feeds<'a> {
    /// Reads through `fetcher` and keeps nothing.
    pub fn new(fetcher: &'a Fetcher) -> Feeds<'a> {
        Feeds {
            fetcher,
            cache: None,
        }
    }

    /// The same, keeping copies in `cache` (`None`: nothing is kept).
    pub fn with_cache(self, cache: Option<&'a dyn FeedCache>) -> Feeds<'a> {
        Feeds { cache, ..self }
    }

    /// The copy kept for `url` whose body is at most `max_bytes` (none without a cache; a
    /// cache that fails is logged and treated as having none).
    pub async fn kept(&self, url: &str, max_bytes: u64) -> Option<StoredFeed> {
        let cache = self.cache?;
        match cache.get(url).await {
            Ok(stored) => stored.filter(|stored| stored.body.len() as u64 <= max_bytes),
            Err(error) => {
                tracing::warn!(%url, error = %error, "feed cache unreadable; asking unconditionally");
                None
            }
        }
    }

    /// Keeps `feed`, just received with status 200, as the copy of `url`, when there is a
    /// cache and the reply had a validator (without one it could never be revalidated).
    /// Returns whether it was handed to the cache; a cache that fails is logged.
    pub async fn keep(&self, url: &str, feed: &StoredFeed) -> bool {
        let Some(cache) = self.cache else {
            return false;
        };
        if feed.etag.is_none() && feed.last_modified.is_none() {
            return false;
        }
        if let Err(error) = cache.put(url, feed).await {
            tracing::warn!(%url, error = %error, "cannot keep a copy of the document");
        }
        true
    }

    /// Notes that the copy of `url` was confirmed by a 304 (logged, never failing).
    pub async fn confirmed(&self, url: &str) {
        tracing::info!(%url, "not modified (304); using the kept copy");
        if let Some(cache) = self.cache
            && let Err(error) = cache.revalidated(url).await
        {
            tracing::warn!(%url, error = %error, "cannot note the revalidation");
        }
    }

    /// The document at `url` (upstream spelling), at most `max_bytes`, as UTF-8 text, with
    /// the rules of [`Fetcher::fetch_text`]. With a kept copy the request is conditional; a
    /// 304 returns the copy ([`FeedText::reused`]). A copy larger than `max_bytes` is not
    /// used.
    pub async fn text(&self, url: &str, max_bytes: u64) -> Result<FeedText, FetchError> {
        let stored = self.kept(url, max_bytes).await;
        let known = stored.as_ref().map(|stored| DocumentValidators {
            etag: stored.etag.clone(),
            last_modified: stored.last_modified.clone(),
        });
        let reply = self
            .fetcher
            .fetch_text_if_modified(url, max_bytes, known.as_ref())
            .await?;
        match (reply, stored) {
            (Conditional::NotModified, Some(stored)) => {
                self.confirmed(url).await;
                Ok(FeedText {
                    body: stored.body,
                    last_modified: stored.last_modified,
                    reused: true,
                })
            }
            (Conditional::NotModified, None) => {
                unreachable!("a request is conditional only with a kept copy")
            }
            (Conditional::Modified { body, validators }, _) => {
                let feed = StoredFeed {
                    etag: validators.etag,
                    last_modified: validators.last_modified,
                    next_url: None,
                    body,
                };
                self.keep(url, &feed).await;
                Ok(FeedText {
                    body: feed.body,
                    last_modified: feed.last_modified,
                    reused: false,
                })
            }
        }
    }
}

/// A [`FeedCache`] in memory, for tests and one-off runs: copies live as long as it does.
/// It counts what it was asked to do, so tests can tell a 200 from a 304.
#[derive(Debug, Default)]
pub struct MemoryFeedCache {
    entries: Mutex<HashMap<String, StoredFeed>>,
    counts: Mutex<CacheCounts>,
}

/// How often a [`MemoryFeedCache`] stored a copy (after a 200) and confirmed one (a 304).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CacheCounts {
    pub puts: usize,
    pub revalidations: usize,
}

impl MemoryFeedCache {
    pub fn new() -> MemoryFeedCache {
        MemoryFeedCache::default()
    }

    /// The copy kept for `url`.
    pub fn copy_of(&self, url: &str) -> Option<StoredFeed> {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(url)
            .cloned()
    }

    /// Every URL with a copy, sorted.
    pub fn urls(&self) -> Vec<String> {
        let mut urls: Vec<String> = self
            .entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .keys()
            .cloned()
            .collect();
        urls.sort();
        urls
    }

    pub fn counts(&self) -> CacheCounts {
        *self.counts.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl FeedCache for MemoryFeedCache {
    fn get<'a>(&'a self, url: &'a str) -> CacheFuture<'a, Option<StoredFeed>> {
        let copy = self.copy_of(url);
        Box::pin(async move { Ok(copy) })
    }

    fn put<'a>(&'a self, url: &'a str, feed: &'a StoredFeed) -> CacheFuture<'a, ()> {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(url.to_owned(), feed.clone());
        self.counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .puts += 1;
        Box::pin(async { Ok(()) })
    }

    fn revalidated<'a>(&'a self, _url: &'a str) -> CacheFuture<'a, ()> {
        self.counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .revalidations += 1;
        Box::pin(async { Ok(()) })
    }
}
