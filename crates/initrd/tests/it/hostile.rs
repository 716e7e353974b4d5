//! Hostile input: decompression bombs stop with a clear error, limits hold, garbage and
//! mutated images never panic, and the committed fuzz corpus replays cleanly.

use std::io::Write;

use proptest::prelude::*;
use repack_initrd::newc::{self, Header, S_IFREG};
use repack_initrd::{Codec, Error, Initrd, Limits, Overlay};

use crate::support::Newc;

/// A zstd member declaring one 64 MiB file of zeros (a few KiB compressed).
fn zstd_bomb() -> Vec<u8> {
    // write_entry takes the size from the data, so patch the filesize field afterwards.
    let mut head = Vec::new();
    let h = Header {
        mode: S_IFREG | 0o644,
        nlink: 1,
        ..Header::default()
    };
    newc::write_entry(&mut head, &h, "bomb", b"");
    head[54..62].copy_from_slice(format!("{:08X}", 64u32 << 20).as_bytes());
    let mut enc = zstd::stream::Encoder::new(Vec::new(), 3).unwrap();
    enc.write_all(&head).unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..64 {
        enc.write_all(&zeros).unwrap();
    }
    let mut t = Vec::new();
    newc::write_trailer(&mut t);
    enc.write_all(&t).unwrap();
    enc.finish().unwrap()
}

#[test]
fn decompression_bombs_stop_at_the_limit_with_a_clear_error() {
    let bomb = zstd_bomb();
    assert!(bomb.len() < 64 << 10);
    let limits = Limits {
        max_member_output: 8 << 20,
        ..Limits::small()
    };
    let e = Initrd::from_bytes(bomb.clone(), limits).unwrap_err();
    assert!(
        matches!(
            e,
            Error::DecompressionLimit {
                segment: 0,
                offset: 0,
                codec: "zstd",
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("decompression bomb"), "{e}");
    // With a limit that fits, it opens, and reading the file is capped separately.
    let i = Initrd::from_bytes(
        bomb,
        Limits {
            max_member_output: 128 << 20,
            max_total_output: 128 << 20,
            ..Limits::small()
        },
    )
    .unwrap();
    let e = i.read_file("bomb").unwrap_err();
    assert!(matches!(e, Error::FileTooLarge { .. }), "{e}");
}

#[test]
fn the_total_limit_counts_every_member() {
    let payload = Newc::new().file("f", &vec![1u8; 3 << 20]).trailer();
    let gz = Codec::Gzip.compress(&payload).unwrap();
    let img: Vec<u8> = gz
        .iter()
        .chain(gz.iter())
        .chain(gz.iter())
        .copied()
        .collect();
    let limits = Limits {
        max_member_output: 4 << 20,
        max_total_output: 8 << 20,
        ..Limits::small()
    };
    let e = Initrd::from_bytes(img, limits).unwrap_err();
    assert!(
        matches!(
            e,
            Error::DecompressionLimit {
                segment: 2,
                which: "max_total_output",
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn too_many_entries_is_an_error() {
    let mut n = Newc::new();
    for i in 0..50 {
        n.file(&format!("f{i}"), b"");
    }
    let e = Initrd::from_bytes(
        n.trailer(),
        Limits {
            max_entries: 20,
            ..Limits::small()
        },
    )
    .unwrap_err();
    assert!(matches!(e, Error::TooManyEntries { limit: 20, .. }), "{e}");
}

#[test]
fn empty_and_tiny_inputs() {
    for b in [
        &b""[..],
        b"\0",
        b"0",
        b"07070",
        b"\x1f",
        b"\x1f\x8b",
        b"\x28\xb5\x2f\xfd",
        b"\x02\x21\x4c\x18",
        b"\xfd7zXZ\0",
    ] {
        repack_initrd::fuzz::exercise(b);
    }
    let i = Initrd::from_bytes(Vec::new(), Limits::small()).unwrap();
    assert!(i.segments().is_empty() && i.lint().is_clean());
}

fn seed_images() -> Vec<Vec<u8>> {
    let archive = Overlay::new()
        .mtime(0)
        .file("etc/a", 0o644, b"hello".to_vec())
        .symlink("bin", "usr/bin")
        .to_newc()
        .unwrap();
    let mut v: Vec<Vec<u8>> = Codec::ALL
        .iter()
        .map(|c| c.compress(&archive).unwrap())
        .collect();
    v.push(archive);
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, .. ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..2048)) {
        repack_initrd::fuzz::exercise(&data);
    }

    #[test]
    fn mutated_images_never_panic(
        seed in 0usize..6,
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let mut img = seed_images()[seed].clone();
        for (at, b) in edits {
            let i = at.index(img.len());
            img[i] = b;
        }
        if truncate {
            let n = cut.index(img.len() + 1);
            img.truncate(n);
        }
        repack_initrd::fuzz::exercise(&img);
    }
}

#[test]
fn fuzz_corpus_replays() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/parse");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let p = e.unwrap().path();
        let data = std::fs::read(&p).unwrap();
        repack_initrd::fuzz::exercise(&data);
        n += 1;
    }
    assert!(
        n >= 10,
        "the corpus in {} has only {n} files",
        dir.display()
    );
}
