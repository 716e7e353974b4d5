//! Append: the base is copied unchanged, the overlay lands 4096-aligned, and the overlay
//! adapts to the base (existing directories and directory symlinks kept, hard links
//! unlinked first) or the append is refused with nothing written.

use repack_initrd::newc::{S_IFDIR, S_IFREG};
use repack_initrd::{Codec, Error, Initrd, Limits, Overlay};

use crate::support::{Image, Newc};

fn base() -> Vec<u8> {
    let early = Newc::new()
        .dir("kernel")
        .dir("kernel/x86")
        .dir("kernel/x86/microcode")
        .file("kernel/x86/microcode/AuthenticAMD.bin", &[1; 100])
        .trailer();
    let main = Newc::new()
        .dir("usr")
        .dir("usr/lib")
        .dir("usr/bin")
        .symlink("lib", "usr/lib")
        .symlink("bin", "usr/bin")
        .entry("tmp", S_IFDIR | 0o1777, 2, None, b"")
        .entry("usr/bin/busybox", S_IFREG | 0o755, 2, Some(9), b"")
        .entry("usr/bin/wget", S_IFREG | 0o755, 2, Some(9), b"BB")
        .dir("scripts")
        .dir("scripts/casper-premount")
        .file(
            "scripts/casper-premount/ORDER",
            b"/scripts/casper-premount/10driver_updates\n",
        )
        .trailer();
    let mut img = Image::new();
    img.newc(&early).pad(512).member(Codec::Zstd, &main);
    img.bytes
}

#[test]
fn append_to_a_file_keeps_the_base_bytes_and_aligns_the_overlay() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("initrd.img");
    std::fs::write(&p, base()).unwrap();
    let initrd = Initrd::open(&p).unwrap();
    let o = Overlay::new().file(
        "lib/live/boot/9999-repack.sh",
        0o755,
        b"#!/bin/sh\n".to_vec(),
    );
    let out_path = tmp.path().join("out.img");
    let mut f = std::fs::File::create(&out_path).unwrap();
    let r = initrd.append(&o, Codec::Gzip, &mut f).unwrap();
    drop(f);
    let out = std::fs::read(&out_path).unwrap();
    assert_eq!(&out[..base().len()], &base()[..]);
    assert!(
        out[base().len()..r.overlay_offset as usize]
            .iter()
            .all(|&b| b == 0)
    );
    assert_eq!(r.overlay_offset % 4096, 0);
    assert_eq!(out.len() as u64, r.total_len);
    let lint = repack_initrd::lint(&out_path).unwrap();
    assert!(lint.is_clean(), "{:#?}", lint.findings);
}

#[test]
fn directory_symlinks_and_existing_directories_are_not_replaced() {
    let initrd = Initrd::from_bytes(base(), Limits::small()).unwrap();
    let o = Overlay::new()
        .file(
            "lib/live/boot/9999-repack.sh",
            0o755,
            b"#!/bin/sh\n".to_vec(),
        )
        .file("tmp/x", 0o644, b"x".to_vec());
    let mut out = Vec::new();
    let r = initrd.append(&o, Codec::Zstd, &mut out).unwrap();
    assert_eq!(r.adaptation.existing_dirs, ["lib", "tmp"]);
    let patched = Initrd::from_bytes(out, Limits::small()).unwrap();
    let tree = patched.tree();
    let find = |p: &str| {
        tree.iter()
            .find(|t| t.path == p)
            .unwrap_or_else(|| panic!("{p} missing"))
    };
    assert_eq!(find("lib").symlink_target.as_deref(), Some("usr/lib"));
    assert!(
        tree.iter()
            .any(|t| t.path == "usr/lib/live/boot/9999-repack.sh")
    );
    assert_eq!(find("tmp").mode & 0o7777, 0o1777);
    assert_eq!(
        patched.read_file("lib/live/boot/9999-repack.sh").unwrap(),
        Some(b"#!/bin/sh\n".to_vec())
    );
    assert!(patched.lint().is_clean(), "{:#?}", patched.lint().findings);
}

#[test]
fn a_hard_linked_path_is_unlinked_before_it_is_replaced() {
    let initrd = Initrd::from_bytes(base(), Limits::small()).unwrap();
    let o = Overlay::new().file("bin/wget", 0o755, b"#!/bin/sh\nexec curl \"$@\"\n".to_vec());
    let mut out = Vec::new();
    let r = initrd.append(&o, Codec::Xz, &mut out).unwrap();
    assert_eq!(r.adaptation.unlinked_hardlinks, ["bin/wget"]);
    let patched = Initrd::from_bytes(out, Limits::small()).unwrap();
    assert_eq!(
        patched.read_file("usr/bin/busybox").unwrap(),
        Some(b"BB".to_vec())
    );
    assert_eq!(
        patched.read_file("bin/wget").unwrap(),
        Some(b"#!/bin/sh\nexec curl \"$@\"\n".to_vec())
    );
    assert!(patched.lint().is_clean(), "{:#?}", patched.lint().findings);
}

