//! [`Worker`]: runs claimed jobs in a fixed number of slots until it is told to stop (or, for
//! `repack run`, until nothing is left to do).
//!
//! Each loop re-queues jobs whose lease expired (other workers died), fills free slots with
//! [`Queue::claim`], and waits for a job to end, the next poll, or the stop signal. Every
//! running job has a heartbeat task renewing its lease; the job's outcome is recorded when its
//! task ends (a panic is a failure). On the stop signal the worker claims nothing more, lets
//! running jobs finish within the grace period, then cancels the rest and releases their
//! leases, so another worker takes them at once instead of after the lease runs out. Every
//! [`WorkerConfig::prune_interval`] it also deletes finished jobs and webhook deliveries older
//! than [`WorkerConfig::keep_finished`] ([`Queue::prune`]).
//!
//! Database errors in the loop are logged and retried at the next poll: a worker outlives a
//! database restart. A job whose outcome cannot be recorded is re-queued when its lease
//! expires, so the queue runs each job at least once, and exactly once while leases are kept.

use crate::backoff::Backoff;
use crate::error::QueueError;
use crate::job::{Job, JobContext, JobError};
use crate::queue::{FailOutcome, Queue};
use crate::record::Claim;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::{self, JoinError, JoinHandle, JoinSet};
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

/// How a worker runs. `Default` suits the service; tests shorten the times.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// The lease owner's name, unique per worker process (default `worker-<pid>-<random>`;
    /// the binary prefixes the host name).
    pub id: String,
    /// Jobs run at the same time.
    pub slots: usize,
    /// How long a claim holds without a heartbeat: a dead worker's job waits this long before
    /// another worker re-queues it.
    pub lease: Duration,
    /// How often a running job's lease is renewed; a few times per lease.
    pub heartbeat: Duration,
    /// How often an idle worker looks for due jobs and expired leases.
    pub poll_interval: Duration,
    /// How long running jobs may take to finish once the worker is told to stop.
    pub grace_period: Duration,
    /// Retry delays of failed attempts.
    pub backoff: Backoff,
    /// Stop once no job is queued or running anywhere (`repack run`: enqueue, then work until
    /// the queue is empty).
    pub until_idle: bool,
    /// Finished jobs and webhook deliveries older than this are deleted ([`Queue::prune`]);
    /// `None` keeps them forever. Default 30 days.
    pub keep_finished: Option<Duration>,
    /// How often the worker prunes (first when it starts).
    pub prune_interval: Duration,
}

/// The default of [`WorkerConfig::keep_finished`]: 30 days.
pub const DEFAULT_KEEP_FINISHED: Duration = Duration::from_secs(30 * 24 * 60 * 60);

impl Default for WorkerConfig {
    fn default() -> WorkerConfig {
        WorkerConfig {
            id: format!("worker-{}-{:08x}", std::process::id(), fastrand::u32(..)),
            slots: 2,
            lease: Duration::from_secs(120),
            heartbeat: Duration::from_secs(30),
            poll_interval: Duration::from_secs(2),
            grace_period: Duration::from_secs(30),
            backoff: Backoff::default(),
            until_idle: false,
            keep_finished: Some(DEFAULT_KEEP_FINISHED),
            prune_interval: Duration::from_secs(60 * 60),
        }
    }
}

/// What a worker did before it stopped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkerReport {
    /// Jobs that succeeded.
    pub succeeded: u64,
    /// Attempts that failed (returned an error or panicked), retried or not.
    pub failed: u64,
    /// Jobs released unfinished at shutdown.
    pub released: u64,
    /// Jobs whose outcome could not be recorded (lease lost or database error).
    pub unrecorded: u64,
}

/// Runs jobs from a [`Queue`] with a [`Job`] implementation.
pub struct Worker<J> {
    queue: Queue,
    job: Arc<J>,
    config: WorkerConfig,
}

/// A job this worker is running. Dropping it stops the heartbeat.
struct Running {
    claim: Claim,
    _heartbeat: AbortOnDrop,
}

/// How a job's task ended.
enum Ended {
    Returned(Result<(), JobError>),
    Panicked(String),
    Cancelled,
}

