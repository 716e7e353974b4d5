//! The status of every recipe, as one row each: what upstream offers, what is published and
//! since when, whether the checks are failing (since when, why) or stale, how big the release
//! is to download and how much RAM it needs, and where its files are. Collected from the
//! catalogue alone, so the status page (`/`), the JSON API and `repack status` agree.

use repack_catalog::{BuildRecord, Catalog, CatalogError, CheckRecord, ReleaseSeen};
use repack_menu::MenuEntry;
use serde::Serialize;
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// A recipe whose last successful check is older than this is reported [`State::Stale`]:
/// its upstream may have moved on without repack noticing. Recipes are checked daily, so two
/// missed days mean the schedule or the worker is broken.
pub const DEFAULT_STALE_AFTER: time::Duration = time::Duration::hours(48);

/// Where a recipe stands; the status page lists the worst first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// The latest check failed.
    Failing,
    /// No successful check for [`DEFAULT_STALE_AFTER`] (or the configured span).
    Stale,
    /// Upstream offers a version that is not the published one; a build is due.
    Behind,
    /// Nothing is published yet.
    Unpublished,
    /// The published build is upstream's newest.
    Current,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Failing => "failing",
            State::Stale => "stale",
            State::Behind => "behind",
            State::Unpublished => "unpublished",
            State::Current => "current",
        }
    }
}

/// One recipe's row.
#[derive(Debug, Clone, Serialize)]
pub struct RecipeStatus {
    pub recipe: String,
    /// Display name, from the recipe or the published manifest.
    pub name: String,
    pub state: State,
    /// The newest release the checks found upstream.
    pub upstream: Option<Upstream>,
    /// The current build per architecture.
    pub published: Vec<Published>,
    pub check: Option<Check>,
}

/// The newest release seen upstream.
#[derive(Debug, Clone, Serialize)]
pub struct Upstream {
    pub version: String,
    pub iso_url: String,
    /// When the upstream published it, when its feed says.
    #[serde(with = "time::serde::rfc3339::option")]
    pub published_at: Option<OffsetDateTime>,
    /// When a check first found it.
    #[serde(with = "time::serde::rfc3339")]
    pub first_seen_at: OffsetDateTime,
}

/// A current build.
#[derive(Debug, Clone, Serialize)]
pub struct Published {
    pub arch: String,
    pub version: String,
    pub tag: String,
    /// When it became current.
    #[serde(with = "time::serde::rfc3339")]
    pub live_since: OffsetDateTime,
    /// Everything a booting machine downloads: every published file's size, summed.
    pub download_bytes: u64,
    /// RAM the live system needs, from the manifest.
    pub ram_mib: u64,
    /// Seconds from the upstream's publish time (or, without one, from when repack first saw
    /// the release) to the build going live.
    pub upstream_delay_seconds: Option<i64>,
    pub files: Vec<FileLink>,
}

/// One published file (each part of a split file is its own link).
#[derive(Debug, Clone, Serialize)]
pub struct FileLink {
    pub name: String,
    pub size: u64,
    pub url: String,
}

