//! Splits an image into segments exactly as `unpack_to_rootfs` walks it.
//!
//! The kernel's outer loop looks at one byte: `0` at a 4-aligned offset starts an
//! uncompressed newc entry; NUL is padding; anything else must be the two-byte magic of a
//! compressed member, which is decoded in one call and tells how many bytes it used. The
//! first problem stops the kernel, and everything after it is ignored; we record it as the
//! [`Fault`] of the segment where it happens and stop there too.

use crate::compression::{Compression, LZ4_FRAME_MAGIC};
use crate::decode::{self, Budget, DecodeStop};
use crate::error::{Error, Result};
use crate::limits::Limits;
use crate::lint::Finding;
use crate::machine::{Machine, MachineFault, Mode, Outcome, RawEntry, Sink};
use crate::newc::Magic;
use crate::segment::{Fault, Segment, SegmentKind};
use crate::source::{Cursor, Source};

/// One cpio header with the segment it came from.
#[derive(Debug, Clone)]
pub(crate) struct Record {
    pub segment: usize,
    pub raw: RawEntry,
    /// Body bytes actually present (less than the size when the image ends first).
    pub present: u64,
}

/// The result of one pass.
#[derive(Debug, Default, Clone)]
pub(crate) struct Scan {
    pub segments: Vec<Segment>,
    pub records: Vec<Record>,
    /// Non-fatal observations made while scanning.
    pub remarks: Vec<Finding>,
    /// Observations about the image as a whole, made once the walk is over.
    pub derived: Vec<Finding>,
    /// Where the walk stands at the end, so that it can go on over appended bytes.
    pub state: WalkState,
}

impl Scan {
    /// Bytes of decompressed output the walk produced, over every compressed member.
    pub(crate) fn decoded_output(&self) -> u64 {
        self.state.output
    }
}

/// Rule id of the fault [`OnLimit::Fault`] records: repack stopped decoding, not the kernel.
pub(crate) const DECODE_LIMIT: &str = "decode-limit";

/// What a walk does when a member decodes past one of the [`Limits`] on output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnLimit {
    /// Fail with [`Error::DecompressionLimit`] (opening an image to read or patch it).
    Error,
    /// Record a `decode-limit` fault on the member and stop the walk there, keeping what
    /// was read before it (linting: a bomb is a finding, with its size so far).
    Fault,
}

/// The outer loop's state between two members.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct WalkState {
    /// Offset the walk reached.
    pos: u64,
    /// No member seen yet (early microcode is looked for in the first one).
    started: bool,
    /// The newc segment that an adjacent entry extends (None after a trailer).
    open_newc: Option<usize>,
    /// Decompressed bytes counted against the total limit so far.
    output: u64,
}

struct Collect<'a> {
    records: &'a mut Vec<Record>,
    segment: usize,
    limit: usize,
    /// Offset of the segment, added to positions when they are absolute (outer mode: 0).
    over_limit: bool,
}

impl Sink for Collect<'_> {
    fn entry(&mut self, raw: RawEntry) -> bool {
        if self.records.len() >= self.limit {
            self.over_limit = true;
            return false;
        }
        self.records.push(Record {
            segment: self.segment,
            present: 0,
            raw,
        });
        true
    }

    fn end(&mut self, present: u64) {
        if let Some(r) = self.records.last_mut() {
            r.present = present;
        }
    }
}

fn machine_fault_rule(f: MachineFault) -> &'static str {
    match f {
        MachineFault::BrokenPadding => "broken-padding",
        MachineFault::JunkWithin => "junk-in-member",
        MachineFault::Odc | MachineFault::NoMagic | MachineFault::Malformed => "bad-cpio-header",
        MachineFault::BadChecksum => "cpio-bad-checksum",
    }
}

/// Walks the whole image.
pub(crate) fn scan(src: &Source, limits: &Limits, on_limit: OnLimit) -> Result<Scan> {
    walk(src, limits, Scan::default(), on_limit)
}

/// Walks on from where `done` ended over the bytes `src` has past that point, as if the
/// whole of `src` had been walked from the start. `done` must have ended cleanly (no fault:
/// the kernel would not go on) at the end of what it walked.
pub(crate) fn scan_on(src: &Source, limits: &Limits, mut done: Scan) -> Result<Scan> {
    debug_assert!(done.segments.iter().all(|s| s.fault.is_none()));
    done.derived.clear();
    walk(src, limits, done, OnLimit::Error)
}