#[test]
fn an_existing_file_is_modified_by_writing_it_whole() {
    let initrd = Initrd::from_bytes(base(), Limits::small()).unwrap();
    let mut order = initrd
        .read_file("scripts/casper-premount/ORDER")
        .unwrap()
        .unwrap();
    order.extend_from_slice(b"/scripts/casper-premount/99repack\n");
    let o = Overlay::new()
        .file("scripts/casper-premount/ORDER", 0o644, order.clone())
        .file(
            "scripts/casper-premount/99repack",
            0o755,
            b"#!/bin/sh\n".to_vec(),
        );
    let mut out = Vec::new();
    initrd.append(&o, Codec::Gzip, &mut out).unwrap();
    let patched = Initrd::from_bytes(out, Limits::small()).unwrap();
    assert_eq!(
        patched.read_file("scripts/casper-premount/ORDER").unwrap(),
        Some(order)
    );
    let t = patched.tree();
    let e = t
        .iter()
        .find(|t| t.path == "scripts/casper-premount/ORDER")
        .unwrap();
    assert_eq!(
        e.overridden.len(),
        1,
        "the base's ORDER is shown as overridden"
    );
}

#[test]
fn appends_are_byte_reproducible() {
    let initrd = Initrd::from_bytes(base(), Limits::small()).unwrap();
    for codec in Codec::ALL {
        let o = || {
            Overlay::new()
                .mtime(1_234)
                .file("etc/a", 0o644, vec![9; 10_000])
                .symlink("etc/b", "a")
        };
        let (mut a, mut b) = (Vec::new(), Vec::new());
        initrd.append(&o(), codec, &mut a).unwrap();
        initrd.append(&o(), codec, &mut b).unwrap();
        assert_eq!(a, b, "{codec}");
    }
}

#[test]
fn refusals_write_nothing() {
    let hook = Overlay::new().file("x", 0o644, b"x".to_vec());
    // A base the kernel stops in.
    let mut bad = base();
    bad.extend_from_slice(b"garbage");
    let i = Initrd::from_bytes(bad, Limits::small()).unwrap();
    let mut out = Vec::new();
    let e = i.append(&hook, Codec::Gzip, &mut out).unwrap_err();
    assert!(
        matches!(
            e,
            Error::BaseNotClean {
                rule: "unknown-magic",
                ..
            }
        ),
        "{e}"
    );
    assert!(out.is_empty());
    // A base ending in legacy lz4.
    let mut img = Image::new();
    img.member(Codec::Lz4Legacy, &Newc::new().dir("etc").trailer());
    let e = img.open().append(&hook, Codec::Gzip, &mut out).unwrap_err();
    assert!(matches!(e, Error::Lz4LegacyBase { .. }), "{e}");
    // A base whose last entry is cut off (the overlay would become its data).
    let full = Newc::new().file("big", &[1; 1000]).trailer();
    let i = Initrd::from_bytes(full[..500].to_vec(), Limits::small()).unwrap();
    let e = i.append(&hook, Codec::Gzip, &mut out).unwrap_err();
    assert!(
        matches!(
            e,
            Error::BaseNotClean {
                rule: "data-past-end",
                ..
            }
        ),
        "{e}"
    );
    // A directory over a symlink of the base.
    let i = Initrd::from_bytes(base(), Limits::small()).unwrap();
    let e = i
        .append(&Overlay::new().dir("lib", 0o755), Codec::Gzip, &mut out)
        .unwrap_err();
    assert!(matches!(e, Error::WouldReplace { .. }), "{e}");
    assert!(out.is_empty());
    assert_eq!(e.kind(), "would-replace");
}

fn hook() -> Overlay {
    Overlay::new().file(
        "lib/live/boot/9999-repack.sh",
        0o755,
        b"#!/bin/sh\necho hook\n".to_vec(),
    )
}

