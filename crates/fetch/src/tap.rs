//! [`StreamTap`]: a second consumer of an ISO's bytes as they stream in, so work that needs
//! every byte (hashing the files inside the image, for one) is done from the download
//! itself instead of from a second read of the finished file.

use bytes::Bytes;

/// Sees the bytes of a [`fetch_iso_with_tap`](crate::Fetcher::fetch_iso_with_tap) download,
/// batch by batch, in file order, on a blocking thread of its own that runs while the same
/// batch is written and hashed (so a tap's CPU work overlaps the fetcher's).
///
/// `offset` is where `chunks` start in the file. Consecutive calls continue each other,
/// except when the transfer restarted from byte 0 (`offset == 0` again) or resumed a
/// partial download left by an earlier process (the first call's `offset` is then not 0):
/// a tap that needs every byte must notice both. A tap is never told about bytes that were
/// not written to the partial file, and it sees nothing when the ISO was already cached.
///
/// A tap cannot fail the download: whatever it concludes, it keeps to itself, and the
/// caller gets it back with the result and decides what it is worth. It may only be trusted
/// once the download's digest matched.
pub trait StreamTap: Send + 'static {
    fn observe(&mut self, offset: u64, chunks: &[Bytes]);
}

/// A [`StreamTap`] that ignores everything (what [`fetch_iso`](crate::Fetcher::fetch_iso) uses).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoTap;

impl StreamTap for NoTap {
    fn observe(&mut self, _offset: u64, _chunks: &[Bytes]) {}
}
