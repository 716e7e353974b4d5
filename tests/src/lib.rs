//! End-to-end harness: one [`Env`] per test holds a fresh data directory, output directory,
//! configuration file and an upstream stand-in on 127.0.0.1 that plays Debian's CD mirror;
//! [`Env::repack`] runs the real binary against it through a mirror rewrite.
//!
//! The shipped recipes' other upstreams ([`UPSTREAM_HOSTS`], [`FEED_HOSTS`]) are rewritten
//! too, each to its own directory of a stand-in, so a test serves `https://<host>/<path>` with
//! [`Env::serve`] and the recipe stays as shipped. A recipe that pins a signing key runs with
//! only its pin swapped for a throwaway [`TestKey`] ([`Env::with_recipe_override`],
//! [`Env::trust`]).

use repack_catalog::Catalog;
use repack_core::Arch;
use repack_testkit::feed::FeedServer;
pub use repack_testkit::gpg::TestKey;
use repack_testkit::upstream::{LoggedRequest, Served, Upstream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The upstream prefix the shipped `debian-live` recipe watches; rewritten to the stand-in.
pub const UPSTREAM_PREFIX: &str = "https://cdimage.debian.org/";
/// The upstream of the test-only recipes in `tests/recipes/`; rewritten to the stand-in.
pub const TEST_UPSTREAM_PREFIX: &str = "https://upstream.invalid/";
/// Where Debian publishes live ISOs and their SHA256SUMS, below the prefix.
pub const LIVE_DIR: &str = "/debian-cd/current-live/amd64/iso-hybrid";
/// Part size used by the tests: small enough that the fixture's squashfs is split in three.
pub const TEST_PART_SIZE: u64 = 64 << 20;
/// Hosts the shipped recipes download from (besides Debian's): `https://<host>/` is rewritten
/// to `<upstream stand-in>/<host>/`.
pub const UPSTREAM_HOSTS: [&str; 5] = [
    "releases.ubuntu.com",
    "geo.mirror.pkgbuild.com",
    "manjaro.org",
    "download.manjaro.org",
    "iso.pop-os.org",
];
/// Hosts of APIs whose answer depends on the query string: `https://<host>/` is rewritten to
/// `<feed stand-in>/<host>/` ([`Env::feeds`] answers path *and* query).
pub const FEED_HOSTS: [&str; 1] = ["api.pop-os.org"];

pub struct Env {
    pub upstream: Upstream,
    /// Answers the APIs of [`FEED_HOSTS`].
    pub feeds: FeedServer,
    pub dir: tempfile::TempDir,
}

/// Where the stand-in serves an upstream URL of [`UPSTREAM_HOSTS`] or [`FEED_HOSTS`]:
/// `https://host/a/b?q` is `/host/a/b?q`.
pub fn stand_in_path(url: &str) -> String {
    let rest = url
        .strip_prefix("https://")
        .unwrap_or_else(|| panic!("{url} is not an https URL"));
    let host = rest.split('/').next().unwrap_or_default();
    assert!(
        UPSTREAM_HOSTS.contains(&host) || FEED_HOSTS.contains(&host),
        "{host} is not rewritten to a stand-in; add it to UPSTREAM_HOSTS or FEED_HOSTS"
    );
    format!("/{rest}")
}

/// What a run printed and how it ended.
pub struct Run {
    pub success: bool,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Env {
    /// A fresh environment; `fetch_retries` bounds how long a failing download is retried.
    ///
    /// Recipes are searched in [`Env::recipe_dir`] (empty until a test overrides one), then
    /// the shipped `recipes/`, then `tests/recipes/`; keys only in [`Env::key_dir`].
    pub async fn new(fetch_retries: u32) -> Env {
        let upstream = Upstream::start().await;
        let feeds = FeedServer::start().await;
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = format!(
            r#"data_dir = "{data}"
output_dir = "{out}"
public_url = "http://10.0.2.100"
part_size = {part_size}
recipe_dirs = ["{overrides}", "{recipes}", "{test_recipes}"]
key_dirs = ["{keys}"]
fetch_retries = {fetch_retries}

[[mirror]]
from = "{UPSTREAM_PREFIX}"
to = "{mirror}/"

[[mirror]]
from = "{TEST_UPSTREAM_PREFIX}"
to = "{mirror}/"
"#,
            data = dir.path().join("data").display(),
            out = dir.path().join("out").display(),
            part_size = TEST_PART_SIZE,
            overrides = dir.path().join("recipes").display(),
            keys = dir.path().join("keys").display(),
            recipes = repack_testkit::workspace_root().join("recipes").display(),
            test_recipes = repack_testkit::workspace_root()
                .join("tests/recipes")
                .display(),
            mirror = upstream.url(),
        );
        for host in UPSTREAM_HOSTS {
            config.push_str(&format!(
                "\n[[mirror]]\nfrom = \"https://{host}/\"\nto = \"{}/{host}/\"\n",
                upstream.url()
            ));
        }
        for host in FEED_HOSTS {
            config.push_str(&format!(
                "\n[[mirror]]\nfrom = \"https://{host}/\"\nto = \"{}{host}/\"\n",
                feeds.base()
            ));
        }
        std::fs::write(dir.path().join("repack.toml"), config).expect("config written");
        for sub in ["recipes", "keys", "served"] {
            std::fs::create_dir_all(dir.path().join(sub)).expect("directory created");
        }
        Env {
            upstream,
            feeds,
            dir,
        }
    }

    /// The recipe directory searched before the shipped ones.
    pub fn recipe_dir(&self) -> PathBuf {
        self.dir.path().join("recipes")
    }

    /// The only key directory of the configuration.
    pub fn key_dir(&self) -> PathBuf {
        self.dir.path().join("keys")
    }

    /// Runs the shipped recipe `id` with its pinned fingerprint `from` replaced by `to` (a
    /// [`TestKey`]'s), and nothing else changed: the copy goes to [`Env::recipe_dir`].
    pub fn with_recipe_override(&self, id: &str, from: &str, to: &str) -> PathBuf {
        let shipped = repack_testkit::workspace_root().join(format!("recipes/{id}.toml"));
        let text = std::fs::read_to_string(&shipped).expect("the shipped recipe exists");
        assert_eq!(
            text.matches(from).count(),
            1,
            "{} pins `{from}` exactly once",
            shipped.display()
        );
        let path = self.recipe_dir().join(format!("{id}.toml"));
        std::fs::write(&path, text.replace(from, to)).expect("recipe written");
        path
    }

    /// Puts `key`'s public key in the key directory, named as the key directories name keys
    /// (`<anything>-<FINGERPRINT>.asc`).
    pub fn trust(&self, key: &TestKey) {
        std::fs::write(
            self.key_dir().join(format!("test-{}.asc", key.fingerprint)),
            key.public_key(),
        )
        .expect("key written");
    }

    /// Serves `served` at the upstream URL `url` (a host of [`UPSTREAM_HOSTS`]).
    pub fn serve(&self, url: &str, served: Served) {
        self.upstream.put(&stand_in_path(url), served);
    }

    /// Serves `bytes` at `url` byte for byte (binary signatures, pages).
    pub fn serve_bytes(&self, url: &str, bytes: &[u8]) {
        let file = self.dir.path().join("served").join(
            url.chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '.' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect::<String>(),
        );
        std::fs::write(&file, bytes).expect("served file written");
        self.serve(url, Served::file(file));
    }

    /// The upstream stand-in's requests for the upstream URL `url`.
    pub fn requests_for_url(&self, url: &str) -> Vec<LoggedRequest> {
        self.upstream.requests_for(&stand_in_path(url))
    }

    /// Appends `text` (e.g. a `[github]` table) to the configuration file.
    pub fn append_config(&self, text: &str) {
        let path = self.dir.path().join("repack.toml");
        let mut config = std::fs::read_to_string(&path).expect("configuration readable");
        config.push_str(text);
        std::fs::write(&path, config).expect("configuration written");
    }

    pub fn output_dir(&self) -> PathBuf {
        self.dir.path().join("out")
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn iso_path(version: &str) -> String {
        format!("{LIVE_DIR}/debian-live-{version}-amd64-standard.iso")
    }

    /// Serves `served` as Debian Live `version`, listed in SHA256SUMS with `digest`,
    /// alongside older releases and other flavours that must be ignored.
    pub fn serve_release(&self, version: &str, served: Served, digest: &str) {
        self.upstream.put(&Env::iso_path(version), served);
        let decoy = "0".repeat(64);
        let sums = format!(
            "{decoy}  debian-live-12.8.0-amd64-standard.iso\n\
             {digest}  debian-live-{version}-amd64-standard.iso\n\
             {decoy}  debian-live-{version}-amd64-gnome.iso\n\
             {decoy}  debian-live-12.9.1-amd64-standard.iso\n"
        );
        self.upstream
            .put(&format!("{LIVE_DIR}/SHA256SUMS"), Served::text(sums));
    }

    /// Serves `served` as `<dir>/<name>` and a SHA256SUMS next to it listing it with `digest`
    /// (for the test-only recipes, whose upstream is [`TEST_UPSTREAM_PREFIX`]).
    pub fn serve_listed(&self, dir: &str, name: &str, served: Served, digest: &str) {
        self.upstream.put(&format!("{dir}/{name}"), served);
        self.upstream.put(
            &format!("{dir}/SHA256SUMS"),
            Served::text(format!("{digest}  {name}\n")),
        );
    }

    /// Runs `repack ARGS` with this environment's configuration, off the async runtime.
    pub async fn repack(&self, args: &[&str]) -> Run {
        self.repack_with_env(args, &[]).await
    }

    /// [`Env::repack`] with extra environment variables (e.g. `REPACK_PART_SIZE`).
    pub async fn repack_with_env(&self, args: &[&str], vars: &[(&str, &str)]) -> Run {
        let mut command = Command::new(repack_testkit::repack_binary());
        command.envs(vars.iter().copied());
        command
            .args(args)
            .current_dir(self.dir.path())
            .env("REPACK_CONFIG", self.dir.path().join("repack.toml"))
            .env("REPACK_LOG_FORMAT", "json")
            .env_remove("REPACK_DATA_DIR")
            .env_remove("REPACK_OUTPUT_DIR")
            .env_remove("REPACK_MIRRORS");
        let output: Output = tokio::task::spawn_blocking(move || command.output())
            .await
            .expect("join")
            .expect("repack runs");
        Run {
            success: output.status.success(),
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    pub async fn catalog(&self) -> Catalog {
        let url = format!("sqlite://{}", self.data_dir().join("catalog.db").display());
        Catalog::open(&url).await.expect("catalogue opens")
    }

    /// Asserts that nothing was published: no release directory, no menu, no staging
    /// leftovers, no build in the catalogue.
    pub async fn assert_nothing_published(&self) {
        self.assert_nothing_published_for("debian-live").await;
    }

    /// [`Env::assert_nothing_published`] for the recipe `recipe`.
    pub async fn assert_nothing_published_for(&self, recipe: &str) {
        let out = self.output_dir();
        assert!(!out.join(recipe).exists(), "a release directory appeared");
        assert!(!out.join("menu.ipxe").exists(), "a menu appeared");
        let leftovers = std::fs::read_dir(out.join(".staging"))
            .map(|entries| entries.count())
            .unwrap_or(0);
        assert_eq!(leftovers, 0, "staging directories were left behind");
        let catalog = self.catalog().await;
        assert!(catalog.builds(recipe).await.unwrap().is_empty());
        assert!(
            catalog
                .current(recipe, Arch::X86_64)
                .await
                .unwrap()
                .is_none()
        );
        catalog.close().await;
    }
}

impl Run {
    /// Panics with both streams unless the run succeeded.
    pub fn assert_success(&self) -> &Run {
        assert!(
            self.success,
            "repack failed ({:?})\nstdout:\n{}\nstderr:\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }

    /// Panics unless the run failed with exit code 1 and `needle` in its error output.
    pub fn assert_failure_mentions(&self, needles: &[&str]) -> &Run {
        assert_eq!(
            self.code,
            Some(1),
            "expected a failure\nstdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        let errors = self.error_lines();
        for needle in needles {
            assert!(
                errors.contains(needle),
                "error output lacks `{needle}`:\n{errors}"
            );
        }
        self
    }

    /// The human error report (the `error:`/`caused by:` lines), without the JSON logs.
    pub fn error_lines(&self) -> String {
        self.stderr
            .lines()
            .filter(|line| !line.starts_with('{'))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Lists every file below `dir` with its size and modification time, for "nothing changed".
pub fn snapshot(dir: &Path) -> Vec<(PathBuf, u64, std::time::SystemTime)> {
    let mut entries = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(next) = stack.pop() {
        for entry in std::fs::read_dir(&next).expect("readable") {
            let entry = entry.expect("entry");
            let metadata = entry.metadata().expect("metadata");
            if metadata.is_dir() {
                stack.push(entry.path());
            } else {
                entries.push((
                    entry.path(),
                    metadata.len(),
                    metadata.modified().expect("mtime"),
                ));
            }
        }
    }
    entries.sort();
    entries
}

/// Makes an ISO laid out like the Debian live fixture's (`live/vmlinuz-*`,
/// `live/initrd.img-*`, `live/filesystem.squashfs`) with the fixture's kernel, `initrd` as its
/// initrd and a 1 MiB stand-in root image (not SquashFS), under `work`; returns its path.
pub fn live_iso_with_initrd(work: &Path, initrd: &[u8]) -> PathBuf {
    let (initrd_path, rootfs_path) = (work.join("initrd.in"), work.join("rootfs.in"));
    std::fs::write(&initrd_path, initrd).unwrap();
    std::fs::write(&rootfs_path, vec![0x73; 1 << 20]).unwrap();
    live_iso(work, &initrd_path, &rootfs_path)
}

/// Like [`live_iso_with_initrd`], with the files at `initrd` and `rootfs` (copied in).
pub fn live_iso(work: &Path, initrd: &Path, rootfs: &Path) -> PathBuf {
    let fixture = repack_testkit::fixtures::debian_live();
    let live = work.join("root/live");
    std::fs::create_dir_all(&live).unwrap();
    let kver = &fixture.kernel_version;
    std::fs::copy(&fixture.vmlinuz, live.join(format!("vmlinuz-{kver}"))).unwrap();
    std::fs::copy(initrd, live.join(format!("initrd.img-{kver}"))).unwrap();
    std::fs::copy(rootfs, live.join("filesystem.squashfs")).unwrap();
    let iso = work.join("live.iso");
    let made = Command::new("xorriso")
        .args(["-as", "mkisofs", "-quiet", "-R", "-J", "-o"])
        .arg(&iso)
        .arg(work.join("root"))
        .status()
        .expect("xorriso is installed");
    assert!(made.success(), "xorriso failed");
    iso
}

/// The Debian live fixture's initrd (one zstd member) re-compressed by the real `lz4 -l`, as
/// mkinitramfs's COMPRESS=lz4 makes it, at `work/initrd.lz`.
pub fn fixture_initrd_as_legacy_lz4(work: &Path) -> PathBuf {
    let fixture = repack_testkit::fixtures::debian_live();
    let (cpio, lz4) = (work.join("initrd.cpio"), work.join("initrd.lz"));
    let unzstd = Command::new("zstd")
        .args(["-q", "-d", "-f", "-o"])
        .args([&cpio, &fixture.initrd])
        .status()
        .expect("zstd is installed");
    assert!(unzstd.success());
    let legacy = Command::new("lz4")
        .args(["-q", "-l", "-f"])
        .args([&cpio, &lz4])
        .status()
        .expect("lz4 is installed");
    assert!(legacy.success());
    std::fs::remove_file(&cpio).unwrap();
    lz4
}

/// The file at `path` inside the initrd image `initrd`, read by `repack initrd cat`.
pub fn initrd_file(initrd: &Path, path: &str) -> Vec<u8> {
    let output = Command::new(repack_testkit::repack_binary())
        .args(["initrd", "cat"])
        .arg(initrd)
        .arg(path)
        .output()
        .expect("repack runs");
    assert!(output.status.success(), "{path}: {output:?}");
    output.stdout
}
