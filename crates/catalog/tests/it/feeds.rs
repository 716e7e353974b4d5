use crate::support::{self, fresh};
use repack_catalog::{CheckOutcome, FeedCopy, MAX_FEED_BODY_BYTES, SeenRelease};
use repack_core::Sha256Digest;
use repack_testkit::database::TestBackend;
use time::macros::datetime;

repack_testkit::test_on_both_backends!(
    feed_copies_are_replaced_by_a_200_and_only_dated_by_a_304,
    feed_copies_without_validators_or_too_large_are_refused,
    a_page_keeps_the_next_page_url_until_a_200_replaces_it,
    first_seen_stays_and_publish_times_are_kept,
    failing_since_marks_the_start_of_a_run_of_failures,
);

const URL: &str = "https://cdimage.debian.org/debian-cd/current-live/amd64/iso-hybrid/SHA256SUMS";

/// A copy with an ETag (or none) and no next page.
fn copy<'a>(etag: Option<&'a str>, body: &'a str) -> FeedCopy<'a> {
    FeedCopy {
        etag,
        body,
        ..FeedCopy::default()
    }
}

async fn feed_copies_are_replaced_by_a_200_and_only_dated_by_a_304(backend: TestBackend) {
    let test = fresh(backend).await;
    let catalog = &test.catalog;
    let t1 = datetime!(2026-11-01 04:00 UTC);
    let t2 = datetime!(2026-11-02 04:00 UTC);
    let t3 = datetime!(2026-11-03 04:00 UTC);
    assert_eq!(catalog.feed_state(URL).await.unwrap(), None);
    assert!(
        !catalog.feed_revalidated_at(URL, t1).await.unwrap(),
        "nothing to revalidate"
    );

    catalog
        .store_feed_at(
            URL,
            &FeedCopy {
                etag: Some("\"a\""),
                last_modified: Some("Mon, 04 Nov 2024 10:00:00 GMT"),
                next_url: None,
                body: "list a\n",
            },
            t1,
        )
        .await
        .unwrap();
    let first = catalog.feed_state(URL).await.unwrap().unwrap();
    assert_eq!(first.etag.as_deref(), Some("\"a\""));
    assert_eq!(
        first.last_modified.as_deref(),
        Some("Mon, 04 Nov 2024 10:00:00 GMT")
    );
    assert_eq!(first.body, "list a\n");
    assert_eq!((first.stored_at, first.checked_at), (t1, t1));

    // A 304: the last good check moves; validators and body stay those of the 200.
    assert!(catalog.feed_revalidated_at(URL, t2).await.unwrap());
    let revalidated = catalog.feed_state(URL).await.unwrap().unwrap();
    assert_eq!(revalidated.checked_at, t2);
    assert_eq!(
        (revalidated.etag, revalidated.body, revalidated.stored_at),
        (first.etag, first.body, t1)
    );

    // A 200 with a new body replaces everything, a missing Last-Modified included.
    catalog
        .store_feed_at(URL, &copy(Some("\"b\""), "list b\n"), t3)
        .await
        .unwrap();
    let replaced = catalog.feed_state(URL).await.unwrap().unwrap();
    assert_eq!(replaced.etag.as_deref(), Some("\"b\""));
    assert_eq!(replaced.last_modified, None);
    assert_eq!(replaced.body, "list b\n");
    assert_eq!((replaced.stored_at, replaced.checked_at), (t3, t3));
    assert_eq!(support::count(&test, "feed_state").await, 1);
}

async fn feed_copies_without_validators_or_too_large_are_refused(backend: TestBackend) {
    let test = fresh(backend).await;
    let catalog = &test.catalog;
    let error = catalog
        .store_feed(URL, &copy(None, "list\n"))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "catalog-invalid-feed-state");
    assert!(error.to_string().contains(URL), "{error}");

    let huge = "a".repeat(MAX_FEED_BODY_BYTES + 1);
    let error = catalog
        .store_feed(URL, &copy(Some("\"a\""), &huge))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "catalog-invalid-feed-state");
    assert_eq!(support::count(&test, "feed_state").await, 0);

    // A large feed under the cap is kept whole.
    let large = "b".repeat(4 << 20);
    catalog
        .store_feed(URL, &copy(Some("\"b\""), &large))
        .await
        .unwrap();
    assert_eq!(catalog.feed_state(URL).await.unwrap().unwrap().body, large);
}

async fn a_page_keeps_the_next_page_url_until_a_200_replaces_it(backend: TestBackend) {
    let test = fresh(backend).await;
    let catalog = &test.catalog;
    let page = "https://api.github.com/repos/example-os/live-iso/releases?per_page=100";
    let next = "https://api.github.com/repositories/1/releases?per_page=100&page=2";
    let t1 = datetime!(2026-11-01 04:00 UTC);
    catalog
        .store_feed_at(
            page,
            &FeedCopy {
                etag: Some("W/\"p1\""),
                next_url: Some(next),
                body: "[]",
                ..FeedCopy::default()
            },
            t1,
        )
        .await
        .unwrap();
    let kept = catalog.feed_state(page).await.unwrap().unwrap();
    assert_eq!(kept.next_url.as_deref(), Some(next));
    assert_eq!(kept.etag.as_deref(), Some("W/\"p1\""));

    // A 304 keeps the next page; a 200 for the last page clears it.
    assert!(
        catalog
            .feed_revalidated_at(page, datetime!(2026-11-02 04:00 UTC))
            .await
            .unwrap()
    );
    let revalidated = catalog.feed_state(page).await.unwrap().unwrap();
    assert_eq!(revalidated.next_url.as_deref(), Some(next));
    catalog
        .store_feed(page, &copy(Some("W/\"p2\""), "[]"))
        .await
        .unwrap();
    assert_eq!(
        catalog.feed_state(page).await.unwrap().unwrap().next_url,
        None
    );
    // Documents that are not pages never have one.
    catalog
        .store_feed(URL, &copy(Some("\"a\""), "list\n"))
        .await
        .unwrap();
    assert_eq!(
        catalog.feed_state(URL).await.unwrap().unwrap().next_url,
        None
    );
}

