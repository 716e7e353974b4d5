//! Publishing to GitHub Releases: a draft release filled by streamed uploads, checked asset by
//! asset (size and `sha256:` digest), then made public in one call.
//!
//! A run first lists the repository's releases (the get-by-tag endpoint never returns
//! drafts): a *published* release with the tag and this build's identity means there is
//! nothing to do; a *draft* with them is this build's earlier, interrupted attempt and is
//! resumed: complete matching assets are kept, half-made (`starter`) or mismatching ones are
//! deleted, the rest uploaded. Otherwise a new draft is created. `SHA256SUMS` and
//! `manifest.json` go last; only then is the draft published. A failure at any point leaves
//! the draft for the next run, never a second release or a duplicate asset.
//!
//! The release tag is `<recipe>-<version>-<8 hex of the build key>`; the body summarises the
//! manifest and carries two machine-readable markers (HTML comments): the recipe (which
//! releases retention may consider) and the build's identity (its build key, or for an
//! explicit file list a digest of the names and contents).
//!
//! Credentials are a token or a GitHub App installation ([`Credentials`]). A token is only
//! ever put into a sensitive `Authorization` header: [`Token`] prints as `Token(***)`, is not
//! serialisable, and no error or log line carries it; the same holds for an app's key.

mod api;
mod auth;
pub mod names;
pub mod retention;

use crate::{Protection, PublishError, Published, PublishedPart, Publisher, StagedRelease};
use api::{Api, Asset, Release, Session, Upload};
pub use auth::{AppCredentials, Credentials};
use repack_core::Sha256Digest;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

const RECIPE_MARKER: &str = "repack-recipe:";
const IDENTITY_MARKER: &str = "repack-identity:";
/// Where a GitHub release's files are, relative to the repository's web URL.
const LOCATION_PREFIX: &str = "releases/download/";

/// An API token. Its value is only ever sent in the `Authorization` header.
#[derive(Clone)]
pub struct Token(String);

impl Token {
    /// A token as read from the environment or a file (surrounding whitespace removed).
    pub fn new(value: impl Into<String>) -> Token {
        Token(value.into().trim().to_owned())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn header_value(&self) -> reqwest::header::HeaderValue {
        let mut value = reqwest::header::HeaderValue::from_str(&format!("Bearer {}", self.0))
            .unwrap_or_else(|_| reqwest::header::HeaderValue::from_static("Bearer invalid"));
        value.set_sensitive(true);
        value
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(***)")
    }
}

/// How long the publisher keeps trying when GitHub fails.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Total time one publishing run may spend retrying 5xx answers and broken connections
    /// before it fails (the draft stays resumable).
    pub budget: Duration,
    /// The first wait between retries; it doubles up to `max_backoff`.
    pub first_backoff: Duration,
    pub max_backoff: Duration,
    /// The longest wait for a rate limit to reset; a later reset fails the run at once.
    pub max_rate_limit_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            budget: Duration::from_secs(600),
            first_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(60),
            max_rate_limit_wait: Duration::from_secs(3600),
        }
    }
}

/// Where and how to publish on GitHub.
#[derive(Debug, Clone)]
pub struct GitHubConfig {
    /// `owner/name`.
    pub repo: String,
    /// The REST API's base URL (GitHub Enterprise: `https://HOST/api/v3`).
    pub api_url: String,
    /// The upload API's base URL (GitHub Enterprise: `https://HOST/api/uploads`).
    pub uploads_url: String,
    /// A token, or a GitHub App installation.
    pub credentials: Credentials,
    /// Published releases kept per recipe by [`GitHubPublisher::prune`]; `None` keeps all.
    pub keep: Option<usize>,
    pub retry: RetryPolicy,
    /// Where top-level files (`menu.ipxe`) are written; they are not release assets.
    pub menu_dir: Option<PathBuf>,
}

/// Publishes releases as GitHub releases of one repository.
#[derive(Debug)]
pub struct GitHubPublisher {
    api: Api,
    repo: String,
    keep: Option<usize>,
    menu_dir: Option<PathBuf>,
}

/// One asset to publish: its name, where its bytes are, their size and sha256.
#[derive(Debug, Clone)]
struct PlannedAsset {
    name: String,
    path: PathBuf,
    size: u64,
    sha256: Sha256Digest,
}

/// Everything one release will be.
#[derive(Debug)]
struct ReleasePlan {
    tag: String,
    title: String,
    body: String,
    identity: String,
    assets: Vec<PlannedAsset>,
}

