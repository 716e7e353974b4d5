//! Read-only SquashFS 4 directory lookup: list one directory of a root image (say
//! `/usr/lib/modules`) without unpacking it or loading its whole tree.
//!
//! Only what a lookup needs is read: the superblock, then the metadata blocks of the inodes
//! and directory listings on the way (a few KiB for a path a few levels deep), decoded with
//! the image's compressor (gzip, lzma, xz, lz4 or zstd; lzo is refused). Symlinks on the way
//! are followed (`/lib -> usr/lib` on merged-/usr systems). Images are untrusted input:
//! every size is checked against the image and against caps before anything is allocated,
//! every read is bounds-checked, and errors name the byte offset and what was wrong there.

use std::io::Read;
use std::os::unix::fs::FileExt;

/// `hsqs`, little endian.
const MAGIC: u32 = 0x7371_7368;
const SUPERBLOCK_LEN: usize = 96;
/// Decoded size of a metadata block.
const METADATA_BLOCK: usize = 8192;
/// The most bytes of one directory listing we read.
const MAX_DIRECTORY: u64 = 16 << 20;
/// Symlinks followed in one lookup (the kernel's limit).
const MAX_SYMLINK_HOPS: usize = 40;
const MAX_SYMLINK_TARGET: u32 = 4096;

/// What went wrong, and where.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Occurs when the image does not start with a SquashFS 4 superblock.
    #[error("not a SquashFS 4 image: {0}")]
    NotSquashfs(String),
    /// Occurs when the image uses something this reader does not decode.
    #[error("unsupported SquashFS image: {0}")]
    Unsupported(String),
    /// Occurs when a structure of the image is inconsistent.
    #[error("corrupt SquashFS image at byte {offset}: {reason}")]
    Corrupt { offset: u64, reason: String },
    /// Occurs when reading the image fails.
    #[error("cannot read the SquashFS image at byte {offset}")]
    Read {
        offset: u64,
        #[source]
        source: std::io::Error,
    },
}

pub type Result<T> = std::result::Result<T, Error>;

/// Positional reads over an image: a file, or the parts a large image was split into.
pub trait ReadAt {
    /// Length of the image in bytes.
    fn len(&self) -> u64;

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Fills `buf` from `offset`; fails at the end of the image.
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<()>;
}

impl ReadAt for std::fs::File {
    fn len(&self) -> u64 {
        self.metadata().map(|m| m.len()).unwrap_or(0)
    }

    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
        FileExt::read_exact_at(self, buf, offset)
    }
}

impl ReadAt for Vec<u8> {
    fn len(&self) -> u64 {
        self.as_slice().len() as u64
    }

    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
        let start = usize::try_from(offset).unwrap_or(usize::MAX);
        match start
            .checked_add(buf.len())
            .and_then(|end| self.get(start..end))
        {
            Some(bytes) => {
                buf.copy_from_slice(bytes);
                Ok(())
            }
            None => Err(std::io::ErrorKind::UnexpectedEof.into()),
        }
    }
}

/// Files read one after another as one image (a root image published in parts).
#[derive(Debug)]
pub struct Concat {
    /// Each file with the offset where it starts in the image.
    parts: Vec<(std::fs::File, u64, u64)>,
    len: u64,
}

impl Concat {
    /// Opens `paths` in order.
    pub fn open(paths: &[std::path::PathBuf]) -> std::io::Result<Concat> {
        let mut parts = Vec::new();
        let mut len = 0;
        for path in paths {
            let file = std::fs::File::open(path)?;
            let part_len = file.metadata()?.len();
            parts.push((file, len, part_len));
            len += part_len;
        }
        Ok(Concat { parts, len })
    }
}

impl ReadAt for Concat {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
        let mut done = 0usize;
        for (file, start, part_len) in &self.parts {
            if done == buf.len() {
                break;
            }
            let at = offset + done as u64;
            if at >= *start && at < start + part_len {
                let n = ((start + part_len - at) as usize).min(buf.len() - done);
                FileExt::read_exact_at(file, &mut buf[done..done + n], at - start)?;
                done += n;
            }
        }
        if done < buf.len() {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        Ok(())
    }
}

/// True when `head` starts like a SquashFS image.
pub fn is_squashfs(head: &[u8]) -> bool {
    head.len() >= 4 && u32::from_le_bytes([head[0], head[1], head[2], head[3]]) == MAGIC
}

/// Type of a directory entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    Dir,
    File,
    Symlink,
    Other,
}

