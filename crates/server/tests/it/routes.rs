//! The read-only routes over HTTP: menus from the current builds (all, and per arch), the
//! published files with Range, health, metrics and the JSON API, and the status rows behind
//! the page (current, behind, failing, stale, unpublished).

use crate::support::{PUBLIC_URL, TestServer, manifest, start};
use repack_catalog::{CheckOutcome, SeenRelease};
use repack_core::Arch;
use repack_queue::{JobKind, NewJob, Reason};
use repack_testkit::database::TestBackend;
use serde_json::Value;
use time::{Duration, OffsetDateTime};

repack_testkit::test_on_both_backends!(
    menus_list_the_current_builds_of_each_architecture,
    status_rows_tell_current_behind_failing_stale_and_unpublished,
    metrics_report_jobs_builds_and_watch_state,
    health_answers_while_the_database_does,
);

async fn seen(server: &TestServer, recipe: &str, version: &str, at: OffsetDateTime) {
    server
        .catalog
        .record_release_seen_at(
            &SeenRelease {
                recipe: recipe.to_owned(),
                version: version.to_owned(),
                iso_url: format!("https://cdimage.example/{recipe}-{version}.iso"),
                iso_sha256: None,
                published_at: None,
            },
            at,
        )
        .await
        .unwrap();
}

async fn menus_list_the_current_builds_of_each_architecture(backend: TestBackend) {
    let server = start(backend).await;
    server
        .publish(manifest("debian-live", Arch::X86_64, "13.2.0", 3 << 30))
        .await;
    server
        .publish(manifest(
            "debian-live-arm",
            Arch::Arm64,
            "13.2.0",
            900 << 20,
        ))
        .await;

    let menu = server.get("/menu.ipxe").await;
    assert_eq!(menu.status(), 200);
    assert!(
        menu.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let menu = menu.text().await.unwrap();
    assert!(menu.starts_with("#!ipxe"), "{menu}");
    assert!(
        menu.contains("debian-live/") && menu.contains("debian-live-arm/"),
        "{menu}"
    );
    assert!(menu.contains(PUBLIC_URL), "{menu}");

    let x86 = server.get("/menu/x86_64.ipxe").await.text().await.unwrap();
    assert!(
        x86.contains("debian-live/") && !x86.contains("debian-live-arm/"),
        "{x86}"
    );
    let arm = server.get("/menu/arm64.ipxe").await.text().await.unwrap();
    assert!(
        arm.contains("debian-live-arm/") && !arm.contains("debian-live/13"),
        "{arm}"
    );
    assert_eq!(server.get("/menu/sparc.ipxe").await.status(), 404);
}

async fn status_rows_tell_current_behind_failing_stale_and_unpublished(backend: TestBackend) {
    let server = start(backend).await;
    let now = OffsetDateTime::now_utc();
    // current: published what upstream has; checked an hour ago.
    server
        .publish(manifest("current-live", Arch::X86_64, "2.0", 2 << 30))
        .await;
    seen(&server, "current-live", "2.0", now - Duration::hours(3)).await;
    server
        .catalog
        .record_check_at(
            "current-live",
            CheckOutcome::Success,
            now - Duration::hours(1),
        )
        .await
        .unwrap();
    // behind: upstream moved to 3.1, 3.0 is published.
    server
        .publish(manifest("behind-live", Arch::X86_64, "3.0", 1 << 30))
        .await;
    seen(&server, "behind-live", "3.1", now - Duration::minutes(5)).await;
    server
        .catalog
        .record_check_at(
            "behind-live",
            CheckOutcome::Success,
            now - Duration::minutes(5),
        )
        .await
        .unwrap();
    // failing: two failed checks after a good one.
    server
        .publish(manifest("failing-live", Arch::X86_64, "1.0", 1 << 30))
        .await;
    server
        .catalog
        .record_check_at(
            "failing-live",
            CheckOutcome::Success,
            now - Duration::hours(30),
        )
        .await
        .unwrap();
    for hours in [20, 2] {
        server
            .catalog
            .record_check_at(
                "failing-live",
                CheckOutcome::failure("signature-bad", "SHA256SUMS.gpg: bad signature by <script>"),
                now - Duration::hours(hours),
            )
            .await
            .unwrap();
    }
    // stale: the last good check was three days ago.
    server
        .publish(manifest("stale-live", Arch::X86_64, "5.0", 1 << 30))
        .await;
    server
        .catalog
        .record_check_at("stale-live", CheckOutcome::Success, now - Duration::days(3))
        .await
        .unwrap();

    let rows: Value = server.get("/api/v1/status").await.json().await.unwrap();
    let state = |recipe: &str| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|row| row["recipe"] == recipe)
            .unwrap_or_else(|| panic!("no row for {recipe}: {rows}"))
            .clone()
    };
    assert_eq!(state("current-live")["state"], "current");
    assert_eq!(state("behind-live")["state"], "behind");
    assert_eq!(state("stale-live")["state"], "stale");
    assert_eq!(state("never-checked")["state"], "unpublished");
    let failing = state("failing-live");
    assert_eq!(failing["state"], "failing");
    assert_eq!(failing["check"]["consecutive_failures"], 2);
    assert_eq!(failing["check"]["last_error"]["kind"], "signature-bad");

    let current = state("current-live");
    let build = &current["published"][0];
    assert_eq!(build["version"], "2.0");
    // kernel + initrd + 2 GiB root image in two parts.
    assert_eq!(
        build["download_bytes"],
        (8u64 << 20) + (40 << 20) + (2 << 30)
    );
    assert_eq!(build["ram_mib"], 2048);
    let files: Vec<&str> = build["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["url"].as_str().unwrap())
        .collect();
    assert_eq!(files.len(), 4, "{files:?}");
    assert!(
        files
            .iter()
            .all(|url| url.starts_with(&format!("{PUBLIC_URL}/current-live/"))),
        "{files:?}"
    );
    assert!(
        files
            .iter()
            .any(|url| url.ends_with("/filesystem.squashfs.part2")),
        "{files:?}"
    );
    // Published 3 hours after upstream (first seen): the delay is counted from there.
    let delay = build["upstream_delay_seconds"].as_i64().unwrap();
    assert!(
        (3 * 3600 - 120..=3 * 3600 + 120).contains(&delay),
        "{delay}"
    );

    // The page shows the same rows, escaped.
    let page = server.get("/").await;
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    for recipe in [
        "current-live",
        "behind-live",
        "failing-live",
        "stale-live",
        "never-checked",
    ] {
        assert!(
            page.contains(&format!("id=\"recipe-{recipe}\"")),
            "{recipe} missing"
        );
    }
    assert!(page.contains("bad signature by &lt;script&gt;") && !page.contains("<script>"));
}

