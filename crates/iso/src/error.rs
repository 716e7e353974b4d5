//! [`IsoError`]: every way opening, walking or reading an image can fail, each carrying the
//! path inside the image (and the sector or byte offset where one is known), plus a stable
//! [`IsoError::kind`] string for metrics and the catalogue.

use std::path::PathBuf;

use crate::parse::rock_ridge::RockRidgeError;
use crate::parse::zisofs::ZisofsError;

/// Errors from `repack-iso`. Images are untrusted: most variants describe a hostile or
/// corrupt image and mean "nothing was read from it".
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IsoError {
    /// Occurs when the image file cannot be opened or its length read.
    #[error("cannot open ISO image `{path}`")]
    Open {
        /// The image file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// Occurs when a positioned read of the image fails or ends early.
    #[error("cannot read {len} bytes at byte {offset} of the image (for `{path}`)")]
    Read {
        /// The path inside the image being read.
        path: String,
        /// Absolute byte offset in the image.
        offset: u64,
        /// Bytes requested.
        len: u64,
        /// The operating system's error (`UnexpectedEof` for a truncated image).
        #[source]
        source: std::io::Error,
    },
    /// Occurs when the volume descriptors are missing or malformed (not an ISO 9660 image).
    #[error("not a usable ISO 9660 image: volume descriptor at sector {sector}: {reason}")]
    NotIso {
        /// Sector of the offending descriptor.
        sector: u64,
        /// What is wrong with it.
        reason: String,
    },
    /// Occurs when the image is shorter than the volume size it declares.
    #[error(
        "the image is truncated: it declares {declared} bytes but the file has {actual}; \
         nothing was read from it"
    )]
    Truncated {
        /// Volume size from the primary volume descriptor, in bytes.
        declared: u64,
        /// Length of the image file.
        actual: u64,
    },
    /// Occurs when hadris-iso rejects a directory or its records, or reports I/O failure.
    #[error("malformed directory `{path}`: {reason}")]
    Malformed {
        /// The directory being read.
        path: String,
        /// hadris-iso's description.
        reason: String,
    },
    /// Occurs when an extent (of a file, directory or path table) reaches past the image end.
    #[error(
        "`{path}`: extent at sector {lba} ({len} bytes) reaches past the end of the \
         {image_size}-byte image"
    )]
    ExtentPastEnd {
        /// The path inside the image whose extent is out of bounds.
        path: String,
        /// The extent's first sector.
        lba: u64,
        /// The extent's length in bytes.
        len: u64,
        /// The image length in bytes.
        image_size: u64,
    },
    /// Occurs when a file claims more bytes than the whole image holds.
    #[error("`{path}` claims {size} bytes but the whole image has only {image_size}")]
    SizeLargerThanImage {
        /// The path inside the image.
        path: String,
        /// The claimed size.
        size: u64,
        /// The image length.
        image_size: u64,
    },
    /// Occurs when two extents of one multi-extent file cover the same bytes.
    #[error(
        "`{path}`: multi-extent chain overlaps itself (extents at sectors {first} and {second})"
    )]
    OverlappingExtents {
        /// The path inside the image.
        path: String,
        /// Sector of the earlier extent.
        first: u64,
        /// Sector of the extent that overlaps it.
        second: u64,
    },
    /// Occurs when a directory's extent is the extent of itself or one of its ancestors.
    #[error("`{path}` is a directory loop: its extent at sector {lba} is an ancestor's")]
    DirectoryLoop {
        /// The directory entry that points back.
        path: String,
        /// The sector it points to.
        lba: u64,
    },
    /// Occurs when a name recorded in the image (Rock Ridge, Joliet or ISO 9660) is unsafe:
    /// empty, `.`, `..`, containing `/` or NUL, too long, or undecodable.
    #[error("directory `{dir}` holds an unsafe name {name:?}: {reason}")]
    BadName {
        /// The directory holding the entry.
        dir: String,
        /// The name, as decoded.
        name: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// Occurs when one directory lists the same name twice.
    #[error("directory `{dir}` lists `{name}` more than once")]
    DuplicateName {
        /// The directory.
        dir: String,
        /// The repeated name.
        name: String,
    },
    /// Occurs when a path or walk goes deeper than [`crate::Limits::max_depth`].
    #[error("`{path}` is {depth} directories deep; the limit is {max}")]
    TooDeep {
        /// The path (or its first `max` components).
        path: String,
        /// Its depth.
        depth: usize,
        /// The limit.
        max: usize,
    },
    /// Occurs when a directory or a walk exceeds an entry-count or size limit.
    #[error("directory `{path}` exceeds the limit of {max} {what}")]
    TooMany {
        /// The directory.
        path: String,
        /// What was counted: `"entries"`, `"bytes"`, `"entries in one walk"`.
        what: &'static str,
        /// The limit.
        max: u64,
    },
    /// Occurs when a requested path does not exist.
    #[error("`{path}` not found in the image")]
    NotFound {
        /// The first missing path.
        path: String,
    },
    /// Occurs when a path goes through a component that is not a directory.
    #[error("`{path}` is not a directory")]
    NotADirectory {
        /// The component that is not a directory.
        path: String,
    },
    /// Occurs when a path names a directory, device, FIFO or socket where a regular file is needed.
    #[error("`{path}` is a {kind}, not a regular file")]
    NotARegularFile {
        /// The path.
        path: String,
        /// What it is instead (see [`crate::EntryKind::as_str`]).
        kind: &'static str,
    },
    /// Occurs when a path reaches a Rock Ridge symbolic link; repack never follows them.
    #[error("`{path}` is a symbolic link to `{target}`; symbolic links are not followed")]
    Symlink {
        /// The link.
        path: String,
        /// Its target as recorded.
        target: String,
    },
    /// Occurs when a requested path or pattern is unusable (`..`, NUL, wildcards before the
    /// last component).
    #[error("invalid path `{path}`: {reason}")]
    InvalidPath {
        /// The path as given.
        path: String,
        /// Why.
        reason: &'static str,
    },
    /// Occurs when a glob pattern does not parse.
    #[error("invalid pattern `{pattern}`")]
    Pattern {
        /// The pattern.
        pattern: String,
        /// globset's error.
        #[source]
        source: globset::Error,
    },
    /// Occurs when a pattern matches no regular file.
    #[error("`{pattern}` matches no regular file{}", others_note(.others))]
    NoMatch {
        /// The pattern.
        pattern: String,
        /// Non-regular entries that matched (directories, links).
        others: Vec<String>,
    },
    /// Occurs when a pattern matches more than one regular file.
    #[error("`{pattern}` matches {} files, expected exactly one: {}", .matches.len(), .matches.join(", "))]
    Ambiguous {
        /// The pattern.
        pattern: String,
        /// Every regular file that matched.
        matches: Vec<String>,
    },
    /// Occurs when a read would exceed the caller's size cap.
    #[error("`{path}` is {size} bytes, more than the {max}-byte limit for this read")]
    TooLarge {
        /// The path.
        path: String,
        /// Its size.
        size: u64,
        /// The cap.
        max: u64,
    },
    /// Occurs when an [`crate::IsoFile`] built or changed by a caller breaks its invariant.
    #[error(
        "`{path}`: its extents (or compression entry) promise {sum} bytes but its size is {size}"
    )]
    InvalidIsoFile {
        /// The path.
        path: String,
        /// Sum of the extent lengths (the declared uncompressed size for a compressed file).
        sum: u64,
        /// The declared size.
        size: u64,
    },
    /// Occurs when a Rock Ridge entry repack reads itself (`ZF`, `CE`) is malformed.
    #[error("`{path}`: malformed Rock Ridge entry; nothing was read from the file")]
    RockRidge {
        /// The file whose directory record holds the entry.
        path: String,
        /// What is wrong with it.
        #[source]
        source: RockRidgeError,
    },
    /// Occurs when the byte ranges of a compressed file are asked for as its content (see
    /// [`crate::IsoFile::extents`]): they hold the compressed form. [`crate::read_file`]
    /// and [`crate::ExtentReader`] decode it.
    #[error(
        "`{path}` is compressed ({algorithm}, Rock Ridge ZF): its extents hold compressed \
         bytes, not its content; it must be read through the decoder, not copied by extent"
    )]
    Compressed {
        /// The file.
        path: String,
        /// The compression algorithm (`pz` for zisofs).
        algorithm: String,
    },
    /// Occurs when a compressed file's stored form is unsupported or corrupt (its header,
    /// pointer table or a block); nothing it decodes to is returned.
    #[error("cannot decompress `{path}` (Rock Ridge ZF, zisofs)")]
    Zisofs {
        /// The file.
        path: String,
        /// What is wrong, with the block and stored byte offset.
        #[source]
        source: ZisofsError,
    },
}

