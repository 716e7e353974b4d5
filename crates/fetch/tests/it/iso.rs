//! `fetch_iso`: download, resume, refuse, quarantine.

use crate::server::{FileSpec, TestServer};
use crate::{Event, Recorder, data, digest, fetcher, files_below};
use repack_fetch::{FetchError, NoopReporter};

const LEN: usize = 3 * 1024 * 1024 + 12_345;
const CUT: usize = 1_234_567;

fn iso_name(data: &[u8]) -> String {
    format!("iso/{}.iso", digest(data))
}

#[tokio::test]
async fn full_download_matches_and_lands_in_the_cache() {
    let server = TestServer::start().await;
    let bytes = data(LEN, 1);
    server.put("/live/a.iso", FileSpec::new(bytes.clone()));
    let cache = tempfile::tempdir().unwrap();
    let recorder = Recorder::default();

    let url = server.url("/live/a.iso");
    let fetched = fetcher(cache.path(), 0)
        .fetch_iso(&url, digest(&bytes), &recorder)
        .await
        .unwrap();

    assert_eq!(fetched.sha256, digest(&bytes));
    assert_eq!(fetched.size, LEN as u64);
    assert!(!fetched.from_cache);
    assert_eq!(fetched.path, cache.path().join(iso_name(&bytes)));
    assert_eq!(std::fs::read(&fetched.path).unwrap(), bytes);
    let left: Vec<_> = files_below(cache.path())
        .into_iter()
        .filter(|f| !f.ends_with(".lock") && !f.ends_with(".lease"))
        .collect();
    assert_eq!(left, [iso_name(&bytes)], "no .part or .state left");
    assert_eq!(
        recorder.events(),
        [
            Event::Started {
                url,
                total: Some(LEN as u64),
                resumed_from: 0
            },
            Event::Finished
        ]
    );
    assert_eq!(recorder.advanced(), LEN as u64);
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].range, None);
    assert_eq!(requests[0].accept_encoding.as_deref(), Some("identity"));
    assert_eq!(requests[0].user_agent.as_deref(), Some("repack-test"));
}

#[tokio::test]
async fn cached_iso_is_returned_without_a_request() {
    let server = TestServer::start().await;
    let bytes = data(10_000, 2);
    server.put("/a.iso", FileSpec::new(bytes.clone()));
    let cache = tempfile::tempdir().unwrap();
    let fetcher = fetcher(cache.path(), 0);
    let first = fetcher
        .fetch_iso(&server.url("/a.iso"), digest(&bytes), &NoopReporter)
        .await
        .unwrap();
    let recorder = Recorder::default();
    let second = fetcher
        .fetch_iso(&server.url("/a.iso"), digest(&bytes), &recorder)
        .await
        .unwrap();
    assert!(second.from_cache);
    assert_eq!((second.path, second.size), (first.path, first.size));
    assert_eq!(server.requests().len(), 1);
    assert!(recorder.events().is_empty());
}

#[tokio::test]
async fn cut_download_resumes_with_range_in_the_same_call() {
    let server = TestServer::start().await;
    let bytes = data(LEN, 3);
    server.put(
        "/a.iso",
        FileSpec {
            cut_after: Some(CUT),
            ..FileSpec::new(bytes.clone())
        },
    );
    let cache = tempfile::tempdir().unwrap();
    let recorder = Recorder::default();

    let fetched = fetcher(cache.path(), 2)
        .fetch_iso(&server.url("/a.iso"), digest(&bytes), &recorder)
        .await
        .unwrap();

    assert_eq!(fetched.sha256, digest(&bytes));
    assert_eq!(std::fs::read(&fetched.path).unwrap(), bytes);
    let requests = server.requests();
    assert_eq!(requests.len(), 2, "{requests:#?}");
    assert_eq!((requests[0].status, requests[0].sent), (200, CUT));
    assert_eq!(
        requests[1].range.as_deref(),
        Some(format!("bytes={CUT}-").as_str())
    );
    assert_eq!(requests[1].if_range.as_deref(), Some("\"v1\""));
    assert_eq!(
        (requests[1].status, requests[1].sent),
        (206, LEN - CUT),
        "only the rest was sent"
    );
    let resumed: Vec<u64> = recorder
        .events()
        .into_iter()
        .filter_map(|e| match e {
            Event::Started { resumed_from, .. } => Some(resumed_from),
            Event::Finished => None,
        })
        .collect();
    assert_eq!(resumed, [0, CUT as u64]);
    assert_eq!(recorder.advanced(), LEN as u64);
}

