//! The work behind the job kinds: the [`Job`] trait the worker calls for every claimed job,
//! the [`JobContext`] it gets (the job, heartbeats, the stop signals), and [`JobError`], what
//! a failed attempt records.

use crate::error::QueueError;
use crate::kind::{JobKind, Reason};
use crate::queue::Queue;
use crate::record::{Claim, JobId, JobRecord};
use std::fmt;
use std::future::Future;
use tokio_util::sync::CancellationToken;

/// Runs claimed jobs. One implementation serves every [`JobKind`] and matches on
/// [`JobContext::kind`] exhaustively, so a kind added to the registration list is a compile
/// error until it is handled; the composition root (the `repack` binary) implements it with
/// the services it built.
///
/// `Ok(())` marks the job succeeded; `Err` records the error and retries it after a backoff
/// until its attempts are spent. A panic counts as a failure. A job may be cancelled (its
/// future dropped) when the worker's grace period ends at shutdown: it is then released for
/// another worker and must be safe to run again from the start.
pub trait Job: Send + Sync + 'static {
    fn run(&self, ctx: JobContext) -> impl Future<Output = Result<(), JobError>> + Send;
}

/// What a running job knows and can do. The worker renews the lease in the background; a
/// job may also renew it itself ([`JobContext::heartbeat`]) before a long step.
#[derive(Debug, Clone)]
pub struct JobContext {
    claim: Claim,
    queue: Queue,
    lease_lost: CancellationToken,
    shutdown: CancellationToken,
}

impl JobContext {
    pub(crate) fn new(
        claim: Claim,
        queue: Queue,
        lease_lost: CancellationToken,
        shutdown: CancellationToken,
    ) -> JobContext {
        JobContext {
            claim,
            queue,
            lease_lost,
            shutdown,
        }
    }

    /// The job as claimed.
    pub fn job(&self) -> &JobRecord {
        &self.claim.job
    }

    pub fn id(&self) -> JobId {
        self.claim.job.id
    }

    pub fn kind(&self) -> JobKind {
        self.claim.job.kind
    }

    pub fn recipe(&self) -> &str {
        &self.claim.job.recipe
    }

    pub fn reason(&self) -> Reason {
        self.claim.job.reason
    }

    /// This attempt's number, from 1.
    pub fn attempt(&self) -> u32 {
        self.claim.job.attempts
    }

    /// Renews the lease now. [`QueueError::LeaseLost`] means another worker may run the job
    /// and this attempt's outcome will not be recorded: stop.
    pub async fn heartbeat(&self) -> Result<(), QueueError> {
        match self.queue.heartbeat(&self.claim).await {
            Err(error @ QueueError::LeaseLost { .. }) => {
                self.lease_lost.cancel();
                Err(error)
            }
            other => other.map(drop),
        }
    }

    /// Cancelled when a heartbeat found the lease gone (it expired and the job was re-queued):
    /// the job should stop, its outcome will not be recorded.
    pub fn lease_lost(&self) -> &CancellationToken {
        &self.lease_lost
    }

    /// Cancelled when the worker begins to shut down: finish soon or stop at a safe point.
    /// A job still running when the grace period ends is cancelled and released.
    pub fn shutdown(&self) -> &CancellationToken {
        &self.shutdown
    }
}

/// Why an attempt failed: a stable kind (the error's `kind()` string) and the full message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobError {
    kind: String,
    message: String,
}

impl JobError {
    pub fn new(kind: impl Into<String>, message: impl Into<String>) -> JobError {
        JobError {
            kind: kind.into(),
            message: message.into(),
        }
    }

    /// From a typed error: `kind` (its `kind()` string) and its whole source chain, joined
    /// with `: ` as the message.
    pub fn from_error(kind: impl Into<String>, error: &(dyn std::error::Error + 'static)) -> Self {
        let mut message = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            source = cause.source();
        }
        JobError::new(kind, message)
    }

    pub fn kind(&self) -> &str {
        &self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.kind)
    }
}

#[cfg(test)]
mod tests {
    use super::JobError;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn from_error_keeps_the_whole_chain() {
        let error = Outer(std::io::Error::other("inner"));
        let job = JobError::from_error("fetch-http", &error);
        assert_eq!(job.kind(), "fetch-http");
        assert_eq!(job.message(), "outer: inner");
        assert_eq!(job.to_string(), "outer: inner (fetch-http)");
    }
}
