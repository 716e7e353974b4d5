//! Integration tests of repack-assemble: splitting, hashing, extents, manifest files.

use proptest::prelude::*;
use repack_assemble::{AssembleError, CopySource, copy_split, copy_stream, part_name};
use repack_core::{FileRole, Sha256Digest};
use std::io::Write;

const MIB: u64 = 1 << 20;

/// An image file whose bytes are a function of their offset, and the bytes of `extents`.
fn image(size: u64) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    let data: Vec<u8> = (0..size)
        .map(|i| (i % 251) as u8 ^ (i >> 16) as u8)
        .collect();
    file.write_all(&data).unwrap();
    file
}

fn expected_bytes(image: &tempfile::NamedTempFile, extents: &[(u64, u64)]) -> Vec<u8> {
    let data = std::fs::read(image.path()).unwrap();
    extents
        .iter()
        .flat_map(|&(offset, len)| data[offset as usize..(offset + len) as usize].to_vec())
        .collect()
}

fn copy(
    image: &tempfile::NamedTempFile,
    extents: &[(u64, u64)],
    part_size: u64,
) -> (
    tempfile::TempDir,
    Result<repack_core::ManifestFile, AssembleError>,
) {
    let out = tempfile::tempdir().unwrap();
    let file = std::fs::File::open(image.path()).unwrap();
    let source = CopySource {
        image: &file,
        image_path: image.path(),
        extents,
    };
    let result = copy_split(
        &source,
        out.path(),
        "filesystem.squashfs",
        FileRole::Rootfs,
        part_size,
    );
    (out, result)
}

#[test]
fn splits_at_part_size_with_netboot_xyz_names_and_exact_hashes() {
    let image = image(5 * MIB + 123);
    let extents = [(0, 5 * MIB + 123)];
    let (out, result) = copy(&image, &extents, 2 * MIB);
    let file = result.unwrap();
    let names: Vec<_> = file.parts.iter().map(|part| part.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "filesystem.squashfs",
            "filesystem.squashfs.part2",
            "filesystem.squashfs.part3"
        ]
    );
    let sizes: Vec<_> = file.parts.iter().map(|part| part.size).collect();
    assert_eq!(sizes, [2 * MIB, 2 * MIB, MIB + 123]);
    let whole = expected_bytes(&image, &extents);
    // A split file is described by its parts' digests alone: no third pass over its bytes.
    assert_eq!(file.sha256, None);
    let mut joined = Vec::new();
    for part in &file.parts {
        let bytes = std::fs::read(out.path().join(&part.name)).unwrap();
        assert_eq!(part.sha256, Sha256Digest::of(&bytes));
        joined.extend(bytes);
    }
    assert_eq!(joined, whole);
}

#[test]
fn exact_multiple_of_part_size_leaves_no_empty_part() {
    let image = image(4 * MIB);
    let (out, result) = copy(&image, &[(0, 4 * MIB)], 2 * MIB);
    assert_eq!(result.unwrap().parts.len(), 2);
    assert!(!out.path().join("filesystem.squashfs.part3").exists());
}

#[test]
fn small_file_is_one_part_named_like_the_file() {
    let image = image(MIB);
    let (_out, result) = copy(&image, &[(4096, 1000)], 2 * MIB);
    let file = result.unwrap();
    assert_eq!(file.parts.len(), 1);
    assert_eq!(file.parts[0].name, "filesystem.squashfs");
    assert_eq!(Some(file.parts[0].sha256), file.sha256);
}

#[test]
fn extents_past_the_end_of_the_image_are_a_short_source() {
    let image = image(MIB);
    let (_out, result) = copy(&image, &[(MIB - 10, 100)], 2 * MIB);
    match result {
        Err(AssembleError::ShortSource { got, expected, .. }) => {
            assert_eq!((got, expected), (10, 100));
        }
        other => panic!("expected a short source, got {other:?}"),
    }
}