fn others_note(others: &[String]) -> String {
    if others.is_empty() {
        String::new()
    } else {
        format!(" (matched only: {})", others.join(", "))
    }
}

impl IsoError {
    /// A stable, short identifier of the failure, for metrics labels and the catalogue.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Open { .. } => "iso-open",
            Self::Read { .. } => "iso-read",
            Self::NotIso { .. } => "iso-not-iso9660",
            Self::Truncated { .. } => "iso-truncated",
            Self::Malformed { .. } => "iso-malformed",
            Self::ExtentPastEnd { .. } => "iso-extent-past-end",
            Self::SizeLargerThanImage { .. } => "iso-size-larger-than-image",
            Self::OverlappingExtents { .. } => "iso-overlapping-extents",
            Self::DirectoryLoop { .. } => "iso-directory-loop",
            Self::BadName { .. } => "iso-bad-name",
            Self::DuplicateName { .. } => "iso-duplicate-name",
            Self::TooDeep { .. } => "iso-too-deep",
            Self::TooMany { .. } => "iso-too-many",
            Self::NotFound { .. } => "iso-not-found",
            Self::NotADirectory { .. } => "iso-not-a-directory",
            Self::NotARegularFile { .. } => "iso-not-a-regular-file",
            Self::Symlink { .. } => "iso-symlink",
            Self::InvalidPath { .. } => "iso-invalid-path",
            Self::Pattern { .. } => "iso-invalid-pattern",
            Self::NoMatch { .. } => "iso-no-match",
            Self::Ambiguous { .. } => "iso-ambiguous",
            Self::TooLarge { .. } => "iso-too-large",
            Self::InvalidIsoFile { .. } => "iso-invalid-iso-file",
            Self::RockRidge { .. } => "iso-bad-rock-ridge",
            Self::Compressed { .. } => "iso-compressed",
            Self::Zisofs { source, .. } => source.kind(),
        }
    }

    /// True when the failure describes the image's content (corrupt or hostile), as opposed
    /// to the caller's request (a missing path, an ambiguous glob) or the operating system.
    pub fn is_bad_image(&self) -> bool {
        matches!(
            self,
            Self::NotIso { .. }
                | Self::Truncated { .. }
                | Self::Malformed { .. }
                | Self::ExtentPastEnd { .. }
                | Self::SizeLargerThanImage { .. }
                | Self::OverlappingExtents { .. }
                | Self::DirectoryLoop { .. }
                | Self::BadName { .. }
                | Self::DuplicateName { .. }
                | Self::TooDeep { .. }
                | Self::TooMany { .. }
                | Self::RockRidge { .. }
                | Self::Zisofs { .. }
        )
    }
}
