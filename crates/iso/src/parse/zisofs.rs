//! The zisofs format, version 1 (Rock Ridge `ZF` algorithm `pz`, written by mkzftree and
//! by xorriso's `--zisofs` filter, decoded by Linux `fs/isofs`).
//!
//! A compressed file's stored bytes are a 16-byte header ([`MAGIC`], the uncompressed size
//! as a little-endian `u32`, the header size in 4-byte units, log2 of the block size, two
//! reserved bytes), then a table of `n + 1` little-endian `u32` byte offsets into the stored
//! file, `n` being the uncompressed size divided by the block size, rounded up; block `i` is
//! the zlib stream between offsets `i` and `i + 1`, and an empty one stands for a block of
//! zeros. Every block decodes to exactly the block size except the last, which holds the
//! rest.
//!
//! [`Layout::new`] checks the `ZF` entry's parameters, [`Layout::check_header`] the file's
//! own header against them and [`Layout::pointers`] the pointer table against the stored
//! size. They are pure and never read outside the slices they are given; reading the
//! stored bytes and inflating the blocks is `crate::zisofs`.

use super::rock_ridge::{ZISOFS_V1, ZfEntry};

/// The first 8 bytes of every zisofs version 1 file.
pub const MAGIC: [u8; 8] = [0x37, 0xE4, 0x53, 0x96, 0xC9, 0xDB, 0xD6, 0x07];
/// Length of the file header in bytes.
pub const HEADER_LEN: usize = 16;
/// The header size field (in 4-byte units) every version 1 producer writes.
pub const HEADER_SIZE_UNITS: u8 = (HEADER_LEN / 4) as u8;
/// Smallest and largest log2 block size of version 1 (32 KiB to 128 KiB); the kernel
/// refuses larger ones too, and the bound caps the memory one block costs.
pub const MIN_BLOCK_SIZE_LOG2: u8 = 15;
/// See [`MIN_BLOCK_SIZE_LOG2`].
pub const MAX_BLOCK_SIZE_LOG2: u8 = 17;
/// Bytes per block pointer.
pub const POINTER_LEN: u64 = 4;
/// A block's compressed length may exceed its block size a little (zlib stores
/// incompressible data with a few bytes of framing; xorriso writes 32 784 bytes for a
/// random 32 KiB block); more than this many times the block size is refused, which bounds
/// the memory reading one block costs.
pub const MAX_STORED_BLOCK_FACTOR: u64 = 2;

