//! `newest` end to end over HTTP.

use crate::{STANDARD, UPSTREAM, Upstream, hex, recipe};
use repack_watch::{WatchError, candidates, newest};

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

#[tokio::test]
async fn newest_picks_12_10_0_over_12_8_0_and_12_9_1() {
    let upstream = Upstream::start().await;
    upstream.put("live/SHA256SUMS", &list());
    let url = format!("{UPSTREAM}live/SHA256SUMS");
    let recipe = recipe(&url, STANDARD);

    let chosen = newest(&recipe, &upstream.fetcher).await.unwrap();

    assert_eq!(chosen.version, "12.10.0");
    assert_eq!(chosen.iso_name, "debian-live-12.10.0-amd64-standard.iso");
    assert_eq!(
        chosen.iso_url,
        "https://upstream.invalid/live/debian-live-12.10.0-amd64-standard.iso"
    );
    assert_eq!(chosen.sha256.to_hex(), hex('b'));
    assert_eq!(
        candidates(&recipe, &upstream.fetcher).await.unwrap().len(),
        3
    );
}

#[tokio::test]
async fn no_matching_release_is_an_error_naming_url_and_pattern() {
    let upstream = Upstream::start().await;
    upstream.put("live/SHA256SUMS", &list());
    let url = format!("{UPSTREAM}live/SHA256SUMS");
    let pattern = r"^debian-live-(?P<version>[0-9.]+)-arm64-standard\.iso$";

    let error = newest(&recipe(&url, pattern), &upstream.fetcher)
        .await
        .unwrap_err();

    assert!(
        matches!(error, WatchError::NoMatchingRelease { .. }),
        "{error}"
    );
    assert_eq!(error.kind(), "watch-no-matching-release");
    let message = error.to_string();
    assert!(message.contains(&url), "{message}");
    assert!(message.contains(pattern), "{message}");
}

#[tokio::test]
async fn empty_list_is_an_error_not_no_change() {
    let upstream = Upstream::start().await;
    upstream.put("live/SHA256SUMS", "");
    let error = newest(
        &recipe(&format!("{UPSTREAM}live/SHA256SUMS"), STANDARD),
        &upstream.fetcher,
    )
    .await
    .unwrap_err();
    assert_eq!(error.kind(), "checksums-empty-list");
}

#[tokio::test]
async fn html_page_with_200_is_an_error() {
    let upstream = Upstream::start().await;
    upstream.put(
        "live/SHA256SUMS",
        "<html><body>Service unavailable</body></html>",
    );
    let error = newest(
        &recipe(&format!("{UPSTREAM}live/SHA256SUMS"), STANDARD),
        &upstream.fetcher,
    )
    .await
    .unwrap_err();
    assert_eq!(error.kind(), "checksums-html-page");
    assert!(error.to_string().contains("debian-live"), "{error}");
}

#[tokio::test]
async fn missing_feed_is_an_error_with_its_cause() {
    let upstream = Upstream::start().await;
    let url = format!("{UPSTREAM}nowhere/SHA256SUMS");
    let error = newest(&recipe(&url, STANDARD), &upstream.fetcher)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "fetch-http-status");
    // The whole chain names the recipe, the list URL and the status.
    let mut chain = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        chain.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    assert!(
        chain.contains("debian-live") && chain.contains(&url) && chain.contains("404"),
        "{chain}"
    );
}

#[tokio::test]
async fn two_files_with_the_newest_version_are_ambiguous() {
    let upstream = Upstream::start().await;
    upstream.put(
        "SHA256SUMS",
        &format!(
            "{}  debian-live-12.10.0-amd64-standard.iso\n{}  debian-live-12.10.0-amd64-gnome.iso\n",
            hex('a'),
            hex('b')
        ),
    );
    let pattern = r"^debian-live-(?P<version>[0-9.]+)-amd64-[a-z]+\.iso$";
    let error = newest(
        &recipe(&format!("{UPSTREAM}SHA256SUMS"), pattern),
        &upstream.fetcher,
    )
    .await
    .unwrap_err();
    assert_eq!(error.kind(), "watch-ambiguous-release");
    assert!(error.to_string().contains("gnome"), "{error}");
}
