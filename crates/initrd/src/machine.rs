//! The kernel's cpio unpacking state machine, fed in chunks.
//!
//! `init/initramfs.c` walks newc entries with a small state machine: read a header, read
//! the name (and a symlink's target), copy or skip the body, then eat NUL padding. Its exact
//! behaviour decides what an initrd really produces: which entries are skipped (over-long
//! names, a directory with a body), where "broken padding", "junk within compressed archive"
//! and "junk at the end of compressed archive" are raised, and that a body running past the
//! end of the image is silently accepted. [`Machine`] reproduces those decisions (it is our
//! own code, written from the documented behaviour) and reports each entry to a [`Sink`].

use crate::newc::{
    self, HEADER_LEN, Header, HeaderError, Magic, PATH_MAX, S_IFLNK, S_IFMT, S_IFREG,
};

/// Where the machine is fed from, which decides what happens after an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Uncompressed bytes of the image itself: after each entry and its NUL padding the
    /// caller's outer loop decides what comes next (another entry, padding, a compressed
    /// member). Positions are absolute image offsets.
    Outer,
    /// The output of one decompressed member: anything but an entry or NULs is junk.
    /// Positions count from the start of the member's output.
    Compressed,
}

/// A fatal condition, with the kernel's own words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MachineFault {
    /// A non-NUL byte after an entry at a position that is not 4-aligned.
    BrokenPadding,
    /// A byte other than `0` or NUL where an entry should start (compressed mode).
    JunkWithin,
    /// An `070707` header.
    Odc,
    /// A header without cpio magic.
    NoMagic,
    /// A name not terminated by NUL.
    Malformed,
    /// A `070702` file whose byte sum differs from its header's check field.
    BadChecksum,
}

impl MachineFault {
    pub(crate) fn kernel_message(self) -> &'static str {
        match self {
            MachineFault::BrokenPadding => "broken padding",
            MachineFault::JunkWithin => "junk within compressed archive",
            MachineFault::Odc => "incorrect cpio method used: use -H newc option",
            MachineFault::NoMagic => "no cpio magic",
            MachineFault::Malformed => "malformed archive",
            MachineFault::BadChecksum => "bad data checksum",
        }
    }
}

/// Why the kernel skips an entry without creating anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ignored {
    /// `namesize` is 0 or larger than PATH_MAX.
    BadNameSize,
    /// A symlink whose target is longer than PATH_MAX.
    LongSymlink,
    /// A directory, device, fifo or socket with a non-empty body.
    BodyOnNonFile,
}

impl Ignored {
    pub fn reason(self) -> &'static str {
        match self {
            Ignored::BadNameSize => "name size is 0 or longer than PATH_MAX (4096)",
            Ignored::LongSymlink => "symlink target longer than PATH_MAX (4096)",
            Ignored::BodyOnNonFile => "non-regular entry with a non-empty body",
        }
    }
}

/// One header as seen by the machine.
#[derive(Debug, Clone)]
pub(crate) struct RawEntry {
    /// Position of the header (absolute in outer mode, in the member's output otherwise).
    pub header_pos: u64,
    /// Position of the body.
    pub data_pos: u64,
    pub magic: Magic,
    pub header: Header,
    /// The name up to its first NUL (what the kernel passes to the VFS).
    pub name: Vec<u8>,
    pub symlink_target: Option<Vec<u8>>,
    pub ignored: Option<Ignored>,
    pub is_trailer: bool,
}

/// Receives what the machine finds.
pub(crate) trait Sink {
    /// A header and name were read. Returning `false` stops the feed (limit reached).
    fn entry(&mut self, entry: RawEntry) -> bool;
    /// A piece of the body of the last entry.
    fn data(&mut self, _chunk: &[u8]) {}
    /// The body of the last entry ended after `present` bytes (less than its size if the
    /// stream ended first).
    fn end(&mut self, _present: u64) {}
}

enum St {
    Start,
    Reset,
    Header {
        buf: Box<[u8; HEADER_LEN]>,
        have: usize,
    },
    Name {
        buf: Vec<u8>,
        need: usize,
    },
    Data {
        remaining: u64,
        present: u64,
        /// Byte sum of the body, for `070702` entries.
        sum: u32,
    },
    Skip,
    Failed,
}

