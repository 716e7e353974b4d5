//! `newest` end to end over HTTP.

use crate::{hex, recipe};
use repack_core::Checksum;
use repack_testkit::feed::{FeedServer, Reply};
use repack_watch::{WatchContext, WatchError, candidates, newest};

const STANDARD: &str = r"^debian-live-(?P<version>[0-9.]+)-amd64-standard\.iso$";

fn list() -> String {
    format!(
        "{a}  debian-live-12.8.0-amd64-standard.iso\n\
         {b}  debian-live-12.10.0-amd64-standard.iso\n\
         {c}  debian-live-12.9.1-amd64-standard.iso\n\
         {d}  debian-live-13.0.0-amd64-gnome.iso\n",
        a = hex('a'),
        b = hex('b'),
        c = hex('c'),
        d = hex('d'),
    )
}

async fn setup() -> (FeedServer, tempfile::TempDir) {
    let server = FeedServer::start().await;
    server.put("/live/SHA256SUMS", Reply::text(list()));
    (server, tempfile::tempdir().unwrap())
}

fn watch(server: &FeedServer, pattern: &str) -> String {
    format!(
        "url = \"{}live/SHA256SUMS\"\npattern = '{pattern}'",
        server.base()
    )
}

#[tokio::test]
async fn newest_picks_12_10_0_over_12_8_0_and_12_9_1() {
    let (server, cache) = setup().await;
    let fetcher = repack_watch::compliance::fetcher(cache.path());
    let recipe = recipe("checksums", &watch(&server, STANDARD), "");
    let ctx = WatchContext::new(&recipe, &fetcher);

    let chosen = newest(&ctx).await.unwrap();

    assert_eq!(chosen.version, "12.10.0");
    assert_eq!(chosen.iso_name, "debian-live-12.10.0-amd64-standard.iso");
    assert_eq!(
        chosen.iso_url,
        format!(
            "{}live/debian-live-12.10.0-amd64-standard.iso",
            server.base()
        )
    );
    assert_eq!(chosen.checksum, Checksum::Sha256(hex('b').parse().unwrap()));
    assert_eq!(chosen.signature_url, None);
    assert_eq!(candidates(&ctx).await.unwrap().len(), 3);
}

#[tokio::test]
async fn signature_location_and_pinned_keys_are_carried() {
    let (server, cache) = setup().await;
    let fetcher = repack_watch::compliance::fetcher(cache.path());
    let recipe = recipe(
        "checksums",
        &watch(&server, STANDARD),
        "signature = \"{list}.sign\"\nkeys = [\"DF9B9C49EAA9298432589D76DA87E80D6294BE9B\"]",
    );
    let chosen = newest(&WatchContext::new(&recipe, &fetcher)).await.unwrap();
    assert_eq!(
        chosen.signature_url,
        Some(format!("{}live/SHA256SUMS.sign", server.base()))
    );
    assert_eq!(
        chosen.signing_keys,
        ["DF9B9C49EAA9298432589D76DA87E80D6294BE9B"]
    );
}

#[tokio::test]
async fn nothing_passing_the_policy_is_an_error_with_the_counts() {
    let (server, cache) = setup().await;
    let fetcher = repack_watch::compliance::fetcher(cache.path());
    let recipe = recipe("checksums", &watch(&server, STANDARD), "include = 'arm64'");
    let error = newest(&WatchContext::new(&recipe, &fetcher))
        .await
        .unwrap_err();
    assert!(
        matches!(error, WatchError::NoMatchingRelease { .. }),
        "{error}"
    );
    assert_eq!(error.kind(), "watch-no-matching-release");
    let message = error.to_string();
    assert!(
        message.contains("live/SHA256SUMS") && message.contains("3 listed"),
        "{message}"
    );
    assert!(message.contains("3 by include/exclude"), "{message}");
}

#[tokio::test]
async fn missing_feed_is_an_error_whose_chain_names_recipe_url_and_status() {
    let server = FeedServer::start().await;
    let cache = tempfile::tempdir().unwrap();
    let fetcher = repack_watch::compliance::fetcher(cache.path());
    let recipe = recipe("checksums", &watch(&server, STANDARD), "");
    let error = newest(&WatchContext::new(&recipe, &fetcher))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "fetch-http-status");
    let mut chain = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        chain.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    assert!(
        chain.contains("compliance") && chain.contains("live/SHA256SUMS") && chain.contains("404"),
        "{chain}"
    );
}

#[tokio::test]
async fn two_files_with_the_newest_version_are_ambiguous() {
    let server = FeedServer::start().await;
    server.put(
        "/SHA256SUMS",
        Reply::text(format!(
            "{}  debian-live-12.10.0-amd64-standard.iso\n{}  debian-live-12.10.0-amd64-gnome.iso\n",
            hex('a'),
            hex('b')
        )),
    );
    let cache = tempfile::tempdir().unwrap();
    let fetcher = repack_watch::compliance::fetcher(cache.path());
    let pattern = r"^debian-live-(?P<version>[0-9.]+)-amd64-[a-z]+\.iso$";
    let recipe = recipe(
        "checksums",
        &format!(
            "url = \"{}SHA256SUMS\"\npattern = '{pattern}'",
            server.base()
        ),
        "",
    );
    let error = newest(&WatchContext::new(&recipe, &fetcher))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "watch-ambiguous-release");
    assert!(error.to_string().contains("gnome"), "{error}");
}