#[tokio::test]
async fn cut_download_resumes_in_a_later_call_from_the_saved_hash_state() {
    let server = TestServer::start().await;
    let bytes = data(LEN, 4);
    server.put(
        "/a.iso",
        FileSpec {
            cut_after: Some(CUT),
            ..FileSpec::new(bytes.clone())
        },
    );
    let cache = tempfile::tempdir().unwrap();
    let url = server.url("/a.iso");

    let error = fetcher(cache.path(), 0)
        .fetch_iso(&url, digest(&bytes), &NoopReporter)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "fetch-interrupted", "{error}");
    assert!(
        matches!(error, FetchError::Interrupted { offset, .. } if offset == CUT as u64),
        "{error}"
    );
    let part = cache.path().join(format!("{}.part", iso_name(&bytes)));
    assert_eq!(std::fs::metadata(&part).unwrap().len(), CUT as u64);
    let state: serde_json::Value = serde_json::from_slice(
        &std::fs::read(
            cache
                .path()
                .join(format!("{}.part.state", iso_name(&bytes))),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(state["offset"], CUT as u64);
    assert_eq!(state["mirror_url"], url.as_str());
    assert!(state["sha256_state"].as_str().unwrap().len() > 64);

    // A new fetcher, as after a restart of the process.
    let fetched = fetcher(cache.path(), 0)
        .fetch_iso(&url, digest(&bytes), &NoopReporter)
        .await
        .unwrap();
    assert_eq!(std::fs::read(&fetched.path).unwrap(), bytes);
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        requests[1].range.as_deref(),
        Some(format!("bytes={CUT}-").as_str())
    );
    assert_eq!((requests[1].status, requests[1].sent), (206, LEN - CUT));
}

/// Cuts a download, then lets `change` alter the file before the resume.
async fn resume_after_change(
    change: impl FnOnce(&mut FileSpec),
) -> (
    TestServer,
    Vec<u8>,
    Result<repack_fetch::FetchedIso, FetchError>,
) {
    let server = TestServer::start().await;
    let old = data(LEN, 5);
    server.put(
        "/a.iso",
        FileSpec {
            cut_after: Some(CUT),
            ..FileSpec::new(old)
        },
    );
    let cache = tempfile::tempdir().unwrap();
    let new = data(LEN, 6);
    let url = server.url("/a.iso");
    // The first call is cut off and keeps a partial download of the old file.
    let _ = fetcher(cache.path(), 0)
        .fetch_iso(&url, digest(&new), &NoopReporter)
        .await
        .unwrap_err();
    server.update("/a.iso", |spec| {
        spec.data = new.clone().into();
        change(spec);
    });
    let result = fetcher(cache.path(), 0)
        .fetch_iso(&url, digest(&new), &NoopReporter)
        .await;
    if let Ok(fetched) = &result {
        assert_eq!(std::fs::read(&fetched.path).unwrap(), new);
    }
    (server, new, result)
}

#[tokio::test]
async fn changed_etag_on_resume_restarts_from_zero() {
    let (server, new, result) = resume_after_change(|spec| spec.etag = Some("\"v2\"".into())).await;
    assert_eq!(result.unwrap().sha256, digest(&new));
    let ranges: Vec<_> = server
        .requests()
        .into_iter()
        .map(|r| (r.range, r.status))
        .collect();
    assert_eq!(
        ranges,
        [
            (None, 200),
            (Some(format!("bytes={CUT}-")), 206),
            (None, 200)
        ]
    );
}

#[tokio::test]
async fn changed_last_modified_without_etag_restarts_from_zero() {
    let server_change = |spec: &mut FileSpec| {
        spec.etag = None;
        spec.last_modified = Some("Tue, 05 Nov 2024 10:00:00 GMT".into());
    };
    let (server, _new, result) = resume_after_change(server_change).await;
    result.unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(requests[2].range, None);
    assert_eq!(requests[2].sent, LEN);
}

#[tokio::test]
async fn full_reply_to_a_range_request_restarts_from_zero() {
    let (server, _new, result) = resume_after_change(|spec| spec.ignore_range = true).await;
    result.unwrap();
    let requests = server.requests();
    assert_eq!(
        requests.len(),
        2,
        "the 200 reply itself is used, no third request"
    );
    assert_eq!(
        (
            requests[1].range.is_some(),
            requests[1].status,
            requests[1].sent
        ),
        (true, 200, LEN)
    );
}

