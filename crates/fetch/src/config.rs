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
    /// Wait before the first retry; doubles with each further retry, up to [`MAX_BACKOFF`].
    pub retry_backoff: Duration,
    /// How many bytes of an ISO are written between two durable checkpoints (fsync of the
    /// data, then the `.part.state` file). A crash loses at most this much progress.
    pub checkpoint_bytes: u64,
}

/// Upper bound of the wait between two retries.
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);

impl FetchConfig {
    /// Defaults: no rewrites, `repack/<version>` user agent, 30 s connect and 60 s read
    /// timeouts, 5 retries starting at 1 s, a checkpoint every 64 MiB.
    pub fn new(cache_dir: impl Into<PathBuf>) -> FetchConfig {
        FetchConfig {
            cache_dir: cache_dir.into(),
            rewrites: Vec::new(),
            user_agent: concat!("repack/", env!("CARGO_PKG_VERSION")).to_owned(),
            connect_timeout: Duration::from_secs(30),
            read_timeout: Duration::from_secs(60),
            retries: 5,
            retry_backoff: Duration::from_secs(1),
            checkpoint_bytes: 64 * 1024 * 1024,
        }
    }

    /// The wait before retry number `retry` (1-based).
    pub(crate) fn backoff(&self, retry: u32) -> Duration {
        let factor = 1u32 << retry.saturating_sub(1).min(16);
        self.retry_backoff.saturating_mul(factor).min(MAX_BACKOFF)
    }
}
