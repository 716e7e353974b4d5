//! Mirror rewrites: callers pass upstream URLs, requests go to the mirror.

use crate::server::{FileSpec, TestServer};
use crate::{config, data, digest};
use repack_core::MirrorRewrite;
use repack_fetch::{Fetcher, NoopReporter};

fn mirrored(server: &TestServer, cache: &std::path::Path) -> Fetcher {
    let mut config = config(cache, 0);
    config.rewrites = vec![MirrorRewrite {
        from: "https://upstream.invalid/pub/".to_owned(),
        to: server.url("/mirror/"),
    }];
    Fetcher::new(config).unwrap()
}

#[tokio::test]
async fn iso_and_text_requests_go_to_the_mirror() {
    let server = TestServer::start().await;
    let bytes = data(30_000, 31);
    server.put("/mirror/live/a.iso", FileSpec::new(bytes.clone()));
    server.put("/mirror/live/SHA256SUMS", FileSpec::new("list"));
    let cache = tempfile::tempdir().unwrap();
    let fetcher = mirrored(&server, cache.path());
    assert_eq!(
        fetcher.mirror_url("https://upstream.invalid/pub/live/a.iso"),
        server.url("/mirror/live/a.iso")
    );

    let text = fetcher
        .fetch_text("https://upstream.invalid/pub/live/SHA256SUMS", 100)
        .await
        .unwrap();
    assert_eq!(text, "list");
    let fetched = fetcher
        .fetch_iso(
            "https://upstream.invalid/pub/live/a.iso",
            digest(&bytes),
            &NoopReporter,
        )
        .await
        .unwrap();
    assert_eq!(std::fs::read(fetched.path).unwrap(), bytes);
    let paths: Vec<_> = server.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/mirror/live/SHA256SUMS", "/mirror/live/a.iso"]);
}

#[tokio::test]
async fn errors_name_the_upstream_and_the_mirror_url() {
    let server = TestServer::start().await;
    let cache = tempfile::tempdir().unwrap();
    let error = mirrored(&server, cache.path())
        .fetch_text("https://upstream.invalid/pub/gone", 100)
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("https://upstream.invalid/pub/gone"),
        "{message}"
    );
    assert!(message.contains(&server.url("/mirror/gone")), "{message}");
    assert_eq!(error.url(), Some("https://upstream.invalid/pub/gone"));
}
