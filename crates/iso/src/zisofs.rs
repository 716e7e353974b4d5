//! Decoding zisofs-compressed files (Rock Ridge `ZF`, algorithm `pz`; format in
//! [`crate::parse::zisofs`]).
//!
//! [`Decoder::open`] reads a compressed file's header and block pointer table through
//! positioned reads of its stored extents and checks them before any block is touched;
//! [`Decoder::decode_block`] then inflates one block into a buffer of exactly the size it
//! must decode to, failing when its zlib stream would write one byte more, ends early or
//! leaves bytes over. Memory is bounded by the pointer table (which must fit in the stored
//! file), one compressed block ([`crate::parse::zisofs::MAX_STORED_BLOCK_FACTOR`] block
//! sizes) and, for [`crate::read_file`], the caller's size cap.

use flate2::{Decompress, FlushDecompress, Status};

use crate::error::IsoError;
use crate::extent::{Extent, read_stored};
use crate::parse::rock_ridge::ZfEntry;
use crate::parse::zisofs::{HEADER_LEN, Layout, ZisofsError};
use crate::source::ReadAt;

/// A compressed file whose header and pointer table were read and checked.
///
/// Invariant: `pointers` has `layout.blocks + 1` entries, starts where the table ends, never
/// decreases, ends inside the stored file, and no block is longer than
/// `layout.max_stored_block()` (checked by [`Layout::pointers`] in [`Decoder::open`]).
pub(crate) struct Decoder {
    layout: Layout,
    pointers: Vec<u32>,
}

/// How a block failed to inflate to exactly its size.
enum Fault {
    Overflow,
    Short(u64),
    Trailing(u64),
    Zlib(String),
}

impl Decoder {
    /// Reads and checks the header and pointer table of the file stored in `extents`.
    pub(crate) fn open<R: ReadAt + ?Sized>(
        image: &R,
        path: &str,
        extents: &[Extent],
        zf: &ZfEntry,
    ) -> Result<Self, IsoError> {
        let fail = |source| IsoError::Zisofs {
            path: path.to_owned(),
            source,
        };
        let layout = Layout::new(zf).map_err(fail)?;
        let stored: u64 = extents.iter().map(|e| e.len).sum();
        if stored < HEADER_LEN as u64 {
            return Err(fail(ZisofsError::BadMagic));
        }
        let mut header = [0u8; HEADER_LEN];
        read_stored(image, path, extents, 0, &mut header)?;
        layout.check_header(&header).map_err(fail)?;
        // Bounded by the stored size, itself inside the image, before anything is allocated.
        layout.check_table_fits(stored).map_err(fail)?;
        let mut table = vec![0u8; layout.table_len() as usize];
        read_stored(image, path, extents, layout.table_offset(), &mut table)?;
        let pointers = layout.pointers(&table, stored).map_err(fail)?;
        Ok(Self { layout, pointers })
    }

    /// The checked parameters.
    pub(crate) fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Decodes block `block` into `out`, which must be exactly `layout.block_len(block)`
    /// bytes; `scratch` receives its compressed bytes.
    pub(crate) fn decode_block<R: ReadAt + ?Sized>(
        &self,
        image: &R,
        path: &str,
        extents: &[Extent],
        block: u64,
        scratch: &mut Vec<u8>,
        out: &mut [u8],
    ) -> Result<(), IsoError> {
        debug_assert_eq!(out.len() as u64, self.layout.block_len(block));
        let index = block as usize;
        let start = u64::from(self.pointers[index]);
        let end = u64::from(self.pointers[index + 1]);
        if start == end {
            // An empty block stands for a block of zeros (sparse files).
            out.fill(0);
            return Ok(());
        }
        scratch.clear();
        scratch.resize((end - start) as usize, 0);
        read_stored(image, path, extents, start, scratch)?;
        let expected = out.len() as u64;
        inflate_exact(scratch, out).map_err(|fault| IsoError::Zisofs {
            path: path.to_owned(),
            source: match fault {
                Fault::Overflow => ZisofsError::BlockOverflow {
                    block,
                    start,
                    expected,
                },
                Fault::Short(got) => ZisofsError::BlockShort {
                    block,
                    start,
                    got,
                    expected,
                },
                Fault::Trailing(extra) => ZisofsError::TrailingBytes {
                    block,
                    start,
                    extra,
                },
                Fault::Zlib(message) => ZisofsError::Inflate {
                    block,
                    start,
                    message,
                },
            },
        })
    }

