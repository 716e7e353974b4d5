use crate::support::fresh;
use repack_queue::{JobKind, JobState, NewJob, Reason};
use repack_testkit::database::TestBackend;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;

repack_testkit::test_on_both_backends!(
    jobs_are_locked_when_claimed,
    a_claim_takes_the_earliest_due_job_and_leaves_later_ones,
);

const LEASE: Duration = Duration::from_secs(60);

/// Eight claimers race over 200 jobs: every job is claimed exactly once, by the claimer the
/// row names, and a claim counts one attempt.
async fn jobs_are_locked_when_claimed(backend: TestBackend) {
    const JOBS: usize = 200;
    const CLAIMERS: usize = 8;
    let test = fresh(backend).await;
    let mut ids = HashSet::new();
    for i in 0..JOBS {
        ids.insert(test.enqueue(&format!("recipe-{i:03}")).await);
    }

    let barrier = Arc::new(tokio::sync::Barrier::new(CLAIMERS));
    let claimers: Vec<_> = (0..CLAIMERS)
        .map(|n| {
            let queue = test.queue.clone();
            let barrier = barrier.clone();
            tokio::spawn(async move {
                let owner = format!("claimer-{n}");
                barrier.wait().await;
                let mut claimed = Vec::new();
                while let Some(claim) = queue.claim(&owner, LEASE).await.unwrap() {
                    assert_eq!(claim.owner, owner);
                    claimed.push(claim.job.id);
                }
                (owner, claimed)
            })
        })
        .collect();

    let mut seen = HashSet::new();
    for claimer in claimers {
        let (owner, claimed) = claimer.await.unwrap();
        for id in claimed {
            assert!(seen.insert(id), "job {id} was claimed twice");
            let job = test.job(id).await;
            assert_eq!(job.state, JobState::Running);
            assert_eq!(job.attempts, 1, "one claim, one attempt");
            assert_eq!(job.lease.expect("a running job has a lease").owner, owner);
        }
    }
    assert_eq!(seen, ids, "every job was claimed");
    assert!(test.queue.claim("late", LEASE).await.unwrap().is_none());
}

async fn a_claim_takes_the_earliest_due_job_and_leaves_later_ones(backend: TestBackend) {
    let test = fresh(backend).await;
    let now = OffsetDateTime::now_utc();
    let later = test
        .queue
        .enqueue(
            &NewJob::new(JobKind::Build, "tomorrow", Reason::Cli)
                .with_run_at(now + time::Duration::days(1)),
        )
        .await
        .unwrap()
        .id();
    let second = test
        .queue
        .enqueue(
            &NewJob::new(JobKind::Build, "second", Reason::Webhook)
                .with_run_at(now - time::Duration::minutes(1)),
        )
        .await
        .unwrap()
        .id();
    let first = test
        .queue
        .enqueue(
            &NewJob::new(JobKind::Build, "first", Reason::Cron)
                .with_run_at(now - time::Duration::minutes(2)),
        )
        .await
        .unwrap()
        .id();

    let claim = test.queue.claim("w", LEASE).await.unwrap().unwrap();
    assert_eq!(claim.job.id, first);
    assert_eq!(claim.job.reason, Reason::Cron);
    assert_eq!(claim.job.recipe, "first");
    let claim = test.queue.claim("w", LEASE).await.unwrap().unwrap();
    assert_eq!(claim.job.id, second);
    assert!(
        test.queue.claim("w", LEASE).await.unwrap().is_none(),
        "a job due tomorrow was claimed"
    );
    assert_eq!(test.job(later).await.state, JobState::Queued);
}