impl GitHubPublisher {
    pub fn new(config: GitHubConfig) -> Result<GitHubPublisher, PublishError> {
        let valid_repo = config.repo.split_once('/').is_some_and(|(owner, name)| {
            repack_core::is_plain_name(owner) && repack_core::is_plain_name(name)
        });
        if !valid_repo {
            return Err(PublishError::GitHubConfig(format!(
                "repository `{}` is not `owner/name`",
                config.repo
            )));
        }
        let api = Api::new(
            &config.api_url,
            &config.uploads_url,
            &config.repo,
            config.credentials,
            config.retry,
        )?;
        if api.has_no_credentials() {
            return Err(PublishError::GitHubConfig("the token is empty".to_owned()));
        }
        Ok(GitHubPublisher {
            api,
            repo: config.repo,
            keep: config.keep,
            menu_dir: config.menu_dir,
        })
    }

    pub fn repo(&self) -> &str {
        &self.repo
    }

    /// The release tag of a build: `<recipe>-<version>-<8 hex of the build key>`.
    pub fn release_tag(recipe: &str, build_tag: &str) -> String {
        format!("{recipe}-{build_tag}")
    }

    /// Publishes exactly `files` as the assets of release `tag` (named by their file names),
    /// by the same steps as a staged release. Its identity is a digest of the names and
    /// contents, so the same files again are a no-op and other files under a published tag
    /// are refused.
    pub async fn publish_files(
        &self,
        tag: &str,
        files: &[PathBuf],
    ) -> Result<Published, PublishError> {
        if !repack_core::is_plain_name(tag) {
            return Err(PublishError::BadName(tag.to_owned()));
        }
        let mut staged = Vec::new();
        for path in files {
            let name = path
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default();
            let size = std::fs::metadata(path)
                .map_err(|source| PublishError::Io {
                    action: "cannot read",
                    path: path.clone(),
                    source,
                })?
                .len();
            names::check_asset(&name, size)?;
            if staged.iter().any(|(other, _, _)| *other == name) {
                return Err(PublishError::GitHubConfig(format!(
                    "two files are named `{name}`; asset names must be unique"
                )));
            }
            staged.push((name, path.clone(), size));
        }
        let assets = hash_all(staged).await?;
        let mut identity = sha2::Sha256::default();
        let mut body = format!("{} files published by repack.\n\n", assets.len());
        for asset in &assets {
            sha2::Digest::update(
                &mut identity,
                format!("{} {} {}\n", asset.name, asset.size, asset.sha256),
            );
            body.push_str(&format!(
                "- `{}`: {} bytes, sha256 `{}`\n",
                asset.name, asset.size, asset.sha256
            ));
        }
        let identity = hex_of(sha2::Digest::finalize(identity).as_slice());
        body.push_str(&format!("\n<!-- {IDENTITY_MARKER} {identity} -->\n"));
        let plan = ReleasePlan {
            tag: tag.to_owned(),
            title: tag.to_owned(),
            body,
            identity,
            assets,
        };
        self.publish_plan(&plan).await
    }

    /// Deletes `recipe`'s published releases beyond the newest `keep`, never one whose tag is
    /// in `protected_tags` nor one a staying release points into (`references`, by tag).
    /// Returns the deleted tags.
    pub async fn prune_tags(
        &self,
        recipe: &str,
        keep: usize,
        protected_tags: &BTreeSet<String>,
        references: &BTreeMap<String, BTreeSet<String>>,
    ) -> Result<Vec<String>, PublishError> {
        let session = self.api.session();
        let releases: Vec<retention::ReleaseInfo> = self
            .api
            .list_releases(&session)
            .await?
            .into_iter()
            .map(|release| retention::ReleaseInfo {
                recipe: marker(release.body.as_deref(), RECIPE_MARKER).map(str::to_owned),
                id: release.id,
                tag: release.tag_name,
                draft: release.draft,
                published_at: release.published_at,
            })
            .collect();
        let mut deleted = Vec::new();
        for release in
            retention::releases_to_delete(&releases, recipe, keep, protected_tags, references)
        {
            tracing::info!(repo = %self.repo, tag = %release.tag, "retention: deleting release");
            self.api.delete_release(&session, release.id).await?;
            deleted.push(release.tag.clone());
        }
        Ok(deleted)
    }

