//! The registry's compliance suite over a repository whose releases carry one ISO per
//! architecture, split over two pages.

use repack_core::Arch;
use repack_testkit::feed::{FeedServer, Reply};
use repack_watch::compliance::{Fixture, Release, run};

struct Repository;

fn release(release: &Release) -> serde_json::Value {
    let arch = match release.arch {
        Arch::X86_64 => "x86_64",
        Arch::Arm64 => "aarch64",
    };
    let tag = format!("v{}", release.version);
    let name = format!("example-os-{}-{arch}.iso", release.version);
    serde_json::json!({
        "tag_name": tag, "name": tag, "draft": false, "prerelease": false,
        "published_at": "2026-11-20T10:06:00Z",
        "assets": [{
            "name": name, "size": 2995781632u64, "state": "uploaded",
            "digest": format!("sha256:{}", release.sha256),
            "browser_download_url": format!("https://github.com/example-os/live-iso/releases/download/{tag}/{name}"),
        }],
    })
}

impl Fixture for Repository {
    fn kind(&self) -> &'static str {
        "github"
    }

    fn serve(&self, server: &FeedServer, releases: &[Release]) -> String {
        server.clear();
        let all: Vec<_> = releases.iter().map(release).collect();
        let (first, second) = all.split_at(all.len() / 2);
        let path = "/repos/example-os/live-iso/releases?per_page=100";
        let next = format!("{}{}&page=2", server.base().trim_end_matches('/'), path);
        server.put(
            path,
            Reply::json(serde_json::to_string(first).unwrap())
                .header("link", format!("<{next}>; rel=\"next\"")),
        );
        server.put(
            &format!("{path}&page=2"),
            Reply::json(serde_json::to_string(second).unwrap()),
        );
        format!(
            "repo = \"example-os/live-iso\"\napi = \"{}\"\ntag_pattern = '^v(?P<version>.+)$'\n\
             asset_pattern = '^example-os-.+-(?P<arch>x86_64|aarch64)\\.iso$'",
            server.base()
        )
    }
}

#[tokio::test]
async fn repository_passes_the_compliance_suite() {
    run(&Repository).await;
}
