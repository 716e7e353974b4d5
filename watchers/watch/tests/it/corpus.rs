//! Replays the committed fuzz corpus (`fuzz/corpus/versions/`) through the harness the
//! cargo-fuzz target uses, so every input that ever mattered keeps being checked.

use repack_watch::fuzzing::versions;
use repack_watch::policy::order_key;
use std::path::{Path, PathBuf};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/versions")
}

#[test]
fn versions_corpus_replays() {
    let mut replayed = 0;
    for entry in std::fs::read_dir(corpus()).unwrap() {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        versions(&data);
        replayed += 1;
    }
    assert!(
        replayed >= 20,
        "only {replayed} inputs in {}",
        corpus().display()
    );
}

/// The seeds are ordered as their upstreams mean them (newest of each seed file first
/// here), so the harness's order checks run over the orders that matter.
#[test]
fn seeds_order_as_their_upstreams_mean() {
    let newest_first = |name: &str, expected: [&str; 3]| {
        let text = std::fs::read_to_string(corpus().join(name)).unwrap();
        let mut lines: Vec<&str> = text.lines().collect();
        lines.sort_by_key(|line| std::cmp::Reverse(order_key(line)));
        assert_eq!(lines, expected, "{name}");
    };
    newest_first("ubuntu-point-releases", ["24.04.10", "24.04.9", "24.04.2"]);
    newest_first("ubuntu-prerelease", ["26.04", "26.04-rc1", "26.04~beta2"]);
    newest_first("fedora-compose", ["42-1.2", "42-1.1", "41-1.4"]);
    newest_first("fedora-beta", ["43-1.6", "43", "43 Beta"]);
    newest_first("arch-dates", ["2025.01.01", "2024.11.01", "2024.10.31"]);
    newest_first("ubuntu-release-and-point", ["26.04", "24.04.1", "24.04"]);
}

/// Seeds hold versions that differ, so the harness's pair and triple checks compare
/// something other than equal keys.
#[test]
fn seeds_hold_distinct_versions() {
    for name in ["ubuntu-point-releases", "compact-dates", "tildes"] {
        let text = std::fs::read_to_string(corpus().join(name)).unwrap();
        let keys: Vec<_> = text.lines().map(order_key).collect();
        assert!(keys.windows(2).any(|pair| pair[0] != pair[1]), "{name}");
    }
}
