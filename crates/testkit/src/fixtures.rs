//! Real-image fixtures, built by committed scripts and cached by the script's hash.
//!
//! The cache lives in `$REPACK_FIXTURE_CACHE` or `~/.cache/repack/fixtures`, one directory
//! per script hash, so a changed script rebuilds and an unchanged one is reused across
//! checkouts and CI runs on the same machine. A file lock makes concurrent tests wait for
//! one build instead of racing.

use sha2::{Digest, Sha256};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The Debian live system built by `tests/fixtures/make-debian-live.sh`.
#[derive(Debug)]
pub struct DebianLive {
    pub dir: PathBuf,
    /// An ISO laid out like Debian's live ISOs (Rock Ridge, Joliet, El Torito).
    pub iso: PathBuf,
    /// The same ISO without `live/filesystem.squashfs`.
    pub iso_no_rootfs: PathBuf,
    pub vmlinuz: PathBuf,
    /// The initrd mkinitramfs made, with live-boot's scripts.
    pub initrd: PathBuf,
    pub squashfs: PathBuf,
    pub kernel_version: String,
}

/// Builds (once per script version and machine) and returns the Debian live fixture.
pub fn debian_live() -> &'static DebianLive {
    static FIXTURE: OnceLock<DebianLive> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = cached_build("make-debian-live.sh");
        DebianLive {
            iso: dir.join("debian-live.iso"),
            iso_no_rootfs: dir.join("debian-live-no-rootfs.iso"),
            vmlinuz: dir.join("vmlinuz"),
            initrd: dir.join("initrd.img"),
            squashfs: dir.join("filesystem.squashfs"),
            kernel_version: std::fs::read_to_string(dir.join("kernel-version"))
                .expect("fixture has kernel-version")
                .trim()
                .to_owned(),
            dir,
        }
    })
}

/// The dracut live system built by `tests/fixtures/make-dracut-live.sh` (dmsquash-live +
/// livenet initrd, lorax layout).
#[derive(Debug)]
pub struct DracutLive {
    pub dir: PathBuf,
    /// An ISO in lorax's layout: `images/pxeboot/{vmlinuz,initrd.img}`, `LiveOS/squashfs.img`.
    pub iso: PathBuf,
    pub vmlinuz: PathBuf,
    /// The initrd dracut made.
    pub initrd: PathBuf,
    pub squashfs: PathBuf,
}

/// Builds (once per script version and machine) and returns the dracut live fixture.
pub fn dracut_live() -> &'static DracutLive {
    static FIXTURE: OnceLock<DracutLive> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = cached_build("make-dracut-live.sh");
        DracutLive {
            iso: dir.join("dracut-live.iso"),
            vmlinuz: dir.join("vmlinuz"),
            initrd: dir.join("initrd.img"),
            squashfs: dir.join("squashfs.img"),
            dir,
        }
    })
}

fn cache_root() -> PathBuf {
    if let Some(dir) = std::env::var_os("REPACK_FIXTURE_CACHE") {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME").unwrap_or_else(|| "/tmp".into());
    PathBuf::from(home).join(".cache/repack/fixtures")
}

/// Runs `tests/fixtures/<script> OUT` unless its output for this script hash exists.
fn cached_build(script: &str) -> PathBuf {
    let script_path = crate::workspace_root().join("tests/fixtures").join(script);
    let text = std::fs::read(&script_path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", script_path.display()));
    let hash = hex::encode(&Sha256::digest(&text)[..8]);
    let root = cache_root();
    std::fs::create_dir_all(&root).expect("fixture cache is writable");
    let name = script.trim_end_matches(".sh");
    let out = root.join(format!("{name}-{hash}"));
    let done = out.join(".complete");

    let lock_path = root.join(format!("{name}.lock"));
    let lock = File::create(&lock_path).expect("fixture lock file");
    lock.lock().expect("fixture lock");
    if !done.exists() {
        let _ = std::fs::remove_dir_all(&out);
        let staging = root.join(format!("{name}-{hash}.tmp"));
        let _ = std::fs::remove_dir_all(&staging);
        eprintln!(
            "building fixture {} (once per machine; cached in {})",
            script,
            out.display()
        );
        let status = Command::new("bash")
            .arg(&script_path)
            .arg(&staging)
            .status()
            .unwrap_or_else(|error| panic!("cannot run {}: {error}", script_path.display()));
        assert!(
            status.success(),
            "{} failed ({status})",
            script_path.display()
        );
        std::fs::rename(&staging, &out).expect("fixture moved into the cache");
        File::create(&done).expect("fixture marked complete");
    }
    drop(lock);
    out
}

/// SHA-256 of a file, hex, streamed.
pub fn sha256_file(path: &Path) -> String {
    sha256_prefix(path, u64::MAX)
}

/// SHA-256 of the first `len` bytes of a file, hex, streamed.
pub fn sha256_prefix(path: &Path, len: u64) -> String {
    use std::io::Read;
    let file = File::open(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    let mut reader = file.take(len);
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let got = reader.read(&mut buffer).expect("file is readable");
        if got == 0 {
            break;
        }
        hasher.update(&buffer[..got]);
    }
    hex::encode(hasher.finalize())
}
