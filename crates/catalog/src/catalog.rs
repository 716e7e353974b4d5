//! [`Catalog`]: the queries. Every write is one transaction; every read returns typed
//! records, parsed and checked on the way out.

use crate::backend::Database;
use crate::record::{BuildRecord, CheckFailure, CheckOutcome, CheckRecord, NewBuild};
use crate::totals::published_bytes;
use crate::{CatalogError, timestamp};
use repack_core::{Arch, BuildKey, Manifest, Sha256Digest};
use time::OffsetDateTime;

/// Longest error message kept per recipe; longer ones are cut (on a character boundary).
const MAX_ERROR_MESSAGE: usize = 8 * 1024;

/// Columns of `checks`, in the order [`CheckRow`] reads them.
const CHECK_COLUMNS: &str = "recipe, last_check_at, last_success_at, last_error_at, last_error_kind, \
     last_error_message, consecutive_failures, failing_since";

/// Columns of `builds`, in the order [`BuildRow`] reads them.
const BUILD_COLUMNS: &str = "b.id, b.iso_sha256, b.recipe_hash, b.format_version, b.recipe, b.arch, \
     b.version, b.tag, b.location, b.manifest, b.created_at";

/// How often one publish is tried when concurrent publishers conflict (PostgreSQL).
const PUBLISH_ATTEMPTS: u32 = 5;

/// A handle on the catalogue database. Cheap to clone (a connection pool).
#[derive(Debug, Clone)]
pub struct Catalog {
    pub(crate) db: Database,
}

impl Catalog {
    /// Opens the catalogue at `url` — `sqlite:///abs/path.db`, `sqlite://relative.db`, or
    /// `postgres://user:password@host/database` (also `postgresql://`; `?host=/dir` for a Unix
    /// socket) — creating a missing SQLite file and applying pending migrations, the job
    /// queue's tables included.
    pub async fn open(url: &str) -> Result<Catalog, CatalogError> {
        let db = Database::connect(url).await?;
        db.migrate().await?;
        tracing::debug!(url = %db.url(), backend = %db.backend(), "catalogue opened");
        Ok(Catalog { db })
    }

    /// The database under the catalogue, for the job queue, which keeps its tables there.
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// Closes every connection, waiting for queries in flight.
    pub async fn close(&self) {
        self.db.close().await;
    }

    /// The build recorded under `key`, if it was published.
    pub async fn find_build(&self, key: &BuildKey) -> Result<Option<BuildRecord>, CatalogError> {
        let id = key.id().to_hex();
        let sql = format!("SELECT {BUILD_COLUMNS} FROM builds b WHERE b.id = $1");
        let row: Option<BuildRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(&id)
            .fetch_optional(self.db.pool())
            .await
            .map_err(CatalogError::database(format!("look up build {id}")))?;
        row.map(BuildRow::into_record).transpose()
    }

