//! What the catalogue stores: builds going in ([`NewBuild`]) and coming out
//! ([`BuildRecord`]), the state of upstream checks ([`CheckOutcome`], [`CheckRecord`]), the
//! kept copies of feed documents ([`FeedCopy`] going in, [`FeedState`] coming out) and the
//! releases checks found
//! ([`SeenRelease`] going in, [`ReleaseSeen`] coming out).

use crate::{CatalogError, timestamp};
use repack_core::{Arch, BuildKey, Candidate, Manifest, Sha256Digest};
use time::OffsetDateTime;

/// A release that has just been published and is to be recorded and made current.
///
/// Everything the catalogue indexes (key, recipe, arch, version, tag) is read from the
/// manifest, so the row and the stored manifest cannot disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBuild {
    /// The release's `manifest.json`, stored whole.
    pub manifest: Manifest,
    /// Where the release was published: a directory path or a URL.
    pub location: String,
    /// When the release went public (stored in UTC, to the microsecond).
    pub created_at: OffsetDateTime,
}

impl NewBuild {
    /// A build published now at `location`.
    pub fn new(manifest: Manifest, location: impl Into<String>) -> Self {
        NewBuild {
            manifest,
            location: location.into(),
            created_at: timestamp::now(),
        }
    }

    /// The build key, from the manifest's source ISO, recipe hash and format version.
    pub fn key(&self) -> BuildKey {
        BuildKey {
            iso_sha256: self.manifest.source.sha256,
            recipe_hash: self.manifest.recipe_hash,
            format_version: self.manifest.format_version,
        }
    }

    /// The build id ([`BuildKey::id`]): the catalogue's primary key.
    pub fn id(&self) -> Sha256Digest {
        self.key().id()
    }

    pub fn recipe(&self) -> &str {
        &self.manifest.recipe
    }

    pub fn arch(&self) -> Arch {
        self.manifest.arch
    }

    /// Checks that the build describes itself consistently before anything is written.
    pub(crate) fn validate(&self) -> Result<(), CatalogError> {
        let id = self.id();
        let fail = |reason: String| CatalogError::InconsistentBuild {
            build_id: id.to_hex(),
            recipe: self.manifest.recipe.clone(),
            reason,
        };
        if self.manifest.build_key != id {
            return Err(fail(format!(
                "the manifest's build_key {} is not the key of its source ISO, recipe hash and \
                 format version ({id})",
                self.manifest.build_key.to_hex()
            )));
        }
        let required = [
            ("recipe", self.manifest.recipe.as_str()),
            ("version", self.manifest.version.as_str()),
            ("tag", self.manifest.tag.as_str()),
            ("location", self.location.as_str()),
        ];
        for (field, value) in required {
            if value.trim().is_empty() {
                return Err(fail(format!("`{field}` is empty")));
            }
        }
        Ok(())
    }
}

/// A build as recorded in the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildRecord {
    /// [`BuildKey::id`] of `key`; the primary key.
    pub id: Sha256Digest,
    /// ISO sha256, recipe hash and format version.
    pub key: BuildKey,
    pub recipe: String,
    pub arch: Arch,
    pub version: String,
    /// The release tag, e.g. `12.8.0-1a2b3c4d`.
    pub tag: String,
    /// Where the release was published: a directory path or a URL.
    pub location: String,
    /// The release's `manifest.json`, parsed back.
    pub manifest: Manifest,
    /// When the build was recorded (UTC, microseconds).
    pub created_at: OffsetDateTime,
}

/// The result of one upstream check of a recipe (a watcher run).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckOutcome {
    /// The feed was read and understood (whether or not it offered anything new).
    Success,
    /// The check failed. `kind` is the error's stable `kind()` string; `message` is the
    /// full, human-readable error chain.
    Failure { kind: String, message: String },
}

impl CheckOutcome {
    pub fn failure(kind: impl Into<String>, message: impl Into<String>) -> Self {
        CheckOutcome::Failure {
            kind: kind.into(),
            message: message.into(),
        }
    }
}

/// The latest checks of one recipe, for staleness reporting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckRecord {
    pub recipe: String,
    /// The most recent check, successful or not.
    pub last_check_at: OffsetDateTime,
    /// The most recent successful check; `None` if no check ever succeeded.
    pub last_success_at: Option<OffsetDateTime>,
    /// The most recent failure, kept after later successes so it can still be inspected.
    pub last_error: Option<CheckFailure>,
    /// Failures since the last success; 0 when the latest check succeeded.
    pub consecutive_failures: u32,
    /// When the current run of failures began (the first failure after the last success);
    /// `None` when the latest check succeeded.
    pub failing_since: Option<OffsetDateTime>,
}

impl CheckRecord {
    /// True when the latest check failed.
    pub fn is_failing(&self) -> bool {
        self.consecutive_failures > 0
    }
}

/// One recorded check failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckFailure {
    pub at: OffsetDateTime,
    pub kind: String,
    pub message: String,
}

/// A feed document just received with status 200, to keep as the copy of its URL.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FeedCopy<'a> {
    pub etag: Option<&'a str>,
    /// `Last-Modified` as the server wrote it.
    pub last_modified: Option<&'a str>,
    /// For a page of a paginated API, the next page's URL the reply's `Link` header named.
    pub next_url: Option<&'a str>,
    pub body: &'a str,
}

/// The kept copy of one feed document: the body and validators of its last 200.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedState {
    /// The document's upstream URL (the key).
    pub url: String,
    pub etag: Option<String>,
    /// `Last-Modified` as the server wrote it.
    pub last_modified: Option<String>,
    /// For a page of a paginated API: the next page's URL, as the last 200 named it (a 304
    /// need not repeat the `Link` header).
    pub next_url: Option<String>,
    pub body: String,
    /// When the body arrived (the last 200).
    pub stored_at: OffsetDateTime,
    /// The last good check of the URL: the last 200 or the last 304 after it.
    pub checked_at: OffsetDateTime,
}

/// The newest release a check found, to record beside when repack first saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenRelease {
    pub recipe: String,
    pub version: String,
    pub iso_url: String,
    /// `None` when the upstream publishes no checksum.
    pub iso_sha256: Option<Sha256Digest>,
    /// When the upstream published it, when the feed says.
    pub published_at: Option<OffsetDateTime>,
}

impl SeenRelease {
    /// The release `candidate` names. A publish time that is not RFC 3339 is left out
    /// (publish times are informational; watchers normalise them already).
    pub fn of(candidate: &Candidate) -> SeenRelease {
        SeenRelease {
            recipe: candidate.recipe.clone(),
            version: candidate.version.clone(),
            iso_url: candidate.iso_url.clone(),
            iso_sha256: candidate.checksum.sha256(),
            published_at: candidate
                .published_at
                .as_deref()
                .and_then(|text| timestamp::parse(text).ok()),
        }
    }
}

/// A release as recorded: first seen once, last seen at every check that found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseSeen {
    pub recipe: String,
    pub version: String,
    pub iso_url: String,
    pub iso_sha256: Option<Sha256Digest>,
    /// When the upstream published it; kept when a later check's feed no longer says.
    pub published_at: Option<OffsetDateTime>,
    /// The first check that found it. Never changes.
    pub first_seen_at: OffsetDateTime,
    /// The latest check that found it.
    pub last_seen_at: OffsetDateTime,
}
