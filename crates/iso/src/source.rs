//! Where image bytes come from: the [`ReadAt`] trait (positioned reads, no shared cursor)
//! and [`BlockReader`], the small read-through cache that adapts a `ReadAt` source to the
//! `Read + Seek` cursor hadris-iso wants.
//!
//! Positioned reads let several readers share one open `File` without seeking it, so an
//! [`crate::ExtentReader`] can stream a rootfs while another thread lists a directory.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::sync::Arc;

/// A source of image bytes addressed by absolute offset.
///
/// Implemented for [`File`] (`pread`), byte slices and vectors (in-memory images, fuzzing),
/// and for references and `Arc`s of those.
pub trait ReadAt {
    /// Reads up to `buf.len()` bytes starting at `offset`; returns 0 only at the end.
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize>;

    /// The total length of the source in bytes.
    fn size(&self) -> io::Result<u64>;

    /// Fills `buf` from `offset`, or fails with [`io::ErrorKind::UnexpectedEof`].
    fn read_exact_at(&self, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
        while !buf.is_empty() {
            match self.read_at(buf, offset) {
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!("image ends before byte {offset}"),
                    ));
                }
                Ok(n) => {
                    buf = &mut buf[n..];
                    offset += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

impl ReadAt for File {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        std::os::unix::fs::FileExt::read_at(self, buf, offset)
    }

    fn size(&self) -> io::Result<u64> {
        Ok(self.metadata()?.len())
    }
}

impl ReadAt for [u8] {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let Ok(start) = usize::try_from(offset) else {
            return Ok(0);
        };
        let Some(available) = self.get(start..) else {
            return Ok(0);
        };
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        Ok(n)
    }

    fn size(&self) -> io::Result<u64> {
        Ok(self.len() as u64)
    }
}

impl ReadAt for Vec<u8> {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        self.as_slice().read_at(buf, offset)
    }

    fn size(&self) -> io::Result<u64> {
        Ok(self.len() as u64)
    }
}

impl<T: ReadAt + ?Sized> ReadAt for &T {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        (**self).read_at(buf, offset)
    }

    fn size(&self) -> io::Result<u64> {
        (**self).size()
    }
}

impl<T: ReadAt + ?Sized> ReadAt for Arc<T> {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        (**self).read_at(buf, offset)
    }

    fn size(&self) -> io::Result<u64> {
        (**self).size()
    }
}

/// Size of the cached window. Directory records are parsed a few bytes at a time with a
/// seek before each, so without a window that survives seeks every record costs syscalls.
const WINDOW: usize = 64 * 1024;

/// A `Read + Seek` view of a [`ReadAt`] source with one cached window.
///
/// Invariant: `window[..window_len]` holds the bytes at `window_start..window_start +
/// window_len`; `len` is the source length captured at construction (the image is not
/// expected to change while open; reads past it return 0).
pub(crate) struct BlockReader<S> {
    source: S,
    len: u64,
    pos: u64,
    window: Box<[u8]>,
    window_start: u64,
    window_len: usize,
}

impl<S: ReadAt> BlockReader<S> {
    pub(crate) fn new(source: S, len: u64) -> Self {
        Self {
            source,
            len,
            pos: 0,
            window: vec![0; WINDOW].into_boxed_slice(),
            window_start: 0,
            window_len: 0,
        }
    }

    fn fill(&mut self) -> io::Result<()> {
        let start = self.pos - self.pos % 2048;
        let want = (self.len - start).min(WINDOW as u64) as usize;
        let mut filled = 0;
        while filled < want {
            match self
                .source
                .read_at(&mut self.window[filled..want], start + filled as u64)
            {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.window_len = 0;
                    return Err(e);
                }
            }
        }
        self.window_start = start;
        self.window_len = filled;
        Ok(())
    }
}

impl<S: ReadAt> Read for BlockReader<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() || self.pos >= self.len {
            return Ok(0);
        }
        let in_window =
            self.pos >= self.window_start && self.pos < self.window_start + self.window_len as u64;
        if !in_window {
            // Large reads bypass the window.
            if buf.len() >= WINDOW {
                let n = self.source.read_at(buf, self.pos)?;
                self.pos += n as u64;
                return Ok(n);
            }
            self.fill()?;
            if self.window_len == 0 || self.pos >= self.window_start + self.window_len as u64 {
                return Ok(0);
            }
        }
        let at = (self.pos - self.window_start) as usize;
        let n = (self.window_len - at).min(buf.len());
        buf[..n].copy_from_slice(&self.window[at..at + n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl<S: ReadAt> Seek for BlockReader<S> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let target = match pos {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        match target {
            Some(p) => {
                self.pos = p;
                Ok(p)
            }
            None => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek to a negative or overflowing position",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_reader_reads_across_windows_and_seeks() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let mut reader = BlockReader::new(&data, data.len() as u64);
        let mut buf = vec![0; 70_000];
        reader.seek(SeekFrom::Start(1000)).unwrap();
        reader.read_exact(&mut buf).unwrap();
        assert_eq!(buf, data[1000..71_000]);
        reader.seek(SeekFrom::End(-10)).unwrap();
        let mut tail = Vec::new();
        reader.read_to_end(&mut tail).unwrap();
        assert_eq!(tail, data[data.len() - 10..]);
        assert!(reader.seek(SeekFrom::Current(-1_000_000)).is_err());
    }
}
