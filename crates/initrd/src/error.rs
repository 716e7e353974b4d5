//! The crate's error type: what failed, at which byte offset, in which segment or path.
//!
//! Problems that the *kernel* would hit while unpacking (bad magic, corrupt member, junk)
//! are not errors: [`crate::Initrd::open`] records them as [`crate::Fault`]s on the
//! segment, exactly where the kernel would stop, and [`crate::lint`] reports them. An
//! [`Error`] means repack itself refused or could not go on: I/O, a limit was reached, an
//! overlay is invalid, or an append would produce an image the kernel mishandles.

use std::path::PathBuf;

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why an initrd operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Occurs when the image cannot be opened or read.
    #[error("cannot read initrd `{path}`")]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Occurs when reading at an offset of the image fails.
    #[error("I/O error at byte {offset} of the initrd")]
    Read {
        offset: u64,
        #[source]
        source: std::io::Error,
    },
    /// Occurs when writing the output image fails.
    #[error("cannot write the output image")]
    Write(#[source] std::io::Error),
    /// Occurs when a member decompresses to more than the configured cap (a decompression bomb
    /// or an unexpectedly large image). Nothing past the cap was decoded.
    #[error(
        "segment {segment} ({codec}) at byte {offset}: decompressed size exceeds the limit of {limit} bytes \
         (possible decompression bomb); raise `Limits::{which}` if the image is trusted"
    )]
    DecompressionLimit {
        segment: usize,
        offset: u64,
        codec: &'static str,
        limit: u64,
        which: &'static str,
    },
    /// Occurs when the image holds more cpio entries than the configured cap.
    #[error(
        "segment {segment} at byte {offset}: more than {limit} cpio entries (raise `Limits::max_entries`)"
    )]
    TooManyEntries {
        segment: usize,
        offset: u64,
        limit: usize,
    },
    /// Occurs when a file to read is larger than the configured cap.
    #[error("`{path}` is {size} bytes, more than the read limit of {limit} bytes")]
    FileTooLarge { path: String, size: u64, limit: u64 },
    /// Occurs when a file's content cannot be produced because its member is damaged.
    #[error("segment {segment} at byte {offset}: cannot read `{path}`: {reason}")]
    Unreadable {
        path: String,
        segment: usize,
        offset: u64,
        reason: String,
    },
    /// Occurs when an append is requested on an image the kernel would not fully unpack:
    /// an overlay after the fault would be silently dropped. Nothing was written.
    #[error(
        "refusing to append: the base image has a fault at byte {offset} ({rule}): {reason}; \
             the kernel would drop everything after it, including the overlay"
    )]
    BaseNotClean {
        offset: u64,
        rule: &'static str,
        reason: String,
    },
    /// Occurs when a re-wrap is asked of an image whose last member is not legacy lz4.
    #[error("the image's last member is not legacy lz4; there is nothing to re-wrap")]
    NothingToRewrap,
    /// Occurs when an overlay cannot be appended in place to the file at `path`.
    #[error("cannot append in place to `{path}`: {reason}")]
    InPlace { path: PathBuf, reason: String },
    /// Occurs when the base ends with a legacy-lz4 member: it has no end marker, so a member
    /// appended after it is lost on many kernels. Nothing was written.
    #[error(
        "refusing to append: the base's last member (segment {segment}, byte {offset}) is legacy lz4, \
         which has no end marker; kernels without the 2021 unlz4 fix lose any member after it (re-wrap it first)"
    )]
    Lz4LegacyBase { segment: usize, offset: u64 },
    /// Occurs when an overlay entry is not acceptable (escaping path, conflicting entries, ...).
    #[error("invalid overlay entry `{path}`: {reason}")]
    InvalidOverlay { path: String, reason: String },
    /// Occurs when an overlay entry would replace something in the base in a way the kernel
    /// applies destructively (e.g. a directory entry over a symlink the base relies on).
    #[error(
        "overlay entry `{path}` would replace {what} of the base (segment {segment}); refusing"
    )]
    WouldReplace {
        path: String,
        what: &'static str,
        segment: usize,
    },
    /// Occurs when compressing the overlay fails.
    #[error("cannot compress the overlay with {codec}: {reason}")]
    Compress { codec: &'static str, reason: String },
}

impl Error {
    /// A stable kebab-case identifier for this failure, for metrics and the catalogue.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Open { .. } => "open",
            Error::Read { .. } => "read",
            Error::Write(_) => "write",
            Error::DecompressionLimit { .. } => "decompression-limit",
            Error::TooManyEntries { .. } => "too-many-entries",
            Error::FileTooLarge { .. } => "file-too-large",
            Error::Unreadable { .. } => "unreadable",
            Error::BaseNotClean { .. } => "base-not-clean",
            Error::Lz4LegacyBase { .. } => "lz4-legacy-base",
            Error::InPlace { .. } => "in-place",
            Error::NothingToRewrap => "nothing-to-rewrap",
            Error::InvalidOverlay { .. } => "invalid-overlay",
            Error::WouldReplace { .. } => "would-replace",
            Error::Compress { .. } => "compress",
        }
    }
}
