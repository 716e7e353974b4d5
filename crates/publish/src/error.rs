//! [`PublishError`]: why a release was not published, with a stable `kind()`.

use std::path::PathBuf;

/// Occurs when a release cannot be published; nothing new is visible afterwards.
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
    /// Occurs when a release directory is not a complete staged release.
    #[error(transparent)]
    Staged(#[from] repack_assemble::AssembleError),
    /// Occurs when the destination holds a different release under the same tag.
    #[error("{path} already holds a different release (build {existing}); refusing to replace it")]
    Conflict { path: PathBuf, existing: String },
    /// Occurs when the recipe id or tag would not make a plain directory name.
    #[error("`{0}` is not usable as a directory name")]
    BadName(String),
    /// Occurs when the blocking filesystem task could not run.
    #[error("publishing task failed: {0}")]
    Task(String),
    /// Occurs when GitHub would store an asset under another name than the manifest's.
    #[error("asset name `{name}` would be renamed by GitHub ({reason}); nothing was uploaded")]
    AssetName { name: String, reason: &'static str },
    /// Occurs when a file is too large to be one release asset.
    #[error(
        "{name} has {size} bytes; a GitHub release asset must be smaller than 2 GiB (split it into parts); nothing was uploaded"
    )]
    AssetTooLarge { name: String, size: u64 },
    /// Occurs when the GitHub settings cannot work (repository name, URLs).
    #[error("GitHub publisher: {0}")]
    GitHubConfig(String),
    /// Occurs when the GitHub API refuses a request for a reason retrying cannot fix.
    #[error("GitHub answered {status} to {endpoint}: {message}{draft}", draft = draft_note(*.draft_left))]
    GitHub {
        endpoint: String,
        status: u16,
        message: String,
        /// A draft release was left behind; the next run resumes it.
        draft_left: bool,
    },
    /// Occurs when GitHub keeps failing (5xx, connection resets) past the retry budget.
    #[error(
        "GitHub kept failing for {endpoint}: {last} ({attempts} attempts within {budget_secs} s){draft}",
        draft = draft_note(*.draft_left)
    )]
    GitHubUnavailable {
        endpoint: String,
        attempts: u32,
        budget_secs: u64,
        last: String,
        draft_left: bool,
    },
    /// Occurs when the rate limit resets later than the publisher may wait.
    #[error(
        "GitHub rate limit exhausted for {endpoint}; it resets in {wait_secs} s, longer than the {cap_secs} s this publisher waits{draft}",
        draft = draft_note(*.draft_left)
    )]
    RateLimited {
        endpoint: String,
        wait_secs: u64,
        cap_secs: u64,
        draft_left: bool,
    },
    /// Occurs when an uploaded asset is not what was sent (size, digest or name differ).
    #[error("uploaded asset {name} does not match: {problem}{draft}", draft = draft_note(*.draft_left))]
    UploadMismatch {
        name: String,
        problem: String,
        draft_left: bool,
    },
    /// Occurs when the release tag already belongs to another published release.
    #[error(
        "GitHub release {tag} is already published with other contents ({detail}); refusing to touch it"
    )]
    ReleaseConflict { tag: String, detail: String },
}

fn draft_note(draft_left: bool) -> &'static str {
    if draft_left {
        "; the draft release is left as it is and the next run resumes it"
    } else {
        ""
    }
}

impl PublishError {
    /// A stable identifier of the failure, for logs, metrics and the catalogue.
    pub fn kind(&self) -> &'static str {
        match self {
            PublishError::Io { .. } => "publish-io",
            PublishError::Staged(error) => error.kind(),
            PublishError::Conflict { .. } => "publish-conflict",
            PublishError::BadName(_) => "publish-bad-name",
            PublishError::Task(_) => "publish-task",
            PublishError::AssetName { .. } => "publish-asset-name",
            PublishError::AssetTooLarge { .. } => "publish-asset-too-large",
            PublishError::GitHubConfig(_) => "publish-github-config",
            PublishError::GitHub { .. } => "publish-github-refused",
            PublishError::GitHubUnavailable { .. } => "publish-github-unavailable",
            PublishError::RateLimited { .. } => "publish-github-rate-limited",
            PublishError::UploadMismatch { .. } => "publish-upload-mismatch",
            PublishError::ReleaseConflict { .. } => "publish-conflict",
        }
    }

    /// Marks a GitHub failure as having left a resumable draft behind.
    pub(crate) fn with_draft_left(mut self) -> PublishError {
        match &mut self {
            PublishError::GitHub { draft_left, .. }
            | PublishError::GitHubUnavailable { draft_left, .. }
            | PublishError::RateLimited { draft_left, .. }
            | PublishError::UploadMismatch { draft_left, .. } => *draft_left = true,
            _ => {}
        }
        self
    }
}
