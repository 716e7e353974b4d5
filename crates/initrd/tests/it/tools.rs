//! Our reading and writing checked against real tools: `cpio -o -H newc` and the compressor
//! CLIs make multi-member images, `cpio -t` and `lsinitramfs` list them, `cpio -t` /
//! `cpio -i` read the overlay member we append, and the unpacked size we state is what the
//! compressor CLIs and `cpio -i` produce on a real filesystem.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use repack_initrd::{
    Codec, Compression, INODE_BYTES, Initrd, Limits, Overlay, PAGE_SIZE, SegmentKind, UnpackedSize,
};

use crate::support::{cpio_names, our_names, require, run};

/// A small root tree on disk with the shapes real initrds have: nested directories, an
/// executable, a symlink, a hard-linked pair (busybox style) and an empty file.
fn make_tree(dir: &Path) {
    let w = |p: &str, data: &[u8], mode: u32| {
        let f = dir.join(p);
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(&f, data).unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(mode)).unwrap();
    };
    w("usr/bin/busybox", &vec![0x7f; 5000], 0o755);
    std::fs::hard_link(dir.join("usr/bin/busybox"), dir.join("usr/bin/wget")).unwrap();
    std::os::unix::fs::symlink("usr/bin", dir.join("bin")).unwrap();
    w("etc/initramfs.conf", b"MODULES=most\n", 0o644);
    w(
        "scripts/casper-premount/ORDER",
        b"/scripts/casper-premount/10driver_updates \"$@\"\n",
        0o644,
    );
    w("conf/empty", b"", 0o600);
    let text: Vec<u8> = (0..200_000u32)
        .flat_map(|i| format!("line {i}\n").into_bytes())
        .collect();
    w("lib/modules/big.txt", &text, 0o644);
}

/// The decompressor CLI for a member.
fn decompressor(c: Compression) -> (&'static str, &'static [&'static str]) {
    match c {
        Compression::Gzip => ("gzip", &["-dc"]),
        Compression::Zstd => ("zstd", &["-dc"]),
        Compression::Xz | Compression::Lzma => ("xz", &["-dc"]),
        Compression::Lz4Legacy => ("lz4", &["-dc"]),
        Compression::Bzip2 => ("bzip2", &["-dc"]),
        other => panic!("no decompressor for {other} here"),
    }
}

/// What `image` unpacks to, measured with real tools as the kernel would do it: each member
/// decompressed by its CLI (the stream length), then every archive extracted in order into
/// one directory by `cpio -i` (later members overwrite), and the resulting tree measured on
/// disk: each inode once, files page-rounded, a page per symlink over 128 bytes, 1 KiB per
/// inode (the measure [`UnpackedSize`] documents). Uses our segment boundaries, which the
/// listing tests check against `lsinitramfs`.
fn unpacked_by_tools(initrd: &Initrd, image: &[u8], dir: &Path) -> UnpackedSize {
    std::fs::create_dir_all(dir).unwrap();
    let mut size = UnpackedSize {
        complete: true,
        ..UnpackedSize::default()
    };
    for s in initrd.segments() {
        let bytes = &image[s.offset as usize..s.end() as usize];
        let archive = match s.kind {
            SegmentKind::Padding => continue,
            SegmentKind::Newc => bytes.to_vec(),
            SegmentKind::Compressed(c) => {
                let (tool, args) = decompressor(c);
                run(tool, args, bytes, None)
            }
            SegmentKind::Unknown => panic!("a real image has no unknown segment"),
        };
        size.stream_bytes += archive.len() as u64;
        run(
            "cpio",
            &["-i", "-d", "-m", "-u", "--quiet", "--no-absolute-filenames"],
            &archive,
            Some(dir),
        );
    }
    let mut seen = std::collections::HashSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let m = std::fs::symlink_metadata(&p).unwrap();
            if m.is_dir() {
                stack.push(p.clone());
            }
            if !seen.insert((m.dev(), m.ino())) {
                continue;
            }
            size.inodes += 1;
            size.resident_bytes += INODE_BYTES;
            if m.is_file() {
                size.files += 1;
                size.file_bytes += m.len();
                size.resident_bytes += m.len().next_multiple_of(PAGE_SIZE);
            } else if m.is_symlink() && std::fs::read_link(&p).unwrap().as_os_str().len() > 128 {
                size.resident_bytes += PAGE_SIZE;
            }
        }
    }
    // Nothing is removed or shrunk while a real image unpacks: the peak is the end state.
    size.peak_bytes = size.resident_bytes;
    size
}

