//! Hostile input: decompression bombs stop with a clear error (or, linted, are reported with
//! their size), limits hold, garbage and mutated images never panic, and the committed fuzz
//! corpus replays cleanly.

use std::io::Write;

use proptest::prelude::*;
use repack_initrd::newc::{self, Header, S_IFREG};
use repack_initrd::{
    Codec, Error, INODE_BYTES, Initrd, Limits, MAX_UNPACKED_BYTES, Overlay, PAGE_SIZE,
};

use crate::support::Newc;

/// One newc archive holding files of zero bytes, `(name, size)`, written into `out` as it
/// is generated, 1 MiB at a time: GiBs of archive never exist in memory or on disk.
fn write_zero_archive(out: &mut impl Write, files: &[(&str, u64)]) {
    let zeros = vec![0u8; 1 << 20];
    for &(name, size) in files {
        // write_entry takes the size from the data, so patch the filesize field afterwards.
        let mut head = Vec::new();
        let h = Header {
            mode: S_IFREG | 0o644,
            nlink: 1,
            ..Header::default()
        };
        newc::write_entry(&mut head, &h, name, b"");
        let size32 = u32::try_from(size).expect("newc sizes are 32-bit");
        head[54..62].copy_from_slice(format!("{size32:08X}").as_bytes());
        out.write_all(&head).unwrap();
        let mut left = size.next_multiple_of(4);
        while left > 0 {
            let n = left.min(zeros.len() as u64) as usize;
            out.write_all(&zeros[..n]).unwrap();
            left -= n as u64;
        }
    }
    let mut t = Vec::new();
    newc::write_trailer(&mut t);
    out.write_all(&t).unwrap();
}

/// Length of the archive [`write_zero_archive`] writes.
fn zero_archive_len(files: &[(&str, u64)]) -> u64 {
    let mut trailer = Vec::new();
    newc::write_trailer(&mut trailer);
    let entries: u64 = files
        .iter()
        .map(|&(name, size)| {
            newc::HEADER_LEN as u64
                + newc::name_padded_len(name.len() as u64 + 1)
                + size.next_multiple_of(4)
        })
        .sum();
    entries + trailer.len() as u64
}

/// A gzip or zstd member of [`write_zero_archive`], compressed as it streams.
fn zero_member(codec: Codec, files: &[(&str, u64)]) -> Vec<u8> {
    match codec {
        Codec::Zstd => {
            let mut enc = zstd::stream::Encoder::new(Vec::new(), 3).unwrap();
            write_zero_archive(&mut enc, files);
            enc.finish().unwrap()
        }
        Codec::Gzip => {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            write_zero_archive(&mut enc, files);
            enc.finish().unwrap()
        }
        other => panic!("no streaming {other} encoder here"),
    }
}

/// A zstd member declaring one 64 MiB file of zeros (a few KiB compressed).
fn zstd_bomb() -> Vec<u8> {
    zero_member(Codec::Zstd, &[("bomb", 64 << 20)])
}

/// `base`, zero padding to 4096, then `member`, written to `dir/name`.
fn image_file(dir: &std::path::Path, name: &str, base: &[u8], member: &[u8]) -> std::path::PathBuf {
    let mut img = base.to_vec();
    img.resize(4096, 0);
    img.extend_from_slice(member);
    let path = dir.join(name);
    std::fs::write(&path, &img).unwrap();
    path
}

