//! [`Initrd`]: an opened image with its segments, entries and effective tree.
//!
//! Opening decodes every member once (streaming, nothing kept but headers), which gives
//! exact segment boundaries and every cpio header; file bodies are read again on demand.

use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;

use serde::Serialize;

use crate::decode::{self, Budget, DecodeStop};
use crate::encode::Codec;
use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::lint::{self, Finding, LintOptions, LintReport};
use crate::machine::{Machine, Mode, Outcome, RawEntry, Sink};
use crate::model::{Fate, Model, NodeKind};
use crate::overlay::{Adaptation, Overlay};
use crate::segment::{Fault, Segment, SegmentKind};
use crate::size::UnpackedSize;
use crate::source::Source;
use crate::split::{self, DECODE_LIMIT, OnLimit, Record, Scan};

/// The alignment the overlay member is placed at (what iPXE pads each initrd to).
pub const APPEND_ALIGN: u64 = 4096;

/// Type of an entry, from its mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EntryKind {
    File,
    Dir,
    Symlink,
    CharDevice,
    BlockDevice,
    Fifo,
    Socket,
    Unknown,
}

impl EntryKind {
    pub fn from_mode(mode: u32) -> EntryKind {
        use crate::newc::*;
        match mode & S_IFMT {
            S_IFREG => EntryKind::File,
            S_IFDIR => EntryKind::Dir,
            S_IFLNK => EntryKind::Symlink,
            S_IFCHR => EntryKind::CharDevice,
            S_IFBLK => EntryKind::BlockDevice,
            S_IFIFO => EntryKind::Fifo,
            S_IFSOCK => EntryKind::Socket,
            _ => EntryKind::Unknown,
        }
    }

    /// One letter, as in `ls -l`.
    pub fn letter(self) -> char {
        match self {
            EntryKind::File => '-',
            EntryKind::Dir => 'd',
            EntryKind::Symlink => 'l',
            EntryKind::CharDevice => 'c',
            EntryKind::BlockDevice => 'b',
            EntryKind::Fifo => 'p',
            EntryKind::Socket => 's',
            EntryKind::Unknown => '?',
        }
    }
}

/// What the kernel does with an entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "status")]
pub enum EntryStatus {
    /// Visible in the unpacked tree.
    Applied,
    /// Replaced or rewritten by the entry with this index (in [`Initrd::entries`]).
    Overridden { by: usize },
    /// Not created; the reason says why.
    Dropped { reason: String },
    /// Header skipped by the kernel.
    Ignored { reason: String },
}

/// One cpio header of one member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// Position in [`Initrd::entries`].
    pub index: usize,
    /// Index of the segment the entry is in.
    pub segment: usize,
    /// Offset of the header inside the segment's (decompressed) content.
    pub offset: u64,
    /// The name as stored (lossy UTF-8).
    pub name: String,
    /// The name normalised: no leading `/` or `./`.
    pub path: String,
    pub kind: EntryKind,
    /// Full mode, type bits included.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub nlink: u32,
    pub mtime: u32,
    pub ino: u32,
    /// Size declared in the header.
    pub size: u64,
    /// Body bytes present in the image (less than `size` when the image ends first).
    pub present: u64,
    pub rdev_major: u32,
    pub rdev_minor: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub symlink_target: Option<String>,
    pub status: EntryStatus,
}

/// One path of the unpacked tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TreeEntry {
    /// Real location (directory symlinks on the way resolved).
    pub path: String,
    pub kind: EntryKind,
    pub mode: u32,
    pub size: u64,
    /// Entry that defines this path's metadata (index into [`Initrd::entries`]).
    pub entry: usize,
    /// Segment of that entry.
    pub segment: usize,
    /// Entry whose body is the content (files).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_entry: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub symlink_target: Option<String>,
    /// Number of paths sharing this inode.
    pub links: u32,
    /// Earlier entries at this path that were replaced.
    pub overridden: Vec<usize>,
}

