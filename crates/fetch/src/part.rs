//! The partial download on disk: `<sha256>.iso.part` plus its `.part.state` sidecar. Sync
//! code; the async side calls it through `spawn_blocking`.
//!
//! Invariant (on disk): the first `state.offset` bytes of the `.part` file are durable (they
//! were fsynced before the state was written), except the `state.holes`, whose bytes are
//! durable in the files a [`StreamTap`](crate::StreamTap) claimed them for (it was synced
//! first); `state.sha256_state` is the SHA-256 state after hashing exactly those bytes.
//! Bytes past `offset` may exist after a crash; they are cut off on resume, and holes are
//! filled back from their files. The state file is replaced atomically (write, fsync, rename).

use crate::tap::Claim;
use crate::validators::Validators;
use serde::{Deserialize, Serialize};
use sha2::digest::common::hazmat::{SerializableState, SerializedState};
use sha2::{Digest, Sha256};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// Version of the `.part.state` format; a state of another version is ignored (restart).
const STATE_VERSION: u32 = 1;

/// Where the files of one expected digest live in the cache.
#[derive(Debug, Clone)]
pub(crate) struct CachePaths {
    pub final_path: PathBuf,
    /// Where a verified download with holes goes (see [`crate::FetchedIso::hollow`]).
    pub hollow_path: PathBuf,
    /// Where a tap keeps the bytes it claimed.
    pub stream_dir: PathBuf,
    pub part: PathBuf,
    pub state: PathBuf,
    pub lock: PathBuf,
    /// Shared by the users of the complete ISO, taken exclusively to evict it.
    pub lease: PathBuf,
    pub quarantine_dir: PathBuf,
}

impl CachePaths {
    pub fn new(cache_dir: &Path, expected_hex: &str) -> CachePaths {
        let iso_dir = cache_dir.join("iso");
        CachePaths {
            final_path: iso_dir.join(format!("{expected_hex}.iso")),
            hollow_path: iso_dir.join(format!("{expected_hex}.iso.hollow")),
            stream_dir: iso_dir.join(format!("{expected_hex}.iso.stream")),
            part: iso_dir.join(format!("{expected_hex}.iso.part")),
            state: iso_dir.join(format!("{expected_hex}.iso.part.state")),
            lock: iso_dir.join(format!("{expected_hex}.iso.lock")),
            lease: iso_dir.join(format!("{expected_hex}.iso.lease")),
            quarantine_dir: cache_dir.join("quarantine"),
        }
    }
}

/// The JSON sidecar.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct PartState {
    version: u32,
    /// Upstream URL the download is for (informational).
    url: String,
    /// URL actually requested; a resume is only attempted against the same URL.
    mirror_url: String,
    offset: u64,
    validators: Validators,
    /// Hex of sha2's serialised `Sha256` state after `offset` bytes.
    sha256_state: String,
    /// Ranges before `offset` that are not in the part file but in a tap's files.
    #[serde(default)]
    holes: Vec<Hole>,
}

/// Bytes `offset..offset + len` of the download are in `file` at `file_offset`, not in the
/// part file (which has a hole there).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Hole {
    pub offset: u64,
    pub len: u64,
    pub file: PathBuf,
    pub file_offset: u64,
}

/// An I/O failure with the file it happened on.
#[derive(Debug)]
pub(crate) struct PartIoError {
    pub action: &'static str,
    pub path: PathBuf,
    pub source: io::Error,
}

fn io_error<'a>(
    action: &'static str,
    path: &'a Path,
) -> impl FnOnce(io::Error) -> PartIoError + 'a {
    move |source| PartIoError {
        action,
        path: path.to_owned(),
        source,
    }
}

/// An open partial download: file, hash state and position, kept in step.
pub(crate) struct PartFile {
    /// Held (locked) for as long as the part file is open, also by a write still running
    /// in a blocking task after its caller was cancelled.
    _lock: File,
    paths: CachePaths,
    file: File,
    hasher: Sha256,
    offset: u64,
    /// Offset at the last durable checkpoint.
    checkpointed: u64,
    url: String,
    mirror_url: String,
    pub validators: Validators,
    /// Claimed ranges that were not written (sorted, disjoint).
    holes: Vec<Hole>,
}

/// Why a saved partial download was not resumed (for the log).
pub(crate) type NotResumed = Option<String>;