    async fn plan_for(&self, release: &StagedRelease) -> Result<ReleasePlan, PublishError> {
        let manifest = release.manifest();
        let files = release.files();
        for file in &files {
            names::check_asset(&file.name, file.size)?;
        }
        let mut known = Vec::new();
        let mut unknown = Vec::new();
        for file in files {
            match file.sha256 {
                Some(sha256) => known.push(PlannedAsset {
                    name: file.name,
                    path: file.path,
                    size: file.size,
                    sha256,
                }),
                None => unknown.push((file.name, file.path, file.size)),
            }
        }
        known.extend(hash_all(unknown).await?);
        let tag = Self::release_tag(&manifest.recipe, &manifest.tag);
        let identity = manifest.build_key.to_hex();
        let total: u64 = manifest.files.iter().map(|file| file.size).sum();
        let mut body = format!(
            "{} {} ({}), repacked for network booting.\n\n\
             - source ISO: {}\n- source sha256: `{}` ({} bytes)\n- build key: `{}`\n\
             - boot family: {:?}, RAM needed: {} MiB\n- files: {} ({} bytes)\n",
            manifest.name,
            manifest.version,
            manifest.arch,
            manifest.source.url,
            manifest.source.sha256,
            manifest.source.size,
            manifest.build_key,
            manifest.boot_family,
            manifest.ram_mib,
            manifest.files.len(),
            total,
        );
        for file in &manifest.files {
            body.push_str(&format!(
                "  - `{}` ({:?}, {} bytes in {} part(s))\n",
                file.name,
                file.role,
                file.size,
                file.parts.len()
            ));
            // Parts stored by an earlier release are not assets of this one: say where.
            for part in &file.parts {
                if let Some(url) = &part.url {
                    body.push_str(&format!(
                        "    - `{}` ({} bytes) is the earlier release's {url}\n",
                        part.name, part.size
                    ));
                }
            }
        }
        body.push_str(&format!(
            "\n<!-- {RECIPE_MARKER} {} -->\n<!-- {IDENTITY_MARKER} {identity} -->\n",
            manifest.recipe
        ));
        Ok(ReleasePlan {
            title: format!("{} {} ({})", manifest.name, manifest.version, manifest.arch),
            tag,
            body,
            identity,
            assets: known,
        })
    }

    async fn publish_plan(&self, plan: &ReleasePlan) -> Result<Published, PublishError> {
        for asset in &plan.assets {
            names::check_asset(&asset.name, asset.size)?;
        }
        let location = format!("{LOCATION_PREFIX}{}", plan.tag);
        let session = self.api.session();
        let releases = self.api.list_releases(&session).await?;
        let same_tag: Vec<&Release> = releases
            .iter()
            .filter(|release| release.tag_name == plan.tag)
            .collect();
        if let Some(published) = same_tag.iter().find(|release| !release.draft) {
            return if marker(published.body.as_deref(), IDENTITY_MARKER)
                == Some(plan.identity.as_str())
            {
                tracing::info!(repo = %self.repo, tag = %plan.tag, "already published; nothing to do");
                Ok(Published {
                    location,
                    newly_published: false,
                })
            } else {
                Err(PublishError::ReleaseConflict {
                    tag: plan.tag.clone(),
                    detail: "its body does not carry this build's identity".to_owned(),
                })
            };
        }
        let resumed = same_tag
            .iter()
            .filter(|release| {
                release.draft
                    && marker(release.body.as_deref(), IDENTITY_MARKER)
                        == Some(plan.identity.as_str())
            })
            .min_by_key(|release| release.id);
        let draft = match resumed {
            Some(draft) => {
                tracing::info!(repo = %self.repo, tag = %plan.tag, release = draft.id, "resuming the draft release of an earlier attempt");
                draft.id
            }
            None => self.create_draft(&session, plan).await?,
        };
        self.fill_and_publish(&session, draft, plan)
            .await
            .map_err(PublishError::with_draft_left)?;
        tracing::info!(repo = %self.repo, tag = %plan.tag, "release published");
        Ok(Published {
            location,
            newly_published: true,
        })
    }

