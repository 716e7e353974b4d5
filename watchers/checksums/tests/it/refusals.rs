//! Lists the watcher must refuse, with errors that say why.

use crate::{STANDARD, UPSTREAM, Upstream, hex, recipe};
use repack_watch_checksums::{ChecksumsError, MAX_LIST_BYTES, candidates};

async fn check(upstream: &Upstream, path: &str) -> ChecksumsError {
    let url = format!("{UPSTREAM}{path}");
    candidates(&recipe(&url, STANDARD), &url, STANDARD, &upstream.fetcher)
        .await
        .unwrap_err()
}

#[tokio::test]
async fn html_page_served_with_200_is_an_error() {
    let upstream = Upstream::start().await;
    upstream.put(
        "SHA256SUMS",
        "<!DOCTYPE html>\n<html><head><title>Mirror maintenance</title></head></html>\n",
    );
    let error = check(&upstream, "SHA256SUMS").await;
    assert_eq!(error.kind(), "checksums-html-page");
    assert!(
        error.to_string().contains("upstream.invalid/SHA256SUMS"),
        "{error}"
    );
}

#[tokio::test]
async fn empty_list_is_an_error() {
    let upstream = Upstream::start().await;
    upstream.put("SHA256SUMS", "# nothing yet\n\n");
    let error = check(&upstream, "SHA256SUMS").await;
    assert_eq!(error.kind(), "checksums-empty-list");
}

#[tokio::test]
async fn missing_list_is_an_http_error_naming_the_url() {
    let upstream = Upstream::start().await;
    let error = check(&upstream, "gone/SHA256SUMS").await;
    assert_eq!(error.kind(), "fetch-http-status");
    let ChecksumsError::Fetch { source, .. } = &error else {
        panic!("unexpected error {error}");
    };
    assert_eq!(source.status(), Some(404));
    assert!(
        error
            .to_string()
            .contains("https://upstream.invalid/gone/SHA256SUMS")
    );
    // The cause names the mirror URL that was actually requested.
    assert!(source.to_string().contains(&upstream.base), "{source}");
}

#[tokio::test]
async fn malformed_list_names_the_line() {
    let upstream = Upstream::start().await;
    upstream.put(
        "SHA256SUMS",
        &format!("{}  a.iso\nnot a checksum line\n", hex('a')),
    );
    let error = check(&upstream, "SHA256SUMS").await;
    assert_eq!(error.kind(), "checksum-line-malformed");
    let ChecksumsError::Parse { source, .. } = &error else {
        panic!("unexpected error {error}");
    };
    assert_eq!(source.line(), Some(2));
}

#[tokio::test]
async fn matching_name_that_escapes_the_directory_is_an_error() {
    let upstream = Upstream::start().await;
    upstream.put(
        "live/SHA256SUMS",
        &format!("{}  ../debian-live-12.8.0-amd64-standard.iso\n", hex('a')),
    );
    let url = format!("{UPSTREAM}live/SHA256SUMS");
    let pattern = r"debian-live-(?P<version>[0-9.]+)-amd64-standard\.iso$";
    let error = candidates(&recipe(&url, pattern), &url, pattern, &upstream.fetcher)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "checksums-unsafe-name", "{error}");
}

#[tokio::test]
async fn oversized_list_is_refused() {
    let upstream = Upstream::start().await;
    upstream.put("SHA256SUMS", &"#".repeat(MAX_LIST_BYTES as usize + 1));
    let error = check(&upstream, "SHA256SUMS").await;
    assert_eq!(error.kind(), "fetch-too-large");
}

#[tokio::test]
async fn pattern_without_version_group_is_refused_before_any_request() {
    let upstream = Upstream::start().await;
    let url = format!("{UPSTREAM}SHA256SUMS");
    let error = candidates(
        &recipe(&url, STANDARD),
        &url,
        r"^a\.iso$",
        &upstream.fetcher,
    )
    .await
    .unwrap_err();
    assert_eq!(error.kind(), "checksums-bad-pattern");
}
