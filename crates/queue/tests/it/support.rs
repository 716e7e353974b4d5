//! Test support: a fresh queue on either backend, a job made from a closure, quick worker
//! settings, and waiting for a condition with a generous timeout.

use repack_catalog::Catalog;
use repack_queue::{
    Backoff, Job, JobContext, JobError, JobId, JobKind, JobRecord, NewJob, Queue, Reason,
    WorkerConfig,
};
use repack_testkit::database::{TestBackend, TestDatabase};
use std::future::Future;
use std::time::Duration;

/// The longest any test waits for something to happen. Generous: a slow machine only makes
/// the tests slower, never wrong.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// A queue on a database of its own; keep it alive for the test's duration.
pub struct TestQueue {
    pub queue: Queue,
    pub db: TestDatabase,
}

pub async fn fresh(backend: TestBackend) -> TestQueue {
    let db = TestDatabase::fresh(backend).await;
    let catalog = Catalog::open(db.url())
        .await
        .unwrap_or_else(|error| panic!("open a fresh catalogue on {backend}: {error:?}"));
    let queue = Queue::new(catalog.database().clone());
    TestQueue { queue, db }
}

impl TestQueue {
    /// Enqueues a build of `recipe` from the CLI and returns its id (it must be new).
    pub async fn enqueue(&self, recipe: &str) -> JobId {
        let enqueued = self
            .queue
            .enqueue(&NewJob::new(JobKind::Build, recipe, Reason::Cli))
            .await
            .unwrap();
        assert!(enqueued.is_created(), "{recipe} was already pending");
        enqueued.id()
    }

    pub async fn job(&self, id: JobId) -> JobRecord {
        self.queue.job(id).await.unwrap().expect("the job exists")
    }
}

/// A [`Job`] made from a closure returning a future.
pub struct FnJob<F>(pub F);

impl<F, Fut> Job for FnJob<F>
where
    F: Fn(JobContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), JobError>> + Send + 'static,
{
    fn run(&self, ctx: JobContext) -> impl Future<Output = Result<(), JobError>> + Send {
        (self.0)(ctx)
    }
}

/// Worker settings for tests: short polls and backoff, leases long enough that no heartbeat
/// on a busy machine is late.
pub fn quick_worker(id: &str) -> WorkerConfig {
    WorkerConfig {
        id: id.to_owned(),
        slots: 2,
        lease: Duration::from_secs(10),
        heartbeat: Duration::from_millis(200),
        poll_interval: Duration::from_millis(20),
        grace_period: Duration::from_secs(5),
        backoff: Backoff {
            base: Duration::from_millis(10),
            max: Duration::from_millis(100),
            jitter: 0.5,
        },
        until_idle: false,
        keep_finished: None,
        prune_interval: Duration::from_secs(60 * 60),
    }
}

/// Polls `probe` until it gives `Some`, and returns that; panics naming `what` after
/// [`PATIENCE`]. (For a plain condition, return `cond.then_some(())`.)
pub async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {PATIENCE:?} waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
