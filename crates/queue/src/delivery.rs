//! Enqueueing for a webhook delivery exactly once: the delivery's id is recorded in the
//! transaction that enqueues its jobs, so a forge redelivering it (or an attacker replaying
//! a captured, validly signed body) enqueues nothing more, however long after.

use crate::error::QueueError;
use crate::queue::Queue;
use crate::record::{Enqueued, NewJob};
use repack_catalog::timestamp;

/// Longest delivery id or source name stored; forges send UUIDs or short numbers.
pub const MAX_DELIVERY_ID: usize = 200;

/// What a delivery came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivered {
    /// Seen before: nothing was enqueued.
    Replayed,
    /// First seen now: one [`Enqueued`] per job, in order (a job may collapse into a pending
    /// one with its dedupe key).
    New(Vec<Enqueued>),
}

impl Queue {
    /// Records delivery `delivery_id` from `source` (e.g. `github`) and enqueues `jobs` (which
    /// may be empty) in one transaction; a delivery already recorded enqueues nothing.
    pub async fn enqueue_delivery(
        &self,
        source: &str,
        delivery_id: &str,
        jobs: &[NewJob],
    ) -> Result<Delivered, QueueError> {
        for (what, value) in [("source", source), ("delivery id", delivery_id)] {
            if value.is_empty() || value.len() > MAX_DELIVERY_ID {
                return Err(QueueError::InvalidDelivery {
                    reason: format!("the {what} must be 1 to {MAX_DELIVERY_ID} bytes"),
                });
            }
        }
        for job in jobs {
            crate::queue::validate(job)?;
        }
        let action = format!("enqueue {source} delivery {delivery_id}");
        let now = timestamp::now();
        let mut tx = self
            .db
            .begin_write()
            .await
            .map_err(self.db_error(&action))?;
        let recorded: Option<String> = sqlx::query_scalar(
            "INSERT INTO webhook_deliveries (forge, delivery_id, received_at) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING RETURNING delivery_id",
        )
        .bind(source)
        .bind(delivery_id)
        .bind(timestamp::format(now))
        .fetch_optional(&mut *tx)
        .await
        .map_err(self.db_error(&action))?;
        if recorded.is_none() {
            return Ok(Delivered::Replayed);
        }
        let mut enqueued = Vec::with_capacity(jobs.len());
        for job in jobs {
            enqueued.push(self.enqueue_in(&mut tx, job, now, &action).await?);
        }
        tx.commit().await.map_err(self.db_error(&action))?;
        for (job, result) in jobs.iter().zip(&enqueued) {
            if let Enqueued::Created(id) = result {
                tracing::info!(job = %id, kind = %job.kind, recipe = %job.recipe, reason = %job.reason, source, delivery = delivery_id, "job queued");
            }
        }
        Ok(Delivered::New(enqueued))
    }
}
