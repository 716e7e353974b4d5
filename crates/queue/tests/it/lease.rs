use crate::support::{FnJob, eventually, fresh, quick_worker};
use repack_queue::{
    JobKind, JobState, LEASE_EXPIRED, NewJob, QueueError, Reason, Worker, WorkerConfig,
};
use repack_testkit::database::TestBackend;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

repack_testkit::test_on_both_backends!(
    an_expired_lease_is_requeued_and_another_worker_takes_it,
    an_expired_lease_on_the_last_attempt_ends_failed,
    heartbeats_keep_a_long_jobs_lease_alive,
);

/// Worker A claims and goes silent (a lease of zero is already over). Any worker's sweep
/// re-queues the job, counting A's attempt; B takes it; A can no longer record anything.
async fn an_expired_lease_is_requeued_and_another_worker_takes_it(backend: TestBackend) {
    let test = fresh(backend).await;
    let id = test.enqueue("debian-live").await;
    let dead = test
        .queue
        .claim("worker-a", Duration::ZERO)
        .await
        .unwrap()
        .unwrap();
    assert!(
        test.queue
            .claim("worker-b", Duration::from_secs(60))
            .await
            .unwrap()
            .is_none(),
        "a running job was claimed again before its lease was swept"
    );

    assert_eq!(test.queue.requeue_expired().await.unwrap(), 1);
    let requeued = test.job(id).await;
    assert_eq!(requeued.state, JobState::Queued);
    assert_eq!(requeued.attempts, 1, "the expired attempt counts");
    assert!(requeued.lease.is_none());
    let error = requeued.last_error.expect("the expiry is recorded");
    assert_eq!(error.kind, LEASE_EXPIRED);
    assert!(error.message.contains("worker-a"), "{}", error.message);

    let taken = test
        .queue
        .claim("worker-b", Duration::from_secs(60))
        .await
        .unwrap()
        .expect("another worker takes the re-queued job");
    assert_eq!(taken.job.id, id);
    assert_eq!(taken.job.attempts, 2);

    // The silent worker wakes up: nothing it reports lands.
    let error = test.queue.complete(&dead).await.unwrap_err();
    assert!(matches!(error, QueueError::LeaseLost { .. }), "{error:?}");
    assert_eq!(error.kind(), "queue-lease-lost");
    let message = error.to_string();
    assert!(
        message.contains(&format!("{id}")) && message.contains("debian-live"),
        "{message}"
    );
    assert!(test.queue.heartbeat(&dead).await.is_err());
    assert!(test.queue.release(&dead).await.is_err());

    test.queue.complete(&taken).await.unwrap();
    let done = test.job(id).await;
    assert_eq!(done.state, JobState::Succeeded);
    assert_eq!(done.attempts, 2);
}

async fn an_expired_lease_on_the_last_attempt_ends_failed(backend: TestBackend) {
    let test = fresh(backend).await;
    let id = test
        .queue
        .enqueue(&NewJob::new(JobKind::Build, "debian-live", Reason::Cron).with_max_attempts(1))
        .await
        .unwrap()
        .id();
    test.queue
        .claim("worker-a", Duration::ZERO)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(test.queue.requeue_expired().await.unwrap(), 1);
    let job = test.job(id).await;
    assert_eq!(job.state, JobState::Failed);
    assert_eq!(job.last_error.unwrap().kind, LEASE_EXPIRED);
    assert!(
        test.queue
            .claim("worker-b", Duration::from_secs(60))
            .await
            .unwrap()
            .is_none()
    );
}

/// A job runs well past its first lease; the worker's heartbeats keep it: another worker's
/// sweep finds nothing expired and cannot claim it, and it succeeds on its first attempt.
async fn heartbeats_keep_a_long_jobs_lease_alive(backend: TestBackend) {
    let test = fresh(backend).await;
    let id = test.enqueue("debian-live").await;
    let finish = CancellationToken::new();
    let job = {
        let finish = finish.clone();
        FnJob(move |_ctx| {
            let finish = finish.clone();
            async move {
                finish.cancelled().await;
                Ok(())
            }
        })
    };
    let config = WorkerConfig {
        lease: Duration::from_secs(3),
        heartbeat: Duration::from_millis(100),
        ..quick_worker("worker-a")
    };
    let stop = CancellationToken::new();
    let worker = tokio::spawn(Worker::new(test.queue.clone(), job, config).run(stop.clone()));

    let t = &test;
    let first_expiry = eventually("the job runs", move || async move {
        t.job(id).await.lease.map(|lease| lease.expires_at)
    })
    .await;
    // Wait until the first lease would have run out.
    eventually("the first lease is past", move || async move {
        (time::OffsetDateTime::now_utc() > first_expiry + Duration::from_millis(500)).then_some(())
    })
    .await;

    assert_eq!(test.queue.requeue_expired().await.unwrap(), 0);
    assert!(
        test.queue
            .claim("worker-b", Duration::from_secs(60))
            .await
            .unwrap()
            .is_none()
    );
    let running = test.job(id).await;
    assert_eq!(running.state, JobState::Running);
    let lease = running.lease.unwrap();
    assert_eq!(lease.owner, "worker-a");
    assert!(
        lease.expires_at > first_expiry,
        "the lease was never renewed"
    );

    finish.cancel();
    eventually("the job succeeds", move || async move {
        (t.job(id).await.state == JobState::Succeeded).then_some(())
    })
    .await;
    assert_eq!(test.job(id).await.attempts, 1);
    stop.cancel();
    let report = worker.await.unwrap();
    assert_eq!(report.succeeded, 1);
}
