//! The fuzz harness of the HTML index parser, shared by `fuzz/fuzz_targets/html_index.rs`
//! and the test that replays the committed corpus (`tests/it/corpus.rs`). Errors are
//! expected; panics, and results that break what the parser promises, are the bugs it
//! looks for. Not a stable API.
//!
//! One input is taken as a page at [`PAGE_URL`] and read three ways: its links
//! ([`links::hrefs`]), its ISO entries ([`entries_from_page`]) and its version directories
//! ([`dirs::version_dirs`]). What must hold whatever the page says:
//! - links are distinct, trimmed, neither empty nor fragment-only, at most
//!   [`links::MAX_LINKS`];
//! - an entry is an http(s) URL without fragment, once, whose decoded last segment is its
//!   name and matches the pattern with the entry's version; a page without links is an
//!   error, never an empty success;
//! - a version directory is a direct child of the index (one plain segment, then `/`) or
//!   it is dropped: no link leaves the index, whatever `..`, `%2F`, backslash, scheme or host
//!   it uses; directories come newest first.

use crate::{Config, entries_from_page};
use repack_core::Version;
use repack_watch_common::{ChecksumSetting, VersionPattern, dirs, links, urls};
use std::collections::HashSet;
use std::sync::OnceLock;
use url::Url;

/// Where every input page is taken to be: an index of version directories.
pub const PAGE_URL: &str = "https://mirror.example/pub/releases/";

/// File names of ISOs as Ubuntu, Debian, Fedora, Arch and Manjaro spell them.
const PATTERN: &str =
    r"(?P<version>[0-9][0-9A-Za-z.~+-]*?)(?:[-_.](?P<arch>amd64|x86_64|arm64|aarch64))?\.iso$";

/// Version directories (`24.04.1`, `2026.12.01`, `43`, `42-1.1`).
const DIR_PATTERN: &str = r"^(?P<version>[0-9][0-9.]*(?:-[0-9.]+)?)$";

fn config() -> &'static Config {
    static CONFIG: OnceLock<Config> = OnceLock::new();
    CONFIG.get_or_init(|| Config {
        url: PAGE_URL.to_owned(),
        pattern: VersionPattern::new(PATTERN).expect("constant pattern"),
        dir_pattern: Some(VersionPattern::new(DIR_PATTERN).expect("constant pattern")),
        max_dirs: 2,
        checksum: ChecksumSetting::None,
    })
}

/// HTML-index input: any bytes, read as (lossy) UTF-8 text.
pub fn html_index(data: &[u8]) {
    let page = String::from_utf8_lossy(data);
    let config = config();

    let links = links::hrefs(&page);
    assert!(links.hrefs.len() <= links::MAX_LINKS);
    let mut seen = HashSet::new();
    for href in &links.hrefs {
        assert!(!href.is_empty() && !href.starts_with('#'), "{href:?}");
        assert_eq!(href.trim(), href);
        assert!(seen.insert(href.as_str()), "{href:?} twice");
    }

    match entries_from_page(config, PAGE_URL, &page) {
        Ok(entries) => {
            assert!(
                !links.hrefs.is_empty(),
                "a page without links must be an error"
            );
            assert!(entries.len() <= links.hrefs.len());
            let mut urls_seen = HashSet::new();
            for entry in &entries {
                assert!(
                    matches!(entry.url.scheme(), "http" | "https"),
                    "{}",
                    entry.url
                );
                assert_eq!(entry.url.fragment(), None);
                assert_eq!(
                    urls::file_name(&entry.url).as_deref(),
                    Some(entry.name.as_str())
                );
                let (version, arch) = config
                    .pattern
                    .captures(&entry.name)
                    .expect("an entry's name matches the pattern");
                assert_eq!(version, entry.version);
                assert_eq!(arch, entry.upstream_arch);
                assert!(
                    urls_seen.insert(entry.url.to_string()),
                    "{} twice",
                    entry.url
                );
            }
        }
        Err(error) => assert!(
            matches!(error.kind(), "feed-empty" | "feed-too-many"),
            "{error}"
        ),
    }

    let index = Url::parse(PAGE_URL).expect("constant URL");
    let pattern = config.dir_pattern.as_ref().expect("a directory pattern");
    let found = dirs::version_dirs(&index, &page, pattern);
    for dir in &found {
        let rest = dir
            .url
            .as_str()
            .strip_prefix(PAGE_URL)
            .unwrap_or_else(|| panic!("{} is not under the index", dir.url));
        let segment = rest
            .strip_suffix('/')
            .unwrap_or_else(|| panic!("{} is not a directory", dir.url));
        assert!(!segment.is_empty() && !segment.contains('/'), "{}", dir.url);
        assert_eq!(dir.url.query(), None);
        assert_eq!(dir.url.fragment(), None);
        assert_eq!(
            urls::decode_segment(segment).as_deref(),
            Some(dir.name.as_str())
        );
        let (version, _) = pattern.captures(&dir.name).expect("matches the pattern");
        assert_eq!(version, dir.version);
    }
    for pair in found.windows(2) {
        assert!(
            Version::new(pair[0].version.as_str()) >= Version::new(pair[1].version.as_str()),
            "{} before {}",
            pair[0].version,
            pair[1].version
        );
    }
}