#[test]
fn an_image_inside_a_larger_file_is_read_where_it_lies() {
    // The base split over two extents of a file, with other bytes around and between them
    // (an initrd inside an ISO image).
    let base = base();
    let cut = 1000;
    let mut file = vec![0xEEu8; 300];
    file.extend_from_slice(&base[..cut]);
    file.extend_from_slice(&[0xAB; 2048]);
    let second = file.len() as u64;
    file.extend_from_slice(&base[cut..]);
    file.extend_from_slice(&[0xCD; 77]);
    let tmp = tempfile::tempdir().unwrap();
    let iso = tmp.path().join("image.iso");
    std::fs::write(&iso, &file).unwrap();
    let extents = [(300, cut as u64), (second, (base.len() - cut) as u64)];
    let inside = Initrd::open_extents(
        std::fs::File::open(&iso).unwrap(),
        &extents,
        Limits::small(),
    )
    .unwrap();
    let alone = Initrd::from_bytes(base.clone(), Limits::small()).unwrap();
    assert_eq!(inside.len(), base.len() as u64);
    assert_eq!(inside.segments(), alone.segments());
    assert_eq!(inside.entries().unwrap(), alone.entries().unwrap());
    assert_eq!(
        inside.read_file("scripts/casper-premount/ORDER").unwrap(),
        Some(b"/scripts/casper-premount/10driver_updates\n".to_vec())
    );

    // Written out with the kernel's copy: exactly the base, then the appendix.
    let appendix = inside.appendix(&hook(), Codec::Gzip).unwrap();
    let out_path = tmp.path().join("initrd");
    let out = std::fs::File::create_new(&out_path).unwrap();
    inside.write_patched_file(&appendix, &out).unwrap();
    drop(out);
    let written = std::fs::read(&out_path).unwrap();
    let mut expected = base.clone();
    expected.extend_from_slice(appendix.bytes());
    assert_eq!(written, expected);
    assert_eq!(written.len() as u64, appendix.report().total_len);
    let reopened = Initrd::open(&out_path).unwrap();
    assert!(reopened.lint().is_clean(), "{:?}", reopened.lint().findings);
    assert_eq!(
        reopened.read_file("lib/live/boot/9999-repack.sh").unwrap(),
        Some(b"#!/bin/sh\necho hook\n".to_vec())
    );
}

#[test]
fn append_in_place_writes_only_the_appendix() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("initrd.img");
    std::fs::write(&path, base()).unwrap();
    let initrd = Initrd::open(&path).unwrap();
    let appendix = initrd.appendix(&hook(), Codec::Zstd).unwrap();
    // What the result will be, checked before anything is written.
    let patched = initrd.patched(&appendix).unwrap();
    assert!(patched.lint().is_clean(), "{:?}", patched.lint().findings);
    initrd.append_in_place(&appendix, &path).unwrap();
    let written = std::fs::read(&path).unwrap();
    assert_eq!(&written[..base().len()], &base()[..]);
    assert_eq!(&written[base().len()..], appendix.bytes());
    let reopened = Initrd::open(&path).unwrap();
    assert_eq!(reopened.segments(), patched.segments());
    assert_eq!(reopened.entries().unwrap(), patched.entries().unwrap());
    assert_eq!(
        reopened.read_file("lib/live/boot/9999-repack.sh").unwrap(),
        Some(b"#!/bin/sh\necho hook\n".to_vec())
    );
}

#[test]
fn append_in_place_refuses_a_file_that_changed_or_another_file() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("initrd.img");
    std::fs::write(&path, base()).unwrap();
    let initrd = Initrd::open(&path).unwrap();
    let appendix = initrd.appendix(&hook(), Codec::Gzip).unwrap();

    // Another file with the same bytes.
    let other = tmp.path().join("copy.img");
    std::fs::write(&other, base()).unwrap();
    let e = initrd.append_in_place(&appendix, &other).unwrap_err();
    assert!(
        e.to_string()
            .contains("not the file the image was opened from"),
        "{e}"
    );
    assert_eq!(std::fs::read(&other).unwrap(), base());

    // The same file, grown since it was opened.
    let mut grown = base();
    grown.extend_from_slice(&[0; 8]);
    std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .and_then(|mut f| std::io::Write::write_all(&mut f, &[0; 8]))
        .unwrap();
    let e = initrd.append_in_place(&appendix, &path).unwrap_err();
    assert_eq!(e.kind(), "in-place");
    assert!(e.to_string().contains("was"), "{e}");
    assert_eq!(std::fs::read(&path).unwrap(), grown);

    // An image held in memory has no file to append to.
    let in_memory = Initrd::from_bytes(base(), Limits::small()).unwrap();
    let appendix = in_memory.appendix(&hook(), Codec::Gzip).unwrap();
    let e = in_memory.append_in_place(&appendix, &path).unwrap_err();
    assert_eq!(e.kind(), "in-place");
}

#[test]
#[should_panic(expected = "an Appendix is written after the image that built it")]
fn an_appendix_belongs_to_its_image() {
    let a = Initrd::from_bytes(base(), Limits::small()).unwrap();
    let b = Initrd::from_bytes(base(), Limits::small()).unwrap();
    let appendix = a.appendix(&hook(), Codec::Gzip).unwrap();
    let _ = b.patched(&appendix);
}

