//! Publishers make a finished, staged release visible, all at once or not at all.
//!
//! The pipeline lays a release out in a staging directory (repack-assemble owns it) and hands
//! the publisher a [`StagedRelease`]: the directory and its manifest, already checked complete.
//! [`Publisher::publish`] makes that release visible and does nothing else; a crash at any
//! point leaves either nothing visible or the complete release, and publishing the same build
//! twice is a no-op ([`Published::newly_published`] is `false`).
//!
//! - [`DirectoryPublisher`] writes `<root>/<recipe>/<tag>/` on a local filesystem with one
//!   `rename(2)` (serve it with any HTTP server, or rsync it to a mirror).
//! - [`GitHubPublisher`] uploads the files as assets of a draft GitHub release, streamed from
//!   disk and checked by size and digest, resumes its own draft after a crash, then publishes
//!   it; [`GitHubPublisher::prune`] applies the retention.
//! - [`AnyPublisher`] is the one the configuration chose.
//!
//! A publisher never builds, stages or rewrites a release: names it cannot publish unchanged
//! are refused before anything is sent.

mod any;
mod directory;
mod error;
pub mod github;

pub use any::AnyPublisher;
pub use directory::DirectoryPublisher;
pub use error::PublishError;
pub use github::{AppCredentials, Credentials, GitHubConfig, GitHubPublisher, RetryPolicy, Token};
pub use repack_assemble::{StagedFile, StagedRelease, Staging};

use repack_core::ManifestPart;
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;

/// The name of the directory publisher's staging directory inside its root (`.staging`).
pub fn directory_staging_dir() -> &'static str {
    directory::STAGING_DIR
}

/// Where a release ended up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// The release's location relative to the publisher's root: `<recipe>/<tag>` for a
    /// directory, `releases/download/<release tag>` for a GitHub repository (relative to the
    /// repository's web URL, so the files are at `<location>/<name>` either way).
    pub location: String,
    /// `false` when an identical release (same build key) was already there.
    pub newly_published: bool,
}

/// What retention keeps whatever its age.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Protection {
    /// Locations never deleted: the catalogue's current builds.
    pub locations: BTreeSet<String>,
    /// For a release's location, the locations its manifest points into (parts it reuses
    /// from earlier releases): a release that stays keeps those too.
    pub references: BTreeMap<String, BTreeSet<String>>,
}

/// A part an earlier release stores, as the catalogue remembers it: the candidate a new
/// build may point at instead of storing the same bytes again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishedPart {
    /// The release's location ([`Published::location`]).
    pub location: String,
    pub part: ManifestPart,
}

/// A place releases are published to.
pub trait Publisher: Send + Sync {
    /// Makes the staged release visible (or finds it already published).
    fn publish(
        &self,
        release: StagedRelease,
    ) -> impl Future<Output = Result<Published, PublishError>> + Send;

    /// Replaces a top-level file (e.g. `menu.ipxe`) atomically; one that already holds
    /// `contents` may be left as it is.
    fn publish_file(
        &self,
        name: &str,
        contents: Vec<u8>,
    ) -> impl Future<Output = Result<(), PublishError>> + Send;

    /// Applies the publisher's retention to `recipe`'s releases: deletes the ones beyond it,
    /// never one whose location `protection` lists, nor one that a release it keeps points
    /// into. Returns the deleted locations. A publisher without a retention setting deletes
    /// nothing.
    fn prune(
        &self,
        recipe: &str,
        protection: &Protection,
    ) -> impl Future<Output = Result<Vec<String>, PublishError>> + Send;

    /// Which of `parts` this publisher still serves unchanged: a published (not draft)
    /// release at the part's location holds it under its name, complete, with its size and
    /// sha256. Only those may be pointed at by a new build.
    fn still_published(
        &self,
        parts: &[PublishedPart],
    ) -> impl Future<Output = Result<Vec<bool>, PublishError>> + Send;
}
