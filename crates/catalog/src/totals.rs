//! Totals over every recorded build, per recipe, for monitoring: how many builds, how many
//! upstream bytes they downloaded and how many bytes they published. One aggregate statement
//! over the size columns `publish_build` fills (and the migration filled from the manifests
//! of builds recorded before it).

use crate::catalog::Catalog;
use crate::error::CatalogError;
use repack_core::Manifest;

/// One recipe's totals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipeTotals {
    pub recipe: String,
    pub builds: u64,
    /// The upstream ISOs' sizes, summed.
    pub iso_bytes: u64,
    /// Every published file's size, summed over the builds.
    pub published_bytes: u64,
}

impl Catalog {
    /// Per recipe (sorted by id), the totals of every build recorded, current or not.
    pub async fn build_totals(&self) -> Result<Vec<RecipeTotals>, CatalogError> {
        // `CAST(… AS BIGINT)`: PostgreSQL sums bigints into numeric, which Any cannot decode.
        let rows: Vec<(String, i64, i64, i64)> = sqlx::query_as(
            "SELECT recipe, CAST(count(*) AS BIGINT), CAST(SUM(iso_bytes) AS BIGINT), \
                    CAST(SUM(published_bytes) AS BIGINT) \
             FROM builds GROUP BY recipe ORDER BY recipe",
        )
        .fetch_all(self.db.pool())
        .await
        .map_err(CatalogError::database("sum the builds per recipe"))?;
        let unsigned = |value: i64| u64::try_from(value).unwrap_or(0);
        Ok(rows
            .into_iter()
            .map(
                |(recipe, builds, iso_bytes, published_bytes)| RecipeTotals {
                    recipe,
                    builds: unsigned(builds),
                    iso_bytes: unsigned(iso_bytes),
                    published_bytes: unsigned(published_bytes),
                },
            )
            .collect())
    }
}

/// The bytes the release itself stores: every stored part's size, summed (parts it points
/// at in earlier releases were counted there).
pub(crate) fn published_bytes(manifest: &Manifest) -> u64 {
    manifest.stored_parts().map(|part| part.size).sum()
}
