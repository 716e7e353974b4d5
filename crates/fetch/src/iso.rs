//! [`Fetcher::fetch_iso`]: a resumable download, hashed while it is written.
//!
//! The network side runs on the async runtime; writing and hashing run in blocking tasks,
//! one batch at a time, while the next batch is received (so disk, hash and network overlap
//! and at most two batches are in memory). A [`StreamTap`] sees each batch on a blocking task
//! of its own, alongside the write of the same batch.

use crate::fetcher::{Failure, Target};
use crate::part::{
    CachePaths, PartFile, PartIoError, lock_download, share_complete, sweep_abandoned,
};
use crate::validators::{ContentRange, Validators};
use crate::{FetchError, Fetcher, NoTap, Reporter, StreamTap};
use bytes::Bytes;
use repack_core::Sha256Digest;
use reqwest::StatusCode;
use reqwest::header::{ACCEPT_ENCODING, IF_RANGE, RANGE};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use tokio::task::JoinHandle;

/// Bytes received before they are handed to the writer as one batch.
pub const WRITE_BATCH_BYTES: usize = 1024 * 1024;

/// An ISO in the cache whose bytes hash to `sha256`.
#[derive(Debug, Clone)]
pub struct FetchedIso {
    /// `<cache>/iso/<sha256>.iso`.
    pub path: PathBuf,
    pub size: u64,
    pub sha256: Sha256Digest,
    /// True when the file was already in the cache and nothing was downloaded.
    pub from_cache: bool,
    /// True when a [`StreamTap`] stored some ranges itself ([`Claim`](crate::Claim)s): the
    /// file at `path` (`<sha256>.iso.hollow`, never a cache hit) has holes there, and the
    /// caller must take those bytes from the tap's files and delete the file when done.
    pub hollow: bool,
    /// Held until the caller is done with the files. A complete ISO: a shared lease, so
    /// [`Fetcher::evict`] (here or in another process) leaves it alone. A hollow one: the
    /// download lock itself, so sweeps of abandoned downloads keep its files and a download of
    /// the same ISO waits (never hold it while fetching the same ISO again).
    pub lease: Option<DownloadLease>,
}

/// The lock of one download, held (see [`FetchedIso::lease`]); released when the last clone
/// is dropped.
#[derive(Debug, Clone)]
pub struct DownloadLease {
    _lock: Arc<std::fs::File>,
}

type SharedPart = Arc<Mutex<PartFile>>;
type SharedTap = Arc<Mutex<dyn StreamTap>>;

fn lock<T: ?Sized>(shared: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock is re-raised by `blocking`, so a poisoned lock is
    // never used to continue a download.
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs sync file work off the async runtime; a panic in it is re-raised here.
async fn blocking<T, F>(work: F) -> Result<T, PartIoError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, PartIoError> + Send + 'static,
{
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result,
        Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
        Err(_) => Err(PartIoError {
            action: "finish writing (runtime shutting down)",
            path: PathBuf::new(),
            source: std::io::Error::other("blocking task cancelled"),
        }),
    }
}

impl Target {
    fn part_error(&self, error: PartIoError) -> FetchError {
        self.io_error(error.action, &error.path, error.source)
    }
}

impl Fetcher {
    /// Removes a complete ISO from the cache once it is no longer needed (its release is
    /// published), unless another build holds it: returns whether it was removed. The
    /// caller's own lease is released first.
    pub async fn evict(&self, iso: FetchedIso) -> bool {
        if iso.hollow {
            return false;
        }
        let paths = CachePaths::new(&self.config.cache_dir, &iso.sha256.to_hex());
        drop(iso);
        tokio::task::spawn_blocking(move || {
            let Ok(lease) = std::fs::File::open(&paths.lease) else {
                return false;
            };
            if lease.try_lock().is_err() {
                return false;
            }
            match std::fs::remove_file(&paths.final_path) {
                Ok(()) => true,
                Err(error) => {
                    if error.kind() != std::io::ErrorKind::NotFound {
                        tracing::warn!(path = %paths.final_path.display(), %error, "cannot remove the ISO from the cache");
                    }
                    false
                }
            }
        })
        .await
        .unwrap_or(false)
    }

