//! File contents by extent: [`Extent`] and [`IsoFile`] describe where a file's bytes are in
//! the image; [`read_file`] and [`ExtentReader`] read exactly those bytes with positioned
//! reads, never through a shared cursor and never beyond the file.

use std::io::{self, Read, Seek, SeekFrom};

use crate::error::IsoError;
use crate::source::ReadAt;

/// A contiguous run of a file's bytes in the image file.
///
/// Invariant (for extents in an [`IsoFile`] returned by this crate): `len > 0` and
/// `offset + len <= image length`, checked when the directory record was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Extent {
    /// Absolute byte offset in the image file (sector * 2048).
    pub offset: u64,
    /// Number of bytes.
    pub len: u64,
}

impl Extent {
    /// One past the last byte.
    pub fn end(&self) -> u64 {
        self.offset + self.len
    }
}

/// A regular file inside an image, located but not read.
///
/// Invariant (for values returned by this crate): `extents` are in file order, their
/// lengths sum to `size`, none is empty, each lies inside the image and no two overlap.
/// Multi-extent files (over 4 GiB, several directory records) come back as one `IsoFile`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IsoFile {
    /// Absolute path inside the image, `/`-separated, as found (Rock Ridge names preferred).
    pub path: String,
    /// File size in bytes.
    pub size: u64,
    /// Where the bytes are, in file order.
    pub extents: Vec<Extent>,
}

impl IsoFile {
    /// The byte offset of the file when it is stored in one contiguous run (including
    /// multi-extent files whose extents follow each other), for `copy_file_range`-style copies.
    pub fn contiguous_offset(&self) -> Option<u64> {
        let first = self.extents.first()?;
        let mut end = first.offset;
        for extent in &self.extents {
            if extent.offset != end {
                return None;
            }
            end = extent.end();
        }
        Some(first.offset)
    }

    fn check_invariant(&self) -> Result<(), IsoError> {
        let sum = self
            .extents
            .iter()
            .try_fold(0u64, |acc, e| acc.checked_add(e.len))
            .unwrap_or(u64::MAX);
        if sum != self.size
            || self
                .extents
                .iter()
                .any(|e| e.offset.checked_add(e.len).is_none())
        {
            return Err(IsoError::InvalidIsoFile {
                path: self.path.clone(),
                sum,
                size: self.size,
            });
        }
        Ok(())
    }
}

/// Reads a whole file into memory with positioned reads, refusing files over `max_len` bytes.
///
/// `image` is usually the [`std::fs::File`] the image was opened from (any [`ReadAt`] works).
pub fn read_file<R: ReadAt + ?Sized>(
    image: &R,
    file: &IsoFile,
    max_len: u64,
) -> Result<Vec<u8>, IsoError> {
    file.check_invariant()?;
    if file.size > max_len {
        return Err(IsoError::TooLarge {
            path: file.path.clone(),
            size: file.size,
            max: max_len,
        });
    }
    let size = usize::try_from(file.size).map_err(|_| IsoError::TooLarge {
        path: file.path.clone(),
        size: file.size,
        max: usize::MAX as u64,
    })?;
    let mut data = vec![0u8; size];
    let mut at = 0usize;
    for extent in &file.extents {
        let len = extent.len as usize;
        image
            .read_exact_at(&mut data[at..at + len], extent.offset)
            .map_err(|source| IsoError::Read {
                path: file.path.clone(),
                offset: extent.offset,
                len: extent.len,
                source,
            })?;
        at += len;
    }
    Ok(data)
}

/// Streams one file's bytes from the image: `impl Read + Seek` over its extents, using
/// positioned reads, so any number of readers can share one open image file.
///
/// `R` is typically `&File`, `Arc<File>` or `File`. A read that hits the end of the image
/// before the file is complete fails with [`io::ErrorKind::UnexpectedEof`] naming the path.
#[derive(Debug)]
pub struct ExtentReader<R> {
    source: R,
    path: String,
    extents: Vec<Extent>,
    size: u64,
    /// Position in the file (not the image). Invariant: `pos <= size` after every read;
    /// seeks may place it beyond, where reads return 0.
    pos: u64,
}

impl<R: ReadAt> ExtentReader<R> {
    /// A reader positioned at the start of `file`.
    pub fn new(source: R, file: &IsoFile) -> Result<Self, IsoError> {
        file.check_invariant()?;
        Ok(Self {
            source,
            path: file.path.clone(),
            extents: file.extents.clone(),
            size: file.size,
            pos: 0,
        })
    }