impl PartFile {
    /// Opens the partial download, resuming from the saved state when it is usable for
    /// `mirror_url`; otherwise starts an empty `.part`.
    pub fn open(
        paths: CachePaths,
        lock: File,
        url: &str,
        mirror_url: &str,
    ) -> Result<(PartFile, NotResumed), PartIoError> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&paths.part)
            .map_err(io_error("open", &paths.part))?;
        let mut part = PartFile {
            _lock: lock,
            file,
            hasher: Sha256::new(),
            offset: 0,
            checkpointed: 0,
            url: url.to_owned(),
            mirror_url: mirror_url.to_owned(),
            validators: Validators::default(),
            holes: Vec::new(),
            paths,
        };
        let not_resumed = match part.try_resume() {
            Ok(()) => None,
            Err(reason) => {
                part.reset()?;
                reason
            }
        };
        Ok((part, not_resumed))
    }

    /// Loads the state file and positions the part file after its offset.
    /// `Err(None)` means there was nothing to resume.
    fn try_resume(&mut self) -> Result<(), Option<String>> {
        let text = match fs::read(&self.paths.state) {
            Ok(text) => text,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Err(None),
            Err(error) => return Err(Some(format!("cannot read the state file: {error}"))),
        };
        let state: PartState = serde_json::from_slice(&text)
            .map_err(|error| Some(format!("state file is not valid: {error}")))?;
        if state.version != STATE_VERSION {
            return Err(Some(format!("state file has version {}", state.version)));
        }
        if state.mirror_url != self.mirror_url {
            return Err(Some(format!(
                "state file is for {}, not {}",
                state.mirror_url, self.mirror_url
            )));
        }
        let hasher = decode_hash_state(&state.sha256_state)
            .ok_or_else(|| Some("state file has an unusable hash state".to_owned()))?;
        let len = self
            .file
            .metadata()
            .map_err(|error| Some(format!("cannot stat the part file: {error}")))?
            .len();
        // A download that ended in a hole never wrote its last bytes; nor the bytes of the
        // holes right before it (a root image split into parts claims one hole per part).
        let written_up_to = state.holes.iter().rev().fold(state.offset, |end, hole| {
            if hole.offset + hole.len == end {
                hole.offset
            } else {
                end
            }
        });
        if len < written_up_to {
            return Err(Some(format!(
                "part file has {len} bytes, fewer than the {} recorded",
                state.offset
            )));
        }
        self.file
            .set_len(state.offset)
            .and_then(|()| self.file.seek(SeekFrom::Start(state.offset)))
            .map_err(|error| Some(format!("cannot cut the part file: {error}")))?;
        for hole in &state.holes {
            self.refill(hole, state.offset).map_err(|error| {
                Some(format!(
                    "cannot fill bytes {}..{} back from {}: {error}",
                    hole.offset,
                    hole.offset + hole.len,
                    hole.file.display()
                ))
            })?;
        }
        if !state.holes.is_empty() {
            self.file
                .sync_data()
                .map_err(|error| Some(format!("cannot flush the part file: {error}")))?;
        }
        self.hasher = hasher;
        self.offset = state.offset;
        self.checkpointed = state.offset;
        self.validators = state.validators;
        if !state.holes.is_empty() {
            // The holes' bytes are in the part file now (synced above): record that before
            // the caller discards the files they came from, or a process killed before its
            // first checkpoint would leave a state pointing at files that are gone.
            self.write_state().map_err(|error| {
                Some(format!(
                    "cannot record the filled holes: {} {}: {}",
                    error.action,
                    error.path.display(),
                    error.source
                ))
            })?;
        }
        Ok(())
    }

    /// Copies a hole's bytes back from the file a tap stored them in.
    fn refill(&self, hole: &Hole, offset: u64) -> io::Result<()> {
        if hole.offset + hole.len > offset {
            return Err(io::Error::other("the hole lies past the recorded offset"));
        }
        let source = File::open(&hole.file)?;
        let mut buffer = vec![0u8; 1 << 20];
        let mut done = 0;
        while done < hole.len {
            let n = (hole.len - done).min(buffer.len() as u64) as usize;
            source.read_exact_at(&mut buffer[..n], hole.file_offset + done)?;
            self.file.write_all_at(&buffer[..n], hole.offset + done)?;
            done += n as u64;
        }
        Ok(())
    }

    pub fn paths(&self) -> &CachePaths {
        &self.paths
    }

    /// Whether the bytes since the last checkpoint call for a new one.
    pub fn checkpoint_due(&self, checkpoint_bytes: u64) -> bool {
        self.offset - self.checkpointed >= checkpoint_bytes
    }

    /// Whether some bytes are in a tap's files instead of the part file.
    pub fn is_hollow(&self) -> bool {
        !self.holes.is_empty()
    }

    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Forgets everything: empty file, fresh hash, no state file.
    pub fn reset(&mut self) -> Result<(), PartIoError> {
        remove_if_present(&self.paths.state).map_err(io_error("remove", &self.paths.state))?;
        self.file
            .set_len(0)
            .and_then(|()| self.file.seek(SeekFrom::Start(0)).map(drop))
            .map_err(io_error("truncate", &self.paths.part))?;
        self.hasher = Sha256::new();
        self.offset = 0;
        self.checkpointed = 0;
        self.validators = Validators::default();
        self.holes.clear();
        Ok(())
    }

    /// Writes and hashes `chunks` in order, except claimed bytes, which are only hashed
    /// (their tap stores them) and leave a hole. `claims` are sorted and disjoint.
    pub fn append(&mut self, chunks: &[bytes::Bytes], claims: &[Claim]) -> Result<(), PartIoError> {
        let batch_start = self.offset;
        for chunk in chunks {
            let mut rest: &[u8] = chunk;
            while !rest.is_empty() {
                let at = self.offset;
                // The claim covering `at`, or the next one after it.
                let claim = claims.iter().find(|claim| claim.offset + claim.len > at);
                let (take, claimed) = match claim {
                    Some(claim) if claim.offset <= at => (
                        (claim.offset + claim.len - at).min(rest.len() as u64),
                        Some(claim),
                    ),
                    Some(claim) => ((claim.offset - at).min(rest.len() as u64), None),
                    None => (rest.len() as u64, None),
                };
                let (now, later) = rest.split_at(take as usize);
                match claimed {
                    Some(claim) => self.add_hole(Hole {
                        offset: at,
                        len: take,
                        file: claim.file.clone(),
                        file_offset: claim.file_offset + (at - claim.offset),
                    }),
                    None => self
                        .file
                        .write_all_at(now, at)
                        .map_err(io_error("write", &self.paths.part))?,
                }
                self.hasher.update(now);
                self.offset += take;
                rest = later;
            }
        }
        start_writeback(&self.file, batch_start, self.offset - batch_start);
        Ok(())
    }

    fn add_hole(&mut self, hole: Hole) {
        if let Some(last) = self.holes.last_mut()
            && last.offset + last.len == hole.offset
            && last.file == hole.file
            && last.file_offset + last.len == hole.file_offset
        {
            last.len += hole.len;
            return;
        }
        self.holes.push(hole);
    }

    /// Makes the bytes written so far durable, then records them in the state file.
    pub fn checkpoint(&mut self) -> Result<(), PartIoError> {
        if self.offset == self.checkpointed && self.paths.state.exists() {
            return Ok(());
        }
        self.file
            .sync_data()
            .map_err(io_error("fsync", &self.paths.part))?;
        self.write_state()?;
        self.checkpointed = self.offset;
        Ok(())
    }

    /// Replaces the state file with the current offset, validators, hash state and holes.
    /// The part file's bytes up to the offset must be durable already.
    fn write_state(&self) -> Result<(), PartIoError> {
        let state = PartState {
            version: STATE_VERSION,
            url: self.url.clone(),
            mirror_url: self.mirror_url.clone(),
            offset: self.offset,
            validators: self.validators.clone(),
            sha256_state: hex::encode(self.hasher.serialize().as_slice()),
            holes: self.holes.clone(),
        };
        let json = serde_json::to_vec_pretty(&state).expect("part state serialises");
        let tmp = self.paths.state.with_extension("state.tmp");
        write_durably(&tmp, &json).map_err(io_error("write", &tmp))?;
        fs::rename(&tmp, &self.paths.state).map_err(io_error("rename", &self.paths.state))
    }

    /// Makes the whole file durable and returns its size and digest. The part file stays
    /// where it is; the caller renames or quarantines it.
    pub fn finish(&mut self) -> Result<(u64, [u8; 32]), PartIoError> {
        // A download that ends in a hole has not reached its full length yet.
        self.file
            .set_len(self.offset)
            .and_then(|()| self.file.sync_all())
            .map_err(io_error("fsync", &self.paths.part))?;
        let digest: [u8; 32] = self.hasher.clone().finalize().into();
        Ok((self.offset, digest))
    }

    /// Moves the finished part to `to` and drops the state file; returns the download's lock,
    /// still held.
    pub fn move_to(self, to: &Path) -> Result<File, PartIoError> {
        if let Some(dir) = to.parent() {
            fs::create_dir_all(dir).map_err(io_error("create", dir))?;
        }
        fs::rename(&self.paths.part, to).map_err(io_error("rename to", to))?;
        if let Some(dir) = to.parent() {
            // Make the rename durable; failure here loses nothing that is not re-fetchable.
            let _ = File::open(dir).and_then(|dir| dir.sync_all());
        }
        remove_if_present(&self.paths.state).map_err(io_error("remove", &self.paths.state))?;
        Ok(self._lock)
    }
}

