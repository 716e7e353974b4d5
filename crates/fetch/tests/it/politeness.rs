//! Politeness towards upstream servers: conditional requests that read no body on a 304,
//! the `User-Agent` every request carries, and the per-host limit on requests in flight.

use crate::server::{FileSpec, TestServer};
use crate::{config, data, digest, fetcher};
use repack_fetch::{Conditional, DocumentValidators, FetchConfig, Fetcher, NoopReporter};
use std::time::{Duration, Instant};

const LIST: &str = "aaaa  debian-live-12.8.0-amd64-standard.iso\n";

fn validators(etag: Option<&str>, modified: Option<&str>) -> DocumentValidators {
    DocumentValidators {
        etag: etag.map(str::to_owned),
        last_modified: modified.map(str::to_owned),
    }
}

#[tokio::test]
async fn etag_revalidation_gets_a_304_and_no_body() {
    let server = TestServer::start().await;
    server.put("/SHA256SUMS", FileSpec::new(LIST));
    let cache = tempfile::tempdir().unwrap();
    let fetcher = fetcher(cache.path(), 0);
    let url = server.url("/SHA256SUMS");

    let first = fetcher
        .fetch_text_if_modified(&url, 1024, None)
        .await
        .unwrap();
    let Conditional::Modified {
        body,
        validators: kept,
    } = first
    else {
        panic!("the first request is unconditional and must get the body: {first:?}");
    };
    assert_eq!(body, LIST);
    assert_eq!(
        kept,
        validators(Some("\"v1\""), Some("Mon, 04 Nov 2024 10:00:00 GMT"))
    );
    let sent_before = server.body_bytes_sent();
    assert_eq!(sent_before, LIST.len());

    let second = fetcher
        .fetch_text_if_modified(&url, 1024, Some(&kept))
        .await
        .unwrap();
    assert_eq!(second, Conditional::NotModified);
    let request = server.requests().pop().unwrap();
    assert_eq!(request.if_none_match.as_deref(), Some("\"v1\""));
    assert_eq!(
        request.if_modified_since.as_deref(),
        Some("Mon, 04 Nov 2024 10:00:00 GMT")
    );
    assert_eq!(request.status, 304);
    assert_eq!(
        server.body_bytes_sent(),
        sent_before,
        "a 304 must not carry (or be made to carry) a body"
    );
}

#[tokio::test]
async fn last_modified_alone_makes_the_request_conditional() {
    let server = TestServer::start().await;
    server.put(
        "/index.html",
        FileSpec {
            etag: None,
            ..FileSpec::new("<a href=\"x.iso\">x.iso</a>")
        },
    );
    let cache = tempfile::tempdir().unwrap();
    let fetcher = fetcher(cache.path(), 0);
    let url = server.url("/index.html");
    let Conditional::Modified {
        validators: kept, ..
    } = fetcher
        .fetch_text_if_modified(&url, 1024, None)
        .await
        .unwrap()
    else {
        panic!("first request must get the body");
    };
    assert_eq!(
        kept,
        validators(None, Some("Mon, 04 Nov 2024 10:00:00 GMT"))
    );
    let sent_before = server.body_bytes_sent();
    let again = fetcher
        .fetch_text_if_modified(&url, 1024, Some(&kept))
        .await
        .unwrap();
    assert_eq!(again, Conditional::NotModified);
    let request = server.requests().pop().unwrap();
    assert_eq!(request.if_none_match, None);
    assert_eq!(
        request.if_modified_since.as_deref(),
        Some("Mon, 04 Nov 2024 10:00:00 GMT")
    );
    assert_eq!(server.body_bytes_sent(), sent_before);
}

