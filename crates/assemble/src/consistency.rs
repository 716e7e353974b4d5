//! Kernel, initrd and root image of a release come from one ISO; this checks that they agree
//! before anything is published: the kernel's own version (from its boot header) must have a
//! `lib/modules/<version>` directory in the initrd and in the root image, wherever either
//! carries kernel modules at all. A kernel whose modules are missing boots without its
//! drivers (no network, no disk): the failure the incumbent shipped when its kernel and root
//! image drifted apart. What cannot be read (another kernel format, a root image that is not
//! SquashFS) is not checked, and says so in the log.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

use repack_core::{FileRole, ManifestFile};
use repack_initrd::{EntryKind, Initrd};
use repack_iso::IsoFile;
use repack_squashfs::{Concat, Squashfs};

use crate::BuildError;

/// Where the x86 boot header keeps the offset of the version string (boot protocol 2.00+).
const KERNEL_VERSION_FIELD: u64 = 0x20e;
const HEADER_MAGIC_AT: u64 = 0x202;

/// The version an x86 bzImage announces (`6.1.0-28-amd64`), or None when the kernel has no
/// such header (other architectures, other formats).
pub(crate) fn kernel_version(image: &File, kernel: &IsoFile) -> Option<String> {
    let start = kernel.contiguous_offset()?;
    let read = |offset: u64, len: usize| -> Option<Vec<u8>> {
        if offset + len as u64 > kernel.size {
            return None;
        }
        let mut buf = vec![0u8; len];
        image.read_exact_at(&mut buf, start + offset).ok()?;
        Some(buf)
    };
    if read(HEADER_MAGIC_AT, 4)? != b"HdrS" {
        return None;
    }
    let field = read(KERNEL_VERSION_FIELD, 2)?;
    let pointer = u64::from(u16::from_le_bytes([field[0], field[1]]));
    if pointer == 0 {
        return None;
    }
    let at = pointer + 0x200;
    let text = read(at, kernel.size.saturating_sub(at).min(128) as usize)?;
    let text = text.split(|&b| b == 0).next()?;
    let version = std::str::from_utf8(text).ok()?.split_whitespace().next()?;
    (!version.is_empty()).then(|| version.to_owned())
}

/// The module directories (`lib/modules/*`) of the initrd's unpacked tree; empty when it
/// carries no modules.
pub(crate) fn initrd_module_versions(initrd: &Initrd) -> Vec<String> {
    let mut versions: Vec<String> = initrd
        .tree()
        .into_iter()
        .filter(|entry| entry.kind == EntryKind::Dir)
        .filter_map(|entry| {
            let rest = entry
                .path
                .strip_prefix("usr/lib/modules/")
                .or_else(|| entry.path.strip_prefix("lib/modules/"))?;
            (!rest.contains('/')).then(|| rest.to_owned())
        })
        .collect();
    versions.sort();
    versions.dedup();
    versions
}

/// The module directories of the root images (all layers together), or None when none of
/// them could be read.
pub(crate) fn rootfs_module_versions(
    staging: &Path,
    rootfs: &[ManifestFile],
) -> Option<Vec<String>> {
    let mut versions = Vec::new();
    let mut read_any = false;
    for file in rootfs.iter().filter(|file| file.role == FileRole::Rootfs) {
        let parts: Vec<_> = file
            .parts
            .iter()
            .map(|part| staging.join(&part.name))
            .collect();
        let image = match Concat::open(&parts) {
            Ok(image) => image,
            Err(error) => {
                tracing::warn!(image = %file.name, %error, "cannot open the root image to check its kernel modules");
                continue;
            }
        };
        let listing = Squashfs::open(image).and_then(|fs| {
            Ok(match fs.read_dir("/lib/modules")? {
                Some(found) => Some(found),
                None => fs.read_dir("/usr/lib/modules")?,
            })
        });
        match listing {
            Ok(found) => {
                read_any = true;
                versions.extend(
                    found
                        .unwrap_or_default()
                        .into_iter()
                        .map(|entry| entry.name),
                );
            }
            Err(error) => {
                tracing::info!(image = %file.name, %error, "root image not checked for kernel modules");
            }
        }
    }
    versions.sort();
    versions.dedup();
    read_any.then_some(versions)
}

