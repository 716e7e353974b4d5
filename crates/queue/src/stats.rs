//! Figures about the queue for monitoring (`/metrics`): how many jobs of each kind are in
//! each state, and how long finished jobs ran. Read with one aggregate statement each,
//! written once for both backends.

use crate::error::QueueError;
use crate::kind::JobKind;
use crate::queue::Queue;
use crate::record::JobState;

/// How many jobs of one kind are in one state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobCount {
    pub kind: JobKind,
    pub state: JobState,
    pub count: u64,
}

/// Last-attempt durations of finished jobs (succeeded or failed), as cumulative buckets:
/// `buckets[i]` counts the jobs that ran at most `bounds_ms[i]` milliseconds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DurationHistogram {
    pub buckets: Vec<u64>,
    /// Every finished job with a recorded duration.
    pub count: u64,
    pub sum_ms: u64,
}

/// Longest list of bucket bounds accepted (each is one column of the statement).
pub const MAX_BUCKETS: usize = 32;

impl Queue {
    /// How many jobs of each kind are in each state; pairs without a job are left out.
    /// Rows of a kind or state this build does not know are skipped.
    pub async fn job_counts(&self) -> Result<Vec<JobCount>, QueueError> {
        let rows: Vec<(String, String, i64)> =
            sqlx::query_as("SELECT kind, state, count(*) FROM jobs GROUP BY kind, state")
                .fetch_all(self.db.pool())
                .await
                .map_err(self.db_error("count jobs by kind and state"))?;
        Ok(rows
            .into_iter()
            .filter_map(|(kind, state, count)| {
                Some(JobCount {
                    kind: JobKind::parse(&kind)?,
                    state: JobState::parse(&state)?,
                    count: u64::try_from(count).unwrap_or(0),
                })
            })
            .collect())
    }

    /// The durations of `kind`'s finished jobs over `bounds_ms` (ascending, at most
    /// [`MAX_BUCKETS`]). Finished jobs never change again, so every figure only grows.
    pub async fn duration_histogram(
        &self,
        kind: JobKind,
        bounds_ms: &[u64],
    ) -> Result<DurationHistogram, QueueError> {
        let bounds: Vec<i64> = bounds_ms
            .iter()
            .take(MAX_BUCKETS)
            .map(|bound| i64::try_from(*bound).unwrap_or(i64::MAX))
            .collect();
        // `CAST(… AS BIGINT)`: PostgreSQL sums bigints into numeric, which Any cannot decode.
        let mut columns = vec![
            "CAST(count(*) AS BIGINT)".to_owned(),
            "CAST(COALESCE(SUM(last_run_ms), 0) AS BIGINT)".to_owned(),
        ];
        for index in 0..bounds.len() {
            columns.push(format!(
                "CAST(COALESCE(SUM(CASE WHEN last_run_ms <= ${} THEN 1 ELSE 0 END), 0) AS BIGINT)",
                index + 2
            ));
        }
        let sql = format!(
            "SELECT {} FROM jobs WHERE kind = $1 AND state IN ('succeeded', 'failed') \
             AND last_run_ms IS NOT NULL",
            columns.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(kind.as_str());
        for bound in &bounds {
            query = query.bind(*bound);
        }
        let row = query
            .fetch_one(self.db.pool())
            .await
            .map_err(self.db_error(&format!("read the durations of {kind} jobs")))?;
        use sqlx::Row;
        let number = |index: usize| -> Result<u64, QueueError> {
            let value: i64 = row
                .try_get(index)
                .map_err(self.db_error(&format!("read the durations of {kind} jobs")))?;
            Ok(u64::try_from(value).unwrap_or(0))
        };
        let mut histogram = DurationHistogram {
            count: number(0)?,
            sum_ms: number(1)?,
            buckets: Vec::with_capacity(bounds.len()),
        };
        for index in 0..bounds.len() {
            histogram.buckets.push(number(index + 2)?);
        }
        Ok(histogram)
    }
}
