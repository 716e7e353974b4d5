//! Compression formats of initramfs members, recognised by magic the way the kernel does.
//!
//! The kernel's `decompress_method` compares the first two bytes of a member with a fixed
//! table; the decoder then checks the rest of its own header. We use the same two-byte table
//! so that a member is classified exactly as the kernel classifies it.

use serde::Serialize;

/// The compression of a member, as named by its magic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Compression {
    /// `1f 8b` (and the old `1f 9e`, which the kernel's gunzip then refuses).
    Gzip,
    /// `42 5a`.
    Bzip2,
    /// `5d 00` (the legacy `.lzma` format).
    Lzma,
    /// `fd 37` (`fd 37 7a 58 5a 00`).
    Xz,
    /// `89 4c` (lzop): recognised, not decoded by repack.
    Lzo,
    /// `02 21` (`02 21 4c 18`, `lz4 -l`).
    Lz4Legacy,
    /// `28 b5` (`28 b5 2f fd`).
    Zstd,
}

impl Compression {
    /// Classifies a member by its first two bytes, like the kernel.
    pub fn from_magic(b: &[u8]) -> Option<Compression> {
        match b {
            [0x1f, 0x8b, ..] | [0x1f, 0x9e, ..] => Some(Compression::Gzip),
            [0x42, 0x5a, ..] => Some(Compression::Bzip2),
            [0x5d, 0x00, ..] => Some(Compression::Lzma),
            [0xfd, 0x37, ..] => Some(Compression::Xz),
            [0x89, 0x4c, ..] => Some(Compression::Lzo),
            [0x02, 0x21, ..] => Some(Compression::Lz4Legacy),
            [0x28, 0xb5, ..] => Some(Compression::Zstd),
            _ => None,
        }
    }

    /// Short lowercase name (`gzip`, `lz4-legacy`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Bzip2 => "bzip2",
            Compression::Lzma => "lzma",
            Compression::Xz => "xz",
            Compression::Lzo => "lzo",
            Compression::Lz4Legacy => "lz4-legacy",
            Compression::Zstd => "zstd",
        }
    }
}

impl std::fmt::Display for Compression {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The modern LZ4 frame magic (`04 22 4d 18`), which the kernel does not accept.
pub const LZ4_FRAME_MAGIC: [u8; 4] = [0x04, 0x22, 0x4d, 0x18];
/// The legacy LZ4 magic as a little-endian word.
pub const LZ4_LEGACY_MAGIC: u32 = 0x184C_2102;
/// The uncompressed size of each legacy-lz4 chunk the kernel can take.
pub const LZ4_LEGACY_CHUNK: usize = 8 << 20;
/// xz stream header magic.
pub const XZ_MAGIC: [u8; 6] = [0xfd, b'7', b'z', b'X', b'Z', 0x00];
