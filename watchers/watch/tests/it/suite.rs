//! The compliance suite itself can fail: fixtures of deliberately broken feeds are caught.

use repack_core::{Arch, Sha256Digest};
use repack_testkit::feed::{FeedServer, Reply};
use repack_watch::compliance::{Fixture, Release, run};

/// A checksum-list feed with a configurable defect.
struct Broken {
    /// Every file gets the digest of the release listed after it.
    shifted_digests: bool,
    /// Every file is spelled `amd64`, whatever its architecture.
    one_arch_name: bool,
}

impl Fixture for Broken {
    fn kind(&self) -> &'static str {
        "checksums"
    }

    fn serve(&self, server: &FeedServer, releases: &[Release]) -> String {
        server.clear();
        let mut list = String::new();
        for (index, release) in releases.iter().enumerate() {
            let digest = if self.shifted_digests {
                releases
                    .get(index + 1)
                    .map_or(Sha256Digest::of(b"last"), |next| next.sha256)
            } else {
                release.sha256
            };
            let arch = match (self.one_arch_name, release.arch) {
                (true, _) | (false, Arch::X86_64) => "amd64",
                (false, Arch::Arm64) => "arm64",
            };
            list.push_str(&format!("{digest}  os-{}-{arch}.iso\n", release.version));
        }
        server.put("/SHA256SUMS", Reply::text(list));
        format!(
            "url = \"{}SHA256SUMS\"\npattern = '^os-(?P<version>[0-9][0-9A-Za-z.~-]*)-(?P<arch>amd64|arm64)\\.iso$'",
            server.base()
        )
    }
}

#[tokio::test]
async fn a_correct_feed_passes() {
    run(&Broken {
        shifted_digests: false,
        one_arch_name: false,
    })
    .await;
}

#[tokio::test]
#[should_panic(expected = "the digest is not the one listed")]
async fn digests_attached_to_the_wrong_file_are_caught() {
    run(&Broken {
        shifted_digests: true,
        one_arch_name: false,
    })
    .await;
}

#[tokio::test]
#[should_panic(expected = "compliance `other architectures`")]
async fn a_feed_that_hides_the_architecture_is_caught() {
    run(&Broken {
        shifted_digests: false,
        one_arch_name: true,
    })
    .await;
}
