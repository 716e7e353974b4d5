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
                let mut opts = liblzma::stream::LzmaOptions::new_preset(6)
                    .map_err(|e| err(format!("{e:?}")))?;
                opts.dict_size(1 << 20);
                let mut filters = liblzma::stream::Filters::new();
                filters.lzma2(&opts);
                let stream = liblzma::stream::Stream::new_stream_encoder(
                    &filters,
                    liblzma::stream::Check::Crc32,
                )
                .map_err(|e| err(format!("{e:?}")))?;
                let mut enc = liblzma::write::XzEncoder::new_stream(Vec::new(), stream);
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
