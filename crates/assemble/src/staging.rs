//! Staging directories and the finished, verified release laid out in one.
//!
//! [`Staging`] is a directory a release is assembled in; it deletes itself when dropped unless
//! something took it over, so an error anywhere leaves nothing half-written behind. A process
//! killed outright drops nothing: each staging directory holds an exclusive lock on itself
//! while in use, which the kernel releases when the process dies, so the next
//! [`Staging::create`] under the same parent tells an abandoned directory (lock free) from
//! one in use (by any process) and removes it.
//! [`StagedRelease`] is what a publisher is handed: a staging directory together with the
//! manifest describing it, checked complete (every part the manifest lists is there with its
//! size, `manifest.json` and `SHA256SUMS` too, and nothing else). A publisher never creates,
//! fills or inspects a staging directory beyond reading the files a [`StagedRelease`] names.

use crate::AssembleError;
use repack_core::Manifest;
use std::collections::BTreeSet;
use std::fs::File;
use std::path::{Path, PathBuf};

/// The release's own metadata files, besides the parts the manifest lists.
pub const MANIFEST_NAME: &str = "manifest.json";
pub const SUMS_NAME: &str = "SHA256SUMS";

/// A directory a release is assembled in. Dropping it removes it and everything inside,
/// unless it was adopted ([`Staging::adopt`]) or handed over ([`Staging::keep`]).
#[derive(Debug)]
pub struct Staging {
    /// `None` once handed over.
    path: Option<PathBuf>,
    /// Deleted on drop (a directory this process created for one attempt).
    owned: bool,
    /// The directory, opened and locked exclusively while this value lives (owned ones).
    _lock: Option<File>,
}

impl Staging {
    /// A fresh, empty directory under `parent` (created when missing) for one attempt at
    /// building `recipe` tagged `tag`; the name is unique per attempt, so concurrent or
    /// crashed attempts never share a directory.
    pub fn create(parent: &Path, recipe: &str, tag: &str) -> Result<Staging, AssembleError> {
        crate::check_output_name(recipe)?;
        crate::check_output_name(tag)?;
        let io_error = |path: &Path, source| AssembleError::Io {
            action: "cannot create",
            path: path.to_owned(),
            source,
        };
        std::fs::create_dir_all(parent).map_err(|e| io_error(parent, e))?;
        let unique = format!(
            "{recipe}-{tag}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|elapsed| elapsed.as_nanos())
                .unwrap_or_default()
        );
        sweep_abandoned(parent);
        let path = parent.join(unique);
        std::fs::create_dir(&path).map_err(|e| io_error(&path, e))?;
        // Deleted again if it cannot be locked.
        let mut staging = Staging {
            path: Some(path),
            owned: true,
            _lock: None,
        };
        staging._lock = Some(lock_new_dir(staging.path())?);
        Ok(staging)
    }

    /// An existing directory (a release built earlier, `repack publish github DIR`): read
    /// from, never deleted nor moved away by a publisher.
    pub fn adopt(path: impl Into<PathBuf>) -> Staging {
        Staging {
            path: Some(path.into()),
            owned: false,
            _lock: None,
        }
    }

    pub fn path(&self) -> &Path {
        self.path
            .as_deref()
            .expect("staging directory is live until consumed")
    }

    /// `true` when this directory belongs to the attempt (created by [`Staging::create`]) and
    /// may be moved into place; `false` for an adopted one, which must be copied.
    pub fn is_owned(&self) -> bool {
        self.owned
    }

    /// Hands the directory over (after it was renamed into place): nothing is deleted.
    pub fn keep(mut self) -> PathBuf {
        self.path
            .take()
            .expect("staging directory is live until consumed")
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if let Some(path) = self.path.take()
            && self.owned
            && let Err(error) = std::fs::remove_dir_all(&path)
            && error.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %path.display(), %error, "cannot remove staging directory");
        }
    }
}

/// Locks the staging directory just created at `path` for as long as its [`Staging`] lives.
/// A sweep in another process that got in between the `mkdir` and the lock has removed it:
/// then the lock holds a directory no longer at `path`, and that is an error.
fn lock_new_dir(path: &Path) -> Result<File, AssembleError> {
    use std::os::unix::fs::MetadataExt;
    let io_error = |action, source| AssembleError::Io {
        action,
        path: path.to_owned(),
        source,
    };
    let dir = File::open(path).map_err(|e| io_error("cannot open", e))?;
    dir.lock().map_err(|e| io_error("cannot lock", e))?;
    let held = dir.metadata().map_err(|e| io_error("cannot inspect", e))?;
    let named = std::fs::metadata(path).map_err(|e| io_error("cannot inspect", e))?;
    if (held.dev(), held.ino()) != (named.dev(), named.ino()) {
        return Err(io_error(
            "cannot keep",
            std::io::Error::other("another process removed the new staging directory"),
        ));
    }
    Ok(dir)
}

