//! Laying out the root images from the download stream (core decision 9: each byte is
//! written once).
//!
//! [`RootfsTap`] is the [`StreamTap`] of an ISO download. It keeps the first bytes of the
//! image until the volume descriptors and directory records are in (they sit at the start
//! of every ISO 9660 image), resolves the recipe's rootfs paths with `repack-iso`, and from
//! then on writes every byte of those files, as it streams past, into its part
//! ([`SplitSink`]: direct writes, each part hashed) in the fetcher's stream directory. It [claims](StreamTap::claims) those ranges, so
//! the fetcher leaves them out of the stored ISO (a hollow ISO) and a root image reaches
//! the disk once, in its published form. At each checkpoint it makes its parts durable
//! first, so a resume in a later process can fill the ISO's holes back from them.
//!
//! Decision 5 holds: the parts stay in the download cache's stream directory until the
//! whole ISO's sha256 matched; they are moved into the staging directory only for files
//! whose extents, resolved again from the verified image, are exactly those the tap
//! followed (the build refuses a hollow ISO it cannot complete that way; nothing is
//! published). The tap gives up, and the build copies from the verified ISO as before, when
//! the download continued a partial file left by an earlier process (the fetcher has filled
//! the holes back by then), when the directory tree is not within [`PREFIX_LIMIT`], when the
//! files' extents are not in stream order, or on a write error.

use crate::SplitSink;
use bytes::Bytes;
use repack_fetch::{Claim, StreamTap};
use repack_iso::parse::volume_descriptor::{
    self as vd, Descriptor, FIRST_DESCRIPTOR_SECTOR, SECTOR_SIZE,
};
use repack_iso::{Iso, IsoFile, IsoImage, Limits, ReadAt};
use std::io;
use std::path::PathBuf;

/// The directory tree must be readable from this many leading bytes, or streaming gives up.
/// Real live ISOs need well under 1 MiB (xorriso writes all directories before file data).
pub const PREFIX_LIMIT: usize = 16 << 20;
/// A parse of the prefix is attempted each time it has grown by this much.
const PARSE_STEP: usize = 1 << 20;

/// See the module documentation.
pub struct RootfsTap {
    patterns: Vec<String>,
    part_size: u64,
    dir: PathBuf,
    /// Bytes of the file seen so far, from byte 0 without a gap.
    seen: u64,
    state: State,
}

enum State {
    /// Collecting the start of the image until its directory tree can be read.
    Prefix {
        bytes: Vec<u8>,
        tried_at: usize,
    },
    Hashing(Plan),
    /// Streaming does not apply to this download; the reason is logged.
    GaveUp(String),
}

/// One root image, laid out from the download.
pub struct StreamedFile {
    /// The file as resolved from the image's first bytes.
    pub source: IsoFile,
    /// Its parts in the staging directory, every byte written and hashed.
    pub sink: SplitSink,
}

impl RootfsTap {
    /// A tap that lays the root images named by `patterns` out in `dir` (the fetcher's
    /// [`stream_dir`](repack_fetch::Fetcher::stream_dir)), split into parts of `part_size`
    /// bytes.
    pub fn new(patterns: Vec<String>, part_size: u64, dir: PathBuf) -> Self {
        RootfsTap {
            patterns,
            part_size,
            dir,
            seen: 0,
            state: State::Prefix {
                bytes: Vec::new(),
                tried_at: 0,
            },
        }
    }

    /// The digests of every root image (in recipe order), if the tap saw all `iso_size`
    /// bytes of the download and could follow it; otherwise why not.
    pub fn finish(self, iso_size: u64) -> Result<Vec<StreamedFile>, String> {
        let plan = match self.state {
            State::Hashing(plan) => plan,
            State::GaveUp(reason) => return Err(reason),
            State::Prefix { bytes, .. } => {
                return Err(format!(
                    "the directory tree could not be read from the first {} bytes",
                    bytes.len()
                ));
            }
        };
        if self.seen != iso_size || plan.next != plan.segments.len() {
            let reason = format!("saw {} of {iso_size} bytes of the download", self.seen);
            plan.discard();
            return Err(reason);
        }
        Ok(plan.finish())
    }

