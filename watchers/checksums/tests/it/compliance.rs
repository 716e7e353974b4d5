//! The registry's compliance suite over two shapes: one flat list (Debian) and version
//! directories each with its own list (Ubuntu).

use repack_core::Arch;
use repack_testkit::feed::{FeedServer, Reply};
use repack_watch::compliance::{Fixture, Release, run};

fn spell(arch: Arch) -> &'static str {
    match arch {
        Arch::X86_64 => "amd64",
        Arch::Arm64 => "arm64",
    }
}

const VERSION: &str = "[0-9][0-9A-Za-z.~-]*";

struct FlatList;

impl Fixture for FlatList {
    fn kind(&self) -> &'static str {
        "checksums"
    }

    fn serve(&self, server: &FeedServer, releases: &[Release]) -> String {
        server.clear();
        let list: String = releases
            .iter()
            .map(|r| {
                format!(
                    "{}  debian-live-{}-{}-standard.iso\n",
                    r.sha256,
                    r.version,
                    spell(r.arch)
                )
            })
            .collect();
        server.put("/debian/SHA256SUMS", Reply::text(list));
        format!(
            "url = \"{}debian/SHA256SUMS\"\npattern = '^debian-live-(?P<version>{VERSION})-(?P<arch>amd64|arm64)-standard\\.iso$'",
            server.base()
        )
    }
}

struct VersionDirectories;

impl Fixture for VersionDirectories {
    fn kind(&self) -> &'static str {
        "checksums"
    }

    fn serve(&self, server: &FeedServer, releases: &[Release]) -> String {
        server.clear();
        let mut index = String::from(
            "<html><body><pre><a href=\"../\">../</a>\n<a href=\"noble/\">noble/</a>\n",
        );
        let mut lists: Vec<(String, String)> = Vec::new();
        for release in releases {
            let line = format!(
                "{} *ubuntu-{}-desktop-{}.iso\n",
                release.sha256,
                release.version,
                spell(release.arch)
            );
            match lists.iter_mut().find(|(v, _)| *v == release.version) {
                Some((_, list)) => list.push_str(&line),
                None => {
                    index.push_str(&format!("<a href=\"{0}/\">{0}/</a>\n", release.version));
                    lists.push((release.version.clone(), line));
                }
            }
        }
        index.push_str("</pre></body></html>\n");
        server.put("/ubuntu/", Reply::html(index));
        for (version, list) in lists {
            server.put(&format!("/ubuntu/{version}/SHA256SUMS"), Reply::text(list));
        }
        format!(
            "url = \"{}ubuntu/\"\ndir_pattern = '^(?P<version>{VERSION})$'\nmax_dirs = 16\n\
             pattern = '^ubuntu-(?P<version>{VERSION})-desktop-(?P<arch>amd64|arm64)\\.iso$'",
            server.base()
        )
    }
}

#[tokio::test]
async fn flat_list_passes_the_compliance_suite() {
    run(&FlatList).await;
}

#[tokio::test]
async fn version_directories_pass_the_compliance_suite() {
    run(&VersionDirectories).await;
}