fn walk(src: &Source, limits: &Limits, mut scan: Scan, on_limit: OnLimit) -> Result<Scan> {
    let len = src.len();
    let WalkState {
        mut pos,
        started,
        mut open_newc,
        output,
    } = scan.state;
    let mut first = !started;
    let mut budget = Budget {
        member_limit: limits.max_member_output,
        total_limit: limits.max_total_output,
        total: output,
        decoder_memory: limits.max_decoder_memory,
    };
    // Whatever way the walk ends, record where.
    macro_rules! finish {
        () => {{
            scan.state = WalkState {
                pos,
                started: !first,
                open_newc,
                output: budget.total,
            };
            return Ok(finish(scan));
        }};
    }

    // One read window for the whole outer loop: uncompressed entries and padding are read
    // through it; compressed members are decoded with their own readers.
    let mut cur = Cursor::new(src, pos);
    while pos < len {
        cur.seek(pos);
        let head = {
            let buf = cur.fill()?;
            if buf.len() >= 6 {
                buf[..6].to_vec()
            } else {
                decode::peek(src, pos, 6)?
            }
        };
        if head.is_empty() {
            return Err(Error::Read {
                offset: pos,
                source: std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the image shrank while it was read",
                ),
            });
        }
        let b = head[0];
        if b == b'0' && pos.is_multiple_of(4) {
            let seg = match open_newc {
                Some(i) if scan.segments[i].end() == pos => i,
                _ => push(&mut scan.segments, pos, SegmentKind::Newc),
            };
            let mut m = Machine::new(Mode::Outer, pos, first);
            m.start_entry();
            first = false;
            let before = scan.records.len();
            let mut sink = Collect {
                records: &mut scan.records,
                segment: seg,
                limit: limits.max_entries,
                over_limit: false,
            };
            let outcome = loop {
                let buf = cur.fill()?;
                if buf.is_empty() {
                    m.finish(&mut sink);
                    break Outcome::More;
                }
                let (n, o) = m.feed(buf, &mut sink);
                cur.consume(n);
                if o != Outcome::More {
                    break o;
                }
            };
            let over = sink.over_limit;
            let added = scan.records.len() - before;
            scan.segments[seg].entries += added;
            if over {
                return Err(Error::TooManyEntries {
                    segment: seg,
                    offset: pos,
                    limit: limits.max_entries,
                });
            }
            let rec = scan.records.last().filter(|_| added > 0);
            let is_trailer = rec.is_some_and(|r| r.raw.is_trailer);
            // The entry's own end: header, name and body with their padding.
            let entry_end = rec
                .map(|r| entry_end(&r.raw))
                .unwrap_or(m.pos())
                .min(len)
                .max(pos);
            match outcome {
                Outcome::Fault(f) => {
                    let at = m.pos();
                    let s = &mut scan.segments[seg];
                    s.len = len - s.offset;
                    s.fault = Some(Fault {
                        offset: if f == MachineFault::BrokenPadding {
                            at
                        } else {
                            pos
                        },
                        rule: machine_fault_rule(f),
                        message: uncompressed_fault_message(f, pos, at),
                    });
                    pos = len;
                    finish!();
                }
                Outcome::More if m.mid_entry() => {
                    // End of image: a cut-off entry is silently accepted by the kernel.
                    scan.segments[seg].len = len - scan.segments[seg].offset;
                    truncated_remark(&mut scan, pos, added);
                    pos = len;
                }
                Outcome::More | Outcome::Yield | Outcome::Stopped => {
                    scan.segments[seg].len = entry_end - scan.segments[seg].offset;
                    if m.pos() > entry_end {
                        push(&mut scan.segments, entry_end, SegmentKind::Padding);
                        let last = scan.segments.len() - 1;
                        scan.segments[last].len = m.pos() - entry_end;
                    }
                    pos = m.pos();
                }
            }
            open_newc = if is_trailer { None } else { Some(seg) };
            continue;
        }
        if b == 0 {
            let start = pos;
            loop {
                let buf = cur.fill()?;
                let (n, total) = (
                    buf.iter().position(|&c| c != 0).unwrap_or(buf.len()),
                    buf.len(),
                );
                cur.consume(n);
                if n < total || total == 0 {
                    break;
                }
            }
            pos = cur.pos();
            match scan.segments.last_mut() {
                Some(s) if s.kind == SegmentKind::Padding && s.end() == start => {
                    s.len += pos - start
                }
                _ => {
                    let i = push(&mut scan.segments, start, SegmentKind::Padding);
                    scan.segments[i].len = pos - start;
                }
            }
            continue;
        }
        open_newc = None;
        let Some(codec) = Compression::from_magic(&head).filter(|_| head.len() >= 2) else {
            let i = push(&mut scan.segments, pos, SegmentKind::Unknown);
            scan.segments[i].len = len - pos;
            scan.segments[i].fault = Some(unknown_fault(&head, pos, i));
            pos = len;
            finish!();
        };
        let seg = push(&mut scan.segments, pos, SegmentKind::Compressed(codec));
        let mut m = Machine::new(Mode::Compressed, 0, first);
        first = false;
        let mut mfault = None;
        let before = scan.records.len();
        let mut sink = Collect {
            records: &mut scan.records,
            segment: seg,
            limit: limits.max_entries,
            over_limit: false,
        };
        let res = {
            let mut out = |data: &[u8]| {
                let mut d = data;
                while !d.is_empty() {
                    let (n, o) = m.feed(d, &mut sink);
                    d = &d[n..];
                    match o {
                        Outcome::More | Outcome::Yield => {}
                        Outcome::Fault(f) => {
                            mfault = Some((f, m.pos()));
                            return false;
                        }
                        Outcome::Stopped => return false,
                    }
                }
                true
            };
            decode::decode_member(src, pos, codec, seg, &mut budget, &mut out)
        };
        m.finish(&mut sink);
        let over = sink.over_limit;
        scan.segments[seg].entries = scan.records.len() - before;
        if over {
            return Err(Error::TooManyEntries {
                segment: seg,
                offset: pos,
                limit: limits.max_entries,
            });
        }
        let fault = match res {
            Ok(d) => {
                scan.segments[seg].len = d.consumed;
                scan.segments[seg].decompressed_len = Some(d.output);
                if let Some((rule, message)) = d.remark {
                    scan.remarks
                        .push(Finding::new(pos, rule, message).segment(seg));
                }
                if m.at_boundary() {
                    None
                } else {
                    Some(Fault {
                        offset: pos,
                        rule: "junk-in-member",
                        message: format!(
                            "{codec} member's cpio data ends inside an entry at output byte {} \
                             (kernel: \"junk at the end of compressed archive\")",
                            m.pos()
                        ),
                    })
                }
            }
            Err(DecodeStop::Hard(Error::DecompressionLimit { limit, which, .. }))
                if on_limit == OnLimit::Fault =>
            {
                Some(decode_limit_fault(codec, pos, limit, which))
            }
            Err(DecodeStop::Hard(e)) => return Err(e),
            Err(DecodeStop::Stopped) => {
                let (f, at) = mfault.expect("the output callback stops only on a machine fault");
                Some(Fault {
                    offset: pos,
                    rule: machine_fault_rule(f),
                    message: format!(
                        "{codec} member: at output byte {at}: kernel: \"{}\"",
                        f.kernel_message()
                    ),
                })
            }
            Err(DecodeStop::Fault {
                offset,
                rule,
                message,
            }) => Some(Fault {
                offset,
                rule,
                message,
            }),
        };
        if let Some(f) = fault {
            let s = &mut scan.segments[seg];
            s.len = len - s.offset;
            s.fault = Some(f);
            pos = len;
            finish!();
        }
        pos += scan.segments[seg].len;
    }
    finish!()
}