/// One entry of a directory listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    pub name: String,
    pub kind: EntryKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Compressor {
    Gzip,
    Lzma,
    Xz,
    Lz4,
    Zstd,
}

/// An opened image.
#[derive(Debug)]
pub struct Squashfs<R: ReadAt> {
    compressor: Compressor,
    root_inode: u64,
    inode_table: u64,
    directory_table: u64,
    /// End of the filesystem (metadata never lies beyond it).
    bytes_used: u64,
    reader: R,
}

/// An inode, as far as a lookup needs it.
enum Inode {
    Dir {
        start_block: u64,
        offset: u16,
        size: u64,
    },
    Symlink(Vec<u8>),
    Other,
}

impl<R: ReadAt> Squashfs<R> {
    /// Reads and checks the superblock.
    pub fn open(reader: R) -> Result<Self> {
        let mut sb = [0u8; SUPERBLOCK_LEN];
        if reader.len() < SUPERBLOCK_LEN as u64 {
            return Err(Error::NotSquashfs(format!(
                "{} bytes is shorter than a superblock",
                reader.len()
            )));
        }
        reader
            .read_exact_at(&mut sb, 0)
            .map_err(|source| Error::Read { offset: 0, source })?;
        if !is_squashfs(&sb) {
            return Err(Error::NotSquashfs("no `hsqs` magic at byte 0".into()));
        }
        let u16_at = |at: usize| u16::from_le_bytes([sb[at], sb[at + 1]]);
        let u64_at = |at: usize| u64::from_le_bytes(sb[at..at + 8].try_into().expect("8 bytes"));
        let (major, minor) = (u16_at(28), u16_at(30));
        if (major, minor) != (4, 0) {
            return Err(Error::Unsupported(format!(
                "version {major}.{minor} (only 4.0)"
            )));
        }
        let compressor = match u16_at(20) {
            1 => Compressor::Gzip,
            2 => Compressor::Lzma,
            3 => return Err(Error::Unsupported("lzo compression".into())),
            4 => Compressor::Xz,
            5 => Compressor::Lz4,
            6 => Compressor::Zstd,
            other => return Err(Error::Unsupported(format!("compressor id {other}"))),
        };
        let bytes_used = u64_at(40);
        let (inode_table, directory_table) = (u64_at(64), u64_at(72));
        if bytes_used > reader.len() {
            return Err(Error::Corrupt {
                offset: 40,
                reason: format!(
                    "the superblock says the filesystem is {bytes_used} bytes, the image has {}",
                    reader.len()
                ),
            });
        }
        if inode_table < SUPERBLOCK_LEN as u64
            || inode_table > directory_table
            || directory_table >= bytes_used
        {
            return Err(Error::Corrupt {
                offset: 64,
                reason: format!(
                    "inode table at {inode_table} and directory table at {directory_table} do not fit a {bytes_used}-byte filesystem"
                ),
            });
        }
        Ok(Squashfs {
            compressor,
            root_inode: u64_at(32),
            inode_table,
            directory_table,
            bytes_used,
            reader,
        })
    }

    /// The entries of the directory at `path` (absolute or relative to the root, symlinks
    /// followed), or None when nothing is there or it is not a directory.
    pub fn read_dir(&self, path: &str) -> Result<Option<Vec<DirEntry>>> {
        let Some(Inode::Dir {
            start_block,
            offset,
            size,
        }) = self.lookup(path)?
        else {
            return Ok(None);
        };
        Ok(Some(
            self.listing(start_block, offset, size)?
                .into_iter()
                .map(|(entry, _)| entry)
                .collect(),
        ))
    }

    fn lookup(&self, path: &str) -> Result<Option<Inode>> {
        let mut pending: Vec<Vec<u8>> = components(path.as_bytes());
        pending.reverse();
        // The directories walked so far, for `..` and relative symlinks.
        let mut trail: Vec<u64> = vec![self.root_inode];
        let mut hops = 0;
        while let Some(name) = pending.pop() {
            if name == b".." {
                if trail.len() > 1 {
                    trail.pop();
                }
                continue;
            }
            let here = *trail.last().expect("the root is never popped");
            let Inode::Dir {
                start_block,
                offset,
                size,
            } = self.inode(here)?
            else {
                return Ok(None);
            };
            let Some(child) = self
                .listing(start_block, offset, size)?
                .into_iter()
                .find(|(entry, _)| entry.name.as_bytes() == name.as_slice())
                .map(|(_, inode)| inode)
            else {
                return Ok(None);
            };
            match self.inode(child)? {
                Inode::Symlink(target) => {
                    hops += 1;
                    if hops > MAX_SYMLINK_HOPS {
                        return Ok(None);
                    }
                    if target.first() == Some(&b'/') {
                        trail.truncate(1);
                    }
                    let mut more = components(&target);
                    more.reverse();
                    pending.extend(more);
                }
                _ => trail.push(child),
            }
        }
        self.inode(*trail.last().expect("the root is never popped"))
            .map(Some)
    }