impl<J: Job> Worker<J> {
    pub fn new(queue: Queue, job: J, config: WorkerConfig) -> Worker<J> {
        Worker {
            queue,
            job: Arc::new(job),
            config,
        }
    }

    pub fn config(&self) -> &WorkerConfig {
        &self.config
    }

    /// Runs until `shutdown` is cancelled (or, with `until_idle`, the queue is empty), then
    /// winds down as the module docs describe.
    pub async fn run(self, shutdown: CancellationToken) -> WorkerReport {
        let slots = self.config.slots.max(1);
        let mut tasks: JoinSet<Result<(), JobError>> = JoinSet::new();
        let mut running: HashMap<task::Id, Running> = HashMap::new();
        let mut report = WorkerReport::default();
        let mut last_reap: Option<Instant> = None;
        let mut last_prune: Option<Instant> = None;
        tracing::info!(worker = %self.config.id, slots, "worker started");

        while !shutdown.is_cancelled() {
            if last_reap.is_none_or(|at| at.elapsed() >= self.config.poll_interval) {
                if let Err(error) = self.queue.requeue_expired().await {
                    tracing::warn!(worker = %self.config.id, error = %error, "cannot re-queue expired leases");
                }
                last_reap = Some(Instant::now());
            }
            if let Some(keep) = self.config.keep_finished
                && last_prune.is_none_or(|at| at.elapsed() >= self.config.prune_interval)
            {
                // A retention reaching before the calendar's start keeps everything.
                let older_than = time::Duration::try_from(keep)
                    .ok()
                    .and_then(|keep| repack_catalog::timestamp::now().checked_sub(keep));
                if let Some(older_than) = older_than
                    && let Err(error) = self.queue.prune(older_than).await
                {
                    tracing::warn!(worker = %self.config.id, error = %error, "cannot prune finished jobs");
                }
                last_prune = Some(Instant::now());
            }
            while tasks.len() < slots && !shutdown.is_cancelled() {
                match self.queue.claim(&self.config.id, self.config.lease).await {
                    Ok(Some(claim)) => self.start(claim, &mut tasks, &mut running, &shutdown),
                    Ok(None) => break,
                    Err(error) => {
                        tracing::warn!(worker = %self.config.id, error = %error, "cannot claim a job");
                        break;
                    }
                }
            }
            if self.config.until_idle && tasks.is_empty() {
                match self.queue.pending().await {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(error) => {
                        tracing::warn!(worker = %self.config.id, error = %error, "cannot count pending jobs")
                    }
                }
            }
            tokio::select! {
                () = shutdown.cancelled() => {}
                Some(joined) = tasks.join_next_with_id(), if !tasks.is_empty() => {
                    self.finish(joined, &mut running, &mut report).await;
                }
                () = tokio::time::sleep(self.config.poll_interval) => {}
            }
        }

        self.wind_down(tasks, running, &mut report).await;
        tracing::info!(worker = %self.config.id, ?report, "worker stopped");
        report
    }

    /// Starts `claim`'s job and its heartbeat.
    fn start(
        &self,
        claim: Claim,
        tasks: &mut JoinSet<Result<(), JobError>>,
        running: &mut HashMap<task::Id, Running>,
        shutdown: &CancellationToken,
    ) {
        let lease_lost = CancellationToken::new();
        let ctx = JobContext::new(
            claim.clone(),
            self.queue.clone(),
            lease_lost.clone(),
            shutdown.child_token(),
        );
        let job = self.job.clone();
        let handle = tasks.spawn(async move { job.run(ctx).await });
        let heartbeat = tokio::spawn(renew(
            self.queue.clone(),
            claim.clone(),
            self.config.heartbeat,
            lease_lost,
        ));
        running.insert(
            handle.id(),
            Running {
                claim,
                _heartbeat: AbortOnDrop(heartbeat),
            },
        );
    }

