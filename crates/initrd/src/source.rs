//! Positional reads over the image: a file on disk or bytes in memory.
//!
//! Parsing never seeks a shared cursor: every reader keeps its own offset, so one
//! [`crate::Initrd`] can serve several reads without re-opening the file.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::sync::Arc;

use crate::error::{Error, Result};

/// Where the image bytes live.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    File(Arc<File>, u64),
    Bytes(Arc<[u8]>),
}

impl Source {
    pub(crate) fn len(&self) -> u64 {
        match self {
            Source::File(_, len) => *len,
            Source::Bytes(b) => b.len() as u64,
        }
    }

    /// Fills as much of `buf` as the image has from `offset`; returns the count (short only at the end).
    pub(crate) fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize> {
        let avail = self.len().saturating_sub(offset);
        let want = (buf.len() as u64).min(avail) as usize;
        match self {
            Source::Bytes(b) => {
                let start = offset as usize;
                buf[..want].copy_from_slice(&b[start..start + want]);
                Ok(want)
            }
            Source::File(f, _) => {
                let mut done = 0;
                while done < want {
                    match f.read_at(&mut buf[done..want], offset + done as u64) {
                        Ok(0) => break,
                        Ok(n) => done += n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(source) => {
                            return Err(Error::Read {
                                offset: offset + done as u64,
                                source,
                            });
                        }
                    }
                }
                Ok(done)
            }
        }
    }

    /// Copies `len` bytes from `offset` to `out`.
    pub(crate) fn copy_to(&self, offset: u64, len: u64, out: &mut dyn io::Write) -> Result<()> {
        let mut buf = vec![0u8; CHUNK];
        let mut done = 0u64;
        while done < len {
            let n = ((len - done) as usize).min(CHUNK);
            let got = self.read_at(offset + done, &mut buf[..n])?;
            if got == 0 {
                return Err(Error::Read {
                    offset: offset + done,
                    source: io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "image shrank while reading",
                    ),
                });
            }
            out.write_all(&buf[..got]).map_err(Error::Write)?;
            done += got as u64;
        }
        Ok(())
    }
}

/// Size of the reads the decoders issue.
pub(crate) const CHUNK: usize = 256 * 1024;

/// A forward reader with a window over the image: `peek` and `consume`, like `BufRead`
/// but with an absolute position and no shared cursor.
pub(crate) struct Cursor<'a> {
    src: &'a Source,
    pos: u64,
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(src: &'a Source, pos: u64) -> Self {
        Cursor {
            src,
            pos,
            buf: vec![0; CHUNK],
            start: 0,
            end: 0,
        }
    }

    /// Absolute offset of the next unconsumed byte.
    pub(crate) fn pos(&self) -> u64 {
        self.pos
    }

    /// The buffered bytes from `pos` on; empty only at the end of the image.
    pub(crate) fn fill(&mut self) -> Result<&[u8]> {
        if self.start == self.end {
            let n = self.src.read_at(self.pos, &mut self.buf)?;
            self.start = 0;
            self.end = n;
        }
        Ok(&self.buf[self.start..self.end])
    }

    /// Moves to `pos`, keeping the buffered bytes when `pos` is inside them.
    pub(crate) fn seek(&mut self, pos: u64) {
        let buf_start = self.pos - self.start as u64;
        let buf_end = self.pos + (self.end - self.start) as u64;
        if pos >= buf_start && pos <= buf_end {
            self.start = (pos - buf_start) as usize;
        } else {
            self.start = 0;
            self.end = 0;
        }
        self.pos = pos;
    }

    pub(crate) fn consume(&mut self, n: usize) {
        debug_assert!(n <= self.end - self.start);
        self.start += n;
        self.pos += n as u64;
    }
}
