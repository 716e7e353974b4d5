use crate::support::fresh;
use repack_catalog::CheckOutcome;
use repack_testkit::database::TestBackend;
use time::macros::datetime;

repack_testkit::test_on_both_backends!(
    record_check_stores_errors_and_successes,
    record_check_now_and_long_messages,
);

async fn record_check_stores_errors_and_successes(backend: TestBackend) {
    let test = fresh(backend).await;
    let catalog = &test.catalog;
    assert!(catalog.checks().await.unwrap().is_empty());

    let t1 = datetime!(2026-11-01 04:00 UTC);
    let t2 = datetime!(2026-11-02 04:00 UTC);
    let t3 = datetime!(2026-11-03 04:00 UTC);
    let t4 = datetime!(2026-11-04 04:00 UTC);

    catalog
        .record_check_at("debian-live", CheckOutcome::Success, t1)
        .await
        .unwrap();
    catalog
        .record_check_at(
            "debian-live",
            CheckOutcome::failure("watch-http-status", "GET https://x/SHA256SUMS: 404"),
            t2,
        )
        .await
        .unwrap();
    catalog
        .record_check_at(
            "debian-live",
            CheckOutcome::failure("watch-empty-feed", "no ISO matched the pattern"),
            t3,
        )
        .await
        .unwrap();
    catalog
        .record_check_at(
            "ubuntu-live",
            CheckOutcome::failure("watch-parse", "bad line 3"),
            t1,
        )
        .await
        .unwrap();

    let checks = catalog.checks().await.unwrap();
    assert_eq!(checks.len(), 2);
    let debian = &checks[0];
    assert_eq!(debian.recipe, "debian-live");
    assert_eq!(debian.last_check_at, t3);
    assert_eq!(
        debian.last_success_at,
        Some(t1),
        "staleness: last good check stays visible"
    );
    assert!(debian.is_failing());
    assert_eq!(debian.consecutive_failures, 2);
    let error = debian.last_error.as_ref().unwrap();
    assert_eq!((error.at, error.kind.as_str()), (t3, "watch-empty-feed"));
    assert_eq!(error.message, "no ISO matched the pattern");

    let ubuntu = &checks[1];
    assert_eq!(ubuntu.last_success_at, None, "never succeeded");
    assert_eq!(ubuntu.consecutive_failures, 1);

    // A success clears the failing state but keeps the last error for inspection.
    catalog
        .record_check_at("debian-live", CheckOutcome::Success, t4)
        .await
        .unwrap();
    let debian = &catalog.checks().await.unwrap()[0];
    assert!(!debian.is_failing());
    assert_eq!(debian.last_success_at, Some(t4));
    assert_eq!(debian.last_error.as_ref().unwrap().kind, "watch-empty-feed");
}

async fn record_check_now_and_long_messages(backend: TestBackend) {
    let test = fresh(backend).await;
    let long = "é".repeat(10_000);
    test.catalog
        .record_check("debian-live", CheckOutcome::failure("watch-parse", long))
        .await
        .unwrap();
    let check = &test.catalog.checks().await.unwrap()[0];
    let message = &check.last_error.as_ref().unwrap().message;
    assert!(message.len() <= 8 * 1024 && message.chars().all(|c| c == 'é'));
    let age = time::OffsetDateTime::now_utc() - check.last_check_at;
    assert!(age.whole_seconds().abs() < 60);
}
