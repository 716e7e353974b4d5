//! Publishing into a local directory tree: `<root>/<recipe>/<tag>/`.
//!
//! Making a release visible is one `rename(2)` of a complete, fsynced directory. A staged
//! release on the same filesystem (the default staging place is `<root>/.staging/`) is
//! renamed where it is; one elsewhere, or an adopted directory that must stay where it is,
//! is first copied into `<root>/.staging/` and renamed from there.

use crate::{
    Protection, PublishError, Published, PublishedPart, Publisher, StagedRelease, Staging,
};
use repack_core::Manifest;
use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

/// Where copies are staged, inside the root, so the final rename stays on one filesystem.
pub const STAGING_DIR: &str = ".staging";

/// Publishes releases as directories under `root`.
#[derive(Debug, Clone)]
pub struct DirectoryPublisher {
    root: PathBuf,
}

impl DirectoryPublisher {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DirectoryPublisher { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the pipeline should stage releases so that publishing is a plain rename.
    pub fn staging_parent(&self) -> PathBuf {
        self.root.join(STAGING_DIR)
    }

    fn publish_blocking(root: &Path, release: StagedRelease) -> Result<Published, PublishError> {
        let (staging, manifest) = release.into_parts();
        check_plain_name(&manifest.recipe)?;
        check_plain_name(&manifest.tag)?;
        let recipe_dir = root.join(&manifest.recipe);
        let destination = recipe_dir.join(&manifest.tag);
        let location = format!("{}/{}", manifest.recipe, manifest.tag);
        if destination.exists() {
            let existing = repack_assemble::read_manifest(&destination).map_err(|error| {
                PublishError::Conflict {
                    path: destination.clone(),
                    existing: format!("unreadable manifest: {error}"),
                }
            })?;
            if existing.build_key != manifest.build_key {
                return Err(PublishError::Conflict {
                    path: destination,
                    existing: existing.build_key.to_string(),
                });
            }
            // Same build already published (a rerun after a crash): drop the staging copy.
            return Ok(Published {
                location,
                newly_published: false,
            });
        }
        std::fs::create_dir_all(&recipe_dir).map_err(|source| PublishError::Io {
            action: "cannot create",
            path: recipe_dir.clone(),
            source,
        })?;
        let staging = if staging.is_owned() {
            sync_dir(staging.path())?;
            match std::fs::rename(staging.path(), &destination) {
                Ok(()) => {
                    staging.keep();
                    None
                }
                Err(error) if error.kind() == std::io::ErrorKind::CrossesDevices => Some(staging),
                Err(source) => {
                    return Err(PublishError::Io {
                        action: "cannot move the staged release to",
                        path: destination,
                        source,
                    });
                }
            }
        } else {
            Some(staging)
        };
        if let Some(source) = staging {
            // Copied next to the destination first, so the release still appears in one step.
            let copy = copy_release(root, source.path(), &manifest)?;
            std::fs::rename(copy.path(), &destination).map_err(|source| PublishError::Io {
                action: "cannot move the staged release to",
                path: destination.clone(),
                source,
            })?;
            copy.keep();
        }
        sync_dir(&recipe_dir)?;
        Ok(Published {
            location,
            newly_published: true,
        })
    }

    fn publish_file_blocking(root: &Path, name: &str, contents: &[u8]) -> Result<(), PublishError> {
        check_plain_name(name)?;
        std::fs::create_dir_all(root).map_err(|source| PublishError::Io {
            action: "cannot create",
            path: root.to_owned(),
            source,
        })?;
        let temporary = root.join(format!(".{name}.tmp"));
        let destination = root.join(name);
        if std::fs::read(&destination).is_ok_and(|existing| existing == contents) {
            // Already there, byte for byte: an unchanged file keeps its time (and caches).
            return Ok(());
        }
        let io_error = |action, path: &Path, source| PublishError::Io {
            action,
            path: path.to_owned(),
            source,
        };
        std::fs::write(&temporary, contents)
            .map_err(|e| io_error("cannot write", &temporary, e))?;
        File::open(&temporary)
            .and_then(|file| file.sync_all())
            .map_err(|e| io_error("cannot flush", &temporary, e))?;
        std::fs::rename(&temporary, &destination)
            .map_err(|e| io_error("cannot replace", &destination, e))?;
        sync_dir(root)
    }
}

/// Writes `name` under `root` atomically (temporary file, fsync, rename); shared with the
/// GitHub publisher, which keeps menus in a local directory.
pub(crate) async fn write_file(
    root: PathBuf,
    name: &str,
    contents: Vec<u8>,
) -> Result<(), PublishError> {
    let name = name.to_owned();
    tokio::task::spawn_blocking(move || {
        DirectoryPublisher::publish_file_blocking(&root, &name, &contents)
    })
    .await
    .map_err(|error| PublishError::Task(error.to_string()))?
}

impl Publisher for DirectoryPublisher {
    async fn publish(&self, release: StagedRelease) -> Result<Published, PublishError> {
        let root = self.root.clone();
        tokio::task::spawn_blocking(move || Self::publish_blocking(&root, release))
            .await
            .map_err(|error| PublishError::Task(error.to_string()))?
    }

