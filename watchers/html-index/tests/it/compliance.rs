//! The registry's compliance suite over a Manjaro-shaped listing with one `.sha256` per ISO.

use repack_core::Arch;
use repack_testkit::feed::{FeedServer, Reply};
use repack_watch::compliance::{Fixture, Release, run};

struct Listing;

impl Fixture for Listing {
    fn kind(&self) -> &'static str {
        "html-index"
    }

    fn serve(&self, server: &FeedServer, releases: &[Release]) -> String {
        server.clear();
        let mut page = String::from(
            "<html>\n<head><title>Index of /kde/</title></head>\n<body>\n<h1>Index of /kde/</h1><hr><pre><a href=\"../\">../</a>\n",
        );
        for release in releases {
            let arch = match release.arch {
                Arch::X86_64 => "x86_64",
                Arch::Arm64 => "aarch64",
            };
            let name = format!("manjaro-kde-{}-{arch}.iso", release.version);
            page.push_str(&format!(
                "<a href=\"{name}\">{name}</a>    01-Dec-2026 08:46    4563402752\n"
            ));
            page.push_str(&format!(
                "<a href=\"{name}.sha256\">{name}.sha256</a>    01-Dec-2026 08:46    106\n"
            ));
            server.put(
                &format!("/kde/{name}.sha256"),
                Reply::text(format!("{}  {name}\n", release.sha256)),
            );
        }
        page.push_str("</pre><hr></body>\n</html>\n");
        server.put("/kde/", Reply::html(page));
        format!(
            "url = \"{}kde/\"\npattern = '^manjaro-kde-(?P<version>[0-9][0-9A-Za-z.~-]*)-(?P<arch>x86_64|aarch64)\\.iso$'\nchecksum = \"{{name}}.sha256\"",
            server.base()
        )
    }
}

#[tokio::test]
async fn listing_passes_the_compliance_suite() {
    run(&Listing).await;
}