/// Opens (creating) the lock file of a download and waits until this process holds it, so
/// two workers never write one `.part` at once.
pub(crate) fn lock_download(paths: &CachePaths) -> Result<File, PartIoError> {
    let lock = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(&paths.lock)
        .map_err(io_error("open", &paths.lock))?;
    lock.lock().map_err(io_error("lock", &paths.lock))?;
    Ok(lock)
}

/// Removes what finished downloads of other digests left for builds that never ended (the
/// process was killed): hollow ISOs and stream directories whose lock nobody holds. A build
/// in progress holds its download's lock (see [`crate::FetchedIso::lease`]), so its files
/// are kept; so are partial downloads, which a later run resumes. Returns what was removed.
pub(crate) fn sweep_abandoned(iso_dir: &Path, keep_hex: &str) -> Vec<PathBuf> {
    let mut removed = Vec::new();
    let Ok(entries) = fs::read_dir(iso_dir) else {
        return removed;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(hex) = name
            .strip_suffix(".iso.hollow")
            .or_else(|| name.strip_suffix(".iso.stream"))
        else {
            continue;
        };
        if hex == keep_hex || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            continue;
        }
        let paths = CachePaths::new(iso_dir.parent().unwrap_or(iso_dir), hex);
        let Ok(lock) = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(&paths.lock)
        else {
            continue;
        };
        if lock.try_lock().is_err() {
            continue; // a build is using them
        }
        for path in [paths.hollow_path, paths.stream_dir] {
            let gone = if path.is_dir() {
                fs::remove_dir_all(&path)
            } else {
                fs::remove_file(&path)
            };
            match gone {
                Ok(()) => removed.push(path),
                Err(error) if error.kind() == io::ErrorKind::NotFound => {}
                Err(error) => {
                    tracing::warn!(path = %path.display(), %error, "cannot remove an abandoned download's file")
                }
            }
        }
    }
    removed
}