    /// Reads the inode `reference` points at (metadata block << 16 | offset in it).
    fn inode(&self, reference: u64) -> Result<Inode> {
        let block = self.inode_table + (reference >> 16);
        let offset = (reference & 0xffff) as u16;
        let mut meta = Metadata::new(self, block, self.directory_table, offset)?;
        let header = meta.take(16)?;
        let kind = u16::from_le_bytes([header[0], header[1]]);
        Ok(match kind {
            1 => {
                let b = meta.take(16)?;
                Inode::Dir {
                    start_block: u64::from(le32(&b[0..4])),
                    size: u64::from(u16::from_le_bytes([b[8], b[9]])),
                    offset: u16::from_le_bytes([b[10], b[11]]),
                }
            }
            8 => {
                let b = meta.take(24)?;
                Inode::Dir {
                    size: u64::from(le32(&b[4..8])),
                    start_block: u64::from(le32(&b[8..12])),
                    offset: u16::from_le_bytes([b[18], b[19]]),
                }
            }
            3 | 10 => {
                let b = meta.take(8)?;
                let len = le32(&b[4..8]);
                if len > MAX_SYMLINK_TARGET {
                    return Err(Error::Corrupt {
                        offset: block,
                        reason: format!("a symlink target of {len} bytes"),
                    });
                }
                Inode::Symlink(meta.take(len as usize)?)
            }
            2 | 4..=7 | 9 | 11..=14 => Inode::Other,
            other => {
                return Err(Error::Corrupt {
                    offset: block,
                    reason: format!("inode type {other}"),
                });
            }
        })
    }

    /// The entries of a directory with their inode references.
    fn listing(&self, start_block: u64, offset: u16, size: u64) -> Result<Vec<(DirEntry, u64)>> {
        // The size counts `.` and `..`, which are not stored.
        let len = size.saturating_sub(3);
        if len > MAX_DIRECTORY {
            return Err(Error::Corrupt {
                offset: self.directory_table + start_block,
                reason: format!("a directory listing of {len} bytes"),
            });
        }
        let block = self.directory_table + start_block;
        let mut meta = Metadata::new(self, block, self.bytes_used, offset)?;
        let mut left = len;
        let mut out = Vec::new();
        while left >= 12 {
            let h = meta.take(12)?;
            left -= 12;
            let count = le32(&h[0..4]) + 1;
            let inode_block = u64::from(le32(&h[4..8]));
            if count > 256 {
                return Err(Error::Corrupt {
                    offset: block,
                    reason: format!("a directory header announcing {count} entries (at most 256)"),
                });
            }
            for _ in 0..count {
                if left < 8 {
                    return Err(Error::Corrupt {
                        offset: block,
                        reason: "a directory entry runs past the listing".into(),
                    });
                }
                let e = meta.take(8)?;
                let name_len = usize::from(u16::from_le_bytes([e[6], e[7]])) + 1;
                left -= 8;
                if name_len as u64 > left {
                    return Err(Error::Corrupt {
                        offset: block,
                        reason: "a directory entry's name runs past the listing".into(),
                    });
                }
                let name = meta.take(name_len)?;
                left -= name_len as u64;
                let kind = match u16::from_le_bytes([e[4], e[5]]) {
                    1 => EntryKind::Dir,
                    2 => EntryKind::File,
                    3 => EntryKind::Symlink,
                    _ => EntryKind::Other,
                };
                let inode_offset = u64::from(u16::from_le_bytes([e[0], e[1]]));
                out.push((
                    DirEntry {
                        name: String::from_utf8_lossy(&name).into_owned(),
                        kind,
                    },
                    (inode_block << 16) | inode_offset,
                ));
            }
        }
        Ok(out)
    }

