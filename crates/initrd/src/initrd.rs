//! [`Initrd`]: an opened image with its segments, entries and effective tree.
//!
//! Opening decodes every member once (streaming, nothing kept but headers), which gives
//! exact segment boundaries and every cpio header; file bodies are read again on demand.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use serde::Serialize;

use crate::decode::{self, Budget, DecodeStop};
use crate::encode::Codec;
use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::lint::{self, Finding, LintReport};
use crate::machine::{Machine, Mode, Outcome, RawEntry, Sink};
use crate::model::{Fate, Model, NodeKind};
use crate::overlay::{Adaptation, Overlay};
use crate::segment::{Fault, Segment, SegmentKind};
use crate::source::Source;
use crate::split::{self, Record};

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
    segments: Vec<Segment>,
    records: Vec<Record>,
    remarks: Vec<Finding>,
    model: Model,
    /// For each record: its index in `entries()` (None for trailers).
    entry_of: Vec<Option<usize>>,
}

impl Initrd {
    /// Opens and splits `path` with default [`Limits`].
    pub fn open(path: &Path) -> Result<Initrd> {
        Self::open_with(path, Limits::default())
    }

    /// Opens and splits `path`.
    pub fn open_with(path: &Path, limits: Limits) -> Result<Initrd> {
        let open_err = |source| Error::Open {
            path: path.to_path_buf(),
            source,
        };
        let file = std::fs::File::open(path).map_err(open_err)?;
        let len = file.metadata().map_err(open_err)?.len();
        Self::from_source(Source::File(Arc::new(file), len), limits)
    }

    /// Splits an image held in memory.
    pub fn from_bytes(bytes: impl Into<Vec<u8>>, limits: Limits) -> Result<Initrd> {
        Self::from_source(Source::Bytes(bytes.into().into()), limits)
    }

    fn from_source(source: Source, limits: Limits) -> Result<Initrd> {
        let scan = split::scan(&source, &limits)?;
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
        Ok(Initrd {
            source,
            limits,
            segments: scan.segments,
            records: scan.records,
            remarks: scan.remarks,
            model,
            entry_of,
        })
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
        &self.segments
    }

    /// Where the kernel stops unpacking, if it does.
    pub fn fault(&self) -> Option<&Fault> {
        self.segments.iter().find_map(|s| s.fault.as_ref())
    }

    pub(crate) fn records(&self) -> &[Record] {
        &self.records
    }

    pub(crate) fn remarks(&self) -> &[Finding] {
        &self.remarks
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
        let mut out = Vec::with_capacity(self.records.len());
        for (i, r) in self.records.iter().enumerate() {
            if r.raw.is_trailer {
                continue;
            }
            let raw = &r.raw;
            let h = raw.header;
            let seg = &self.segments[r.segment];
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
            let r = &self.records[rec];
            let content = match node.kind {
                NodeKind::File => node.content,
                _ => None,
            };
            let size = content
                .map(|c| u64::from(self.records[c].raw.header.filesize))
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
        let r = &self.records[c];
        let size = u64::from(r.raw.header.filesize);
        if size > self.limits.max_read_file {
            return Err(Error::FileTooLarge {
                path: path.to_string(),
                size,
                limit: self.limits.max_read_file,
            });
        }
        let seg = &self.segments[r.segment];
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
            || self.segments[..seg.index]
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

    /// Lints this image by the kernel's rules.
    pub fn lint(&self) -> LintReport {
        lint::run(self)
    }

    /// Writes the base bytes unchanged, zero padding to a 4096 boundary, then `overlay` as one
    /// member compressed with `codec`. Refuses (writing nothing) when the kernel would not reach
    /// the overlay: a fault in the base, a cut-off entry at its end, or a legacy-lz4 last member.
    pub fn append(
        &self,
        overlay: &Overlay,
        codec: Codec,
        out: &mut impl Write,
    ) -> Result<AppendReport> {
        if let Some(f) = self.fault() {
            return Err(Error::BaseNotClean {
                offset: f.offset,
                rule: f.rule,
                reason: f.message.clone(),
            });
        }
        if let Some(r) = self.remarks.iter().find(|r| r.rule == "data-past-end") {
            return Err(Error::BaseNotClean {
                offset: r.offset,
                rule: r.rule,
                reason: format!(
                    "{} (the kernel would read the overlay as the rest of that entry)",
                    r.message
                ),
            });
        }
        if let Some(last) = self
            .segments
            .iter()
            .rev()
            .find(|s| s.kind != SegmentKind::Padding)
            && last.kind == SegmentKind::Compressed(crate::Compression::Lz4Legacy)
        {
            return Err(Error::Lz4LegacyBase {
                segment: last.index,
                offset: last.offset,
            });
        }
        let seg_of = |rec: usize| self.records[rec].segment;
        let (newc, adaptation) = overlay.to_newc_over(&self.model, &seg_of)?;
        let member = codec.compress(&newc)?;
        let base_len = self.len();
        let padding = (APPEND_ALIGN - base_len % APPEND_ALIGN) % APPEND_ALIGN;
        self.source.copy_to(0, base_len, out)?;
        out.write_all(&vec![0u8; padding as usize])
            .map_err(Error::Write)?;
        out.write_all(&member).map_err(Error::Write)?;
        out.flush().map_err(Error::Write)?;
        Ok(AppendReport {
            base_len,
            padding,
            overlay_offset: base_len + padding,
            overlay_len: member.len() as u64,
            overlay_newc_len: newc.len() as u64,
            codec,
            total_len: base_len + padding + member.len() as u64,
            adaptation,
        })
    }
}
