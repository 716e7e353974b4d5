//! File contents by extent: [`Extent`] and [`IsoFile`] describe where a file's bytes are in
//! the image; [`read_file`] and [`ExtentReader`] read exactly those bytes with positioned
//! reads, never through a shared cursor and never beyond the file.
//!
//! A file whose Rock Ridge `ZF` entry marks it zisofs-compressed is stored compressed:
//! [`read_file`] and [`ExtentReader`] decode it (see `crate::zisofs`), while
//! [`IsoFile::extents`], the accessor for copying content byte for byte by extent, refuses
//! it with [`IsoError::Compressed`]. Its stored byte ranges are still available, for
//! questions about the image's layout only, from [`IsoFile::stored_extents`].

use std::io::{self, Read, Seek, SeekFrom};

use crate::error::IsoError;
use crate::parse::rock_ridge::ZfEntry;
use crate::source::ReadAt;
use crate::zisofs::Decoder;

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
/// Invariant (for values returned by this crate): the stored extents are in file order,
/// none is empty, each lies inside the image and no two overlap; their lengths sum to
/// `size` for a plain file, while for a compressed file `size` is the uncompressed size its
/// `ZF` entry declares. Multi-extent files (over 4 GiB, several directory records) come
/// back as one `IsoFile`.
///
/// The extents are private so that a compressed file's stored bytes cannot be mistaken for
/// its content: [`IsoFile::extents`] refuses them, [`IsoFile::stored_extents`] names them
/// for what they are.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IsoFile {
    /// Absolute path inside the image, `/`-separated, as found (Rock Ridge names preferred).
    pub path: String,
    /// Size of the file's content in bytes: what [`read_file`] returns (for a compressed
    /// file, the uncompressed size).
    pub size: u64,
    /// Where the stored bytes are, in file order.
    extents: Vec<Extent>,
    /// The Rock Ridge `ZF`/`Z2` entry of a compressed file.
    compression: Option<ZfEntry>,
}

impl IsoFile {
    /// A plain (uncompressed) file stored in `extents`, in file order; its size is their
    /// total. For files located by hand, e.g. in tests; [`crate::IsoImage::lookup`]
    /// returns the files of an image.
    pub fn new(path: impl Into<String>, extents: Vec<Extent>) -> Result<Self, IsoError> {
        let file = Self {
            path: path.into(),
            size: extents
                .iter()
                .fold(0u64, |acc, e| acc.saturating_add(e.len)),
            extents,
            compression: None,
        };
        file.check_invariant()?;
        Ok(file)
    }

    /// A file as found in a directory record: `extents` hold its stored bytes, compressed
    /// when `compression` is set.
    pub(crate) fn located(
        path: String,
        extents: Vec<Extent>,
        compression: Option<ZfEntry>,
    ) -> Self {
        let stored = extents.iter().map(|e| e.len).sum();
        let size = compression
            .and_then(|zf| zf.uncompressed_size)
            .unwrap_or(stored);
        Self {
            path,
            size,
            extents,
            compression,
        }
    }

    /// Where the file's content lies in the image, byte for byte, in file order: for
    /// copying it by extent (`copy_file_range`, splitting into parts, streaming).
    ///
    /// Fails with [`IsoError::Compressed`] for a compressed file, whose extents hold its
    /// compressed form: read it with [`read_file`] or [`ExtentReader`], which decode it.
    pub fn extents(&self) -> Result<&[Extent], IsoError> {
        match &self.compression {
            None => Ok(&self.extents),
            Some(zf) => Err(IsoError::Compressed {
                path: self.path.clone(),
                algorithm: zf.algorithm_name(),
            }),
        }
    }

    /// Where the file's stored bytes lie in the image, compressed or not: for questions
    /// about the image's layout (which byte ranges belong to which file, overlaps), never
    /// as the file's content.
    pub fn stored_extents(&self) -> &[Extent] {
        &self.extents
    }

    /// Bytes the file occupies in the image (its compressed size when compressed).
    pub fn stored_size(&self) -> u64 {
        self.extents.iter().map(|e| e.len).sum()
    }

    /// The Rock Ridge compression entry (`ZF`, zisofs) when the file is stored compressed.
    pub fn compression(&self) -> Option<&ZfEntry> {
        self.compression.as_ref()
    }

