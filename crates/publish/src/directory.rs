//! Publishing into a local directory tree: `<root>/<recipe>/<tag>/`.
//!
//! Staging directories live in `<root>/.staging/`, on the same filesystem as the releases, so
//! making a release visible is one `rename(2)` of a complete, fsynced directory.

use crate::{PublishError, Published, Publisher, Staging};
use repack_core::Manifest;
use std::collections::BTreeSet;
use std::fs::File;
use std::path::{Path, PathBuf};

const STAGING_DIR: &str = ".staging";
/// Files every release directory has besides the manifest's own.
const RELEASE_METADATA: &[&str] = &["manifest.json", "SHA256SUMS"];

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

    fn publish_blocking(
        root: &Path,
        staging: Staging,
        manifest: &Manifest,
    ) -> Result<Published, PublishError> {
        check_plain_name(&manifest.recipe)?;
        check_plain_name(&manifest.tag)?;
        check_complete(staging.path(), manifest)?;
        sync_dir(staging.path())?;
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
        std::fs::rename(staging.path(), &destination).map_err(|source| PublishError::Io {
            action: "cannot move the staged release to",
            path: destination.clone(),
            source,
        })?;
        staging.into_path();
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

impl Publisher for DirectoryPublisher {
    fn create_staging(&self, recipe: &str, tag: &str) -> Result<Staging, PublishError> {
        check_plain_name(recipe)?;
        check_plain_name(tag)?;
        let parent = self.root.join(STAGING_DIR);
        std::fs::create_dir_all(&parent).map_err(|source| PublishError::Io {
            action: "cannot create",
            path: parent.clone(),
            source,
        })?;
        // A unique name per attempt: concurrent or crashed attempts never share a directory.
        let unique = format!(
            "{recipe}-{tag}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|elapsed| elapsed.as_nanos())
                .unwrap_or_default()
        );
        let path = parent.join(unique);
        std::fs::create_dir(&path).map_err(|source| PublishError::Io {
            action: "cannot create",
            path: path.clone(),
            source,
        })?;
        Ok(Staging::new(path))
    }

    async fn publish(
        &self,
        staging: Staging,
        manifest: &Manifest,
    ) -> Result<Published, PublishError> {
        let root = self.root.clone();
        let manifest = manifest.clone();
        tokio::task::spawn_blocking(move || Self::publish_blocking(&root, staging, &manifest))
            .await
            .map_err(|error| PublishError::Task(error.to_string()))?
    }

    async fn publish_file(&self, name: &str, contents: Vec<u8>) -> Result<(), PublishError> {
        let root = self.root.clone();
        let name = name.to_owned();
        tokio::task::spawn_blocking(move || Self::publish_file_blocking(&root, &name, &contents))
            .await
            .map_err(|error| PublishError::Task(error.to_string()))?
    }
}

/// Every part the manifest lists is present with its size, and nothing else is.
fn check_complete(dir: &Path, manifest: &Manifest) -> Result<(), PublishError> {
    let incomplete = |problem: String| PublishError::Incomplete {
        path: dir.to_owned(),
        problem,
    };
    let mut expected: BTreeSet<&str> = RELEASE_METADATA.iter().copied().collect();
    for file in &manifest.files {
        let parts_total: u64 = file.parts.iter().map(|part| part.size).sum();
        if parts_total != file.size {
            return Err(incomplete(format!(
                "parts of {} add up to {parts_total} bytes, not {}",
                file.name, file.size
            )));
        }
        for part in &file.parts {
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
    let entries = std::fs::read_dir(dir).map_err(|source| PublishError::Io {
        action: "cannot list",
        path: dir.to_owned(),
        source,
    })?;
    for entry in entries {
        let entry = entry.map_err(|source| PublishError::Io {
            action: "cannot list",
            path: dir.to_owned(),
            source,
        })?;
        let name = entry.file_name();
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
