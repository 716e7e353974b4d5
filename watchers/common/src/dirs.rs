//! Walking an index of version directories, as Ubuntu (`releases/24.04/`, `24.04.1/`,
//! `26.04/`, with codename symlinks like `noble/` beside them) and Arch (`iso/2026.12.01/`)
//! publish them.
//!
//! [`version_dirs`] reads the links of the index page, keeps those naming a direct child
//! directory (`<name>/`) whose name matches the recipe's `dir_pattern`, and orders them
//! newest first by the pattern's `version` group, so a kind reads only the newest few.

use crate::{VersionPattern, links, urls};
use repack_core::Version;
use url::Url;

/// Most version directories a recipe may ask a kind to read in one check.
pub const MAX_DIRS: usize = 16;

/// Version directories read when the recipe does not say (`max_dirs`): the newest and the
/// one before, so a release directory that is not complete yet does not hide the last
/// good one.
pub const DEFAULT_DIRS: usize = 2;

/// One version directory of an index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionDir {
    /// The directory's name as listed, without the slash (`24.04.1`).
    pub name: String,
    /// The `version` group of `dir_pattern`.
    pub version: String,
    /// The directory's URL, ending in `/`.
    pub url: Url,
}

/// The version directories linked from the index page `html` at `index`, newest first
/// (ties keep page order). Links elsewhere (parents, sort links, files, other hosts) and
/// names that do not match are ignored.
pub fn version_dirs(index: &Url, html: &str, pattern: &VersionPattern) -> Vec<VersionDir> {
    let index = urls::as_directory(index);
    let mut dirs = Vec::new();
    for href in links::hrefs(html).hrefs {
        let Some(url) = urls::resolve_link(&index, &href) else {
            continue;
        };
        if url.query().is_some() || !url.path().ends_with('/') {
            continue;
        }
        let Some(rest) = url.as_str().strip_prefix(index.as_str()) else {
            continue;
        };
        let Some(segment) = rest.strip_suffix('/') else {
            continue;
        };
        let Some(name) = urls::decode_segment(segment) else {
            continue;
        };
        let Some((version, _)) = pattern.captures(&name) else {
            continue;
        };
        if dirs.iter().any(|dir: &VersionDir| dir.url == url) {
            continue;
        }
        dirs.push(VersionDir { name, version, url });
    }
    dirs.sort_by(|a, b| Version::new(b.version.as_str()).cmp(&Version::new(a.version.as_str())));
    dirs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_matching_child_directories_newest_first() {
        let index = Url::parse("https://releases.example/ubuntu").unwrap();
        let page = r#"<html><body><pre>
<a href="../">../</a>
<a href="?C=M;O=A">Last modified</a>
<a href="22.04/">22.04/</a>
<a href="24.04.9/">24.04.9/</a>
<a href="24.04.10/">24.04.10/</a>
<a href="noble/">noble/</a>
<a href="https://elsewhere.example/ubuntu/26.04/">26.04/</a>
<a href="/ubuntu/26.04/">26.04/</a>
<a href="24.04/sub/">x</a>
<a href="HEADER.html">HEADER.html</a>
</pre></body></html>"#;
        let pattern = VersionPattern::new(r"^(?P<version>[0-9]+\.[0-9]+(?:\.[0-9]+)?)$").unwrap();
        let dirs = version_dirs(&index, page, &pattern);
        let names: Vec<_> = dirs.iter().map(|dir| dir.name.as_str()).collect();
        assert_eq!(names, ["26.04", "24.04.10", "24.04.9", "22.04"]);
        assert_eq!(
            dirs[0].url.as_str(),
            "https://releases.example/ubuntu/26.04/"
        );
    }

    proptest::proptest! {
        #[test]
        fn any_page_yields_only_matching_child_directories(page in "\\PC{0,300}", names in proptest::collection::vec("[0-9a-z./%]{0,8}", 0..20)) {
            let mut html = page;
            for name in &names {
                html.push_str(&format!("<a href=\"{name}\">x</a>"));
            }
            let index = Url::parse("https://r.example/ubuntu/").unwrap();
            let pattern = VersionPattern::new(r"^(?P<version>[0-9.]+)$").unwrap();
            let dirs = version_dirs(&index, &html, &pattern);
            proptest::prop_assert!(dirs.len() <= html.matches("href").count());
            for dir in dirs {
                proptest::prop_assert!(dir.url.as_str().starts_with(index.as_str()));
                proptest::prop_assert!(dir.url.as_str().ends_with('/'));
                proptest::prop_assert!(pattern.captures(&dir.name).is_some());
            }
        }
    }
}