    /// Where the verified ISO with digest `sha256` is (or will be) in the cache.
    pub fn iso_path(&self, sha256: &Sha256Digest) -> PathBuf {
        CachePaths::new(&self.config.cache_dir, &sha256.to_hex()).final_path
    }

    /// A directory for the files a [`StreamTap`] stores claimed bytes in during the download
    /// of the ISO with digest `sha256`. It survives a failed attempt (a resume fills holes
    /// back from it); [`fetch_iso_with_tap`](Fetcher::fetch_iso_with_tap) empties it before
    /// a download starts and removes it when the download does not verify; after a
    /// successful download the caller takes the files and removes it.
    pub fn stream_dir(&self, sha256: &Sha256Digest) -> PathBuf {
        CachePaths::new(&self.config.cache_dir, &sha256.to_hex()).stream_dir
    }

    /// Downloads the ISO at `url` (upstream spelling) into the cache and checks that it
    /// hashes to `expected`.
    ///
    /// An ISO already in the cache is returned without a request. Otherwise a partial
    /// download left by an earlier attempt is resumed with `Range` when its validators still
    /// match, and temporary failures are retried, each retry resuming. On a digest mismatch
    /// the file is moved to `<cache>/quarantine/` and [`FetchError::ChecksumMismatch`] is
    /// returned; nothing stays in `<cache>/iso/`.
    pub async fn fetch_iso(
        &self,
        url: &str,
        expected: Sha256Digest,
        reporter: &dyn Reporter,
    ) -> Result<FetchedIso, FetchError> {
        let result = self
            .fetch_iso_with_tap(url, expected, reporter, NoTap)
            .await
            .map(|(iso, NoTap)| iso);
        // Without a tap nothing is ever stored there.
        let _ = std::fs::remove_dir(self.stream_dir(&expected));
        result
    }

    /// [`fetch_iso`](Fetcher::fetch_iso), showing every byte written to `tap` as well (see
    /// [`StreamTap`] for what it sees after a resume or restart) and handing it back with the
    /// verified ISO. A tap is returned unused when the ISO was already in the cache.
    pub async fn fetch_iso_with_tap<T: StreamTap>(
        &self,
        url: &str,
        expected: Sha256Digest,
        reporter: &dyn Reporter,
        tap: T,
    ) -> Result<(FetchedIso, T), FetchError> {
        let target = self.target(url)?;
        let paths = CachePaths::new(&self.config.cache_dir, &expected.to_hex());
        if let Some(cached) = cached(&paths, expected).await {
            tracing::info!(url = %target.url, path = %cached.path.display(), "ISO already in the cache");
            return Ok((cached, tap));
        }
        let iso_dir = paths
            .final_path
            .parent()
            .unwrap_or(&self.config.cache_dir)
            .to_owned();
        tokio::fs::create_dir_all(&iso_dir)
            .await
            .map_err(|source| target.io_error("create", &iso_dir, source))?;

        let lock = {
            let paths = paths.clone();
            blocking(move || lock_download(&paths))
                .await
                .map_err(|error| target.part_error(error))?
        };
        // Another worker may have finished it while we waited for the lock.
        if let Some(cached) = cached(&paths, expected).await {
            return Ok((cached, tap));
        }
        {
            let (iso_dir, keep) = (iso_dir.clone(), expected.to_hex());
            let removed = blocking(move || Ok(sweep_abandoned(&iso_dir, &keep)))
                .await
                .unwrap_or_default();
            for path in removed {
                tracing::info!(path = %path.display(), "removed what an interrupted build left behind");
            }
        }
        let (part, not_resumed) = {
            let (paths, url, mirror_url) =
                (paths.clone(), target.url.clone(), target.mirror_url.clone());
            blocking(move || PartFile::open(paths, lock, &url, &mirror_url))
                .await
                .map_err(|error| target.part_error(error))?
        };
        if let Some(reason) = not_resumed {
            tracing::warn!(url = %target.url, %reason, "not resuming the partial download; starting over");
        }
        // Whatever a tap of an earlier attempt stored is in the part file now (holes were
        // filled back) or useless (the download starts over).
        {
            let dir = paths.stream_dir.clone();
            blocking(move || {
                remove_dir_if_present(&dir)
                    .and_then(|()| std::fs::create_dir_all(&dir))
                    .map_err(|source| PartIoError {
                        action: "prepare",
                        path: dir,
                        source,
                    })
            })
            .await
            .map_err(|error| target.part_error(error))?;
        }
        tracing::info!(
            url = %target.url,
            mirror_url = %target.mirror_url,
            %expected,
            resume_from = part.offset(),
            "downloading ISO"
        );
        let part = Arc::new(Mutex::new(part));
        let tap = Arc::new(Mutex::new(tap));
        let shared_tap: SharedTap = tap.clone();
        let result = self
            .download(&target, part, shared_tap, expected, reporter)
            .await;
        reporter.finished();
        let iso = result?;
        let tap = Arc::try_unwrap(tap)
            .ok()
            .expect("no tap task is in flight once the download returned")
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        Ok((iso, tap))
    }