/// Result of one feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// All input consumed; feed more.
    More,
    /// Outer mode: an entry and its padding are done; the caller decides what follows.
    Yield,
    Fault(MachineFault),
    /// The sink asked to stop.
    Stopped,
}

pub(crate) struct Machine {
    mode: Mode,
    st: St,
    pos: u64,
    next_header: u64,
    header: Header,
    magic: Magic,
    header_pos: u64,
    ignored: Option<Ignored>,
    stopped: bool,
}

impl Machine {
    /// `first` is true when nothing was unpacked before: the kernel then expects a header
    /// at once instead of skipping NULs.
    pub(crate) fn new(mode: Mode, pos: u64, first: bool) -> Self {
        Machine {
            mode,
            st: if first { St::Start } else { St::Reset },
            pos,
            next_header: 0,
            header: Header::default(),
            magic: Magic::Newc,
            header_pos: 0,
            ignored: None,
            stopped: false,
        }
    }

    /// Outer mode: start an entry at the current position (the kernel sets `state = Start`).
    pub(crate) fn start_entry(&mut self) {
        self.st = St::Start;
    }

    pub(crate) fn pos(&self) -> u64 {
        self.pos
    }

    /// True when the machine is between entries (the kernel's `Reset` state): the only
    /// state in which a compressed member may end.
    pub(crate) fn at_boundary(&self) -> bool {
        matches!(self.st, St::Reset)
    }

    /// True when an entry was cut short by the end of the input.
    pub(crate) fn mid_entry(&self) -> bool {
        matches!(
            self.st,
            St::Header { .. } | St::Name { .. } | St::Data { .. } | St::Skip
        )
    }

    /// Tells the sink that the current body ends here (end of input).
    pub(crate) fn finish(&mut self, sink: &mut dyn Sink) {
        if let St::Data { present, .. } = self.st {
            sink.end(present);
        }
    }

    /// Feeds `input`; returns how much was consumed and why it stopped.
    pub(crate) fn feed(&mut self, input: &[u8], sink: &mut dyn Sink) -> (usize, Outcome) {
        let mut i = 0usize;
        loop {
            match &mut self.st {
                St::Failed => return (i, Outcome::Fault(MachineFault::Malformed)),
                St::Start => {
                    self.st = St::Header {
                        buf: Box::new([0; HEADER_LEN]),
                        have: 0,
                    };
                }
                St::Reset => {
                    while i < input.len() && input[i] == 0 {
                        i += 1;
                        self.pos += 1;
                    }
                    if i == input.len() {
                        return (i, Outcome::More);
                    }
                    if self.pos & 3 != 0 {
                        return self.fail(i, MachineFault::BrokenPadding);
                    }
                    match self.mode {
                        Mode::Outer => return (i, Outcome::Yield),
                        Mode::Compressed if input[i] == b'0' => self.st = St::Start,
                        Mode::Compressed => return self.fail(i, MachineFault::JunkWithin),
                    }
                }
                St::Header { buf, have } => {
                    if *have == 0 {
                        self.header_pos = self.pos;
                    }
                    let n = (HEADER_LEN - *have).min(input.len() - i);
                    buf[*have..*have + n].copy_from_slice(&input[i..i + n]);
                    *have += n;
                    i += n;
                    self.pos += n as u64;
                    if *have < HEADER_LEN {
                        return (i, Outcome::More);
                    }
                    let parsed = newc::parse_header(buf);
                    match parsed {
                        Err(HeaderError::Odc) => return self.fail(i, MachineFault::Odc),
                        Err(HeaderError::NoMagic) => return self.fail(i, MachineFault::NoMagic),
                        Ok((magic, h)) => self.got_header(magic, h, sink),
                    }
                    if self.stopped {
                        return (i, Outcome::Stopped);
                    }
                }
                St::Name { buf, need } => {
                    let n = (*need - buf.len()).min(input.len() - i);
                    buf.extend_from_slice(&input[i..i + n]);
                    i += n;
                    self.pos += n as u64;
                    if buf.len() < *need {
                        return (i, Outcome::More);
                    }
                    let buf = std::mem::take(buf);
                    if let Some(fault) = self.got_name(buf, sink) {
                        return self.fail(i, fault);
                    }
                    if self.stopped {
                        return (i, Outcome::Stopped);
                    }
                }
                St::Data {
                    remaining,
                    present,
                    sum,
                } => {
                    let n = (*remaining).min((input.len() - i) as u64) as usize;
                    if n > 0 {
                        sink.data(&input[i..i + n]);
                        if self.magic == Magic::Crc {
                            *sum = input[i..i + n]
                                .iter()
                                .fold(*sum, |a, &b| a.wrapping_add(u32::from(b)));
                        }
                    }
                    *remaining -= n as u64;
                    *present += n as u64;
                    i += n;
                    self.pos += n as u64;
                    if *remaining > 0 {
                        return (i, Outcome::More);
                    }
                    sink.end(*present);
                    if self.magic == Magic::Crc && *sum != self.header.check {
                        return self.fail(i, MachineFault::BadChecksum);
                    }
                    self.st = St::Skip;
                }
                St::Skip => {
                    let n =
                        (self.next_header.saturating_sub(self.pos)).min((input.len() - i) as u64);
                    i += n as usize;
                    self.pos += n;
                    if self.pos < self.next_header {
                        return (i, Outcome::More);
                    }
                    self.st = St::Reset;
                }
            }
        }
    }

