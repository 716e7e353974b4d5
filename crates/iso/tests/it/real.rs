//! Well-formed images: what a recipe does with them must just work.

use std::io::Read;

use repack_iso::{EntryKind, IsoError, IsoImage, Namespace, read_file};

use crate::support::{Fixture, Item, iso};

fn payload(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

fn live_image() -> (Fixture, Vec<u8>, Vec<u8>) {
    let kernel = payload(1_234_567, 7);
    let initrd = payload(70_001, 3);
    let fixture = iso(
        &[
            Item::File("live/vmlinuz-6.1.0-28-amd64", &kernel),
            Item::File("live/initrd.img-6.1.0-28-amd64", &initrd),
            Item::File("live/filesystem.squashfs", b"hsqs"),
            Item::File("live/filesystem.packages", b"bash 5.2\n"),
            Item::File("live/filesystem.size", b"123\n"),
            Item::File("README.txt", b"readme"),
            Item::File("EFI/boot/bootx64.efi", b"MZ"),
            Item::File(
                "a very long Rock Ridge name that is well over sixty-four characters long.txt",
                b"long",
            ),
            Item::Dir("empty"),
            Item::Symlink("live/vmlinuz", "vmlinuz-6.1.0-28-amd64"),
        ],
        &[],
    );
    (fixture, kernel, initrd)
}

#[test]
fn lookup_reads_file_contents_by_extent() {
    let (fixture, kernel, initrd) = live_image();
    let iso = repack_iso::open(&fixture.image).unwrap();
    assert_eq!(iso.namespace(), Namespace::RockRidge);
    let file = iso.lookup("/live/vmlinuz-6.1.0-28-amd64").unwrap();
    assert_eq!(file.path, "/live/vmlinuz-6.1.0-28-amd64");
    assert_eq!(file.size, kernel.len() as u64);
    assert_eq!(
        file.extents().unwrap().iter().map(|e| e.len).sum::<u64>(),
        file.size
    );
    let image = std::fs::File::open(&fixture.image).unwrap();
    assert_eq!(read_file(&image, &file, u64::MAX).unwrap(), kernel);

    let file = iso.lookup("live/initrd.img-6.1.0-28-amd64").unwrap();
    let mut streamed = Vec::new();
    iso.reader(&file)
        .unwrap()
        .read_to_end(&mut streamed)
        .unwrap();
    assert_eq!(streamed, initrd);
    let mut by_file = Vec::new();
    repack_iso::ExtentReader::new(&image, &file)
        .unwrap()
        .read_to_end(&mut by_file)
        .unwrap();
    assert_eq!(by_file, initrd);
}

#[test]
fn read_file_respects_the_cap() {
    let (fixture, kernel, _) = live_image();
    let iso = repack_iso::open(&fixture.image).unwrap();
    let file = iso.lookup("/live/vmlinuz-6.1.0-28-amd64").unwrap();
    let err = iso.read(&file, kernel.len() as u64 - 1).unwrap_err();
    assert!(matches!(err, IsoError::TooLarge { .. }), "{err}");
}

#[test]
fn lists_with_rock_ridge_names_kinds_and_symlinks() {
    let (fixture, _, _) = live_image();
    let iso = repack_iso::open(&fixture.image).unwrap();
    let root = iso.list("/").unwrap();
    let names: Vec<&str> = root.iter().map(|e| e.name.as_str()).collect();
    for expected in [
        "live",
        "README.txt",
        "EFI",
        "empty",
        "a very long Rock Ridge name that is well over sixty-four characters long.txt",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    let live = iso.list("/live/").unwrap();
    let link = live.iter().find(|e| e.name == "vmlinuz").unwrap();
    assert_eq!(link.kind, EntryKind::Symlink);
    assert_eq!(
        link.symlink_target.as_deref(),
        Some("vmlinuz-6.1.0-28-amd64")
    );
    let squash = live
        .iter()
        .find(|e| e.name == "filesystem.squashfs")
        .unwrap();
    assert_eq!((squash.kind, squash.size), (EntryKind::File, 4));
    assert!(squash.mode.is_some());
    assert!(iso.list("/empty").unwrap().is_empty());
    let long = iso
        .lookup("/a very long Rock Ridge name that is well over sixty-four characters long.txt")
        .unwrap();
    assert_eq!(iso.read(&long, 100).unwrap(), b"long");
}

#[test]
fn walk_visits_every_entry_once() {
    let (fixture, _, _) = live_image();
    let iso = repack_iso::open(&fixture.image).unwrap();
    let mut paths = Vec::new();
    iso.walk("/", |path, _| paths.push(path.to_owned()))
        .unwrap();
    assert!(paths.contains(&"/EFI/boot/bootx64.efi".to_owned()));
    assert!(paths.contains(&"/live/vmlinuz".to_owned()));
    let mut dedup = paths.clone();
    dedup.sort();
    dedup.dedup();
    assert_eq!(dedup.len(), paths.len());
}

#[test]
fn globs_must_match_exactly_one_regular_file() {
    let (fixture, kernel, _) = live_image();
    let iso = repack_iso::open(&fixture.image).unwrap();
    let file = iso.resolve("/live/vmlinuz-*").unwrap();
    assert_eq!(file.path, "/live/vmlinuz-6.1.0-28-amd64");
    assert_eq!(file.size, kernel.len() as u64);
    // `vmlinuz*` matches the symlink too; only the regular file counts.
    assert_eq!(iso.resolve("/live/vmlinuz*").unwrap().path, file.path);
    assert_eq!(
        iso.resolve("/live/initrd.im?-[0-9]*").unwrap().path,
        "/live/initrd.img-6.1.0-28-amd64"
    );

    match iso.resolve("/live/filesystem.*").unwrap_err() {
        IsoError::Ambiguous { matches, .. } => assert_eq!(
            matches,
            [
                "/live/filesystem.packages",
                "/live/filesystem.size",
                "/live/filesystem.squashfs"
            ]
        ),
        other => panic!("{other}"),
    }
    match iso.resolve("/live/*.iso").unwrap_err() {
        IsoError::NoMatch { others, .. } => assert!(others.is_empty()),
        other => panic!("{other}"),
    }
    match iso.resolve("/e*").unwrap_err() {
        IsoError::NoMatch { others, .. } => assert_eq!(others, ["/empty (directory)"]),
        other => panic!("{other}"),
    }
    // A wildcard in a directory component must name exactly one directory.
    assert!(matches!(
        iso.resolve("/*/vmlinuz-6.1.0-28-amd64"),
        Err(IsoError::Ambiguous { .. })
    ));
    assert_eq!(
        iso.resolve("/l?ve/vmlinuz-*").unwrap().path,
        "/live/vmlinuz-6.1.0-28-amd64"
    );
    // lookup stays literal.
    assert!(iso.lookup("/l?ve/vmlinuz-6.1.0-28-amd64").is_err());
    assert!(matches!(
        iso.resolve("/live/[z"),
        Err(IsoError::Pattern { .. })
    ));
}

#[test]
fn paths_that_are_not_regular_files_are_refused() {
    let (fixture, _, _) = live_image();
    let iso = repack_iso::open(&fixture.image).unwrap();
    let cases: [(&str, &str); 7] = [
        ("/live", "iso-not-a-regular-file"),
        ("/", "iso-not-a-regular-file"),
        ("/live/vmlinuz", "iso-symlink"),
        ("/live/nope", "iso-not-found"),
        ("/README.txt/x", "iso-not-a-directory"),
        ("/live/../etc/passwd", "iso-invalid-path"),
        ("/live/vmlinuz/x", "iso-symlink"),
    ];
    for (path, kind) in cases {
        let err = iso.lookup(path).unwrap_err();
        assert_eq!(err.kind(), kind, "{path}: {err}");
    }
    assert_eq!(
        iso.list("/README.txt").unwrap_err().kind(),
        "iso-not-a-directory"
    );
}

#[test]
fn deep_paths_are_found() {
    // 20 levels: beyond ISO 9660's 8, so xorriso relocates (Rock Ridge CL/RE) or keeps
    // deep paths; either way the Rock Ridge path must resolve.
    let deep: String = (0..20).map(|i| format!("level{i}/")).collect();
    let path = format!("{deep}leaf.bin");
    let fixture = iso(&[Item::File(&path, b"deep leaf")], &[]);
    let iso = repack_iso::open(&fixture.image).unwrap();
    let file = iso.lookup(&path).unwrap();
    assert_eq!(iso.read(&file, 100).unwrap(), b"deep leaf");
    assert_eq!(iso.resolve(&format!("{deep}leaf.*")).unwrap(), file);
}

#[test]
fn joliet_names_are_used_without_rock_ridge() {
    let dir = crate::support::tree(&[Item::File("Live Dir/Mixed Case.txt", b"joliet")]);
    let image = dir.path().join("j.iso");
    let status = std::process::Command::new("xorriso")
        .env("SOURCE_DATE_EPOCH", crate::support::SOURCE_DATE_EPOCH)
        .args([
            "-as", "mkisofs", "-quiet", "--norock", "-J", "-no-pad", "-o",
        ])
        .arg(&image)
        .arg(dir.path().join("src"))
        .status()
        .expect("xorriso is required");
    assert!(status.success());
    let iso = repack_iso::open(&image).unwrap();
    assert_eq!(iso.namespace(), Namespace::Joliet);
    let file = iso.lookup("/Live Dir/Mixed Case.txt").unwrap();
    assert_eq!(iso.read(&file, 100).unwrap(), b"joliet");
}

#[test]
fn plain_iso9660_names_strip_versions() {
    let dir = crate::support::tree(&[Item::File("boot/vmlinuz", b"plain")]);
    let image = dir.path().join("p.iso");
    let status = std::process::Command::new("xorriso")
        .env("SOURCE_DATE_EPOCH", crate::support::SOURCE_DATE_EPOCH)
        .args(["-as", "mkisofs", "-quiet", "--norock", "-no-pad", "-o"])
        .arg(&image)
        .arg(dir.path().join("src"))
        .status()
        .expect("xorriso is required");
    assert!(status.success());
    let iso = repack_iso::open(&image).unwrap();
    assert_eq!(iso.namespace(), Namespace::Plain);
    let names: Vec<String> = iso
        .list("/BOOT")
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(names, ["VMLINUZ"]);
    // Plain names match case-insensitively.
    let file = iso.lookup("/boot/vmlinuz").unwrap();
    assert_eq!(iso.read(&file, 100).unwrap(), b"plain");
}

#[test]
fn open_errors_name_the_file() {
    let err = repack_iso::open(std::path::Path::new("/nonexistent/x.iso")).unwrap_err();
    assert!(err.to_string().contains("/nonexistent/x.iso"), "{err}");
    assert_eq!(err.kind(), "iso-open");
}

#[test]
fn iso_is_send_and_sync_and_boxable() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<repack_iso::Iso>();
    let (fixture, _, _) = live_image();
    let boxed: Box<dyn IsoImage + Send + Sync> =
        Box::new(repack_iso::open(&fixture.image).unwrap());
    assert!(boxed.lookup("/README.txt").is_ok());
}

/// Pop!_OS keeps casper in `casper_<iso name>/`, a name that changes with every build: a
/// recipe names it `casper_*/`, which must match exactly one directory.
#[test]
fn a_wildcard_directory_matches_exactly_one_directory() {
    let fixture = iso(
        &[
            Item::File("casper_pop-os_24.04_amd64_intel_42/vmlinuz.efi", b"kernel"),
            Item::File("casper_pop-os_24.04_amd64_intel_42/initrd.gz", b"initrd"),
            Item::File("casper_notes.txt", b"a file, not a directory"),
            Item::Dir("efi"),
        ],
        &[],
    );
    let iso = repack_iso::open(&fixture.image).unwrap();
    assert_eq!(
        iso.resolve("casper_*/vmlinuz.efi").unwrap().path,
        "/casper_pop-os_24.04_amd64_intel_42/vmlinuz.efi"
    );
    assert_eq!(
        iso.resolve("casper_*/initrd.*").unwrap().path,
        "/casper_pop-os_24.04_amd64_intel_42/initrd.gz"
    );
    match iso.resolve("nothing_*/vmlinuz.efi").unwrap_err() {
        IsoError::NoMatch { others, .. } => assert!(others.is_empty(), "{others:?}"),
        other => panic!("{other}"),
    }

    let two = iso_with_two_casper_dirs();
    let iso = repack_iso::open(&two.image).unwrap();
    match iso.resolve("casper_*/vmlinuz.efi").unwrap_err() {
        IsoError::Ambiguous { matches, .. } => {
            assert_eq!(matches, ["/casper_a", "/casper_b"]);
        }
        other => panic!("{other}"),
    }
}

fn iso_with_two_casper_dirs() -> Fixture {
    iso(
        &[
            Item::File("casper_a/vmlinuz.efi", b"a"),
            Item::File("casper_b/vmlinuz.efi", b"b"),
        ],
        &[],
    )
}
