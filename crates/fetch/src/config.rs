//! How a [`Fetcher`](crate::Fetcher) talks to servers and where it keeps downloads.

use repack_core::MirrorRewrite;
use std::path::PathBuf;
use std::time::Duration;

/// Settings of a [`Fetcher`](crate::Fetcher). Build with [`FetchConfig::new`] and adjust fields.
#[derive(Debug, Clone)]
pub struct FetchConfig {
    /// Root of the download cache: ISOs go to `iso/`, bad downloads to `quarantine/`.
    pub cache_dir: PathBuf,
    /// Applied to every URL before it is requested (longest matching prefix wins).
    pub rewrites: Vec<MirrorRewrite>,
    /// Sent as `User-Agent` on every request.
    pub user_agent: String,
    /// Limit for establishing a connection (TCP + TLS).
    pub connect_timeout: Duration,
    /// Limit between two reads of a response; a stalled transfer fails after this.
    pub read_timeout: Duration,
    /// Further attempts after a failure that may be temporary (connection errors, timeouts,
    /// interrupted bodies, HTTP 5xx, 408 and 429). Every retry of an ISO resumes.
    pub retries: u32,
    /// Ceiling of the wait before the first retry; the ceiling doubles with each further
    /// retry, up to [`MAX_BACKOFF`], and each wait is drawn between half the ceiling and the
    /// ceiling ([`FetchConfig::backoff_bounds`]), so clients that failed together do not
    /// retry together.
    pub retry_backoff: Duration,
    /// Most requests in flight to one host (`host:port` of the URL actually requested,
    /// after mirror rewrites) from this fetcher and its clones; further requests wait for a
    /// free slot. A request holds its slot for one attempt, body included, never while it
    /// waits to retry. At least 1.
    pub per_host_limit: usize,
    /// How many bytes of an ISO are written between two durable checkpoints (fsync of the
    /// data, then the `.part.state` file). A crash loses at most this much progress.
    pub checkpoint_bytes: u64,
}

/// Upper bound of the wait between two retries.
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// Requests in flight to one host unless [`FetchConfig::per_host_limit`] says otherwise:
/// what a browser opens per origin under HTTP/1.1 is six; mirrors are shared, so fewer.
pub const DEFAULT_PER_HOST_LIMIT: usize = 4;

impl FetchConfig {
    /// Defaults: no rewrites, `repack/<version>` user agent, 30 s connect and 60 s read
    /// timeouts, 5 retries starting at 0.5–1 s, [`DEFAULT_PER_HOST_LIMIT`] requests per host,
    /// a checkpoint every 64 MiB.
    pub fn new(cache_dir: impl Into<PathBuf>) -> FetchConfig {
        FetchConfig {
            cache_dir: cache_dir.into(),
            rewrites: Vec::new(),
            user_agent: concat!("repack/", env!("CARGO_PKG_VERSION")).to_owned(),
            connect_timeout: Duration::from_secs(30),
            read_timeout: Duration::from_secs(60),
            retries: 5,
            retry_backoff: Duration::from_secs(1),
            per_host_limit: DEFAULT_PER_HOST_LIMIT,
            checkpoint_bytes: 64 * 1024 * 1024,
        }
    }

    /// The range the wait before retry number `retry` (1-based) is drawn from: from half
    /// the ceiling to the ceiling, the ceiling being [`FetchConfig::retry_backoff`] doubled
    /// per earlier retry and capped at [`MAX_BACKOFF`] ("equal jitter": never a tight
    /// loop, never in step with other clients).
    pub fn backoff_bounds(&self, retry: u32) -> (Duration, Duration) {
        let factor = 1u32 << retry.saturating_sub(1).min(16);
        let ceiling = self.retry_backoff.saturating_mul(factor).min(MAX_BACKOFF);
        (ceiling / 2, ceiling)
    }

    /// A wait before retry number `retry`, drawn uniformly from
    /// [`backoff_bounds`](FetchConfig::backoff_bounds).
    pub(crate) fn backoff(&self, retry: u32) -> Duration {
        self.backoff_at(retry, fastrand::f64())
    }

    /// The wait at position `unit` (in `0.0..=1.0`) of the retry's bounds.
    pub(crate) fn backoff_at(&self, retry: u32, unit: f64) -> Duration {
        let (low, high) = self.backoff_bounds(retry);
        low + (high - low).mul_f64(unit.clamp(0.0, 1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_jittered_within_doubling_bounds() {
        let mut config = FetchConfig::new("/nonexistent");
        config.retry_backoff = Duration::from_millis(400);
        assert_eq!(
            config.backoff_bounds(1),
            (Duration::from_millis(200), Duration::from_millis(400))
        );
        assert_eq!(
            config.backoff_bounds(3),
            (Duration::from_millis(800), Duration::from_millis(1600))
        );
        assert_eq!(config.backoff_bounds(40).1, MAX_BACKOFF);
        assert_eq!(config.backoff_at(2, 0.0), Duration::from_millis(400));
        assert_eq!(config.backoff_at(2, 1.0), Duration::from_millis(800));
        for retry in 1..=8 {
            let (low, high) = config.backoff_bounds(retry);
            let waits: Vec<Duration> = (0..200).map(|_| config.backoff(retry)).collect();
            assert!(
                waits.iter().all(|wait| (low..=high).contains(wait)),
                "retry {retry}: {waits:?} not within {low:?}..={high:?}"
            );
            let distinct: std::collections::HashSet<_> = waits.iter().collect();
            assert!(
                distinct.len() > 10,
                "retry {retry}: the waits are not jittered: {distinct:?}"
            );
        }
    }
}
