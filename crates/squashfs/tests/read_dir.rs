//! Directory lookups on images made by the real `mksquashfs`, with every compressor, and on
//! damaged images (errors, never panics).

use std::path::{Path, PathBuf};
use std::process::Command;

use proptest::prelude::*;
use repack_squashfs::{Concat, DirEntry, EntryKind, Error, Squashfs};

/// A merged-/usr tree: `lib -> usr/lib`, two kernels' modules, a directory of 700 entries
/// (several listing headers, several metadata blocks) and a symlink loop.
fn tree(root: &Path) {
    for kver in ["6.1.0-9-amd64", "6.1.0-10-amd64"] {
        let d = root.join("usr/lib/modules").join(kver).join("kernel");
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("e1000.ko"), kver).unwrap();
    }
    std::fs::create_dir_all(root.join("usr/bin")).unwrap();
    std::os::unix::fs::symlink("usr/lib", root.join("lib")).unwrap();
    std::os::unix::fs::symlink("/usr/bin", root.join("bin")).unwrap();
    std::os::unix::fs::symlink("loop-b", root.join("loop-a")).unwrap();
    std::os::unix::fs::symlink("loop-a", root.join("loop-b")).unwrap();
    let many = root.join("usr/share/many");
    std::fs::create_dir_all(&many).unwrap();
    for i in 0..700 {
        std::fs::write(many.join(format!("file-with-a-long-name-{i:04}")), b"x").unwrap();
    }
}

fn mksquashfs(dir: &Path, comp: &str) -> Option<PathBuf> {
    let root = dir.join("root");
    if !root.exists() {
        tree(&root);
    }
    let image = dir.join(format!("{comp}.sqfs"));
    let out = Command::new("mksquashfs")
        .arg(&root)
        .arg(&image)
        .args(["-comp", comp, "-noappend", "-no-progress", "-quiet"])
        .output()
        .expect("mksquashfs is installed (squashfs-tools)");
    out.status.success().then_some(image)
}

fn names(entries: Vec<DirEntry>) -> Vec<String> {
    let mut v: Vec<String> = entries.into_iter().map(|e| e.name).collect();
    v.sort();
    v
}

fn open(path: &Path) -> Squashfs<std::fs::File> {
    Squashfs::open(std::fs::File::open(path).unwrap()).unwrap()
}

#[test]
fn every_compressor_lists_directories_through_symlinks() {
    let tmp = tempfile::tempdir().unwrap();
    for comp in ["gzip", "xz", "lz4", "zstd"] {
        let image = mksquashfs(tmp.path(), comp).expect(comp);
        let fs = open(&image);
        let modules = fs.read_dir("/usr/lib/modules").unwrap().expect(comp);
        assert_eq!(
            names(modules.clone()),
            ["6.1.0-10-amd64", "6.1.0-9-amd64"],
            "{comp}"
        );
        assert!(modules.iter().all(|e| e.kind == EntryKind::Dir), "{comp}");
        // Through the merged-/usr link, relative and absolute.
        assert_eq!(
            names(fs.read_dir("lib/modules").unwrap().unwrap()),
            ["6.1.0-10-amd64", "6.1.0-9-amd64"],
            "{comp}"
        );
        assert_eq!(fs.read_dir("/bin").unwrap(), Some(vec![]), "{comp}");
        assert_eq!(
            fs.read_dir("lib/modules/6.1.0-9-amd64/kernel").unwrap(),
            Some(vec![DirEntry {
                name: "e1000.ko".into(),
                kind: EntryKind::File
            }]),
            "{comp}"
        );
        assert_eq!(
            fs.read_dir("usr/share/../lib/./modules")
                .unwrap()
                .map(|e| e.len()),
            Some(2)
        );
        let many = fs.read_dir("usr/share/many").unwrap().unwrap();
        assert_eq!(many.len(), 700, "{comp}");
        assert!(many.iter().any(|e| e.name == "file-with-a-long-name-0699"));
        // Nothing there, or not a directory.
        assert_eq!(fs.read_dir("/usr/lib/firmware").unwrap(), None);
        assert_eq!(
            fs.read_dir("/usr/lib/modules/6.1.0-9-amd64/kernel/e1000.ko")
                .unwrap(),
            None
        );
        assert_eq!(
            fs.read_dir("/loop-a").unwrap(),
            None,
            "{comp}: a symlink loop ends"
        );
        let root = names(fs.read_dir("/").unwrap().unwrap());
        assert_eq!(root, ["bin", "lib", "loop-a", "loop-b", "usr"], "{comp}");
    }
}

#[test]
fn an_image_split_in_parts_reads_like_the_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let image = mksquashfs(tmp.path(), "gzip").unwrap();
    let bytes = std::fs::read(&image).unwrap();
    let cut = [1000, bytes.len() / 2];
    let paths: Vec<PathBuf> = (0..3)
        .map(|i| tmp.path().join(format!("part{i}")))
        .collect();
    std::fs::write(&paths[0], &bytes[..cut[0]]).unwrap();
    std::fs::write(&paths[1], &bytes[cut[0]..cut[1]]).unwrap();
    std::fs::write(&paths[2], &bytes[cut[1]..]).unwrap();
    let fs = Squashfs::open(Concat::open(&paths).unwrap()).unwrap();
    assert_eq!(fs.read_dir("/usr/share/many").unwrap().unwrap().len(), 700);
}

#[test]
fn what_is_not_read_is_refused_by_name() {
    let tmp = tempfile::tempdir().unwrap();
    if let Some(lzo) = mksquashfs(tmp.path(), "lzo") {
        let e = Squashfs::open(std::fs::File::open(&lzo).unwrap()).unwrap_err();
        assert!(matches!(e, Error::Unsupported(_)), "{e}");
        assert!(e.to_string().contains("lzo"), "{e}");
    }
    let e = Squashfs::open(vec![0u8; 200]).unwrap_err();
    assert!(matches!(e, Error::NotSquashfs(_)), "{e}");
    let e = Squashfs::open(b"hsqs".to_vec()).unwrap_err();
    assert!(e.to_string().contains("shorter than a superblock"), "{e}");

    let image = mksquashfs(tmp.path(), "zstd").unwrap();
    let bytes = std::fs::read(&image).unwrap();
    let half = bytes[..bytes.len() / 2].to_vec();
    let e = Squashfs::open(half).unwrap_err();
    assert!(e.to_string().contains("the image has"), "{e}");
}

fn damaged_images() -> Vec<u8> {
    static IMAGE: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    IMAGE
        .get_or_init(|| {
            let tmp = tempfile::tempdir().unwrap();
            std::fs::read(mksquashfs(tmp.path(), "gzip").unwrap()).unwrap()
        })
        .clone()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, .. ProptestConfig::default() })]

    /// Bytes of the superblock or of the metadata tables changed: an error or an answer,
    /// never a panic or a hang.
    #[test]
    fn damaged_images_never_panic(
        flips in prop::collection::vec((any::<bool>(), any::<prop::sample::Index>(), any::<u8>()), 1..8)
    ) {
        let mut bytes = damaged_images();
        let inode_table = u64::from_le_bytes(bytes[64..72].try_into().unwrap()) as usize;
        for (superblock, at, value) in flips {
            let i = if superblock {
                at.index(96)
            } else {
                inode_table + at.index(bytes.len() - inode_table)
            };
            bytes[i] = value;
        }
        if let Ok(fs) = Squashfs::open(bytes) {
            for path in ["/usr/lib/modules", "/lib/modules", "/usr/share/many", "/loop-a"] {
                let _ = fs.read_dir(path);
            }
        }
    }
}
