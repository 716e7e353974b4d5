//! Walking Ubuntu's `releases/` index of version directories, and directories that are
//! not ready yet (no list, or an unsigned list, while the upstream is still publishing):
//! the walk falls back to the directory before and says so, instead of failing the check.

use crate::{Env, config, fixture, hex, summary};
use repack_testkit::feed::Reply;
use repack_watch::{WatchContext, newest};
use repack_watch_checksums::{MAX_NOT_READY, candidates};
use repack_watch_common::Feeds;
use std::sync::{Arc, Mutex};

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
    let (recipe, config) = config(&watch(&env, 2));

    let found = candidates(&config, &recipe, Feeds::new(&env.fetcher))
        .await
        .unwrap();

    insta::assert_snapshot!(summary(&found).replace(env.server.base(), "[BASE]/"));
    // Newest first, max_dirs ready directories (26.04/ does not count), no codename one.
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
async fn only_max_dirs_ready_directories_are_read() {
    let env = Env::start().await;
    serve_index(&env);
    env.server.put(
        "/ubuntu/24.04.1/SHA256SUMS",
        Reply::text(fixture("ubuntu-24.04.1-SHA256SUMS")),
    );
    let (recipe, config) = config(&watch(&env, 1));
    let found = candidates(&config, &recipe, Feeds::new(&env.fetcher))
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    let asked: Vec<String> = env.server.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(
        asked,
        [
            "/ubuntu/",
            "/ubuntu/26.04/SHA256SUMS",
            "/ubuntu/24.04.1/SHA256SUMS"
        ]
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
    // 26.04/, 24.04.1/ and 24.04/ were tried; then the walk gives up.
    assert_eq!(env.server.requests().len(), 1 + MAX_NOT_READY);
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

/// Ubuntu's recipe shape: one directory read (`max_dirs = 1`), lists signed beside them.
fn signed_watch(env: &Env, signature: &str) -> String {
    format!(
        "{}\nsignature = \"{signature}\"\nkeys = [\"843938DF228D22F7B3742BC0D94AA3F0EFE21092\"]",
        watch(env, 1)
    )
}

/// 26.04/ with its list (one desktop ISO), and 24.04.1/ with its list and signature.
fn serve_26_04_and_24_04_1(env: &Env) {
    serve_index(env);
    env.server.put(
        "/ubuntu/26.04/SHA256SUMS",
        Reply::text(format!("{} *ubuntu-26.04-desktop-amd64.iso\n", hex('6'))),
    );
    env.server.put(
        "/ubuntu/24.04.1/SHA256SUMS",
        Reply::text(fixture("ubuntu-24.04.1-SHA256SUMS")),
    );
    env.server.put(
        "/ubuntu/24.04.1/SHA256SUMS.gpg",
        Reply::text("-----BEGIN PGP SIGNATURE-----\n(24.04.1)\n-----END PGP SIGNATURE-----\n"),
    );
}

/// Everything `tracing` writes while the guard lives (on this thread: the tests run on
/// tokio's current-thread runtime).
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    fn capture(&self) -> tracing::subscriber::DefaultGuard {
        let logs = self.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .with_writer(move || logs.clone())
            .finish();
        tracing::subscriber::set_default(subscriber)
    }

    fn lines_with(&self, words: &str) -> Vec<String> {
        String::from_utf8_lossy(&self.0.lock().unwrap())
            .lines()
            .filter(|line| line.contains(words))
            .map(str::to_owned)
            .collect()
    }
}

#[tokio::test]
async fn the_newest_directory_without_its_list_falls_back_and_is_reported_not_ready() {
    let env = Env::start().await;
    serve_index(&env);
    env.server.put(
        "/ubuntu/24.04.1/SHA256SUMS",
        Reply::text(fixture("ubuntu-24.04.1-SHA256SUMS")),
    );
    let recipe = repack_watch::compliance::recipe("checksums", &watch(&env, 1), "");
    let logs = Logs::default();
    let guard = logs.capture();

    let chosen = newest(&WatchContext::new(&recipe, &env.fetcher)).await;

    drop(guard);
    let chosen = chosen.expect("a directory still being published must not fail the check");
    assert_eq!(chosen.version, "24.04.1");
    let reported = logs.lines_with("not ready");
    assert_eq!(reported.len(), 1, "{reported:?}");
    assert!(
        reported[0].contains("INFO") && reported[0].contains("/ubuntu/26.04/"),
        "{}",
        reported[0]
    );
}

#[tokio::test]
async fn a_directory_whose_list_is_not_signed_yet_is_not_ready_until_it_is() {
    let env = Env::start().await;
    serve_26_04_and_24_04_1(&env);
    let recipe =
        repack_watch::compliance::recipe("checksums", &signed_watch(&env, "{list}.gpg"), "");
    let logs = Logs::default();
    let guard = logs.capture();

    let chosen = newest(&WatchContext::new(&recipe, &env.fetcher)).await;

    drop(guard);
    let chosen = chosen.unwrap();
    assert_eq!(
        chosen.version, "24.04.1",
        "no build fires for the unsigned 26.04"
    );
    assert_eq!(
        chosen.signature_url.as_deref(),
        Some(format!("{}ubuntu/24.04.1/SHA256SUMS.gpg", env.server.base()).as_str())
    );
    let asked: Vec<(String, u16)> = env
        .server
        .requests()
        .into_iter()
        .map(|r| (r.path, r.status))
        .collect();
    assert_eq!(
        asked,
        [
            ("/ubuntu/".to_owned(), 200),
            ("/ubuntu/26.04/SHA256SUMS".to_owned(), 200),
            ("/ubuntu/26.04/SHA256SUMS.gpg".to_owned(), 404),
            ("/ubuntu/24.04.1/SHA256SUMS".to_owned(), 200),
            ("/ubuntu/24.04.1/SHA256SUMS.gpg".to_owned(), 200),
        ]
    );
    let reported = logs.lines_with("not ready");
    assert_eq!(reported.len(), 1, "{reported:?}");
    assert!(
        reported[0].contains("26.04/SHA256SUMS.gpg"),
        "{}",
        reported[0]
    );

    // Once the signature is published, 26.04 is the newest.
    env.server.put(
        "/ubuntu/26.04/SHA256SUMS.gpg",
        Reply::text("-----BEGIN PGP SIGNATURE-----\n(26.04)\n-----END PGP SIGNATURE-----\n"),
    );
    let chosen = newest(&WatchContext::new(&recipe, &env.fetcher))
        .await
        .unwrap();
    assert_eq!(chosen.version, "26.04");
}

#[tokio::test]
async fn no_signed_directory_is_an_error() {
    let env = Env::start().await;
    serve_26_04_and_24_04_1(&env);
    env.server.put(
        "/ubuntu/24.04.1/SHA256SUMS.gpg",
        Reply::text("not found\n").status(404),
    );
    let (recipe, config) = config(&signed_watch(&env, "{list}.gpg"));
    let error = candidates(&config, &recipe, Feeds::new(&env.fetcher))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "feed-empty");
    assert!(error.to_string().contains("/ubuntu/"), "{error}");
}

