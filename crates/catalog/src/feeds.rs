//! The catalogue's part in politeness and freshness: the kept copy of each feed document
//! (`feed_state`, read and written through the watchers' feed cache) and the releases checks
//! found (`releases_seen`: when the upstream published each, when repack first saw it).

use crate::catalog::Catalog;
use crate::record::{FeedCopy, FeedState, ReleaseSeen, SeenRelease};
use crate::{CatalogError, timestamp};
use repack_core::Sha256Digest;
use time::OffsetDateTime;

/// Largest feed body kept: the largest cap of any feed kind (a page of GitHub releases).
/// Larger bodies are refused, not cut: a cut document would parse differently.
pub const MAX_FEED_BODY_BYTES: usize = 16 * 1024 * 1024;

/// Columns of `releases_seen`, in the order [`SeenRow`] reads them.
const SEEN_COLUMNS: &str =
    "recipe, version, iso_url, iso_sha256, published_at, first_seen_at, last_seen_at";

impl Catalog {
    /// The kept copy of the feed document at `url`, if any.
    pub async fn feed_state(&self, url: &str) -> Result<Option<FeedState>, CatalogError> {
        let row: Option<FeedRow> = sqlx::query_as(
            "SELECT url, etag, last_modified, next_url, body, stored_at, checked_at \
             FROM feed_state WHERE url = $1",
        )
        .bind(url)
        .fetch_optional(self.db.pool())
        .await
        .map_err(CatalogError::database(format!(
            "read the kept copy of {url}"
        )))?;
        row.map(FeedRow::into_record).transpose()
    }

    /// Keeps `copy` (its body, validators and next page) as the copy of `url`, received now
    /// with status 200.
    pub async fn store_feed(&self, url: &str, copy: &FeedCopy<'_>) -> Result<(), CatalogError> {
        self.store_feed_at(url, copy, timestamp::now()).await
    }

    /// [`store_feed`](Catalog::store_feed) at `at`: replaces the copy before, validators
    /// and all. A body over [`MAX_FEED_BODY_BYTES`], or without any validator, is refused
    /// and nothing changes.
    pub async fn store_feed_at(
        &self,
        url: &str,
        copy: &FeedCopy<'_>,
        at: OffsetDateTime,
    ) -> Result<(), CatalogError> {
        let FeedCopy {
            etag,
            last_modified,
            next_url,
            body,
        } = *copy;
        let invalid = |reason: String| CatalogError::InvalidFeedState {
            url: url.to_owned(),
            reason,
        };
        if body.len() > MAX_FEED_BODY_BYTES {
            return Err(invalid(format!(
                "its body has {} bytes, more than the {MAX_FEED_BODY_BYTES} kept",
                body.len()
            )));
        }
        if etag.is_none() && last_modified.is_none() {
            return Err(invalid(
                "it has neither an ETag nor a Last-Modified to revalidate it with".to_owned(),
            ));
        }
        let at = timestamp::format(at);
        sqlx::query(
            "INSERT INTO feed_state \
                 (url, etag, last_modified, next_url, body, stored_at, checked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) \
             ON CONFLICT (url) DO UPDATE \
             SET etag = excluded.etag, last_modified = excluded.last_modified, \
                 next_url = excluded.next_url, body = excluded.body, \
                 stored_at = excluded.stored_at, checked_at = excluded.checked_at",
        )
        .bind(url)
        .bind(etag)
        .bind(last_modified)
        .bind(next_url)
        .bind(body)
        .bind(&at)
        .execute(self.db.pool())
        .await
        .map_err(CatalogError::database(format!(
            "keep a copy of {url}; the copy before (if any) stays"
        )))?;
        Ok(())
    }

    /// Notes that the copy of `url` was confirmed current (a 304) now. False when there is
    /// no copy of `url`.
    pub async fn feed_revalidated(&self, url: &str) -> Result<bool, CatalogError> {
        self.feed_revalidated_at(url, timestamp::now()).await
    }

    /// [`feed_revalidated`](Catalog::feed_revalidated) at `at`: only `checked_at` changes.
    pub async fn feed_revalidated_at(
        &self,
        url: &str,
        at: OffsetDateTime,
    ) -> Result<bool, CatalogError> {
        let updated = sqlx::query("UPDATE feed_state SET checked_at = $2 WHERE url = $1")
            .bind(url)
            .bind(timestamp::format(at))
            .execute(self.db.pool())
            .await
            .map_err(CatalogError::database(format!(
                "note the revalidation of {url}; nothing was changed"
            )))?
            .rows_affected();
        Ok(updated > 0)
    }