/// The `decode-limit` fault of [`OnLimit::Fault`]: where repack, not the kernel, stopped.
fn decode_limit_fault(codec: Compression, pos: u64, limit: u64, which: &str) -> Fault {
    let what = if which == "max_member_output" {
        format!("{codec} member decodes to more than {limit} bytes")
    } else {
        format!(
            "the members up to and including this {codec} member decode to more than {limit} bytes in all"
        )
    };
    Fault {
        offset: pos,
        rule: DECODE_LIMIT,
        message: format!(
            "{what}: repack stopped decoding at `Limits::{which}` and checked nothing after that point \
             (a decompression bomb, or an image far larger than any machine unpacks)"
        ),
    }
}

fn push(segments: &mut Vec<Segment>, offset: u64, kind: SegmentKind) -> usize {
    let index = segments.len();
    segments.push(Segment {
        index,
        offset,
        len: 0,
        kind,
        decompressed_len: None,
        entries: 0,
        fault: None,
    });
    index
}

/// End of an entry (header + padded name + body, 4-aligned).
pub(crate) fn entry_end(r: &RawEntry) -> u64 {
    crate::newc::align4(
        r.header_pos
            + crate::newc::HEADER_LEN as u64
            + crate::newc::name_padded_len(u64::from(r.header.namesize))
            + u64::from(r.header.filesize),
    )
}