    /// Creates this build's draft. Creating is not idempotent: when the answer is lost (5xx,
    /// broken connection) the release may exist all the same, so the releases are listed
    /// again before another attempt, and a draft carrying this build's identity is used.
    async fn create_draft(
        &self,
        session: &Session,
        plan: &ReleasePlan,
    ) -> Result<u64, PublishError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let failure = match self
                .api
                .create_draft_once(session, &plan.tag, &plan.title, &plan.body)
                .await
            {
                Ok(draft) => {
                    tracing::info!(repo = %self.repo, tag = %plan.tag, release = draft.id, "draft release created");
                    return Ok(draft.id);
                }
                Err(PublishError::GitHubUnavailable { endpoint, last, .. }) => (endpoint, last),
                Err(error) => return Err(error),
            };
            self.api
                .pause(session, attempt, &failure.0, failure.1)
                .await?;
            let found = self
                .api
                .list_releases(session)
                .await?
                .into_iter()
                .filter(|release| {
                    release.draft
                        && release.tag_name == plan.tag
                        && marker(release.body.as_deref(), IDENTITY_MARKER)
                            == Some(plan.identity.as_str())
                })
                .min_by_key(|release| release.id);
            if let Some(draft) = found {
                tracing::info!(repo = %self.repo, tag = %plan.tag, release = draft.id, "the draft was created though the answer was lost");
                return Ok(draft.id);
            }
        }
    }

    async fn fill_and_publish(
        &self,
        session: &Session,
        draft: u64,
        plan: &ReleasePlan,
    ) -> Result<(), PublishError> {
        let mut existing = self.api.list_assets(session, draft).await?;
        for asset in &plan.assets {
            self.sync_asset(session, draft, asset, &mut existing)
                .await?;
        }
        // Anything else on the draft (left by an attempt with other files) does not belong.
        for stray in existing
            .iter()
            .filter(|asset| !plan.assets.iter().any(|planned| planned.name == asset.name))
        {
            tracing::info!(name = %stray.name, "deleting an asset the release does not list");
            self.api.delete_asset(session, stray.id).await?;
        }
        let release = match self.api.publish_release(session, draft).await {
            Ok(release) => release,
            // A retried PATCH whose first answer was lost finds the release already public
            // (and, if immutable, refuses to touch it): look before failing.
            Err(error @ PublishError::GitHub { status: 422, .. }) => {
                let releases = self.api.list_releases(session).await?;
                match releases.into_iter().find(|r| r.id == draft && !r.draft) {
                    Some(release) => release,
                    None => return Err(error),
                }
            }
            Err(error) => return Err(error),
        };
        if release.draft {
            return Err(PublishError::GitHub {
                endpoint: format!("PATCH /repos/{}/releases/{draft}", self.repo),
                status: 200,
                message: "the release is still a draft after publishing it".to_owned(),
                draft_left: true,
            });
        }
        Ok(())
    }

    /// Makes `existing` hold `asset`, complete and matching: keeps a matching one, deletes a
    /// half-made or different one, uploads otherwise.
    async fn sync_asset(
        &self,
        session: &Session,
        draft: u64,
        asset: &PlannedAsset,
        existing: &mut Vec<Asset>,
    ) -> Result<(), PublishError> {
        let digest = format!("sha256:{}", asset.sha256);
        loop {
            if let Some(index) = existing.iter().position(|found| found.name == asset.name) {
                let found = &existing[index];
                if found.state == "uploaded"
                    && found.size == asset.size
                    && found.digest.as_deref() == Some(digest.as_str())
                {
                    tracing::info!(name = %asset.name, "asset already uploaded; kept");
                    return Ok(());
                }
                tracing::info!(name = %asset.name, state = %found.state, size = found.size, "deleting a half-made or different asset");
                self.api.delete_asset(session, found.id).await?;
                existing.remove(index);
            }
            tracing::info!(name = %asset.name, size = asset.size, "uploading asset");
            match self
                .api
                .upload(session, draft, &asset.name, &asset.path, asset.size)
                .await?
            {
                Upload::Done(uploaded) => {
                    let problem = if uploaded.name != asset.name {
                        Some(format!("GitHub stored it as `{}`", uploaded.name))
                    } else if uploaded.size != asset.size {
                        Some(format!(
                            "{} bytes arrived, {} were sent",
                            uploaded.size, asset.size
                        ))
                    } else if uploaded.digest.as_deref() != Some(digest.as_str()) {
                        Some(format!(
                            "digest {} instead of {digest}",
                            uploaded.digest.as_deref().unwrap_or("(none)")
                        ))
                    } else {
                        None
                    };
                    if let Some(problem) = problem {
                        self.api.delete_asset(session, uploaded.id).await?;
                        return Err(PublishError::UploadMismatch {
                            name: asset.name.clone(),
                            problem,
                            draft_left: true,
                        });
                    }
                    existing.push(uploaded);
                    return Ok(());
                }
                Upload::NameTaken => {
                    // An earlier attempt (of this run, cut off after leaving a `starter`)
                    // holds the name: look again, and delete it on the next turn. Only the
                    // retry budget bounds this, as it bounds the failures causing it.
                    *existing = self.api.list_assets(session, draft).await?;
                    if !existing.iter().any(|found| found.name == asset.name) {
                        return Err(PublishError::GitHub {
                            endpoint: format!("POST /repos/{}/releases/{draft}/assets", self.repo),
                            status: 422,
                            message: format!(
                                "the name {} is taken, but by no asset of the release",
                                asset.name
                            ),
                            draft_left: true,
                        });
                    }
                }
            }
        }
    }
}

