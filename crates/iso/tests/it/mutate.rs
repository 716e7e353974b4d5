//! A poor man's fuzzer that runs everywhere: random byte patches to the metadata sectors of
//! a real image (descriptors, path tables, directories, Rock Ridge areas) and to a
//! zisofs-compressed file, fed to the fuzz harnesses. Errors are fine; a panic, a hang, or
//! the whole-file and streaming readers disagreeing fails the test. Arbitrary contents
//! must round-trip through the zisofs encoder and decoder.

use proptest::prelude::*;

use crate::support::{Item, SECTOR, iso};

fn image() -> &'static [u8] {
    static IMAGE: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    IMAGE.get_or_init(|| {
        iso(
            &[
                Item::File("live/vmlinuz", b"kernel"),
                Item::File("live/initrd.img", b"initrd"),
                Item::File("a/b/c/d.txt", b"deep"),
                Item::Symlink("live/link", "../a"),
            ],
            &[],
        )
        .bytes()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn mutated_metadata_never_panics(
        patches in proptest::collection::vec((0usize..16 * SECTOR, any::<u8>()), 1..8)
    ) {
        let mut data = image()[16 * SECTOR..].to_vec();
        let meta = data.len().min(16 * SECTOR);
        for (at, byte) in patches {
            data[at % meta] = byte;
        }
        repack_iso::fuzzing::walk(&data);
    }
}

/// A compressed file of 4 blocks: noise, zeros (stored empty), text.
fn zisofs_stored() -> &'static [u8] {
    static STORED: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    STORED.get_or_init(|| {
        let mut content = crate::zisofs::noise(30_000, 7);
        content.extend(std::iter::repeat_n(0u8, 40_000));
        content.extend(b"mutate ".iter().cycle().take(40_000).copied());
        repack_iso::fuzzing::encode_zisofs(&content, 15)
    })
}

/// Content made of runs of zeros, noise and repeated text, so blocks come out empty,
/// incompressible and compressible.
fn runs() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec((0u8..3, 1usize..70_000, any::<u64>()), 0..6).prop_map(|runs| {
        let mut content = Vec::new();
        for (kind, len, seed) in runs {
            match kind {
                0 => content.extend(std::iter::repeat_n(0u8, len)),
                1 => content.extend(crate::zisofs::noise(len, seed)),
                _ => content.extend(b"abcab".iter().cycle().take(len).copied()),
            }
        }
        content
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Any patch of a compressed file's header, table or blocks is decoded or refused, the
    /// same way by `read_file` and `ExtentReader` (the harness asserts it), never a panic.
    #[test]
    fn mutated_zisofs_never_panics_and_readers_agree(
        patches in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        in_header in any::<bool>(),
    ) {
        let mut data = zisofs_stored().to_vec();
        // Half the cases aim at the header and pointer table, where most checks live.
        let span = if in_header { 16 + 4 * 5 } else { data.len() };
        for (at, byte) in patches {
            data[at % span] = byte;
        }
        repack_iso::fuzzing::zisofs(&data);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn any_content_round_trips_at_every_block_size(content in runs(), log2 in 15u8..=17) {
        let stored = repack_iso::fuzzing::encode_zisofs(&content, log2);
        let file = repack_iso::fuzzing::stored_file(&stored);
        prop_assert_eq!(file.size, content.len() as u64);
        let decoded = repack_iso::read_file(stored.as_slice(), &file, u64::MAX).unwrap();
        prop_assert!(decoded == content, "decoded bytes differ");
        repack_iso::fuzzing::zisofs(&stored);
    }
}