fn truncated_remark(scan: &mut Scan, pos: u64, added: usize) {
    let seg = scan.segments.len() - 1;
    let msg = match scan.records.last().filter(|_| added > 0) {
        Some(r) => format!(
            "cpio entry `{}` declares {} bytes of data but the image ends after {}; the kernel silently creates \
             the file zero-filled to the declared size",
            String::from_utf8_lossy(&r.raw.name),
            r.raw.header.filesize,
            r.present
        ),
        None => "a cpio header is cut off by the end of the image; the kernel silently ignores it"
            .to_string(),
    };
    scan.remarks
        .push(Finding::new(pos, "data-past-end", msg).segment(seg));
}

fn uncompressed_fault_message(f: MachineFault, pos: u64, at: u64) -> String {
    match f {
        MachineFault::BrokenPadding => format!(
            "a member starts at byte {at}, which is not 4-byte aligned, right after an uncompressed cpio entry \
             (kernel: \"broken padding\"); pad it with NULs to a multiple of 4"
        ),
        MachineFault::Odc => format!(
            "uncompressed cpio at byte {pos} is in the old portable (odc, 070707) format (kernel: \"incorrect cpio \
             method used: use -H newc option\")"
        ),
        other => format!(
            "uncompressed cpio entry at byte {pos}: kernel: \"{}\"",
            other.kernel_message()
        ),
    }
}

fn unknown_fault(head: &[u8], pos: u64, index: usize) -> Fault {
    let hex: Vec<String> = head.iter().take(4).map(|b| format!("{b:02x}")).collect();
    let hex = hex.join(" ");
    if head.starts_with(&LZ4_FRAME_MAGIC) {
        return Fault {
            offset: pos,
            rule: "lz4-frame-format",
            message: "member uses the LZ4 frame format (magic 04 22 4d 18); the kernel only decodes legacy lz4 \
                      (`lz4 -l`) and stops unpacking here (\"invalid magic at start of compressed archive\")"
                .into(),
        };
    }
    if head.starts_with(b"0707") {
        return Fault {
            offset: pos,
            rule: "misaligned-newc",
            message: format!(
                "uncompressed cpio member at byte {pos} is not 4-byte aligned; the kernel takes it for compressed \
                 data and stops unpacking (\"invalid magic at start of compressed archive\"); pad the member before \
                 it with NULs"
            ),
        };
    }
    let what = if index == 0 {
        "the image does not start with a cpio archive or a known compression magic"
    } else {
        "garbage after the last member"
    };
    Fault {
        offset: pos,
        rule: "unknown-magic",
        message: format!(
            "{what}: bytes {hex} at byte {pos} (kernel: \"invalid magic at start of compressed archive\"; \
             everything from here on is ignored)"
        ),
    }
}

fn finish(mut scan: Scan) -> Scan {
    scan.derived.clear();
    // Records of the newc format variant the oldest kernels refuse.
    let mut crc_seen = std::collections::BTreeSet::new();
    for r in &scan.records {
        if r.raw.magic == Magic::Crc && crc_seen.insert(r.segment) {
            let s = &scan.segments[r.segment];
            scan.derived.push(
                Finding::new(
                    s.offset,
                    "cpio-crc-format",
                    "segment uses the newc-with-checksum format (070702), which older kernels reject; write 070701",
                )
                .segment(s.index),
            );
        }
    }
    // A legacy-lz4 member followed by more than padding: fine only on kernels that stop at a
    // zero chunk word (and the zero word must be there).
    let segs = &scan.segments;
    for (i, s) in segs.iter().enumerate() {
        if s.kind == SegmentKind::Compressed(Compression::Lz4Legacy)
            && s.fault.is_none()
            && let Some(next) = segs[i + 1..]
                .iter()
                .find(|n| n.kind != SegmentKind::Padding)
        {
            scan.derived.push(
                    Finding::new(
                        next.offset,
                        "lz4-legacy-not-last",
                        format!(
                            "segment {} follows a legacy-lz4 member (segment {}), which has no end marker; kernels \
                             without the 2021 unlz4 fix (commit 2c484419efc0) read it as another lz4 chunk and drop it",
                            next.index, s.index
                        ),
                    )
                    .segment(next.index),
                );
        }
    }
    scan
}
