//! Compressors for the overlay member, each producing bytes the kernel accepts.
//!
//! Output is byte-reproducible: gzip without name or timestamp, single-threaded zstd, xz
//! with the CRC32 check and a plain LZMA2 filter (1 MiB dictionary, no BCJ), legacy lz4 in
//! 8 MiB chunks (the most the kernel's unlz4 decodes per chunk).

use std::io::Write;

use serde::Serialize;

use crate::compression::{LZ4_LEGACY_CHUNK, LZ4_LEGACY_MAGIC};
use crate::error::{Error, Result};

/// How to write the overlay member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Codec {
    /// Uncompressed newc (placed 4096-aligned).
    None,
    Gzip,
    Zstd,
    /// xz, CRC32 check, LZMA2 with a 1 MiB dictionary, no BCJ.
    Xz,
    /// Legacy lz4 (`lz4 -l`); only valid as the last member.
    Lz4Legacy,
}

impl Codec {
    pub fn name(self) -> &'static str {
        match self {
            Codec::None => "none",
            Codec::Gzip => "gzip",
            Codec::Zstd => "zstd",
            Codec::Xz => "xz",
            Codec::Lz4Legacy => "lz4-legacy",
        }
    }

    /// Every codec, for tests and `--help`.
    pub const ALL: [Codec; 5] = [
        Codec::None,
        Codec::Gzip,
        Codec::Zstd,
        Codec::Xz,
        Codec::Lz4Legacy,
    ];

    /// Compresses `data` into one member.
    pub fn compress(self, data: &[u8]) -> Result<Vec<u8>> {
        let err = |reason: String| Error::Compress {
            codec: self.name(),
            reason,
        };
        match self {
            Codec::None => Ok(data.to_vec()),
            Codec::Gzip => {
                let mut enc = flate2::GzBuilder::new()
                    .mtime(0)
                    .write(Vec::new(), flate2::Compression::best());
                enc.write_all(data).map_err(|e| err(e.to_string()))?;
                enc.finish().map_err(|e| err(e.to_string()))
            }
            Codec::Zstd => zstd::bulk::compress(data, 19).map_err(|e| err(e.to_string())),
            Codec::Xz => {
                let mut enc = liblzma::write::XzEncoder::new_stream(Vec::new(), xz_stream()?);
                enc.write_all(data).map_err(|e| err(e.to_string()))?;
                enc.finish().map_err(|e| err(e.to_string()))
            }
            Codec::Lz4Legacy => {
                let mut out = LZ4_LEGACY_MAGIC.to_le_bytes().to_vec();
                for chunk in data.chunks(LZ4_LEGACY_CHUNK) {
                    let block = lz4_flex::block::compress(chunk);
                    out.extend_from_slice(&(block.len() as u32).to_le_bytes());
                    out.extend_from_slice(&block);
                }
                Ok(out)
            }
        }
    }
}

/// An xz encoder the kernel accepts: CRC32 check, plain LZMA2, 1 MiB dictionary.
fn xz_stream() -> Result<liblzma::stream::Stream> {
    let err = |e: liblzma::stream::Error| Error::Compress {
        codec: "xz",
        reason: format!("{e:?}"),
    };
    let mut opts = liblzma::stream::LzmaOptions::new_preset(6).map_err(err)?;
    opts.dict_size(1 << 20);
    let mut filters = liblzma::stream::Filters::new();
    filters.lzma2(&opts);
    liblzma::stream::Stream::new_stream_encoder(&filters, liblzma::stream::Check::Crc32)
        .map_err(err)
}

/// A member written as its content arrives, for content too large to hold (a whole upstream
/// archive being re-wrapped). Levels are mkinitramfs's defaults, not the overlay's maximum:
/// this is bulk data.
pub(crate) enum MemberWriter<W: Write> {
    None(W),
    Gzip(flate2::write::GzEncoder<W>),
    Zstd(zstd::stream::Encoder<'static, W>),
    Xz(liblzma::write::XzEncoder<W>),
}

impl<W: Write> MemberWriter<W> {
    /// Refuses legacy lz4, which cannot be followed by another member.
    pub(crate) fn new(codec: Codec, out: W) -> Result<Self> {
        let err = |reason: String| Error::Compress {
            codec: codec.name(),
            reason,
        };
        Ok(match codec {
            Codec::None => MemberWriter::None(out),
            Codec::Gzip => MemberWriter::Gzip(
                flate2::GzBuilder::new()
                    .mtime(0)
                    .write(out, flate2::Compression::new(6)),
            ),
            Codec::Zstd => MemberWriter::Zstd(
                zstd::stream::Encoder::new(out, 9).map_err(|e| err(e.to_string()))?,
            ),
            Codec::Xz => MemberWriter::Xz(liblzma::write::XzEncoder::new_stream(out, xz_stream()?)),
            Codec::Lz4Legacy => {
                return Err(err(
                    "legacy lz4 has no end marker, so nothing could follow it".into(),
                ));
            }
        })
    }

    /// Ends the member and returns the writer.
    pub(crate) fn finish(self) -> std::io::Result<W> {
        match self {
            MemberWriter::None(w) => Ok(w),
            MemberWriter::Gzip(e) => e.finish(),
            MemberWriter::Zstd(e) => e.finish(),
            MemberWriter::Xz(e) => e.finish(),
        }
    }
}

impl<W: Write> Write for MemberWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            MemberWriter::None(w) => w.write(buf),
            MemberWriter::Gzip(e) => e.write(buf),
            MemberWriter::Zstd(e) => e.write(buf),
            MemberWriter::Xz(e) => e.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            MemberWriter::None(w) => w.flush(),
            MemberWriter::Gzip(e) => e.flush(),
            MemberWriter::Zstd(e) => e.flush(),
            MemberWriter::Xz(e) => e.flush(),
        }
    }
}

impl std::fmt::Display for Codec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Codec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "none" | "newc" | "uncompressed" => Ok(Codec::None),
            "gzip" | "gz" => Ok(Codec::Gzip),
            "zstd" | "zst" => Ok(Codec::Zstd),
            "xz" => Ok(Codec::Xz),
            "lz4" | "lz4-legacy" => Ok(Codec::Lz4Legacy),
            other => Err(format!(
                "unknown codec `{other}` (none, gzip, zstd, xz, lz4-legacy)"
            )),
        }
    }
}