    async fn download(
        &self,
        target: &Target,
        part: SharedPart,
        tap: SharedTap,
        expected: Sha256Digest,
        reporter: &dyn Reporter,
    ) -> Result<FetchedIso, FetchError> {
        self.with_retries(target, || self.transfer(target, &part, &tap, reporter))
            .await?;
        drop(tap);
        let (size, actual, part) = blocking(move || {
            let (size, digest) = lock(&part).finish()?;
            Ok((size, Sha256Digest::from_bytes(digest), part))
        })
        .await
        .map_err(|error| target.part_error(error))?;
        let hollow = lock(&part).is_hollow();
        let paths = lock(&part).paths().clone();
        let part = Arc::try_unwrap(part)
            .ok()
            .expect("no write is in flight once the transfer returned")
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        if actual == expected {
            // A hollow ISO is not the ISO: it never takes the cache's name.
            let path = if hollow {
                paths.hollow_path.clone()
            } else {
                paths.final_path.clone()
            };
            let to = path.clone();
            let lease_paths = paths.clone();
            let lease = blocking(move || {
                let lock = part.move_to(&to)?;
                if hollow {
                    // A hollow ISO serves this build alone: the download lock stays held.
                    return Ok(Some(lock));
                }
                // A complete ISO is shared from now on; the download lock is released.
                Ok(share_complete(&lease_paths))
            })
            .await
            .map_err(|error| target.part_error(error))?;
            tracing::info!(url = %target.url, path = %path.display(), size, hollow, "ISO downloaded and verified");
            return Ok(FetchedIso {
                path,
                size,
                sha256: actual,
                from_cache: false,
                hollow,
                lease: lease.map(|lock| DownloadLease {
                    _lock: Arc::new(lock),
                }),
            });
        }
        let _ = remove_dir_if_present(&paths.stream_dir);
        let quarantined_path = paths
            .quarantine_dir
            .join(format!("{expected}.got-{actual}.iso"));
        {
            let to = quarantined_path.clone();
            blocking(move || part.move_to(&to))
                .await
                .map_err(|error| target.part_error(error))?;
        }
        tracing::error!(
            url = %target.url,
            %expected,
            %actual,
            quarantined = %quarantined_path.display(),
            "ISO does not match its checksum"
        );
        Err(FetchError::ChecksumMismatch {
            url: target.url.clone(),
            mirror_url: target.mirror_url.clone(),
            expected,
            actual,
            quarantined_path,
        })
    }