/// Issue 14, item 6: `repack initrd lint` called clean an overlay that unpacks to GiBs. A
/// real gzip and zstd member whose one file is past the 2 GiB cap (and within the default
/// decode limits, so it is decoded to the end, once, and never held) is reported with the
/// rule, the member's index and offset, and its exact size.
#[test]
fn an_overlay_that_unpacks_past_the_cap_is_reported_with_its_size() {
    let size = MAX_UNPACKED_BYTES + (64 << 20);
    let base = Newc::new().dir("etc").file("etc/x", b"hello").trailer();
    let tmp = tempfile::tempdir().unwrap();
    for codec in [Codec::Zstd, Codec::Gzip] {
        let member = zero_member(codec, &[("big", size)]);
        assert!(member.len() < 4 << 20, "{codec}: {} bytes", member.len());
        let path = image_file(tmp.path(), &format!("initrd.{codec}"), &base, &member);

        let r = repack_initrd::lint(&path).unwrap();
        assert_eq!(r.findings.len(), 1, "{codec}: {:#?}", r.findings);
        let f = &r.findings[0];
        assert_eq!(
            (f.rule, f.segment, f.offset, f.path.as_deref()),
            ("unpacked-too-large", Some(2), 4096, Some("big")),
            "{codec}"
        );
        let expected = repack_initrd::UnpackedSize {
            stream_bytes: base.len() as u64 + zero_archive_len(&[("big", size)]),
            files: 2,
            file_bytes: size + 5,
            inodes: 3,
            resident_bytes: 3 * INODE_BYTES + PAGE_SIZE + size.next_multiple_of(PAGE_SIZE),
            peak_bytes: 3 * INODE_BYTES + PAGE_SIZE + size.next_multiple_of(PAGE_SIZE),
            complete: true,
        };
        assert_eq!(r.unpacked, expected, "{codec}");
        assert!(
            f.message
                .contains(&format!("holds {} bytes", expected.peak_bytes))
                && f.message.contains(&format!("{} bytes of data", size + 5))
                && f.message
                    .contains(&format!("segment 2 ({codec}) at output byte 0")),
            "{codec}: {}",
            f.message
        );
    }
}

/// Issue 14, item 6, past the decode limits too: an overlay of three 1.5 GiB files decodes
/// to more than `Limits::max_member_output` (4 GiB). Opening it to read or patch fails; linting
/// it with the default limits reports the bomb with its size so far, without running out of
/// memory (nothing decoded is held) and without decoding past the limit.
#[test]
fn an_overlay_past_the_decode_limit_is_a_finding_not_an_error() {
    let files = [("big1", 3u64 << 29), ("big2", 3 << 29), ("big3", 3 << 29)];
    let base = Newc::new().dir("etc").file("etc/x", b"hello").trailer();
    let tmp = tempfile::tempdir().unwrap();
    let member = zero_member(Codec::Zstd, &files);
    let path = image_file(tmp.path(), "initrd", &base, &member);

    let e = Initrd::open(&path).unwrap_err();
    assert!(
        matches!(
            e,
            Error::DecompressionLimit {
                segment: 2,
                offset: 4096,
                which: "max_member_output",
                ..
            }
        ),
        "{e}"
    );
    let r = repack_initrd::lint(&path).unwrap();
    let got: Vec<(&str, Option<usize>, u64)> = r
        .findings
        .iter()
        .map(|f| (f.rule, f.segment, f.offset))
        .collect();
    assert_eq!(
        got,
        [
            ("decode-limit", Some(2), 4096),
            ("unpacked-too-large", Some(2), 4096)
        ]
    );
    let limit = Limits::default().max_member_output;
    assert!(
        r.findings[0]
            .message
            .contains(&format!("decodes to more than {limit} bytes")),
        "{}",
        r.findings[0].message
    );
    // The second file is the one that passes the cap (1.5 GiB fits under it, 3 GiB does not),
    // and decoding stopped inside the third, within one output chunk of the limit.
    assert_eq!(r.findings[1].path.as_deref(), Some("big2"));
    assert!(r.findings[1].message.contains("holds at least"));
    let u = r.unpacked;
    assert!(!u.complete);
    let chunk = 256 << 10;
    assert!(
        u.stream_bytes > base.len() as u64 + limit - chunk
            && u.stream_bytes <= base.len() as u64 + limit,
        "{u:?}"
    );
    assert!(
        u.file_bytes > limit - chunk - 1024 && u.file_bytes < limit,
        "{u:?}"
    );
    assert_eq!((u.files, u.inodes), (4, 5), "etc/x and the three files");
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
