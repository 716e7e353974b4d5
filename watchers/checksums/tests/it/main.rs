//! Integration tests of the `checksums` watcher against a checksum list served by
//! tower-http's `ServeDir` on 127.0.0.1.
//!
//! Modules:
//! - `lists`: matching, versions, digests, URL resolution (also through a mirror rewrite).
//! - `refusals`: HTML with status 200, empty list, 404, malformed list, escaping names, size cap.

mod lists;
mod refusals;

use axum::Router;
use repack_core::{MirrorRewrite, Recipe};
use repack_fetch::{FetchConfig, Fetcher};
use std::path::Path;
use std::time::Duration;
use tower_http::services::ServeDir;

pub const STANDARD: &str = r"^debian-live-(?P<version>[0-9.]+)-amd64-standard\.iso$";

/// Serves a directory of files on 127.0.0.1 and fetches through a mirror rewrite from
/// `https://upstream.invalid/` to it, as operators and the end-to-end tests do.
pub struct Upstream {
    pub root: tempfile::TempDir,
    pub base: String,
    pub cache: tempfile::TempDir,
    pub fetcher: Fetcher,
}

pub const UPSTREAM: &str = "https://upstream.invalid/";

impl Upstream {
    pub async fn start() -> Upstream {
        let root = tempfile::tempdir().unwrap();
        let app = Router::new().fallback_service(ServeDir::new(root.path()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}/", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let cache = tempfile::tempdir().unwrap();
        let mut config = FetchConfig::new(cache.path());
        config.retries = 0;
        config.read_timeout = Duration::from_secs(5);
        config.rewrites = vec![MirrorRewrite {
            from: UPSTREAM.to_owned(),
            to: base.clone(),
        }];
        let fetcher = Fetcher::new(config).unwrap();
        Upstream {
            root,
            base,
            cache,
            fetcher,
        }
    }

    pub fn put(&self, path: &str, contents: &str) {
        let path = self.root.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }
}

pub fn recipe(url: &str, pattern: &str) -> Recipe {
    let text = format!(
        r#"id = "debian-live"
name = "Debian Live"
os = "debian"
arch = "x86_64"
schedule = "0 4 * * *"
boot = "live-boot"

[watch]
kind = "checksums"
url = "{url}"
pattern = '{pattern}'

[iso]
kernel = "live/vmlinuz"
initrd = "live/initrd.img"
rootfs = ["live/filesystem.squashfs"]
"#
    );
    Recipe::from_toml(&text, Path::new("debian-live.toml")).unwrap()
}

pub fn hex(c: char) -> String {
    c.to_string().repeat(64)
}