    /// Records `build` and makes it the current build of its (recipe, arch), in one
    /// transaction. Recording is idempotent on the build key: publishing a key that is already
    /// recorded keeps the first row and only (re)points `current` at it, so re-running after a
    /// crash never duplicates, and re-publishing an older build is a rollback. If anything
    /// fails, nothing changes and the previous current build stays current.
    ///
    /// On PostgreSQL, concurrent publishers of the same key or the same (recipe, arch) can
    /// meet in a deadlock or a serialization failure, which the server resolves by aborting
    /// one transaction: that one is run again, a few times, as the server advises.
    pub async fn publish_build(&self, build: &NewBuild) -> Result<(), CatalogError> {
        build.validate()?;
        let mut attempt = 1;
        loop {
            match self.publish_build_once(build).await {
                Err(error) if attempt < PUBLISH_ATTEMPTS && error.is_transient_conflict() => {
                    tracing::debug!(%error, attempt, "concurrent publish conflicted; trying again");
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    async fn publish_build_once(&self, build: &NewBuild) -> Result<(), CatalogError> {
        let key = build.key();
        let id = key.id().to_hex();
        let recipe = build.recipe();
        let arch = build.arch().as_str();
        let what = format!("{recipe} {} ({arch}), build {id}", build.manifest.version);
        let manifest = serde_json::to_string(&build.manifest).map_err(|error| {
            CatalogError::InconsistentBuild {
                build_id: id.clone(),
                recipe: recipe.to_owned(),
                reason: format!("its manifest cannot be encoded: {error}"),
            }
        })?;
        let created_at = timestamp::format(build.created_at);

        let mut tx = self
            .db
            .begin_write()
            .await
            .map_err(CatalogError::database(format!(
                "start recording {what}; nothing was changed"
            )))?;

        let inserted = sqlx::query(
            "INSERT INTO builds (id, iso_sha256, recipe_hash, format_version, recipe, arch, \
                                 version, tag, location, manifest, created_at, iso_bytes, \
                                 published_bytes) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(&id)
        .bind(key.iso_sha256.to_hex())
        .bind(key.recipe_hash.to_hex())
        .bind(i64::from(key.format_version))
        .bind(recipe)
        .bind(arch)
        .bind(&build.manifest.version)
        .bind(&build.manifest.tag)
        .bind(&build.location)
        .bind(&manifest)
        .bind(&created_at)
        .bind(i64::try_from(build.manifest.source.size).unwrap_or(i64::MAX))
        .bind(i64::try_from(published_bytes(&build.manifest)).unwrap_or(i64::MAX))
        .execute(&mut *tx)
        .await
        .map_err(CatalogError::database(format!(
            "record {what}; nothing was changed"
        )))?
        .rows_affected();

        if inserted == 0 {
            let (existing_recipe, existing_arch): (String, String) =
                sqlx::query_as("SELECT recipe, arch FROM builds WHERE id = $1")
                    .bind(&id)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(CatalogError::database(format!(
                        "read the existing record of build {id}; nothing was changed"
                    )))?;
            if existing_recipe != recipe || existing_arch != arch {
                return Err(CatalogError::KeyConflict {
                    build_id: id,
                    existing: format!("{existing_recipe} ({existing_arch})"),
                    attempted: format!("{recipe} ({arch})"),
                });
            }
            tracing::debug!(build = %id, "build already recorded; keeping the first record");
        }

        // Replace, never merge: the pointer names exactly one build. Re-pointing at the build
        // that is already current changes nothing (not even updated_at).
        sqlx::query(
            "INSERT INTO current_builds (recipe, arch, build_id, updated_at) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (recipe, arch) DO UPDATE \
             SET build_id = excluded.build_id, updated_at = excluded.updated_at \
             WHERE current_builds.build_id <> excluded.build_id",
        )
        .bind(recipe)
        .bind(arch)
        .bind(&id)
        .bind(timestamp::format(timestamp::now()))
        .execute(&mut *tx)
        .await
        .map_err(CatalogError::database(format!(
            "make {what} current; nothing was changed and the previous current build stays"
        )))?;

        tx.commit().await.map_err(CatalogError::database(format!(
            "commit {what}; nothing was changed and the previous current build stays"
        )))?;
        tracing::info!(recipe, arch, build = %id, tag = %build.manifest.tag, "build is current");
        Ok(())
    }

    /// The current build of (recipe, arch), if any.
    pub async fn current(
        &self,
        recipe: &str,
        arch: Arch,
    ) -> Result<Option<BuildRecord>, CatalogError> {
        let sql = format!(
            "SELECT {BUILD_COLUMNS} FROM current_builds c JOIN builds b ON b.id = c.build_id \
             WHERE c.recipe = $1 AND c.arch = $2"
        );
        let row: Option<BuildRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(recipe)
            .bind(arch.as_str())
            .fetch_optional(self.db.pool())
            .await
            .map_err(CatalogError::database(format!(
                "read the current build of {recipe} ({arch})"
            )))?;
        row.map(BuildRow::into_record).transpose()
    }

    /// Every current build, ordered by recipe then arch: what the menus offer.
    pub async fn current_builds(&self) -> Result<Vec<BuildRecord>, CatalogError> {
        let sql = format!(
            "SELECT {BUILD_COLUMNS} FROM current_builds c JOIN builds b ON b.id = c.build_id \
             ORDER BY c.recipe, c.arch"
        );
        let rows: Vec<BuildRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_all(self.db.pool())
            .await
            .map_err(CatalogError::database("list the current builds"))?;
        rows.into_iter().map(BuildRow::into_record).collect()
    }

    /// Every recorded build of `recipe` (all arches), newest first: the history, current or not.
    pub async fn builds(&self, recipe: &str) -> Result<Vec<BuildRecord>, CatalogError> {
        let sql = format!(
            "SELECT {BUILD_COLUMNS} FROM builds b WHERE b.recipe = $1 \
             ORDER BY b.created_at DESC, b.arch, b.id"
        );
        let rows: Vec<BuildRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(recipe)
            .fetch_all(self.db.pool())
            .await
            .map_err(CatalogError::database(format!(
                "list the builds of {recipe}"
            )))?;
        rows.into_iter().map(BuildRow::into_record).collect()
    }

    /// Records the outcome of an upstream check of `recipe` made now.
    pub async fn record_check(
        &self,
        recipe: &str,
        outcome: CheckOutcome,
    ) -> Result<(), CatalogError> {
        self.record_check_at(recipe, outcome, timestamp::now())
            .await
    }

    /// Records the outcome of an upstream check of `recipe` made at `at`. A success resets
    /// the failure count and keeps the last error for inspection; a failure replaces the last
    /// error and counts up, and the first failure after a success starts `failing_since`.
    pub async fn record_check_at(
        &self,
        recipe: &str,
        outcome: CheckOutcome,
        at: OffsetDateTime,
    ) -> Result<(), CatalogError> {
        let at = timestamp::format(at);
        let action = format!("record a check of {recipe}; nothing was changed");
        let query = match &outcome {
            CheckOutcome::Success => sqlx::query(
                "INSERT INTO checks (recipe, last_check_at, last_success_at, consecutive_failures) \
                 VALUES ($1, $2, $2, 0) \
                 ON CONFLICT (recipe) DO UPDATE \
                 SET last_check_at = excluded.last_check_at, \
                     last_success_at = excluded.last_success_at, \
                     consecutive_failures = 0, \
                     failing_since = NULL",
            )
            .bind(recipe)
            .bind(&at),
            CheckOutcome::Failure { kind, message } => sqlx::query(
                "INSERT INTO checks (recipe, last_check_at, last_error_at, last_error_kind, \
                                     last_error_message, consecutive_failures, failing_since) \
                 VALUES ($1, $2, $2, $3, $4, 1, $2) \
                 ON CONFLICT (recipe) DO UPDATE \
                 SET last_check_at = excluded.last_check_at, \
                     last_error_at = excluded.last_error_at, \
                     last_error_kind = excluded.last_error_kind, \
                     last_error_message = excluded.last_error_message, \
                     consecutive_failures = checks.consecutive_failures + 1, \
                     failing_since = CASE WHEN checks.consecutive_failures = 0 \
                                          THEN excluded.failing_since \
                                          ELSE COALESCE(checks.failing_since, excluded.failing_since) \
                                     END",
            )
            .bind(recipe)
            .bind(&at)
            .bind(kind.as_str())
            .bind(cut(message, MAX_ERROR_MESSAGE)),
        };
        query
            .execute(self.db.pool())
            .await
            .map_err(CatalogError::database(action))?;
        Ok(())
    }

    /// The check state of every recipe that was ever checked, ordered by recipe.
    pub async fn checks(&self) -> Result<Vec<CheckRecord>, CatalogError> {
        let sql = format!("SELECT {CHECK_COLUMNS} FROM checks ORDER BY recipe");
        let rows: Vec<CheckRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_all(self.db.pool())
            .await
            .map_err(CatalogError::database("list the recipe checks"))?;
        rows.into_iter().map(CheckRow::into_record).collect()
    }

    /// The check state of `recipe`, if it was ever checked.
    pub async fn check(&self, recipe: &str) -> Result<Option<CheckRecord>, CatalogError> {
        let sql = format!("SELECT {CHECK_COLUMNS} FROM checks WHERE recipe = $1");
        let row: Option<CheckRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(recipe)
            .fetch_optional(self.db.pool())
            .await
            .map_err(CatalogError::database(format!(
                "read the check state of {recipe}"
            )))?;
        row.map(CheckRow::into_record).transpose()
    }
}

/// `text` cut to at most `max` bytes, on a character boundary.
pub(crate) fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// A `builds` row as stored; [`BuildRow::into_record`] checks it.
#[derive(sqlx::FromRow)]
struct BuildRow {
    id: String,
    iso_sha256: String,
    recipe_hash: String,
    format_version: i64,
    recipe: String,
    arch: String,
    version: String,
    tag: String,
    location: String,
    manifest: String,
    created_at: String,
}

impl BuildRow {
    fn into_record(self) -> Result<BuildRecord, CatalogError> {
        let corrupt = |reason: String| CatalogError::CorruptRow {
            table: "builds",
            row: self.id.clone(),
            reason,
        };
        let digest = |column: &str, text: &str| {
            text.parse::<Sha256Digest>()
                .map_err(|error| corrupt(format!("{column}: {error}")))
        };
        let id = digest("id", &self.id)?;
        let key = BuildKey {
            iso_sha256: digest("iso_sha256", &self.iso_sha256)?,
            recipe_hash: digest("recipe_hash", &self.recipe_hash)?,
            format_version: u32::try_from(self.format_version).map_err(|_| {
                corrupt(format!(
                    "format_version {} is out of range",
                    self.format_version
                ))
            })?,
        };
        if key.id() != id {
            return Err(corrupt("the id is not the key of its columns".into()));
        }
        let arch = Arch::parse(&self.arch)
            .ok_or_else(|| corrupt(format!("unknown arch `{}`", self.arch)))?;
        let manifest: Manifest = serde_json::from_str(&self.manifest)
            .map_err(|error| corrupt(format!("the stored manifest does not parse: {error}")))?;
        if manifest.build_key != id || manifest.recipe != self.recipe || manifest.arch != arch {
            return Err(corrupt(
                "the stored manifest describes another build".into(),
            ));
        }
        let created_at = timestamp::parse(&self.created_at)
            .map_err(|error| corrupt(format!("created_at `{}`: {error}", self.created_at)))?;
        Ok(BuildRecord {
            id,
            key,
            recipe: self.recipe,
            arch,
            version: self.version,
            tag: self.tag,
            location: self.location,
            manifest,
            created_at,
        })
    }
}

/// A `checks` row as stored.
#[derive(sqlx::FromRow)]
struct CheckRow {
    recipe: String,
    last_check_at: String,
    last_success_at: Option<String>,
    last_error_at: Option<String>,
    last_error_kind: Option<String>,
    last_error_message: Option<String>,
    consecutive_failures: i64,
    failing_since: Option<String>,
}

impl CheckRow {
    fn into_record(self) -> Result<CheckRecord, CatalogError> {
        let corrupt = |reason: String| CatalogError::CorruptRow {
            table: "checks",
            row: self.recipe.clone(),
            reason,
        };
        let parse = |column: &str, text: &str| {
            timestamp::parse(text).map_err(|error| corrupt(format!("{column} `{text}`: {error}")))
        };
        let last_check_at = parse("last_check_at", &self.last_check_at)?;
        let last_success_at = self
            .last_success_at
            .as_deref()
            .map(|text| parse("last_success_at", text))
            .transpose()?;
        let last_error = match (
            self.last_error_at.as_deref(),
            self.last_error_kind.clone(),
            self.last_error_message.clone(),
        ) {
            (Some(at), Some(kind), Some(message)) => Some(CheckFailure {
                at: parse("last_error_at", at)?,
                kind,
                message,
            }),
            (None, None, None) => None,
            _ => return Err(corrupt("a partial last error".into())),
        };
        let failing_since = self
            .failing_since
            .as_deref()
            .map(|text| parse("failing_since", text))
            .transpose()?;
        let consecutive_failures = u32::try_from(self.consecutive_failures).map_err(|_| {
            corrupt(format!(
                "consecutive_failures {} is out of range",
                self.consecutive_failures
            ))
        })?;
        Ok(CheckRecord {
            recipe: self.recipe,
            last_check_at,
            last_success_at,
            last_error,
            consecutive_failures,
            failing_since,
        })
    }
}
