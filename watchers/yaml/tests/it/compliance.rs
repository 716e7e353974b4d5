//! The registry's compliance suite over an Alpine-shaped `latest-releases.yaml`.

use repack_core::Arch;
use repack_testkit::feed::{FeedServer, Reply};
use repack_watch::compliance::{Fixture, Release, run};

struct AlpineShaped;

impl Fixture for AlpineShaped {
    fn kind(&self) -> &'static str {
        "yaml"
    }

    fn serve(&self, server: &FeedServer, releases: &[Release]) -> String {
        server.clear();
        let mut text = String::from("---\n");
        for release in releases {
            let arch = match release.arch {
                Arch::X86_64 => "x86_64",
                Arch::Arm64 => "aarch64",
            };
            let iso = format!("alpine-extended-{}-{arch}.iso", release.version);
            text.push_str(&format!(
                "-\n  title: \"Extended\"\n  desc: \"Most common used packages included.\n    Runs from RAM.\"\n  \
                 profile: extended\n  date: 2025-07-15\n  time: 08:33:57\n  arch: {arch}\n  flavor: alpine-extended\n  \
                 version: {version}\n  file: {iso}\n  iso: {iso}\n  size: 1034944512\n  sha256: {sha}\n",
                version = release.version,
                sha = release.sha256
            ));
            text.push_str(&format!(
                "-\n  title: \"Netboot\"\n  profile: netboot\n  arch: {arch}\n  flavor: alpine-netboot\n  \
                 version: \"{}\"\n  file: alpine-netboot-{}-{arch}.tar.gz\n  size: 1\n  sha256: {}\n",
                release.version,
                release.version,
                "0".repeat(64)
            ));
        }
        if releases.is_empty() {
            text.push_str("[]\n");
        }
        server.put(
            "/releases/latest-releases.yaml",
            Reply::with_type("application/x-yaml", text.into_bytes()),
        );
        format!(
            "url = \"{}releases/latest-releases.yaml\"\n\
             fields = {{ url = \"iso\", sha256 = \"sha256\", size = \"size\", date = \"date\", arch = \"arch\" }}\n\
             filter = {{ flavor = \"alpine-extended\" }}",
            server.base()
        )
    }
}

#[tokio::test]
async fn alpine_shaped_document_passes_the_compliance_suite() {
    run(&AlpineShaped).await;
}