/// `find . | sort | cpio -o -H newc` in `dir`.
fn cpio_archive(dir: &Path) -> Vec<u8> {
    require("find");
    let list = run("find", &["."], b"", Some(dir));
    let mut names: Vec<&[u8]> = list
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    names.sort();
    let list: Vec<u8> = names.join(&b'\n').into_iter().chain(*b"\n").collect();
    run(
        "cpio",
        &["-o", "-H", "newc", "--quiet", "--reproducible"],
        &list,
        Some(dir),
    )
}

fn early_archive(tmp: &Path) -> Vec<u8> {
    let early = tmp.join("early");
    std::fs::create_dir_all(early.join("kernel/x86/microcode")).unwrap();
    std::fs::write(
        early.join("kernel/x86/microcode/GenuineIntel.bin"),
        vec![0xaa; 3000],
    )
    .unwrap();
    cpio_archive(&early)
}

const COMPRESSORS: &[(&str, &[&str], Compression)] = &[
    ("gzip", &["-n", "-9", "-c"], Compression::Gzip),
    ("zstd", &["-q", "-19", "-c"], Compression::Zstd),
    (
        "xz",
        &["--check=crc32", "--lzma2=dict=1MiB", "-c"],
        Compression::Xz,
    ),
    ("lz4", &["-l", "-q", "-c"], Compression::Lz4Legacy),
    ("bzip2", &["-9", "-c"], Compression::Bzip2),
];

#[test]
fn listing_matches_cpio_and_lsinitramfs_for_every_compressor() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    make_tree(&root);
    let main = cpio_archive(&root);
    let early = early_archive(tmp.path());
    for &(tool, args, codec) in COMPRESSORS {
        let compressed = run(tool, args, &main, None);
        let mut image = early.clone();
        image.extend_from_slice(&compressed);
        let path = tmp.path().join(format!("initrd.{tool}"));
        std::fs::write(&path, &image).unwrap();
        let initrd = Initrd::open(&path).unwrap();
        assert!(initrd.fault().is_none(), "{tool}: {:?}", initrd.fault());
        let segs = initrd.segments();
        // cpio pads its archive to 512-byte blocks: newc, padding, then the member.
        assert_eq!(segs[0].kind, SegmentKind::Newc, "{tool}");
        assert_eq!(segs[1].kind, SegmentKind::Padding, "{tool}");
        assert_eq!(segs[1].end(), early.len() as u64, "{tool}");
        assert_eq!(segs[2].kind, SegmentKind::Compressed(codec), "{tool}");
        assert_eq!(
            (segs[2].offset, segs[2].len),
            (early.len() as u64, compressed.len() as u64),
            "{tool}"
        );
        assert_eq!(segs[2].decompressed_len, Some(main.len() as u64), "{tool}");
        assert_eq!(segs.len(), 3, "{tool}");

        assert_eq!(
            our_names(&initrd, 0),
            cpio_names(&early),
            "{tool}: early member"
        );
        assert_eq!(
            our_names(&initrd, 2),
            cpio_names(&main),
            "{tool}: main member"
        );

        // lsinitramfs walks the same image (early archives, then the compressed main one).
        let ls = run("lsinitramfs", &[path.to_str().unwrap()], b"", None);
        let ls: Vec<String> = String::from_utf8(ls)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect();
        let ours: Vec<String> = initrd
            .entries()
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(ours, ls, "{tool}: lsinitramfs");

        // Contents, through the hard link and the directory symlink.
        let busybox = std::fs::read(root.join("usr/bin/busybox")).unwrap();
        assert_eq!(
            initrd.read_file("usr/bin/wget").unwrap(),
            Some(busybox.clone()),
            "{tool}"
        );
        assert_eq!(
            initrd.read_file("bin/busybox").unwrap(),
            Some(busybox),
            "{tool}"
        );
        assert_eq!(
            initrd.read_file("lib/modules/big.txt").unwrap(),
            Some(std::fs::read(root.join("lib/modules/big.txt")).unwrap()),
            "{tool}"
        );
        assert_eq!(
            initrd.read_file("conf/empty").unwrap(),
            Some(Vec::new()),
            "{tool}"
        );
        let report = initrd.lint();
        assert!(report.is_clean(), "{tool}: {:?}", report.findings);
        assert_eq!(
            report.unpacked,
            unpacked_by_tools(&initrd, &image, &tmp.path().join(format!("x-{tool}"))),
            "{tool}"
        );
        assert_eq!(report.unpacked, initrd.unpacked_size(), "{tool}");
    }
}