    /// Records that a check made now found `release`; returns the row with its first and
    /// last sighting.
    pub async fn record_release_seen(
        &self,
        release: &SeenRelease,
    ) -> Result<ReleaseSeen, CatalogError> {
        self.record_release_seen_at(release, timestamp::now()).await
    }

    /// [`record_release_seen`](Catalog::record_release_seen) at `at`. A release is one
    /// (recipe, version, ISO URL): the first sighting sets `first_seen_at` for good; later
    /// ones move `last_seen_at`, take the digest found now, and keep an earlier publish
    /// time when the feed no longer gives one.
    pub async fn record_release_seen_at(
        &self,
        release: &SeenRelease,
        at: OffsetDateTime,
    ) -> Result<ReleaseSeen, CatalogError> {
        let at = timestamp::format(at);
        let sql = format!(
            "INSERT INTO releases_seen ({SEEN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $6) \
             ON CONFLICT (recipe, version, iso_url) DO UPDATE \
             SET iso_sha256 = excluded.iso_sha256, \
                 published_at = COALESCE(excluded.published_at, releases_seen.published_at), \
                 last_seen_at = excluded.last_seen_at \
             RETURNING {SEEN_COLUMNS}"
        );
        let row: SeenRow = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(&release.recipe)
            .bind(&release.version)
            .bind(&release.iso_url)
            .bind(release.iso_sha256.map(|digest| digest.to_hex()))
            .bind(release.published_at.map(timestamp::format))
            .bind(&at)
            .fetch_one(self.db.pool())
            .await
            .map_err(CatalogError::database(format!(
                "record that {} {} was seen upstream; nothing was changed",
                release.recipe, release.version
            )))?;
        row.into_record()
    }

    /// Every release recorded for `recipe`, the most recently seen first.
    pub async fn releases_seen(&self, recipe: &str) -> Result<Vec<ReleaseSeen>, CatalogError> {
        let sql = format!(
            "SELECT {SEEN_COLUMNS} FROM releases_seen WHERE recipe = $1 \
             ORDER BY last_seen_at DESC, first_seen_at DESC, version, iso_url"
        );
        let rows: Vec<SeenRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(recipe)
            .fetch_all(self.db.pool())
            .await
            .map_err(CatalogError::database(format!(
                "list the releases seen for {recipe}"
            )))?;
        rows.into_iter().map(SeenRow::into_record).collect()
    }
}

#[derive(sqlx::FromRow)]
struct FeedRow {
    url: String,
    etag: Option<String>,
    last_modified: Option<String>,
    next_url: Option<String>,
    body: String,
    stored_at: String,
    checked_at: String,
}

impl FeedRow {
    fn into_record(self) -> Result<FeedState, CatalogError> {
        let parse = |column: &str, text: &str| {
            timestamp::parse(text).map_err(|error| CatalogError::CorruptRow {
                table: "feed_state",
                row: self.url.clone(),
                reason: format!("{column} `{text}`: {error}"),
            })
        };
        let stored_at = parse("stored_at", &self.stored_at)?;
        let checked_at = parse("checked_at", &self.checked_at)?;
        Ok(FeedState {
            url: self.url,
            etag: self.etag,
            last_modified: self.last_modified,
            next_url: self.next_url,
            body: self.body,
            stored_at,
            checked_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct SeenRow {
    recipe: String,
    version: String,
    iso_url: String,
    iso_sha256: Option<String>,
    published_at: Option<String>,
    first_seen_at: String,
    last_seen_at: String,
}

impl SeenRow {
    fn into_record(self) -> Result<ReleaseSeen, CatalogError> {
        let corrupt = |reason: String| CatalogError::CorruptRow {
            table: "releases_seen",
            row: format!("{} {} {}", self.recipe, self.version, self.iso_url),
            reason,
        };
        let parse = |column: &str, text: &str| {
            timestamp::parse(text).map_err(|error| corrupt(format!("{column} `{text}`: {error}")))
        };
        let iso_sha256 = self
            .iso_sha256
            .as_deref()
            .map(|text| {
                text.parse::<Sha256Digest>()
                    .map_err(|error| corrupt(format!("iso_sha256: {error}")))
            })
            .transpose()?;
        let published_at = self
            .published_at
            .as_deref()
            .map(|text| parse("published_at", text))
            .transpose()?;
        let first_seen_at = parse("first_seen_at", &self.first_seen_at)?;
        let last_seen_at = parse("last_seen_at", &self.last_seen_at)?;
        Ok(ReleaseSeen {
            recipe: self.recipe,
            version: self.version,
            iso_url: self.iso_url,
            iso_sha256,
            published_at,
            first_seen_at,
            last_seen_at,
        })
    }
}