/// Takes a shared lock on the lease file of a complete ISO without waiting; None while it is
/// being evicted (or cannot be opened).
pub(crate) fn share_complete(paths: &CachePaths) -> Option<File> {
    let lease = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(&paths.lease)
        .ok()?;
    lease.try_lock_shared().ok().map(|()| lease)
}

/// Asks the kernel to start writing `len` bytes at `offset` to disk now, without waiting
/// for it: the disk works while the next batch is received, and the next checkpoint's fsync
/// finds little left to do (instead of stalling the download for a whole interval's
/// writeback). Advisory; errors are ignored (the fsync reports real ones).
fn start_writeback(file: &File, offset: u64, len: u64) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        if let (Ok(offset), Ok(len)) = (i64::try_from(offset), i64::try_from(len)) {
            // SAFETY: the descriptor is open for the whole call, which only schedules I/O.
            unsafe {
                libc::sync_file_range(file.as_raw_fd(), offset, len, libc::SYNC_FILE_RANGE_WRITE);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (file, offset, len);
}

fn decode_hash_state(text: &str) -> Option<Sha256> {
    let bytes = hex::decode(text).ok()?;
    let state = SerializedState::<Sha256>::try_from(bytes.as_slice()).ok()?;
    Sha256::deserialize(&state).ok()
}

fn write_durably(path: &Path, data: &[u8]) -> io::Result<()> {
    let mut file = File::create(path)?;
    file.write_all(data)?;
    file.sync_all()
}

fn remove_if_present(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(error) if error.kind() != io::ErrorKind::NotFound => Err(error),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn open(dir: &Path, mirror_url: &str) -> (PartFile, NotResumed) {
        fs::create_dir_all(dir.join("iso")).unwrap();
        let paths = CachePaths::new(dir, "ab");
        let lock = lock_download(&paths).unwrap();
        PartFile::open(paths, lock, "u", mirror_url).unwrap()
    }

    #[test]
    fn resume_continues_the_hash_without_rereading() {
        let dir = tempfile::tempdir().unwrap();
        let data: Vec<u8> = (0..10_000u32).map(|i| (i * 7) as u8).collect();
        let (mut part, reason) = open(dir.path(), "m");
        assert_eq!(reason, None);
        part.append(&[Bytes::copy_from_slice(&data[..4321])], &[])
            .unwrap();
        part.checkpoint().unwrap();
        // Bytes past the checkpoint (as after a crash) are cut off on resume.
        part.append(&[Bytes::from_static(b"garbage")], &[]).unwrap();
        drop(part);

        let (mut part, reason) = open(dir.path(), "m");
        assert_eq!(reason, None);
        assert_eq!(part.offset(), 4321);
        part.append(&[Bytes::copy_from_slice(&data[4321..])], &[])
            .unwrap();
        let (size, digest) = part.finish().unwrap();
        assert_eq!(size, data.len() as u64);
        assert_eq!(digest, <[u8; 32]>::from(Sha256::digest(&data)));
        assert_eq!(fs::read(dir.path().join("iso/ab.iso.part")).unwrap(), data);
    }

    #[test]
    fn state_for_another_url_or_corrupt_state_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let (mut part, _) = open(dir.path(), "m");
        part.append(&[Bytes::from_static(b"hello")], &[]).unwrap();
        part.checkpoint().unwrap();
        drop(part);
        let (part, reason) = open(dir.path(), "other");
        assert_eq!(part.offset(), 0);
        assert!(reason.unwrap().contains("not other"));
        drop(part);

        fs::write(dir.path().join("iso/ab.iso.part.state"), "{").unwrap();
        let (part, reason) = open(dir.path(), "m");
        assert_eq!(part.offset(), 0);
        assert!(reason.unwrap().contains("not valid"));
    }

    #[test]
    fn claimed_bytes_leave_a_hole_that_a_resume_fills_back_from_the_claiming_file() {
        let dir = tempfile::tempdir().unwrap();
        let data: Vec<u8> = (0..10_000u32).map(|i| (i * 13) as u8).collect();
        // A tap stores bytes 3000..7000 at offset 100 of its own file.
        let tap_file = dir.path().join("tap");
        let mut stored = vec![0u8; 100];
        stored.extend_from_slice(&data[3000..7000]);
        fs::write(&tap_file, &stored).unwrap();
        let claim = Claim {
            offset: 3000,
            len: 4000,
            file: tap_file,
            file_offset: 100,
        };
        let (mut part, _) = open(dir.path(), "m");
        for piece in data[..8000].chunks(999) {
            part.append(
                &[Bytes::copy_from_slice(piece)],
                std::slice::from_ref(&claim),
            )
            .unwrap();
        }
        assert!(part.is_hollow());
        part.checkpoint().unwrap();
        let on_disk = fs::read(dir.path().join("iso/ab.iso.part")).unwrap();
        assert!(
            on_disk[3000..7000].iter().all(|&b| b == 0),
            "claimed bytes were written"
        );
        drop(part);

        let (mut part, reason) = open(dir.path(), "m");
        assert_eq!(reason, None);
        assert_eq!(part.offset(), 8000);
        assert!(!part.is_hollow());
        part.append(&[Bytes::copy_from_slice(&data[8000..])], &[])
            .unwrap();
        let (size, digest) = part.finish().unwrap();
        assert_eq!(size, data.len() as u64);
        assert_eq!(digest, <[u8; 32]>::from(Sha256::digest(&data)));
        assert_eq!(fs::read(dir.path().join("iso/ab.iso.part")).unwrap(), data);
    }

    /// A root image split into parts is claimed as one hole per part, back to back. A
    /// checkpoint inside the second one has written nothing since the first began, and that
    /// still resumes (issue 16's crash harness found it restarting from byte 0).
    #[test]
    fn a_checkpoint_after_adjacent_holes_resumes() {
        let dir = tempfile::tempdir().unwrap();
        let data: Vec<u8> = (0..10_000u32).map(|i| (i * 31) as u8).collect();
        // Bytes 1000..5000 go to `part1`, 5000..9000 to `part2`.
        let claims: Vec<Claim> = [("part1", 1000), ("part2", 5000)]
            .into_iter()
            .map(|(name, offset)| {
                let file = dir.path().join(name);
                fs::write(&file, &data[offset..offset + 4000]).unwrap();
                Claim {
                    offset: offset as u64,
                    len: 4000,
                    file,
                    file_offset: 0,
                }
            })
            .collect();
        let (mut part, _) = open(dir.path(), "m");
        part.append(&[Bytes::copy_from_slice(&data[..7000])], &claims)
            .unwrap();
        part.checkpoint().unwrap();
        assert_eq!(
            fs::metadata(dir.path().join("iso/ab.iso.part"))
                .unwrap()
                .len(),
            1000
        );
        drop(part);

        let (mut part, reason) = open(dir.path(), "m");
        assert_eq!(reason, None);
        assert_eq!(part.offset(), 7000);
        part.append(&[Bytes::copy_from_slice(&data[7000..])], &[])
            .unwrap();
        let (size, digest) = part.finish().unwrap();
        assert_eq!(size, data.len() as u64);
        assert_eq!(digest, <[u8; 32]>::from(Sha256::digest(&data)));
        assert_eq!(fs::read(dir.path().join("iso/ab.iso.part")).unwrap(), data);
    }

    /// A resume fills the holes back and records that at once: the tap's files are
    /// discarded next, and a process killed before its first checkpoint must not leave a
    /// state that still points at them (issue 16's crash harness found the next resume
    /// starting over from byte 0).
    #[test]
    fn a_resume_after_a_resume_no_longer_needs_the_tap_files() {
        let dir = tempfile::tempdir().unwrap();
        let data: Vec<u8> = (0..6000u32).map(|i| (i * 17) as u8).collect();
        let tap_file = dir.path().join("tap");
        fs::write(&tap_file, &data[1000..4000]).unwrap();
        let claim = Claim {
            offset: 1000,
            len: 3000,
            file: tap_file.clone(),
            file_offset: 0,
        };
        let (mut part, _) = open(dir.path(), "m");
        part.append(&[Bytes::copy_from_slice(&data[..5000])], &[claim])
            .unwrap();
        part.checkpoint().unwrap();
        drop(part);

        // Resumed (the holes are filled back), then killed before any checkpoint.
        let (part, reason) = open(dir.path(), "m");
        assert_eq!(reason, None);
        assert_eq!(part.offset(), 5000);
        drop(part);
        fs::remove_file(&tap_file).unwrap();

        let (mut part, reason) = open(dir.path(), "m");
        assert_eq!(reason, None);
        assert_eq!(part.offset(), 5000);
        part.append(&[Bytes::copy_from_slice(&data[5000..])], &[])
            .unwrap();
        let (size, digest) = part.finish().unwrap();
        assert_eq!(size, data.len() as u64);
        assert_eq!(digest, <[u8; 32]>::from(Sha256::digest(&data)));
    }

    #[test]
    fn a_hole_whose_file_is_gone_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let claim = Claim {
            offset: 0,
            len: 5,
            file: dir.path().join("gone"),
            file_offset: 0,
        };
        let (mut part, _) = open(dir.path(), "m");
        part.append(&[Bytes::from_static(b"hello")], &[claim])
            .unwrap();
        part.checkpoint().unwrap();
        drop(part);
        let (part, reason) = open(dir.path(), "m");
        assert_eq!(part.offset(), 0);
        assert!(reason.unwrap().contains("cannot fill"));
    }

    #[test]
    fn part_shorter_than_the_state_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let (mut part, _) = open(dir.path(), "m");
        part.append(&[Bytes::from_static(b"hello")], &[]).unwrap();
        part.checkpoint().unwrap();
        drop(part);
        fs::write(dir.path().join("iso/ab.iso.part"), "he").unwrap();
        let (part, reason) = open(dir.path(), "m");
        assert_eq!(part.offset(), 0);
        assert!(reason.unwrap().contains("fewer"));
    }
}