#[test]
fn several_early_members_and_concatenated_compressed_members_split_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    make_tree(&root);
    let main = cpio_archive(&root);
    let early = early_archive(tmp.path());
    // early, early again, zstd, gzip directly after it (no padding), xz, lz4 last.
    let parts: Vec<(Vec<u8>, SegmentKind)> = vec![
        (early.clone(), SegmentKind::Newc),
        (early.clone(), SegmentKind::Newc),
        (
            run("zstd", &["-q", "-c"], &main, None),
            SegmentKind::Compressed(Compression::Zstd),
        ),
        (
            run("gzip", &["-n", "-c"], &main, None),
            SegmentKind::Compressed(Compression::Gzip),
        ),
        (
            run("xz", &["--check=crc32", "-c"], &main, None),
            SegmentKind::Compressed(Compression::Xz),
        ),
        (
            run("lz4", &["-l", "-q", "-c"], &main, None),
            SegmentKind::Compressed(Compression::Lz4Legacy),
        ),
    ];
    let mut image = Vec::new();
    let mut starts = Vec::new();
    for (bytes, kind) in &parts {
        starts.push((image.len() as u64, bytes.len() as u64, *kind));
        image.extend_from_slice(bytes);
    }
    let initrd = Initrd::from_bytes(image, Limits::default()).unwrap();
    assert!(initrd.fault().is_none(), "{:?}", initrd.fault());
    let members: Vec<(u64, u64, SegmentKind)> = initrd
        .segments()
        .iter()
        .filter(|s| s.kind != SegmentKind::Padding)
        .map(|s| (s.offset, s.len, s.kind))
        .collect();
    // Each cpio archive's newc segment ends at its trailer; its block padding is separate.
    for (got, want) in members.iter().zip(&starts) {
        assert_eq!(got.0, want.0);
        assert_eq!(got.2, want.2);
        if want.2 != SegmentKind::Newc {
            assert_eq!(got.1, want.1);
        }
    }
    assert_eq!(members.len(), starts.len());
    assert!(initrd.lint().is_clean(), "{:?}", initrd.lint().findings);
}

