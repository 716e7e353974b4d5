//! Fixture support: build real images with xorriso from a temporary tree, and locate
//! on-disk structures in them so hostile variants can be made by patching bytes.

use std::fs;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use tempfile::TempDir;

/// Fixed timestamp so xorriso output is byte-reproducible.
pub const SOURCE_DATE_EPOCH: &str = "1700000000";

/// What goes into a fixture tree.
pub enum Item<'a> {
    File(&'a str, &'a [u8]),
    Dir(&'a str),
    Symlink(&'a str, &'a str),
}

/// A source tree and the image made from it; both live as long as this value.
pub struct Fixture {
    /// Owns the temporary directory holding the tree and the image.
    _dir: TempDir,
    pub image: PathBuf,
}

impl Fixture {
    pub fn bytes(&self) -> Vec<u8> {
        fs::read(&self.image).unwrap()
    }
}

fn require_xorriso() {
    match Command::new("xorriso").arg("-version").output() {
        Ok(out) if out.status.success() => {}
        Ok(out) => panic!(
            "`xorriso -version` failed ({}); repack-iso's tests need xorriso \
             (apt-get install -y xorriso)",
            out.status
        ),
        Err(e) => panic!(
            "xorriso is required by repack-iso's tests and could not be run: {e}; \
             install it with `apt-get install -y --no-install-recommends xorriso`"
        ),
    }
}

