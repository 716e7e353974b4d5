//! Files over 4 GiB are stored as several directory records (ISO level 3) and must come
//! back as one `IsoFile` with several extents.

use std::io::{Read, Seek, SeekFrom};

use repack_iso::IsoImage;

use crate::support::{Item, sparse_iso};

#[test]
fn file_larger_than_4_gib_reads_across_extents() {
    const HOLE: u64 = 4_500 * 1024 * 1024;
    let fixture = sparse_iso(
        &[Item::File("small.txt", b"small")],
        &[("big.img", HOLE, b"tail of the big file")],
        &["-iso-level", "3"],
    );
    let iso = repack_iso::open(&fixture.image).unwrap();
    let file = iso.lookup("/big.img").unwrap();
    let size = HOLE + 20;
    assert_eq!(file.size, size);
    let extents = file.extents().unwrap();
    assert!(extents.len() >= 2, "{extents:?}");
    assert_eq!(extents.iter().map(|e| e.len).sum::<u64>(), size);
    for extent in extents {
        assert!(extent.end() <= iso.image_size());
    }

    let mut reader = iso.reader(&file).unwrap();
    reader.seek(SeekFrom::End(-20)).unwrap();
    let mut tail = Vec::new();
    reader.read_to_end(&mut tail).unwrap();
    assert_eq!(tail, b"tail of the big file");

    // Across the first extent boundary: zeros on both sides, no short read.
    let boundary = extents[0].len;
    reader.seek(SeekFrom::Start(boundary - 4096)).unwrap();
    let mut across = vec![1u8; 8192];
    reader.read_exact(&mut across).unwrap();
    assert!(across.iter().all(|&b| b == 0));

    let small = iso.lookup("/small.txt").unwrap();
    assert_eq!(iso.read(&small, 10).unwrap(), b"small");
    assert!(iso.read(&file, 1 << 20).is_err());
}
