//! Read, append to and lint Linux initramfs images.
//!
//! [`Initrd::open`] splits an image the way the kernel's `unpack_to_rootfs` walks it — NUL
//! padding, uncompressed newc entries (4-byte aligned), compressed members recognised by
//! their two-byte magic and decoded with single-member decoders so each boundary is exact —
//! into [`Segment`]s, and reads every cpio header. Entries are replayed on a model of the
//! kernel's rootfs, so [`Initrd::tree`] and [`Initrd::read_file`] show what the kernel really
//! produces (later members win, hard links share an inode, entries without a parent vanish).
//!
//! [`Initrd::appendix`] builds one [`Overlay`] as a new member compressed with a [`Codec`],
//! zero-padded to 4096 after the base; upstream segments are never re-encoded.
//! [`Initrd::patched`] parses the result by walking on from the base's end (the base is
//! decoded once, however often it is patched and checked), and the patched image is written
//! as a new file (the base copied unchanged, by the kernel where it can) or in place (only
//! the appendix is written). [`lint`] reports every way the kernel would silently ignore or
//! break an image, and states what it unpacks to ([`UnpackedSize`]: the RAM its rootfs
//! takes, also from [`Initrd::unpacked_size`]). [`Initrd::open_extents`] reads an image
//! where it lies inside another file (an initrd inside an ISO).
//!
//! Images are untrusted input: parsing is bounds-checked, never panics, and every decoder
//! counts its output against [`Limits`] (decompression bombs stop with an error). This crate
//! does not unpack images to disk and does not decode lzo members.

mod compression;
mod decode;
mod encode;
mod error;
#[doc(hidden)]
pub mod fuzz;
mod initrd;
mod limits;
mod lint;
mod machine;
mod model;
pub mod newc;
mod overlay;
mod segment;
mod size;
mod source;
mod split;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use compression::Compression;
pub use encode::Codec;
pub use error::{Error, Result};
pub use initrd::{
    APPEND_ALIGN, AppendReport, Appendix, Entry, EntryKind, EntryStatus, Initrd, TreeEntry,
};
pub use limits::Limits;
pub use lint::{Finding, LintOptions, LintReport, MAX_UNPACKED_BYTES, RULES, lint, lint_with};
pub use overlay::{Adaptation, Overlay, SOURCE_DATE_EPOCH};
pub use segment::{Fault, Segment, SegmentKind};
pub use size::{INODE_BYTES, PAGE_SIZE, UnpackedSize};