    /// Stops following the download: its files are removed, the reason kept.
    fn give_up(&mut self, reason: String) {
        let previous = std::mem::replace(&mut self.state, State::GaveUp(reason));
        if let State::Hashing(plan) = previous {
            plan.discard();
        }
    }

    fn feed(&mut self, chunk: &[u8]) {
        match &mut self.state {
            State::Prefix { bytes, tried_at } => {
                bytes.extend_from_slice(chunk);
                if bytes.len() - *tried_at < PARSE_STEP && bytes.len() < PREFIX_LIMIT {
                    return;
                }
                *tried_at = bytes.len();
                let plan = match Plan::locate(bytes, &self.patterns, self.part_size) {
                    Ok(plan) => plan,
                    Err(_) if bytes.len() < PREFIX_LIMIT => return,
                    Err(reason) => {
                        let reason = format!(
                            "the first {} bytes of the image do not locate the root images: {reason}",
                            bytes.len()
                        );
                        return self.give_up(reason);
                    }
                };
                let prefix = std::mem::take(bytes);
                let result = plan
                    .create(&self.dir)
                    .and_then(|mut plan| plan.feed(0, &[Bytes::from(prefix)]).map(|()| plan));
                match result {
                    Ok(plan) => {
                        tracing::debug!("root images located in the download stream");
                        self.state = State::Hashing(plan);
                    }
                    Err(reason) => self.give_up(reason),
                }
            }
            State::Hashing(_) | State::GaveUp(_) => {}
        }
    }
}

impl StreamTap for RootfsTap {
    /// Every byte of the root images, once they are located: the fetcher leaves them out of
    /// the stored ISO, so they are written once, into their parts.
    fn claims(&self) -> Vec<Claim> {
        match &self.state {
            State::Hashing(plan) => plan.claims.clone(),
            _ => Vec::new(),
        }
    }

    fn sync(&mut self) -> io::Result<()> {
        match &mut self.state {
            State::Hashing(plan) => plan.sinks.iter_mut().try_for_each(SplitSink::sync),
            // Claims end only with a restart from byte 0, which clears the holes.
            _ => Ok(()),
        }
    }

    fn observe(&mut self, offset: u64, chunks: &[Bytes]) {
        if offset != self.seen {
            if offset == 0 {
                self.give_up(String::new());
                self.state = State::Prefix {
                    bytes: Vec::new(),
                    tried_at: 0,
                };
            } else {
                self.give_up(format!(
                    "the download continued a partial file at byte {offset}; \
                     the bytes before it were not seen"
                ));
            }
            self.seen = offset;
        }
        let mut rest = chunks;
        while let Some((chunk, tail)) = rest.split_first() {
            if let State::Hashing(plan) = &mut self.state {
                // The rest of the batch at once, so its two hashes can run on two threads.
                let len: u64 = rest.iter().map(|chunk| chunk.len() as u64).sum();
                if let Err(reason) = plan.feed(self.seen, rest) {
                    self.give_up(reason);
                }
                self.seen += len;
                return;
            }
            self.feed(chunk);
            self.seen += chunk.len() as u64;
            rest = tail;
        }
    }
}

/// Which bytes of the image go to which hash.
///
/// Invariant: `segments` are sorted by `offset`, do not overlap, and for each file appear in
/// file order; `segments[..next]` have been hashed completely and nothing after them has.
struct Plan {
    files: Vec<IsoFile>,
    sinks: Vec<SplitSink>,
    segments: Vec<Segment>,
    next: usize,
    /// Every segment's bytes, by part file (what the tap stores for the fetcher).
    claims: Vec<Claim>,
}