/// Why a compressed file cannot be decoded. Offsets are bytes of the file's stored
/// (compressed) form; blocks are numbered from 0.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ZisofsError {
    /// Occurs when the `ZF` entry names an algorithm other than zisofs version 1 (`pz`),
    /// zisofs2 (`PZ`) included.
    #[error("compression algorithm `{algorithm}` is not supported (only zisofs `pz`)")]
    UnsupportedAlgorithm {
        /// The algorithm, escaped.
        algorithm: String,
    },
    /// Occurs when the `ZF` entry's block size is not 2^15, 2^16 or 2^17 bytes.
    #[error("block size 2^{log2} is not supported (zisofs uses 2^15 to 2^17)")]
    UnsupportedBlockSize {
        /// log2 of the block size.
        log2: u8,
    },
    /// Occurs when the `ZF` entry's header size is not 4 units (16 bytes).
    #[error("header size of {units} units is not supported (zisofs headers are 4 units)")]
    UnsupportedHeaderSize {
        /// The header size in 4-byte units.
        units: u8,
    },
    /// Occurs when the stored bytes are too short for the header or do not start with
    /// [`MAGIC`].
    #[error("the stored bytes do not start with a zisofs header")]
    BadMagic,
    /// Occurs when the file's own header disagrees with its `ZF` entry.
    #[error("the file header says the {field} is {header} but the ZF entry says {entry}")]
    HeaderMismatch {
        /// `uncompressed size`, `header size` or `block size (log2)`.
        field: &'static str,
        /// The header's value.
        header: u64,
        /// The entry's value.
        entry: u64,
    },
    /// Occurs when the pointer table the declared size needs does not fit in the file.
    #[error(
        "{blocks} blocks need a pointer table ending at byte {needed}, but the file has \
         only {stored} bytes"
    )]
    TableTruncated {
        /// Number of blocks the declared size needs.
        blocks: u64,
        /// Where that table would end.
        needed: u64,
        /// Stored length of the file.
        stored: u64,
    },
    /// Occurs when block 0 does not start where the pointer table ends: the table's length
    /// (the declared size) is not the one it was written for.
    #[error(
        "block 0 starts at byte {pointer}, not at byte {table_end} where the pointer table \
         for the declared size ends"
    )]
    FirstPointer {
        /// The first pointer.
        pointer: u64,
        /// Where the table ends.
        table_end: u64,
    },
    /// Occurs when a block ends before it starts.
    #[error("block {block} ends at byte {end}, before it starts at byte {start}")]
    PointersBackwards {
        /// The block.
        block: u64,
        /// Its start pointer.
        start: u64,
        /// Its end pointer.
        end: u64,
    },
    /// Occurs when a block ends past the end of the stored file.
    #[error("block {block} ends at byte {end}, past the end of the {stored}-byte file")]
    PointerPastEnd {
        /// The block.
        block: u64,
        /// Its end pointer.
        end: u64,
        /// Stored length of the file.
        stored: u64,
    },
    /// Occurs when a block's compressed form is longer than [`MAX_STORED_BLOCK_FACTOR`]
    /// block sizes.
    #[error("block {block} at byte {start} is {len} bytes compressed, over the {max}-byte limit")]
    BlockTooLong {
        /// The block.
        block: u64,
        /// Its start pointer.
        start: u64,
        /// Its compressed length.
        len: u64,
        /// The limit.
        max: u64,
    },
    /// Occurs when a block decodes to more bytes than it must (the block size, or the rest
    /// of the declared size for the last block).
    #[error("block {block} at byte {start} inflates past its {expected} bytes")]
    BlockOverflow {
        /// The block.
        block: u64,
        /// Its start pointer.
        start: u64,
        /// The bytes it must decode to.
        expected: u64,
    },
    /// Occurs when a block's zlib stream ends before it decoded to the bytes it must.
    #[error("block {block} at byte {start} inflates to {got} bytes, expected {expected}")]
    BlockShort {
        /// The block.
        block: u64,
        /// Its start pointer.
        start: u64,
        /// Bytes decoded.
        got: u64,
        /// The bytes it must decode to.
        expected: u64,
    },
    /// Occurs when a block is not a valid zlib stream (bad header, data or checksum, or cut
    /// short).
    #[error("block {block} at byte {start} is not a valid zlib stream: {message}")]
    Inflate {
        /// The block.
        block: u64,
        /// Its start pointer.
        start: u64,
        /// What zlib (or the cut-off check) reported.
        message: String,
    },
    /// Occurs when a block's zlib stream ends before the block does.
    #[error("block {block} at byte {start} has {extra} bytes after its zlib stream")]
    TrailingBytes {
        /// The block.
        block: u64,
        /// Its start pointer.
        start: u64,
        /// Bytes left over.
        extra: u64,
    },
}

impl ZisofsError {
    /// A stable, short identifier (see [`crate::IsoError::kind`]).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::UnsupportedAlgorithm { .. }
            | Self::UnsupportedBlockSize { .. }
            | Self::UnsupportedHeaderSize { .. } => "iso-zisofs-unsupported",
            Self::BadMagic => "iso-zisofs-bad-magic",
            Self::HeaderMismatch { .. } => "iso-zisofs-header-mismatch",
            Self::TableTruncated { .. } => "iso-zisofs-table-truncated",
            Self::FirstPointer { .. } => "iso-zisofs-first-pointer",
            Self::PointersBackwards { .. } => "iso-zisofs-pointers-backwards",
            Self::PointerPastEnd { .. } => "iso-zisofs-pointer-past-end",
            Self::BlockTooLong { .. } => "iso-zisofs-block-too-long",
            Self::BlockOverflow { .. } => "iso-zisofs-block-overflow",
            Self::BlockShort { .. } => "iso-zisofs-block-short",
            Self::Inflate { .. } => "iso-zisofs-inflate",
            Self::TrailingBytes { .. } => "iso-zisofs-trailing-bytes",
        }
    }
}

/// The checked shape of one compressed file, from its `ZF` entry.
///
/// Invariant: `block_size_log2` is in `MIN_BLOCK_SIZE_LOG2..=MAX_BLOCK_SIZE_LOG2` and
/// `blocks == ceil(uncompressed_size / block_size)` (checked in [`Layout::new`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// The declared uncompressed size.
    pub uncompressed_size: u64,
    /// log2 of the block size.
    pub block_size_log2: u8,
    /// Number of blocks.
    pub blocks: u64,
}

