//! Walking Ubuntu's `releases/` index of version directories.

use crate::{Env, config, fixture, hex, summary};
use repack_testkit::feed::Reply;
use repack_watch_checksums::candidates;
use repack_watch_common::Feeds;

const PATTERN: &str = r"^ubuntu-(?P<version>[0-9.]+)-desktop-(?P<arch>amd64|arm64)\.iso$";
const DIRS: &str = r"^(?P<version>[0-9]+\.[0-9]+(?:\.[0-9]+)?)$";

fn watch(env: &Env, max_dirs: usize) -> String {
    format!(
        "url = \"{}ubuntu/\"\ndir_pattern = '{DIRS}'\nmax_dirs = {max_dirs}\npattern = '{PATTERN}'",
        env.server.base()
    )
}

fn serve_index(env: &Env) {
    env.server.put(
        "/ubuntu/",
        Reply::html(fixture("ubuntu-releases-index.html")),
    );
}

#[tokio::test]
async fn a_directory_without_its_list_yet_is_skipped_and_older_ones_are_read() {
    let env = Env::start().await;
    serve_index(&env);
    // 26.04/ exists but has no SHA256SUMS yet (404); 24.04.1/ and 24.04/ do.
    env.server.put(
        "/ubuntu/24.04.1/SHA256SUMS",
        Reply::text(fixture("ubuntu-24.04.1-SHA256SUMS")),
    );
    env.server.put(
        "/ubuntu/24.04/SHA256SUMS",
        Reply::text(format!("{} *ubuntu-24.04-desktop-amd64.iso\n", hex('9'))),
    );
    let (recipe, config) = config(&watch(&env, 3));

    let found = candidates(&config, &recipe, Feeds::new(&env.fetcher))
        .await
        .unwrap();

    insta::assert_snapshot!(summary(&found).replace(env.server.base(), "[BASE]/"));
    // Newest first, at most max_dirs directories, no codename directory.
    let asked: Vec<String> = env.server.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(
        asked,
        [
            "/ubuntu/",
            "/ubuntu/26.04/SHA256SUMS",
            "/ubuntu/24.04.1/SHA256SUMS",
            "/ubuntu/24.04/SHA256SUMS"
        ]
    );
}

#[tokio::test]
async fn only_max_dirs_newest_directories_are_read() {
    let env = Env::start().await;
    serve_index(&env);
    env.server.put(
        "/ubuntu/24.04.1/SHA256SUMS",
        Reply::text(fixture("ubuntu-24.04.1-SHA256SUMS")),
    );
    let (recipe, config) = config(&watch(&env, 2));
    let found = candidates(&config, &recipe, Feeds::new(&env.fetcher))
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert!(
        !env.server
            .requests()
            .iter()
            .any(|r| r.path == "/ubuntu/24.04/SHA256SUMS")
    );
}

#[tokio::test]
async fn no_directory_with_a_list_is_an_error() {
    let env = Env::start().await;
    serve_index(&env);
    let (recipe, config) = config(&watch(&env, 2));
    let error = candidates(&config, &recipe, Feeds::new(&env.fetcher))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "feed-empty");
    assert!(error.to_string().contains("/ubuntu/"), "{error}");
}

#[tokio::test]
async fn a_server_error_in_a_directory_is_an_error_not_a_skip() {
    let env = Env::start().await;
    serve_index(&env);
    env.server
        .put("/ubuntu/26.04/SHA256SUMS", Reply::text("oops").status(500));
    let (recipe, config) = config(&watch(&env, 2));
    let error = candidates(&config, &recipe, Feeds::new(&env.fetcher))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "fetch-http-status");
    assert!(error.to_string().contains("26.04/SHA256SUMS"), "{error}");
}

#[tokio::test]
async fn an_index_without_version_directories_is_an_error() {
    let env = Env::start().await;
    env.server.put(
        "/ubuntu/",
        Reply::html("<html><body><a href=\"noble/\">noble/</a></body></html>"),
    );
    let (recipe, config) = config(&watch(&env, 2));
    let error = candidates(&config, &recipe, Feeds::new(&env.fetcher))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "feed-empty");
}
