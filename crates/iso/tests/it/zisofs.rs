//! zisofs-compressed files (Rock Ridge `ZF`, issue 14 item 5), in images xorriso compressed
//! itself: every way a build or `repack iso cat` reads a file returns the original bytes
//! (compared by sha256 with the source), and the extent API never hands out compressed bytes
//! as content. Hostile variants are in `hostile` (attacks named `iso-zisofs-*`).

use std::io::{Read, Seek, SeekFrom};

use repack_iso::{ExtentReader, IsoError, IsoFile, IsoImage, read_file};
use sha2::{Digest, Sha256};

use crate::support::{Fixture, Item, iso, zisofs_iso};

/// Deterministic incompressible bytes (xorshift64*).
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
}

/// 300 KiB of noise then 200 KiB of text: several blocks at every block size, some of
/// which (two whole 128 KiB blocks at least) zlib cannot shrink.
pub fn mixed() -> Vec<u8> {
    let mut content = noise(300 * 1024, 1);
    content.extend(
        b"repack zisofs block "
            .iter()
            .cycle()
            .take(200 * 1024)
            .copied(),
    );
    content
}

/// Data, 300 KB of zeros (whole blocks xorriso stores as empty), data.
fn sparse() -> Vec<u8> {
    let mut content = noise(10_000, 2);
    content.extend(std::iter::repeat_n(0u8, 300_000));
    content.extend(noise(5_000, 3));
    content
}

fn sha256(data: &[u8]) -> Vec<u8> {
    Sha256::digest(data).to_vec()
}

const LONG_NAME: &str = "a-name-long-enough-that-xorriso-moves-the-rock-ridge-entries-of-its-record-into-a-continuation-area-including-the-zf-entry-which-repack-must-still-find-there-or-it-would-read-the-compressed-bytes.bin";

struct Source {
    path: &'static str,
    content: Vec<u8>,
}

fn sources() -> Vec<Source> {
    vec![
        Source {
            path: "live/vmlinuz",
            content: mixed(),
        },
        Source {
            path: "live/initrd.img",
            content: sparse(),
        },
        Source {
            path: LONG_NAME,
            content: mixed()[250_000..400_000].to_vec(),
        },
    ]
}

fn compressed_image(block_size: &str) -> (Fixture, Vec<Source>) {
    let sources = sources();
    let mut items: Vec<Item<'_>> = sources
        .iter()
        .map(|s| Item::File(s.path, &s.content))
        .collect();
    items.push(Item::File("small.txt", b"too small to compress"));
    let fixture = zisofs_iso(&items, &format!("block_size={block_size}"));
    (fixture, sources)
}

/// The block pointers of a compressed file, read from its stored bytes.
fn pointers(image: &std::fs::File, file: &IsoFile) -> Vec<u32> {
    use std::os::unix::fs::FileExt;
    let offset = file.stored_extents()[0].offset;
    let log2 = file.compression().unwrap().block_size_log2;
    let count = file.size.div_ceil(1 << log2) as usize + 1;
    let mut table = vec![0u8; 4 * count];
    image.read_exact_at(&mut table, offset + 16).unwrap();
    table
        .chunks(4)
        .map(|p| u32::from_le_bytes(p.try_into().unwrap()))
        .collect()
}

