use crate::support::{FnJob, eventually, fresh, quick_worker};
use repack_queue::{
    Backoff, FailOutcome, JobError, JobKind, JobState, NewJob, Reason, Worker, WorkerConfig,
};
use repack_testkit::database::TestBackend;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

repack_testkit::test_on_both_backends!(
    a_failing_job_backs_off_with_growing_delays_then_ends_failed_with_its_error,
    the_worker_retries_a_failing_job_until_it_succeeds,
    a_panicking_job_counts_as_a_failure,
);

const LEASE: Duration = Duration::from_secs(60);

/// Four attempts, each failing: after each of the first three, the job is queued again with
/// `run_at` pushed out by the backoff of that attempt (50, 100, 200 ms, plus up to half as
/// much jitter), each delay longer than the one before; the fourth failure ends it `failed`,
/// keeping the last error.
async fn a_failing_job_backs_off_with_growing_delays_then_ends_failed_with_its_error(
    backend: TestBackend,
) {
    let test = fresh(backend).await;
    let backoff = Backoff {
        base: Duration::from_millis(50),
        max: Duration::from_secs(10),
        jitter: 0.5,
    };
    let id = test
        .queue
        .enqueue(&NewJob::new(JobKind::Build, "debian-live", Reason::Cron).with_max_attempts(4))
        .await
        .unwrap()
        .id();
    let queue = &test.queue;
    let mut delays = Vec::new();
    for attempt in 1..=4u32 {
        let claim = eventually("the retry is due", move || async move {
            queue.claim("worker-a", LEASE).await.unwrap()
        })
        .await;
        assert_eq!(claim.job.id, id);
        assert_eq!(claim.job.attempts, attempt);
        let error = JobError::new(
            "fetch-http-status",
            format!("GET https://mirror.example/debian-live.iso: 503 (attempt {attempt})"),
        );
        let outcome = queue.fail(&claim, &error, &backoff).await.unwrap();
        let job = test.job(id).await;
        let last_error = job.last_error.clone().expect("the error is kept");
        assert_eq!(last_error.kind, "fetch-http-status");
        assert_eq!(last_error.message, error.message());
        assert!(job.lease.is_none());
        if attempt < 4 {
            let FailOutcome::Retry { run_at } = outcome else {
                panic!("attempt {attempt} of 4 ended the job: {outcome:?}")
            };
            assert_eq!(job.state, JobState::Queued);
            assert_eq!(job.run_at, run_at);
            // Both times are stored to the microsecond.
            let delay = job.run_at - job.updated_at;
            let shortest = backoff.base * 2u32.pow(attempt - 1);
            let tolerance = time::Duration::microseconds(2);
            assert!(
                delay >= shortest - tolerance && delay <= shortest.mul_f64(1.5) + tolerance,
                "attempt {attempt}: delay {delay} is outside the backoff of {shortest:?} + 50 %"
            );
            delays.push(delay);
        } else {
            assert_eq!(outcome, FailOutcome::Failed);
            assert_eq!(job.state, JobState::Failed);
            assert_eq!(job.attempts, 4);
        }
    }
    assert!(
        delays.windows(2).all(|pair| pair[0] < pair[1]),
        "delays do not grow: {delays:?}"
    );
    assert!(queue.claim("worker-a", LEASE).await.unwrap().is_none());
    assert_eq!(queue.pending().await.unwrap(), 0);
}

/// The worker records each failed attempt and tries again after the backoff; the third
/// attempt succeeds and the earlier error stays visible.
async fn the_worker_retries_a_failing_job_until_it_succeeds(backend: TestBackend) {
    let test = fresh(backend).await;
    let id = test.enqueue("debian-live").await;
    let job = FnJob(|ctx: repack_queue::JobContext| async move {
        if ctx.attempt() < 3 {
            Err(JobError::new(
                "watch-http-status",
                format!("attempt {}: 502 from the mirror", ctx.attempt()),
            ))
        } else {
            Ok(())
        }
    });
    let config = WorkerConfig {
        until_idle: true,
        ..quick_worker("worker-a")
    };
    let report = tokio::time::timeout(
        crate::support::PATIENCE,
        Worker::new(test.queue.clone(), job, config).run(CancellationToken::new()),
    )
    .await
    .expect("the worker stops once the queue is empty");
    assert_eq!((report.failed, report.succeeded), (2, 1), "{report:?}");
    let job = test.job(id).await;
    assert_eq!(job.state, JobState::Succeeded);
    assert_eq!(job.attempts, 3);
    let error = job.last_error.unwrap();
    assert_eq!(error.kind, "watch-http-status");
    assert_eq!(error.message, "attempt 2: 502 from the mirror");
}

async fn a_panicking_job_counts_as_a_failure(backend: TestBackend) {
    let test = fresh(backend).await;
    let id = test
        .queue
        .enqueue(&NewJob::new(JobKind::Build, "debian-live", Reason::Cli).with_max_attempts(1))
        .await
        .unwrap()
        .id();
    let job = FnJob(|_ctx| async move {
        if true {
            panic!("boom in the build");
        }
        Ok(())
    });
    let config = WorkerConfig {
        until_idle: true,
        ..quick_worker("worker-a")
    };
    let report = tokio::time::timeout(
        crate::support::PATIENCE,
        Worker::new(test.queue.clone(), job, config).run(CancellationToken::new()),
    )
    .await
    .expect("the worker stops once the queue is empty");
    assert_eq!(report.failed, 1, "{report:?}");
    let job = test.job(id).await;
    assert_eq!(job.state, JobState::Failed);
    let error = job.last_error.unwrap();
    assert_eq!(error.kind, "job-panicked");
    assert!(
        error.message.contains("boom in the build"),
        "{}",
        error.message
    );
}
