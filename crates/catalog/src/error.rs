//! Errors of the catalogue. Each says what was being done and, for writes, what was left
//! unchanged; [`CatalogError::kind`] gives a stable label for logs and metrics.

/// A catalogue operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogError {
    /// Occurs when the database URL is malformed or names a backend this build cannot use.
    #[error("catalogue URL `{url}` is not usable: {reason}")]
    InvalidUrl { url: String, reason: String },

    /// Occurs when the database cannot be opened or created (missing directory, permissions,
    /// not a database file, ...).
    #[error("cannot open the catalogue at `{url}`")]
    Open {
        url: String,
        #[source]
        source: sqlx::Error,
    },

    /// Occurs when the schema cannot be brought up to date, e.g. the database was migrated by
    /// a newer repack or a migration was edited after it ran.
    #[error("cannot migrate the catalogue at `{url}`")]
    Migrate {
        url: String,
        #[source]
        source: sqlx::migrate::MigrateError,
    },

    /// Occurs when a statement or transaction fails; `action` says what was being done and,
    /// for writes, that nothing was changed (every write is one transaction).
    #[error("catalogue: failed to {action}")]
    Database {
        action: String,
        #[source]
        source: sqlx::Error,
    },

    /// Occurs when a build handed to [`Catalog::publish_build`](crate::Catalog::publish_build)
    /// contradicts itself (its manifest's `build_key` is not the key of its ISO, recipe hash
    /// and format version, or a required field is empty). Nothing was recorded.
    #[error("refusing to record build {build_id} of `{recipe}`: {reason}; nothing was recorded")]
    InconsistentBuild {
        build_id: String,
        recipe: String,
        reason: String,
    },

    /// Occurs when a build key is already recorded for another recipe or arch (the same ISO
    /// and recipe hash cannot describe two different releases). Nothing was changed.
    #[error(
        "build {build_id} is already recorded as `{existing}`, not `{attempted}`; nothing was changed"
    )]
    KeyConflict {
        build_id: String,
        existing: String,
        attempted: String,
    },

    /// Occurs when a feed document handed to
    /// [`Catalog::store_feed`](crate::Catalog::store_feed) cannot be kept: its body is larger
    /// than [`MAX_FEED_BODY_BYTES`](crate::MAX_FEED_BODY_BYTES), or it has no validator.
    /// Nothing was changed.
    #[error("cannot keep a copy of the feed document {url}: {reason}; nothing was changed")]
    InvalidFeedState { url: String, reason: String },

    /// Occurs when a stored row cannot be read back (unknown arch, bad digest, a manifest that
    /// no longer parses). The database was changed outside repack or by an incompatible version.
    #[error("catalogue table `{table}`, row `{row}` is unreadable: {reason}")]
    CorruptRow {
        table: &'static str,
        row: String,
        reason: String,
    },
}

impl CatalogError {
    /// A stable, machine-readable name of the failure, for metrics labels and the `checks`
    /// table.
    pub fn kind(&self) -> &'static str {
        match self {
            CatalogError::InvalidUrl { .. } => "catalog-invalid-url",
            CatalogError::Open { .. } => "catalog-open",
            CatalogError::Migrate { .. } => "catalog-migrate",
            CatalogError::Database { .. } => "catalog-database",
            CatalogError::InconsistentBuild { .. } => "catalog-inconsistent-build",
            CatalogError::KeyConflict { .. } => "catalog-key-conflict",
            CatalogError::InvalidFeedState { .. } => "catalog-invalid-feed-state",
            CatalogError::CorruptRow { .. } => "catalog-corrupt-row",
        }
    }

    /// A deadlock or serialization failure the server resolved by aborting this transaction
    /// (SQLSTATE 40P01, 40001): running it again is the documented remedy.
    pub(crate) fn is_transient_conflict(&self) -> bool {
        match self {
            CatalogError::Database {
                source: sqlx::Error::Database(error),
                ..
            } => matches!(error.code().as_deref(), Some("40P01" | "40001")),
            _ => false,
        }
    }

    /// Wraps a database error with what was being done.
    pub(crate) fn database(action: impl Into<String>) -> impl FnOnce(sqlx::Error) -> CatalogError {
        let action = action.into();
        move |source| CatalogError::Database { action, source }
    }
}
