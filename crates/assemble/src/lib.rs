//! Lay out one release in a staging directory.
//!
//! [`copy_split`] copies a file's bytes from their extents in the upstream image straight
//! into the output, cutting it into parts of at most `part_size` bytes and hashing the whole
//! and every part in the same pass: each byte is read once and written once, with one fixed
//! buffer whatever the file's size. [`copy_stream`] does the same for a file produced in
//! memory or by another stage (kernel, patched initrd). [`SplitSink`] lays a file out in
//! parts as its bytes arrive from a download, so they are written once, where they are
//! published, instead of being read back out of the stored ISO. [`write_manifest`] writes
//! `manifest.json` and `SHA256SUMS` last, so a staging directory with a manifest is complete.
//!
//! The staging directory is this crate's: [`Staging`] is created per build attempt (and
//! deleted unless handed over), and [`StagedRelease`] pairs a filled one with its manifest,
//! checked complete, which is all a publisher is handed. This crate never decides where a
//! release becomes visible: the publisher does, from a [`StagedRelease`].

mod copy;
mod direct;
mod manifest_files;
mod staging;

pub use copy::{
    CopySource, DEFAULT_PART_SIZE, OutputFile, SplitSink, copy_split, copy_stream, part_name,
};
pub use manifest_files::{read_manifest, write_manifest};
pub use staging::{MANIFEST_NAME, SUMS_NAME, StagedFile, StagedRelease, Staging};

use std::path::PathBuf;

/// Occurs when a release cannot be laid out.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AssembleError {
    /// Occurs when reading the source or writing an output file fails.
    #[error("{action} {path}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Occurs when the source ends before the size its extents promise.
    #[error("{name}: source ended after {got} of {expected} bytes (truncated image?)")]
    ShortSource {
        name: String,
        got: u64,
        expected: u64,
    },
    /// Occurs when an output name could escape the staging directory or confuse a hook.
    #[error("output name `{0}` is not a plain file name (allowed: letters, digits, `._+-`)")]
    BadName(String),
    /// Occurs when the part size is too small to be sensible.
    #[error("part size {0} is below the 1 MiB minimum")]
    PartSizeTooSmall(u64),
    /// Occurs when the manifest cannot be serialised or parsed.
    #[error("manifest {path}: {message}")]
    Manifest { path: PathBuf, message: String },
    /// Occurs when a staged release's files do not match what its manifest lists.
    #[error("staged release {path} is incomplete: {problem}; nothing was published")]
    Incomplete { path: PathBuf, problem: String },
}

impl AssembleError {
    /// A stable identifier of the failure, for logs, metrics and the catalogue.
    pub fn kind(&self) -> &'static str {
        match self {
            AssembleError::Io { .. } => "assemble-io",
            AssembleError::ShortSource { .. } => "assemble-short-source",
            AssembleError::BadName(_) => "assemble-bad-name",
            AssembleError::PartSizeTooSmall(_) => "assemble-part-size",
            AssembleError::Manifest { .. } => "assemble-manifest",
            AssembleError::Incomplete { .. } => "publish-incomplete",
        }
    }
}

/// Checks that `name` is a plain file name safe in URLs, shell hooks and every filesystem.
pub fn check_output_name(name: &str) -> Result<(), AssembleError> {
    if repack_core::is_plain_name(name) {
        Ok(())
    } else {
        Err(AssembleError::BadName(name.to_owned()))
    }
}