async fn metrics_report_jobs_builds_and_watch_state(backend: TestBackend) {
    let server = start(backend).await;
    server
        .publish(manifest("debian-live", Arch::X86_64, "13.2.0", 1 << 30))
        .await;
    server
        .catalog
        .record_check(
            "debian-live",
            CheckOutcome::failure("feed-empty", "no releases"),
        )
        .await
        .unwrap();
    for recipe in ["a", "b"] {
        server
            .queue
            .enqueue(&NewJob::new(JobKind::Build, recipe, Reason::Cron))
            .await
            .unwrap();
    }
    let claim = server
        .queue
        .claim("w", std::time::Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    server.queue.complete(&claim).await.unwrap();

    let response = server.get("/metrics").await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    let value = |line_start: &str| -> f64 {
        text.lines()
            .find_map(|line| {
                line.strip_prefix(line_start)
                    .map(|rest| rest.trim().parse().unwrap())
            })
            .unwrap_or_else(|| panic!("no `{line_start}` in\n{text}"))
    };
    assert_eq!(value("repack_jobs{kind=\"build\",state=\"queued\"}"), 1.0);
    assert_eq!(
        value("repack_jobs{kind=\"build\",state=\"succeeded\"}"),
        1.0
    );
    assert_eq!(value("repack_jobs{kind=\"build\",state=\"failed\"}"), 0.0);
    assert_eq!(value("repack_build_duration_seconds_count"), 1.0);
    assert_eq!(
        value("repack_build_duration_seconds_bucket{le=\"+Inf\"}"),
        1.0
    );
    assert_eq!(value("repack_builds_total{recipe=\"debian-live\"}"), 1.0);
    assert_eq!(
        value("repack_published_bytes_total{recipe=\"debian-live\"}"),
        ((8u64 << 20) + (40 << 20) + (1 << 30)) as f64
    );
    assert_eq!(
        value("repack_downloaded_bytes_total{recipe=\"debian-live\"}"),
        ((1u64 << 30) + (60 << 20)) as f64
    );
    assert_eq!(
        value("repack_watch_consecutive_failures{recipe=\"debian-live\"}"),
        1.0
    );
    assert!(text.contains("# TYPE repack_build_duration_seconds histogram"));
}

async fn health_answers_while_the_database_does(backend: TestBackend) {
    let server = start(backend).await;
    let response = server.get("/healthz").await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    server.catalog.close().await;
    assert_eq!(server.get("/healthz").await.status(), 503);
}

#[tokio::test]
async fn published_files_are_served_with_range() {
    let server = start(TestBackend::Sqlite).await;
    let dir = server.output.path().join("debian-live/13.2.0-0123abcd");
    std::fs::create_dir_all(&dir).unwrap();
    let bytes: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(dir.join("filesystem.squashfs"), &bytes).unwrap();

    let path = format!(
        "{}/files/debian-live/13.2.0-0123abcd/filesystem.squashfs",
        server.url
    );
    let whole = server.http.get(&path).send().await.unwrap();
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.bytes().await.unwrap().as_ref(), &bytes[..]);
    let range = server
        .http
        .get(&path)
        .header("Range", "bytes=1000-1999")
        .send()
        .await
        .unwrap();
    assert_eq!(range.status(), 206);
    assert_eq!(range.headers()["content-range"], "bytes 1000-1999/100000");
    assert_eq!(range.bytes().await.unwrap().as_ref(), &bytes[1000..2000]);
    let head = server.http.head(&path).send().await.unwrap();
    assert_eq!(head.headers()["content-length"], "100000");
    // Nothing outside the output directory.
    let escape = server
        .http
        .get(format!("{}/files/../Cargo.toml", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(escape.status(), 404);
    assert_eq!(server.get("/files/debian-live/nope").await.status(), 404);
}
