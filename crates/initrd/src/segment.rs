//! Segments: the byte ranges an image splits into, and the faults that stop the kernel.

use serde::Serialize;

use crate::compression::Compression;

/// What a byte range of the image is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "type", content = "codec")]
pub enum SegmentKind {
    /// NUL bytes between members (skipped by the kernel).
    Padding,
    /// Uncompressed newc entries (a run that ends with `TRAILER!!!` or before other data).
    Newc,
    /// One compressed member.
    Compressed(Compression),
    /// Bytes the kernel cannot use (unknown magic); only ever the last segment.
    Unknown,
}

impl SegmentKind {
    /// `padding`, `newc`, `zstd`, `unknown`, ...
    pub fn name(&self) -> &'static str {
        match self {
            SegmentKind::Padding => "padding",
            SegmentKind::Newc => "newc",
            SegmentKind::Compressed(c) => c.name(),
            SegmentKind::Unknown => "unknown",
        }
    }
}

/// A place where the kernel stops unpacking: this segment is (partly) lost and every
/// segment after it is ignored. (One exception, only in images opened by
/// [`crate::lint_with`]: a `decode-limit` fault is where repack stopped decoding a member
/// larger than its [`crate::Limits`]; nothing after it was read.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fault {
    /// Absolute byte offset in the image where the problem is detected.
    pub offset: u64,
    /// Stable kebab-case lint rule id.
    pub rule: &'static str,
    /// What is wrong and what the kernel does about it.
    pub message: String,
}

/// One byte range of the image, in kernel order.
///
/// Invariant: segments are contiguous and cover the image exactly: `segments[0].offset == 0`,
/// each `offset + len` is the next one's `offset`, the last ends at the image length.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Segment {
    /// Position in [`crate::Initrd::segments`].
    pub index: usize,
    /// Absolute offset of the first byte.
    pub offset: u64,
    /// Length in bytes (for a member with a fault: up to the end of the image).
    pub len: u64,
    pub kind: SegmentKind,
    /// Decompressed size of a compressed member (None for others or when decoding failed).
    pub decompressed_len: Option<u64>,
    /// Number of cpio entries (including `TRAILER!!!`) read from this segment.
    pub entries: usize,
    /// Set when the kernel stops unpacking inside this segment.
    pub fault: Option<Fault>,
}

impl Segment {
    /// The offset one past the last byte.
    pub fn end(&self) -> u64 {
        self.offset + self.len
    }

    /// The compression of a compressed member.
    pub fn compression(&self) -> Option<Compression> {
        match self.kind {
            SegmentKind::Compressed(c) => Some(c),
            _ => None,
        }
    }
}
