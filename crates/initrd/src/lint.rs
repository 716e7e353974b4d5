//! Lint: every way the kernel silently ignores or breaks an image, as findings with offsets.
//!
//! Findings come from three places: the segment faults where the kernel stops unpacking
//! (bad magic, xz check, lz4 frame, misaligned member, corrupt or junk-filled members);
//! remarks made while scanning (a body running past the end, a gzip trailer that does not
//! match); and the replay of every entry on a model of the rootfs (entries dropped for a
//! missing parent, hard links rewritten through a later file, early microcode that is not
//! in the leading uncompressed archives, names that escape the root). Each rule has a
//! stable kebab-case id.
//!
//! Every report also states what the image unpacks to ([`UnpackedSize`], measured by the
//! same replay), and flags a rootfs too large to be plausible (`unpacked-too-large`, above
//! [`LintOptions::max_unpacked_bytes`]): on a machine without room for it the kernel fails
//! with "write error" and drops everything after. [`lint_with`] also reports a member that
//! decodes past repack's own [`Limits`] (`decode-limit`) instead of failing, so a
//! decompression bomb is a finding with its size so far, decoded once and never held.

use std::path::Path;

use serde::Serialize;

use crate::error::Result;
use crate::initrd::Initrd;
use crate::limits::Limits;
use crate::model::Fate;
use crate::segment::{Segment, SegmentKind};
use crate::size::{UnpackedSize, human};
use crate::split::{DECODE_LIMIT, Record};

/// Every rule id lint can report, with a one-line description.
pub const RULES: &[(&str, &str)] = &[
    (
        "xz-unsupported-check",
        "xz member with a CRC64/SHA-256 check: the kernel stops unpacking",
    ),
    (
        "lz4-frame-format",
        "LZ4 frame instead of legacy lz4: the kernel stops unpacking",
    ),
    (
        "lz4-legacy-not-last",
        "a member after a legacy-lz4 member is lost",
    ),
    (
        "misaligned-newc",
        "uncompressed cpio member not 4-byte aligned: the kernel stops unpacking",
    ),
    (
        "broken-padding",
        "member at an unaligned offset after an uncompressed entry: the kernel stops",
    ),
    (
        "unknown-magic",
        "bytes that are neither padding, cpio nor a known compression (trailing garbage)",
    ),
    (
        "junk-in-member",
        "a compressed member whose content is not clean cpio: the kernel stops",
    ),
    (
        "corrupt-member",
        "a compressed member that does not decode: the kernel stops",
    ),
    (
        "bad-cpio-header",
        "a cpio header the kernel refuses (odc, no magic, unterminated name)",
    ),
    (
        "cpio-bad-checksum",
        "a 070702 entry whose data does not match its checksum: the kernel stops",
    ),
    (
        "unsupported-compression",
        "a member repack cannot decode (lzo): it cannot be checked",
    ),
    (
        "gzip-header-flags",
        "gzip header fields the kernel does not parse",
    ),
    (
        "gzip-trailer-mismatch",
        "gzip trailer CRC/size does not match the data",
    ),
    (
        "cpio-crc-format",
        "newc-with-checksum (070702) entries, refused by older kernels",
    ),
    (
        "data-past-end",
        "a cpio entry whose data runs past the end of the image",
    ),
    (
        "missing-parent",
        "an entry whose parent directory does not exist: silently dropped",
    ),
    (
        "entry-dropped",
        "an entry the kernel cannot create (something in the way)",
    ),
    (
        "entry-ignored",
        "a header the kernel skips (bad name size, long symlink, body on non-file)",
    ),
    (
        "hardlink-overwrite",
        "a file written over a hard-linked path: every link changes",
    ),
    (
        "dir-replaces-symlink",
        "a directory entry over a symlink (e.g. `bin -> usr/bin`): the link is replaced",
    ),
    (
        "microcode-not-early",
        "early microcode outside the leading uncompressed cpio archives",
    ),
    (
        "path-escape",
        "a name with `..` components or an absolute path",
    ),
    (
        "unpacked-too-large",
        "the unpacked rootfs needs more RAM than the cap (2 GiB by default): smaller machines fail with \"write error\"",
    ),
    (
        "decode-limit",
        "a member decodes past repack's limits (a decompression bomb): nothing after it was checked",
    ),
];

/// Default cap on what an image unpacks to ([`UnpackedSize::peak_bytes`]) above which lint
/// reports `unpacked-too-large`: 2 GiB.
///
/// Why 2 GiB: without `root=` the kernel unpacks into tmpfs capped at half of RAM, so a
/// 2 GiB rootfs needs a 4 GiB machine just to unpack (the compressed image is held too until
/// the unpacking ends), before the live system fetches its own root image into RAM. Real
/// initramfs images (initramfs-tools, dracut, mkinitcpio, casper, firmware included) unpack
/// to tens or a few hundred MiB, so a rootfs past the cap is a mistake or an attack (a
/// zero-filled file costs a few KiB compressed). Operators who boot larger images on
/// purpose raise it with [`LintOptions::max_unpacked_bytes`].
pub const MAX_UNPACKED_BYTES: u64 = 2 << 30;