#[test]
fn names_that_escape_are_refused() {
    let out = tempfile::tempdir().unwrap();
    for name in ["../x", "a/b", ".hidden", "", "x y"] {
        let result = copy_stream(&mut &b"data"[..], out.path(), name, FileRole::Kernel);
        assert!(matches!(result, Err(AssembleError::BadName(_))), "{name}");
    }
}

#[test]
fn tiny_part_size_is_refused() {
    let image = image(10);
    let (_out, result) = copy(&image, &[(0, 10)], 1000);
    assert!(matches!(result, Err(AssembleError::PartSizeTooSmall(1000))));
}

#[test]
fn part_names_follow_the_incumbent_convention() {
    assert_eq!(part_name("initrd", 0), "initrd");
    assert_eq!(part_name("initrd", 1), "initrd.part2");
    assert_eq!(part_name("initrd", 9), "initrd.part10");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn any_extents_and_part_size_round_trip(
        cuts in proptest::collection::vec((0u64..3 * MIB, 0u64..MIB), 1..5),
        part_size in MIB..3 * MIB,
    ) {
        let image = image(4 * MIB);
        let extents: Vec<(u64, u64)> = cuts.into_iter().map(|(offset, len)| (offset, len.min(4 * MIB - offset))).collect();
        let (out, result) = copy(&image, &extents, part_size);
        let file = result.unwrap();
        let whole = expected_bytes(&image, &extents);
        prop_assert_eq!(file.size, whole.len() as u64);
        let mut joined = Vec::new();
        for part in &file.parts {
            prop_assert!(part.size <= part_size);
            joined.extend(std::fs::read(out.path().join(&part.name)).unwrap());
        }
        prop_assert!(joined == whole);
        let one_part = (file.parts.len() == 1).then(|| Sha256Digest::of(&whole));
        prop_assert_eq!(file.sha256, one_part);
    }
}

/// `SplitSink` (bytes pushed in as a download delivers them) must lay out and describe a
/// file exactly as `copy_split` does, whatever the piece sizes; on a filesystem with or
/// without `O_DIRECT` (tmpfs has none).
#[test]
fn split_sink_matches_copy_split_for_any_piece_size() {
    let image = image(5 * MIB + 123);
    let extents = [(0, 5 * MIB + 123)];
    let whole = expected_bytes(&image, &extents);
    let (_copied_dir, copied) = copy(&image, &extents, 2 * MIB);
    let copied = copied.unwrap();
    let shm = std::path::Path::new("/dev/shm");
    for (piece, base) in [(4099usize, None), (1 << 20, None), (777_777, Some(shm))] {
        let out = match base.filter(|dir| dir.is_dir()) {
            Some(dir) => tempfile::tempdir_in(dir).unwrap(),
            None => tempfile::tempdir().unwrap(),
        };
        let mut sink = repack_assemble::SplitSink::create(
            out.path(),
            "filesystem.squashfs",
            whole.len() as u64,
            2 * MIB,
        )
        .unwrap();
        for chunk in whole.chunks(piece) {
            sink.write(chunk).unwrap();
        }
        let made = sink.finish(FileRole::Rootfs).unwrap();
        assert_eq!(made, copied, "piece size {piece}");
        for part in &made.parts {
            let bytes = std::fs::read(out.path().join(&part.name)).unwrap();
            assert_eq!(Sha256Digest::of(&bytes), part.sha256);
        }
    }
}

#[test]
fn split_sink_refuses_a_short_or_long_stream_and_discard_removes_its_files() {
    let out = tempfile::tempdir().unwrap();
    let mut sink =
        repack_assemble::SplitSink::create(out.path(), "rootfs.img", 3 * MIB, 2 * MIB).unwrap();
    assert!(sink.write(&vec![0u8; 4 * MIB as usize]).is_err());
    sink.write(&[1u8; 1000]).unwrap();
    assert!(matches!(
        sink.finish(FileRole::Rootfs),
        Err(AssembleError::ShortSource { .. })
    ));
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0);

    let sink =
        repack_assemble::SplitSink::create(out.path(), "rootfs.img", 3 * MIB, 2 * MIB).unwrap();
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 2);
    sink.discard();
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0);
}