    /// Decodes the whole file into `out`, which must be exactly the uncompressed size.
    pub(crate) fn decode_all<R: ReadAt + ?Sized>(
        &self,
        image: &R,
        path: &str,
        extents: &[Extent],
        out: &mut [u8],
    ) -> Result<(), IsoError> {
        debug_assert_eq!(out.len() as u64, self.layout.uncompressed_size);
        let block_size = self.layout.block_size() as usize;
        let mut scratch = Vec::new();
        for (block, chunk) in out.chunks_mut(block_size).enumerate() {
            self.decode_block(image, path, extents, block as u64, &mut scratch, chunk)?;
        }
        Ok(())
    }
}

/// Inflates the zlib stream `input` into exactly `out`: the stream must end, having written
/// every byte of `out` and consumed every byte of `input`.
fn inflate_exact(input: &[u8], out: &mut [u8]) -> Result<(), Fault> {
    let mut zlib = Decompress::new(true);
    // Once `out` is full, decoding goes on into this byte: writing it means overflow.
    let mut probe = [0u8; 1];
    loop {
        let (read, written) = (zlib.total_in(), zlib.total_out());
        let target = match out.get_mut(written as usize..) {
            Some(rest) if !rest.is_empty() => rest,
            _ => &mut probe[..],
        };
        let status = zlib
            .decompress(&input[read as usize..], target, FlushDecompress::Finish)
            .map_err(|e| Fault::Zlib(e.to_string()))?;
        if zlib.total_out() > out.len() as u64 {
            return Err(Fault::Overflow);
        }
        if status == Status::StreamEnd {
            break;
        }
        if zlib.total_in() == read && zlib.total_out() == written {
            return Err(Fault::Zlib("the stream is cut short".into()));
        }
    }
    if zlib.total_out() < out.len() as u64 {
        return Err(Fault::Short(zlib.total_out()));
    }
    if zlib.total_in() < input.len() as u64 {
        return Err(Fault::Trailing(input.len() as u64 - zlib.total_in()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Seek, SeekFrom};

    use super::*;
    use crate::extent::{ExtentReader, IsoFile, read_file};
    use crate::fuzzing::{encode_zisofs, zf_of};

    /// A compressed file stored at byte 100 of an in-memory image.
    fn stored(bytes: &[u8]) -> (Vec<u8>, IsoFile) {
        let mut image = vec![0xEE; 100];
        image.extend_from_slice(bytes);
        image.extend_from_slice(&[0xEE; 100]);
        let extents = vec![Extent {
            offset: 100,
            len: bytes.len() as u64,
        }];
        let file = IsoFile::located("/z".into(), extents, Some(zf_of(bytes)));
        (image, file)
    }

    fn content() -> Vec<u8> {
        let mut content: Vec<u8> = (0..40_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        content.extend(std::iter::repeat_n(0u8, 70_000));
        content.extend(b"compressible ".repeat(3_000));
        content
    }

    fn zisofs_kind(result: Result<Vec<u8>, IsoError>) -> &'static str {
        match result {
            Err(IsoError::Zisofs { source, .. }) => source.kind(),
            other => panic!("expected a zisofs error, got {other:?}"),
        }
    }

    #[test]
    fn decodes_every_block_size_with_sparse_and_incompressible_blocks() {
        let content = content();
        for log2 in 15..=17 {
            let (image, file) = stored(&encode_zisofs(&content, log2));
            assert!(file.is_compressed());
            assert_eq!(file.size, content.len() as u64);
            assert_eq!(read_file(&image, &file, u64::MAX).unwrap(), content);
            let mut streamed = Vec::new();
            let mut reader = ExtentReader::new(&image, &file).unwrap();
            reader.read_to_end(&mut streamed).unwrap();
            assert_eq!(streamed, content, "log2 {log2}");
            // Seeks land inside blocks, across block boundaries and past the end.
            reader.seek(SeekFrom::Start(32_760)).unwrap();
            let mut across = [0u8; 20];
            reader.read_exact(&mut across).unwrap();
            assert_eq!(across, content[32_760..32_780]);
            reader.seek(SeekFrom::End(-5)).unwrap();
            let mut tail = Vec::new();
            reader.read_to_end(&mut tail).unwrap();
            assert_eq!(tail, content[content.len() - 5..]);
            reader
                .seek(SeekFrom::Start(content.len() as u64 + 10))
                .unwrap();
            assert_eq!(reader.read(&mut across).unwrap(), 0);
        }
    }

    #[test]
    fn the_cap_applies_to_the_uncompressed_size() {
        let content = content();
        let (image, file) = stored(&encode_zisofs(&content, 15));
        assert!(file.stored_size() < content.len() as u64);
        assert!(matches!(
            read_file(&image, &file, content.len() as u64 - 1),
            Err(IsoError::TooLarge { .. })
        ));
    }

    #[test]
    fn empty_and_single_block_files() {
        for content in [
            Vec::new(),
            b"x".to_vec(),
            vec![7u8; 32_768],
            vec![0u8; 40_000],
        ] {
            let (image, file) = stored(&encode_zisofs(&content, 15));
            assert_eq!(read_file(&image, &file, u64::MAX).unwrap(), content);
        }
    }

    #[test]
    fn extents_of_a_compressed_file_are_refused_as_content() {
        let (_, file) = stored(&encode_zisofs(b"abc", 15));
        assert_eq!(file.extents().unwrap_err().kind(), "iso-compressed");
        assert_eq!(file.stored_extents().len(), 1);
        assert_eq!(file.contiguous_offset(), None);
    }

    /// Replaces block `block`'s zlib stream with `stream`, fixing later pointers.
    fn with_block(bytes: &[u8], block: usize, stream: &[u8]) -> Vec<u8> {
        let zf = zf_of(bytes);
        let layout = Layout::new(&zf).unwrap();
        let table = layout.table_offset() as usize;
        let pointers: Vec<u32> = (0..=layout.blocks as usize)
            .map(|i| {
                u32::from_le_bytes(bytes[table + 4 * i..table + 4 * i + 4].try_into().unwrap())
            })
            .collect();
        let (start, end) = (pointers[block] as usize, pointers[block + 1] as usize);
        let mut out = bytes[..start].to_vec();
        out.extend_from_slice(stream);
        out.extend_from_slice(&bytes[end..]);
        let shift = stream.len() as i64 - (end - start) as i64;
        for (i, p) in pointers.iter().enumerate().skip(block + 1) {
            let moved = (i64::from(*p) + shift) as u32;
            out[table + 4 * i..table + 4 * i + 4].copy_from_slice(&moved.to_le_bytes());
        }
        out
    }

    fn zlib(data: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut encoder =
            flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn hostile_blocks_fail_with_their_own_error() {
        let content = b"0123456789".repeat(7_000); // 3 blocks of 32 KiB
        let good = encode_zisofs(&content, 15);
        let cases: [(&str, Vec<u8>, &str); 6] = [
            (
                "block 0 inflates past 32 KiB",
                with_block(&good, 0, &zlib(&[1u8; 32_769])),
                "iso-zisofs-block-overflow",
            ),
            (
                "the last block inflates past the rest of the size",
                with_block(&good, 2, &zlib(&content[65_536..].repeat(2))),
                "iso-zisofs-block-overflow",
            ),
            (
                "block 1 inflates to less than a block",
                with_block(&good, 1, &zlib(b"short")),
                "iso-zisofs-block-short",
            ),
            (
                "block 1 is not zlib",
                with_block(&good, 1, &[0xFF; 40]),
                "iso-zisofs-inflate",
            ),
            (
                "block 1 is cut short",
                with_block(&good, 1, &zlib(&[3u8; 32_768])[..10]),
                "iso-zisofs-inflate",
            ),
            (
                "block 1 has bytes after its stream",
                with_block(&good, 1, &[zlib(&[3u8; 32_768]), vec![0; 3]].concat()),
                "iso-zisofs-trailing-bytes",
            ),
        ];
        for (what, bytes, kind) in cases {
            let (image, file) = stored(&bytes);
            assert_eq!(
                zisofs_kind(read_file(&image, &file, u64::MAX)),
                kind,
                "{what}"
            );
            let mut reader = ExtentReader::new(&image, &file).unwrap();
            let err = reader.read_to_end(&mut Vec::new()).unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::InvalidData, "{what}");
            let inner = err.into_inner().unwrap().downcast::<IsoError>().unwrap();
            assert_eq!(inner.kind(), kind, "{what}");
        }
    }

    #[test]
    fn a_truncated_image_is_a_read_error() {
        let content = content();
        let bytes = encode_zisofs(&content, 15);
        let (mut image, file) = stored(&bytes);
        image.truncate(100 + bytes.len() - 10);
        assert!(matches!(
            read_file(&image, &file, u64::MAX),
            Err(IsoError::Read { .. })
        ));
        let mut reader = ExtentReader::new(&image, &file).unwrap();
        let err = reader.read_to_end(&mut Vec::new()).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof);
    }
}
