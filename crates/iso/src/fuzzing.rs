//! The fuzz harnesses, shared by the cargo-fuzz targets in `fuzz/fuzz_targets/` and the tests
//! that replay the committed corpora, plus the zisofs encoder the tests and seeds are built
//! with. Not a stable API.

use std::io::Read;

use crate::extent::{Extent, ExtentReader, IsoFile, read_file};
use crate::parse::rock_ridge::{ZISOFS_V1, ZfEntry};
use crate::parse::volume_descriptor::{FIRST_DESCRIPTOR_SECTOR, SECTOR_SIZE};
use crate::parse::zisofs::{HEADER_LEN, HEADER_SIZE_UNITS, MAGIC};
use crate::{Iso, IsoImage, Limits};

/// Most bytes a harness decodes from one file.
const MAX_READ: u64 = 1 << 20;

/// Opens `data` as an image whose first 16 sectors (the system area, never parsed) are
/// implied zeros, walks the whole tree and reads every file it finds. Errors are expected;
/// panics, hangs and unbounded allocations are the bugs this looks for.
pub fn walk(data: &[u8]) {
    let mut image = vec![0u8; (FIRST_DESCRIPTOR_SECTOR * SECTOR_SIZE) as usize];
    image.extend_from_slice(data);
    let limits = Limits {
        max_depth: 16,
        max_dir_entries: 4096,
        max_dir_bytes: 1 << 20,
        max_walk_entries: 20_000,
        max_path_table_bytes: 1 << 20,
    };
    let Ok(iso) = Iso::from_source(image, limits) else {
        return;
    };
    let mut files = Vec::new();
    let _ = iso.walk("/", |path, entry| {
        if entry.kind == crate::EntryKind::File && files.len() < 64 {
            files.push(path.to_owned());
        }
    });
    for path in files {
        if let Ok(file) = iso.lookup(&path) {
            let _ = iso.read(&file, MAX_READ);
        }
        if let Some((dir, _)) = path.rsplit_once('/') {
            let _ = iso.resolve(&format!("{dir}/*"));
        }
    }
    let _ = iso.list("/");
}

/// Decodes `data` as the stored bytes of a zisofs-compressed file whose `ZF` entry is the
/// one its own header implies ([`zf_of`]), whole ([`read_file`]) and streamed
/// ([`ExtentReader`]). Errors are expected; a panic, a hang, an unbounded allocation, or the
/// two ways of reading disagreeing are the bugs this looks for.
pub fn zisofs(data: &[u8]) {
    let file = stored_file(data);
    let whole = read_file(data, &file, MAX_READ).ok();
    let streamed = ExtentReader::new(data, &file).ok().and_then(|reader| {
        let mut out = Vec::new();
        reader
            .take(MAX_READ)
            .read_to_end(&mut out)
            .ok()
            .map(|_| out)
    });
    if file.size <= MAX_READ {
        if let Some(whole) = &whole {
            assert_eq!(
                whole.len() as u64,
                file.size,
                "decoded length is not the size"
            );
        }
        assert!(
            whole == streamed,
            "read_file and ExtentReader disagree: {:?} vs {:?} bytes",
            whole.as_ref().map(Vec::len),
            streamed.as_ref().map(Vec::len)
        );
    }
}

/// `data` as a compressed file stored at byte 0 of an image holding only it, with the `ZF`
/// entry its header implies ([`zf_of`]).
pub fn stored_file(data: &[u8]) -> IsoFile {
    let extents = vec![Extent {
        offset: 0,
        len: data.len() as u64,
    }];
    IsoFile::located("/fuzz".into(), extents, Some(zf_of(data)))
}

/// The `ZF` entry (algorithm `pz`) that the zisofs header at the start of `stored` implies,
/// as xorriso derives it for a file compressed beforehand: uncompressed size, header size
/// and block size read from the header (zeros where `stored` is too short).
pub fn zf_of(stored: &[u8]) -> ZfEntry {
    let mut header = [0u8; HEADER_LEN];
    let n = stored.len().min(HEADER_LEN);
    header[..n].copy_from_slice(&stored[..n]);
    ZfEntry {
        signature: *b"ZF",
        algorithm: ZISOFS_V1,
        header_size: header[12],
        block_size_log2: header[13],
        uncompressed_size: Some(u64::from(u32::from_le_bytes(
            header[8..12].try_into().expect("4 bytes"),
        ))),
    }
}

/// Encodes `content` (under 4 GiB) as zisofs version 1 with 2^`log2`-byte blocks, as
/// mkzftree and xorriso do: one zlib stream per block, all-zero blocks stored empty. For
/// tests and fuzz seeds.
pub fn encode_zisofs(content: &[u8], log2: u8) -> Vec<u8> {
    use std::io::Write;
    let size = u32::try_from(content.len()).expect("zisofs version 1 holds under 4 GiB");
    let blocks: Vec<Vec<u8>> = content
        .chunks(1 << log2)
        .map(|block| {
            if block.iter().all(|&b| b == 0) {
                return Vec::new();
            }
            let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
            zlib.write_all(block).expect("writing to memory");
            zlib.finish().expect("writing to memory")
        })
        .collect();
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&size.to_le_bytes());
    out.extend_from_slice(&[HEADER_SIZE_UNITS, log2, 0, 0]);
    let mut pointer = HEADER_LEN + 4 * (blocks.len() + 1);
    for block in std::iter::once(&Vec::new()).chain(&blocks) {
        pointer += block.len();
        let value = u32::try_from(pointer).expect("compressed form under 4 GiB");
        out.extend_from_slice(&value.to_le_bytes());
    }
    for block in &blocks {
        out.extend_from_slice(block);
    }
    out
}
