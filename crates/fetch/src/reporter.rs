//! Progress reporting without terminal code: the binary implements [`Reporter`] with bars.

/// Receives the progress of one [`fetch_iso`](crate::Fetcher::fetch_iso) call.
///
/// `started` is called each time a transfer (re)starts — again after a retry — with the
/// position the transfer starts from, so a progress display resets to `resumed_from` (which
/// is 0 when a resume was refused and the download starts over). `advanced` reports bytes
/// written since the previous call. `finished` is called once when the call ends, whatever
/// the outcome. It is not called when the ISO was already in the cache.
pub trait Reporter: Send + Sync {
    /// `url` is the upstream URL; `total` the full size when the server said it.
    fn started(&self, url: &str, total: Option<u64>, resumed_from: u64);
    fn advanced(&self, bytes: u64);
    fn finished(&self);
}

/// A [`Reporter`] that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoopReporter;

impl Reporter for NoopReporter {
    fn started(&self, _url: &str, _total: Option<u64>, _resumed_from: u64) {}
    fn advanced(&self, _bytes: u64) {}
    fn finished(&self) {}
}
