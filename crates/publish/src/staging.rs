//! A staging directory that deletes itself unless it was published.

use std::path::{Path, PathBuf};

/// A directory a release is assembled in. Dropping it removes it and everything inside,
/// so an error anywhere in the pipeline leaves nothing half-written behind.
#[derive(Debug)]
pub struct Staging {
    path: Option<PathBuf>,
}

impl Staging {
    pub(crate) fn new(path: PathBuf) -> Self {
        Staging { path: Some(path) }
    }

    pub fn path(&self) -> &Path {
        self.path
            .as_deref()
            .expect("staging directory is live until consumed")
    }

    /// Hands the directory over (after it was renamed into place); nothing is deleted.
    pub(crate) fn into_path(mut self) -> PathBuf {
        self.path
            .take()
            .expect("staging directory is live until consumed")
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if let Some(path) = self.path.take()
            && let Err(error) = std::fs::remove_dir_all(&path)
            && error.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %path.display(), %error, "cannot remove staging directory");
        }
    }
}
