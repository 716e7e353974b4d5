//! Test support: a server on 127.0.0.1 over a fresh catalogue (either backend), signed
//! deliveries, and consistent manifests to seed the catalogue with.

use hmac::{Hmac, KeyInit, Mac};
use repack_catalog::{Catalog, NewBuild};
use repack_core::{
    Arch, BootFamilyKind, BuildKey, FORMAT_VERSION, FileRole, Manifest, ManifestFile, ManifestPart,
    Sha256Digest, SourceIso,
};
use repack_queue::{JobRecord, Queue};
use repack_server::webhooks::WebhookSecret;
use repack_server::{Server, ServerSettings, Triggers, WebhookSecrets, status};
use repack_testkit::database::{TestBackend, TestDatabase};
use tempfile::TempDir;
use tokio_util::sync::CancellationToken;

pub const GITHUB_SECRET: &str = "It's a Secret to Everybody";
pub const GITLAB_TOKEN: &str = "gitlab-shared-token-0123";
pub const FORGEJO_SECRET: &str = "forgejo-secret-4567";
pub const PUBLIC_URL: &str = "http://boot.test/repack";

/// A running server; stopped when dropped.
pub struct TestServer {
    pub url: String,
    pub catalog: Catalog,
    pub queue: Queue,
    pub output: TempDir,
    pub http: reqwest::Client,
    shutdown: CancellationToken,
    _db: TestDatabase,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// The triggers every test uses: a GitHub repository watched by two recipes, a GitLab
/// project and a Forgejo repository by one each.
pub fn triggers() -> Triggers {
    let mut triggers = Triggers::default();
    triggers.add(
        repack_server::webhooks::Forge::GitHub,
        "example-os/live-iso",
        "example-live",
    );
    triggers.add(
        repack_server::webhooks::Forge::GitHub,
        "Example-OS/Live-ISO",
        "example-live-lts",
    );
    triggers.add(
        repack_server::webhooks::Forge::GitLab,
        "archlinux/releng",
        "arch-live",
    );
    triggers.add(
        repack_server::webhooks::Forge::Forgejo,
        "fedora/kiwi",
        "fedora-live",
    );
    triggers
}

pub async fn start(backend: TestBackend) -> TestServer {
    start_with(backend, |_| {}).await
}

/// A server with every forge configured; `adjust` may change the settings first.
pub async fn start_with(
    backend: TestBackend,
    adjust: impl FnOnce(&mut ServerSettings),
) -> TestServer {
    let db = TestDatabase::fresh(backend).await;
    let catalog = Catalog::open(db.url())
        .await
        .unwrap_or_else(|error| panic!("open a fresh catalogue on {backend}: {error:?}"));
    let queue = Queue::new(catalog.database().clone());
    let output = tempfile::tempdir().unwrap();
    let mut settings = ServerSettings {
        public_url: PUBLIC_URL.to_owned(),
        output_dir: output.path().to_owned(),
        secrets: WebhookSecrets {
            github: WebhookSecret::new(GITHUB_SECRET.as_bytes().to_vec()).ok(),
            gitlab: WebhookSecret::new(GITLAB_TOKEN.as_bytes().to_vec()).ok(),
            forgejo: WebhookSecret::new(FORGEJO_SECRET.as_bytes().to_vec()).ok(),
        },
        triggers: triggers(),
        recipes: vec![status::KnownRecipe {
            id: "never-checked".to_owned(),
            name: "Never Checked".to_owned(),
        }],
        stale_after: status::DEFAULT_STALE_AFTER,
    };
    adjust(&mut settings);
    let server = Server::new(catalog.clone(), queue.clone(), settings);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let shutdown = CancellationToken::new();
    {
        let shutdown = shutdown.clone();
        tokio::spawn(async move { server.serve(listener, shutdown).await.unwrap() });
    }
    TestServer {
        url,
        catalog,
        queue,
        output,
        http: reqwest::Client::new(),
        shutdown,
        _db: db,
    }
}

impl TestServer {
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .unwrap()
    }

    pub async fn jobs(&self) -> Vec<JobRecord> {
        self.queue.jobs(None).await.unwrap()
    }

    /// Records `manifest` as published and current.
    pub async fn publish(&self, manifest: Manifest) {
        let location = format!("{}/{}", manifest.recipe, manifest.tag);
        self.catalog
            .publish_build(&NewBuild::new(manifest, location))
            .await
            .unwrap();
    }
}

/// `sha256=<hex HMAC-SHA256 of body>`: GitHub's `X-Hub-Signature-256`.
pub fn github_signature(secret: &str, body: &[u8]) -> String {
    format!("sha256={}", hmac_hex(secret, body))
}

/// Hex HMAC-SHA256 of `body`: Forgejo's and Gitea's signature headers.
pub fn hmac_hex(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

fn file(name: &str, role: FileRole, size: u64) -> ManifestFile {
    let sha256 = Sha256Digest::of(name.as_bytes());
    let parts = if size > 1 << 30 {
        vec![
            ManifestPart {
                name: name.to_owned(),
                size: 1 << 30,
                sha256,
                url: None,
            },
            ManifestPart {
                name: format!("{name}.part2"),
                size: size - (1 << 30),
                sha256,
                url: None,
            },
        ]
    } else {
        vec![ManifestPart {
            name: name.to_owned(),
            size,
            sha256,
            url: None,
        }]
    };
    ManifestFile {
        name: name.to_owned(),
        role,
        size,
        sha256: Some(sha256),
        parts,
    }
}

/// A self-consistent manifest of `recipe` `version` on `arch`: kernel, initrd and a root
/// image of `rootfs_bytes` (split in two parts above 1 GiB).
pub fn manifest(recipe: &str, arch: Arch, version: &str, rootfs_bytes: u64) -> Manifest {
    let iso_sha256 = Sha256Digest::of(format!("{recipe} {version} {arch}").as_bytes());
    let recipe_hash = Sha256Digest::of(format!("recipe {recipe}").as_bytes());
    let key = BuildKey::new(iso_sha256, recipe_hash);
    Manifest {
        format_version: FORMAT_VERSION,
        recipe: recipe.to_owned(),
        name: format!("{recipe} (test)"),
        os: "debian".to_owned(),
        recipe_hash,
        build_key: key.id(),
        version: version.to_owned(),
        arch,
        tag: key.tag(version),
        boot_family: BootFamilyKind::LiveBoot,
        cmdline: "boot=live fetch={base}/filesystem.squashfs".to_owned(),
        ram_mib: 2048,
        source: SourceIso {
            url: format!("https://cdimage.example/{recipe}-{version}.iso"),
            sha256: iso_sha256,
            size: rootfs_bytes + (60 << 20),
        },
        files: vec![
            file("vmlinuz", FileRole::Kernel, 8 << 20),
            file("initrd.img", FileRole::Initrd, 40 << 20),
            file("filesystem.squashfs", FileRole::Rootfs, rootfs_bytes),
        ],
        repack_version: "0.1.0".to_owned(),
    }
}