/// Writes `items` under a temporary `src/` directory.
pub fn tree(items: &[Item<'_>]) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    fs::create_dir(&src).unwrap();
    for item in items {
        match item {
            Item::File(path, data) => {
                let p = src.join(path);
                fs::create_dir_all(p.parent().unwrap()).unwrap();
                fs::write(p, data).unwrap();
            }
            Item::Dir(path) => fs::create_dir_all(src.join(path)).unwrap(),
            Item::Symlink(path, target) => {
                let p = src.join(path);
                fs::create_dir_all(p.parent().unwrap()).unwrap();
                std::os::unix::fs::symlink(target, p).unwrap();
            }
        }
    }
    dir
}

fn mkisofs(extra: &[&str]) -> Command {
    require_xorriso();
    let mut cmd = Command::new("xorriso");
    cmd.env("SOURCE_DATE_EPOCH", SOURCE_DATE_EPOCH)
        .args(["-as", "mkisofs", "-quiet", "-R", "-J", "-no-pad"])
        .args(extra);
    cmd
}

/// Builds an image with `xorriso -as mkisofs -R -J` (plus `extra`) from `items`.
pub fn iso(items: &[Item<'_>], extra: &[&str]) -> Fixture {
    let dir = tree(items);
    let src = dir.path().join("src");
    let image = dir.path().join("image.iso");
    let out = mkisofs(extra)
        .arg("-o")
        .arg(&image)
        .arg(&src)
        .output()
        .expect("run xorriso");
    assert!(
        out.status.success(),
        "xorriso failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Fixture { _dir: dir, image }
}

/// Builds an image with xorriso's own zisofs compression: every regular file gets the
/// `--zisofs` filter (xorriso leaves files it cannot shrink, the tiny ones, uncompressed).
/// `zisofs` is xorriso's `-zisofs` parameter list, e.g. `block_size=64k`.
pub fn zisofs_iso(items: &[Item<'_>], zisofs: &str) -> Fixture {
    require_xorriso();
    let dir = tree(items);
    let image = dir.path().join("image.iso");
    let out = Command::new("xorriso")
        .env("SOURCE_DATE_EPOCH", SOURCE_DATE_EPOCH)
        .args(["-report_about", "SORRY", "-padding", "0", "-outdev"])
        .arg(&image)
        .args(["-zisofs", &format!("level=9:bpt_target=-1:{zisofs}")])
        .arg("-map")
        .arg(dir.path().join("src"))
        .arg("/")
        .args([
            "-find",
            "/",
            "-type",
            "f",
            "-exec",
            "set_filter",
            "--zisofs",
            "--",
            "-commit",
        ])
        .output()
        .expect("run xorriso");
    assert!(
        out.status.success(),
        "xorriso failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Fixture { _dir: dir, image }
}

/// Builds a large image (sparse input) with xorriso writing to stdout, storing it sparsely
/// (all-zero 64 KiB blocks become holes), so a > 4 GiB image costs seconds, not gigabytes.
pub fn sparse_iso(items: &[Item<'_>], sparse: &[(&str, u64, &[u8])], extra: &[&str]) -> Fixture {
    let dir = tree(items);
    let src = dir.path().join("src");
    for (name, hole, tail) in sparse {
        let mut f = fs::File::create(src.join(name)).unwrap();
        f.set_len(*hole).unwrap();
        f.seek(SeekFrom::End(0)).unwrap();
        f.write_all(tail).unwrap();
    }
    let image = dir.path().join("image.iso");
    let mut child = mkisofs(extra)
        .args(["-o", "-"])
        .arg(&src)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("run xorriso");
    let mut stdout = child.stdout.take().unwrap();
    let mut out = fs::File::create(&image).unwrap();
    let mut buf = vec![0u8; 64 * 1024];
    let mut len = 0u64;
    loop {
        let mut filled = 0;
        while filled < buf.len() {
            let n = stdout.read(&mut buf[filled..]).unwrap();
            if n == 0 {
                break;
            }
            filled += n;
        }
        if filled == 0 {
            break;
        }
        if buf[..filled].iter().all(|&b| b == 0) {
            out.seek(SeekFrom::Current(filled as i64)).unwrap();
        } else {
            out.write_all(&buf[..filled]).unwrap();
        }
        len += filled as u64;
    }
    out.set_len(len).unwrap();
    assert!(child.wait().unwrap().success(), "xorriso failed");
    Fixture { _dir: dir, image }
}

// ---- locating structures to patch ----------------------------------------------------

pub const SECTOR: usize = 2048;

/// Offset of the one directory record (in the primary tree) whose ISO 9660 identifier is
/// `iso_name` (e.g. `VICTIM.TXT;1`, `DIR`). Path-table copies of directory names and
/// Joliet (UTF-16) names do not match the record shape checked here.
pub fn record(image: &[u8], iso_name: &str) -> usize {
    let name = iso_name.as_bytes();
    let hits: Vec<usize> = image
        .windows(name.len())
        .enumerate()
        .filter(|&(pos, w)| {
            w == name
                && pos >= 33
                && image[pos - 1] as usize == name.len()
                && image[pos - 33] as usize >= 33 + name.len()
                && image[pos - 33].is_multiple_of(2)
        })
        .map(|(pos, _)| pos - 33)
        .collect();
    assert_eq!(
        hits.len(),
        1,
        "record `{iso_name}` found {} times",
        hits.len()
    );
    hits[0]
}

pub fn put_both32(image: &mut [u8], at: usize, value: u32) {
    image[at..at + 4].copy_from_slice(&value.to_le_bytes());
    image[at + 4..at + 8].copy_from_slice(&value.to_be_bytes());
}

pub fn get32(image: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(image[at..at + 4].try_into().unwrap())
}

/// Extent sector of the record at `rec`.
pub fn record_lba(image: &[u8], rec: usize) -> u32 {
    get32(image, rec + 2)
}

/// Data length of the record at `rec`.
pub fn record_len(image: &[u8], rec: usize) -> u32 {
    get32(image, rec + 10)
}

pub fn set_record_lba(image: &mut [u8], rec: usize, lba: u32) {
    put_both32(image, rec + 2, lba);
}

pub fn set_record_len(image: &mut [u8], rec: usize, len: u32) {
    put_both32(image, rec + 10, len);
}

/// Offset of the SUSP field with signature `sig` in the record's own system use area.
pub fn susp_field(image: &[u8], rec: usize, sig: &[u8; 2]) -> usize {
    let len = image[rec] as usize;
    let name_len = image[rec + 32] as usize;
    let mut at = rec + 33 + name_len + (1 - name_len % 2);
    while at + 4 <= rec + len {
        let field_len = image[at + 2] as usize;
        if &image[at..at + 2] == sig {
            return at;
        }
        assert!(field_len >= 4, "bad SUSP field");
        at += field_len;
    }
    panic!("no {} field in record", String::from_utf8_lossy(sig));
}

/// Replaces the Rock Ridge name of the record at `rec` with `name` (same length).
pub fn set_rr_name(image: &mut [u8], rec: usize, name: &[u8]) {
    let nm = susp_field(image, rec, b"NM");
    let len = image[nm + 2] as usize;
    assert_eq!(
        len - 5,
        name.len(),
        "replacement NM name must keep the length"
    );
    image[nm + 5..nm + 5 + name.len()].copy_from_slice(name);
}

/// Offset of the one zisofs file header in `image` (the start of a compressed file).
pub fn zisofs_start(image: &[u8]) -> usize {
    const MAGIC: [u8; 8] = [0x37, 0xE4, 0x53, 0x96, 0xC9, 0xDB, 0xD6, 0x07];
    let hits: Vec<usize> = image
        .windows(8)
        .enumerate()
        .filter(|(_, w)| *w == MAGIC)
        .map(|(at, _)| at)
        .collect();
    assert_eq!(hits.len(), 1, "zisofs header found {} times", hits.len());
    hits[0]
}

/// Block pointer `index` of the one compressed file.
pub fn zisofs_pointer(image: &[u8], index: usize) -> u32 {
    get32(image, zisofs_start(image) + 16 + 4 * index)
}

pub fn set_zisofs_pointer(image: &mut [u8], index: usize, value: u32) {
    let at = zisofs_start(image) + 16 + 4 * index;
    image[at..at + 4].copy_from_slice(&value.to_le_bytes());
}

/// Sets the uncompressed size of the compressed file with record `iso_name` in its `ZF`
/// entry and, when `header` is set, in its own zisofs header too (a consistent lie).
pub fn set_zisofs_size(image: &mut [u8], iso_name: &str, size: u32, header: bool) {
    let zf = susp_field(image, record(image, iso_name), b"ZF");
    put_both32(image, zf + 8, size);
    if header {
        let at = zisofs_start(image) + 8;
        image[at..at + 4].copy_from_slice(&size.to_le_bytes());
    }
}

/// Sets log2 of the block size in the `ZF` entry and the file header.
pub fn set_zisofs_block_log2(image: &mut [u8], iso_name: &str, log2: u8) {
    let zf = susp_field(image, record(image, iso_name), b"ZF");
    image[zf + 7] = log2;
    let at = zisofs_start(image) + 13;
    image[at] = log2;
}

/// Root directory extent (sector) from the primary volume descriptor.
pub fn root_lba(image: &[u8]) -> u32 {
    get32(image, 16 * SECTOR + 156 + 2)
}

/// Writes `bytes` to a new file in `dir` and returns its path.
pub fn write_image(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, bytes).unwrap();
    path
}
