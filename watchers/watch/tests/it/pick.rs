//! `pick_newest` without the network.

use crate::{STANDARD, hex, recipe};
use repack_core::{Arch, Candidate};
use repack_watch::pick_newest;

fn candidate(version: &str, digit: char) -> Candidate {
    let iso_name = format!("debian-live-{version}-amd64-standard.iso");
    Candidate {
        recipe: "debian-live".to_owned(),
        version: version.to_owned(),
        arch: Arch::X86_64,
        iso_url: format!("https://cd.example/{iso_name}"),
        iso_name,
        sha256: hex(digit).parse().unwrap(),
    }
}

#[test]
fn versions_order_numerically_and_pre_releases_first() {
    let recipe = recipe("https://cd.example/SHA256SUMS", STANDARD);
    let all = vec![
        candidate("24.04~beta", 'a'),
        candidate("23.10", 'b'),
        candidate("24.04", 'c'),
        candidate("24.04~rc1", 'd'),
    ];
    assert_eq!(pick_newest(&recipe, all).unwrap().version, "24.04");
}

#[test]
fn no_candidates_is_an_error() {
    let recipe = recipe("https://cd.example/SHA256SUMS", STANDARD);
    assert_eq!(
        pick_newest(&recipe, Vec::new()).unwrap_err().kind(),
        "watch-no-matching-release"
    );
}

#[test]
fn the_same_file_twice_is_not_ambiguous() {
    let recipe = recipe("https://cd.example/SHA256SUMS", STANDARD);
    let all = vec![
        candidate("1.0", 'a'),
        candidate("1.0", 'a'),
        candidate("0.9", 'b'),
    ];
    assert_eq!(pick_newest(&recipe, all).unwrap().version, "1.0");
}