#[test]
fn cpio_lists_and_extracts_our_overlay_member() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    make_tree(&root);
    let main = cpio_archive(&root);
    let mut base = early_archive(tmp.path());
    base.extend_from_slice(&run("zstd", &["-q", "-c"], &main, None));
    let base = Initrd::from_bytes(base.clone(), Limits::default()).unwrap();
    let hook = b"#!/bin/sh\necho repack\n".to_vec();
    let overlay = Overlay::new()
        .file("lib/live/boot/9999-repack.sh", 0o755, hook.clone())
        .file("usr/bin/wget", 0o755, b"new wget".to_vec())
        .symlink("etc/repack", "/run/repack");
    let decompress: &[(Codec, &str, &[&str])] = &[
        (Codec::Gzip, "gzip", &["-dc"]),
        (Codec::Zstd, "zstd", &["-dc"]),
        (Codec::Xz, "xz", &["-dc"]),
        (Codec::Lz4Legacy, "lz4", &["-dc"]),
        (Codec::None, "cat", &[]),
    ];
    for &(codec, tool, args) in decompress {
        let mut out = Vec::new();
        let report = base.append(&overlay, codec, &mut out).unwrap();
        assert_eq!(report.adaptation.unlinked_hardlinks, ["usr/bin/wget"]);
        let member = &out[report.overlay_offset as usize..];
        let archive = run(tool, args, member, None);
        let names = cpio_names(&archive);
        assert_eq!(
            names,
            [
                "etc/repack",
                "lib/live",
                "lib/live/boot",
                "lib/live/boot/9999-repack.sh",
                "usr/bin/wget",
                "usr/bin/wget",
                "TRAILER!!!"
            ]
            .into_iter()
            .filter(|n| *n != "TRAILER!!!")
            .collect::<Vec<_>>(),
            "{codec}"
        );
        let dir = tmp.path().join(format!("x-{codec}"));
        std::fs::create_dir_all(&dir).unwrap();
        run(
            "cpio",
            &["-i", "-d", "--quiet", "--no-absolute-filenames"],
            &archive,
            Some(&dir),
        );
        let got = std::fs::read(dir.join("lib/live/boot/9999-repack.sh")).unwrap();
        assert_eq!(got, hook);
        let mode = std::fs::metadata(dir.join("lib/live/boot/9999-repack.sh"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o755);

        // The patched image keeps busybox intact and has the new wget.
        let patched = Initrd::from_bytes(out.clone(), Limits::default()).unwrap();
        assert_eq!(
            patched.read_file("usr/bin/wget").unwrap(),
            Some(b"new wget".to_vec())
        );
        assert_eq!(
            patched.read_file("usr/bin/busybox").unwrap(),
            Some(vec![0x7f; 5000])
        );
        assert!(
            patched.lint().is_clean(),
            "{codec}: {:?}",
            patched.lint().findings
        );
    }
}

#[test]
fn our_xz_overlay_uses_crc32_and_a_1mib_dictionary() {
    let archive = Overlay::new()
        .file("a", 0o644, vec![1u8; 100_000])
        .to_newc()
        .unwrap();
    let xz = Codec::Xz.compress(&archive).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("o.xz");
    std::fs::write(&p, &xz).unwrap();
    let info = String::from_utf8(run(
        "xz",
        &["--robot", "--list", "-vv", p.to_str().unwrap()],
        b"",
        None,
    ))
    .unwrap();
    assert!(
        info.lines()
            .any(|l| l.starts_with("stream\t") && l.contains("CRC32")),
        "{info}"
    );
    assert!(
        info.contains("--lzma2=dict=1MiB") && !info.contains("x86"),
        "{info}"
    );
}