/// Settings of [`lint_with`] and [`Initrd::lint_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct LintOptions {
    /// The largest rootfs ([`UnpackedSize::peak_bytes`]) not reported as
    /// `unpacked-too-large`; [`MAX_UNPACKED_BYTES`] by default.
    pub max_unpacked_bytes: u64,
}

impl Default for LintOptions {
    fn default() -> Self {
        LintOptions {
            max_unpacked_bytes: MAX_UNPACKED_BYTES,
        }
    }
}

impl LintOptions {
    /// Sets [`LintOptions::max_unpacked_bytes`].
    pub fn max_unpacked_bytes(mut self, bytes: u64) -> Self {
        self.max_unpacked_bytes = bytes;
        self
    }
}

/// One problem, where it is and why it matters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Absolute byte offset in the image (for entries inside a compressed member: the
    /// member's offset; the message gives the position in its output).
    pub offset: u64,
    /// Stable kebab-case rule id (see [`RULES`]).
    pub rule: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segment: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

impl Finding {
    pub(crate) fn new(offset: u64, rule: &'static str, message: impl Into<String>) -> Self {
        Finding {
            offset,
            rule,
            message: message.into(),
            segment: None,
            path: None,
        }
    }

    pub(crate) fn segment(mut self, s: usize) -> Self {
        self.segment = Some(s);
        self
    }

    pub(crate) fn path(mut self, p: impl Into<String>) -> Self {
        self.path = Some(p.into());
        self
    }
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "byte {}: [{}] {}", self.offset, self.rule, self.message)
    }
}

/// The result of [`lint`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LintReport {
    pub findings: Vec<Finding>,
    /// What the image unpacks to (lower bounds when `unpacked.complete` is false).
    pub unpacked: UnpackedSize,
}

impl LintReport {
    /// True when nothing was found.
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }

    /// True when some finding has rule `rule`.
    pub fn has(&self, rule: &str) -> bool {
        self.findings.iter().any(|f| f.rule == rule)
    }
}

/// Opens `path` and lints it with the default [`Limits`] and [`LintOptions`].
pub fn lint(path: &Path) -> Result<LintReport> {
    lint_with(path, Limits::default(), &LintOptions::default())
}

/// Opens `path` and lints it. A member that decodes past `limits` is reported as
/// `decode-limit` (with [`UnpackedSize::complete`] false) rather than failing; other limits
/// ([`Limits::max_entries`]) and I/O errors still fail.
pub fn lint_with(path: &Path, limits: Limits, options: &LintOptions) -> Result<LintReport> {
    Ok(Initrd::open_for_lint(path, limits)?.lint_with(options))
}

const MICROCODE_DIR: &str = "kernel/x86/microcode/";

/// Where record `r` of segment `seg` is, for a finding: the header's absolute offset in an
/// uncompressed archive, the member's offset otherwise; and how a message names the place.
fn locate(seg: &Segment, r: &Record) -> (u64, String) {
    match seg.kind {
        SegmentKind::Newc => (r.raw.header_pos, format!("segment {}", seg.index)),
        _ => (
            seg.offset,
            format!(
                "segment {} ({}) at output byte {}",
                seg.index,
                seg.kind.name(),
                r.raw.header_pos
            ),
        ),
    }
}

