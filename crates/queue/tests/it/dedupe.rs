use crate::support::fresh;
use repack_queue::{Enqueued, JobKind, JobState, NewJob, QueueError, Reason};
use repack_testkit::database::TestBackend;
use std::sync::Arc;
use std::time::Duration;

repack_testkit::test_on_both_backends!(
    a_dedupe_key_enqueues_once_while_pending_and_again_after_the_job_finished,
    racing_triggers_of_one_recipe_enqueue_one_job,
    a_malformed_job_is_refused_and_nothing_is_enqueued,
);

const LEASE: Duration = Duration::from_secs(60);

async fn a_dedupe_key_enqueues_once_while_pending_and_again_after_the_job_finished(
    backend: TestBackend,
) {
    let test = fresh(backend).await;
    let cli = NewJob::new(JobKind::Build, "debian-live", Reason::Cli);
    assert_eq!(cli.dedupe_key, "build:debian-live");
    let first = test.queue.enqueue(&cli).await.unwrap();
    let Enqueued::Created(id) = first else {
        panic!("{first:?}")
    };

    // Queued: a webhook for the same recipe collapses into it.
    let webhook = NewJob::new(JobKind::Build, "debian-live", Reason::Webhook);
    assert_eq!(
        test.queue.enqueue(&webhook).await.unwrap(),
        Enqueued::AlreadyPending(id)
    );
    // Another recipe, or an explicit other key, is a job of its own.
    let other = test.enqueue("ubuntu-live").await;
    assert_ne!(other, id);

    // Running: still pending.
    let claim = loop {
        let claim = test.queue.claim("w", LEASE).await.unwrap().unwrap();
        if claim.job.id == id {
            break claim;
        }
    };
    assert_eq!(
        test.queue.enqueue(&webhook).await.unwrap(),
        Enqueued::AlreadyPending(id)
    );

    // Finished: the key is free again.
    test.queue.complete(&claim).await.unwrap();
    let again = test.queue.enqueue(&webhook).await.unwrap();
    assert!(again.is_created(), "{again:?}");
    assert_ne!(again.id(), id);
    let jobs = test.queue.jobs(None).await.unwrap();
    let debian: Vec<_> = jobs.iter().filter(|j| j.recipe == "debian-live").collect();
    assert_eq!(debian.len(), 2);
    assert_eq!(debian[0].state, JobState::Succeeded);
    assert_eq!(debian[1].state, JobState::Queued);
    assert_eq!(debian[1].reason, Reason::Webhook);
}

/// Eight triggers for one recipe at once: one job, and every trigger is told its id.
async fn racing_triggers_of_one_recipe_enqueue_one_job(backend: TestBackend) {
    let test = fresh(backend).await;
    let barrier = Arc::new(tokio::sync::Barrier::new(8));
    let triggers: Vec<_> = (0..8)
        .map(|_| {
            let queue = test.queue.clone();
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                queue
                    .enqueue(&NewJob::new(JobKind::Build, "debian-live", Reason::Webhook))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut results = Vec::new();
    for trigger in triggers {
        results.push(trigger.await.unwrap());
    }
    let created: Vec<_> = results.iter().filter(|r| r.is_created()).collect();
    assert_eq!(created.len(), 1, "{results:?}");
    assert!(results.iter().all(|r| r.id() == created[0].id()));
    assert_eq!(test.queue.pending().await.unwrap(), 1);
}

async fn a_malformed_job_is_refused_and_nothing_is_enqueued(backend: TestBackend) {
    let test = fresh(backend).await;
    for job in [
        NewJob::new(JobKind::Build, " ", Reason::Cli),
        NewJob::new(JobKind::Build, "debian-live", Reason::Cli).with_dedupe_key(""),
        NewJob::new(JobKind::Build, "debian-live", Reason::Cli).with_max_attempts(0),
    ] {
        let error = test.queue.enqueue(&job).await.unwrap_err();
        assert!(matches!(error, QueueError::InvalidJob { .. }), "{error:?}");
        assert_eq!(error.kind(), "queue-invalid-job");
        assert!(
            error.to_string().contains("nothing was enqueued"),
            "{error}"
        );
    }
    assert!(test.queue.jobs(None).await.unwrap().is_empty());
}