/// Where the root images are, before their part files exist.
struct Located {
    files: Vec<IsoFile>,
    names: Vec<String>,
    part_size: u64,
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, Copy)]
struct Segment {
    offset: u64,
    len: u64,
    file: usize,
    /// Where the segment starts in its file.
    position: u64,
}

impl Located {
    /// Creates the part files: from here on the plan owns files in the staging directory.
    fn create(self, staging_dir: &std::path::Path) -> Result<Plan, String> {
        let mut sinks: Vec<SplitSink> = Vec::new();
        for (file, name) in self.files.iter().zip(&self.names) {
            match SplitSink::create(staging_dir, name, file.size, self.part_size) {
                Ok(sink) => sinks.push(sink),
                Err(error) => {
                    sinks.into_iter().for_each(SplitSink::discard);
                    return Err(error.to_string());
                }
            }
        }
        let mut claims = Vec::new();
        for segment in &self.segments {
            let sink = &sinks[segment.file];
            let mut done = 0;
            while done < segment.len {
                let (file, file_offset) = sink.location(segment.position + done);
                let len = (sink.part_size() - file_offset).min(segment.len - done);
                claims.push(Claim {
                    offset: segment.offset + done,
                    len,
                    file,
                    file_offset,
                });
                done += len;
            }
        }
        Ok(Plan {
            files: self.files,
            sinks,
            segments: self.segments,
            next: 0,
            claims,
        })
    }
}

impl Plan {
    fn locate(prefix: &[u8], patterns: &[String], part_size: u64) -> Result<Located, String> {
        let size = declared_size(prefix)?;
        let iso = Iso::from_source(
            Prefix {
                bytes: prefix,
                size,
            },
            Limits::default(),
        )
        .map_err(|error| error.to_string())?;
        let files = patterns
            .iter()
            .map(|pattern| iso.resolve(pattern))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| error.to_string())?;
        let names =
            crate::build::published_names(patterns, &files).map_err(|error| error.to_string())?;
        let mut segments = Vec::new();
        for (index, file) in files.iter().enumerate() {
            let mut position = 0;
            // A compressed root image (Rock Ridge ZF) cannot be laid out from its stored
            // bytes: streaming gives up, and the build refuses it.
            for extent in file.extents().map_err(|error| error.to_string())? {
                segments.push(Segment {
                    offset: extent.offset,
                    len: extent.len,
                    file: index,
                    position,
                });
                position += extent.len;
            }
        }
        // Stable: a file's segments keep their order among equal offsets (empty never occur).
        let file_order: Vec<(usize, u64)> = segments.iter().map(|s| (s.file, s.offset)).collect();
        segments.sort_by_key(|segment| segment.offset);
        for pair in segments.windows(2) {
            if pair[0].offset + pair[0].len > pair[1].offset {
                return Err("root images share or overlap extents".to_owned());
            }
        }
        for (index, file) in files.iter().enumerate() {
            let in_file_order = file_order
                .iter()
                .filter(|(f, _)| *f == index)
                .map(|(_, o)| *o);
            let in_stream_order = segments
                .iter()
                .filter(|s| s.file == index)
                .map(|s| s.offset);
            if !in_file_order.eq(in_stream_order) {
                return Err(format!(
                    "the extents of {} are not in stream order",
                    file.path
                ));
            }
        }
        Ok(Located {
            files,
            names,
            part_size,
            segments,
        })
    }

    /// Writes and hashes what `chunks`, starting at image offset `at`, hold of the planned
    /// segments.
    fn feed(&mut self, mut at: u64, chunks: &[Bytes]) -> Result<(), String> {
        let mut work = Vec::new();
        for chunk in chunks {
            self.collect(at, chunk, &mut work);
            at += chunk.len() as u64;
        }
        self.write(&work)
    }

    /// Appends `(file, bytes)` for every planned byte in `data` and advances `next`.
    fn collect<'d>(&mut self, at: u64, data: &'d [u8], work: &mut Vec<(usize, &'d [u8])>) {
        let end = at + data.len() as u64;
        while let Some(segment) = self.segments.get(self.next) {
            if segment.offset >= end {
                break;
            }
            let segment_end = segment.offset + segment.len;
            let from = segment.offset.max(at);
            let to = segment_end.min(end);
            if from < to {
                work.push((
                    segment.file,
                    &data[(from - at) as usize..(to - at) as usize],
                ));
            }
            if segment_end > end {
                break;
            }
            self.next += 1;
        }
    }

    /// Writes (and part-hashes) the bytes into their sinks.
    fn write(&mut self, work: &[(usize, &[u8])]) -> Result<(), String> {
        for &(file, data) in work {
            self.sinks[file]
                .write(data)
                .map_err(|error| error.to_string())?;
        }
        Ok(())
    }

    fn discard(self) {
        self.sinks.into_iter().for_each(SplitSink::discard);
    }

    /// The files with their sinks.
    fn finish(self) -> Vec<StreamedFile> {
        self.files
            .into_iter()
            .zip(self.sinks)
            .map(|(source, sink)| StreamedFile { source, sink })
            .collect()
    }
}