/// Fails when `found` lists module directories but none for `kernel`.
pub(crate) fn check(kernel: &str, place: String, found: &[String]) -> Result<(), BuildError> {
    if found.is_empty() || found.iter().any(|version| version == kernel) {
        return Ok(());
    }
    Err(BuildError::KernelMismatch {
        kernel: kernel.to_owned(),
        place,
        found: found.join(", "),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use repack_iso::Extent;

    /// The version `kernel_version` reads from a `len`-byte kernel at byte 100 of an image,
    /// with each `(offset, bytes)` of `header` written into the kernel.
    fn version_of(header: &[(u64, &[u8])], len: u64) -> Option<String> {
        let mut bytes = vec![0u8; 100 + len as usize];
        for (at, data) in header {
            let at = 100 + *at as usize;
            bytes[at..at + data.len()].copy_from_slice(data);
        }
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), &bytes).unwrap();
        let kernel = IsoFile::new("/live/vmlinuz", vec![Extent { offset: 100, len }]).unwrap();
        kernel_version(&File::open(file.path()).unwrap(), &kernel)
    }

    const MAGIC: (u64, &[u8]) = (0x202, b"HdrS");
    const POINTER: (u64, &[u8]) = (0x20e, &[0x00, 0x30]);

    #[test]
    fn the_version_comes_from_the_boot_header() {
        let text: &[u8] = b"6.1.0-28-amd64 (debian-kernel@lists.debian.org) #1 SMP\0";
        assert_eq!(
            version_of(&[MAGIC, POINTER, (0x3200, text)], 0x4000).as_deref(),
            Some("6.1.0-28-amd64")
        );
        // Cut short by the end of the kernel: what is there is read.
        assert_eq!(
            version_of(&[MAGIC, POINTER, (0x3200, b"6.1.0-28")], 0x3208).as_deref(),
            Some("6.1.0-28")
        );
    }

    #[test]
    fn kernels_without_a_readable_version_are_not_guessed() {
        let text: &[u8] = b"6.1.0-28-amd64 #1\0";
        // No boot header magic (an arm64 Image, say).
        assert_eq!(version_of(&[POINTER, (0x3200, text)], 0x4000), None);
        // No version pointer.
        assert_eq!(version_of(&[MAGIC], 0x4000), None);
        // A pointer past the end of the kernel.
        assert_eq!(version_of(&[MAGIC, (0x20e, &[0xff, 0xff])], 0x4000), None);
        // A kernel shorter than its header.
        assert_eq!(version_of(&[], 0x100), None);
        // An empty or non-UTF-8 string.
        assert_eq!(version_of(&[MAGIC, POINTER], 0x4000), None);
        assert_eq!(
            version_of(&[MAGIC, POINTER, (0x3200, &[0xff, 0xfe, 0])], 0x4000),
            None
        );
    }

    #[test]
    fn modules_must_include_the_kernel_when_there_are_any() {
        let found = ["6.1.0-27-amd64".to_owned(), "6.1.0-28-amd64".to_owned()];
        assert!(check("6.1.0-28-amd64", "initrd".into(), &found).is_ok());
        assert!(check("6.1.0-28-amd64", "initrd".into(), &[]).is_ok());
        let error = check("6.1.0-29-amd64", "initrd `x`".into(), &found).unwrap_err();
        assert_eq!(error.kind(), "kernel-mismatch");
        let message = error.to_string();
        assert!(
            message.contains("6.1.0-29-amd64")
                && message.contains("6.1.0-27-amd64, 6.1.0-28-amd64"),
            "{message}"
        );
    }
}