#[tokio::test]
async fn a_server_error_on_a_list_signature_is_an_error_not_a_skip() {
    let env = Env::start().await;
    serve_26_04_and_24_04_1(&env);
    env.server.put(
        "/ubuntu/26.04/SHA256SUMS.gpg",
        Reply::text("oops").status(500),
    );
    let (recipe, config) = config(&signed_watch(&env, "{list}.gpg"));
    let error = candidates(&config, &recipe, Feeds::new(&env.fetcher))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "fetch-http-status");
    assert!(
        error.to_string().contains("26.04/SHA256SUMS.gpg"),
        "{error}"
    );
}

#[tokio::test]
async fn signatures_over_the_iso_or_a_clearsigned_list_are_not_looked_for() {
    for template in ["{name}.sig", "{list}"] {
        let env = Env::start().await;
        serve_26_04_and_24_04_1(&env);
        let (recipe, config) = config(&signed_watch(&env, template));
        let found = candidates(&config, &recipe, Feeds::new(&env.fetcher))
            .await
            .unwrap();
        assert_eq!(found.len(), 1, "{template}");
        assert_eq!(found[0].version, "26.04", "{template}");
        let asked: Vec<String> = env.server.requests().into_iter().map(|r| r.path).collect();
        assert_eq!(
            asked,
            ["/ubuntu/", "/ubuntu/26.04/SHA256SUMS"],
            "{template}"
        );
    }
}

#[tokio::test]
async fn the_walk_back_stops_after_max_not_ready_directories() {
    let env = Env::start().await;
    let mut index = String::from("<html><body><pre>\n");
    for minor in 1..=9 {
        index.push_str(&format!("<a href=\"30.{minor:02}/\">30.{minor:02}/</a>\n"));
    }
    index.push_str("</pre></body></html>\n");
    env.server.put("/ubuntu/", Reply::html(index));
    // Only the oldest directory is ready: too far back to be reached.
    env.server.put(
        "/ubuntu/30.01/SHA256SUMS",
        Reply::text(format!("{} *ubuntu-30.01-desktop-amd64.iso\n", hex('3'))),
    );
    let (recipe, config) = config(&watch(&env, 1));
    let error = candidates(&config, &recipe, Feeds::new(&env.fetcher))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "feed-empty");
    let asked: Vec<String> = env.server.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(
        asked[1..],
        [
            "/ubuntu/30.09/SHA256SUMS",
            "/ubuntu/30.08/SHA256SUMS",
            "/ubuntu/30.07/SHA256SUMS"
        ]
    );
    assert_eq!(MAX_NOT_READY, 3);
}
