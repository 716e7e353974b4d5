//! The benchmark's input: a Debian-live-shaped ISO of at least 4 GB, built once per machine
//! and cached by the hash of everything that goes into it.
//!
//! The kernel and initrd are the real ones of the Debian live fixture
//! ([`repack_testkit::fixtures::debian_live`]); `live/filesystem.squashfs` is a real squashfs
//! of incompressible pseudo-random files, stored uncompressed so it is quick to make and the
//! same size as its content. `xorriso -as mkisofs -iso-level 3 -R -J` packs them in Debian's
//! layout, so the shipped `debian-live` recipe applies and the root image, being larger than
//! 4 GiB, is a multi-extent file.

use anyhow::{Context, Result, bail, ensure};
use sha2::{Digest, Sha256};
use std::fs::{self, File};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Bumped whenever the recipe below changes, so the cache key changes with it.
const FORMAT: &str = "repack-bench-iso-v1";
/// The random content is written as files of this size (the last one shorter).
const RANDOM_FILE_BYTES: u64 = 256 << 20;

/// A built benchmark ISO in the cache.
#[derive(Debug, Clone)]
pub struct BenchIso {
    pub path: PathBuf,
    pub size: u64,
    pub sha256_hex: String,
    /// Size of `live/filesystem.squashfs` inside it.
    pub rootfs_size: u64,
}

/// Returns the cached ISO for `rootfs_bytes` of random content, building it if needed.
pub fn ensure(cache_root: &Path, rootfs_bytes: u64) -> Result<BenchIso> {
    let fixture = repack_testkit::fixtures::debian_live();
    let sums = fs::read_to_string(fixture.dir.join("SHA256SUMS"))
        .context("the Debian live fixture has no SHA256SUMS")?;
    let mut key = Sha256::new();
    key.update(FORMAT);
    key.update(rootfs_bytes.to_le_bytes());
    key.update(&sums);
    let key = hex::encode(&key.finalize()[..8]);
    let dir = cache_root.join(format!("iso-{key}"));
    let path = dir.join("bench.iso");
    let done = dir.join(".complete");
    if !done.exists() {
        let _ = fs::remove_dir_all(&dir);
        build(&dir, fixture, rootfs_bytes)?;
        File::create(&done)?;
    }
    let read = |name: &str| -> Result<String> {
        Ok(fs::read_to_string(dir.join(name))
            .with_context(|| format!("{}/{name}", dir.display()))?
            .trim()
            .to_owned())
    };
    Ok(BenchIso {
        size: fs::metadata(&path)?.len(),
        sha256_hex: read("sha256")?,
        rootfs_size: read("rootfs-size")?.parse()?,
        path,
    })
}

fn build(
    dir: &Path,
    fixture: &repack_testkit::fixtures::DebianLive,
    rootfs_bytes: u64,
) -> Result<()> {
    for tool in ["mksquashfs", "xorriso"] {
        ensure!(
            Command::new("sh")
                .args(["-c", &format!("command -v {tool}")])
                .output()?
                .status
                .success(),
            "{tool} is not installed (apt-get install squashfs-tools xorriso)"
        );
    }
    eprintln!(
        "bench: building a {:.1} GiB ISO in {} (once per machine)",
        rootfs_bytes as f64 / (1u64 << 30) as f64,
        dir.display()
    );
    let work = dir.join("work");
    let random = work.join("random");
    let iso_root = work.join("iso");
    fs::create_dir_all(&random)?;
    fs::create_dir_all(iso_root.join("live"))?;
    let kver = &fixture.kernel_version;
    fs::copy(
        &fixture.vmlinuz,
        iso_root.join(format!("live/vmlinuz-{kver}")),
    )?;
    fs::copy(
        &fixture.initrd,
        iso_root.join(format!("live/initrd.img-{kver}")),
    )?;

    write_random_files(&random, rootfs_bytes)?;
    let squashfs = iso_root.join("live/filesystem.squashfs");
    run(Command::new("mksquashfs")
        .arg(&random)
        .arg(&squashfs)
        .args([
            "-noI",
            "-noD",
            "-noF",
            "-noX",
            "-no-fragments",
            "-no-duplicates",
        ])
        .args([
            "-no-xattrs",
            "-noappend",
            "-no-progress",
            "-processors",
            "2",
        ]))?;
    fs::remove_dir_all(&random)?;
    let rootfs_size = fs::metadata(&squashfs)?.len();

    let iso = dir.join("bench.iso");
    run(Command::new("xorriso")
        .args(["-as", "mkisofs", "-quiet", "-iso-level", "3", "-R", "-J"])
        .args(["-V", "DEBIAN_LIVE", "-o"])
        .arg(&iso)
        .arg(&iso_root)
        .env("SOURCE_DATE_EPOCH", "1700000000"))?;
    fs::remove_dir_all(&work)?;

    fs::write(dir.join("sha256"), format!("{}\n", sha256_file(&iso)?))?;
    fs::write(dir.join("rootfs-size"), format!("{rootfs_size}\n"))?;
    Ok(())
}

/// Fills `dir` with `total` bytes of incompressible data (splitmix64; deterministic).
fn write_random_files(dir: &Path, total: u64) -> Result<()> {
    let mut state = 0x5eed_0f5e_a5ee_d0f5_u64;
    let mut buffer = vec![0u8; 1 << 20];
    let mut left = total;
    let mut index = 0;
    while left > 0 {
        let file_len = left.min(RANDOM_FILE_BYTES);
        let mut out = BufWriter::new(File::create(dir.join(format!("blob{index:03}")))?);
        let mut file_left = file_len;
        while file_left > 0 {
            for word in buffer.chunks_exact_mut(8) {
                state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
                let mut z = state;
                z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
                word.copy_from_slice(&(z ^ (z >> 31)).to_le_bytes());
            }
            let n = (buffer.len() as u64).min(file_left) as usize;
            out.write_all(&buffer[..n])?;
            file_left -= n as u64;
        }
        out.flush()?;
        left -= file_len;
        index += 1;
    }
    Ok(())
}

/// SHA-256 of a file, hex.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut file = File::open(path).with_context(|| path.display().to_string())?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let got = file.read(&mut buffer)?;
        if got == 0 {
            break;
        }
        hasher.update(&buffer[..got]);
    }
    Ok(hex::encode(hasher.finalize()))
}

fn run(command: &mut Command) -> Result<()> {
    let status = command
        .stdout(std::process::Stdio::null())
        .status()
        .with_context(|| format!("cannot run {command:?}"))?;
    if !status.success() {
        bail!("{command:?} failed ({status})");
    }
    Ok(())
}