/// The recipe's latest checks.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    #[serde(with = "time::serde::rfc3339")]
    pub last_check_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_success_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub failing_since: Option<OffsetDateTime>,
    pub consecutive_failures: u32,
    /// The latest failure; kept after a later success, so read `consecutive_failures` first.
    pub last_error: Option<CheckError>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckError {
    pub kind: String,
    pub message: String,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// A recipe known from the recipe directories (recipes never checked still get a row).
#[derive(Debug, Clone)]
pub struct KnownRecipe {
    pub id: String,
    pub name: String,
}

/// Collects one row per recipe: every recipe in `known`, and every recipe the catalogue has
/// data for, sorted by id. File URLs are `public_url` + the build's location + the name.
pub async fn collect(
    catalog: &Catalog,
    known: &[KnownRecipe],
    public_url: &str,
    now: OffsetDateTime,
    stale_after: time::Duration,
) -> Result<Vec<RecipeStatus>, CatalogError> {
    let mut names: BTreeMap<String, String> = known
        .iter()
        .map(|recipe| (recipe.id.clone(), recipe.name.clone()))
        .collect();
    let mut builds: BTreeMap<String, Vec<BuildRecord>> = BTreeMap::new();
    for build in catalog.current_builds().await? {
        names
            .entry(build.recipe.clone())
            .or_insert_with(|| build.manifest.name.clone());
        builds.entry(build.recipe.clone()).or_default().push(build);
    }
    let mut checks: BTreeMap<String, CheckRecord> = BTreeMap::new();
    for check in catalog.checks().await? {
        names
            .entry(check.recipe.clone())
            .or_insert_with(|| check.recipe.clone());
        checks.insert(check.recipe.clone(), check);
    }
    let mut rows = Vec::with_capacity(names.len());
    for (recipe, name) in names {
        let seen = catalog.releases_seen(&recipe).await?;
        let builds = builds.remove(&recipe).unwrap_or_default();
        let check = checks.remove(&recipe);
        rows.push(row(
            recipe,
            name,
            &seen,
            &builds,
            check,
            public_url,
            now,
            stale_after,
        ));
    }
    Ok(rows)
}

#[allow(clippy::too_many_arguments)]
fn row(
    recipe: String,
    name: String,
    seen: &[ReleaseSeen],
    builds: &[BuildRecord],
    check: Option<CheckRecord>,
    public_url: &str,
    now: OffsetDateTime,
    stale_after: time::Duration,
) -> RecipeStatus {
    // `releases_seen` comes most recently seen first: the newest release of the last check.
    let upstream = seen.first().map(|release| Upstream {
        version: release.version.clone(),
        iso_url: release.iso_url.clone(),
        published_at: release.published_at,
        first_seen_at: release.first_seen_at,
    });
    let published: Vec<Published> = builds
        .iter()
        .map(|build| published(build, seen, public_url))
        .collect();
    let check = check.map(|check| Check {
        last_check_at: check.last_check_at,
        last_success_at: check.last_success_at,
        failing_since: check.failing_since,
        consecutive_failures: check.consecutive_failures,
        last_error: check.last_error.map(|error| CheckError {
            kind: error.kind,
            message: error.message,
            at: error.at,
        }),
    });
    let state = state(
        upstream.as_ref(),
        &published,
        check.as_ref(),
        now,
        stale_after,
    );
    RecipeStatus {
        recipe,
        name,
        state,
        upstream,
        published,
        check,
    }
}

fn state(
    upstream: Option<&Upstream>,
    published: &[Published],
    check: Option<&Check>,
    now: OffsetDateTime,
    stale_after: time::Duration,
) -> State {
    if check.is_some_and(|check| check.consecutive_failures > 0) {
        return State::Failing;
    }
    let last_success = check.and_then(|check| check.last_success_at);
    if last_success.is_some_and(|at| now - at > stale_after) {
        return State::Stale;
    }
    if published.is_empty() {
        return State::Unpublished;
    }
    match upstream {
        Some(upstream)
            if published
                .iter()
                .any(|build| build.version != upstream.version) =>
        {
            State::Behind
        }
        _ => State::Current,
    }
}

fn published(build: &BuildRecord, seen: &[ReleaseSeen], public_url: &str) -> Published {
    let base = format!(
        "{}/{}",
        public_url.trim_end_matches('/'),
        build.location.trim_matches('/')
    );
    let mut files = Vec::new();
    for file in &build.manifest.files {
        for part in &file.parts {
            files.push(FileLink {
                name: part.name.clone(),
                size: part.size,
                url: part
                    .url
                    .clone()
                    .unwrap_or_else(|| format!("{base}/{}", part.name)),
            });
        }
    }
    let released_at = seen
        .iter()
        .find(|release| release.version == build.version)
        .map(|release| release.published_at.unwrap_or(release.first_seen_at));
    Published {
        arch: build.arch.to_string(),
        version: build.version.clone(),
        tag: build.tag.clone(),
        live_since: build.created_at,
        download_bytes: files.iter().map(|file| file.size).sum(),
        ram_mib: build.manifest.ram_mib,
        upstream_delay_seconds: released_at
            .map(|at| (build.created_at - at).whole_seconds().max(0)),
        files,
    }
}

/// The menu entries of `builds` (the current builds), for the menu routes.
pub fn menu_entries(builds: &[BuildRecord]) -> Result<Vec<MenuEntry>, repack_menu::MenuError> {
    builds
        .iter()
        .map(|build| MenuEntry::from_manifest(&build.manifest, &build.location))
        .collect()
}