/// Real Debian initrds from `mkinitramfs` (tests/fixtures/mkinitramfs.sh): merged /usr,
/// busybox with 267 hard-linked applets, an early microcode member, every compressor.
#[test]
fn real_mkinitramfs_initrds() {
    for tool in ["mkinitramfs", "unshare", "busybox", "lsinitramfs"] {
        require(tool);
    }
    let tmp = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mkinitramfs.sh");
    let out = tmp.path().join("out");
    run(
        script.to_str().unwrap(),
        &[out.to_str().unwrap()],
        b"",
        None,
    );
    // Byte-reproducible with SOURCE_DATE_EPOCH.
    let again = tmp.path().join("again");
    run(
        script.to_str().unwrap(),
        &[again.to_str().unwrap(), "zstd"],
        b"",
        None,
    );
    assert_eq!(
        std::fs::read(out.join("initrd.zstd")).unwrap(),
        std::fs::read(again.join("initrd.zstd")).unwrap()
    );

    for (name, codec) in [
        ("gzip", Compression::Gzip),
        ("zstd", Compression::Zstd),
        ("xz", Compression::Xz),
        ("lz4", Compression::Lz4Legacy),
        ("bzip2", Compression::Bzip2),
    ] {
        let path = out.join(format!("initrd.{name}"));
        let initrd = Initrd::open(&path).unwrap();
        let segs = initrd.segments();
        assert_eq!(segs[0].kind, SegmentKind::Newc, "{name}");
        assert_eq!(
            segs.last().unwrap().kind,
            SegmentKind::Compressed(codec),
            "{name}"
        );
        assert_eq!(segs.last().unwrap().end(), initrd.len(), "{name}");
        let ls = run("lsinitramfs", &[path.to_str().unwrap()], b"", None);
        let ls: Vec<String> = String::from_utf8(ls)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect();
        let ours: Vec<String> = initrd
            .entries()
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(ours, ls, "{name}: lsinitramfs");
        assert!(
            initrd.lint().is_clean(),
            "{name}: {:#?}",
            initrd.lint().findings
        );
        let image = std::fs::read(&path).unwrap();
        let by_tools = unpacked_by_tools(&initrd, &image, &tmp.path().join(format!("x-{name}")));
        assert_eq!(initrd.unpacked_size(), by_tools, "{name}");
        assert!(
            by_tools.files > 50 && by_tools.inodes > 100 && by_tools.file_bytes > 1 << 20,
            "{name}: {by_tools:?}"
        );
        let tree = initrd.tree();
        let wget = tree
            .iter()
            .find(|t| t.path == "usr/bin/wget")
            .expect("busybox wget");
        assert!(wget.links > 100, "{name}: busybox applets are hard links");
        let busybox = initrd.read_file("bin/busybox").unwrap().expect("busybox");

        let hook =
            Overlay::new().file("bin/wget", 0o755, b"#!/bin/sh\nexec curl \"$@\"\n".to_vec());
        let mut patched = Vec::new();
        let rewrapped;
        let initrd = if codec == Compression::Lz4Legacy {
            let e = initrd.append(&hook, Codec::Gzip, &mut patched).unwrap_err();
            assert_eq!(e.kind(), "lz4-legacy-base", "{name}");
            // Re-wrapped as zstd, with the same cpio bytes, it takes an overlay.
            let out = tmp.path().join("rewrapped");
            let _ = std::fs::remove_file(&out);
            let file = std::fs::File::create_new(&out).unwrap();
            let report = initrd.rewrap_lz4_tail(Codec::Zstd, &file).unwrap();
            assert_eq!(
                report.kept,
                initrd.segments().last().unwrap().offset,
                "{name}"
            );
            rewrapped = Initrd::open(&out).unwrap();
            assert!(
                rewrapped.lint().is_clean(),
                "{name}: {:#?}",
                rewrapped.lint().findings
            );
            let names = |i: &Initrd| -> Vec<String> {
                i.entries().unwrap().into_iter().map(|e| e.name).collect()
            };
            assert_eq!(names(&rewrapped), names(&initrd), "{name}");
            &rewrapped
        } else {
            &initrd
        };
        let report = initrd.append(&hook, Codec::Gzip, &mut patched).unwrap();
        assert_eq!(report.adaptation.unlinked_hardlinks, ["bin/wget"], "{name}");
        assert_eq!(report.adaptation.existing_dirs, ["bin"], "{name}");
        let p = Initrd::from_bytes(patched, Limits::default()).unwrap();
        assert!(p.lint().is_clean(), "{name}: {:#?}", p.lint().findings);
        // The patched image parsed by walking on from the base's end is the same image.
        let walked_on = initrd
            .patched(&initrd.appendix(&hook, Codec::Gzip).unwrap())
            .unwrap();
        assert_eq!(walked_on.segments(), p.segments(), "{name}");
        assert_eq!(walked_on.entries().unwrap(), p.entries().unwrap(), "{name}");
        assert_eq!(walked_on.lint(), p.lint(), "{name}");
        assert_eq!(
            p.read_file("usr/bin/busybox").unwrap(),
            Some(busybox.clone()),
            "{name}: busybox intact"
        );
        assert_eq!(
            p.read_file("bin/sh").unwrap(),
            Some(busybox),
            "{name}: /bin/sh intact"
        );
        assert!(
            p.read_file("bin/wget")
                .unwrap()
                .unwrap()
                .starts_with(b"#!/bin/sh")
        );

        // The naive overlay (every parent as a directory entry, no unlink) is caught by lint.
        let naive = Codec::Gzip.compress(&hook.to_newc().unwrap()).unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.resize(bytes.len().div_ceil(4096) * 4096, 0);
        bytes.extend_from_slice(&naive);
        let r = Initrd::from_bytes(bytes.clone(), Limits::default())
            .unwrap()
            .lint();
        assert!(r.has("dir-replaces-symlink"), "{name}: {:#?}", r.findings);
        let naive = Codec::Gzip
            .compress(
                &Overlay::new()
                    .file("usr/bin/wget", 0o755, b"x".to_vec())
                    .to_newc()
                    .unwrap(),
            )
            .unwrap();
        bytes.truncate(std::fs::metadata(&path).unwrap().len().div_ceil(4096) as usize * 4096);
        bytes.extend_from_slice(&naive);
        let r = Initrd::from_bytes(bytes, Limits::default()).unwrap().lint();
        assert!(r.has("hardlink-overwrite"), "{name}: {:#?}", r.findings);
    }
}

