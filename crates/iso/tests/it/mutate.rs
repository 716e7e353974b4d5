//! A poor man's fuzzer that runs everywhere: random byte patches to the metadata sectors of
//! a real image (descriptors, path tables, directories, Rock Ridge areas) fed to the fuzz
//! harness. Errors are fine; a panic or a hang fails the test.

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