    fn fail(&mut self, i: usize, f: MachineFault) -> (usize, Outcome) {
        self.st = St::Failed;
        (i, Outcome::Fault(f))
    }
}

impl Machine {
    fn got_header(&mut self, magic: Magic, h: Header, sink: &mut dyn Sink) {
        self.magic = magic;
        self.header = h;
        let name_len = u64::from(h.namesize);
        let body = u64::from(h.filesize);
        self.next_header = newc::align4(self.pos + newc::name_padded_len(name_len) + body);
        self.ignored = None;
        if name_len == 0 || name_len > PATH_MAX {
            self.ignored = Some(Ignored::BadNameSize);
            let entry = RawEntry {
                header_pos: self.header_pos,
                data_pos: self.pos,
                magic,
                header: h,
                name: Vec::new(),
                symlink_target: None,
                ignored: self.ignored,
                is_trailer: false,
            };
            if !sink.entry(entry) {
                self.stopped = true;
            }
            self.st = St::Skip;
            return;
        }
        let need = newc::name_padded_len(name_len);
        let kind = h.mode & S_IFMT;
        if kind == S_IFLNK {
            if body > PATH_MAX {
                self.ignored = Some(Ignored::LongSymlink);
            } else {
                self.st = St::Name {
                    buf: Vec::with_capacity((need + body) as usize),
                    need: (need + body) as usize,
                };
                return;
            }
        } else if kind != S_IFREG && body != 0 {
            self.ignored = Some(Ignored::BodyOnNonFile);
        }
        // The name is read for ignored entries too (for listings); it lies inside the
        // skipped range, so the positions are the kernel's.
        self.st = St::Name {
            buf: Vec::with_capacity(need as usize),
            need: need as usize,
        };
    }

    fn got_name(&mut self, buf: Vec<u8>, sink: &mut dyn Sink) -> Option<MachineFault> {
        let h = self.header;
        let name_len = h.namesize as usize;
        if buf[name_len - 1] != 0 {
            return Some(MachineFault::Malformed);
        }
        let name_end = buf[..name_len]
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(name_len);
        let name = buf[..name_end].to_vec();
        let is_trailer = self.ignored.is_none() && name == newc::TRAILER.as_bytes();
        let is_link = h.mode & S_IFMT == S_IFLNK && self.ignored.is_none();
        let symlink_target = if is_link && !is_trailer {
            let start = newc::name_padded_len(name_len as u64) as usize;
            let t = &buf[start..];
            let end = t.iter().position(|&b| b == 0).unwrap_or(t.len());
            Some(t[..end].to_vec())
        } else {
            None
        };
        let is_reg = h.mode & S_IFMT == S_IFREG && self.ignored.is_none() && !is_trailer;
        let entry = RawEntry {
            header_pos: self.header_pos,
            data_pos: self.pos,
            magic: self.magic,
            header: h,
            name,
            symlink_target,
            ignored: self.ignored,
            is_trailer,
        };
        if !sink.entry(entry) {
            self.stopped = true;
        }
        self.st = if is_reg {
            St::Data {
                remaining: u64::from(h.filesize),
                present: 0,
                sum: 0,
            }
        } else {
            St::Skip
        };
        None
    }
}