    /// Records how a job's task ended.
    async fn finish(
        &self,
        joined: Result<(task::Id, Result<(), JobError>), JoinError>,
        running: &mut HashMap<task::Id, Running>,
        report: &mut WorkerReport,
    ) {
        let (id, ended) = match joined {
            Ok((id, result)) => (id, Ended::Returned(result)),
            Err(error) if error.is_panic() => {
                let id = error.id();
                (id, Ended::Panicked(panic_message(error)))
            }
            Err(error) => (error.id(), Ended::Cancelled),
        };
        let Some(Running { claim, .. }) = running.remove(&id) else {
            return;
        };
        let job = &claim.job;
        let recorded = match ended {
            Ended::Returned(Ok(())) => self.queue.complete(&claim).await.map(|()| {
                report.succeeded += 1;
                tracing::info!(job = %job.id, kind = %job.kind, recipe = %job.recipe, attempt = job.attempts, "job succeeded");
            }),
            Ended::Returned(Err(error)) => self.record_failure(&claim, &error, report).await,
            Ended::Panicked(message) => {
                let error = JobError::new("job-panicked", format!("the job panicked: {message}"));
                self.record_failure(&claim, &error, report).await
            }
            Ended::Cancelled => self.queue.release(&claim).await.map(|()| {
                report.released += 1;
                tracing::info!(job = %job.id, kind = %job.kind, recipe = %job.recipe, "job released for another worker");
            }),
        };
        if let Err(error) = recorded {
            report.unrecorded += 1;
            tracing::warn!(job = %job.id, error = %error, kind = error.kind(), "job outcome not recorded");
        }
    }

    async fn record_failure(
        &self,
        claim: &Claim,
        error: &JobError,
        report: &mut WorkerReport,
    ) -> Result<(), QueueError> {
        let outcome = self.queue.fail(claim, error, &self.config.backoff).await?;
        report.failed += 1;
        let job = &claim.job;
        match outcome {
            FailOutcome::Retry { run_at } => tracing::warn!(
                job = %job.id, kind = %job.kind, recipe = %job.recipe, attempt = job.attempts,
                error = %error, retry_at = %run_at, "job failed; will retry"
            ),
            FailOutcome::Failed => tracing::error!(
                job = %job.id, kind = %job.kind, recipe = %job.recipe, attempts = job.attempts,
                error = %error, "job failed for good"
            ),
        }
        Ok(())
    }

    /// Lets running jobs finish within the grace period, then cancels and releases the rest.
    async fn wind_down(
        &self,
        mut tasks: JoinSet<Result<(), JobError>>,
        mut running: HashMap<task::Id, Running>,
        report: &mut WorkerReport,
    ) {
        if tasks.is_empty() {
            return;
        }
        tracing::info!(
            worker = %self.config.id, jobs = tasks.len(), grace = ?self.config.grace_period,
            "stopping: waiting for running jobs"
        );
        let deadline = Instant::now() + self.config.grace_period;
        let mut cancelled = false;
        loop {
            let next = if cancelled {
                tasks.join_next_with_id().await
            } else {
                match tokio::time::timeout_at(deadline, tasks.join_next_with_id()).await {
                    Ok(next) => next,
                    Err(_elapsed) => {
                        tracing::warn!(
                            worker = %self.config.id, jobs = tasks.len(),
                            "grace period over: cancelling and releasing the jobs still running"
                        );
                        tasks.abort_all();
                        cancelled = true;
                        continue;
                    }
                }
            };
            let Some(joined) = next else { break };
            self.finish(joined, &mut running, report).await;
        }
    }
}

/// Renews `claim`'s lease every `every` until aborted or the lease is found gone.
async fn renew(queue: Queue, claim: Claim, every: Duration, lease_lost: CancellationToken) {
    let every = every.max(Duration::from_millis(1));
    let mut ticks = tokio::time::interval_at(Instant::now() + every, every);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match queue.heartbeat(&claim).await {
            Ok(_) => {}
            Err(error @ QueueError::LeaseLost { .. }) => {
                tracing::warn!(job = %claim.job.id, error = %error, "lease lost");
                lease_lost.cancel();
                return;
            }
            Err(error) => {
                tracing::warn!(job = %claim.job.id, error = %error, "heartbeat failed; retrying")
            }
        }
    }
}

/// The text of a panic, when it has one.
fn panic_message(error: JoinError) -> String {
    let payload = error.into_panic();
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "(no message)".to_owned()
    }
}

/// Aborts the task when dropped.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