#[tokio::test]
async fn a_changed_document_comes_back_whole_with_its_new_validators() {
    let server = TestServer::start().await;
    server.put("/feed.json", FileSpec::new("[1]"));
    let cache = tempfile::tempdir().unwrap();
    let fetcher = fetcher(cache.path(), 0);
    let url = server.url("/feed.json");
    let old = validators(Some("\"v1\""), Some("Mon, 04 Nov 2024 10:00:00 GMT"));
    server.update("/feed.json", |file| {
        file.data = "[1, 2]".into();
        file.etag = Some("\"v2\"".to_owned());
        file.last_modified = Some("Tue, 05 Nov 2024 10:00:00 GMT".to_owned());
    });
    let reply = fetcher
        .fetch_text_if_modified(&url, 1024, Some(&old))
        .await
        .unwrap();
    assert_eq!(
        reply,
        Conditional::Modified {
            body: "[1, 2]".to_owned(),
            validators: validators(Some("\"v2\""), Some("Tue, 05 Nov 2024 10:00:00 GMT")),
        }
    );
}

#[tokio::test]
async fn empty_validators_send_no_conditional_headers() {
    let server = TestServer::start().await;
    server.put("/SHA256SUMS", FileSpec::new(LIST));
    let cache = tempfile::tempdir().unwrap();
    let reply = fetcher(cache.path(), 0)
        .fetch_text_if_modified(
            &server.url("/SHA256SUMS"),
            1024,
            Some(&DocumentValidators::default()),
        )
        .await
        .unwrap();
    assert!(matches!(reply, Conditional::Modified { .. }), "{reply:?}");
    let request = server.requests().pop().unwrap();
    assert_eq!(
        (request.if_none_match, request.if_modified_since),
        (None, None)
    );
}

#[tokio::test]
async fn every_request_names_repack_and_its_version() {
    let server = TestServer::start().await;
    let iso = data(10_000, 7);
    server.put("/a.iso", FileSpec::new(iso.clone()));
    server.put("/SHA256SUMS", FileSpec::new(LIST));
    let cache = tempfile::tempdir().unwrap();
    // The default configuration, as the binary builds it (not the tests' own agent).
    let fetcher = Fetcher::new(FetchConfig::new(cache.path())).unwrap();
    fetcher
        .fetch_text(&server.url("/SHA256SUMS"), 1024)
        .await
        .unwrap();
    fetcher
        .fetch_iso(&server.url("/a.iso"), digest(&iso), &NoopReporter)
        .await
        .unwrap();
    let expected = format!("repack/{}", env!("CARGO_PKG_VERSION"));
    let agents: Vec<Option<String>> = server
        .requests()
        .into_iter()
        .map(|request| request.user_agent)
        .collect();
    assert_eq!(agents.len(), 2);
    assert!(
        agents
            .iter()
            .all(|agent| agent.as_deref() == Some(&expected)),
        "{agents:?}"
    );
}

#[tokio::test]
async fn one_host_sees_at_most_the_limit_and_other_hosts_are_not_held_up() {
    let slow = TestServer::start().await;
    slow.put(
        "/list",
        FileSpec {
            delay: Some(Duration::from_millis(150)),
            ..FileSpec::new(LIST)
        },
    );
    let other = TestServer::start().await;
    other.put("/list", FileSpec::new(LIST));
    let cache = tempfile::tempdir().unwrap();
    let mut settings = config(cache.path(), 0);
    settings.per_host_limit = 2;
    let fetcher = Fetcher::new(settings).unwrap();

    let started = Instant::now();
    let mut slow_requests = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let fetcher = fetcher.clone();
        let url = slow.url("/list");
        slow_requests.spawn(async move {
            fetcher.fetch_text(&url, 1024).await.unwrap();
            started.elapsed()
        });
    }
    // Let the slow host's slots fill before the other host is asked.
    tokio::time::sleep(Duration::from_millis(30)).await;
    fetcher.fetch_text(&other.url("/list"), 1024).await.unwrap();
    let other_done = started.elapsed();
    let mut slow_done = Vec::new();
    while let Some(done) = slow_requests.join_next().await {
        slow_done.push(done.unwrap());
    }
    assert_eq!(
        slow.most_in_flight(),
        2,
        "the clones of one fetcher share the host's two slots, and use both"
    );
    assert_eq!(slow.requests().len(), 6);
    let last_slow = slow_done.into_iter().max().unwrap();
    // Six requests of 150 ms, two at a time: the last ends after three rounds.
    assert!(last_slow >= Duration::from_millis(450), "{last_slow:?}");
    assert!(
        other_done < last_slow,
        "another host waited for the busy one: {other_done:?} vs {last_slow:?}"
    );
}
