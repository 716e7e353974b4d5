//! Documents the watcher must refuse.

use crate::run;

const WATCH: &str = "url = \"{BASE}r.json\"\nfields = { sha256 = \"sha256\" }";

async fn kind_of(watch: &str, body: &str) -> (String, String) {
    let error = run(watch, "/r.json", body).await.unwrap_err();
    (error.kind().to_owned(), error.to_string())
}

#[tokio::test]
async fn not_json_is_malformed_and_says_where() {
    let (kind, message) = kind_of(WATCH, "[{\"version\": \"1\",]").await;
    assert_eq!(kind, "feed-malformed");
    assert!(
        message.contains("r.json") && message.contains("column"),
        "{message}"
    );
}

#[tokio::test]
async fn html_with_status_200_is_refused() {
    let (kind, _) = kind_of(
        WATCH,
        "<!DOCTYPE html><html><body>Rate limited</body></html>",
    )
    .await;
    assert_eq!(kind, "feed-html-page");
}

#[tokio::test]
async fn empty_list_and_missing_list_are_errors() {
    assert_eq!(kind_of(WATCH, "[]").await.0, "feed-empty");
    let watch = "url = \"{BASE}r.json\"\nlist = \"/releases\"\nfields = { sha256 = \"sha256\" }";
    let (kind, message) = kind_of(watch, "{\"version\": 1}").await;
    assert_eq!(kind, "feed-malformed");
    assert!(message.contains("/releases"), "{message}");
    assert_eq!(kind_of(WATCH, "42").await.0, "feed-malformed");
}

#[tokio::test]
async fn malformed_digest_is_an_error_and_missing_one_leaves_the_entry_out() {
    let bad = r#"[{"version": "1", "url": "https://a/x-1.iso", "sha256": "abc"}]"#;
    let (kind, message) = kind_of(WATCH, bad).await;
    assert_eq!(kind, "feed-bad-digest");
    assert!(
        message.contains("x-1.iso") && message.contains("abc"),
        "{message}"
    );
    let digest = "e".repeat(64);
    let mixed = format!(
        r#"[{{"version": "1", "url": "https://a/x-1.iso", "sha256": null}},
            {{"version": "2", "url": "https://a/x-2.iso", "sha256": "sha256:{digest}"}}]"#
    );
    let found = run(WATCH, "/r.json", &mixed).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].version, "2");
}

#[tokio::test]
async fn an_entry_without_url_is_left_out_and_a_non_http_url_is_an_error() {
    let digest = "e".repeat(64);
    let found = run(
        WATCH,
        "/r.json",
        &format!(r#"[{{"version": "1", "sha256": "{digest}"}}]"#),
    )
    .await
    .unwrap();
    assert!(found.is_empty());
    let (kind, message) = kind_of(
        WATCH,
        &format!(r#"[{{"version": "1", "url": "magnet:?xt=urn:btih:00", "sha256": "{digest}"}}]"#),
    )
    .await;
    assert_eq!(kind, "feed-bad-link");
    assert!(message.contains("magnet:"), "{message}");
}

#[tokio::test]
async fn an_entry_without_version_is_an_error() {
    let digest = "e".repeat(64);
    let (kind, message) = kind_of(
        WATCH,
        &format!(r#"[{{"url": "https://a/x.iso", "sha256": "{digest}"}}]"#),
    )
    .await;
    assert_eq!(kind, "feed-malformed");
    assert!(
        message.contains("entry 0") && message.contains("`version`"),
        "{message}"
    );
}
