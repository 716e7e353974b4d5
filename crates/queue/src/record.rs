//! What the queue stores: jobs going in ([`NewJob`]), jobs coming out ([`JobRecord`]), and a
//! worker's hold on a running job ([`Claim`]).

use crate::kind::{JobKind, Reason};
use std::fmt;
use std::time::Duration;
use time::OffsetDateTime;

/// A job's id (`jobs.id`), assigned by the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobId(pub i64);

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Where a job is in its life: `Queued` → `Running` → `Succeeded` | `Failed`, or back to
/// `Queued` (a retry after a failure, an expired lease, a release at shutdown).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobState {
    /// Waiting to be claimed once `run_at` has passed.
    Queued,
    /// Claimed by a worker, which holds a lease on it.
    Running,
    Succeeded,
    /// Failed `max_attempts` times; the last error is kept.
    Failed,
}

impl JobState {
    /// Every state, in a job's life order.
    pub const ALL: &'static [JobState] = &[
        JobState::Queued,
        JobState::Running,
        JobState::Succeeded,
        JobState::Failed,
    ];

    /// The stored name (`jobs.state`).
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
        }
    }

    pub fn parse(name: &str) -> Option<JobState> {
        JobState::ALL
            .iter()
            .copied()
            .find(|state| state.as_str() == name)
    }

    /// Queued or running: the states in which a job holds its dedupe key.
    pub fn is_pending(self) -> bool {
        matches!(self, JobState::Queued | JobState::Running)
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A job to enqueue. [`NewJob::new`] fills in the kind's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    pub kind: JobKind,
    pub recipe: String,
    pub reason: Reason,
    /// While a job with this key is pending (queued or running), enqueueing another one with
    /// the same key does nothing. Default `<kind>:<recipe>`: triggers for a recipe that is
    /// already waiting or running collapse into that job.
    pub dedupe_key: String,
    /// Not claimed before this time; `None` is now.
    pub run_at: Option<OffsetDateTime>,
    /// Claims before the job ends `failed`; default [`JobKind::max_attempts`].
    pub max_attempts: u32,
}

impl NewJob {
    /// A `kind` job for `recipe`, due now, with the default dedupe key and attempts.
    pub fn new(kind: JobKind, recipe: impl Into<String>, reason: Reason) -> NewJob {
        let recipe = recipe.into();
        NewJob {
            kind,
            dedupe_key: format!("{kind}:{recipe}"),
            recipe,
            reason,
            run_at: None,
            max_attempts: kind.max_attempts(),
        }
    }

    pub fn with_dedupe_key(mut self, key: impl Into<String>) -> NewJob {
        self.dedupe_key = key.into();
        self
    }

    pub fn with_run_at(mut self, at: OffsetDateTime) -> NewJob {
        self.run_at = Some(at);
        self
    }

    pub fn with_max_attempts(mut self, attempts: u32) -> NewJob {
        self.max_attempts = attempts;
        self
    }
}

/// The result of an enqueue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    /// A new job was queued.
    Created(JobId),
    /// A pending job with the same dedupe key exists (this one); nothing was added.
    AlreadyPending(JobId),
}

impl Enqueued {
    /// The job that will run: the new one or the pending one.
    pub fn id(self) -> JobId {
        match self {
            Enqueued::Created(id) | Enqueued::AlreadyPending(id) => id,
        }
    }

    pub fn is_created(self) -> bool {
        matches!(self, Enqueued::Created(_))
    }
}

/// A job as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRecord {
    pub id: JobId,
    pub kind: JobKind,
    pub recipe: String,
    pub reason: Reason,
    pub dedupe_key: String,
    pub state: JobState,
    /// Claims so far, this one included while running (a release at shutdown gives its claim
    /// back; an expired lease does not).
    pub attempts: u32,
    pub max_attempts: u32,
    /// Not claimed before this time.
    pub run_at: OffsetDateTime,
    /// Who runs it and until when; `Some` exactly while running.
    pub lease: Option<Lease>,
    /// The latest failure, kept after a later success.
    pub last_error: Option<JobFailure>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// A worker's lease on a running job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The worker's id ([`WorkerConfig::id`](crate::WorkerConfig::id)).
    pub owner: String,
    /// Re-queued by any worker after this time unless renewed by a heartbeat.
    pub expires_at: OffsetDateTime,
}

/// A recorded failure of a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobFailure {
    /// The error's stable `kind()` string, or [`LEASE_EXPIRED`](crate::LEASE_EXPIRED).
    pub kind: String,
    pub message: String,
}

/// A worker's hold on a job it claimed: the job as claimed, and the lease it renews.
/// Completing, failing or releasing a job needs its claim, and works only while the lease is
/// still this worker's (see [`QueueError::LeaseLost`](crate::QueueError::LeaseLost)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The job as it was claimed (state running, attempts counting this claim).
    pub job: JobRecord,
    /// The lease holder.
    pub owner: String,
    /// How far each heartbeat pushes the lease's expiry.
    pub lease: Duration,
}
