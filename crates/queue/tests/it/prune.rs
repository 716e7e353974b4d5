//! Retention: finished jobs and webhook deliveries older than the cutoff are deleted, pending
//! jobs never are, and a worker prunes on its own.

use crate::support::{FnJob, eventually, fresh, quick_worker};
use repack_queue::{
    Backoff, Delivered, JobError, JobKind, JobState, NewJob, Pruned, Reason, Worker, WorkerConfig,
};
use repack_testkit::database::TestBackend;
use std::time::Duration;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

repack_testkit::test_on_both_backends!(
    finished_jobs_and_deliveries_older_than_the_cutoff_are_pruned,
    a_worker_prunes_finished_jobs_on_its_own,
);

/// Timestamps are stored to the microsecond: a pause on each side of a cutoff keeps rows
/// clearly before or after it.
async fn pause() {
    tokio::time::sleep(Duration::from_millis(20)).await;
}

async fn finished_jobs_and_deliveries_older_than_the_cutoff_are_pruned(backend: TestBackend) {
    let test = fresh(backend).await;
    let lease = Duration::from_secs(60);
    let old_done = test.enqueue("old-done").await;
    let claim = test.queue.claim("worker-a", lease).await.unwrap().unwrap();
    test.queue.complete(&claim).await.unwrap();
    let old_failed = test
        .queue
        .enqueue(&NewJob::new(JobKind::Build, "old-failed", Reason::Cron).with_max_attempts(1))
        .await
        .unwrap()
        .id();
    let claim = test.queue.claim("worker-a", lease).await.unwrap().unwrap();
    let error = JobError::new("fetch-http-status", "404 from the mirror");
    test.queue
        .fail(&claim, &error, &Backoff::default())
        .await
        .unwrap();
    assert_eq!(test.job(old_failed).await.state, JobState::Failed);
    let running = test.enqueue("old-running").await;
    let running_claim = test.queue.claim("worker-a", lease).await.unwrap().unwrap();
    assert_eq!(running_claim.job.id, running);
    // Queued long ago and not due for a day: old, but pending.
    let queued = test
        .queue
        .enqueue(
            &NewJob::new(JobKind::Build, "old-queued", Reason::Cron)
                .with_run_at(OffsetDateTime::now_utc() + Duration::from_secs(86_400)),
        )
        .await
        .unwrap()
        .id();
    let old_delivery = test
        .queue
        .enqueue_delivery("github", "old-delivery", &[])
        .await
        .unwrap();
    assert_eq!(old_delivery, Delivered::New(Vec::new()));

    pause().await;
    let cutoff = OffsetDateTime::now_utc();
    pause().await;

    let new_done = test.enqueue("new-done").await;
    let claim = test.queue.claim("worker-a", lease).await.unwrap().unwrap();
    assert_eq!(claim.job.id, new_done);
    test.queue.complete(&claim).await.unwrap();
    test.queue
        .enqueue_delivery("github", "new-delivery", &[])
        .await
        .unwrap();

    let pruned = test.queue.prune(cutoff).await.unwrap();
    assert_eq!(
        pruned,
        Pruned {
            jobs: 2,
            deliveries: 1
        }
    );
    assert_eq!(test.queue.job(old_done).await.unwrap(), None);
    assert_eq!(test.queue.job(old_failed).await.unwrap(), None);
    assert_eq!(test.job(running).await.state, JobState::Running);
    assert_eq!(test.job(queued).await.state, JobState::Queued);
    assert_eq!(test.job(new_done).await.state, JobState::Succeeded);
    // The running job's worker still records its outcome: pruning never touched its row.
    test.queue.heartbeat(&running_claim).await.unwrap();

    // A pruned delivery id is forgotten; a newer one is still a replay.
    let replayed_job = NewJob::new(JobKind::Build, "redelivered", Reason::Webhook);
    let again = test
        .queue
        .enqueue_delivery(
            "github",
            "old-delivery",
            std::slice::from_ref(&replayed_job),
        )
        .await
        .unwrap();
    assert!(
        matches!(again, Delivered::New(ref jobs) if jobs.len() == 1),
        "{again:?}"
    );
    let replay = test
        .queue
        .enqueue_delivery("github", "new-delivery", &[replayed_job])
        .await
        .unwrap();
    assert_eq!(replay, Delivered::Replayed);

    // Everything finished goes with a cutoff in the future; pending jobs still stay.
    let pruned = test
        .queue
        .prune(OffsetDateTime::now_utc() + Duration::from_secs(3600))
        .await
        .unwrap();
    assert_eq!(
        pruned,
        Pruned {
            jobs: 1,
            deliveries: 2
        }
    );
    assert_eq!(test.queue.pending().await.unwrap(), 3);
    let left: Vec<String> = test
        .queue
        .jobs(None)
        .await
        .unwrap()
        .into_iter()
        .map(|job| job.recipe)
        .collect();
    assert_eq!(left, ["old-running", "old-queued", "redelivered"]);
}

/// A worker with a (tiny) retention deletes a job it finished at its next prune, and keeps a
/// job that is queued for later.
async fn a_worker_prunes_finished_jobs_on_its_own(backend: TestBackend) {
    let test = fresh(backend).await;
    let done = test.enqueue("debian-live").await;
    let later = test
        .queue
        .enqueue(
            &NewJob::new(JobKind::Build, "ubuntu-live", Reason::Cron)
                .with_run_at(OffsetDateTime::now_utc() + Duration::from_secs(86_400)),
        )
        .await
        .unwrap()
        .id();
    let config = WorkerConfig {
        keep_finished: Some(Duration::from_millis(1)),
        prune_interval: Duration::from_millis(50),
        ..quick_worker("worker-a")
    };
    let stop = CancellationToken::new();
    let job = FnJob(|_ctx| async { Ok(()) });
    let worker = tokio::spawn(Worker::new(test.queue.clone(), job, config).run(stop.clone()));
    let t = &test;
    eventually("the finished job is pruned", move || async move {
        t.queue.job(done).await.unwrap().is_none().then_some(())
    })
    .await;
    assert_eq!(test.job(later).await.state, JobState::Queued);
    stop.cancel();
    let report = worker.await.unwrap();
    assert_eq!(report.succeeded, 1, "{report:?}");
}