    /// The file's size in bytes.
    pub fn len(&self) -> u64 {
        self.size
    }

    /// True for an empty file.
    pub fn is_empty(&self) -> bool {
        self.size == 0
    }

    /// Bytes left to read from the current position.
    pub fn remaining(&self) -> u64 {
        self.size.saturating_sub(self.pos)
    }

    /// The source, for callers that want it back.
    pub fn into_inner(self) -> R {
        self.source
    }

    /// Maps the current position to (image offset, bytes left in that extent).
    fn locate(&self) -> Option<(u64, u64)> {
        let mut start = 0u64;
        for extent in &self.extents {
            if self.pos < start + extent.len {
                let within = self.pos - start;
                return Some((extent.offset + within, extent.len - within));
            }
            start += extent.len;
        }
        None
    }
}

impl<R: ReadAt> Read for ExtentReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let Some((offset, left)) = self.locate() else {
            return Ok(0);
        };
        let want = (buf.len() as u64).min(left) as usize;
        let n = loop {
            match self.source.read_at(&mut buf[..want], offset) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other?,
            }
        };
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "the image ends at byte {offset}, inside `{}` ({} of {} bytes read)",
                    self.path, self.pos, self.size
                ),
            ));
        }
        self.pos += n as u64;
        Ok(n)
    }
}

impl<R: ReadAt> Seek for ExtentReader<R> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let target = match pos {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.size.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        let target = target.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek to a negative or overflowing position",
            )
        })?;
        self.pos = target;
        Ok(target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> (Vec<u8>, IsoFile) {
        let image: Vec<u8> = (0..10_000u32).map(|i| (i % 253) as u8).collect();
        let file = IsoFile {
            path: "/f".into(),
            size: 300,
            extents: vec![
                Extent {
                    offset: 4096,
                    len: 100,
                },
                Extent {
                    offset: 100,
                    len: 200,
                },
            ],
        };
        (image, file)
    }

    #[test]
    fn read_file_concatenates_extents_and_caps() {
        let (image, file) = sample();
        let data = read_file(&image, &file, 300).unwrap();
        assert_eq!(&data[..100], &image[4096..4196]);
        assert_eq!(&data[100..], &image[100..300]);
        assert!(matches!(
            read_file(&image, &file, 299),
            Err(IsoError::TooLarge { .. })
        ));
    }

    #[test]
    fn extent_reader_reads_and_seeks() {
        let (image, file) = sample();
        let mut reader = ExtentReader::new(&image, &file).unwrap();
        let mut all = Vec::new();
        reader.read_to_end(&mut all).unwrap();
        assert_eq!(all, read_file(&image, &file, u64::MAX).unwrap());
        reader.seek(SeekFrom::Start(95)).unwrap();
        let mut ten = [0u8; 10];
        reader.read_exact(&mut ten).unwrap();
        assert_eq!(ten, all[95..105]);
        assert_eq!(reader.remaining(), 195);
    }

    #[test]
    fn truncated_image_is_an_error_not_a_short_file() {
        let (image, mut file) = sample();
        file.extents[1] = Extent {
            offset: 9_950,
            len: 200,
        };
        let mut reader = ExtentReader::new(&image, &file).unwrap();
        let err = reader.read_to_end(&mut Vec::new()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        assert!(matches!(
            read_file(&image, &file, u64::MAX),
            Err(IsoError::Read { .. })
        ));
    }

    #[test]
    fn broken_invariant_is_refused() {
        let (_, mut file) = sample();
        file.size = 301;
        assert!(matches!(
            ExtentReader::new(Vec::<u8>::new(), &file),
            Err(IsoError::InvalidIsoFile { .. })
        ));
    }

    #[test]
    fn contiguous_offset() {
        let mut file = IsoFile {
            path: "/f".into(),
            size: 4096,
            extents: vec![
                Extent {
                    offset: 2048,
                    len: 2048,
                },
                Extent {
                    offset: 4096,
                    len: 2048,
                },
            ],
        };
        assert_eq!(file.contiguous_offset(), Some(2048));
        file.extents[1].offset = 8192;
        assert_eq!(file.contiguous_offset(), None);
    }
}