#[tokio::test]
async fn wrong_content_range_restarts_from_zero() {
    let (server, _new, result) = resume_after_change(|spec| {
        spec.etag = Some("\"v1\"".into());
        spec.wrong_content_range = true;
    })
    .await;
    // The data changed but validators did not: the Content-Range check alone refuses it.
    result.unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(requests[2].range, None);
}

#[tokio::test]
async fn unchanged_validators_but_changed_bytes_are_caught_by_the_digest() {
    // A server that lies (same ETag, new bytes) cannot get a wrong file into the cache.
    let (_server, _new, result) = resume_after_change(|_| {}).await;
    let error = result.unwrap_err();
    assert_eq!(error.kind(), "fetch-checksum-mismatch", "{error}");
}

#[tokio::test]
async fn wrong_checksum_is_quarantined_and_nothing_is_cached() {
    let server = TestServer::start().await;
    let bytes = data(100_000, 7);
    server.put("/bad.iso", FileSpec::new(bytes.clone()));
    let cache = tempfile::tempdir().unwrap();
    let expected = digest(b"something else");
    let url = server.url("/bad.iso");

    let error = fetcher(cache.path(), 0)
        .fetch_iso(&url, expected, &NoopReporter)
        .await
        .unwrap_err();

    let FetchError::ChecksumMismatch {
        url: error_url,
        expected: error_expected,
        actual,
        quarantined_path,
        ..
    } = &error
    else {
        panic!("unexpected error {error}");
    };
    assert_eq!(error_url, &url);
    assert_eq!(*error_expected, expected);
    assert_eq!(*actual, digest(&bytes));
    assert!(quarantined_path.starts_with(cache.path().join("quarantine")));
    assert_eq!(std::fs::read(quarantined_path).unwrap(), bytes);
    let message = error.to_string();
    assert!(
        message.contains(&url) && message.contains(&expected.to_hex()),
        "{message}"
    );
    let in_iso_dir: Vec<_> = files_below(&cache.path().join("iso"))
        .into_iter()
        .filter(|f| !f.ends_with(".lock") && !f.ends_with(".lease"))
        .collect();
    assert!(in_iso_dir.is_empty(), "{in_iso_dir:?}");
    assert!(!fetcher(cache.path(), 0).iso_path(&expected).exists());
}

#[tokio::test]
async fn not_found_is_a_clear_error_and_not_retried() {
    let server = TestServer::start().await;
    let cache = tempfile::tempdir().unwrap();
    let url = server.url("/missing.iso");
    let error = fetcher(cache.path(), 3)
        .fetch_iso(&url, digest(b"x"), &NoopReporter)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "fetch-http-status");
    assert_eq!(error.status(), Some(404));
    let message = error.to_string();
    assert!(
        message.contains(&url) && message.contains("404"),
        "{message}"
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn server_errors_are_retried() {
    let server = TestServer::start().await;
    let bytes = data(50_000, 8);
    server.put(
        "/a.iso",
        FileSpec {
            fail_times: 2,
            ..FileSpec::new(bytes.clone())
        },
    );
    let cache = tempfile::tempdir().unwrap();
    fetcher(cache.path(), 2)
        .fetch_iso(&server.url("/a.iso"), digest(&bytes), &NoopReporter)
        .await
        .unwrap();
    let statuses: Vec<u16> = server.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [503, 503, 200]);
}

#[tokio::test]
async fn server_errors_past_the_retries_name_the_attempts() {
    let server = TestServer::start().await;
    server.put(
        "/a.iso",
        FileSpec {
            fail_times: 5,
            ..FileSpec::new(vec![1u8; 10])
        },
    );
    let cache = tempfile::tempdir().unwrap();
    let error = fetcher(cache.path(), 1)
        .fetch_iso(&server.url("/a.iso"), digest(&[1u8; 10]), &NoopReporter)
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            FetchError::Status {
                status: 503,
                attempts: 2,
                ..
            }
        ),
        "{error}"
    );
}

#[tokio::test]
async fn refused_connection_is_a_connect_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/a.iso", listener.local_addr().unwrap());
    drop(listener);
    let cache = tempfile::tempdir().unwrap();
    let error = fetcher(cache.path(), 1)
        .fetch_iso(&url, digest(b"x"), &NoopReporter)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "fetch-connect", "{error}");
    assert!(error.to_string().contains(&url), "{error}");
}