#[test]
fn xorriso_compressed_files_read_back_exactly_at_every_block_size() {
    for (block_size, log2) in [("32k", 15), ("64k", 16), ("128k", 17)] {
        let (fixture, sources) = compressed_image(block_size);
        let iso = repack_iso::open(&fixture.image).unwrap();
        let image = std::fs::File::open(&fixture.image).unwrap();
        for source in &sources {
            let file = iso.lookup(source.path).unwrap();
            let zf = file
                .compression()
                .unwrap_or_else(|| panic!("{}: xorriso did not compress it", source.path));
            assert_eq!(
                (zf.algorithm, zf.block_size_log2),
                (*b"pz", log2),
                "{}",
                source.path
            );
            assert_eq!(file.size, source.content.len() as u64);
            let expected = sha256(&source.content);

            let whole = read_file(&image, &file, u64::MAX).unwrap();
            assert_eq!(sha256(&whole), expected, "{} read_file", source.path);
            assert_eq!(sha256(&iso.read(&file, file.size).unwrap()), expected);
            let mut streamed = Vec::new();
            iso.reader(&file)
                .unwrap()
                .read_to_end(&mut streamed)
                .unwrap();
            assert_eq!(sha256(&streamed), expected, "{} ExtentReader", source.path);

            let listed = iso
                .list(source.path.rsplit_once('/').map_or("/", |(dir, _)| dir))
                .unwrap()
                .into_iter()
                .find(|e| source.path.ends_with(&e.name))
                .unwrap();
            assert_eq!(listed.size, source.content.len() as u64, "listed size");
        }
        // The fixture really exercises empty (all-zero) blocks and incompressible blocks.
        let initrd = iso.lookup("live/initrd.img").unwrap();
        let table = pointers(&image, &initrd);
        assert!(table.windows(2).any(|w| w[0] == w[1]), "no empty block");
        let kernel = iso.lookup("live/vmlinuz").unwrap();
        let block = 1u64 << log2;
        let table = pointers(&image, &kernel);
        assert!(
            table.windows(2).any(|w| u64::from(w[1] - w[0]) > block),
            "no block larger compressed than plain"
        );
        // Too small to shrink: stored plain, extents handed out.
        let small = iso.lookup("/small.txt").unwrap();
        assert!(!small.is_compressed());
        assert_eq!(small.extents().unwrap(), small.stored_extents());
        assert_eq!(iso.read(&small, 100).unwrap(), b"too small to compress");
    }
}

#[test]
fn a_compression_entry_in_a_continuation_area_is_found() {
    let (fixture, sources) = compressed_image("32k");
    let bytes = fixture.bytes();
    let iso = repack_iso::open(&fixture.image).unwrap();
    let file = iso.lookup(LONG_NAME).unwrap();
    // The root directory holds this file and the plain `small.txt`; no ZF entry is in its
    // records, so the one that marks this file compressed sits in a continuation area.
    let root = crate::support::root_lba(&bytes) as usize * crate::support::SECTOR;
    let root_len = crate::support::get32(&bytes, 16 * crate::support::SECTOR + 156 + 10) as usize;
    assert!(
        !bytes[root..root + root_len]
            .windows(4)
            .any(|w| w == b"ZF\x10\x01"),
        "a ZF entry is in the root directory's records: the fixture no longer uses a CE area"
    );
    assert!(file.is_compressed());
    let expected = &sources
        .iter()
        .find(|s| s.path == LONG_NAME)
        .unwrap()
        .content;
    assert_eq!(
        sha256(&iso.read(&file, u64::MAX).unwrap()),
        sha256(expected)
    );
}

#[test]
fn extents_of_a_compressed_file_are_refused_as_content() {
    let (fixture, _) = compressed_image("32k");
    let iso = repack_iso::open(&fixture.image).unwrap();
    let file = iso.lookup("/live/vmlinuz").unwrap();
    let err = file.extents().unwrap_err();
    assert_eq!(err.kind(), "iso-compressed");
    assert!(err.to_string().contains("/live/vmlinuz"), "{err}");
    assert!(!err.is_bad_image());
    assert_eq!(file.contiguous_offset(), None);
    // The stored extents are the compressed form: inside the image, smaller than the content.
    assert!(file.stored_size() < file.size);
    for extent in file.stored_extents() {
        assert!(extent.end() <= iso.image_size());
    }
    // Globs resolve to the same, flagged file.
    assert_eq!(iso.resolve("/live/vmlinu?").unwrap(), file);
}

#[test]
fn cat_streams_decoded_bytes_and_seeks_across_blocks() {
    let (fixture, _) = compressed_image("32k");
    let content = mixed();
    let iso = repack_iso::open(&fixture.image).unwrap();
    let file = iso.resolve("/live/vmlinu*").unwrap();
    let image = std::fs::File::open(&fixture.image).unwrap();
    let mut reader = ExtentReader::new(&image, &file).unwrap();
    assert_eq!(reader.len(), content.len() as u64);
    for start in [
        0u64,
        32_767,
        32_768,
        65_530,
        102_400,
        content.len() as u64 - 3,
    ] {
        reader.seek(SeekFrom::Start(start)).unwrap();
        let mut buf = vec![0u8; 40_000];
        let n = reader.read(&mut buf).unwrap();
        assert!(n > 0);
        assert_eq!(
            buf[..n],
            content[start as usize..start as usize + n],
            "at {start}"
        );
    }
    reader.seek(SeekFrom::Start(10)).unwrap();
    let mut rest = Vec::new();
    reader.read_to_end(&mut rest).unwrap();
    assert_eq!(rest, content[10..]);
}