    /// One request: resume if there is something to resume, stream the body to the part
    /// file. On an interruption the bytes received are kept and checkpointed.
    async fn transfer(
        &self,
        target: &Target,
        part: &SharedPart,
        tap: &SharedTap,
        reporter: &dyn Reporter,
    ) -> Result<(), Failure> {
        let fatal_io = |error: PartIoError| Failure::Fatal(target.part_error(error));
        let (mut response, total) = loop {
            let (offset, saved) = {
                let part = lock(part);
                (part.offset(), part.validators.clone())
            };
            let mut request = self
                .client
                .get(&target.mirror_url)
                .header(ACCEPT_ENCODING, "identity");
            if offset > 0 {
                request = request.header(RANGE, format!("bytes={offset}-"));
                if let Some(validator) = saved.if_range() {
                    request = request.header(IF_RANGE, validator);
                }
            }
            let response = request.send().await.map_err(Failure::Connect)?;
            let status = response.status();
            if status.is_success() {
                target.require_identity(response.headers())?;
            }
            let restart_because = match status {
                StatusCode::PARTIAL_CONTENT if offset > 0 => {
                    match ContentRange::from_headers(response.headers()) {
                        None => Some("the partial reply has no valid Content-Range".to_owned()),
                        Some(range) => {
                            let now = Validators::from_partial_reply(response.headers(), &range);
                            match range.mismatch(offset).or_else(|| saved.mismatch(&now)) {
                                Some(reason) => Some(reason),
                                None => {
                                    tracing::info!(url = %target.url, offset, "server resumed the download");
                                    break (response, range.total);
                                }
                            }
                        }
                    }
                }
                StatusCode::PARTIAL_CONTENT => {
                    return Err(
                        target.fatal_protocol("partial reply (206) to a request without Range")
                    );
                }
                StatusCode::RANGE_NOT_SATISFIABLE if offset > 0 => {
                    Some("the server cannot serve the rest of the file (416)".to_owned())
                }
                StatusCode::OK => {
                    let fresh = Validators::from_full_reply(response.headers());
                    let total = fresh.total;
                    if offset > 0 {
                        tracing::warn!(url = %target.url, offset, "server sent the whole file instead of the rest; starting over");
                        let part = part.clone();
                        blocking(move || lock(&part).reset())
                            .await
                            .map_err(fatal_io)?;
                    }
                    lock(part).validators = fresh;
                    break (response, total);
                }
                status => return Err(Failure::Status(status)),
            };
            if let Some(reason) = restart_because {
                tracing::warn!(url = %target.url, mirror_url = %target.mirror_url, offset, %reason, "cannot resume; starting over from byte 0");
                drop(response);
                let part = part.clone();
                blocking(move || lock(&part).reset())
                    .await
                    .map_err(fatal_io)?;
            }
        };

        let start = lock(part).offset();
        reporter.started(&target.url, total, start);
        let mut writer = Writer {
            part: part.clone(),
            tap: tap.clone(),
            next_offset: start,
            checkpoint_bytes: self.config.checkpoint_bytes,
            batch: Vec::new(),
            batch_len: 0,
            pending: None,
        };
        let outcome = loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    writer.push(chunk);
                    if writer.batch_len >= WRITE_BATCH_BYTES {
                        writer.flush(reporter).await.map_err(fatal_io)?;
                    }
                }
                Ok(None) => break Ok(()),
                Err(error) => break Err(error),
            }
        };
        drop(response);
        writer.flush(reporter).await.map_err(fatal_io)?;
        writer.wait(reporter).await.map_err(fatal_io)?;
        let offset = lock(part).offset();
        let interrupted = match outcome {
            Err(error) => Some(("the connection broke off".to_owned(), Some(error))),
            Ok(()) => match total {
                Some(total) if offset < total => {
                    Some((format!("the body ended at byte {offset} of {total}"), None))
                }
                Some(total) if offset > total => {
                    let part = part.clone();
                    blocking(move || lock(&part).reset())
                        .await
                        .map_err(fatal_io)?;
                    return Err(target.fatal_protocol(format!(
                        "the server sent {offset} bytes for a file of {total} bytes"
                    )));
                }
                _ => None,
            },
        };
        if let Some((detail, source)) = interrupted {
            checkpoint(part.clone(), tap.clone())
                .await
                .map_err(fatal_io)?;
            return Err(Failure::Interrupted {
                offset,
                detail,
                source,
            });
        }
        Ok(())
    }
}

