//! Every lint rule: one fixture that fails it and one that passes, built in code.

use std::io::Write;

use repack_initrd::newc::{S_IFDIR, S_IFREG};
use repack_initrd::{
    Codec, INODE_BYTES, Initrd, Limits, LintOptions, LintReport, PAGE_SIZE, RULES,
};

use crate::support::{Image, Newc};

fn lint(bytes: &[u8]) -> LintReport {
    Initrd::from_bytes(bytes.to_vec(), Limits::small())
        .expect("open")
        .lint()
}

#[track_caller]
fn fails(bytes: &[u8], rule: &str) -> LintReport {
    let r = lint(bytes);
    assert!(r.has(rule), "expected `{rule}`, got {:#?}", r.findings);
    r
}

#[track_caller]
fn passes(bytes: &[u8]) {
    let r = lint(bytes);
    assert!(r.is_clean(), "expected clean, got {:#?}", r.findings);
}

fn simple() -> Vec<u8> {
    Newc::new().dir("etc").file("etc/x", b"hello").trailer()
}

fn xz_with(check: liblzma::stream::Check, data: &[u8]) -> Vec<u8> {
    let s = liblzma::stream::Stream::new_easy_encoder(6, check).unwrap();
    let mut e = liblzma::write::XzEncoder::new_stream(Vec::new(), s);
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

#[test]
fn xz_unsupported_check() {
    for check in [
        liblzma::stream::Check::Crc64,
        liblzma::stream::Check::Sha256,
    ] {
        let mut img = Image::new();
        img.newc(&simple()).raw(
            &xz_with(check, &simple()),
            repack_initrd::SegmentKind::Padding,
        );
        let r = fails(&img.bytes, "xz-unsupported-check");
        assert_eq!(r.findings[0].offset, simple().len() as u64);
    }
    passes(
        Image::new()
            .newc(&simple())
            .member(Codec::Xz, &simple())
            .bytes
            .as_slice(),
    );
    passes(&xz_with(liblzma::stream::Check::None, &simple()));
}

#[test]
fn lz4_frame_format() {
    let mut enc = lz4_flex::frame::FrameEncoder::new(Vec::new());
    enc.write_all(&simple()).unwrap();
    let frame = enc.finish().unwrap();
    fails(&frame, "lz4-frame-format");
    passes(&Codec::Lz4Legacy.compress(&simple()).unwrap());
}

#[test]
fn lz4_legacy_not_last() {
    // Directly followed by another member: the kernel decodes its magic as a chunk size.
    let mut img = Image::new();
    img.member(Codec::Lz4Legacy, &simple())
        .member(Codec::Gzip, &simple());
    fails(&img.bytes, "lz4-legacy-not-last");
    // Separated by zeros: new kernels stop at the zero word, old ones do not.
    let mut img = Image::new();
    img.member(Codec::Lz4Legacy, &simple())
        .align(4096)
        .member(Codec::Gzip, &simple());
    fails(&img.bytes, "lz4-legacy-not-last");
    let mut img = Image::new();
    img.member(Codec::Gzip, &simple())
        .member(Codec::Lz4Legacy, &simple())
        .pad(100);
    passes(&img.bytes);
}

#[test]
fn misaligned_newc() {
    let gz = Codec::Gzip.compress(&simple()).unwrap();
    let mut img = Image::new();
    img.member(Codec::Gzip, &simple());
    if gz.len().is_multiple_of(4) {
        img.pad(1);
    }
    img.newc(&simple());
    let r = fails(&img.bytes, "misaligned-newc");
    assert!(!r.findings[0].offset.is_multiple_of(4));
    let mut img = Image::new();
    img.member(Codec::Gzip, &simple()).align(4).newc(&simple());
    passes(&img.bytes);
}

#[test]
fn broken_padding() {
    let mut img = Image::new();
    img.newc(&simple()).pad(2).member(Codec::Gzip, &simple());
    fails(&img.bytes, "broken-padding");
    let mut img = Image::new();
    img.newc(&simple()).pad(4).member(Codec::Gzip, &simple());
    passes(&img.bytes);
}

#[test]
fn unknown_magic_and_trailing_garbage() {
    let mut img = Image::new();
    img.newc(&simple())
        .raw(b"hello world", repack_initrd::SegmentKind::Unknown);
    let r = fails(&img.bytes, "unknown-magic");
    assert_eq!(r.findings[0].offset, simple().len() as u64);
    fails(b"\x7fELF not an initrd", "unknown-magic");
    let mut img = Image::new();
    img.newc(&simple()).pad(333);
    passes(&img.bytes);
}

#[test]
fn junk_in_member() {
    let mut junk = simple();
    junk.extend_from_slice(b"garbage!");
    fails(&Codec::Gzip.compress(&junk).unwrap(), "junk-in-member");
    // Cpio data that ends inside an entry.
    let cut = &simple()[..simple().len() - 20];
    fails(&Codec::Zstd.compress(cut).unwrap(), "junk-in-member");
    // Trailing NULs inside the member are fine.
    let mut padded = simple();
    padded.extend_from_slice(&[0; 512]);
    passes(&Codec::Zstd.compress(&padded).unwrap());
}

#[test]
fn corrupt_member() {
    let good = Codec::Zstd.compress(
        &vec![b'a'; 10_000]
            .iter()
            .chain(simple().iter())
            .copied()
            .collect::<Vec<_>>(),
    );
    let good = good.unwrap();
    let truncated = &good[..good.len() - 5];
    fails(truncated, "corrupt-member");
    let mut flipped = Codec::Gzip.compress(&simple()).unwrap();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0xff;
    let r = lint(&flipped);
    assert!(!r.is_clean(), "a flipped byte must not go unnoticed");
    passes(&Codec::Gzip.compress(&simple()).unwrap());
}

#[test]
fn bad_cpio_header() {
    let mut odc = simple();
    odc[..6].copy_from_slice(b"070707");
    fails(&odc, "bad-cpio-header");
    let mut noterm = Newc::new().file("abc", b"x").trailer();
    noterm[110 + 3] = b'd'; // overwrite the name's NUL
    fails(&noterm, "bad-cpio-header");
    let mut nomagic = simple();
    nomagic[3] = b'9';
    fails(&Codec::Gzip.compress(&nomagic).unwrap(), "bad-cpio-header");
    passes(&simple());
}

/// A `070702` archive with a correct (or wrong) data checksum for `etc/x` = "hello".
fn crc_archive(check: u32) -> Vec<u8> {
    let mut a = simple();
    a[..6].copy_from_slice(b"070702");
    // The second entry is etc/x: patch its magic and check field.
    let second = 112 + 4; // header (110) + "etc\0" padded to 4 -> next entry at 116
    a[second..second + 6].copy_from_slice(b"070702");
    a[second + 102..second + 110].copy_from_slice(format!("{check:08X}").as_bytes());
    a
}

#[test]
fn cpio_bad_checksum() {
    let sum: u32 = b"hello".iter().map(|&b| u32::from(b)).sum();
    fails(&crc_archive(sum + 1), "cpio-bad-checksum");
    let r = lint(&crc_archive(sum));
    assert!(!r.has("cpio-bad-checksum"), "{:#?}", r.findings);
}

#[test]
fn unsupported_compression() {
    let mut lzo = vec![0x89, 0x4c, 0x5a, 0x4f, 0x00, 0x0d, 0x0a, 0x1a, 0x0a];
    lzo.extend_from_slice(&[0; 40]);
    fails(&lzo, "unsupported-compression");
    passes(&Codec::Gzip.compress(&simple()).unwrap());
}

#[test]
fn gzip_header_flags() {
    let mut enc = flate2::GzBuilder::new()
        .comment("made elsewhere")
        .write(Vec::new(), flate2::Compression::default());
    enc.write_all(&simple()).unwrap();
    fails(&enc.finish().unwrap(), "gzip-header-flags");
    // A name (FNAME) is what the kernel does skip.
    let mut enc = flate2::GzBuilder::new()
        .filename("initrd")
        .write(Vec::new(), flate2::Compression::default());
    enc.write_all(&simple()).unwrap();
    passes(&enc.finish().unwrap());
}

#[test]
fn gzip_trailer_mismatch() {
    let mut gz = Codec::Gzip.compress(&simple()).unwrap();
    let n = gz.len();
    gz[n - 8] ^= 1;
    fails(&gz, "gzip-trailer-mismatch");
    passes(&Codec::Gzip.compress(&simple()).unwrap());
}

#[test]
fn cpio_crc_format() {
    let mut crc = simple();
    crc[..6].copy_from_slice(b"070702");
    fails(&crc, "cpio-crc-format");
    passes(&simple());
}

#[test]
fn data_past_end() {
    let full = Newc::new()
        .dir("etc")
        .file("etc/big", &[7u8; 1000])
        .trailer();
    let cut = &full[..400];
    let r = fails(cut, "data-past-end");
    assert_eq!(r.findings[0].path.as_deref(), None);
    // The kernel creates the file zero-filled at its declared size.
    let i = Initrd::from_bytes(cut.to_vec(), Limits::small()).unwrap();
    let data = i.read_file("etc/big").unwrap().unwrap();
    assert_eq!(data.len(), 1000);
    assert!(data[..100].iter().all(|&b| b == 7) && data[900..].iter().all(|&b| b == 0));
    passes(&full);
}

#[test]
fn missing_parent() {
    let orphan = Newc::new()
        .file("lib/live/boot/9999-repack.sh", b"#!/bin/sh\n")
        .trailer();
    let r = fails(&orphan, "missing-parent");
    assert!(
        r.findings[0].message.contains("`lib`"),
        "{}",
        r.findings[0].message
    );
    // The parent may come from an earlier member, or earlier in the same one.
    let mut img = Image::new();
    img.member(
        Codec::Zstd,
        &Newc::new()
            .dir("lib")
            .dir("lib/live")
            .dir("lib/live/boot")
            .trailer(),
    )
    .member(Codec::Gzip, &orphan);
    passes(&img.bytes);
    // ... or through a directory symlink (merged /usr).
    let merged = Newc::new()
        .dir("usr")
        .dir("usr/lib")
        .symlink("lib", "usr/lib")
        .file("lib/x", b"1")
        .trailer();
    passes(&merged);
    let i = Initrd::from_bytes(merged, Limits::small()).unwrap();
    assert!(i.tree().iter().any(|t| t.path == "usr/lib/x"));
}

#[test]
fn entry_dropped() {
    // A non-empty directory cannot be replaced by a file.
    let mut img = Image::new();
    img.newc(&Newc::new().dir("a").file("a/b", b"1").trailer())
        .member(Codec::Gzip, &Newc::new().file("a", b"2").trailer());
    fails(&img.bytes, "entry-dropped");
    let mut img = Image::new();
    img.newc(&Newc::new().file("a", b"1").trailer())
        .member(Codec::Gzip, &Newc::new().file("a", b"2").trailer());
    passes(&img.bytes);
    let i = img.open();
    assert_eq!(i.read_file("a").unwrap(), Some(b"2".to_vec()));
}

#[test]
fn entry_ignored() {
    let body_on_dir = Newc::new()
        .entry("etc", S_IFDIR | 0o755, 2, None, b"oops")
        .trailer();
    fails(&body_on_dir, "entry-ignored");
    passes(
        &Newc::new()
            .entry("etc", S_IFDIR | 0o755, 2, None, b"")
            .trailer(),
    );
}

/// Debian style: busybox and its applets are one inode.
fn busybox_base() -> Vec<u8> {
    Newc::new()
        .dir("bin")
        .entry("bin/busybox", S_IFREG | 0o755, 2, Some(77), b"")
        .entry("bin/wget", S_IFREG | 0o755, 2, Some(77), b"BUSYBOX")
        .trailer()
}

#[test]
fn hardlink_overwrite() {
    let mut img = Image::new();
    img.newc(&busybox_base()).member(
        Codec::Gzip,
        &Newc::new().file("bin/wget", b"my wget").trailer(),
    );
    let r = fails(&img.bytes, "hardlink-overwrite");
    assert!(r.findings[0].message.contains("bin/busybox"));
    let i = img.open();
    // This is what the kernel does: busybox is gone.
    assert_eq!(
        i.read_file("bin/busybox").unwrap(),
        Some(b"my wget".to_vec())
    );

    // Safe: a symlink entry unlinks the name first.
    let mut img = Image::new();
    img.newc(&busybox_base()).member(
        Codec::Gzip,
        &Newc::new()
            .symlink("bin/wget", "x")
            .file("bin/wget", b"my wget")
            .trailer(),
    );
    passes(&img.bytes);
    let i = img.open();
    assert_eq!(
        i.read_file("bin/busybox").unwrap(),
        Some(b"BUSYBOX".to_vec())
    );
    assert_eq!(i.read_file("bin/wget").unwrap(), Some(b"my wget".to_vec()));
    // Re-sending the whole link group restores every member (not flagged).
    let mut img = Image::new();
    img.newc(&busybox_base())
        .member(Codec::Zstd, &busybox_base());
    passes(&img.bytes);
}

#[test]
fn dir_replaces_symlink() {
    let merged = Newc::new()
        .dir("usr")
        .dir("usr/bin")
        .symlink("bin", "usr/bin")
        .file("usr/bin/sh", b"sh")
        .trailer();
    let mut img = Image::new();
    img.newc(&merged).member(
        Codec::Gzip,
        &Newc::new().dir("bin").file("bin/hook", b"x").trailer(),
    );
    fails(&img.bytes, "dir-replaces-symlink");
    assert_eq!(
        img.open().read_file("bin/sh").unwrap(),
        None,
        "the kernel really loses /bin/sh"
    );
    let mut img = Image::new();
    img.newc(&merged)
        .member(Codec::Gzip, &Newc::new().file("bin/hook", b"x").trailer());
    passes(&img.bytes);
}

fn microcode() -> Vec<u8> {
    Newc::new()
        .dir("kernel")
        .dir("kernel/x86")
        .dir("kernel/x86/microcode")
        .file("kernel/x86/microcode/GenuineIntel.bin", &[0xaa; 64])
        .trailer()
}

#[test]
fn microcode_not_early() {
    // Merged into the compressed main archive.
    let mut img = Image::new();
    img.member(Codec::Zstd, &microcode());
    fails(&img.bytes, "microcode-not-early");
    // Uncompressed, but after a compressed member.
    let mut img = Image::new();
    img.member(Codec::Gzip, &simple())
        .align(4)
        .newc(&microcode());
    fails(&img.bytes, "microcode-not-early");
    // At the start, alone or in the second of several leading uncompressed archives.
    let mut img = Image::new();
    img.newc(&microcode()).member(Codec::Zstd, &simple());
    passes(&img.bytes);
    let mut img = Image::new();
    img.newc(&simple())
        .pad(512)
        .newc(&microcode())
        .member(Codec::Zstd, &simple());
    passes(&img.bytes);
}

#[test]
fn path_escape() {
    fails(
        &Newc::new().dir("etc").file("../etc/passwd", b"x").trailer(),
        "path-escape",
    );
    fails(
        &Newc::new().dir("etc").file("/etc/passwd", b"x").trailer(),
        "path-escape",
    );
    passes(&Newc::new().dir("etc").file("./etc/passwd", b"x").trailer());
}

const MIB: usize = 1 << 20;

/// Lints `bytes` with a cap of `cap` bytes on the unpacked rootfs.
fn lint_capped(bytes: &[u8], cap: u64) -> LintReport {
    Initrd::from_bytes(bytes.to_vec(), Limits::small())
        .expect("open")
        .lint_with(&LintOptions::default().max_unpacked_bytes(cap))
}

/// Memory the rootfs holds for one file of `data` bytes (page-rounded data and an inode).
fn file_cost(data: usize) -> u64 {
    (data as u64).div_ceil(PAGE_SIZE) * PAGE_SIZE + INODE_BYTES
}

#[test]
fn unpacked_too_large() {
    // Two members of 1.5 MiB each: the cap of 2 MiB is passed in the second one, at its file.
    let first = Newc::new()
        .dir("a")
        .file("a/one", &[1; 3 * MIB / 2])
        .trailer();
    let second = Newc::new()
        .dir("b")
        .file("b/two", &[2; 3 * MIB / 2])
        .trailer();
    let mut img = Image::new();
    img.newc(&first).align(4096).member(Codec::Gzip, &second);
    let gzip_at = img.layout[2].0;
    let r = lint_capped(&img.bytes, 2 << 20);
    let f = r
        .findings
        .iter()
        .find(|f| f.rule == "unpacked-too-large")
        .unwrap_or_else(|| panic!("{:#?}", r.findings));
    assert_eq!(r.findings.len(), 1, "{:#?}", r.findings);
    assert_eq!(
        (f.segment, f.offset, f.path.as_deref()),
        (Some(2), gzip_at, Some("b/two"))
    );
    let peak = 2 * INODE_BYTES + 2 * file_cost(3 * MIB / 2);
    assert_eq!(r.unpacked.peak_bytes, peak);
    assert!(
        f.message.contains(&format!("holds {peak} bytes"))
            && f.message.contains(&format!("{} bytes of data", 3 * MIB))
            && f.message.contains("segment 2 (gzip) at output byte")
            && f.message.contains("write error"),
        "{}",
        f.message
    );
    // At the cap exactly, or with the default cap of 2 GiB, it passes.
    assert!(lint_capped(&img.bytes, peak).is_clean());
    passes(&img.bytes);

    // The peak counts, not what is left at the end: a later member that shrinks a big file
    // frees its pages only when it is unpacked, after the machine had to hold them.
    let mut img = Image::new();
    img.member(
        Codec::Zstd,
        &Newc::new().file("big", &[7; 3 * MIB]).trailer(),
    )
    .member(Codec::Gzip, &Newc::new().file("big", b"x").trailer());
    let r = lint_capped(&img.bytes, 2 << 20);
    assert_eq!(r.unpacked.peak_bytes, file_cost(3 * MIB));
    assert_eq!(r.unpacked.resident_bytes, file_cost(1));
    let f = &r.findings[0];
    assert_eq!(
        (f.rule, f.segment, f.offset, f.path.as_deref()),
        ("unpacked-too-large", Some(0), 0, Some("big"))
    );

    // Replacing a file (O_TRUNC) or unlinking it first (a symlink entry) frees its pages
    // before the new body is written: 1.5 MiB replaced by 1.5 MiB never holds 3 MiB.
    let mut img = Image::new();
    img.member(
        Codec::Zstd,
        &Newc::new().file("f", &[1; 3 * MIB / 2]).trailer(),
    )
    .member(
        Codec::Gzip,
        &Newc::new().file("f", &[2; 3 * MIB / 2]).trailer(),
    )
    .member(
        Codec::Xz,
        &Newc::new()
            .symlink("f", "gone")
            .file("g", &[3; 3 * MIB / 2])
            .trailer(),
    );
    let r = lint_capped(&img.bytes, 2 << 20);
    assert!(r.is_clean(), "{:#?}", r.findings);
    assert_eq!(
        r.unpacked.peak_bytes,
        file_cost(3 * MIB / 2) + INODE_BYTES,
        "file g and symlink f"
    );
}

#[test]
fn unpacked_size_counts_each_inode_once() {
    // busybox style: one body for two names; a long symlink takes a page of its own.
    let long_target = "t".repeat(200);
    let archive = Newc::new()
        .dir("bin")
        .entry("bin/busybox", S_IFREG | 0o755, 2, Some(77), b"")
        .entry("bin/sh", S_IFREG | 0o755, 2, Some(77), &[9; 5000])
        .symlink("short", "bin")
        .symlink("long", &long_target)
        .file("empty", b"")
        .trailer();
    let r = lint(&archive);
    assert!(r.is_clean(), "{:#?}", r.findings);
    let u = r.unpacked;
    assert_eq!((u.files, u.file_bytes, u.inodes), (2, 5000, 5));
    assert_eq!(u.stream_bytes, archive.len() as u64);
    assert_eq!(
        u.resident_bytes,
        5 * INODE_BYTES + 2 * PAGE_SIZE + PAGE_SIZE
    );
    assert_eq!(u.peak_bytes, u.resident_bytes);
    assert!(u.complete);
    // The same, compressed: the stream counts the decoded bytes, the tree is the same.
    let r = lint(&Codec::Xz.compress(&archive).unwrap());
    assert_eq!(
        r.unpacked,
        repack_initrd::UnpackedSize {
            stream_bytes: archive.len() as u64,
            ..u
        }
    );
}

/// A member whose one file `name` holds `size` zero bytes, compressed as it is written.
fn zero_file_member(name: &str, size: usize) -> Vec<u8> {
    let mut enc = zstd::stream::Encoder::new(Vec::new(), 1).unwrap();
    let mut archive = Newc::new();
    archive.file(name, &vec![0; size]);
    enc.write_all(&archive.trailer()).unwrap();
    enc.finish().unwrap()
}

#[test]
fn decode_limit() {
    let limits = Limits {
        max_member_output: 8 << 20,
        ..Limits::small()
    };
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("initrd");
    let early = Newc::new().file("early", b"microcode").trailer();
    let mut img = Image::new();
    img.newc(&early)
        .align(4096)
        .raw(
            &zero_file_member("bomb", 32 << 20),
            repack_initrd::SegmentKind::Compressed(repack_initrd::Compression::Zstd),
        )
        .align(4096)
        .member(Codec::Gzip, &simple());
    std::fs::write(&path, &img.bytes).unwrap();
    // Opening it to read or patch fails; linting it reports the bomb and what came before.
    let e = Initrd::open_with(&path, limits).unwrap_err();
    assert_eq!(e.kind(), "decompression-limit");
    let r = repack_initrd::lint_with(&path, limits, &LintOptions::default()).unwrap();
    let f = &r.findings[0];
    assert_eq!(r.findings.len(), 1, "{:#?}", r.findings);
    assert_eq!(
        (f.rule, f.segment, f.offset),
        ("decode-limit", Some(2), 4096)
    );
    assert!(
        f.message.contains("more than 8388608 bytes") && f.message.contains("max_member_output"),
        "{}",
        f.message
    );
    assert!(!r.unpacked.complete);
    // Decoding stops within one output chunk (256 KiB) of the limit.
    assert!(r.unpacked.stream_bytes > 7 << 20, "{:?}", r.unpacked);
    assert!(r.unpacked.file_bytes > 7 << 20, "{:?}", r.unpacked);
    // Past the cap as well: both are reported, the size as a lower bound.
    let r = repack_initrd::lint_with(
        &path,
        limits,
        &LintOptions::default().max_unpacked_bytes(1 << 20),
    )
    .unwrap();
    let rules: Vec<&str> = r.findings.iter().map(|f| f.rule).collect();
    assert_eq!(rules, ["decode-limit", "unpacked-too-large"]);
    assert!(
        r.findings[1].message.contains("holds at least"),
        "{}",
        r.findings[1].message
    );
    // Within the limits the same image is clean, and its size is exact.
    let roomy = Limits {
        max_member_output: 64 << 20,
        ..Limits::small()
    };
    let r = repack_initrd::lint_with(&path, roomy, &LintOptions::default()).unwrap();
    assert!(r.is_clean(), "{:#?}", r.findings);
    assert!(r.unpacked.complete);
    assert_eq!(r.unpacked.file_bytes, (32 << 20) + 9 + 5);
}

#[test]
fn every_rule_has_a_test_here() {
    let tested = [
        "xz-unsupported-check",
        "lz4-frame-format",
        "lz4-legacy-not-last",
        "misaligned-newc",
        "broken-padding",
        "unknown-magic",
        "junk-in-member",
        "corrupt-member",
        "bad-cpio-header",
        "cpio-bad-checksum",
        "unsupported-compression",
        "gzip-header-flags",
        "gzip-trailer-mismatch",
        "cpio-crc-format",
        "data-past-end",
        "missing-parent",
        "entry-dropped",
        "entry-ignored",
        "hardlink-overwrite",
        "dir-replaces-symlink",
        "microcode-not-early",
        "path-escape",
        "unpacked-too-large",
        "decode-limit",
    ];
    let rules: Vec<&str> = RULES.iter().map(|(r, _)| *r).collect();
    assert_eq!(rules, tested);
}