/// What [`Initrd::append`] wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppendReport {
    /// Bytes of the base, copied unchanged.
    pub base_len: u64,
    /// Zero bytes written after the base.
    pub padding: u64,
    /// Offset of the overlay member.
    pub overlay_offset: u64,
    /// Length of the overlay member.
    pub overlay_len: u64,
    /// Length of the overlay archive before compression.
    pub overlay_newc_len: u64,
    pub codec: Codec,
    /// Total bytes written.
    pub total_len: u64,
    pub adaptation: Adaptation,
}

/// An opened initramfs image.
#[derive(Debug)]
pub struct Initrd {
    source: Source,
    limits: Limits,
    scan: Scan,
    model: Model,
    /// For each record: its index in `entries()` (None for trailers).
    entry_of: Vec<Option<usize>>,
    /// Tells this image from every other one opened in this process.
    id: u64,
}

impl Initrd {
    /// Opens and splits `path` with default [`Limits`].
    pub fn open(path: &Path) -> Result<Initrd> {
        Self::open_with(path, Limits::default())
    }

    /// Opens and splits `path`.
    pub fn open_with(path: &Path, limits: Limits) -> Result<Initrd> {
        Self::open_file(path, limits, OnLimit::Error)
    }

    /// Opens `path` for [`crate::lint_with`]: a member that decodes past `limits` ends the
    /// walk with a `decode-limit` fault instead of an error, so the bomb is a finding.
    pub(crate) fn open_for_lint(path: &Path, limits: Limits) -> Result<Initrd> {
        Self::open_file(path, limits, OnLimit::Fault)
    }

    fn open_file(path: &Path, limits: Limits, on_limit: OnLimit) -> Result<Initrd> {
        let open_err = |source| Error::Open {
            path: path.to_path_buf(),
            source,
        };
        let file = std::fs::File::open(path).map_err(open_err)?;
        let len = file.metadata().map_err(open_err)?.len();
        Self::from_source(Source::File(Arc::new(file), len), limits, on_limit)
    }

    /// Splits the image made of the `(offset, len)` extents of `file`, in order: an initrd
    /// inside an ISO image, read where it lies.
    pub fn open_extents(
        file: std::fs::File,
        extents: &[(u64, u64)],
        limits: Limits,
    ) -> Result<Initrd> {
        let len = extents.iter().map(|&(_, len)| len).sum();
        Self::from_source(
            Source::Region(Arc::new(file), extents.into(), len),
            limits,
            OnLimit::Error,
        )
    }

    /// Splits an image held in memory.
    pub fn from_bytes(bytes: impl Into<Vec<u8>>, limits: Limits) -> Result<Initrd> {
        Self::from_source(Source::Bytes(bytes.into().into()), limits, OnLimit::Error)
    }

    fn from_source(source: Source, limits: Limits, on_limit: OnLimit) -> Result<Initrd> {
        let scan = split::scan(&source, &limits, on_limit)?;
        Ok(Self::from_scan(source, limits, scan))
    }

    fn from_scan(source: Source, limits: Limits, scan: Scan) -> Initrd {
        let model = Model::build(&scan.records);
        let mut n = 0;
        let entry_of = scan
            .records
            .iter()
            .map(|r| {
                (!r.raw.is_trailer).then(|| {
                    n += 1;
                    n - 1
                })
            })
            .collect();
        static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        Initrd {
            source,
            limits,
            scan,
            model,
            entry_of,
            id: NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        }
    }

