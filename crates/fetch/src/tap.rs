//! [`StreamTap`]: a second consumer of an ISO's bytes as they stream in, so work that needs
//! every byte (laying out and hashing the files inside the image) is done from the download
//! itself instead of from a second read of the finished file; and [`Claim`], with which a
//! tap takes over storing some of those bytes, so they are written to disk once.

use bytes::Bytes;
use std::path::PathBuf;

/// A byte range of the image that a tap stores itself: bytes `offset..offset + len` of the
/// image are bytes `file_offset..file_offset + len` of `file`.
///
/// The fetcher does not write claimed bytes into the partial ISO (it leaves a hole there;
/// they are still hashed), records the hole with its location in the checkpoint, and, when
/// a later process resumes the download, copies the bytes back from `file` before it
/// continues. A finished download with holes is a *hollow* ISO ([`FetchedIso::hollow`]).
///
/// [`FetchedIso::hollow`]: crate::FetchedIso::hollow
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub offset: u64,
    pub len: u64,
    pub file: PathBuf,
    pub file_offset: u64,
}

/// Sees the bytes of a [`fetch_iso_with_tap`](crate::Fetcher::fetch_iso_with_tap) download,
/// batch by batch, in file order, on a blocking thread of its own that runs while the same
/// batch is written and hashed (so a tap's CPU work overlaps the fetcher's).
///
/// `offset` is where `chunks` start in the file. Consecutive calls continue each other,
/// except when the transfer restarted from byte 0 (`offset == 0` again) or resumed a
/// partial download left by an earlier process (the first call's `offset` is then not 0):
/// a tap that needs every byte must notice both. It sees nothing when the ISO was cached.
///
/// A tap cannot fail the download by what it concludes: the caller gets it back with the
/// result and decides what it is worth, and may only trust it once the digest matched.
/// A tap that [claims](StreamTap::claims) bytes, however, must store them: its
/// [`sync`](StreamTap::sync) failing fails the download.
pub trait StreamTap: Send + 'static {
    fn observe(&mut self, offset: u64, chunks: &[Bytes]);

    /// The ranges this tap stores itself from now on (see [`Claim`]), sorted by offset and
    /// disjoint. Asked between batches, when the tap is idle; a claim must stay valid (and
    /// its bytes be written by the tap as they are observed) for the rest of the download,
    /// unless the download restarts from byte 0.
    fn claims(&self) -> Vec<Claim> {
        Vec::new()
    }

    /// Makes every claimed byte observed so far durable in its file. Called before each
    /// checkpoint records holes that point into those files.
    fn sync(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A [`StreamTap`] that ignores everything (what [`fetch_iso`](crate::Fetcher::fetch_iso) uses).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoTap;

impl StreamTap for NoTap {
    fn observe(&mut self, _offset: u64, _chunks: &[Bytes]) {}
}

/// Two taps seeing the same bytes (e.g. the root-image layout and a signature check): both
/// observe every batch, in order; both may claim ranges (their claims must not overlap) and
/// both are synced.
impl<A: StreamTap, B: StreamTap> StreamTap for (A, B) {
    fn observe(&mut self, offset: u64, chunks: &[Bytes]) {
        self.0.observe(offset, chunks);
        self.1.observe(offset, chunks);
    }

    fn claims(&self) -> Vec<Claim> {
        let mut claims = self.0.claims();
        claims.extend(self.1.claims());
        claims.sort_by_key(|claim| claim.offset);
        claims
    }

    fn sync(&mut self) -> std::io::Result<()> {
        self.0.sync()?;
        self.1.sync()
    }
}

/// A tap that may be absent (a check only some recipes need).
impl<T: StreamTap> StreamTap for Option<T> {
    fn observe(&mut self, offset: u64, chunks: &[Bytes]) {
        if let Some(tap) = self {
            tap.observe(offset, chunks);
        }
    }

    fn claims(&self) -> Vec<Claim> {
        self.as_ref().map(StreamTap::claims).unwrap_or_default()
    }

    fn sync(&mut self) -> std::io::Result<()> {
        self.as_mut().map_or(Ok(()), StreamTap::sync)
    }
}
