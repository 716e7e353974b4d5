//! The policy without the network.

use crate::{hex, recipe};
use repack_core::{Arch, Candidate, Checksum};
use repack_watch::{WatchConfig, pick_newest, require_sha256};

fn candidate(version: &str, digit: char) -> Candidate {
    let iso_name = format!("debian-live-{version}-amd64-standard.iso");
    let mut candidate = Candidate::new(
        "compliance",
        version,
        Arch::X86_64,
        format!("https://cd.example/{iso_name}"),
        iso_name,
        Checksum::Sha256(hex(digit).parse().unwrap()),
    );
    candidate.upstream_arch = Some("amd64".to_owned());
    candidate
}

const WATCH: &str = "url = \"https://cd.example/SHA256SUMS\"\npattern = '(?P<version>.+)'";

fn pick(extra: &str, all: Vec<Candidate>) -> Result<Candidate, repack_watch::WatchError> {
    let recipe = recipe("checksums", WATCH, extra);
    let config = WatchConfig::parse(&recipe).unwrap();
    let selection = config.policy.select(&recipe, all);
    pick_newest(&recipe, "https://cd.example/SHA256SUMS", selection)
}

#[test]
fn versions_order_numerically_and_pre_releases_stay_out() {
    let all = vec![
        candidate("24.04~beta", 'a'),
        candidate("23.10", 'b'),
        candidate("24.04", 'c'),
        candidate("24.04.1-rc1", 'd'),
    ];
    assert_eq!(pick("", all.clone()).unwrap().version, "24.04");
    assert_eq!(
        pick("prerelease = true", all).unwrap().version,
        "24.04.1-rc1"
    );
}

#[test]
fn a_release_the_feed_marks_as_pre_release_stays_out() {
    let mut marked = candidate("25.04", 'a');
    marked.prerelease = true;
    let all = vec![marked, candidate("24.04", 'b')];
    assert_eq!(pick("", all).unwrap().version, "24.04");
}

#[test]
fn other_architectures_stay_out_and_arch_names_override_the_defaults() {
    let mut arm = candidate("25.04", 'a');
    arm.upstream_arch = Some("aarch64".to_owned());
    let mut odd = candidate("26.04", 'c');
    odd.upstream_arch = Some("x64-efi".to_owned());
    let all = vec![arm, candidate("24.04", 'b'), odd];
    assert_eq!(pick("", all.clone()).unwrap().version, "24.04");
    assert_eq!(
        pick("arch_names = [\"x64-efi\"]", all).unwrap().version,
        "26.04"
    );
}

#[test]
fn include_and_exclude_match_file_names() {
    let all = vec![candidate("24.04", 'a'), candidate("24.10", 'b')];
    assert_eq!(
        pick("exclude = '24\\.10'", all.clone()).unwrap().version,
        "24.04"
    );
    assert_eq!(pick("include = '24\\.04'", all).unwrap().version, "24.04");
}

#[test]
fn no_candidates_is_an_error() {
    assert_eq!(
        pick("", Vec::new()).unwrap_err().kind(),
        "watch-no-matching-release"
    );
}

#[test]
fn the_same_file_twice_is_not_ambiguous() {
    let all = vec![
        candidate("1.0", 'a'),
        candidate("1.0", 'a'),
        candidate("0.9", 'b'),
    ];
    assert_eq!(pick("", all).unwrap().version, "1.0");
}

#[test]
fn one_file_under_two_directories_is_one_release_unless_unverified() {
    // releases.ubuntu.com: `24.04/` and `24.04.3/` are symlinks to `noble/`.
    let mut alias = candidate("1.0", 'a');
    alias.iso_url = format!("https://cd.example/noble/{}", alias.iso_name);
    let all = vec![candidate("1.0", 'a'), alias.clone()];
    assert_eq!(pick("", all).unwrap().version, "1.0");
    // Other bytes under the same name are two releases.
    let mut other = alias.clone();
    other.checksum = candidate("1.0", 'b').checksum;
    assert_eq!(
        pick("", vec![candidate("1.0", 'a'), other])
            .unwrap_err()
            .kind(),
        "watch-ambiguous-release"
    );
}

#[test]
fn an_unverified_candidate_cannot_be_built() {
    let recipe = recipe("checksums", WATCH, "");
    let mut unverified = candidate("1.0", 'a');
    unverified.checksum = Checksum::Unverified;
    let error = require_sha256(&recipe, &unverified).unwrap_err();
    assert_eq!(error.kind(), "watch-unverified");
    assert!(error.to_string().contains("checksum = \"none\""), "{error}");
    assert_eq!(
        require_sha256(&recipe, &candidate("1.0", 'a'))
            .unwrap()
            .to_hex(),
        hex('a')
    );
}
