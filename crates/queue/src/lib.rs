//! Jobs on the catalogue's database: how a trigger (cron, webhook, `repack run`) becomes a
//! build that runs once, on one of possibly many workers.
//!
//! [`Queue`] is the job table: [`Queue::enqueue`] adds a [`NewJob`] unless a pending job has
//! the same dedupe key; [`Queue::claim`] hands the earliest due job to one worker with a lease
//! (one statement, `FOR UPDATE SKIP LOCKED` on PostgreSQL, a write transaction on SQLite);
//! heartbeats renew the lease; a failed attempt is retried after an exponential [`Backoff`]
//! with jitter until its attempts are spent and it ends `failed`, its error kept; a job whose
//! lease expired (its worker died) is re-queued and counts the attempt. [`Worker`] runs
//! claimed jobs in N slots with a heartbeat each and shuts down gracefully, releasing what
//! is still running after the grace period; it also prunes, every so often, finished jobs and
//! webhook deliveries older than a retention ([`Queue::prune`]). [`Scheduler`] turns each recipe's cron
//! [`Schedule`] into one job per slot, however many schedulers race.
//!
//! [`JobKind`] is the one registration list of job kinds; the [`Job`] trait is the work
//! behind them, implemented once by the composition root (which owns the pipeline), matching
//! on the kind.
//!
//! The tables live in the catalogue's database and are created by its migrator (their
//! migrations sit beside the catalogue's in `migrations/{sqlite,postgres}`): open a
//! [`Catalog`](repack_catalog::Catalog) and hand [`Catalog::database`](repack_catalog::Catalog::database)
//! to [`Queue::new`]. The queries are written once for SQLite and PostgreSQL through the
//! catalogue's [`Database`](repack_catalog::Database); the only dialect difference, the claim's
//! lock clause, comes from there too. This crate runs jobs; it knows nothing of what a build
//! does, and reads no configuration or environment.

mod backoff;
mod delivery;
mod error;
mod job;
mod kind;
mod prune;
mod queue;
mod record;
mod schedule;
mod stats;
mod worker;

pub use backoff::Backoff;
pub use delivery::{Delivered, MAX_DELIVERY_ID};
pub use error::QueueError;
pub use job::{Job, JobContext, JobError};
pub use kind::{JobKind, Reason};
pub use prune::Pruned;
pub use queue::{FailOutcome, LEASE_EXPIRED, Queue};
pub use record::{Claim, Enqueued, JobFailure, JobId, JobRecord, JobState, Lease, NewJob};
pub use schedule::{Schedule, Scheduler};
pub use stats::{DurationHistogram, JobCount, MAX_BUCKETS};
pub use worker::{DEFAULT_KEEP_FINISHED, Worker, WorkerConfig, WorkerReport};
