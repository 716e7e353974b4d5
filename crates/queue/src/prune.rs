//! Retention: [`Queue::prune`] deletes what the queue no longer needs once it is old, so the
//! tables do not grow for as long as a service runs: finished jobs (succeeded or failed) and
//! recorded webhook deliveries. The [`Worker`](crate::Worker) calls it periodically (see
//! [`WorkerConfig::keep_finished`](crate::WorkerConfig::keep_finished)).
//!
//! Pending jobs (queued or running) are never pruned, however old, and neither are the cron
//! cursors (one row per recipe). A pruned delivery id is forgotten: a forge redelivering it
//! after the retention enqueues its jobs again, which collapse into a pending job with the
//! same dedupe key or find the build already published. Keep the retention well beyond the
//! forges' redelivery window (days). The build-duration figures of `/metrics` cover the jobs
//! still kept.

use crate::error::QueueError;
use crate::queue::Queue;
use repack_catalog::timestamp;
use time::OffsetDateTime;

/// What one [`Queue::prune`] deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Finished jobs (succeeded or failed).
    pub jobs: u64,
    /// Recorded webhook deliveries.
    pub deliveries: u64,
}

impl Queue {
    /// Deletes, in one transaction, the jobs that finished (succeeded or failed) before
    /// `older_than` and the webhook deliveries received before it. Jobs still queued or
    /// running are kept whatever their age.
    pub async fn prune(&self, older_than: OffsetDateTime) -> Result<Pruned, QueueError> {
        let cutoff = timestamp::format(older_than);
        let action = format!("prune finished jobs and webhook deliveries older than {cutoff}");
        let mut tx = self
            .db
            .begin_write()
            .await
            .map_err(self.db_error(&action))?;
        // A finished job's `updated_at` is when it ended: nothing updates it afterwards.
        let jobs = sqlx::query(
            "DELETE FROM jobs WHERE state IN ('succeeded', 'failed') AND updated_at < $1",
        )
        .bind(&cutoff)
        .execute(&mut *tx)
        .await
        .map_err(self.db_error(&action))?
        .rows_affected();
        let deliveries = sqlx::query("DELETE FROM webhook_deliveries WHERE received_at < $1")
            .bind(&cutoff)
            .execute(&mut *tx)
            .await
            .map_err(self.db_error(&action))?
            .rows_affected();
        tx.commit().await.map_err(self.db_error(&action))?;
        let pruned = Pruned { jobs, deliveries };
        if jobs > 0 || deliveries > 0 {
            tracing::info!(jobs, deliveries, older_than = %cutoff, "pruned finished jobs and webhook deliveries");
        }
        Ok(pruned)
    }
}
