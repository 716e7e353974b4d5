//! Lay out one release in a staging directory: the assembly stage of a build.
//!
//! [`Assembly::build`] is the stage: from a verified ISO to a [`StagedRelease`]. It resolves
//! the recipe's paths in the image (`repack-iso`), checks that the kernel has its modules in
//! the initrd and the root images, appends the boot family's overlay to the upstream initrd
//! (`repack-boot`, `repack-initrd`; the result must pass the kernel-rules lint), lays out
//! kernel, initrd, root images and side files, and writes the manifest. [`RootfsTap`] is the
//! part of the stage that runs during the download: a [`StreamTap`](repack_fetch::StreamTap)
//! that lays the root images out as their bytes stream in ([`StreamedFile`]s the build moves
//! into place once the ISO's digest matched). Everything here is synchronous and blocking.
//!
//! [`copy_split`] copies a file's bytes from their extents in the upstream image straight
//! into the output, cutting it into parts of at most `part_size` bytes and hashing every
//! part in the same pass: each byte is read once and written once, with one fixed
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

mod build;
mod consistency;
mod copy;
mod direct;
mod manifest_files;
mod reuse;
mod staging;
mod stream;

pub use build::Assembly;
pub use copy::{
    CopySource, DEFAULT_PART_SIZE, OutputFile, SplitSink, copy_split, copy_stream, part_name,
};
pub use manifest_files::{read_manifest, write_manifest};
pub use reuse::PublishedParts;
pub use staging::{MANIFEST_NAME, SUMS_NAME, StagedFile, StagedRelease, Staging};
pub use stream::{RootfsTap, StreamedFile};

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

/// Occurs when a verified ISO cannot be made into a release; the variant names the step.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// Occurs when the verified ISO is not what the recipe expects (a path is missing, an
    /// extent is out of bounds, ...); `url` names the upstream image.
    #[error("reading the ISO {url} failed")]
    Iso {
        url: String,
        #[source]
        source: repack_iso::IsoError,
    },
    #[error("patching the initrd failed")]
    Initrd(#[from] repack_initrd::Error),
    /// Occurs when the patched initrd breaks a kernel rule; it is never published.
    #[error("the patched initrd breaks the kernel's rules: {findings}")]
    InitrdLint { findings: String },
    #[error("preparing the boot hook failed")]
    Boot(#[from] repack_boot::BootError),
    /// Occurs when the recipe's paths give two images the same published name.
    #[error("recipe paths `{first}` and `{second}` would both be published as `{name}`")]
    NameClash {
        first: String,
        second: String,
        name: String,
    },
    #[error("laying out the release failed")]
    Assemble(#[from] AssembleError),
    /// Occurs when the download stored a root image only as parts (a hollow ISO) but the
    /// build cannot use them; nothing was published, and the next run downloads again.
    #[error("the root images streamed during the download cannot be used: {detail}")]
    StreamIncomplete { detail: String },
    /// Occurs when the ISO's kernel has no modules in the initrd or root image that carry
    /// modules: the booted system would run without its drivers.
    #[error(
        "kernel and modules disagree: the ISO's kernel is {kernel}, but the {place} has kernel modules only for {found}; the booted system would have no drivers"
    )]
    KernelMismatch {
        kernel: String,
        place: String,
        found: String,
    },
}

impl BuildError {
    /// A stable identifier of the failure, for logs, metrics and the catalogue.
    pub fn kind(&self) -> &'static str {
        match self {
            BuildError::Iso { source, .. } => source.kind(),
            BuildError::Initrd(error) => error.kind(),
            BuildError::InitrdLint { .. } => "initrd-lint",
            BuildError::Boot(error) => error.kind(),
            BuildError::NameClash { .. } => "recipe-name-clash",
            BuildError::Assemble(error) => error.kind(),
            BuildError::StreamIncomplete { .. } => "stream-incomplete",
            BuildError::KernelMismatch { .. } => "kernel-mismatch",
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
