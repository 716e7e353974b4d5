//! Shared helpers: an image builder that remembers where each member starts, raw newc
//! entries for hostile fixtures, and external tools that fail loudly when missing.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use repack_initrd::newc::{self, Header};
use repack_initrd::{Codec, Initrd, Limits, SegmentKind};

/// A multi-member image under construction, with the expected segment layout.
#[derive(Default)]
pub struct Image {
    pub bytes: Vec<u8>,
    /// (offset, len, kind) of every segment we wrote, in order.
    pub layout: Vec<(u64, u64, SegmentKind)>,
}

impl Image {
    pub fn new() -> Self {
        Self::default()
    }

    fn push(&mut self, data: &[u8], kind: SegmentKind) -> &mut Self {
        if data.is_empty() {
            return self;
        }
        match self.layout.last_mut() {
            Some(last) if kind == SegmentKind::Padding && last.2 == SegmentKind::Padding => {
                last.1 += data.len() as u64
            }
            _ => self
                .layout
                .push((self.bytes.len() as u64, data.len() as u64, kind)),
        }
        self.bytes.extend_from_slice(data);
        self
    }

    /// An uncompressed newc archive (must be placed 4-aligned to be valid).
    pub fn newc(&mut self, archive: &[u8]) -> &mut Self {
        self.push(archive, SegmentKind::Newc)
    }

    /// A member compressed with one of our codecs.
    pub fn member(&mut self, codec: Codec, archive: &[u8]) -> &mut Self {
        let kind = match codec {
            Codec::None => return self.newc(archive),
            Codec::Gzip => SegmentKind::Compressed(repack_initrd::Compression::Gzip),
            Codec::Zstd => SegmentKind::Compressed(repack_initrd::Compression::Zstd),
            Codec::Xz => SegmentKind::Compressed(repack_initrd::Compression::Xz),
            Codec::Lz4Legacy => SegmentKind::Compressed(repack_initrd::Compression::Lz4Legacy),
        };
        let data = codec.compress(archive).expect("compress");
        self.push(&data, kind)
    }

    /// Already-compressed bytes of the given kind.
    pub fn raw(&mut self, data: &[u8], kind: SegmentKind) -> &mut Self {
        self.push(data, kind)
    }

    pub fn pad(&mut self, n: usize) -> &mut Self {
        self.push(&vec![0; n], SegmentKind::Padding)
    }

    /// Pads with NULs to a multiple of `align`.
    pub fn align(&mut self, align: usize) -> &mut Self {
        let n = (align - self.bytes.len() % align) % align;
        self.pad(n)
    }

    pub fn open(&self) -> Initrd {
        Initrd::from_bytes(self.bytes.clone(), Limits::small()).expect("open image")
    }
}

/// Builds a raw newc archive entry by entry (for hostile and hand-made fixtures).
#[derive(Default)]
pub struct Newc {
    pub bytes: Vec<u8>,
    ino: u32,
}

impl Newc {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn entry(
        &mut self,
        name: &str,
        mode: u32,
        nlink: u32,
        ino: Option<u32>,
        data: &[u8],
    ) -> &mut Self {
        self.ino += 1;
        let h = Header {
            ino: ino.unwrap_or(1000 + self.ino),
            mode,
            nlink,
            ..Header::default()
        };
        newc::write_entry(&mut self.bytes, &h, name, data);
        self
    }

    pub fn dir(&mut self, name: &str) -> &mut Self {
        self.entry(name, newc::S_IFDIR | 0o755, 2, None, b"")
    }

    pub fn file(&mut self, name: &str, data: &[u8]) -> &mut Self {
        self.entry(name, newc::S_IFREG | 0o644, 1, None, data)
    }

    pub fn symlink(&mut self, name: &str, target: &str) -> &mut Self {
        self.entry(name, newc::S_IFLNK | 0o777, 1, None, target.as_bytes())
    }

    pub fn trailer(&mut self) -> Vec<u8> {
        newc::write_trailer(&mut self.bytes);
        std::mem::take(&mut self.bytes)
    }
}

/// Fails the test with a clear message when `tool` is not installed.
pub fn require(tool: &str) {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
        .unwrap_or(false);
    assert!(
        found,
        "required tool `{tool}` is not installed (Debian: apt-get install cpio initramfs-tools-core zstd xz-utils lz4 gzip bzip2)"
    );
}

/// Runs `cmd args` with `input` on stdin; returns stdout; fails on a non-zero exit.
pub fn run(cmd: &str, args: &[&str], input: &[u8], dir: Option<&Path>) -> Vec<u8> {
    require(cmd);
    let mut c = Command::new(cmd);
    c.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(d) = dir {
        c.current_dir(d);
    }
    let mut child = c
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run `{cmd}`: {e}"));
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().expect("wait");
    writer.join().expect("writer");
    assert!(
        out.status.success(),
        "`{cmd} {}` failed: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Names listed by `cpio -t` for one uncompressed archive.
pub fn cpio_names(archive: &[u8]) -> Vec<String> {
    let out = run("cpio", &["-t", "--quiet"], archive, None);
    String::from_utf8(out)
        .expect("utf8")
        .lines()
        .map(str::to_string)
        .collect()
}

/// Our entry names (trailers excluded) for segment `seg`.
pub fn our_names(initrd: &Initrd, seg: usize) -> Vec<String> {
    initrd
        .entries()
        .expect("entries")
        .into_iter()
        .filter(|e| e.segment == seg)
        .map(|e| e.name)
        .collect()
}

/// A minimal, independent newc walker for checking our writer: (name, mode, data) per entry,
/// trailer excluded.
pub fn walk_newc(archive: &[u8]) -> Vec<(String, u32, Vec<u8>)> {
    let hex =
        |b: &[u8]| u32::from_str_radix(std::str::from_utf8(b).expect("ascii"), 16).expect("hex");
    let mut out = Vec::new();
    let mut p = 0usize;
    loop {
        assert_eq!(&archive[p..p + 6], b"070701", "magic at {p}");
        let f = |i: usize| hex(&archive[p + 6 + 8 * i..p + 14 + 8 * i]);
        let (mode, size, namesize) = (f(1), f(6) as usize, f(11) as usize);
        let name = std::str::from_utf8(&archive[p + 110..p + 110 + namesize - 1])
            .expect("utf8")
            .to_string();
        let data_at = (p + 110 + namesize + 3) & !3;
        let data = archive[data_at..data_at + size].to_vec();
        p = (data_at + size + 3) & !3;
        if name == "TRAILER!!!" {
            assert_eq!(p, archive.len(), "trailer ends the archive");
            return out;
        }
        out.push((name, mode, data));
    }
}