impl Layout {
    /// Checks a `ZF` entry's parameters.
    pub fn new(zf: &ZfEntry) -> Result<Self, ZisofsError> {
        if zf.algorithm != ZISOFS_V1 {
            return Err(ZisofsError::UnsupportedAlgorithm {
                algorithm: zf.algorithm_name(),
            });
        }
        let Some(uncompressed_size) = zf.uncompressed_size else {
            // The ZF parser reads the size of every `pz` entry.
            return Err(ZisofsError::UnsupportedAlgorithm {
                algorithm: zf.algorithm_name(),
            });
        };
        if !(MIN_BLOCK_SIZE_LOG2..=MAX_BLOCK_SIZE_LOG2).contains(&zf.block_size_log2) {
            return Err(ZisofsError::UnsupportedBlockSize {
                log2: zf.block_size_log2,
            });
        }
        if zf.header_size != HEADER_SIZE_UNITS {
            return Err(ZisofsError::UnsupportedHeaderSize {
                units: zf.header_size,
            });
        }
        Ok(Self {
            uncompressed_size,
            block_size_log2: zf.block_size_log2,
            blocks: uncompressed_size.div_ceil(1 << zf.block_size_log2),
        })
    }

    /// Uncompressed bytes per block.
    pub fn block_size(&self) -> u64 {
        1 << self.block_size_log2
    }

    /// Where the pointer table starts in the stored file.
    pub fn table_offset(&self) -> u64 {
        HEADER_LEN as u64
    }

    /// Length of the pointer table in bytes (`blocks + 1` pointers).
    pub fn table_len(&self) -> u64 {
        (self.blocks + 1) * POINTER_LEN
    }

    /// Where the pointer table ends, and block 0 starts, in the stored file.
    pub fn table_end(&self) -> u64 {
        self.table_offset() + self.table_len()
    }

    /// The number of bytes block `block` decodes to.
    pub fn block_len(&self, block: u64) -> u64 {
        let start = block << self.block_size_log2;
        self.uncompressed_size
            .saturating_sub(start)
            .min(self.block_size())
    }

    /// The longest compressed block accepted.
    pub fn max_stored_block(&self) -> u64 {
        self.block_size() * MAX_STORED_BLOCK_FACTOR
    }

    /// Checks the file's own header against the `ZF` entry.
    pub fn check_header(&self, header: &[u8]) -> Result<(), ZisofsError> {
        let header = header.get(..HEADER_LEN).ok_or(ZisofsError::BadMagic)?;
        if header[..8] != MAGIC {
            return Err(ZisofsError::BadMagic);
        }
        let size = u64::from(u32::from_le_bytes(
            header[8..12].try_into().expect("4 bytes"),
        ));
        let fields = [
            ("uncompressed size", size, self.uncompressed_size),
            (
                "header size",
                u64::from(header[12]),
                u64::from(HEADER_SIZE_UNITS),
            ),
            (
                "block size (log2)",
                u64::from(header[13]),
                u64::from(self.block_size_log2),
            ),
        ];
        for (field, header, entry) in fields {
            if header != entry {
                return Err(ZisofsError::HeaderMismatch {
                    field,
                    header,
                    entry,
                });
            }
        }
        Ok(())
    }

    /// Checks that the pointer table fits in a file of `stored` bytes (before it is read).
    pub fn check_table_fits(&self, stored: u64) -> Result<(), ZisofsError> {
        if self.table_end() > stored {
            return Err(ZisofsError::TableTruncated {
                blocks: self.blocks,
                needed: self.table_end(),
                stored,
            });
        }
        Ok(())
    }

