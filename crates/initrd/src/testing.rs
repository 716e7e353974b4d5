//! Builders for in-code fixtures (feature `testing`): [`Newc`] writes raw newc entries,
//! including the hostile ones (hard links, missing parents, odd modes) the overlay writer
//! refuses to make; [`Image`] concatenates members, padding and raw bytes and remembers the
//! segment layout it wrote, so tests can compare it with [`crate::Initrd::segments`].

use crate::newc::{self, Header};
use crate::{Codec, Compression, Initrd, Limits, SegmentKind};

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
            Codec::Gzip => SegmentKind::Compressed(Compression::Gzip),
            Codec::Zstd => SegmentKind::Compressed(Compression::Zstd),
            Codec::Xz => SegmentKind::Compressed(Compression::Xz),
            Codec::Lz4Legacy => SegmentKind::Compressed(Compression::Lz4Legacy),
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

    /// Opens the bytes with [`Limits::small`]; panics if that fails.
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

#[cfg(test)]
/// Names of the entries of one uncompressed newc archive (trailer included).
pub(crate) fn names(bytes: &[u8]) -> Vec<String> {
    let i = crate::Initrd::from_bytes(bytes.to_vec(), crate::Limits::small()).expect("open");
    i.records()
        .iter()
        .map(|r| String::from_utf8_lossy(&r.raw.name).into_owned())
        .collect()
}