/// Removes the staging directories under `parent` whose attempt died before it published or
/// dropped them (SIGKILL, power loss): their lock is free. Ones in use stay locked by their
/// [`Staging`] and are left alone, whichever process holds them.
fn sweep_abandoned(parent: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if !entry.file_type().is_ok_and(|kind| kind.is_dir()) {
            continue;
        }
        let Ok(dir) = File::open(&path) else {
            continue;
        };
        if dir.try_lock().is_err() {
            continue;
        }
        match std::fs::remove_dir_all(&path) {
            Ok(()) => {
                tracing::info!(path = %path.display(), "removed an abandoned staging directory")
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => {
                tracing::warn!(path = %path.display(), %error, "cannot remove an abandoned staging directory")
            }
        }
    }
}

/// One file a publisher makes visible: its published name, where it lies, its size, and its
/// sha256 when the manifest records it (`manifest.json` and `SHA256SUMS` have none there).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagedFile {
    pub name: String,
    pub path: PathBuf,
    pub size: u64,
    pub sha256: Option<repack_core::Sha256Digest>,
}

/// A finished release: a staging directory and its manifest, verified complete.
///
/// Invariant: every part the manifest lists is in the directory with its size, the parts of
/// each file add up to the file's size, `manifest.json` and `SHA256SUMS` are there, and no
/// other file is (checked in [`StagedRelease::new`]).
#[derive(Debug)]
pub struct StagedRelease {
    staging: Staging,
    manifest: Manifest,
}

impl StagedRelease {
    /// Checks that `staging` holds exactly the release `manifest` describes.
    pub fn new(staging: Staging, manifest: Manifest) -> Result<StagedRelease, AssembleError> {
        check_complete(staging.path(), &manifest)?;
        Ok(StagedRelease { staging, manifest })
    }

    /// An already built release directory (its `manifest.json`), adopted: never deleted.
    pub fn open(dir: &Path) -> Result<StagedRelease, AssembleError> {
        let manifest = crate::read_manifest(dir)?;
        StagedRelease::new(Staging::adopt(dir), manifest)
    }

    pub fn dir(&self) -> &Path {
        self.staging.path()
    }

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    pub fn recipe(&self) -> &str {
        &self.manifest.recipe
    }

    /// The build's tag (`<version>-<8 hex of the build key>`).
    pub fn tag(&self) -> &str {
        &self.manifest.tag
    }

    /// Every file to publish, in publishing order: the parts the release stores (not those
    /// it points at in earlier releases), then `SHA256SUMS` and `manifest.json` last (a
    /// release with a manifest is complete).
    pub fn files(&self) -> Vec<StagedFile> {
        let dir = self.dir();
        let mut files: Vec<StagedFile> = self
            .manifest
            .stored_parts()
            .map(|part| StagedFile {
                name: part.name.clone(),
                path: dir.join(&part.name),
                size: part.size,
                sha256: Some(part.sha256),
            })
            .collect();
        for name in [SUMS_NAME, MANIFEST_NAME] {
            let path = dir.join(name);
            // Checked present in `new`; a size of 0 here only if it vanished since.
            let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            files.push(StagedFile {
                name: name.to_owned(),
                path,
                size,
                sha256: None,
            });
        }
        files
    }

    pub fn into_parts(self) -> (Staging, Manifest) {
        (self.staging, self.manifest)
    }
}

/// Every part the manifest stores is present with its size, and nothing else is; a part it
/// points at in an earlier release is not here and has a URL a boot hook can use.
fn check_complete(dir: &Path, manifest: &Manifest) -> Result<(), AssembleError> {
    let incomplete = |problem: String| AssembleError::Incomplete {
        path: dir.to_owned(),
        problem,
    };
    let mut expected: BTreeSet<&str> = [MANIFEST_NAME, SUMS_NAME].into_iter().collect();
    for file in &manifest.files {
        let parts_total: u64 = file.parts.iter().map(|part| part.size).sum();
        if parts_total != file.size {
            return Err(incomplete(format!(
                "parts of {} add up to {parts_total} bytes, not {}",
                file.name, file.size
            )));
        }
        for part in &file.parts {
            crate::check_output_name(&part.name)?;
            if let Some(url) = &part.url {
                if let Err(error) = repack_boot::check_part_url(url) {
                    return Err(incomplete(format!("{}: {error}", part.name)));
                }
                continue;
            }
            let path = dir.join(&part.name);
            let size = std::fs::metadata(&path)
                .map_err(|_| incomplete(format!("{} is missing", part.name)))?
                .len();
            if size != part.size {
                return Err(incomplete(format!(
                    "{} has {size} bytes, the manifest says {}",
                    part.name, part.size
                )));
            }
            expected.insert(&part.name);
        }
    }
    let list_error = |source| AssembleError::Io {
        action: "cannot list",
        path: dir.to_owned(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(list_error)? {
        let name = entry.map_err(list_error)?.file_name();
        let name = name.to_string_lossy();
        if !expected.remove(name.as_ref()) {
            return Err(incomplete(format!("{name} is not listed in the manifest")));
        }
    }
    if let Some(missing) = expected.into_iter().next() {
        return Err(incomplete(format!("{missing} is missing")));
    }
    Ok(())
}