async fn first_seen_stays_and_publish_times_are_kept(backend: TestBackend) {
    let test = fresh(backend).await;
    let catalog = &test.catalog;
    let t1 = datetime!(2026-11-01 04:00 UTC);
    let t2 = datetime!(2026-11-02 04:00 UTC);
    let t3 = datetime!(2026-11-03 04:00 UTC);
    let published = datetime!(2026-10-31 22:15:07 UTC);
    let mut release = SeenRelease {
        recipe: "debian-live".to_owned(),
        version: "12.8.0".to_owned(),
        iso_url: "https://cdimage.debian.org/x/debian-live-12.8.0-amd64-standard.iso".to_owned(),
        iso_sha256: Some(Sha256Digest::of(b"12.8.0")),
        published_at: Some(published),
    };
    let first = catalog.record_release_seen_at(&release, t1).await.unwrap();
    assert_eq!((first.first_seen_at, first.last_seen_at), (t1, t1));
    assert_eq!(first.published_at, Some(published));

    // The next check's feed no longer dates it, and the upstream re-spun the image.
    release.published_at = None;
    release.iso_sha256 = Some(Sha256Digest::of(b"12.8.0 respin"));
    let second = catalog.record_release_seen_at(&release, t2).await.unwrap();
    assert_eq!(second.first_seen_at, t1, "first_seen_at never moves");
    assert_eq!(second.last_seen_at, t2);
    assert_eq!(
        second.published_at,
        Some(published),
        "the known date is kept"
    );
    assert_eq!(second.iso_sha256, release.iso_sha256);

    let newer = SeenRelease {
        version: "12.9.0".to_owned(),
        iso_url: "https://cdimage.debian.org/x/debian-live-12.9.0-amd64-standard.iso".to_owned(),
        iso_sha256: None,
        published_at: None,
        ..release.clone()
    };
    catalog.record_release_seen_at(&newer, t3).await.unwrap();
    let other = SeenRelease {
        recipe: "ubuntu-live".to_owned(),
        ..newer.clone()
    };
    catalog.record_release_seen_at(&other, t3).await.unwrap();

    let seen = catalog.releases_seen("debian-live").await.unwrap();
    let versions: Vec<&str> = seen.iter().map(|row| row.version.as_str()).collect();
    assert_eq!(versions, ["12.9.0", "12.8.0"], "most recently seen first");
    assert_eq!(seen[0].iso_sha256, None);
    assert_eq!(seen[1], second);
    assert_eq!(support::count(&test, "releases_seen").await, 3);
}

async fn failing_since_marks_the_start_of_a_run_of_failures(backend: TestBackend) {
    let test = fresh(backend).await;
    let catalog = &test.catalog;
    let at = |day: u8| datetime!(2026-11-01 04:00 UTC).replace_day(day).unwrap();
    let fail = || CheckOutcome::failure("fetch-http-status", "GET https://x/SHA256SUMS: 503");
    assert_eq!(catalog.check("debian-live").await.unwrap(), None);

    catalog
        .record_check_at("debian-live", CheckOutcome::Success, at(1))
        .await
        .unwrap();
    assert_eq!(
        catalog
            .check("debian-live")
            .await
            .unwrap()
            .unwrap()
            .failing_since,
        None
    );
    catalog
        .record_check_at("debian-live", fail(), at(2))
        .await
        .unwrap();
    catalog
        .record_check_at("debian-live", fail(), at(3))
        .await
        .unwrap();
    let failing = catalog.check("debian-live").await.unwrap().unwrap();
    assert_eq!(failing.failing_since, Some(at(2)));
    assert_eq!(failing.consecutive_failures, 2);
    assert_eq!(failing.last_error.as_ref().unwrap().at, at(3));
    assert_eq!(catalog.checks().await.unwrap(), vec![failing]);

    catalog
        .record_check_at("debian-live", CheckOutcome::Success, at(4))
        .await
        .unwrap();
    assert_eq!(
        catalog
            .check("debian-live")
            .await
            .unwrap()
            .unwrap()
            .failing_since,
        None
    );
    catalog
        .record_check_at("debian-live", fail(), at(5))
        .await
        .unwrap();
    assert_eq!(
        catalog
            .check("debian-live")
            .await
            .unwrap()
            .unwrap()
            .failing_since,
        Some(at(5)),
        "a new run of failures starts anew"
    );
    // A recipe whose very first check fails is failing since then.
    catalog
        .record_check_at("ubuntu-live", fail(), at(6))
        .await
        .unwrap();
    assert_eq!(
        catalog
            .check("ubuntu-live")
            .await
            .unwrap()
            .unwrap()
            .failing_since,
        Some(at(6))
    );
}