    /// True when the file is stored compressed (its extents are not its content).
    pub fn is_compressed(&self) -> bool {
        self.compression.is_some()
    }

    /// The byte offset of the file's content when it is stored in one contiguous run
    /// (including multi-extent files whose extents follow each other), for
    /// `copy_file_range`-style copies. `None` when it is not, and for a compressed file.
    pub fn contiguous_offset(&self) -> Option<u64> {
        let extents = self.extents().ok()?;
        let first = extents.first()?;
        let mut end = first.offset;
        for extent in extents {
            if extent.offset != end {
                return None;
            }
            end = extent.end();
        }
        Some(first.offset)
    }

    fn check_invariant(&self) -> Result<(), IsoError> {
        let stored = self
            .extents
            .iter()
            .try_fold(0u64, |acc, e| acc.checked_add(e.len))
            .unwrap_or(u64::MAX);
        let promised = self
            .compression
            .and_then(|zf| zf.uncompressed_size)
            .unwrap_or(stored);
        if promised != self.size
            || self
                .extents
                .iter()
                .any(|e| e.offset.checked_add(e.len).is_none())
        {
            return Err(IsoError::InvalidIsoFile {
                path: self.path.clone(),
                sum: promised,
                size: self.size,
            });
        }
        Ok(())
    }
}

/// Fills `buf` from byte `pos` of a file's stored form, across its extents.
pub(crate) fn read_stored<R: ReadAt + ?Sized>(
    image: &R,
    path: &str,
    extents: &[Extent],
    mut pos: u64,
    mut buf: &mut [u8],
) -> Result<(), IsoError> {
    let mut start = 0u64;
    for extent in extents {
        if buf.is_empty() {
            return Ok(());
        }
        let end = start.saturating_add(extent.len);
        if pos < end {
            let within = pos - start;
            let n = (extent.len - within).min(buf.len() as u64) as usize;
            let offset = extent.offset + within;
            let (now, rest) = buf.split_at_mut(n);
            image
                .read_exact_at(now, offset)
                .map_err(|source| IsoError::Read {
                    path: path.to_owned(),
                    offset,
                    len: n as u64,
                    source,
                })?;
            buf = rest;
            pos += n as u64;
        }
        start = end;
    }
    if buf.is_empty() {
        return Ok(());
    }
    Err(IsoError::Read {
        path: path.to_owned(),
        offset: pos,
        len: buf.len() as u64,
        source: io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("byte {pos} of the stored file is past its extents"),
        ),
    })
}

/// Reads a whole file into memory with positioned reads, refusing files over `max_len` bytes.
/// A compressed file is decoded, and `max_len` caps its uncompressed size.
///
/// `image` is usually the [`std::fs::File`] the image was opened from (any [`ReadAt`] works).
pub fn read_file<R: ReadAt + ?Sized>(
    image: &R,
    file: &IsoFile,
    max_len: u64,
) -> Result<Vec<u8>, IsoError> {
    file.check_invariant()?;
    // An unsupported or corrupt compressed form is reported as such, not as a size problem;
    // opening reads only the header and pointer table.
    let decoder = match &file.compression {
        Some(zf) => Some(Decoder::open(image, &file.path, &file.extents, zf)?),
        None => None,
    };
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
    match decoder {
        Some(decoder) => decoder.decode_all(image, &file.path, &file.extents, &mut data)?,
        None => read_stored(image, &file.path, &file.extents, 0, &mut data)?,
    }
    Ok(data)
}

/// Streams one file's bytes from the image: `impl Read + Seek` over its extents, using
/// positioned reads, so any number of readers can share one open image file. A compressed
/// file is decoded one block at a time (its header and pointer table are checked by
/// [`ExtentReader::new`]).
///
/// `R` is typically `&File`, `Arc<File>` or `File`. A read that hits the end of the image
/// before the file is complete fails with [`io::ErrorKind::UnexpectedEof`] naming the path;
/// a block that does not decode fails with [`io::ErrorKind::InvalidData`] wrapping the
/// [`IsoError`].
#[derive(Debug)]
pub struct ExtentReader<R> {
    source: R,
    path: String,
    extents: Vec<Extent>,
    size: u64,
    /// Position in the file (not the image). Invariant: `pos <= size` after every read;
    /// seeks may place it beyond, where reads return 0.
    pos: u64,
    /// The decoder of a compressed file and the block it decoded last.
    inflating: Option<Box<Inflating>>,
}