#[test]
fn precompressed_files_marked_by_mkisofs_z_read_back() {
    // mkzftree-style input: xorriso `-z` recognises it by its header and adds the ZF entry.
    let content = sparse();
    let stored = repack_iso::fuzzing::encode_zisofs(&content, 16);
    let fixture = iso(&[Item::File("pre.z", &stored)], &["-z"]);
    let iso = repack_iso::open(&fixture.image).unwrap();
    let file = iso.lookup("/pre.z").unwrap();
    assert_eq!(file.compression().map(|zf| zf.block_size_log2), Some(16));
    assert_eq!(file.stored_size(), stored.len() as u64);
    assert_eq!(
        sha256(&iso.read(&file, u64::MAX).unwrap()),
        sha256(&content)
    );
}

#[test]
fn zisofs2_is_refused_not_read_as_plain() {
    let content = mixed();
    for entry in ["susp_z2=off", "susp_z2=on"] {
        let fixture = zisofs_iso(
            &[Item::File("big.bin", &content)],
            &format!("version_2=on:{entry}"),
        );
        let iso = repack_iso::open(&fixture.image).unwrap();
        let file = iso.lookup("/big.bin").unwrap();
        let zf = file.compression().expect("zisofs2 entry recognised");
        assert_eq!(zf.algorithm, *b"PZ", "{entry}");
        assert_eq!(
            zf.signature,
            if entry.ends_with("on") {
                *b"Z2"
            } else {
                *b"ZF"
            }
        );
        assert_eq!(file.size, content.len() as u64, "zisofs2 size");
        let err = iso.read(&file, u64::MAX).unwrap_err();
        assert_eq!(err.kind(), "iso-zisofs-unsupported", "{entry}: {err}");
        assert!(err.to_string().contains("/big.bin"), "{err}");
        assert!(matches!(iso.reader(&file), Err(IsoError::Zisofs { .. })));
        assert_eq!(file.extents().unwrap_err().kind(), "iso-compressed");
    }
}

/// Offset of the `CE` entry of the long-named file's record (the last `CE` in the root
/// directory; the first belongs to its `.` record).
fn long_name_ce(bytes: &[u8]) -> usize {
    let root = crate::support::root_lba(bytes) as usize * crate::support::SECTOR;
    let root_len = crate::support::get32(bytes, 16 * crate::support::SECTOR + 156 + 10) as usize;
    let hits: Vec<usize> = bytes[root..root + root_len]
        .windows(4)
        .enumerate()
        .filter(|(_, w)| *w == b"CE\x1c\x01")
        .map(|(at, _)| root + at)
        .collect();
    assert_eq!(hits.len(), 2, "CE entries in the root directory");
    hits[1]
}

#[test]
fn a_bad_continuation_area_is_refused() {
    let (fixture, _) = compressed_image("32k");
    let bytes = fixture.bytes();
    let ce = long_name_ce(&bytes);
    // The name is cut where hadris lost its continuation area; the error still names it.
    let cases: [(&str, usize, u32, &str, &str); 2] = [
        // Offset 2000 + its length leaves the logical block (the kernel refuses this too).
        (
            "leaves its block",
            ce + 12,
            2000,
            "iso-bad-rock-ridge",
            "`/a-name-long-enough",
        ),
        // hadris follows the area first, and fails reading its directory.
        (
            "past the image",
            ce + 4,
            0x00FF_FFFF,
            "iso-malformed",
            "`/`",
        ),
    ];
    for (what, at, value, kind, mentions) in cases {
        let mut image = bytes.clone();
        crate::support::put_both32(&mut image, at, value);
        let iso = repack_iso::Iso::from_source(image, repack_iso::Limits::default()).unwrap();
        let err = iso.lookup(LONG_NAME).unwrap_err();
        assert_eq!(err.kind(), kind, "{what}: {err}");
        assert!(err.to_string().contains(mentions), "{what}: {err}");
    }
}