    async fn publish_file(&self, name: &str, contents: Vec<u8>) -> Result<(), PublishError> {
        write_file(self.root.clone(), name, contents).await
    }

    async fn prune(
        &self,
        _recipe: &str,
        _protection: &Protection,
    ) -> Result<Vec<String>, PublishError> {
        Ok(Vec::new())
    }

    async fn still_published(&self, parts: &[PublishedPart]) -> Result<Vec<bool>, PublishError> {
        let root = self.root.clone();
        let parts = parts.to_vec();
        tokio::task::spawn_blocking(move || still_published_blocking(&root, &parts))
            .await
            .map_err(|error| PublishError::Task(error.to_string()))
    }
}

/// A published release directory is never changed after its rename, so a part is still
/// there unchanged when the directory's own manifest stores it with the same size and sha256
/// and the file has that size (the bytes are not read again).
fn still_published_blocking(root: &Path, parts: &[PublishedPart]) -> Vec<bool> {
    let mut manifests: BTreeMap<&str, Option<Manifest>> = BTreeMap::new();
    parts
        .iter()
        .map(|candidate| {
            let location = candidate.location.as_str();
            if !location.split('/').all(repack_core::is_plain_name) {
                return false;
            }
            let dir = root.join(location);
            let manifest = manifests
                .entry(location)
                .or_insert_with(|| repack_assemble::read_manifest(&dir).ok());
            let listed = manifest.as_ref().is_some_and(|manifest| {
                manifest.stored_parts().any(|part| {
                    part.name == candidate.part.name
                        && part.size == candidate.part.size
                        && part.sha256 == candidate.part.sha256
                })
            });
            listed
                && repack_core::is_plain_name(&candidate.part.name)
                && std::fs::metadata(dir.join(&candidate.part.name))
                    .is_ok_and(|meta| meta.is_file() && meta.len() == candidate.part.size)
        })
        .collect()
}

/// Copies every file of the release into a fresh staging directory under `root`, fsynced.
fn copy_release(
    root: &Path,
    from: &Path,
    manifest: &repack_core::Manifest,
) -> Result<Staging, PublishError> {
    let copy = Staging::create(&root.join(STAGING_DIR), &manifest.recipe, &manifest.tag)?;
    let names = manifest
        .stored_names()
        .chain([repack_assemble::SUMS_NAME, repack_assemble::MANIFEST_NAME]);
    for name in names {
        let target = copy.path().join(name);
        std::fs::copy(from.join(name), &target)
            .and_then(|_| File::open(&target)?.sync_all())
            .map_err(|source| PublishError::Io {
                action: "cannot copy the release file to",
                path: target.clone(),
                source,
            })?;
    }
    sync_dir(copy.path())?;
    Ok(copy)
}

fn sync_dir(path: &Path) -> Result<(), PublishError> {
    File::open(path)
        .and_then(|dir| dir.sync_all())
        .map_err(|source| PublishError::Io {
            action: "cannot flush",
            path: path.to_owned(),
            source,
        })
}

fn check_plain_name(name: &str) -> Result<(), PublishError> {
    if repack_core::is_plain_name(name) {
        Ok(())
    } else {
        Err(PublishError::BadName(name.to_owned()))
    }
}