    /// Decodes and checks the pointer table (`table_len()` bytes) of a file of `stored`
    /// bytes: block 0 starts where the table ends, no block ends before it starts or past
    /// the file, and none is longer than [`Layout::max_stored_block`].
    pub fn pointers(&self, table: &[u8], stored: u64) -> Result<Vec<u32>, ZisofsError> {
        self.check_table_fits(stored)?;
        let pointers: Vec<u32> = table
            .chunks_exact(POINTER_LEN as usize)
            .map(|p| u32::from_le_bytes(p.try_into().expect("4 bytes")))
            .collect();
        if pointers.len() as u64 != self.blocks + 1 {
            return Err(ZisofsError::TableTruncated {
                blocks: self.blocks,
                needed: self.table_end(),
                stored: self.table_offset() + table.len() as u64,
            });
        }
        if u64::from(pointers[0]) != self.table_end() {
            return Err(ZisofsError::FirstPointer {
                pointer: u64::from(pointers[0]),
                table_end: self.table_end(),
            });
        }
        for (block, pair) in pointers.windows(2).enumerate() {
            let (block, start, end) = (block as u64, u64::from(pair[0]), u64::from(pair[1]));
            if end < start {
                return Err(ZisofsError::PointersBackwards { block, start, end });
            }
            if end > stored {
                return Err(ZisofsError::PointerPastEnd { block, end, stored });
            }
            if end - start > self.max_stored_block() {
                return Err(ZisofsError::BlockTooLong {
                    block,
                    start,
                    len: end - start,
                    max: self.max_stored_block(),
                });
            }
        }
        Ok(pointers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(size: u32, log2: u8) -> ZfEntry {
        ZfEntry {
            signature: *b"ZF",
            algorithm: ZISOFS_V1,
            header_size: 4,
            block_size_log2: log2,
            uncompressed_size: Some(u64::from(size)),
        }
    }

    fn header(size: u32, log2: u8) -> Vec<u8> {
        let mut h = MAGIC.to_vec();
        h.extend_from_slice(&size.to_le_bytes());
        h.extend_from_slice(&[4, log2, 0, 0]);
        h
    }

    fn table(pointers: &[u32]) -> Vec<u8> {
        pointers.iter().flat_map(|p| p.to_le_bytes()).collect()
    }

    #[test]
    fn layout_counts_blocks_and_the_last_block_holds_the_rest() {
        let layout = Layout::new(&entry(200_000, 15)).unwrap();
        assert_eq!(layout.blocks, 7);
        assert_eq!(layout.table_end(), 16 + 8 * 4);
        assert_eq!(layout.block_len(0), 32_768);
        assert_eq!(layout.block_len(6), 200_000 - 6 * 32_768);
        let exact = Layout::new(&entry(65_536, 16)).unwrap();
        assert_eq!((exact.blocks, exact.block_len(0)), (1, 65_536));
        let empty = Layout::new(&entry(0, 17)).unwrap();
        assert_eq!((empty.blocks, empty.table_end()), (0, 20));
    }

    #[test]
    fn refuses_unsupported_parameters() {
        let mut zf = entry(1, 15);
        zf.algorithm = *b"PZ";
        assert!(matches!(
            Layout::new(&zf),
            Err(ZisofsError::UnsupportedAlgorithm { algorithm }) if algorithm == "PZ"
        ));
        for log2 in [0, 14, 18, 255] {
            assert_eq!(
                Layout::new(&entry(1, log2)),
                Err(ZisofsError::UnsupportedBlockSize { log2 })
            );
        }
        let mut zf = entry(1, 15);
        zf.header_size = 5;
        assert_eq!(
            Layout::new(&zf),
            Err(ZisofsError::UnsupportedHeaderSize { units: 5 })
        );
    }

    #[test]
    fn header_must_match_the_entry() {
        let layout = Layout::new(&entry(100, 15)).unwrap();
        assert_eq!(layout.check_header(&header(100, 15)), Ok(()));
        assert_eq!(
            layout.check_header(&header(100, 15)[..10]),
            Err(ZisofsError::BadMagic)
        );
        let mut bad = header(100, 15);
        bad[0] ^= 1;
        assert_eq!(layout.check_header(&bad), Err(ZisofsError::BadMagic));
        assert!(matches!(
            layout.check_header(&header(101, 15)),
            Err(ZisofsError::HeaderMismatch {
                field: "uncompressed size",
                header: 101,
                entry: 100
            })
        ));
        assert!(matches!(
            layout.check_header(&header(100, 16)),
            Err(ZisofsError::HeaderMismatch {
                field: "block size (log2)",
                ..
            })
        ));
    }

    #[test]
    fn pointer_table_checks() {
        // 3 blocks, 4 pointers, table ends at 32.
        let layout = Layout::new(&entry(70_000, 15)).unwrap();
        let good = [32, 100, 100, 150];
        assert_eq!(layout.pointers(&table(&good), 150).unwrap(), good);
        assert_eq!(
            layout.pointers(&table(&good), 20),
            Err(ZisofsError::TableTruncated {
                blocks: 3,
                needed: 32,
                stored: 20
            })
        );
        assert_eq!(
            layout.pointers(&table(&[28, 100, 100, 150]), 150),
            Err(ZisofsError::FirstPointer {
                pointer: 28,
                table_end: 32
            })
        );
        assert_eq!(
            layout.pointers(&table(&[32, 100, 99, 150]), 150),
            Err(ZisofsError::PointersBackwards {
                block: 1,
                start: 100,
                end: 99
            })
        );
        assert_eq!(
            layout.pointers(&table(&[32, 100, 100, 151]), 150),
            Err(ZisofsError::PointerPastEnd {
                block: 2,
                end: 151,
                stored: 150
            })
        );
        let long = 32 + 2 * 32_768 + 1;
        assert!(matches!(
            layout.pointers(&table(&[32, long, long, long]), u64::from(long)),
            Err(ZisofsError::BlockTooLong { block: 0, .. })
        ));
        assert!(matches!(
            layout.pointers(&table(&good)[..12], 150),
            Err(ZisofsError::TableTruncated { .. })
        ));
    }
}
