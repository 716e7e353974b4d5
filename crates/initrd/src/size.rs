//! How much RAM an image's rootfs takes once the kernel has unpacked it: [`UnpackedSize`].
//!
//! What the kernel holds (Linux `init/initramfs.c`): every regular file's body is written with
//! `xwrite` into a file of the rootfs, which is tmpfs (capped at half of RAM) without `root=`
//! and ramfs (no cap) with it; both keep the data in the page cache and nothing can be
//! swapped out this early. `do_name` opens a file that already exists with `O_TRUNC` (unless
//! it is a further hard link), which frees the earlier body's pages before the new one is
//! written; `clean_path` unlinks an entry of another type (a symlink entry unlinks the file
//! at its path), which frees the inode once its last link is gone; `ftruncate(body_len)` only
//! sets the size, so a body cut off by the end of the image leaves a hole, not pages. When a
//! write fails (tmpfs full, `ENOSPC`), `do_copy` raises "write error" and the kernel drops the
//! rest of that member and every member after it. The compressed image itself stays in RAM
//! until `free_initrd` runs after the whole unpack, and decompression goes through a small
//! window, so the decoded cpio stream is never held whole.
//!
//! So the figure that decides whether an image fits is the rootfs's occupancy *while*
//! unpacking, counted per live inode: its data rounded up to whole pages (tmpfs charges its
//! size limit in pages) plus [`INODE_BYTES`] of inode and dentry memory. It is measured by
//! replaying every entry on the model of the rootfs ([`crate::model`]), from the headers
//! alone: nothing is decoded again and no file data is kept.

use serde::Serialize;

/// Page size the occupancy is rounded to: x86-64 and most arm64 kernels (arm64 kernels built
/// with 64 KiB pages round each file up further, so the figures are then lower bounds).
pub const PAGE_SIZE: u64 = 4096;

/// Memory counted per inode (and its dentry): tmpfs's own estimate, `BOGO_INODE_SIZE` in
/// Linux `mm/shmem.c` ("Pretend that one inode + its dentry occupy this much memory").
pub const INODE_BYTES: u64 = 1024;

/// Symlink targets longer than this take a page of their own on tmpfs (`SHORT_SYMLINK_LEN`
/// in `mm/shmem.c`); shorter ones live in the inode's allocation.
pub(crate) const SHORT_SYMLINK_LEN: usize = 128;

/// Sizes of what an image unpacks to (see the module doc for what the kernel holds).
///
/// For a RAM estimate of the boot, add `peak_bytes` to the image's own length: the kernel
/// frees the image only after unpacking it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct UnpackedSize {
    /// Bytes of cpio stream walked: the decompressed output of every compressed member plus
    /// the bytes of the uncompressed archives (the NUL padding between members excluded).
    /// What `zstd -dc`, `gzip -dc`, ... of each member add up to; transient, never held.
    pub stream_bytes: u64,
    /// Regular files in the unpacked tree, each inode once (hard links share one).
    pub files: u64,
    /// Bytes of data written into those files (each inode once): their sizes, except that a
    /// body cut off by the end of the image counts only the bytes present.
    pub file_bytes: u64,
    /// Inodes in the unpacked tree (files, directories, symlinks, devices; the root excluded).
    pub inodes: u64,
    /// RAM the rootfs holds once unpacking is done: each file's data rounded up to
    /// [`PAGE_SIZE`], a page for each long symlink, and [`INODE_BYTES`] per inode.
    pub resident_bytes: u64,
    /// The most `resident_bytes` reached at any point of the unpacking: larger than the end
    /// figure when a later member replaces or removes big files. The lint cap applies here.
    pub peak_bytes: u64,
    /// False when repack stopped decoding at one of its [`crate::Limits`] (only images
    /// linted with [`crate::lint_with`] get this far): every figure is then a lower bound.
    pub complete: bool,
}

/// RAM held by one inode of the given kind whose file data (regular files) is `data` bytes.
pub(crate) fn inode_cost(file_data: Option<u64>, symlink_len: Option<usize>) -> u64 {
    let pages = match (file_data, symlink_len) {
        (Some(data), _) => data.div_ceil(PAGE_SIZE) * PAGE_SIZE,
        (None, Some(len)) if len > SHORT_SYMLINK_LEN => PAGE_SIZE,
        _ => 0,
    };
    INODE_BYTES + pages
}

/// `bytes` in binary units with two decimals (`1.50 GiB`), or plain bytes below 1 KiB.
pub(crate) fn human(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.2} {}", UNITS[unit])
}

impl std::fmt::Display for UnpackedSize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let at_least = if self.complete { "" } else { "at least " };
        write!(
            f,
            "{at_least}{} of data in {} files ({} bytes), {} inodes; the rootfs holds {} ({} bytes) once \
             unpacked, {} at its peak; {} of cpio stream decoded",
            human(self.file_bytes),
            self.files,
            self.file_bytes,
            self.inodes,
            human(self.resident_bytes),
            self.resident_bytes,
            human(self.peak_bytes),
            human(self.stream_bytes),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cost_rounds_file_data_to_pages_and_counts_long_symlinks() {
        assert_eq!(inode_cost(None, None), INODE_BYTES);
        assert_eq!(inode_cost(Some(0), None), INODE_BYTES);
        assert_eq!(inode_cost(Some(1), None), INODE_BYTES + PAGE_SIZE);
        assert_eq!(inode_cost(Some(4097), None), INODE_BYTES + 2 * PAGE_SIZE);
        assert_eq!(inode_cost(None, Some(128)), INODE_BYTES);
        assert_eq!(inode_cost(None, Some(129)), INODE_BYTES + PAGE_SIZE);
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human(0), "0 B");
        assert_eq!(human(1023), "1023 B");
        assert_eq!(human(1536), "1.50 KiB");
        assert_eq!(human(2 << 30), "2.00 GiB");
    }
}
