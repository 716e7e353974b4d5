use crate::support::{FnJob, PATIENCE, eventually, fresh, quick_worker};
use repack_queue::{JobContext, JobState, Worker, WorkerConfig};
use repack_testkit::database::TestBackend;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

repack_testkit::test_on_both_backends!(shutdown_releases_the_leases_of_jobs_still_running);

/// Two jobs run when the worker is told to stop. One finishes when it sees the stop signal
/// and is recorded as succeeded; the other ignores it, is cancelled when the grace period
/// ends and released — queued again, due now, its attempt given back — not lost. Another
/// worker then takes it and runs it to the end.
async fn shutdown_releases_the_leases_of_jobs_still_running(backend: TestBackend) {
    let test = fresh(backend).await;
    let polite = test.enqueue("polite").await;
    let stuck = test.enqueue("stuck").await;
    let stuck_may_finish = CancellationToken::new();
    let make_job = || {
        let stuck_may_finish = stuck_may_finish.clone();
        FnJob(move |ctx: JobContext| {
            let stuck_may_finish = stuck_may_finish.clone();
            async move {
                if ctx.recipe() == "polite" {
                    ctx.shutdown().cancelled().await;
                } else {
                    stuck_may_finish.cancelled().await;
                }
                Ok(())
            }
        })
    };
    let config = WorkerConfig {
        grace_period: Duration::from_secs(2),
        ..quick_worker("worker-a")
    };
    let stop = CancellationToken::new();
    let worker =
        tokio::spawn(Worker::new(test.queue.clone(), make_job(), config).run(stop.clone()));
    let t = &test;
    eventually("both jobs run", move || async move {
        let running = t.queue.jobs(Some(JobState::Running)).await.unwrap();
        (running.len() == 2).then_some(())
    })
    .await;

    stop.cancel();
    let report = tokio::time::timeout(PATIENCE, worker)
        .await
        .expect("the worker stops after its grace period")
        .unwrap();
    assert_eq!((report.succeeded, report.released), (1, 1), "{report:?}");
    assert_eq!(test.job(polite).await.state, JobState::Succeeded);
    let released = test.job(stuck).await;
    assert_eq!(released.state, JobState::Queued);
    assert_eq!(released.attempts, 0, "a release is not a failed attempt");
    assert!(released.lease.is_none());
    assert!(released.last_error.is_none());
    assert!(
        released.run_at <= time::OffsetDateTime::now_utc(),
        "due at once"
    );

    stuck_may_finish.cancel();
    let config = WorkerConfig {
        until_idle: true,
        ..quick_worker("worker-b")
    };
    let report = tokio::time::timeout(
        PATIENCE,
        Worker::new(test.queue.clone(), make_job(), config).run(CancellationToken::new()),
    )
    .await
    .expect("the second worker runs the released job and stops");
    assert_eq!(report.succeeded, 1, "{report:?}");
    let done = test.job(stuck).await;
    assert_eq!(done.state, JobState::Succeeded);
    assert_eq!(done.attempts, 1);
}
