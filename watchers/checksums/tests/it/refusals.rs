//! Lists and settings the watcher must refuse, with errors that say why.

use crate::{Env, STANDARD, config, flat, hex};
use repack_testkit::feed::Reply;
use repack_watch::{FeedError, WatchConfig};
use repack_watch_checksums::{MAX_LIST_BYTES, candidates};
use repack_watch_common::Feeds;

async fn check(env: &Env, path: &str) -> FeedError {
    let (recipe, config) = config(&flat(&env.server, path, STANDARD));
    candidates(&config, &recipe, Feeds::new(&env.fetcher))
        .await
        .unwrap_err()
}

#[tokio::test]
async fn html_page_served_with_200_is_an_error() {
    let env = Env::start().await;
    env.server.put(
        "/SHA256SUMS",
        Reply::html(
            "<!DOCTYPE html>\n<html><head><title>Mirror maintenance</title></head></html>\n",
        ),
    );
    let error = check(&env, "SHA256SUMS").await;
    assert_eq!(error.kind(), "feed-html-page");
    assert!(error.to_string().contains("/SHA256SUMS"), "{error}");
}

#[tokio::test]
async fn empty_list_is_an_error() {
    let env = Env::start().await;
    env.server
        .put("/SHA256SUMS", Reply::text("# nothing yet\n\n"));
    assert_eq!(check(&env, "SHA256SUMS").await.kind(), "feed-empty");
}

#[tokio::test]
async fn missing_list_is_an_http_error_naming_the_url() {
    let env = Env::start().await;
    let error = check(&env, "gone/SHA256SUMS").await;
    assert_eq!(error.kind(), "fetch-http-status");
    let FeedError::Fetch { source, .. } = &error else {
        panic!("unexpected error {error}");
    };
    assert_eq!(source.status(), Some(404));
    assert!(error.to_string().contains("gone/SHA256SUMS"), "{error}");
}

#[tokio::test]
async fn malformed_list_names_the_line() {
    let env = Env::start().await;
    env.server.put(
        "/SHA256SUMS",
        Reply::text(format!("{}  a.iso\nnot a checksum line\n", hex('a'))),
    );
    let error = check(&env, "SHA256SUMS").await;
    assert_eq!(error.kind(), "checksum-line-malformed");
    let FeedError::ChecksumList { source, .. } = &error else {
        panic!("unexpected error {error}");
    };
    assert_eq!(source.line(), Some(2));
}

#[tokio::test]
async fn matching_name_that_escapes_the_directory_is_an_error() {
    let env = Env::start().await;
    env.server.put(
        "/live/SHA256SUMS",
        Reply::text(format!(
            "{}  ../debian-live-12.8.0-amd64-standard.iso\n",
            hex('a')
        )),
    );
    let pattern = r"debian-live-(?P<version>[0-9.]+)-amd64-standard\.iso$";
    let (recipe, config) = config(&flat(&env.server, "live/SHA256SUMS", pattern));
    let error = candidates(&config, &recipe, Feeds::new(&env.fetcher))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "feed-bad-link", "{error}");
}

#[tokio::test]
async fn oversized_list_is_refused() {
    let env = Env::start().await;
    env.server.put(
        "/SHA256SUMS",
        Reply::text("#".repeat(MAX_LIST_BYTES as usize + 1)),
    );
    assert_eq!(check(&env, "SHA256SUMS").await.kind(), "fetch-too-large");
}

#[test]
fn unusable_settings_are_refused_when_the_recipe_loads() {
    let cases = [
        (
            "url = \"https://a/SHA256SUMS\"\npattern = '^a\\.iso$'",
            "version",
        ),
        (
            "url = \"ftp://a/SHA256SUMS\"\npattern = '(?P<version>.)'",
            "http",
        ),
        (
            "url = \"https://a/\"\npattern = '(?P<version>.)'\nmax_dirs = 3",
            "dir_pattern",
        ),
        (
            "url = \"https://a/\"\npattern = '(?P<version>.)'\npatern = 'x'",
            "patern",
        ),
        (
            "url = \"https://a/\"\npattern = '(?P<version>.)'\ndir_pattern = '(?P<version>.)'\nmax_dirs = 99",
            "max_dirs",
        ),
    ];
    for (watch, needle) in cases {
        let recipe = repack_watch::compliance::recipe("checksums", watch, "");
        let error = WatchConfig::parse(&recipe).unwrap_err();
        assert_eq!(error.kind(), "watch-config");
        let message = error.to_string();
        assert!(message.contains(needle), "{needle}: {message}");
        assert!(message.contains("compliance.toml"), "{message}");
    }
}