/// Early microcode, then the main archive as legacy lz4 (older Ubuntu `initrd.lz`).
fn lz4_base() -> (Vec<u8>, u64) {
    let early = Newc::new()
        .dir("kernel")
        .dir("kernel/x86")
        .dir("kernel/x86/microcode")
        .file("kernel/x86/microcode/AuthenticAMD.bin", &[1; 100])
        .trailer();
    let body: Vec<u8> = (0..200_000u32)
        .flat_map(|i| (i % 253).to_le_bytes())
        .collect();
    let main = Newc::new()
        .dir("scripts")
        .file("scripts/ORDER", b"/scripts/a\n")
        .file("big", &body)
        .trailer();
    let mut img = Image::new();
    img.newc(&early).member(Codec::Lz4Legacy, &main);
    let lz4_at = img.layout.last().unwrap().0;
    (img.bytes, lz4_at)
}

#[test]
fn a_legacy_lz4_tail_is_rewrapped_with_the_same_content_then_appended_to() {
    let (bytes, lz4_at) = lz4_base();
    let tmp = tempfile::tempdir().unwrap();
    let base_path = tmp.path().join("initrd.lz");
    std::fs::write(&base_path, &bytes).unwrap();
    let base = Initrd::open(&base_path).unwrap();
    assert_eq!(
        base.appendix(&hook(), Codec::Gzip).unwrap_err().kind(),
        "lz4-legacy-base"
    );

    for codec in [Codec::Zstd, Codec::Gzip, Codec::Xz, Codec::None] {
        let out_path = tmp.path().join(format!("rewrapped.{codec}"));
        let out = std::fs::File::create_new(&out_path).unwrap();
        let report = base.rewrap_lz4_tail(codec, &out).unwrap();
        drop(out);
        let written = std::fs::read(&out_path).unwrap();
        assert_eq!(report.kept, lz4_at, "{codec}");
        assert_eq!(report.total_len, written.len() as u64, "{codec}");
        assert_eq!(
            &written[..lz4_at as usize],
            &bytes[..lz4_at as usize],
            "{codec}: the bytes before it are kept"
        );

        let rewrapped = Initrd::open(&out_path).unwrap();
        assert!(
            rewrapped.lint().is_clean(),
            "{codec}: {:?}",
            rewrapped.lint().findings
        );
        let last = rewrapped.segments().last().unwrap();
        assert_eq!(last.offset, lz4_at, "{codec}");
        let lz4_segment = base.segments().last().unwrap();
        assert_eq!(
            last.decompressed_len.or(Some(last.len)),
            lz4_segment.decompressed_len,
            "{codec}: same cpio bytes"
        );
        assert_eq!(
            report.decoded_len,
            lz4_segment.decompressed_len.unwrap(),
            "{codec}"
        );
        // Every entry the same, member by member.
        let strip = |i: &Initrd| {
            i.entries()
                .unwrap()
                .into_iter()
                .map(|e| (e.segment, e.offset, e.name, e.mode, e.size))
                .collect::<Vec<_>>()
        };
        assert_eq!(strip(&rewrapped), strip(&base), "{codec}");
        assert_eq!(
            rewrapped.read_file("big").unwrap(),
            base.read_file("big").unwrap()
        );

        // Now an overlay can follow.
        let appendix = rewrapped.appendix(&hook(), Codec::Gzip).unwrap();
        let patched = rewrapped.patched(&appendix).unwrap();
        assert!(
            patched.lint().is_clean(),
            "{codec}: {:?}",
            patched.lint().findings
        );
        assert_eq!(
            patched.read_file("lib/live/boot/9999-repack.sh").unwrap(),
            Some(b"#!/bin/sh\necho hook\n".to_vec())
        );
    }
}

#[test]
fn rewrap_refuses_what_it_cannot_do() {
    let tmp = tempfile::tempdir().unwrap();
    let out = std::fs::File::create(tmp.path().join("out")).unwrap();
    // Not legacy lz4 at the end.
    let zstd = Initrd::from_bytes(base(), Limits::small()).unwrap();
    assert_eq!(
        zstd.rewrap_lz4_tail(Codec::Zstd, &out).unwrap_err().kind(),
        "nothing-to-rewrap"
    );
    // Into legacy lz4 again.
    let (bytes, _) = lz4_base();
    let lz4 = Initrd::from_bytes(bytes.clone(), Limits::small()).unwrap();
    assert_eq!(
        lz4.rewrap_lz4_tail(Codec::Lz4Legacy, &out)
            .unwrap_err()
            .kind(),
        "compress"
    );
    // A corrupt lz4 member.
    let mut broken = bytes;
    let at = broken.len() - 50;
    broken.truncate(at);
    let broken = Initrd::from_bytes(broken, Limits::small()).unwrap();
    assert!(broken.rewrap_lz4_tail(Codec::Zstd, &out).is_err());
}
