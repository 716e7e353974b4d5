//! Real-shaped listings and pages.

use crate::{Env, config, fixture, hex};
use repack_testkit::feed::Reply;
use repack_watch::{WatchContext, newest};
use repack_watch_common::Feeds;
use repack_watch_html_index::{Config, candidates, entries_from_page};

const MANJARO: &str = r"^manjaro-kde-(?P<version>[0-9.]+)-[0-9]+-linux[0-9]+\.iso$";

#[tokio::test]
async fn manjaro_listing_with_one_sha256_file_per_iso() {
    let env = Env::start().await;
    env.server.put(
        "/kde/25.0.10/",
        Reply::html(fixture("manjaro-kde-listing.html")),
    );
    env.server.put(
        "/kde/25.0.10/manjaro-kde-25.0.10-251013-linux612.iso.sha256",
        Reply::text(format!(
            "{}  manjaro-kde-25.0.10-251013-linux612.iso\n",
            hex('c')
        )),
    );
    let (recipe, config) = config(&format!(
        "url = \"{}kde/25.0.10/\"\npattern = '{MANJARO}'\nchecksum = \"{{name}}.sha256\"",
        env.server.base()
    ));

    let found = candidates(&config, &recipe, Feeds::new(&env.fetcher))
        .await
        .unwrap();

    insta::assert_snapshot!(env.summary(&found));
    // The minimal ISO does not match; its checksum file was never asked for.
    assert!(
        !env.server
            .requests()
            .iter()
            .any(|r| r.path.contains("minimal"))
    );
}

#[tokio::test]
async fn arch_date_directories_and_a_shared_sha256sums_file() {
    let env = Env::start().await;
    env.server
        .put("/iso/", Reply::html(fixture("arch-iso-index.html")));
    env.server.put(
        "/iso/2026.12.01/",
        Reply::html(fixture("arch-2026.12.01-listing.html")),
    );
    env.server.put(
        "/iso/2026.12.01/sha256sums.txt",
        Reply::text(fixture("arch-2026.12.01-sha256sums.txt")),
    );
    // 2026.11.01/ has been pruned from this mirror already: 404, skipped.
    let watch = format!(
        "url = \"{}iso/\"\ndir_pattern = '^(?P<version>[0-9]{{4}}\\.[0-9]{{2}}\\.[0-9]{{2}})$'\n\
         pattern = '^archlinux-(?P<version>[0-9.]+)-(?P<arch>x86_64)\\.iso$'\nchecksum = \"sha256sums.txt\"",
        env.server.base()
    );
    let (recipe, config) = config(&watch);

    let found = candidates(&config, &recipe, Feeds::new(&env.fetcher))
        .await
        .unwrap();
    insta::assert_snapshot!(env.summary(&found));

    let cache = tempfile::tempdir().unwrap();
    let fetcher = repack_watch::compliance::fetcher(cache.path());
    let chosen = newest(&WatchContext::new(&recipe, &fetcher)).await.unwrap();
    assert_eq!(chosen.version, "2026.12.01");
    assert_eq!(chosen.checksum.sha256().unwrap().to_hex(), hex('a'));
}

fn page_config(pattern: &str) -> Config {
    config(&format!(
        "url = \"https://example-os.org/download/\"\npattern = '{pattern}'\nchecksum = \"{{name}}.sha256\""
    ))
    .1
}

#[test]
fn download_page_links_resolve_like_a_browser_and_hidden_ones_do_not_count() {
    let config = page_config(r"^example-os-(?P<version>[0-9.]+)-(?P<arch>amd64|arm64)\.iso$");
    let entries = entries_from_page(
        &config,
        "https://example-os.org/download/",
        &fixture("download-page.html"),
    )
    .unwrap();
    let found: Vec<String> = entries
        .iter()
        .map(|e| format!("{} {} {:?}", e.version, e.url, e.upstream_arch))
        .collect();
    assert_eq!(
        found,
        [
            "7.2 https://mirror.example-os.org/releases/7.2/example-os-7.2-amd64.iso Some(\"amd64\")",
            "7.2 https://mirror.example-os.org/releases/7.2/example-os-7.2-arm64.iso Some(\"arm64\")",
            "7.1 https://mirror.example-os.org/releases/7.1/example-os-7.1-amd64.iso Some(\"amd64\")",
        ]
    );
}

#[test]
fn a_page_without_any_link_is_an_error() {
    let config = page_config(r"^a-(?P<version>[0-9.]+)\.iso$");
    let error = entries_from_page(
        &config,
        "https://example-os.org/download/",
        "<html><body><p>We are moving servers.</p></body></html>",
    )
    .unwrap_err();
    assert_eq!(error.kind(), "feed-empty");
    assert!(
        error.to_string().contains("example-os.org/download/"),
        "{error}"
    );
}
