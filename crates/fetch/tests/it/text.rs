//! `fetch_text`: small documents with a cap.

use crate::fetcher;
use crate::server::{FileSpec, TestServer};

#[tokio::test]
async fn text_is_returned() {
    let server = TestServer::start().await;
    server.put("/SHA256SUMS", FileSpec::new("abc  a.iso\n"));
    let cache = tempfile::tempdir().unwrap();
    let text = fetcher(cache.path(), 0)
        .fetch_text(&server.url("/SHA256SUMS"), 1024)
        .await
        .unwrap();
    assert_eq!(text, "abc  a.iso\n");
    assert_eq!(
        server.requests()[0].accept_encoding.as_deref(),
        Some("identity")
    );
}

#[tokio::test]
async fn announced_length_over_the_cap_is_refused() {
    let server = TestServer::start().await;
    server.put("/big", FileSpec::new(vec![b'a'; 2000]));
    let cache = tempfile::tempdir().unwrap();
    let url = server.url("/big");
    let error = fetcher(cache.path(), 2)
        .fetch_text(&url, 1999)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "fetch-too-large");
    let message = error.to_string();
    assert!(
        message.contains(&url) && message.contains("1999"),
        "{message}"
    );
    assert_eq!(server.requests().len(), 1, "a size refusal is not retried");
}

#[tokio::test]
async fn streamed_body_over_the_cap_is_refused_while_reading() {
    let server = TestServer::start().await;
    server.put(
        "/big",
        FileSpec {
            chunked: true,
            ..FileSpec::new(vec![b'a'; 5000])
        },
    );
    let cache = tempfile::tempdir().unwrap();
    let fetcher = fetcher(cache.path(), 0);
    let error = fetcher
        .fetch_text(&server.url("/big"), 4999)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "fetch-too-large");
    // Exactly at the cap is fine.
    assert_eq!(
        fetcher
            .fetch_text(&server.url("/big"), 5000)
            .await
            .unwrap()
            .len(),
        5000
    );
}

#[tokio::test]
async fn non_utf8_is_refused() {
    let server = TestServer::start().await;
    server.put("/bin", FileSpec::new(vec![b'o', b'k', 0xff, 0xfe]));
    let cache = tempfile::tempdir().unwrap();
    let error = fetcher(cache.path(), 0)
        .fetch_text(&server.url("/bin"), 100)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "fetch-not-utf8");
    assert!(error.to_string().contains("offset 2"), "{error}");
}

#[tokio::test]
async fn not_found_is_an_error_with_the_status() {
    let server = TestServer::start().await;
    let cache = tempfile::tempdir().unwrap();
    let error = fetcher(cache.path(), 0)
        .fetch_text(&server.url("/nothing"), 100)
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(404));
    assert!(error.to_string().contains("/nothing"), "{error}");
}

#[tokio::test]
async fn temporary_failure_is_retried() {
    let server = TestServer::start().await;
    server.put(
        "/list",
        FileSpec {
            fail_times: 1,
            ..FileSpec::new("x")
        },
    );
    let cache = tempfile::tempdir().unwrap();
    let text = fetcher(cache.path(), 1)
        .fetch_text(&server.url("/list"), 100)
        .await
        .unwrap();
    assert_eq!(text, "x");
}
