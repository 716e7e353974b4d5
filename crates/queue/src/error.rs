//! Errors of the queue, the worker and the scheduler. Each names the job (id, kind, recipe),
//! the schedule or the database (password redacted) and says what was not done;
//! [`QueueError::kind`] gives a stable label for logs and metrics.

use crate::kind::JobKind;
use crate::record::JobId;

/// A queue operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QueueError {
    /// Occurs when a statement or transaction on the queue's tables fails; `action` names the
    /// job or recipe and what was being done (every write is one transaction: nothing changed).
    #[error("job queue on `{url}`: failed to {action}")]
    Database {
        /// The database URL, password redacted.
        url: String,
        action: String,
        #[source]
        source: sqlx::Error,
    },

    /// Occurs when a job handed to [`Queue::enqueue`](crate::Queue::enqueue) is malformed (an
    /// empty recipe or dedupe key, no attempts allowed). Nothing was enqueued.
    #[error("refusing to enqueue a {kind} job for `{recipe}`: {reason}; nothing was enqueued")]
    InvalidJob {
        kind: JobKind,
        recipe: String,
        reason: String,
    },

    /// Occurs when a webhook delivery's source or id is empty or too long. Nothing was
    /// enqueued.
    #[error("refusing a webhook delivery: {reason}; nothing was enqueued")]
    InvalidDelivery { reason: String },

    /// Occurs when a worker renews, completes, fails or releases a job it no longer holds: its
    /// lease expired and the job was re-queued (and perhaps claimed by another worker). What
    /// this worker tried to record was not recorded.
    #[error(
        "{kind} job {id} for `{recipe}` is no longer leased to worker `{owner}` (the lease \
         expired and the job was re-queued); its outcome was not recorded"
    )]
    LeaseLost {
        id: JobId,
        kind: JobKind,
        recipe: String,
        owner: String,
    },

    /// Occurs when a schedule's cron line or time zone cannot be used. Nothing is scheduled
    /// for the recipe.
    #[error("cannot schedule `{recipe}` with `{line}`: {reason}")]
    InvalidSchedule {
        recipe: String,
        line: String,
        reason: String,
    },

    /// Occurs when a stored job row cannot be read back (an unknown state or reason, a bad
    /// timestamp): the database was changed outside repack or by an incompatible version.
    #[error("job queue on `{url}`: job {id} is unreadable: {reason}")]
    CorruptRow {
        url: String,
        id: i64,
        reason: String,
    },
}

impl QueueError {
    /// A stable, machine-readable name of the failure, for metrics labels and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            QueueError::Database { .. } => "queue-database",
            QueueError::InvalidJob { .. } => "queue-invalid-job",
            QueueError::InvalidDelivery { .. } => "queue-invalid-delivery",
            QueueError::LeaseLost { .. } => "queue-lease-lost",
            QueueError::InvalidSchedule { .. } => "queue-invalid-schedule",
            QueueError::CorruptRow { .. } => "queue-corrupt-row",
        }
    }
}
