//! API answers the watcher must refuse.

use crate::{Env, FIRST};
use repack_testkit::feed::Reply;
use repack_watch_github::MAX_PAGES;

async fn kind(env: &Env) -> (String, String) {
    let error = env.candidates("", None).await.unwrap_err();
    (error.kind().to_owned(), error.to_string())
}

#[tokio::test]
async fn rate_limit_is_an_http_error_naming_the_url() {
    let env = Env::start().await;
    env.server.put(
        FIRST,
        Reply::json(r#"{"message": "API rate limit exceeded"}"#)
            .status(403)
            .header("x-ratelimit-remaining", "0"),
    );
    let error = env.candidates("", None).await.unwrap_err();
    assert_eq!(error.kind(), "fetch-http-status");
    assert!(
        error.to_string().contains("example-os/live-iso/releases"),
        "{error}"
    );
    let chain = std::error::Error::source(&error).unwrap().to_string();
    assert!(chain.contains("403"), "{chain}");
}

#[tokio::test]
async fn html_empty_and_non_list_answers_are_errors() {
    let env = Env::start().await;
    env.server.put(
        FIRST,
        Reply::html("<!DOCTYPE html><html><body>Unicorn!</body></html>"),
    );
    assert_eq!(kind(&env).await.0, "feed-html-page");
    env.server.put(FIRST, Reply::json("[]"));
    assert_eq!(kind(&env).await.0, "feed-empty");
    env.server
        .put(FIRST, Reply::json(r#"{"message": "Not Found"}"#));
    let (kind_, message) = kind(&env).await;
    assert_eq!(kind_, "feed-malformed");
    assert!(message.contains("not a list of releases"), "{message}");
}

#[tokio::test]
async fn a_digest_that_is_not_sha256_hex_is_an_error() {
    let env = Env::start().await;
    env.server.put(
        FIRST,
        Reply::json(
            r#"[{"tag_name": "v1.0", "draft": false, "prerelease": false, "published_at": null,
                 "assets": [{"name": "example-os-1.0-x86_64.iso", "size": 1, "digest": "sha256:xyz",
                             "browser_download_url": "https://github.com/o/r/releases/download/v1.0/example-os-1.0-x86_64.iso"}]}]"#,
        ),
    );
    let (kind_, message) = kind(&env).await;
    assert_eq!(kind_, "feed-bad-digest");
    assert!(
        message.contains("v1.0") && message.contains("sha256:xyz"),
        "{message}"
    );
}

#[tokio::test]
async fn an_endless_link_chain_stops_after_max_pages() {
    let env = Env::start().await;
    let base = env.server.base().trim_end_matches('/').to_owned();
    env.server.put(
        "/repos/example-os/live-iso/releases",
        Reply::json(
            r#"[{"tag_name": "v1.0", "draft": false, "prerelease": false, "published_at": null, "assets": []}]"#,
        )
        .header("link", format!("<{base}{FIRST}&page=again>; rel=\"next\"")),
    );
    env.candidates("", None).await.unwrap();
    assert_eq!(env.server.requests().len(), MAX_PAGES);
}