/// Decoding state of an [`ExtentReader`] over a compressed file.
struct Inflating {
    decoder: Decoder,
    /// Which block `data` holds. Invariant: when `Some(b)`, `data` is block `b` decoded.
    block: Option<u64>,
    data: Vec<u8>,
    /// The compressed bytes of the block being decoded.
    scratch: Vec<u8>,
}

impl std::fmt::Debug for Inflating {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inflating")
            .field("layout", self.decoder.layout())
            .field("block", &self.block)
            .finish_non_exhaustive()
    }
}

impl<R: ReadAt> ExtentReader<R> {
    /// A reader positioned at the start of `file`. For a compressed file this reads and
    /// checks its header and block pointer table.
    pub fn new(source: R, file: &IsoFile) -> Result<Self, IsoError> {
        file.check_invariant()?;
        let inflating = match &file.compression {
            Some(zf) => Some(Box::new(Inflating {
                decoder: Decoder::open(&source, &file.path, &file.extents, zf)?,
                block: None,
                data: Vec::new(),
                scratch: Vec::new(),
            })),
            None => None,
        };
        Ok(Self {
            source,
            path: file.path.clone(),
            extents: file.extents.clone(),
            size: file.size,
            pos: 0,
            inflating,
        })
    }

    /// The file's size in bytes (uncompressed).
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

    /// Reads from the decoded block holding the current position, decoding it first.
    fn read_decoded(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Self {
            source,
            path,
            extents,
            size,
            pos,
            inflating,
        } = self;
        let Some(state) = inflating.as_deref_mut() else {
            return Ok(0);
        };
        if *pos >= *size {
            return Ok(0);
        }
        let log2 = state.decoder.layout().block_size_log2;
        let block = *pos >> log2;
        if state.block != Some(block) {
            state.block = None;
            let len = state.decoder.layout().block_len(block) as usize;
            state.data.resize(len, 0);
            state
                .decoder
                .decode_block(
                    &*source,
                    path,
                    extents,
                    block,
                    &mut state.scratch,
                    &mut state.data,
                )
                .map_err(|error| {
                    let kind = match &error {
                        IsoError::Read { source, .. } => source.kind(),
                        _ => io::ErrorKind::InvalidData,
                    };
                    io::Error::new(kind, error)
                })?;
            state.block = Some(block);
        }
        let within = (*pos - (block << log2)) as usize;
        let n = (state.data.len() - within).min(buf.len());
        buf[..n].copy_from_slice(&state.data[within..within + n]);
        *pos += n as u64;
        Ok(n)
    }
}

impl<R: ReadAt> Read for ExtentReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.inflating.is_some() {
            return self.read_decoded(buf);
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
        let file = IsoFile::new(
            "/f",
            vec![
                Extent {
                    offset: 4096,
                    len: 100,
                },
                Extent {
                    offset: 100,
                    len: 200,
                },
            ],
        )
        .unwrap();
        assert_eq!(file.size, 300);
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
        let overflowing = vec![Extent {
            offset: u64::MAX,
            len: 1,
        }];
        assert!(matches!(
            IsoFile::new("/f", overflowing),
            Err(IsoError::InvalidIsoFile { .. })
        ));
    }

    #[test]
    fn a_plain_file_hands_out_its_extents() {
        let (_, file) = sample();
        assert!(!file.is_compressed());
        assert_eq!(file.extents().unwrap(), file.stored_extents());
        assert_eq!(file.stored_size(), 300);
    }

    #[test]
    fn contiguous_offset() {
        let mut file = IsoFile::new(
            "/f",
            vec![
                Extent {
                    offset: 2048,
                    len: 2048,
                },
                Extent {
                    offset: 4096,
                    len: 2048,
                },
            ],
        )
        .unwrap();
        assert_eq!(file.contiguous_offset(), Some(2048));
        file.extents[1].offset = 8192;
        assert_eq!(file.contiguous_offset(), None);
    }
}
