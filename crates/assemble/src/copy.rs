//! Copying with splitting and hashing in one pass.

use crate::{AssembleError, check_output_name};
use repack_core::{FileRole, ManifestFile, ManifestPart, Sha256Digest};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;

/// The largest part GitHub accepts with margin, as netboot.xyz cuts them: files above this
/// are split into parts of exactly this many bytes (the last one shorter).
pub const DEFAULT_PART_SIZE: u64 = 2_097_151_999;

/// Parts must be at least this big: smaller values are almost certainly a unit mistake.
const MIN_PART_SIZE: u64 = 1 << 20;

/// One read of this many bytes at a time: large enough for full disk throughput, small
/// enough that memory stays flat.
const BUFFER_SIZE: usize = 1 << 20;

/// Where a file's bytes come from: byte ranges of an image file, in order.
pub struct CopySource<'a> {
    pub image: &'a File,
    pub image_path: &'a Path,
    /// `(offset, len)` pairs; their lengths add up to the file's size.
    pub extents: &'a [(u64, u64)],
}

/// The stored name of part `index` (0-based) of `name`: `NAME`, `NAME.part2`, `NAME.part3`, …
pub fn part_name(name: &str, index: usize) -> String {
    if index == 0 {
        name.to_owned()
    } else {
        format!("{name}.part{}", index + 1)
    }
}

/// Copies the extents of `source` into `dir`, split into parts of at most `part_size` bytes,
/// hashing the whole file and each part as the bytes pass through.
pub fn copy_split(
    source: &CopySource<'_>,
    dir: &Path,
    name: &str,
    role: FileRole,
    part_size: u64,
) -> Result<ManifestFile, AssembleError> {
    check_output_name(name)?;
    if part_size < MIN_PART_SIZE {
        return Err(AssembleError::PartSizeTooSmall(part_size));
    }
    let total: u64 = source.extents.iter().map(|(_, len)| len).sum();
    let mut writer = SplitWriter::new(dir, name, part_size);
    let mut buffer = vec![0u8; BUFFER_SIZE];
    let mut copied = 0u64;
    for &(offset, len) in source.extents {
        let mut done = 0u64;
        while done < len {
            let want = (len - done).min(BUFFER_SIZE as u64) as usize;
            let got = source
                .image
                .read_at(&mut buffer[..want], offset + done)
                .map_err(|source_error| AssembleError::Io {
                    action: "cannot read",
                    path: source.image_path.to_owned(),
                    source: source_error,
                })?;
            if got == 0 {
                return Err(AssembleError::ShortSource {
                    name: name.to_owned(),
                    got: copied,
                    expected: total,
                });
            }
            writer.write(&buffer[..got])?;
            done += got as u64;
            copied += got as u64;
        }
    }
    writer.finish(role)
}

/// Copies everything `reader` yields into `dir/name` (never split), hashing it.
pub fn copy_stream(
    reader: &mut dyn Read,
    dir: &Path,
    name: &str,
    role: FileRole,
) -> Result<ManifestFile, AssembleError> {
    let mut output = OutputFile::create(dir, name)?;
    std::io::copy(reader, &mut output).map_err(|source| AssembleError::Io {
        action: "cannot copy into",
        path: dir.join(name),
        source,
    })?;
    output.finish(role)
}

/// A file being written by another stage (e.g. the patched initrd), hashed as it is written.
/// Implements [`Write`]; [`OutputFile::finish`] flushes it and describes it for the manifest.
pub struct OutputFile<'a> {
    inner: SplitWriter<'a>,
}

impl<'a> OutputFile<'a> {
    /// Creates `dir/name` (which must not exist yet).
    pub fn create(dir: &'a Path, name: &'a str) -> Result<Self, AssembleError> {
        check_output_name(name)?;
        let mut inner = SplitWriter::new(dir, name, u64::MAX);
        inner.open_part()?;
        Ok(OutputFile { inner })
    }

    /// Flushes the file to disk and returns its size and sha256.
    pub fn finish(self, role: FileRole) -> Result<ManifestFile, AssembleError> {
        self.inner.finish(role)
    }
}

impl Write for OutputFile<'_> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.inner.write(data).map_err(std::io::Error::other)?;
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Writes a stream into consecutive part files, hashing the whole and each part.
struct SplitWriter<'a> {
    dir: &'a Path,
    name: &'a str,
    part_size: u64,
    whole: Sha256,
    size: u64,
    parts: Vec<ManifestPart>,
    current: Option<OpenPart>,
}

struct OpenPart {
    file: BufWriter<File>,
    name: String,
    hash: Sha256,
    size: u64,
}

impl<'a> SplitWriter<'a> {
    fn new(dir: &'a Path, name: &'a str, part_size: u64) -> Self {
        SplitWriter {
            dir,
            name,
            part_size,
            whole: Sha256::new(),
            size: 0,
            parts: Vec::new(),
            current: None,
        }
    }

    fn write(&mut self, mut data: &[u8]) -> Result<(), AssembleError> {
        self.whole.update(data);
        self.size += data.len() as u64;
        while !data.is_empty() {
            if self.current.is_none() {
                self.open_part()?;
            }
            let part = self.current.as_mut().expect("a part is open");
            let room = (self.part_size - part.size).min(data.len() as u64) as usize;
            let (now, rest) = data.split_at(room);
            part.file
                .write_all(now)
                .map_err(|source| AssembleError::Io {
                    action: "cannot write",
                    path: self.dir.join(&part.name),
                    source,
                })?;
            part.hash.update(now);
            part.size += now.len() as u64;
            data = rest;
            if part.size == self.part_size {
                self.close_part()?;
            }
        }
        Ok(())
    }

    fn open_part(&mut self) -> Result<(), AssembleError> {
        let name = part_name(self.name, self.parts.len());
        let path = self.dir.join(&name);
        let file = File::options()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|source| AssembleError::Io {
                action: "cannot create",
                path,
                source,
            })?;
        self.current = Some(OpenPart {
            file: BufWriter::with_capacity(BUFFER_SIZE, file),
            name,
            hash: Sha256::new(),
            size: 0,
        });
        Ok(())
    }

    fn close_part(&mut self) -> Result<(), AssembleError> {
        if let Some(part) = self.current.take() {
            let flush_error = |source| AssembleError::Io {
                action: "cannot flush",
                path: self.dir.join(&part.name),
                source,
            };
            let file = part
                .file
                .into_inner()
                .map_err(|error| flush_error(error.into_error()))?;
            file.sync_all().map_err(flush_error)?;
            self.parts.push(ManifestPart {
                name: part.name,
                size: part.size,
                sha256: Sha256Digest::from_bytes(part.hash.finalize().into()),
            });
        }
        Ok(())
    }

    fn finish(mut self, role: FileRole) -> Result<ManifestFile, AssembleError> {
        // An empty file is still one (empty) part, so it is published and listed.
        if self.parts.is_empty() && self.current.is_none() {
            self.open_part()?;
        }
        self.close_part()?;
        Ok(ManifestFile {
            name: self.name.to_owned(),
            role,
            size: self.size,
            sha256: Sha256Digest::from_bytes(self.whole.finalize().into()),
            parts: self.parts,
        })
    }
}