/// The volume size the primary volume descriptor declares: the length the image is read
/// as, so extents are checked against where the image will end.
fn declared_size(prefix: &[u8]) -> Result<u64, String> {
    for index in FIRST_DESCRIPTOR_SECTOR..FIRST_DESCRIPTOR_SECTOR + vd::MAX_DESCRIPTORS {
        let start = (index * SECTOR_SIZE) as usize;
        let Some(sector) = prefix.get(start..start + SECTOR_SIZE as usize) else {
            return Err("the volume descriptors have not arrived yet".to_owned());
        };
        match vd::parse(sector).map_err(|error| error.to_string())? {
            Descriptor::Primary(volume) => {
                return Ok(u64::from(volume.volume_blocks) * SECTOR_SIZE);
            }
            Descriptor::Terminator => break,
            _ => {}
        }
    }
    Err("no primary volume descriptor".to_owned())
}

/// The first bytes of an image that will be `size` bytes long. Reads past what has arrived
/// fail (`WouldBlock`), so a parse that needs them fails and is retried later.
struct Prefix<'a> {
    bytes: &'a [u8],
    size: u64,
}

impl ReadAt for Prefix<'_> {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        if offset >= self.size {
            return Ok(0);
        }
        let n = self.bytes.read_at(buf, offset)?;
        if n == 0 && !buf.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::WouldBlock,
                format!("byte {offset} has not been downloaded yet"),
            ));
        }
        Ok(n)
    }

    fn size(&self) -> io::Result<u64> {
        Ok(self.size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CopySource, copy_split};
    use repack_core::FileRole;
    use std::fs::File;

    const PART: u64 = 64 << 20;
    const ROOTFS: &str = "live/filesystem.squashfs";

    /// Streams `image` into a tap in `chunk`-byte chunks, `per_batch` chunks per batch,
    /// starting at `from`.
    fn stream(tap: &mut RootfsTap, image: &[u8], from: usize, chunk: usize, per_batch: usize) {
        let mut offset = from;
        while offset < image.len() {
            let mut batch = Vec::new();
            let start = offset;
            while batch.len() < per_batch && offset < image.len() {
                let end = (offset + chunk).min(image.len());
                batch.push(Bytes::copy_from_slice(&image[offset..end]));
                offset = end;
            }
            tap.observe(start as u64, &batch);
        }
    }

    fn fixture() -> (std::path::PathBuf, Vec<u8>) {
        let path = repack_testkit::fixtures::debian_live().iso.clone();
        let bytes = std::fs::read(&path).unwrap();
        (path, bytes)
    }

    /// What the copy path makes of the same file, for comparison.
    fn copied(iso: &std::path::Path) -> repack_core::ManifestFile {
        let dir = tempfile::tempdir().unwrap();
        let file = repack_iso::open(iso).unwrap().resolve(ROOTFS).unwrap();
        let extents: Vec<_> = file
            .extents()
            .unwrap()
            .iter()
            .map(|e| (e.offset, e.len))
            .collect();
        let image = File::open(iso).unwrap();
        let source = CopySource {
            image: &image,
            image_path: iso,
            extents: &extents,
        };
        copy_split(
            &source,
            dir.path(),
            "filesystem.squashfs",
            FileRole::Rootfs,
            PART,
        )
        .unwrap()
    }

    #[test]
    fn lays_out_and_hashes_the_root_image_exactly_as_the_copy_path_does() {
        let (path, image) = fixture();
        let expected = copied(&path);
        assert!(
            expected.parts.len() > 1,
            "the fixture must be split to test the part boundaries"
        );
        // Odd chunk sizes, so extents and part boundaries fall inside chunks.
        for (chunk, per_batch) in [(65_521, 16), (1 << 20, 1), (4099, 300)] {
            let staging = tempfile::tempdir().unwrap();
            let mut tap = RootfsTap::new(vec![ROOTFS.into()], PART, staging.path().to_owned());
            stream(&mut tap, &image, 0, chunk, per_batch);
            let mut files = tap.finish(image.len() as u64).unwrap();
            let done = files.remove(0);
            let made = done.sink.finish(FileRole::Rootfs).unwrap();
            assert_eq!(made, expected);
            for part in &made.parts {
                let bytes = std::fs::read(staging.path().join(&part.name)).unwrap();
                assert_eq!(repack_core::Sha256Digest::of(&bytes), part.sha256);
            }
        }
    }

    #[test]
    fn a_restart_from_zero_starts_over_and_still_lays_out_every_part() {
        let (path, image) = fixture();
        let staging = tempfile::tempdir().unwrap();
        let mut tap = RootfsTap::new(vec![ROOTFS.into()], PART, staging.path().to_owned());
        stream(&mut tap, &image[..image.len() / 2], 0, 1 << 20, 1);
        stream(&mut tap, &image, 0, 1 << 20, 1);
        let done = tap.finish(image.len() as u64).unwrap().remove(0);
        assert_eq!(done.sink.finish(FileRole::Rootfs).unwrap(), copied(&path));
    }

    #[test]
    fn a_resumed_partial_download_gives_up_and_leaves_no_files() {
        let (_, image) = fixture();
        let staging = tempfile::tempdir().unwrap();
        let mut tap = RootfsTap::new(vec![ROOTFS.into()], PART, staging.path().to_owned());
        stream(&mut tap, &image[..image.len() / 2], 0, 1 << 20, 1);
        assert!(std::fs::read_dir(staging.path()).unwrap().count() > 0);
        // As after a restart of the process: the transfer continues at a later byte.
        stream(&mut tap, &image, image.len() / 2 + 4096, 1 << 20, 1);
        let reason = tap.finish(image.len() as u64).err().unwrap();
        assert!(reason.contains("continued a partial file"), "{reason}");
        assert_eq!(std::fs::read_dir(staging.path()).unwrap().count(), 0);
    }

    #[test]
    fn an_incomplete_stream_or_a_missing_file_is_refused() {
        let (_, image) = fixture();
        let staging = tempfile::tempdir().unwrap();
        let mut tap = RootfsTap::new(vec![ROOTFS.into()], PART, staging.path().to_owned());
        stream(&mut tap, &image[..image.len() - 2048], 0, 1 << 20, 1);
        assert!(tap.finish(image.len() as u64).is_err());
        assert_eq!(std::fs::read_dir(staging.path()).unwrap().count(), 0);

        let mut tap = RootfsTap::new(
            vec!["live/nothing-here".into()],
            PART,
            staging.path().to_owned(),
        );
        stream(&mut tap, &image, 0, 1 << 20, 1);
        let reason = tap.finish(image.len() as u64).err().unwrap();
        assert!(reason.contains("do not locate"), "{reason}");
    }
}