#[tokio::test]
async fn chunked_download_without_length_completes() {
    let server = TestServer::start().await;
    let bytes = data(200_000, 9);
    server.put(
        "/a.iso",
        FileSpec {
            chunked: true,
            ..FileSpec::new(bytes.clone())
        },
    );
    let cache = tempfile::tempdir().unwrap();
    let recorder = Recorder::default();
    let fetched = fetcher(cache.path(), 0)
        .fetch_iso(&server.url("/a.iso"), digest(&bytes), &recorder)
        .await
        .unwrap();
    assert_eq!(fetched.size, bytes.len() as u64);
    assert!(matches!(
        recorder.events()[0],
        Event::Started { total: None, .. }
    ));
}

#[tokio::test]
async fn non_http_url_is_refused() {
    let cache = tempfile::tempdir().unwrap();
    let error = fetcher(cache.path(), 0)
        .fetch_iso("file:///etc/passwd", digest(b"x"), &NoopReporter)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "fetch-invalid-url");
}

#[tokio::test]
async fn file_shrunk_below_the_resume_offset_restarts_after_416() {
    let server = TestServer::start().await;
    let old = data(LEN, 10);
    server.put(
        "/a.iso",
        FileSpec {
            cut_after: Some(CUT),
            ..FileSpec::new(old)
        },
    );
    let cache = tempfile::tempdir().unwrap();
    let short = data(CUT / 2, 11);
    let url = server.url("/a.iso");
    let _ = fetcher(cache.path(), 0)
        .fetch_iso(&url, digest(&short), &NoopReporter)
        .await
        .unwrap_err();
    server.update("/a.iso", |spec| spec.data = short.clone().into());
    let fetched = fetcher(cache.path(), 0)
        .fetch_iso(&url, digest(&short), &NoopReporter)
        .await
        .unwrap();
    assert_eq!(std::fs::read(fetched.path).unwrap(), short);
    let statuses: Vec<u16> = server.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [200, 416, 200]);
}

#[tokio::test]
async fn concurrent_fetches_of_one_iso_download_it_once() {
    let server = TestServer::start().await;
    let bytes = data(LEN, 12);
    server.put("/a.iso", FileSpec::new(bytes.clone()));
    let cache = tempfile::tempdir().unwrap();
    let fetcher = fetcher(cache.path(), 0);
    let url = server.url("/a.iso");
    let (a, b) = tokio::join!(
        fetcher.fetch_iso(&url, digest(&bytes), &NoopReporter),
        fetcher.fetch_iso(&url, digest(&bytes), &NoopReporter),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.path, b.path);
    assert!(a.from_cache != b.from_cache, "exactly one call downloaded");
    assert_eq!(server.requests().len(), 1);
    assert_eq!(std::fs::read(&a.path).unwrap(), bytes);
}

#[tokio::test]
async fn small_checkpoints_during_a_download_leave_no_state_behind() {
    let server = TestServer::start().await;
    let bytes = data(LEN, 13);
    server.put("/a.iso", FileSpec::new(bytes.clone()));
    let cache = tempfile::tempdir().unwrap();
    let mut config = crate::config(cache.path(), 0);
    config.checkpoint_bytes = 100_000;
    let fetched = repack_fetch::Fetcher::new(config)
        .unwrap()
        .fetch_iso(&server.url("/a.iso"), digest(&bytes), &NoopReporter)
        .await
        .unwrap();
    assert_eq!(fetched.sha256, digest(&bytes));
    let left: Vec<_> = files_below(cache.path())
        .into_iter()
        .filter(|f| !f.ends_with(".lock") && !f.ends_with(".lease"))
        .collect();
    assert_eq!(left, [iso_name(&bytes)]);
}

#[tokio::test]
async fn encoded_body_is_refused_not_hashed() {
    let server = TestServer::start().await;
    let bytes = data(10_000, 14);
    server.put(
        "/a.iso",
        FileSpec {
            content_encoding: Some("gzip".into()),
            ..FileSpec::new(bytes.clone())
        },
    );
    let cache = tempfile::tempdir().unwrap();
    let error = fetcher(cache.path(), 2)
        .fetch_iso(&server.url("/a.iso"), digest(&bytes), &NoopReporter)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "fetch-protocol", "{error}");
    assert!(error.to_string().contains("gzip"), "{error}");
    assert_eq!(server.requests().len(), 1, "not retried");
}

