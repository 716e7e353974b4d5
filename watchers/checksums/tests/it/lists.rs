//! What the watcher returns from a good list.

use crate::{STANDARD, UPSTREAM, Upstream, hex, recipe};
use repack_core::Arch;
use repack_watch_checksums::candidates;

fn debian_list() -> String {
    format!(
        "{a}  debian-live-12.8.0-amd64-standard.iso\n\
         {b}  debian-live-12.10.0-amd64-standard.iso\n\
         {c}  debian-live-12.9.1-amd64-standard.iso\n\
         {d}  debian-live-12.10.0-amd64-gnome.iso\n\
         {e}  debian-live-12.10.0-amd64-standard.iso.contents\n\
         {f}  debian-live-12.10.0-amd64-standard.iso.torrent\n",
        a = hex('a'),
        b = hex('b'),
        c = hex('c'),
        d = hex('d'),
        e = hex('e'),
        f = hex('f'),
    )
}

#[tokio::test]
async fn every_matching_iso_is_a_candidate_and_other_names_are_ignored() {
    let upstream = Upstream::start().await;
    upstream.put("live/SHA256SUMS", &debian_list());
    let url = format!("{UPSTREAM}live/SHA256SUMS");
    let recipe = recipe(&url, STANDARD);

    let found = candidates(&recipe, &url, STANDARD, &upstream.fetcher)
        .await
        .unwrap();

    let summary: Vec<_> = found
        .iter()
        .map(|c| (c.version.as_str(), c.iso_name.as_str(), c.sha256.to_hex()))
        .collect();
    assert_eq!(
        summary,
        [
            ("12.8.0", "debian-live-12.8.0-amd64-standard.iso", hex('a')),
            (
                "12.10.0",
                "debian-live-12.10.0-amd64-standard.iso",
                hex('b')
            ),
            ("12.9.1", "debian-live-12.9.1-amd64-standard.iso", hex('c')),
        ]
    );
    for candidate in &found {
        assert_eq!(candidate.recipe, "debian-live");
        assert_eq!(candidate.arch, Arch::X86_64);
    }
}

#[tokio::test]
async fn iso_urls_resolve_against_the_upstream_list_url_not_the_mirror() {
    let upstream = Upstream::start().await;
    let list = format!(
        "{}  debian-live-12.8.0-amd64-standard.iso\nSHA256 (iso-hybrid/debian-live-12.9.0-amd64-standard.iso) = {}\n",
        hex('a'),
        hex('b')
    );
    upstream.put("cdimage/release/current-live/amd64/SHA256SUMS", &list);
    let url = format!("{UPSTREAM}cdimage/release/current-live/amd64/SHA256SUMS");
    let pattern = r"^(iso-hybrid/)?debian-live-(?P<version>[0-9.]+)-amd64-standard\.iso$";

    let found = candidates(&recipe(&url, pattern), &url, pattern, &upstream.fetcher)
        .await
        .unwrap();

    let urls: Vec<_> = found.iter().map(|c| c.iso_url.as_str()).collect();
    assert_eq!(
        urls,
        [
            "https://upstream.invalid/cdimage/release/current-live/amd64/debian-live-12.8.0-amd64-standard.iso",
            "https://upstream.invalid/cdimage/release/current-live/amd64/iso-hybrid/debian-live-12.9.0-amd64-standard.iso",
        ]
    );
    assert_eq!(found[1].iso_name, "debian-live-12.9.0-amd64-standard.iso");
}

#[tokio::test]
async fn no_matching_name_is_an_empty_result_here() {
    // Turning this into an error is repack-watch's job (see its tests).
    let upstream = Upstream::start().await;
    upstream.put("SHA256SUMS", &debian_list());
    let url = format!("{UPSTREAM}SHA256SUMS");
    let pattern = r"^ubuntu-(?P<version>[0-9.]+)\.iso$";
    let found = candidates(&recipe(&url, pattern), &url, pattern, &upstream.fetcher)
        .await
        .unwrap();
    assert!(found.is_empty());
}

#[test]
fn list_parsing_works_without_the_network() {
    let url = "https://cd.example/live/SHA256SUMS";
    let found = repack_watch_checksums::candidates_from_list(
        &recipe(url, STANDARD),
        url,
        STANDARD,
        &debian_list(),
    )
    .unwrap();
    assert_eq!(found.len(), 3);
    assert_eq!(
        found[0].iso_url,
        "https://cd.example/live/debian-live-12.8.0-amd64-standard.iso"
    );
}
