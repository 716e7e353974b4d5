//! Positional reads over the image: a file on disk, pieces of a larger file (an initrd inside
//! an ISO image), bytes in memory, or an image followed by an appendix held in memory.
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
    /// The concatenation of `(offset, len)` extents of a file.
    Region(Arc<File>, Arc<[(u64, u64)]>, u64),
    Bytes(Arc<[u8]>),
    /// An image followed by bytes in memory: a base and what is appended to it.
    Appended(Arc<Source>, Arc<[u8]>),
}

impl Source {
    pub(crate) fn len(&self) -> u64 {
        match self {
            Source::File(_, len) | Source::Region(_, _, len) => *len,
            Source::Bytes(b) => b.len() as u64,
            Source::Appended(base, tail) => base.len() + tail.len() as u64,
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
            Source::File(f, _) => read_file_at(f, offset, offset, &mut buf[..want]),
            Source::Region(f, extents, _) => {
                let mut done = 0;
                let mut start = 0u64;
                for &(at, len) in extents.iter() {
                    let pos = offset + done as u64;
                    if done == want {
                        break;
                    }
                    if pos < start + len {
                        let skip = pos - start;
                        let n = ((len - skip) as usize).min(want - done);
                        let got = read_file_at(f, at + skip, pos, &mut buf[done..done + n])?;
                        done += got;
                        if got < n {
                            break;
                        }
                    }
                    start += len;
                }
                Ok(done)
            }
            Source::Appended(base, tail) => {
                let base_len = base.len();
                let mut done = 0;
                if offset < base_len {
                    done = base.read_at(offset, &mut buf[..want])?;
                    if (done as u64) < (base_len - offset).min(want as u64) {
                        return Ok(done);
                    }
                }
                if done < want {
                    let from = (offset + done as u64 - base_len) as usize;
                    let n = want - done;
                    buf[done..want].copy_from_slice(&tail[from..from + n]);
                    done = want;
                }
                Ok(done)
            }
        }
    }

    /// Copies bytes `offset..offset + len` of the image into `out` at `out_offset`, in the
    /// kernel where it can.
    pub(crate) fn copy_to_file_range(
        &self,
        offset: u64,
        len: u64,
        out: &File,
        out_offset: u64,
    ) -> Result<()> {
        match self {
            Source::File(f, _) => copy_file_range(f, offset, out, out_offset, len),
            Source::Region(f, extents, _) => {
                let (mut start, mut at, end) = (0u64, out_offset, offset + len);
                for &(file_offset, extent_len) in extents.iter() {
                    let from = offset.max(start);
                    let to = end.min(start + extent_len);
                    if from < to {
                        copy_file_range(f, file_offset + (from - start), out, at, to - from)?;
                        at += to - from;
                    }
                    start += extent_len;
                }
                Ok(())
            }
            Source::Bytes(b) => {
                let range = slice_range(offset, len, b.len())?;
                out.write_all_at(&b[range], out_offset)
                    .map_err(Error::Write)
            }
            Source::Appended(base, tail) => {
                let base_len = base.len();
                let in_base = len.min(base_len.saturating_sub(offset));
                if in_base > 0 {
                    base.copy_to_file_range(offset, in_base, out, out_offset)?;
                }
                let tail_offset = (offset + in_base).saturating_sub(base_len);
                let range = slice_range(tail_offset, len - in_base, tail.len())?;
                out.write_all_at(&tail[range], out_offset + in_base)
                    .map_err(Error::Write)
            }
        }
    }

    /// Copies the whole image into `out` at `out_offset`, in the kernel where it can
    /// (`copy_file_range`: no trip through user space, a reflink on filesystems that share
    /// extents). Returns the number of bytes copied.
    pub(crate) fn copy_to_file(&self, out: &File, out_offset: u64) -> Result<u64> {
        self.copy_to_file_range(0, self.len(), out, out_offset)?;
        Ok(self.len())
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

/// The `offset..offset + len` range of a buffer of `have` bytes, or the error of a read past
/// its end.
fn slice_range(offset: u64, len: u64, have: usize) -> Result<std::ops::Range<usize>> {
    match offset.checked_add(len) {
        Some(end) if end <= have as u64 => Ok(offset as usize..end as usize),
        _ => Err(Error::Read {
            offset: have as u64,
            source: io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "read past the end of the image",
            ),
        }),
    }
}

/// `pread` until `buf` is full or the file ends; `image_offset` names the place in errors.
fn read_file_at(f: &File, file_offset: u64, image_offset: u64, buf: &mut [u8]) -> Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match f.read_at(&mut buf[done..], file_offset + done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(source) => {
                return Err(Error::Read {
                    offset: image_offset + done as u64,
                    source,
                });
            }
        }
    }
    Ok(done)
}

