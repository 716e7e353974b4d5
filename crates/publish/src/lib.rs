//! Publishers make a staged release visible, all at once or not at all.
//!
//! The pipeline asks a [`Publisher`] for a [`Staging`] directory, lays the release out in it
//! (repack-assemble), then calls [`Publisher::publish`]: the publisher checks that every file
//! the manifest lists is there with its size, and only then makes the release visible. A
//! crash at any point leaves either nothing or the complete release; a staging directory that
//! is dropped without being published is deleted. Publishing the same build twice is a no-op.
//!
//! [`DirectoryPublisher`] writes `<root>/<recipe>/<tag>/` on a local filesystem (serve it with
//! any HTTP server, or rsync it to a mirror). A GitHub Releases publisher comes later and
//! implements the same trait.

mod directory;
mod staging;

pub use directory::DirectoryPublisher;
pub use staging::Staging;

use repack_core::Manifest;
use std::future::Future;
use std::path::PathBuf;

/// Where a release ended up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// The release's location relative to the publisher's root: `<recipe>/<tag>`.
    pub location: String,
    /// `false` when an identical release (same build key) was already there.
    pub newly_published: bool,
}

/// Occurs when a release cannot be published; nothing is visible afterwards.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PublishError {
    /// Occurs when a filesystem operation fails.
    #[error("{action} {path}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Occurs when the staged files do not match what the manifest lists.
    #[error("staged release {path} is incomplete: {problem}; nothing was published")]
    Incomplete { path: PathBuf, problem: String },
    /// Occurs when the destination holds a different release under the same tag.
    #[error("{path} already holds a different release (build {existing}); refusing to replace it")]
    Conflict { path: PathBuf, existing: String },
    /// Occurs when the recipe id or tag would not make a plain directory name.
    #[error("`{0}` is not usable as a directory name")]
    BadName(String),
    /// Occurs when the blocking filesystem task could not run.
    #[error("publishing task failed: {0}")]
    Task(String),
}

impl PublishError {
    /// A stable identifier of the failure, for logs, metrics and the catalogue.
    pub fn kind(&self) -> &'static str {
        match self {
            PublishError::Io { .. } => "publish-io",
            PublishError::Incomplete { .. } => "publish-incomplete",
            PublishError::Conflict { .. } => "publish-conflict",
            PublishError::BadName(_) => "publish-bad-name",
            PublishError::Task(_) => "publish-task",
        }
    }
}

/// A place releases are published to.
pub trait Publisher: Send + Sync {
    /// A fresh, empty staging directory for one release of `recipe` tagged `tag`.
    fn create_staging(&self, recipe: &str, tag: &str) -> Result<Staging, PublishError>;

    /// Verifies the staged release against `manifest` and makes it visible.
    fn publish(
        &self,
        staging: Staging,
        manifest: &Manifest,
    ) -> impl Future<Output = Result<Published, PublishError>> + Send;

    /// Replaces a top-level file (e.g. `menu.ipxe`) atomically.
    fn publish_file(
        &self,
        name: &str,
        contents: Vec<u8>,
    ) -> impl Future<Output = Result<(), PublishError>> + Send;
}