impl Publisher for GitHubPublisher {
    async fn publish(&self, release: StagedRelease) -> Result<Published, PublishError> {
        let plan = self.plan_for(&release).await?;
        let published = self.publish_plan(&plan).await?;
        // The staging directory (when the build's own) goes with `release`.
        drop(release);
        Ok(published)
    }

    async fn publish_file(&self, name: &str, contents: Vec<u8>) -> Result<(), PublishError> {
        match &self.menu_dir {
            Some(dir) => crate::directory::write_file(dir.clone(), name, contents).await,
            None => {
                tracing::info!(%name, "no menu directory configured; not written");
                Ok(())
            }
        }
    }

    async fn prune(
        &self,
        recipe: &str,
        protection: &Protection,
    ) -> Result<Vec<String>, PublishError> {
        let Some(keep) = self.keep else {
            return Ok(Vec::new());
        };
        let tags_of = |locations: &BTreeSet<String>| -> BTreeSet<String> {
            locations
                .iter()
                .filter_map(|location| location.strip_prefix(LOCATION_PREFIX))
                .map(str::to_owned)
                .collect()
        };
        let protected_tags = tags_of(&protection.locations);
        let references: BTreeMap<String, BTreeSet<String>> = protection
            .references
            .iter()
            .filter_map(|(location, targets)| {
                let tag = location.strip_prefix(LOCATION_PREFIX)?;
                Some((tag.to_owned(), tags_of(targets)))
            })
            .collect();
        let deleted = self
            .prune_tags(recipe, keep, &protected_tags, &references)
            .await?;
        Ok(deleted
            .into_iter()
            .map(|tag| format!("{LOCATION_PREFIX}{tag}"))
            .collect())
    }

    async fn still_published(&self, parts: &[PublishedPart]) -> Result<Vec<bool>, PublishError> {
        if parts.is_empty() {
            return Ok(Vec::new());
        }
        let session = self.api.session();
        let releases = self.api.list_releases(&session).await?;
        let mut assets_by_tag: BTreeMap<&str, Vec<Asset>> = BTreeMap::new();
        let mut answers = Vec::with_capacity(parts.len());
        for candidate in parts {
            let Some(tag) = candidate.location.strip_prefix(LOCATION_PREFIX) else {
                answers.push(false);
                continue;
            };
            // Drafts are not served to anyone: only a published release counts.
            let Some(release) = releases
                .iter()
                .find(|release| release.tag_name == tag && !release.draft)
            else {
                answers.push(false);
                continue;
            };
            if !assets_by_tag.contains_key(tag) {
                let assets = self.api.list_assets(&session, release.id).await?;
                assets_by_tag.insert(tag, assets);
            }
            let digest = format!("sha256:{}", candidate.part.sha256);
            let held = assets_by_tag[tag].iter().any(|asset| {
                asset.name == candidate.part.name
                    && asset.state == "uploaded"
                    && asset.size == candidate.part.size
                    && asset.digest.as_deref() == Some(digest.as_str())
            });
            answers.push(held);
        }
        Ok(answers)
    }
}

/// The value after `<!-- {key} ` in a release body.
fn marker<'a>(body: Option<&'a str>, key: &str) -> Option<&'a str> {
    body?.lines().find_map(|line| {
        line.trim()
            .strip_prefix("<!--")?
            .strip_suffix("-->")?
            .trim()
            .strip_prefix(key)
            .map(str::trim)
    })
}

/// Hashes files the manifest has no sha256 for, each read once from disk, off the runtime.
async fn hash_all(files: Vec<(String, PathBuf, u64)>) -> Result<Vec<PlannedAsset>, PublishError> {
    tokio::task::spawn_blocking(move || {
        files
            .into_iter()
            .map(|(name, path, size)| {
                let sha256 = hash_file(&path)?;
                Ok(PlannedAsset {
                    name,
                    path,
                    size,
                    sha256,
                })
            })
            .collect()
    })
    .await
    .map_err(|error| PublishError::Task(error.to_string()))?
}

fn hash_file(path: &std::path::Path) -> Result<Sha256Digest, PublishError> {
    use sha2::Digest as _;
    use std::io::Read as _;
    let io_error = |source| PublishError::Io {
        action: "cannot read",
        path: path.to_owned(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(io_error)?;
    let mut hasher = sha2::Sha256::new();
    let mut buffer = vec![0; 256 * 1024];
    loop {
        let read = file.read(&mut buffer).map_err(io_error)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    Ok(Sha256Digest::from_bytes(hasher.finalize().into()))
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}
