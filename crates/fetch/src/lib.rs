//! HTTP downloads for repack: small documents with a size cap, and multi-gigabyte ISOs that
//! are hashed while they stream to disk and resume after an interruption without re-reading
//! what was already written.
//!
//! A [`Fetcher`] is built once from a [`FetchConfig`] (cache directory, mirror rewrites,
//! user agent, timeouts, retries) and shared. Callers always pass **upstream** URLs; the
//! fetcher applies the [`MirrorRewrite`](repack_core::MirrorRewrite)s itself and names both
//! URLs in logs and errors.
//!
//! - [`Fetcher::fetch_text`] reads a checksum list or feed: 2xx only, capped while streaming,
//!   UTF-8 only. [`Fetcher::fetch_text_if_modified`] makes the same request conditional on
//!   the [`DocumentValidators`] of a copy the caller kept (ETag, Last-Modified) and reads no
//!   body when the server answers 304 ([`Conditional::NotModified`]).
//! - [`Fetcher::fetch_iso`] streams an ISO into `<cache>/iso/<sha256>.iso.part`. Every
//!   [`FetchConfig::checkpoint_bytes`] (and whenever a transfer breaks) the data is fsynced
//!   and a sidecar `.part.state` (JSON) records the offset, the server's validators (ETag,
//!   Last-Modified, size) and the *serialised SHA-256 state*, so the next attempt — in this
//!   process or after a restart — asks for `Range: bytes=N-` and continues hashing where it
//!   stopped. Validators and `Content-Range` of the partial reply are checked here (some
//!   servers ignore `If-Range`); any disagreement restarts from byte 0. A complete file whose
//!   digest matches is renamed to `<cache>/iso/<sha256>.iso`; one that does not is moved to
//!   `<cache>/quarantine/` and reported as [`FetchError::ChecksumMismatch`].
//!
//! [`Fetcher::fetch_iso_with_tap`] also shows every byte, as it is written, to a
//! [`StreamTap`] running alongside the writer, so a caller can lay out and hash the files
//! inside the image from the download itself instead of reading the finished ISO again.
//! A tap may [`Claim`] ranges it stores itself (in [`Fetcher::stream_dir`]): those bytes are
//! hashed but not written to the partial ISO, so each byte reaches the disk once. The holes
//! are recorded, with where their bytes are, in every checkpoint (after the tap synced), and
//! a resume in a later process fills them back before it continues. A verified download
//! with holes is returned as a *hollow* ISO (`<sha256>.iso.hollow`, never a cache hit).
//! A fresh download's lock stays held through its [`FetchedIso::lease`] until the caller is
//! done with the hollow ISO and the tap's files; the next download sweeps those of builds
//! that died (lock free), so a killed worker leaves no gigabytes behind.
//!
//! Politeness: every request sends `User-Agent: repack/<version>` (or the configured one);
//! at most [`FetchConfig::per_host_limit`] requests are in flight to one host at a time
//! across all clones of a fetcher (a [`HostPermit`] per attempt); temporary failures are
//! retried after a jittered, doubling wait ([`FetchConfig::backoff_bounds`]).
//!
//! Progress goes to a [`Reporter`]; this crate draws nothing. It never enables transparent
//! decompression (the bytes hashed are the bytes served) and never holds an ISO in memory:
//! at most two write batches of [`WRITE_BATCH_BYTES`] are buffered at a time.

// Errors carry both URLs, both digests and paths so that a person can act on them. They are
// returned once per download or check, never in a loop, so their size costs nothing.
#![allow(clippy::result_large_err)]

mod config;
mod document;
mod error;
mod fetcher;
mod hosts;
mod iso;
mod part;
mod reporter;
mod tap;
mod validators;

pub use config::{DEFAULT_PER_HOST_LIMIT, FetchConfig, MAX_BACKOFF};
pub use document::{Conditional, DocumentValidators};
pub use error::FetchError;
pub use fetcher::Fetcher;
pub use hosts::HostPermit;
pub use iso::{DownloadLease, FetchedIso, WRITE_BATCH_BYTES};
pub use reporter::{NoopReporter, Reporter};
pub use tap::{Claim, NoTap, StreamTap};
