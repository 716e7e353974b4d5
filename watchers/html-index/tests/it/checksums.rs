//! Where digests come from, and refusing to guess.

use crate::{Env, config, hex};
use repack_core::Checksum;
use repack_testkit::feed::Reply;
use repack_watch::{WatchContext, newest, require_sha256};
use repack_watch_common::Feeds;
use repack_watch_html_index::candidates;

const PATTERN: &str = r"^os-(?P<version>[0-9.]+)\.iso$";

fn listing(env: &Env, versions: &[&str]) {
    let links: String = versions
        .iter()
        .map(|v| format!("<a href=\"os-{v}.iso\">os-{v}.iso</a>\n"))
        .collect();
    env.server.put(
        "/os/",
        Reply::html(format!(
            "<html><body><pre><a href=\"../\">../</a>\n{links}</pre></body></html>"
        )),
    );
}

fn watch(env: &Env, checksum: &str) -> String {
    format!(
        "url = \"{}os/\"\npattern = '{PATTERN}'\nchecksum = \"{checksum}\"",
        env.server.base()
    )
}

#[tokio::test]
async fn an_iso_whose_checksum_file_is_missing_is_left_out() {
    let env = Env::start().await;
    listing(&env, &["1.0", "1.1"]);
    env.server.put(
        "/os/os-1.0.iso.sha256",
        Reply::text(format!("{}  os-1.0.iso\n", hex('a'))),
    );
    let (recipe, config) = config(&watch(&env, "{name}.sha256"));
    let found = candidates(&config, &recipe, Feeds::new(&env.fetcher))
        .await
        .unwrap();
    let versions: Vec<_> = found.iter().map(|c| c.version.as_str()).collect();
    assert_eq!(versions, ["1.0"]);
}

#[tokio::test]
async fn a_bare_digest_file_is_read_for_its_iso() {
    let env = Env::start().await;
    listing(&env, &["1.0"]);
    env.server.put(
        "/os/os-1.0.iso.sha256",
        Reply::text(format!("{}\n", hex('d'))),
    );
    let (recipe, config) = config(&watch(&env, "{name}.sha256"));
    let found = candidates(&config, &recipe, Feeds::new(&env.fetcher))
        .await
        .unwrap();
    assert_eq!(
        found[0].checksum,
        Checksum::Sha256(hex('d').parse().unwrap())
    );
}

#[tokio::test]
async fn a_checksum_file_that_does_not_list_the_iso_is_an_error() {
    let env = Env::start().await;
    listing(&env, &["1.0"]);
    env.server.put(
        "/os/SHA256SUMS",
        Reply::text(format!("{}  other.iso\n", hex('a'))),
    );
    let (recipe, config) = config(&watch(&env, "SHA256SUMS"));
    let error = candidates(&config, &recipe, Feeds::new(&env.fetcher))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "feed-not-in-checksum-list");
    assert!(error.to_string().contains("os-1.0.iso"), "{error}");
}

#[tokio::test]
async fn an_html_page_instead_of_the_checksum_file_is_an_error() {
    let env = Env::start().await;
    listing(&env, &["1.0"]);
    env.server.put(
        "/os/os-1.0.iso.sha256",
        Reply::html("<html><body>login</body></html>"),
    );
    let (recipe, config) = config(&watch(&env, "{name}.sha256"));
    let error = candidates(&config, &recipe, Feeds::new(&env.fetcher))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "feed-html-page");
}

#[tokio::test]
async fn checksum_none_is_explicit_watchable_and_not_buildable() {
    let env = Env::start().await;
    listing(&env, &["1.0", "1.2"]);
    let (recipe, _) = config(&watch(&env, "none"));
    let chosen = newest(&WatchContext::new(&recipe, &env.fetcher))
        .await
        .unwrap();
    assert_eq!(chosen.version, "1.2");
    assert_eq!(chosen.checksum, Checksum::Unverified);
    assert_eq!(
        require_sha256(&recipe, &chosen).unwrap_err().kind(),
        "watch-unverified"
    );
    // Nothing but the listing was fetched.
    assert_eq!(env.server.requests().len(), 1);
}
