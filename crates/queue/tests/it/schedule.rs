use crate::support::fresh;
use repack_queue::{JobState, Reason, Schedule, Scheduler};
use repack_testkit::database::TestBackend;
use std::time::Duration;
use time::macros::datetime;

repack_testkit::test_on_both_backends!(
    each_cron_slot_is_enqueued_once_even_with_two_schedulers_racing,
    missed_slots_coalesce_into_one_run_for_the_latest_slot,
);

const LEASE: Duration = Duration::from_secs(60);

/// Two schedulers (two workers) tick at the same moments. Each slot becomes one job, with the
/// slot in its dedupe key and `run_at` within the jitter after the slot; a scheduler that ticks
/// again later — after the slot's job has already finished — adds nothing.
async fn each_cron_slot_is_enqueued_once_even_with_two_schedulers_racing(backend: TestBackend) {
    let test = fresh(backend).await;
    let jitter = Duration::from_secs(30);
    let schedules = vec![
        Schedule::new("debian-live", "*/5 * * * *", None, jitter).unwrap(),
        Schedule::new("ubuntu-live", "0 4 * * *", Some("Europe/Berlin"), jitter).unwrap(),
    ];
    let a = Scheduler::new(test.queue.clone(), schedules.clone());
    let b = Scheduler::new(test.queue.clone(), schedules);

    // First sight: schedules start now, nothing earlier is run.
    let start = datetime!(2025-06-02 01:58 UTC);
    assert!(a.tick(start).await.unwrap().is_empty());
    assert!(b.tick(start).await.unwrap().is_empty());

    // 02:00 UTC is a debian-live slot and, in Berlin summer time (UTC+2), ubuntu-live's 04:00.
    let rounds = [
        (datetime!(2025-06-02 02:00 UTC), 2),
        (datetime!(2025-06-02 02:05 UTC), 1),
        (datetime!(2025-06-02 02:10 UTC), 1),
    ];
    let mut total = 0;
    for (slot, expected) in rounds {
        let now = slot + Duration::from_secs(20);
        let (left, right) = (a.clone(), b.clone());
        let racing = (
            tokio::spawn(async move { left.tick(now).await.unwrap() }),
            tokio::spawn(async move { right.tick(now).await.unwrap() }),
        );
        let (from_a, from_b) = (racing.0.await.unwrap(), racing.1.await.unwrap());
        let enqueued: Vec<_> = from_a.iter().chain(&from_b).collect();
        assert_eq!(
            enqueued.len(),
            expected,
            "slot {slot}: {from_a:?} / {from_b:?}"
        );
        assert!(enqueued.iter().all(|job| job.is_created()));
        total += expected;

        for job in &enqueued {
            let job = test.job(job.id()).await;
            assert_eq!(job.reason, Reason::Cron);
            assert_eq!(
                job.dedupe_key,
                format!(
                    "cron:{}:{}",
                    job.recipe,
                    repack_catalog::timestamp::format(slot)
                )
            );
            assert!(job.run_at >= slot && job.run_at < slot + jitter, "{job:?}");
        }
        // Run the slot's jobs to the end, then let both schedulers look again.
        while let Some(claim) = test.queue.claim("worker", LEASE).await.unwrap() {
            test.queue.complete(&claim).await.unwrap();
        }
        let later = now + Duration::from_secs(60);
        assert!(a.tick(later).await.unwrap().is_empty(), "slot {slot} again");
        assert!(b.tick(later).await.unwrap().is_empty(), "slot {slot} again");
    }

    let jobs = test.queue.jobs(None).await.unwrap();
    assert_eq!(jobs.len(), total);
    assert!(jobs.iter().all(|job| job.state == JobState::Succeeded));
}

/// Slots missed while no scheduler ran become one run, for the latest slot.
async fn missed_slots_coalesce_into_one_run_for_the_latest_slot(backend: TestBackend) {
    let test = fresh(backend).await;
    let hourly = Schedule::new("debian-live", "0 * * * *", None, Duration::ZERO).unwrap();
    let scheduler = Scheduler::new(test.queue.clone(), vec![hourly]);
    assert!(
        scheduler
            .tick(datetime!(2025-06-02 00:30 UTC))
            .await
            .unwrap()
            .is_empty()
    );
    // Down from 00:30 to 05:10: the 01:00 … 05:00 slots were missed.
    let enqueued = scheduler
        .tick(datetime!(2025-06-02 05:10 UTC))
        .await
        .unwrap();
    assert_eq!(enqueued.len(), 1);
    let job = test.job(enqueued[0].id()).await;
    assert_eq!(job.run_at, datetime!(2025-06-02 05:00 UTC));
    assert!(job.dedupe_key.ends_with("2025-06-02T05:00:00.000000Z"));
    assert!(
        scheduler
            .tick(datetime!(2025-06-02 05:59 UTC))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        scheduler
            .tick(datetime!(2025-06-02 06:00 UTC))
            .await
            .unwrap()
            .len(),
        1
    );
}
