//! Read-only access to ISO 9660 images by extent: open an upstream live ISO, find the
//! kernel, initrd and rootfs a recipe names, and read their bytes where they lie, without
//! extracting the image.
//!
//! [`open`] returns an [`Iso`], which implements the [`IsoImage`] trait: [`IsoImage::list`]
//! a directory, [`IsoImage::lookup`] a regular file, [`IsoImage::resolve`] a glob to exactly
//! one regular file. Files come back as [`IsoFile`]s (a path, a size and the [`Extent`]s
//! holding the bytes, multi-extent files included); [`read_file`] and [`ExtentReader`] read
//! those bytes with positioned reads. Names are Rock Ridge when present, else Joliet, else
//! plain ISO 9660 with `;1` stripped.
//!
//! A file whose Rock Ridge `ZF` entry marks it zisofs-compressed (mkisofs `-z`, xorriso
//! `--zisofs`) is stored compressed: [`read_file`] and [`ExtentReader`] decode it, checking
//! its header, block pointer table and every block's size; [`IsoFile::extents`], which hands
//! out byte ranges to copy as content, refuses it ([`IsoError::Compressed`]), so a caller
//! copying by extent can never publish compressed bytes by mistake.
//!
//! Images are untrusted. The volume descriptors are checked by our own parser
//! ([`parse::volume_descriptor`]) before hadris-iso reads directory records and Rock Ridge
//! entries; every extent, name and directory it returns is checked again here. Directory
//! loops, extents past the end, oversized or overlapping extents, unsafe names (`/`, `.`,
//! `..`, NUL), symbolic links, devices and excessive depth or entry counts are refused with
//! an [`IsoError`] naming the path, never a panic or an endless walk (see [`Limits`]).
//!
//! This crate never writes, never follows symbolic links and never extracts a whole image.
//! It is synchronous; async callers use `spawn_blocking`.

mod error;
mod extent;
mod image;
mod names;
pub mod parse;
mod source;
mod zisofs;

#[doc(hidden)]
pub mod fuzzing;

use std::path::Path;

pub use error::IsoError;
pub use extent::{Extent, ExtentReader, IsoFile, read_file};
pub use image::Iso;
pub use names::{MAX_NAME_BYTES, Namespace};
pub use parse::rock_ridge::ZfEntry;
pub use parse::zisofs::ZisofsError;
pub use source::ReadAt;

/// Opens the image at `path` with the default [`Limits`].
pub fn open(path: &Path) -> Result<Iso, IsoError> {
    Iso::open(path)
}

/// Read-only view of an image's directory tree. Paths are absolute or relative to the
/// root, `/`-separated; `.` and repeated slashes are ignored and `..` is refused.
pub trait IsoImage {
    /// The entries of directory `dir` (without `.` and `..`), in on-disk order.
    fn list(&self, dir: &str) -> Result<Vec<DirEntry>, IsoError>;

    /// The regular file at `path`. Directories, devices and symbolic links are errors.
    fn lookup(&self, path: &str) -> Result<IsoFile, IsoError>;

    /// The one regular file matched by `pattern`, whose components may hold globs (`*`, `?`,
    /// `[..]`, `{a,b}`): a directory component must match exactly one directory, the last
    /// exactly one regular file. No match, or several, is an error that lists them.
    fn resolve(&self, pattern: &str) -> Result<IsoFile, IsoError>;
}

/// One entry of a directory listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    /// The entry's name: never empty, `.`, `..`, and never containing `/` or NUL.
    pub name: String,
    /// What the entry is.
    pub kind: EntryKind,
    /// File size in bytes: all extents, or the uncompressed size a Rock Ridge `ZF` entry
    /// declares for a compressed file; the directory's record length for directories.
    pub size: u64,
    /// POSIX mode from Rock Ridge `PX`, when present.
    pub mode: Option<u32>,
    /// Rock Ridge `SL` target of a symbolic link, as recorded (never followed).
    pub symlink_target: Option<String>,
}

/// The type of a directory entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EntryKind {
    /// A regular file.
    File,
    /// A directory.
    Directory,
    /// A Rock Ridge symbolic link.
    Symlink,
    /// A character device (Rock Ridge mode).
    CharDevice,
    /// A block device (Rock Ridge mode).
    BlockDevice,
    /// A named pipe (Rock Ridge mode).
    Fifo,
    /// A socket (Rock Ridge mode).
    Socket,
    /// A file record whose Rock Ridge mode names an unknown or contradictory type.
    Other,
}

impl EntryKind {
    /// Lower-case name, for messages and `--json`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::File => "file",
            Self::Directory => "directory",
            Self::Symlink => "symlink",
            Self::CharDevice => "character device",
            Self::BlockDevice => "block device",
            Self::Fifo => "fifo",
            Self::Socket => "socket",
            Self::Other => "unknown type",
        }
    }
}

/// Caps that keep a hostile image from costing unbounded time or memory.
///
/// The defaults are far above what real live ISOs need (the deepest path in a Debian or
/// Ubuntu image is under 15 levels; the largest directory a few thousand entries).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Most path components in a lookup, and deepest directory in a walk. Default 64.
    pub max_depth: usize,
    /// Most entries in one directory. Default 100 000.
    pub max_dir_entries: usize,
    /// Largest directory extent in bytes. Default 32 MiB.
    pub max_dir_bytes: u64,
    /// Most entries visited by one [`Iso::walk`]. Default 2 000 000.
    pub max_walk_entries: u64,
    /// Largest path table in bytes (hadris-iso reads it whole on open). Default 16 MiB.
    pub max_path_table_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 64,
            max_dir_entries: 100_000,
            max_dir_bytes: 32 << 20,
            max_walk_entries: 2_000_000,
            max_path_table_bytes: 16 << 20,
        }
    }
}