    /// Length of the image in bytes.
    pub fn len(&self) -> u64 {
        self.source.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The segments, in order, covering the image exactly.
    pub fn segments(&self) -> &[Segment] {
        &self.scan.segments
    }

    /// Where the kernel stops unpacking, if it does.
    pub fn fault(&self) -> Option<&Fault> {
        self.scan.segments.iter().find_map(|s| s.fault.as_ref())
    }

    pub(crate) fn records(&self) -> &[Record] {
        &self.scan.records
    }

    /// Non-fatal observations: made while walking, then about the image as a whole.
    pub(crate) fn remarks(&self) -> impl Iterator<Item = &Finding> {
        self.scan.remarks.iter().chain(&self.scan.derived)
    }

    pub(crate) fn model(&self) -> &Model {
        &self.model
    }

    fn entry_index(&self, record: usize) -> usize {
        // Trailers never define anything, so every record the model points at has an entry.
        self.entry_of[record].unwrap_or(0)
    }

    /// Every entry of every member, in kernel order (trailers left out).
    pub fn entries(&self) -> Result<Vec<Entry>> {
        let mut out = Vec::with_capacity(self.scan.records.len());
        for (i, r) in self.scan.records.iter().enumerate() {
            if r.raw.is_trailer {
                continue;
            }
            let raw = &r.raw;
            let h = raw.header;
            let seg = &self.scan.segments[r.segment];
            let base = if seg.kind == SegmentKind::Newc {
                seg.offset
            } else {
                0
            };
            let status = match &self.model.fates[i] {
                Fate::Applied | Fate::Trailer => EntryStatus::Applied,
                Fate::Overridden { by } => EntryStatus::Overridden {
                    by: self.entry_index(*by),
                },
                Fate::Dropped { reason } => EntryStatus::Dropped {
                    reason: reason.describe(),
                },
                Fate::Ignored => EntryStatus::Ignored {
                    reason: raw
                        .ignored
                        .map(|g| g.reason())
                        .unwrap_or("ignored")
                        .to_string(),
                },
            };
            out.push(Entry {
                index: out.len(),
                segment: r.segment,
                offset: raw.header_pos - base,
                name: String::from_utf8_lossy(&raw.name).into_owned(),
                path: crate::model::normalize(&raw.name),
                kind: EntryKind::from_mode(h.mode),
                mode: h.mode,
                uid: h.uid,
                gid: h.gid,
                nlink: h.nlink,
                mtime: h.mtime,
                ino: h.ino,
                size: u64::from(h.filesize),
                present: r.present,
                rdev_major: h.rdevmajor,
                rdev_minor: h.rdevminor,
                symlink_target: raw
                    .symlink_target
                    .as_ref()
                    .map(|t| String::from_utf8_lossy(t).into_owned()),
                status,
            });
        }
        Ok(out)
    }

    /// The unpacked tree: every path that exists after all members, sorted.
    pub fn tree(&self) -> Vec<TreeEntry> {
        let mut overridden: std::collections::HashMap<&str, Vec<usize>> =
            std::collections::HashMap::new();
        for (i, landed) in self.model.landed.iter().enumerate() {
            if let (Some(p), Fate::Overridden { .. }) = (landed, &self.model.fates[i]) {
                overridden
                    .entry(p.as_str())
                    .or_default()
                    .push(self.entry_index(i));
            }
        }
        let mut out = Vec::new();
        self.model.walk(0, "", &mut |path, id| {
            let node = &self.model.nodes[id];
            let Some(rec) = node.record else { return };
            let r = &self.scan.records[rec];
            let content = match node.kind {
                NodeKind::File => node.content,
                _ => None,
            };
            let size = content
                .map(|c| u64::from(self.scan.records[c].raw.header.filesize))
                .unwrap_or(0);
            out.push(TreeEntry {
                path: path.to_string(),
                kind: EntryKind::from_mode(r.raw.header.mode),
                mode: r.raw.header.mode,
                size,
                entry: self.entry_index(rec),
                segment: r.segment,
                content_entry: content.map(|c| self.entry_index(c)),
                symlink_target: match &node.kind {
                    NodeKind::Symlink(t) => Some(String::from_utf8_lossy(t).into_owned()),
                    _ => None,
                },
                links: node.links,
                overridden: overridden.get(path).cloned().unwrap_or_default(),
            });
        });
        out
    }

    /// The content the kernel leaves at `path` (symlinks followed), or None when no regular
    /// file is there. Capped by [`Limits::max_read_file`].
    pub fn read_file(&self, path: &str) -> Result<Option<Vec<u8>>> {
        let Some(id) = self.model.resolve(path, true) else {
            return Ok(None);
        };
        let node = &self.model.nodes[id];
        if !matches!(node.kind, NodeKind::File) {
            return Ok(None);
        }
        let Some(c) = node.content else {
            return Ok(Some(Vec::new()));
        };
        let r = &self.scan.records[c];
        let size = u64::from(r.raw.header.filesize);
        if size > self.limits.max_read_file {
            return Err(Error::FileTooLarge {
                path: path.to_string(),
                size,
                limit: self.limits.max_read_file,
            });
        }
        let seg = &self.scan.segments[r.segment];
        let mut data = match seg.kind {
            SegmentKind::Newc => {
                let mut buf = vec![0u8; r.present as usize];
                let n = self.source.read_at(r.raw.data_pos, &mut buf)?;
                buf.truncate(n);
                buf
            }
            _ => self.read_compressed_body(path, seg, &r.raw)?,
        };
        // The kernel truncates the file to its declared size before writing: a short body
        // leaves zeros.
        data.resize(size as usize, 0);
        Ok(Some(data))
    }

    fn read_compressed_body(&self, path: &str, seg: &Segment, raw: &RawEntry) -> Result<Vec<u8>> {
        struct Grab {
            target: u64,
            on: bool,
            done: bool,
            buf: Vec<u8>,
        }
        impl Sink for Grab {
            fn entry(&mut self, e: RawEntry) -> bool {
                if self.done {
                    return false;
                }
                self.on = e.header_pos == self.target;
                true
            }
            fn data(&mut self, chunk: &[u8]) {
                if self.on {
                    self.buf.extend_from_slice(chunk);
                }
            }
            fn end(&mut self, _present: u64) {
                if self.on {
                    self.on = false;
                    self.done = true;
                }
            }
        }
        let codec = seg
            .compression()
            .expect("read_compressed_body on a compressed segment");
        let mut grab = Grab {
            target: raw.header_pos,
            on: false,
            done: false,
            buf: Vec::new(),
        };
        let first = seg.index == 0
            || self.scan.segments[..seg.index]
                .iter()
                .all(|s| s.kind == SegmentKind::Padding);
        let mut m = Machine::new(Mode::Compressed, 0, first);
        let mut budget = Budget {
            member_limit: self.limits.max_member_output,
            total_limit: self.limits.max_total_output,
            total: 0,
            decoder_memory: self.limits.max_decoder_memory,
        };
        let res = {
            let mut out = |data: &[u8]| {
                let mut d = data;
                while !d.is_empty() {
                    let (n, o) = m.feed(d, &mut grab);
                    d = &d[n..];
                    if !matches!(o, Outcome::More | Outcome::Yield) {
                        return false;
                    }
                }
                !grab.done
            };
            decode::decode_member(
                &self.source,
                seg.offset,
                codec,
                seg.index,
                &mut budget,
                &mut out,
            )
        };
        m.finish(&mut grab);
        match res {
            Ok(_) | Err(DecodeStop::Stopped) => Ok(grab.buf),
            Err(DecodeStop::Hard(e)) => Err(e),
            Err(DecodeStop::Fault {
                offset, message, ..
            }) if !grab.done => Err(Error::Unreadable {
                path: path.to_string(),
                segment: seg.index,
                offset,
                reason: message,
            }),
            Err(DecodeStop::Fault { .. }) => Ok(grab.buf),
        }
    }

    /// Lints this image by the kernel's rules, with the default [`LintOptions`].
    pub fn lint(&self) -> LintReport {
        lint::run(self, &LintOptions::default())
    }

    /// Lints this image by the kernel's rules, with `options`.
    pub fn lint_with(&self, options: &LintOptions) -> LintReport {
        lint::run(self, options)
    }

    /// What this image unpacks to: the rootfs's memory once unpacked and at its peak, the
    /// file data, and the cpio stream decoded (see [`UnpackedSize`]). Computed when the image
    /// was opened, from the entries' headers: nothing is decoded again.
    pub fn unpacked_size(&self) -> UnpackedSize {
        let (files, file_bytes, inodes) = self.model.totals();
        let newc: u64 = self
            .scan
            .segments
            .iter()
            .filter(|s| s.kind == SegmentKind::Newc)
            .map(|s| match &s.fault {
                Some(f) => f.offset.saturating_sub(s.offset),
                None => s.len,
            })
            .sum();
        UnpackedSize {
            stream_bytes: self.scan.decoded_output() + newc,
            files,
            file_bytes,
            inodes,
            resident_bytes: self.model.resident,
            peak_bytes: self.model.peak,
            complete: !self
                .scan
                .segments
                .iter()
                .any(|s| s.fault.as_ref().is_some_and(|f| f.rule == DECODE_LIMIT)),
        }
    }

    /// Builds what goes after this image to add `overlay` as one member compressed with
    /// `codec`: zero padding to a 4096 boundary, then the member. Refuses when the kernel
    /// would not reach the overlay: a fault in the base, a cut-off entry at its end, or a
    /// legacy-lz4 last member. Nothing is written; see [`Initrd::patched`] to check the result
    /// and the `write_*`/`append_*` methods to write it.
    pub fn appendix(&self, overlay: &Overlay, codec: Codec) -> Result<Appendix> {
        self.check_clean_end()?;
        if let Some(last) = self.last_lz4_legacy() {
            return Err(Error::Lz4LegacyBase {
                segment: last.index,
                offset: last.offset,
            });
        }
        let seg_of = |rec: usize| self.scan.records[rec].segment;
        let (newc, adaptation) = overlay.to_newc_over(&self.model, &seg_of)?;
        let member = codec.compress(&newc)?;
        let base_len = self.len();
        let padding = (APPEND_ALIGN - base_len % APPEND_ALIGN) % APPEND_ALIGN;
        let mut bytes = vec![0u8; padding as usize];
        bytes.extend_from_slice(&member);
        Ok(Appendix {
            base: self.id,
            bytes: bytes.into(),
            report: AppendReport {
                base_len,
                padding,
                overlay_offset: base_len + padding,
                overlay_len: member.len() as u64,
                overlay_newc_len: newc.len() as u64,
                codec,
                total_len: base_len + padding + member.len() as u64,
                adaptation,
            },
        })
    }

    /// The patched image (this one followed by `appendix`), parsed without decoding this one
    /// again: its walk goes on from where this image's ended. Lint it before writing.
    pub fn patched(&self, appendix: &Appendix) -> Result<Initrd> {
        self.check_appendix(appendix);
        let source = Source::Appended(Arc::new(self.source.clone()), appendix.bytes.clone());
        let scan = split::scan_on(&source, &self.limits, self.scan.clone())?;
        Ok(Self::from_scan(source, self.limits, scan))
    }

    /// Writes the patched image to `out`: the base bytes unchanged, then `appendix`.
    pub fn write_patched(&self, appendix: &Appendix, out: &mut impl Write) -> Result<()> {
        self.check_appendix(appendix);
        self.source.copy_to(0, self.len(), out)?;
        out.write_all(&appendix.bytes).map_err(Error::Write)?;
        out.flush().map_err(Error::Write)
    }

    /// Writes the patched image at the start of `out` (a new, empty file), copying the base
    /// in the kernel (`copy_file_range`, a reflink where the filesystem shares extents).
    pub fn write_patched_file(&self, appendix: &Appendix, out: &std::fs::File) -> Result<()> {
        self.check_appendix(appendix);
        let base_len = self.source.copy_to_file(out, 0)?;
        out.write_all_at(&appendix.bytes, base_len)
            .map_err(Error::Write)
    }

    /// Appends `appendix` to the file this image was opened from, at `path`: the base bytes
    /// are not rewritten, so this costs only the appendix. Refuses when `path` is another
    /// file or has changed length since it was opened; on a failed write the file is cut
    /// back to its original length.
    pub fn append_in_place(&self, appendix: &Appendix, path: &Path) -> Result<()> {
        use std::os::unix::fs::MetadataExt;
        self.check_appendix(appendix);
        let refuse = |reason: String| Error::InPlace {
            path: path.to_path_buf(),
            reason,
        };
        let Source::File(opened, base_len) = &self.source else {
            return Err(refuse("the image was not opened from a file".into()));
        };
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(|e| refuse(format!("cannot open it for writing: {e}")))?;
        let (now, then) = match (file.metadata(), opened.metadata()) {
            (Ok(now), Ok(then)) => (now, then),
            (Err(e), _) | (_, Err(e)) => return Err(refuse(format!("cannot stat it: {e}"))),
        };
        if (now.dev(), now.ino()) != (then.dev(), then.ino()) {
            return Err(refuse(
                "it is not the file the image was opened from".into(),
            ));
        }
        if now.len() != *base_len {
            return Err(refuse(format!(
                "it is {} bytes long, but was {base_len} when it was opened",
                now.len()
            )));
        }
        let written = file
            .write_all_at(&appendix.bytes, *base_len)
            .and_then(|()| file.sync_data());
        if let Err(e) = written {
            let _ = file.set_len(*base_len);
            return Err(Error::Write(e));
        }
        Ok(())
    }

    /// Writes the base bytes unchanged, zero padding to a 4096 boundary, then `overlay` as one
    /// member compressed with `codec` (see [`Initrd::appendix`] for the refusals; nothing is
    /// written then).
    pub fn append(
        &self,
        overlay: &Overlay,
        codec: Codec,
        out: &mut impl Write,
    ) -> Result<AppendReport> {
        let appendix = self.appendix(overlay, codec)?;
        self.write_patched(&appendix, out)?;
        Ok(appendix.report)
    }

    /// Writes this image into `out` (a new, empty file) with its last member, a legacy-lz4
    /// one, re-wrapped as a `codec` member, so that an overlay can follow it: legacy lz4 has
    /// no end marker, and kernels without the 2021 unlz4 fix (upstream commit 2c484419efc0)
    /// read whatever follows as more lz4 chunks. The
    /// bytes before that member are copied unchanged and its cpio content is written again
    /// byte for byte (decoded and re-compressed as it streams, never held whole). Open `out`
    /// afterwards to append to it.
    pub fn rewrap_lz4_tail(&self, codec: Codec, out: &std::fs::File) -> Result<RewrapReport> {
        self.check_clean_end()?;
        let Some(last) = self.last_lz4_legacy() else {
            return Err(Error::NothingToRewrap);
        };
        let prefix = last.offset;
        if codec == Codec::None && !prefix.is_multiple_of(4) {
            return Err(Error::Compress {
                codec: codec.name(),
                reason: format!(
                    "an uncompressed member cannot start at byte {prefix}, which is not 4-byte aligned"
                ),
            });
        }
        if prefix > 0 {
            self.source.copy_to_file_range(0, prefix, out, 0)?;
        }
        let positional = PositionalWriter {
            file: out,
            at: prefix,
        };
        let mut member = crate::encode::MemberWriter::new(
            codec,
            std::io::BufWriter::with_capacity(1 << 20, positional),
        )?;
        let mut budget = Budget {
            member_limit: self.limits.max_member_output,
            total_limit: self.limits.max_total_output,
            total: 0,
            decoder_memory: self.limits.max_decoder_memory,
        };
        let mut failed: Option<std::io::Error> = None;
        let mut decoded = 0u64;
        let result = {
            let mut sink = |data: &[u8]| match member.write_all(data) {
                Ok(()) => {
                    decoded += data.len() as u64;
                    true
                }
                Err(e) => {
                    failed = Some(e);
                    false
                }
            };
            decode::decode_member(
                &self.source,
                last.offset,
                crate::Compression::Lz4Legacy,
                last.index,
                &mut budget,
                &mut sink,
            )
        };
        if let Some(e) = failed {
            return Err(Error::Write(e));
        }
        match result {
            Ok(_) => {}
            Err(DecodeStop::Hard(e)) => return Err(e),
            Err(DecodeStop::Stopped) => unreachable!("the sink stops only on a write error"),
            Err(DecodeStop::Fault {
                offset, message, ..
            }) => {
                return Err(Error::BaseNotClean {
                    offset,
                    rule: "corrupt-member",
                    reason: message,
                });
            }
        }
        let end = member
            .finish()
            .and_then(|buffered| buffered.into_inner().map_err(|e| e.into_error()))
            .map_err(Error::Write)?
            .at;
        Ok(RewrapReport {
            kept: prefix,
            segment: last.index,
            codec,
            decoded_len: decoded,
            member_len: end - prefix,
            total_len: end,
        })
    }

    /// Refuses a base the kernel would not read to its end cleanly.
    fn check_clean_end(&self) -> Result<()> {
        if let Some(f) = self.fault() {
            return Err(Error::BaseNotClean {
                offset: f.offset,
                rule: f.rule,
                reason: f.message.clone(),
            });
        }
        if let Some(r) = self.remarks().find(|r| r.rule == "data-past-end") {
            return Err(Error::BaseNotClean {
                offset: r.offset,
                rule: r.rule,
                reason: format!(
                    "{} (the kernel would read the overlay as the rest of that entry)",
                    r.message
                ),
            });
        }
        Ok(())
    }

    /// True when the last member is legacy lz4, so nothing can be appended before
    /// [`Initrd::rewrap_lz4_tail`].
    pub fn ends_with_lz4_legacy(&self) -> bool {
        self.last_lz4_legacy().is_some()
    }

    /// The last member, when it is legacy lz4.
    fn last_lz4_legacy(&self) -> Option<&Segment> {
        self.scan
            .segments
            .iter()
            .rev()
            .find(|s| s.kind != SegmentKind::Padding)
            .filter(|s| s.kind == SegmentKind::Compressed(crate::Compression::Lz4Legacy))
    }

    fn check_appendix(&self, appendix: &Appendix) {
        assert!(
            appendix.base == self.id && appendix.report.base_len == self.len(),
            "an Appendix is written after the image that built it"
        );
    }
}

/// What [`Initrd::rewrap_lz4_tail`] wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RewrapReport {
    /// Bytes before the re-wrapped member, copied unchanged.
    pub kept: u64,
    /// Index of the legacy-lz4 segment that was re-wrapped.
    pub segment: usize,
    pub codec: Codec,
    /// Length of the cpio content, written again unchanged.
    pub decoded_len: u64,
    /// Length of the new member.
    pub member_len: u64,
    pub total_len: u64,
}

/// Writes at increasing offsets of a file, without its cursor.
struct PositionalWriter<'a> {
    file: &'a std::fs::File,
    at: u64,
}

impl Write for PositionalWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.file.write_all_at(buf, self.at)?;
        self.at += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What [`Initrd::appendix`] built: padding and the overlay member, to be written after
/// the image that built it.
#[derive(Debug, Clone)]
pub struct Appendix {
    /// [`Initrd::id`] of the image it goes after.
    base: u64,
    bytes: Arc<[u8]>,
    report: AppendReport,
}

impl Appendix {
    /// Where the overlay lands and how large everything is.
    pub fn report(&self) -> &AppendReport {
        &self.report
    }

    /// The padding and the member, as they follow the base.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}
