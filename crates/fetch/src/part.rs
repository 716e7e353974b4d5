//! The partial download on disk: `<sha256>.iso.part` plus its `.part.state` sidecar. Sync
//! code; the async side calls it through `spawn_blocking`.
//!
//! Invariant (on disk): the first `state.offset` bytes of the `.part` file are durable (they
//! were fsynced before the state was written) and `state.sha256_state` is the SHA-256 state
//! after hashing exactly those bytes. Bytes past `offset` may exist after a crash; they are
//! cut off on resume. The state file is replaced atomically (write, fsync, rename).

use crate::validators::Validators;
use serde::{Deserialize, Serialize};
use sha2::digest::common::hazmat::{SerializableState, SerializedState};
use sha2::{Digest, Sha256};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Version of the `.part.state` format; a state of another version is ignored (restart).
const STATE_VERSION: u32 = 1;

/// Where the files of one expected digest live in the cache.
#[derive(Debug, Clone)]
pub(crate) struct CachePaths {
    pub final_path: PathBuf,
    pub part: PathBuf,
    pub state: PathBuf,
    pub lock: PathBuf,
    pub quarantine_dir: PathBuf,
}

impl CachePaths {
    pub fn new(cache_dir: &Path, expected_hex: &str) -> CachePaths {
        let iso_dir = cache_dir.join("iso");
        CachePaths {
            final_path: iso_dir.join(format!("{expected_hex}.iso")),
            part: iso_dir.join(format!("{expected_hex}.iso.part")),
            state: iso_dir.join(format!("{expected_hex}.iso.part.state")),
            lock: iso_dir.join(format!("{expected_hex}.iso.lock")),
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
        if len < state.offset {
            return Err(Some(format!(
                "part file has {len} bytes, fewer than the {} recorded",
                state.offset
            )));
        }
        self.file
            .set_len(state.offset)
            .and_then(|()| self.file.seek(SeekFrom::Start(state.offset)))
            .map_err(|error| Some(format!("cannot cut the part file: {error}")))?;
        self.hasher = hasher;
        self.offset = state.offset;
        self.checkpointed = state.offset;
        self.validators = state.validators;
        Ok(())
    }

    pub fn paths(&self) -> &CachePaths {
        &self.paths
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
        Ok(())
    }

    /// Writes and hashes `chunks` in order, checkpointing every `checkpoint_bytes`.
    pub fn append(
        &mut self,
        chunks: &[bytes::Bytes],
        checkpoint_bytes: u64,
    ) -> Result<(), PartIoError> {
        for chunk in chunks {
            self.file
                .write_all(chunk)
                .map_err(io_error("write", &self.paths.part))?;
            self.hasher.update(chunk);
            self.offset += chunk.len() as u64;
            if self.offset - self.checkpointed >= checkpoint_bytes {
                self.checkpoint()?;
            }
        }
        Ok(())
    }

    /// Makes the bytes written so far durable, then records them in the state file.
    pub fn checkpoint(&mut self) -> Result<(), PartIoError> {
        if self.offset == self.checkpointed && self.paths.state.exists() {
            return Ok(());
        }
        self.file
            .sync_data()
            .map_err(io_error("fsync", &self.paths.part))?;
        let state = PartState {
            version: STATE_VERSION,
            url: self.url.clone(),
            mirror_url: self.mirror_url.clone(),
            offset: self.offset,
            validators: self.validators.clone(),
            sha256_state: hex::encode(self.hasher.serialize().as_slice()),
        };
        let json = serde_json::to_vec_pretty(&state).expect("part state serialises");
        let tmp = self.paths.state.with_extension("state.tmp");
        write_durably(&tmp, &json).map_err(io_error("write", &tmp))?;
        fs::rename(&tmp, &self.paths.state).map_err(io_error("rename", &self.paths.state))?;
        self.checkpointed = self.offset;
        Ok(())
    }

    /// Makes the whole file durable and returns its size and digest. The part file stays
    /// where it is; the caller renames or quarantines it.
    pub fn finish(&mut self) -> Result<(u64, [u8; 32]), PartIoError> {
        self.file
            .sync_all()
            .map_err(io_error("fsync", &self.paths.part))?;
        let digest: [u8; 32] = self.hasher.clone().finalize().into();
        Ok((self.offset, digest))
    }

    /// Moves the finished part to `to` and drops the state file.
    pub fn move_to(self, to: &Path) -> Result<(), PartIoError> {
        if let Some(dir) = to.parent() {
            fs::create_dir_all(dir).map_err(io_error("create", dir))?;
        }
        fs::rename(&self.paths.part, to).map_err(io_error("rename to", to))?;
        if let Some(dir) = to.parent() {
            // Make the rename durable; failure here loses nothing that is not re-fetchable.
            let _ = File::open(dir).and_then(|dir| dir.sync_all());
        }
        remove_if_present(&self.paths.state).map_err(io_error("remove", &self.paths.state))
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
        part.append(&[Bytes::copy_from_slice(&data[..4321])], u64::MAX)
            .unwrap();
        part.checkpoint().unwrap();
        // Bytes past the checkpoint (as after a crash) are cut off on resume.
        part.append(&[Bytes::from_static(b"garbage")], u64::MAX)
            .unwrap();
        drop(part);

        let (mut part, reason) = open(dir.path(), "m");
        assert_eq!(reason, None);
        assert_eq!(part.offset(), 4321);
        part.append(&[Bytes::copy_from_slice(&data[4321..])], u64::MAX)
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
        part.append(&[Bytes::from_static(b"hello")], 1).unwrap();
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
    fn part_shorter_than_the_state_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let (mut part, _) = open(dir.path(), "m");
        part.append(&[Bytes::from_static(b"hello")], 1).unwrap();
        drop(part);
        fs::write(dir.path().join("iso/ab.iso.part"), "he").unwrap();
        let (part, reason) = open(dir.path(), "m");
        assert_eq!(part.offset(), 0);
        assert!(reason.unwrap().contains("fewer"));
    }
}