pub(crate) fn run(initrd: &Initrd, options: &LintOptions) -> LintReport {
    let segments = initrd.segments();
    let mut findings: Vec<Finding> = Vec::new();
    for s in segments {
        if let Some(f) = &s.fault {
            let mut msg = f.message.clone();
            // A decode-limit fault is where repack stopped, not the kernel; it says so itself.
            if f.rule != DECODE_LIMIT && (s.end() > f.offset || s.index + 1 < segments.len()) {
                msg.push_str("; the kernel ignores everything from here to the end of the image");
            }
            findings.push(Finding::new(f.offset, f.rule, msg).segment(s.index));
        }
    }
    findings.extend(initrd.remarks().cloned());

    // Leading uncompressed run: the segments the early microcode loader scans.
    let early_end = segments
        .iter()
        .position(|s| !matches!(s.kind, SegmentKind::Newc | SegmentKind::Padding))
        .unwrap_or(segments.len());
    let starts_with_newc = segments
        .first()
        .is_some_and(|s| s.kind == SegmentKind::Newc);

    let model = initrd.model();
    for (i, r) in initrd.records().iter().enumerate() {
        let seg = &segments[r.segment];
        let name = String::from_utf8_lossy(&r.raw.name).into_owned();
        let (at, where_) = locate(seg, r);
        let f = |rule, msg: String| {
            Finding::new(at, rule, msg)
                .segment(seg.index)
                .path(name.clone())
        };
        if r.raw.is_trailer {
            continue;
        }
        if r.raw.ignored.is_none()
            && (r.raw.name.first() == Some(&b'/')
                || r.raw.name.split(|&b| b == b'/').any(|c| c == b".."))
        {
            findings.push(f(
                "path-escape",
                format!("entry `{name}` in {where_} has an absolute name or a `..` component; tools that unpack to disk may write outside the target"),
            ));
        }
        match &model.fates[i] {
            Fate::Ignored => {
                let why = r.raw.ignored.map(|g| g.reason()).unwrap_or("ignored");
                findings.push(f(
                    "entry-ignored",
                    format!("entry `{name}` in {where_} is skipped by the kernel: {why}"),
                ));
            }
            Fate::Dropped { reason } => {
                let rule = match reason {
                    crate::model::DropReason::MissingParent { .. } => "missing-parent",
                    _ => "entry-dropped",
                };
                findings.push(f(
                    rule,
                    format!(
                        "entry `{name}` in {where_} is silently dropped by the kernel: {}",
                        reason.describe()
                    ),
                ));
            }
            _ => {}
        }
        let norm = crate::model::normalize(&r.raw.name);
        let is_ucode = norm.starts_with(MICROCODE_DIR)
            && r.raw.header.mode & crate::newc::S_IFMT == crate::newc::S_IFREG;
        if is_ucode && !(starts_with_newc && r.segment < early_end) {
            findings.push(f(
                "microcode-not-early",
                format!(
                    "early microcode `{norm}` is in {where_}, not in the uncompressed cpio archives at the start of the \
                     image; the early loader never sees it and the CPU runs without the update (silently)"
                ),
            ));
        }
    }
    for so in &model.shared_overwrites {
        let r = &initrd.records()[so.record];
        let seg = &segments[r.segment];
        let name = String::from_utf8_lossy(&r.raw.name).into_owned();
        let from = so
            .original
            .map(|o| format!(" (from segment {})", initrd.records()[o].segment))
            .unwrap_or_default();
        findings.push(
            Finding::new(
                if seg.kind == SegmentKind::Newc { r.raw.header_pos } else { seg.offset },
                "hardlink-overwrite",
                format!(
                    "entry `{name}` in segment {} overwrites a file that is hard-linked{from} to {}; the kernel truncates \
                     and rewrites the shared inode, so those paths change too (write a symlink entry at the path first)",
                    seg.index,
                    summarize(&so.others)
                ),
            )
            .segment(seg.index)
            .path(name),
        );
    }
    for (rec, old, path) in &model.replaced_symlinks {
        let r = &initrd.records()[*rec];
        let seg = &segments[r.segment];
        let from = old
            .map(|o| format!(" from segment {}", initrd.records()[o].segment))
            .unwrap_or_default();
        findings.push(
            Finding::new(
                if seg.kind == SegmentKind::Newc { r.raw.header_pos } else { seg.offset },
                "dir-replaces-symlink",
                format!(
                    "directory entry `{}` in segment {} replaces the symlink `{path}`{from}; the kernel unlinks the                      symlink and creates an empty directory, so everything reached through it disappears (a merged-/usr                      `bin` or `lib` link breaks the boot); leave existing directories out of the overlay",
                    String::from_utf8_lossy(&r.raw.name),
                    seg.index
                ),
            )
            .segment(seg.index)
            .path(path.clone()),
        );
    }
    let unpacked = initrd.unpacked_size();
    findings.extend(too_large(initrd, &unpacked, options.max_unpacked_bytes));
    findings.sort_by(|a, b| (a.offset, a.rule).cmp(&(b.offset, b.rule)));
    LintReport { findings, unpacked }
}

/// `unpacked-too-large`, placed at the entry after which the rootfs first holds more than
/// `cap`: where a machine with exactly that much room would fail with "write error".
fn too_large(initrd: &Initrd, unpacked: &UnpackedSize, cap: u64) -> Option<Finding> {
    if unpacked.peak_bytes <= cap {
        return None;
    }
    let i = initrd.model().occupancy.iter().position(|&o| o > cap)?;
    let r = &initrd.records()[i];
    let seg = &initrd.segments()[r.segment];
    let name = String::from_utf8_lossy(&r.raw.name).into_owned();
    let (at, where_) = locate(seg, r);
    let at_least = if unpacked.complete { "" } else { "at least " };
    let peak = unpacked.peak_bytes;
    Some(
        Finding::new(
            at,
            "unpacked-too-large",
            format!(
                "the unpacked rootfs holds {at_least}{peak} bytes ({}) at its peak, more than the cap of {cap} bytes \
                 ({}); it passes the cap at entry `{name}` in {where_} ({at_least}{} bytes of data in {} files, {} \
                 inodes in all). The kernel unpacks into tmpfs capped at half of RAM (ramfs with `root=`): a machine \
                 with less than {} of RAM fails with \"Initramfs unpacking failed: write error\" and loses the rest of \
                 this member and every member after it",
                human(peak),
                human(cap),
                unpacked.file_bytes,
                unpacked.files,
                unpacked.inodes,
                human(peak.saturating_mul(2)),
            ),
        )
        .segment(seg.index)
        .path(name),
    )
}

/// At most five paths, then a count.
fn summarize(paths: &[String]) -> String {
    let mut s = paths.iter().take(5).cloned().collect::<Vec<_>>().join(", ");
    if paths.len() > 5 {
        s.push_str(&format!(" and {} more", paths.len() - 5));
    }
    s
}