/// Real dracut initrds (tests/fixtures/dracut.sh): an early-microcode member, then the main
/// archive with every compressor dracut offers for the kernel.
#[test]
fn real_dracut_initrds() {
    for tool in ["dracut", "lsinitramfs"] {
        require(tool);
    }
    let tmp = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dracut.sh");
    let out = tmp.path().join("out");
    run(
        script.to_str().unwrap(),
        &[out.to_str().unwrap()],
        b"",
        None,
    );
    for (name, codec) in [
        ("zstd", Compression::Zstd),
        ("xz", Compression::Xz),
        ("gzip", Compression::Gzip),
        ("lz4", Compression::Lz4Legacy),
    ] {
        let path = out.join(format!("initrd.{name}"));
        let initrd = Initrd::open(&path).unwrap();
        let kinds: Vec<SegmentKind> = initrd.segments().iter().map(|s| s.kind).collect();
        assert_eq!(
            kinds,
            [
                SegmentKind::Newc,
                SegmentKind::Padding,
                SegmentKind::Compressed(codec)
            ],
            "{name}"
        );
        let ls = run("lsinitramfs", &[path.to_str().unwrap()], b"", None);
        let ls: Vec<String> = String::from_utf8(ls)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect();
        let entries = initrd.entries().unwrap();
        let ours: Vec<String> = entries.iter().map(|e| e.name.clone()).collect();
        assert_eq!(ours, ls, "{name}: lsinitramfs");
        let ucode = entries
            .iter()
            .find(|e| e.path == "kernel/x86/microcode/GenuineIntel.bin")
            .expect("early microcode");
        assert_eq!(ucode.segment, 0, "{name}");
        assert_eq!(
            initrd
                .read_file("kernel/x86/microcode/GenuineIntel.bin")
                .unwrap(),
            Some(b"repack fixture intel microcode".to_vec())
        );
        assert!(
            initrd.lint().is_clean(),
            "{name}: {:#?}",
            initrd.lint().findings
        );
        let image = std::fs::read(&path).unwrap();
        let by_tools = unpacked_by_tools(&initrd, &image, &tmp.path().join(format!("x-{name}")));
        assert_eq!(initrd.lint().unpacked, by_tools, "{name}");
        assert!(
            by_tools.files > 50 && by_tools.file_bytes > 1 << 20,
            "{name}: {by_tools:?}"
        );

        let hook = Overlay::new().file(
            "usr/lib/dracut/hooks/pre-mount/99-repack.sh",
            0o755,
            b"echo repack\n".to_vec(),
        );
        let mut patched = Vec::new();
        if codec == Compression::Lz4Legacy {
            assert_eq!(
                initrd
                    .append(&hook, Codec::Zstd, &mut patched)
                    .unwrap_err()
                    .kind(),
                "lz4-legacy-base"
            );
            continue;
        }
        initrd.append(&hook, Codec::Zstd, &mut patched).unwrap();
        let p = Initrd::from_bytes(patched, Limits::default()).unwrap();
        assert!(p.lint().is_clean(), "{name}: {:#?}", p.lint().findings);
        // The patched image parsed by walking on from the base's end is the same image.
        let walked_on = initrd
            .patched(&initrd.appendix(&hook, Codec::Zstd).unwrap())
            .unwrap();
        assert_eq!(walked_on.segments(), p.segments(), "{name}");
        assert_eq!(walked_on.entries().unwrap(), p.entries().unwrap(), "{name}");
        assert_eq!(walked_on.lint(), p.lint(), "{name}");
        assert_eq!(
            p.read_file("usr/lib/dracut/hooks/pre-mount/99-repack.sh")
                .unwrap(),
            Some(b"echo repack\n".to_vec())
        );
    }
}
