//! The registry's compliance suite over a Fedora-shaped `releases.json`.

use repack_core::Arch;
use repack_testkit::feed::{FeedServer, Reply};
use repack_watch::compliance::{Fixture, Release, run};

struct FedoraShaped;

impl Fixture for FedoraShaped {
    fn kind(&self) -> &'static str {
        "json"
    }

    fn serve(&self, server: &FeedServer, releases: &[Release]) -> String {
        server.clear();
        let mut entries = Vec::new();
        for release in releases {
            let arch = match release.arch {
                Arch::X86_64 => "x86_64",
                Arch::Arm64 => "aarch64",
            };
            let name = format!("Fedora-Workstation-Live-{}.{arch}.iso", release.version);
            let link = format!(
                "https://download.example/pub/fedora/linux/releases/{}/Workstation/{arch}/iso/{name}",
                release.version
            );
            entries.push(serde_json::json!({
                "version": release.version, "arch": arch, "link": link, "variant": "Workstation",
                "subvariant": "Workstation", "sha256": release.sha256.to_hex(), "size": "2398523392",
            }));
            // A decoy of another edition with the same version must not count.
            entries.push(serde_json::json!({
                "version": release.version, "arch": arch, "variant": "Server", "subvariant": "Server",
                "link": format!("https://download.example/Fedora-Server-dvd-{arch}-{}.iso", release.version),
                "sha256": "0".repeat(64), "size": "1",
            }));
        }
        let body = serde_json::to_string_pretty(&entries).unwrap();
        server.put("/releases.json", Reply::json(body));
        format!(
            "url = \"{}releases.json\"\n\
             fields = {{ url = \"link\", sha256 = \"sha256\", size = \"size\", arch = \"arch\" }}\n\
             filter = {{ variant = \"Workstation\" }}",
            server.base()
        )
    }
}

#[tokio::test]
async fn fedora_shaped_document_passes_the_compliance_suite() {
    run(&FedoraShaped).await;
}