/// Returns the final file if it is in the cache, with a shared lease on it; an ISO being
/// evicted counts as not cached.
async fn cached(paths: &CachePaths, expected: Sha256Digest) -> Option<FetchedIso> {
    let lease = {
        let paths = paths.clone();
        tokio::task::spawn_blocking(move || share_complete(&paths))
            .await
            .ok()
            .flatten()?
    };
    // Checked under the lease: an eviction holds it exclusively while it removes the file.
    let metadata = tokio::fs::metadata(&paths.final_path).await.ok()?;
    metadata.is_file().then(|| FetchedIso {
        path: paths.final_path.clone(),
        size: metadata.len(),
        sha256: expected,
        from_cache: true,
        hollow: false,
        lease: Some(DownloadLease {
            _lock: Arc::new(lease),
        }),
    })
}

/// A batch being written, and the same batch being shown to the tap.
struct Pending {
    write: JoinHandle<Result<(), PartIoError>>,
    tap: JoinHandle<()>,
    len: u64,
}

/// Hands received chunks to a blocking task in batches; one batch in flight at a time.
struct Writer {
    part: SharedPart,
    tap: SharedTap,
    /// File offset of the first byte of `batch`.
    next_offset: u64,
    checkpoint_bytes: u64,
    batch: Vec<Bytes>,
    batch_len: usize,
    pending: Option<Pending>,
}

impl Writer {
    fn push(&mut self, chunk: Bytes) {
        self.batch_len += chunk.len();
        self.batch.push(chunk);
    }

    /// Waits for the batch in flight, then starts writing the current one.
    async fn flush(&mut self, reporter: &dyn Reporter) -> Result<(), PartIoError> {
        self.wait(reporter).await?;
        if self.batch.is_empty() {
            return Ok(());
        }
        let batch = Arc::new(std::mem::take(&mut self.batch));
        let len = std::mem::take(&mut self.batch_len) as u64;
        let offset = self.next_offset;
        self.next_offset += len;
        let (part, tap, shown) = (self.part.clone(), self.tap.clone(), batch.clone());
        // Asked while the tap is idle (its previous batch is done): which bytes it stores.
        let mut claims = lock(&*self.tap).claims();
        claims.sort_by_key(|claim| claim.offset);
        let write = tokio::task::spawn_blocking(move || lock(&part).append(&batch, &claims));
        let tap = tokio::task::spawn_blocking(move || lock(&*tap).observe(offset, &shown));
        self.pending = Some(Pending { write, tap, len });
        Ok(())
    }

    async fn wait(&mut self, reporter: &dyn Reporter) -> Result<(), PartIoError> {
        if let Some(Pending { write, tap, len }) = self.pending.take() {
            let written = blocking_result(write).await;
            // The tap task is always awaited, also after a failed write, so no tap work
            // outlives the download.
            if let Err(error) = tap.await
                && error.is_panic()
            {
                std::panic::resume_unwind(error.into_panic());
            }
            written?;
            reporter.advanced(len);
            if lock(&self.part).checkpoint_due(self.checkpoint_bytes) {
                checkpoint(self.part.clone(), self.tap.clone()).await?;
            }
        }
        Ok(())
    }
}

/// A durable checkpoint at a batch boundary: first the tap's files (the holes recorded next
/// point into them), then the part file and its state.
async fn checkpoint(part: SharedPart, tap: SharedTap) -> Result<(), PartIoError> {
    blocking(move || {
        let mut part = lock(&part);
        if part.is_hollow() {
            lock(&*tap).sync().map_err(|source| PartIoError {
                action: "make durable the stream files of",
                path: part.paths().part.clone(),
                source,
            })?;
        }
        part.checkpoint()
    })
    .await
}

fn remove_dir_if_present(path: &std::path::Path) -> std::io::Result<()> {
    match std::fs::remove_dir_all(path) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error),
        _ => Ok(()),
    }
}

async fn blocking_result(handle: JoinHandle<Result<(), PartIoError>>) -> Result<(), PartIoError> {
    match handle.await {
        Ok(result) => result,
        Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
        Err(_) => Err(PartIoError {
            action: "write (runtime shutting down)",
            path: PathBuf::new(),
            source: std::io::Error::other("blocking task cancelled"),
        }),
    }
}