/// A killed build leaves its hollow ISO and stream directory behind; the next download
/// removes them, but keeps those of a build still running (its lock is held).
#[tokio::test]
async fn a_download_sweeps_what_killed_builds_left_but_not_running_ones() {
    let server = TestServer::start().await;
    let bytes = data(LEN, 9);
    server.put("/live/c.iso", FileSpec::new(bytes.clone()));
    let cache = tempfile::tempdir().unwrap();
    let iso_dir = cache.path().join("iso");
    let (dead, busy) = ("aa".repeat(32), "bb".repeat(32));
    std::fs::create_dir_all(iso_dir.join(format!("{dead}.iso.stream"))).unwrap();
    std::fs::write(iso_dir.join(format!("{dead}.iso.stream/rootfs")), b"x").unwrap();
    std::fs::write(iso_dir.join(format!("{dead}.iso.hollow")), b"x").unwrap();
    // A partial download of that digest is kept for a later resume.
    std::fs::write(iso_dir.join(format!("{dead}.iso.part")), b"x").unwrap();
    std::fs::create_dir_all(iso_dir.join(format!("{busy}.iso.stream"))).unwrap();
    std::fs::write(iso_dir.join(format!("{busy}.iso.hollow")), b"x").unwrap();
    let running = std::fs::File::create(iso_dir.join(format!("{busy}.iso.lock"))).unwrap();
    running.lock().unwrap();

    let fetcher = fetcher(cache.path(), 0);
    let tap = ClaimFirstBlock {
        file: fetcher.stream_dir(&digest(&bytes)).join("block"),
    };
    let (fetched, _) = fetcher
        .fetch_iso_with_tap(
            &server.url("/live/c.iso"),
            digest(&bytes),
            &NoopReporter,
            tap,
        )
        .await
        .unwrap();

    assert!(!iso_dir.join(format!("{dead}.iso.stream")).exists());
    assert!(!iso_dir.join(format!("{dead}.iso.hollow")).exists());
    assert!(iso_dir.join(format!("{dead}.iso.part")).exists());
    assert!(iso_dir.join(format!("{busy}.iso.stream")).exists());
    assert!(iso_dir.join(format!("{busy}.iso.hollow")).exists());

    // The hollow download's lock is held for as long as its lease lives.
    assert!(fetched.hollow);
    let own_lock =
        std::fs::File::open(iso_dir.join(format!("{}.iso.lock", digest(&bytes)))).unwrap();
    assert!(own_lock.try_lock().is_err(), "held while the lease lives");
    drop(fetched);
    assert!(own_lock.try_lock().is_ok(), "released with the lease");
}

/// Stores the first 4 KiB itself, so the download is hollow.
struct ClaimFirstBlock {
    file: std::path::PathBuf,
}

impl repack_fetch::StreamTap for ClaimFirstBlock {
    fn observe(&mut self, offset: u64, chunks: &[bytes::Bytes]) {
        use std::os::unix::fs::FileExt;
        let out = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(false)
            .open(&self.file)
            .unwrap();
        let mut at = offset;
        for chunk in chunks {
            if at < 4096 {
                let n = chunk.len().min((4096 - at) as usize);
                out.write_all_at(&chunk[..n], at).unwrap();
            }
            at += chunk.len() as u64;
        }
    }

    fn claims(&self) -> Vec<repack_fetch::Claim> {
        vec![repack_fetch::Claim {
            offset: 0,
            len: 4096,
            file: self.file.clone(),
            file_offset: 0,
        }]
    }
}

/// A published ISO leaves the cache, but not while another build uses it.
#[tokio::test]
async fn evict_removes_a_cached_iso_nobody_holds() {
    let server = TestServer::start().await;
    let bytes = data(LEN, 11);
    server.put("/live/e.iso", FileSpec::new(bytes.clone()));
    let cache = tempfile::tempdir().unwrap();
    let fetcher = fetcher(cache.path(), 0);
    let url = server.url("/live/e.iso");

    let first = fetcher
        .fetch_iso(&url, digest(&bytes), &NoopReporter)
        .await
        .unwrap();
    assert!(!first.from_cache);
    // A second build of the same image takes it from the cache while the first holds it.
    let second = fetcher
        .fetch_iso(&url, digest(&bytes), &NoopReporter)
        .await
        .unwrap();
    assert!(second.from_cache);
    let path = first.path.clone();

    assert!(
        !fetcher.evict(first).await,
        "the second build still holds it"
    );
    assert!(path.is_file());
    assert!(fetcher.evict(second).await);
    assert!(!path.exists());

    // Fetched again: downloaded again.
    let third = fetcher
        .fetch_iso(&url, digest(&bytes), &NoopReporter)
        .await
        .unwrap();
    assert!(!third.from_cache);
    assert_eq!(server.requests().len(), 2);
}
