//! What the watcher returns from good lists.

use crate::{Env, STANDARD, config, fixture, flat, hex, summary};
use repack_core::{Arch, Checksum};
use repack_testkit::feed::Reply;
use repack_watch_checksums::{candidates, candidates_from_list};
use repack_watch_common::Feeds;

#[tokio::test]
async fn every_matching_iso_is_a_candidate_and_side_files_are_not() {
    let env = Env::start().await;
    env.server.put(
        "/live/SHA256SUMS",
        Reply::text(fixture("debian-live-SHA256SUMS")),
    );
    let (recipe, config) = config(&flat(&env.server, "live/SHA256SUMS", STANDARD));

    let found = candidates(&config, &recipe, Feeds::new(&env.fetcher))
        .await
        .unwrap();

    assert_eq!(found.len(), 1, "{}", summary(&found));
    let only = &found[0];
    assert_eq!(only.version, "13.1.0");
    assert_eq!(only.iso_name, "debian-live-13.1.0-amd64-standard.iso");
    assert_eq!(only.checksum, Checksum::Sha256(hex('6').parse().unwrap()));
    assert_eq!(only.arch, Arch::X86_64);
    assert_eq!(only.recipe, "compliance");
    assert_eq!(
        only.checksum_url.as_deref(),
        Some(format!("{}live/SHA256SUMS", env.server.base()).as_str())
    );
}

#[test]
fn ubuntu_list_snapshot() {
    let url = "https://releases.ubuntu.com/24.04.1/SHA256SUMS";
    let (recipe, config) = config(&format!(
        "url = \"{url}\"\npattern = '^ubuntu-(?P<version>[0-9.]+)-(?:desktop|live-server)-(?P<arch>amd64|arm64)\\.iso$'"
    ));
    let found =
        candidates_from_list(&config, &recipe, url, &fixture("ubuntu-24.04.1-SHA256SUMS")).unwrap();
    insta::assert_snapshot!(summary(&found));
}

#[test]
fn iso_urls_resolve_against_the_list_url_including_subdirectories() {
    let url = "https://cd.example/release/current-live/amd64/SHA256SUMS";
    let list = format!(
        "{}  debian-live-12.8.0-amd64-standard.iso\nSHA256 (iso-hybrid/debian-live-12.9.0-amd64-standard.iso) = {}\n",
        hex('a'),
        hex('b')
    );
    let pattern = r"^(iso-hybrid/)?debian-live-(?P<version>[0-9.]+)-amd64-standard\.iso$";
    let (recipe, config) = config(&format!("url = \"{url}\"\npattern = '{pattern}'"));
    let found = candidates_from_list(&config, &recipe, url, &list).unwrap();
    let urls: Vec<_> = found.iter().map(|c| c.iso_url.as_str()).collect();
    assert_eq!(
        urls,
        [
            "https://cd.example/release/current-live/amd64/debian-live-12.8.0-amd64-standard.iso",
            "https://cd.example/release/current-live/amd64/iso-hybrid/debian-live-12.9.0-amd64-standard.iso",
        ]
    );
    assert_eq!(found[1].iso_name, "debian-live-12.9.0-amd64-standard.iso");
}

#[test]
fn no_matching_name_is_an_empty_result_here() {
    // Turning this into an error is repack-watch's job (see the compliance suite).
    let url = "https://cd.example/SHA256SUMS";
    let (recipe, config) = config(&format!(
        "url = \"{url}\"\npattern = '^ubuntu-(?P<version>[0-9.]+)\\.iso$'"
    ));
    let found =
        candidates_from_list(&config, &recipe, url, &fixture("debian-live-SHA256SUMS")).unwrap();
    assert!(found.is_empty());
}
