//! Copying with splitting and hashing in one pass, and [`SplitSink`], which does the same
//! for bytes pushed in as they arrive.

use crate::direct::DirectFile;
use crate::{AssembleError, check_output_name};
use repack_core::{FileRole, ManifestFile, ManifestPart, Sha256Digest};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

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
/// hashing each part as the bytes pass through.
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

/// Writes a stream into consecutive part files, hashing each part.
struct SplitWriter<'a> {
    dir: &'a Path,
    name: &'a str,
    part_size: u64,
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
            size: 0,
            parts: Vec::new(),
            current: None,
        }
    }

    fn write(&mut self, mut data: &[u8]) -> Result<(), AssembleError> {
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
                url: None,
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
        Ok(describe(self.name.to_owned(), role, self.size, self.parts))
    }
}

/// The manifest entry of a file stored as `parts`: a one-part file's digest is its part's;
/// a split file is described by its parts' digests alone.
fn describe(name: String, role: FileRole, size: u64, parts: Vec<ManifestPart>) -> ManifestFile {
    let sha256 = match parts.as_slice() {
        [only] => Some(only.sha256),
        _ => None,
    };
    ManifestFile {
        name,
        role,
        size,
        sha256,
        parts,
    }
}

/// A file of known size laid out as parts while its bytes arrive from elsewhere (a download),
/// in file order but in pieces of any size: each part's hash is computed as it is written.
///
/// The part files are created up front with `create_new`; [`SplitSink::discard`] removes
/// them. Each part is made durable once (`sync_all`) in `finish`.
pub struct SplitSink {
    dir: PathBuf,
    name: String,
    part_size: u64,
    size: u64,
    /// Bytes received so far.
    position: u64,
    parts: Vec<SinkPart>,
}

struct SinkPart {
    /// Written around the page cache: these bytes are not read again by this process.
    file: DirectFile,
    name: String,
    hash: Sha256,
    size: u64,
    /// `size` at the last [`SplitSink::sync`].
    synced: u64,
}

impl SplitSink {
    /// Creates the (empty) part files of a `size`-byte file called `name` in `dir`.
    pub fn create(
        dir: &Path,
        name: &str,
        size: u64,
        part_size: u64,
    ) -> Result<Self, AssembleError> {
        check_output_name(name)?;
        if part_size < MIN_PART_SIZE {
            return Err(AssembleError::PartSizeTooSmall(part_size));
        }
        let mut sink = SplitSink {
            dir: dir.to_owned(),
            name: name.to_owned(),
            part_size,
            size,
            position: 0,
            parts: Vec::new(),
        };
        for index in 0..size.div_ceil(part_size).max(1) as usize {
            let name = part_name(name, index);
            let path = dir.join(&name);
            let file = match DirectFile::create_new(&path) {
                Ok(file) => file,
                Err(source) => {
                    sink.discard();
                    return Err(AssembleError::Io {
                        action: "cannot create",
                        path,
                        source,
                    });
                }
            };
            sink.parts.push(SinkPart {
                file,
                name,
                hash: Sha256::new(),
                size: 0,
                synced: 0,
            });
        }
        Ok(sink)
    }

    /// Appends `data`, the file's next bytes, to the parts they belong in.
    pub fn write(&mut self, mut data: &[u8]) -> Result<(), AssembleError> {
        if self.position + data.len() as u64 > self.size {
            return Err(AssembleError::ShortSource {
                name: self.name.clone(),
                got: self.position + data.len() as u64,
                expected: self.size,
            });
        }
        while !data.is_empty() {
            let index = (self.position / self.part_size) as usize;
            let part = &mut self.parts[index];
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
            part.size += room as u64;
            self.position += room as u64;
            data = rest;
        }
        Ok(())
    }

    /// Checks that every byte arrived, makes each part durable and describes the file.
    pub fn finish(self, role: FileRole) -> Result<ManifestFile, AssembleError> {
        if self.position != self.size {
            let (name, got, expected) = (self.name.clone(), self.position, self.size);
            self.discard();
            return Err(AssembleError::ShortSource {
                name,
                got,
                expected,
            });
        }
        let mut parts = Vec::with_capacity(self.parts.len());
        for part in self.parts {
            part.file.finish().map_err(|source| AssembleError::Io {
                action: "cannot flush",
                path: self.dir.join(&part.name),
                source,
            })?;
            parts.push(ManifestPart {
                name: part.name,
                size: part.size,
                sha256: Sha256Digest::from_bytes(part.hash.finalize().into()),
                url: None,
            });
        }
        Ok(describe(self.name, role, self.size, parts))
    }

    /// Removes the part files created so far (best effort: they are in a staging directory
    /// that is deleted anyway if the build fails).
    pub fn discard(self) {
        for part in self.parts {
            part.file.abandon();
            let _ = std::fs::remove_file(self.dir.join(&part.name));
        }
    }

    /// The file's name (the first part's).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The directory the parts are in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where byte `position` of the file is stored: the part's path and the offset in it.
    pub fn location(&self, position: u64) -> (PathBuf, u64) {
        let index = (position / self.part_size) as usize;
        (
            self.dir.join(part_name(&self.name, index)),
            position % self.part_size,
        )
    }

    /// The largest part size, as given to [`SplitSink::create`].
    pub fn part_size(&self) -> u64 {
        self.part_size
    }

    /// Makes every byte written so far durable in its part.
    pub fn sync(&mut self) -> std::io::Result<()> {
        for part in &mut self.parts {
            if part.size != part.synced {
                part.file.sync()?;
                part.synced = part.size;
            }
        }
        Ok(())
    }
}