/// Copies `len` bytes between positions of two files with `copy_file_range(2)`, falling back
/// to reads and writes where the kernel or the filesystems cannot (another device, old
/// kernels, special files).
fn copy_file_range(
    from: &File,
    from_offset: u64,
    to: &File,
    to_offset: u64,
    len: u64,
) -> Result<()> {
    use std::os::fd::AsRawFd;
    let (mut off_in, mut off_out) = (from_offset as libc::loff_t, to_offset as libc::loff_t);
    let mut left = len;
    while left > 0 {
        let chunk = left.min(1 << 30) as usize;
        // SAFETY: both descriptors are open for the duration of the call and the offset
        // pointers point at live locals; the kernel reads and updates nothing else.
        let n = unsafe {
            libc::copy_file_range(
                from.as_raw_fd(),
                &mut off_in,
                to.as_raw_fd(),
                &mut off_out,
                chunk,
                0,
            )
        };
        if n > 0 {
            left -= n as u64;
            continue;
        }
        if n == 0 {
            return Err(Error::Read {
                offset: off_in as u64 - from_offset,
                source: io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the image shrank while it was copied",
                ),
            });
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::EXDEV | libc::ENOSYS | libc::EINVAL | libc::EOPNOTSUPP | libc::EBADF) => {
                return copy_by_hand(from, off_in as u64, to, off_out as u64, left, from_offset);
            }
            _ => return Err(Error::Write(e)),
        }
    }
    Ok(())
}

fn copy_by_hand(
    from: &File,
    mut at: u64,
    to: &File,
    mut out: u64,
    len: u64,
    origin: u64,
) -> Result<()> {
    let mut buf = vec![0u8; CHUNK];
    let end = at + len;
    while at < end {
        let n = ((end - at) as usize).min(CHUNK);
        let got = read_file_at(from, at, at - origin, &mut buf[..n])?;
        if got == 0 {
            return Err(Error::Read {
                offset: at - origin,
                source: io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the image shrank while it was copied",
                ),
            });
        }
        to.write_all_at(&buf[..got], out).map_err(Error::Write)?;
        at += got as u64;
        out += got as u64;
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn file_with(bytes: &[u8]) -> (tempfile::TempDir, File) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, bytes).unwrap();
        let f = File::options().read(true).write(true).open(&path).unwrap();
        (dir, f)
    }

    #[test]
    fn both_copies_move_the_same_bytes_between_offsets() {
        let data: Vec<u8> = (0..3 * CHUNK as u32 + 17)
            .map(|i| (i % 251) as u8)
            .collect();
        let (_a, from) = file_with(&data);
        for by_hand in [false, true] {
            let (_b, to) = file_with(b"head");
            let (skip, len) = (5u64, data.len() as u64 - 9);
            if by_hand {
                copy_by_hand(&from, skip, &to, 4, len, 0).unwrap();
            } else {
                copy_file_range(&from, skip, &to, 4, len).unwrap();
            }
            let mut got = vec![0u8; 4 + len as usize];
            to.read_exact_at(&mut got, 0).unwrap();
            assert_eq!(&got[..4], b"head");
            assert_eq!(&got[4..], &data[5..data.len() - 4], "by hand: {by_hand}");
        }
    }

    #[test]
    fn copies_fail_when_the_source_is_shorter_than_announced() {
        let (_a, from) = file_with(&[1; 100]);
        let (_b, to) = file_with(b"");
        for e in [
            copy_file_range(&from, 0, &to, 0, 200).unwrap_err(),
            copy_by_hand(&from, 0, &to, 0, 200, 0).unwrap_err(),
        ] {
            let Error::Read { offset, source } = e else {
                panic!("not a read error: {e}")
            };
            assert_eq!(offset, 100);
            assert!(source.to_string().contains("shrank"), "{source}");
        }
    }

    #[test]
    fn reads_span_extents_and_the_appended_tail() {
        let (_a, f) = file_with(b"xxABCyyDEFGzz");
        let region = Source::Region(Arc::new(f), vec![(2, 3), (7, 4)].into(), 7);
        let mut buf = [0u8; 7];
        assert_eq!(region.read_at(0, &mut buf).unwrap(), 7);
        assert_eq!(&buf, b"ABCDEFG");
        let mut buf = [0u8; 4];
        assert_eq!(region.read_at(2, &mut buf).unwrap(), 4);
        assert_eq!(&buf, b"CDEF");
        let appended = Source::Appended(Arc::new(region), b"12345".to_vec().into());
        let mut buf = [0u8; 20];
        assert_eq!(appended.read_at(5, &mut buf).unwrap(), 7);
        assert_eq!(&buf[..7], b"FG12345");
    }
}
