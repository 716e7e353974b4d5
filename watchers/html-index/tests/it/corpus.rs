//! Replays the committed fuzz corpus (`fuzz/corpus/html_index/`) through the harness the
//! cargo-fuzz target uses, so every input that ever mattered keeps being checked.

use repack_watch_common::{VersionPattern, dirs, links};
use repack_watch_html_index::fuzzing::{PAGE_URL, html_index};
use std::path::{Path, PathBuf};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/html_index")
}

fn seed(name: &str) -> String {
    let path = corpus().join(name);
    String::from_utf8_lossy(
        &std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
    .into_owned()
}

#[test]
fn html_index_corpus_replays() {
    let mut replayed = 0;
    for entry in std::fs::read_dir(corpus()).unwrap() {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        html_index(&data);
        replayed += 1;
    }
    assert!(
        replayed >= 15,
        "only {replayed} inputs in {}",
        corpus().display()
    );
}

/// The seeds reach the deep paths: real listings yield version directories and ISOs, and
/// the hostile ones offer links that must be (and are) dropped.
#[test]
fn seeds_cover_directories_entries_and_escapes() {
    let index = url::Url::parse(PAGE_URL).unwrap();
    let pattern = VersionPattern::new(r"^(?P<version>[0-9][0-9.]*(?:-[0-9.]+)?)$").unwrap();
    let names = |page: &str| -> Vec<String> {
        dirs::version_dirs(&index, page, &pattern)
            .into_iter()
            .map(|dir| dir.name)
            .collect()
    };
    assert_eq!(
        names(&seed("ubuntu-releases-apache.html")),
        ["26.04", "24.04.1", "24.04", "22.04", "20.04"]
    );
    assert_eq!(
        names(&seed("fedora-releases-apache.html")),
        ["43", "42", "41"]
    );
    // Links in comments, conditional comments, scripts, styles, CDATA sections outside
    // foreign content, text areas, titles and an unterminated comment are no links.
    let hidden = names(&seed("comments-cdata-scripts.html"));
    assert!(hidden.contains(&"24.04".to_owned()), "{hidden:?}");
    for version in [
        "99.99", "98.04", "97.10", "96.04", "95.10", "94.04", "92.04", "91.04", "90.04",
    ] {
        assert!(
            !hidden.contains(&version.to_owned()),
            "{version} in {hidden:?}"
        );
    }
    // Of everything the hostile page links, only plain children of the index are kept:
    // relative, absolute-path, scheme-relative and absolute spellings of one, a fragment
    // dropped; never a parent, sibling, other host, port, scheme or user, an encoded slash,
    // dot-dot or backslash, a query, or an empty segment.
    let escaping = seed("escaping-links.html");
    assert!(links::hrefs(&escaping).hrefs.len() > 25);
    assert_eq!(
        names(&escaping),
        ["33.04", "28.04", "27.10", "24.10", "24.04"]
    );
    let config_entries = |name: &str| {
        let (_, config) = crate::config(&format!(
            "url = \"{PAGE_URL}\"\npattern = '(?P<version>[0-9][0-9A-Za-z.~+-]*?)(?:[-_.](?P<arch>amd64|x86_64|arm64|aarch64))?\\.iso$'\nchecksum = \"none\""
        ));
        repack_watch_html_index::entries_from_page(&config, PAGE_URL, &seed(name)).unwrap()
    };
    assert_eq!(config_entries("debian-live-apache.html").len(), 3);
    assert!(
        config_entries("escaping-links.html")
            .iter()
            .any(|entry| entry.url.host_str() == Some("cdn.example")),
        "a download page may link ISOs on another host"
    );
}