    /// Reads and decodes the metadata block at `at`; returns it and where the next starts.
    fn metadata_block(&self, at: u64, end: u64) -> Result<(Vec<u8>, u64)> {
        let mut header = [0u8; 2];
        if at + 2 > end {
            return Err(Error::Corrupt {
                offset: at,
                reason: format!("a metadata block past the end of its table (byte {end})"),
            });
        }
        self.reader
            .read_exact_at(&mut header, at)
            .map_err(|source| Error::Read { offset: at, source })?;
        let word = u16::from_le_bytes(header);
        let stored = usize::from(word & 0x7fff);
        let compressed = word & 0x8000 == 0;
        let next = at + 2 + stored as u64;
        if stored == 0 || stored > METADATA_BLOCK || next > end {
            return Err(Error::Corrupt {
                offset: at,
                reason: format!("a metadata block of {stored} bytes"),
            });
        }
        let mut data = vec![0u8; stored];
        self.reader
            .read_exact_at(&mut data, at + 2)
            .map_err(|source| Error::Read {
                offset: at + 2,
                source,
            })?;
        if !compressed {
            return Ok((data, next));
        }
        let decoded = decompress(self.compressor, &data).map_err(|reason| Error::Corrupt {
            offset: at,
            reason: format!("a metadata block does not decode: {reason}"),
        })?;
        Ok((decoded, next))
    }
}

/// Sequential reads through consecutive metadata blocks.
struct Metadata<'a, R: ReadAt> {
    fs: &'a Squashfs<R>,
    next: u64,
    end: u64,
    block: Vec<u8>,
    pos: usize,
}

impl<'a, R: ReadAt> Metadata<'a, R> {
    fn new(fs: &'a Squashfs<R>, at: u64, end: u64, offset: u16) -> Result<Self> {
        let (block, next) = fs.metadata_block(at, end)?;
        if usize::from(offset) > block.len() {
            return Err(Error::Corrupt {
                offset: at,
                reason: format!(
                    "offset {offset} inside a metadata block of {} bytes",
                    block.len()
                ),
            });
        }
        Ok(Metadata {
            fs,
            next,
            end,
            block,
            pos: usize::from(offset),
        })
    }

    fn take(&mut self, len: usize) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(len.min(METADATA_BLOCK));
        while out.len() < len {
            if self.pos == self.block.len() {
                let (block, next) = self.fs.metadata_block(self.next, self.end)?;
                self.block = block;
                self.next = next;
                self.pos = 0;
            }
            let n = (len - out.len()).min(self.block.len() - self.pos);
            out.extend_from_slice(&self.block[self.pos..self.pos + n]);
            self.pos += n;
        }
        Ok(out)
    }
}

fn decompress(compressor: Compressor, data: &[u8]) -> std::result::Result<Vec<u8>, String> {
    let limit = METADATA_BLOCK as u64 + 1;
    let mut out = Vec::with_capacity(METADATA_BLOCK);
    match compressor {
        Compressor::Gzip => flate2::read::ZlibDecoder::new(data)
            .take(limit)
            .read_to_end(&mut out)
            .map(drop)
            .map_err(|e| e.to_string())?,
        Compressor::Xz | Compressor::Lzma => {
            let stream = if compressor == Compressor::Xz {
                liblzma::stream::Stream::new_stream_decoder(1 << 26, 0)
            } else {
                liblzma::stream::Stream::new_lzma_decoder(1 << 26)
            }
            .map_err(|e| format!("{e:?}"))?;
            liblzma::read::XzDecoder::new_stream(data, stream)
                .take(limit)
                .read_to_end(&mut out)
                .map(drop)
                .map_err(|e| e.to_string())?
        }
        Compressor::Lz4 => {
            out = lz4_flex::block::decompress(data, METADATA_BLOCK).map_err(|e| e.to_string())?
        }
        Compressor::Zstd => {
            out = zstd::bulk::decompress(data, METADATA_BLOCK).map_err(|e| e.to_string())?
        }
    }
    if out.len() > METADATA_BLOCK {
        return Err(format!("more than {METADATA_BLOCK} bytes"));
    }
    Ok(out)
}

fn le32(b: &[u8]) -> u32 {
    u32::from_le_bytes(b[..4].try_into().expect("4 bytes"))
}

/// The non-empty components of a path, `.` dropped.
fn components(path: &[u8]) -> Vec<Vec<u8>> {
    path.split(|&b| b == b'/')
        .filter(|c| !c.is_empty() && *c != b".")
        .map(<[u8]>::to_vec)
        .collect()
}
