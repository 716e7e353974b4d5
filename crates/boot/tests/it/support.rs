//! Shared harness for the hook tests: a published release split into parts, an HTTP server
//! on 127.0.0.1 (with a redirecting path), a fake upstream initrd, and a sandbox root where
//! a hook runs under busybox sh inside `chroot`, in a user + mount + PID namespace so its
//! tmpfs and bind mounts are real (a tmpfs sized too small fails as it would at boot) and
//! vanish with the namespace. `/dev/console` in the sandbox is a plain file the test reads.
//!
//! The kernel's panic is played too: the sandbox's `/proc/sysrq-trigger` is a FIFO (never the
//! host's: `/proc` is not mounted in the sandbox), and a watcher outside the chroot that reads
//! a `c` from it writes the kernel's panic line to the console and kills every process in the
//! namespace at once, as a panic stops everything: nothing a family would do after the hook
//! (search, prompt, boot something else) can run. [`Run::panicked`] says whether it happened.

use axum::Router;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::IntoResponse;
use axum::routing::get;
use repack_boot::{BaseInitrd, BootError, BootPlan};
use repack_core::{FileRole, ManifestFile, ManifestPart, Sha256Digest};
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use tower_http::services::ServeDir;

pub struct Release {
    pub dir: tempfile::TempDir,
    pub files: Vec<ManifestFile>,
    pub originals: Vec<(String, Vec<u8>)>,
}

/// Writes images split into parts of `part_size` bytes, named as the publisher names them.
pub fn release(images: &[(&str, usize)], part_size: usize) -> Release {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    let mut originals = Vec::new();
    for (index, (name, size)) in images.iter().enumerate() {
        let data: Vec<u8> = (0..*size).map(|i| (i * 31 + index * 7) as u8).collect();
        let mut parts = Vec::new();
        for (number, chunk) in data.chunks(part_size).enumerate() {
            let part_name = if number == 0 {
                name.to_string()
            } else {
                format!("{name}.part{}", number + 1)
            };
            std::fs::write(dir.path().join(&part_name), chunk).unwrap();
            parts.push(ManifestPart {
                name: part_name,
                size: chunk.len() as u64,
                sha256: Sha256Digest::of(chunk),
                url: None,
            });
        }
        files.push(ManifestFile {
            name: name.to_string(),
            role: FileRole::Rootfs,
            size: data.len() as u64,
            sha256: Some(Sha256Digest::of(&data)),
            parts,
        });
        originals.push((name.to_string(), data));
    }
    Release {
        dir,
        files,
        originals,
    }
}

impl Release {
    /// Flips one byte of a stored part.
    pub fn corrupt(&self, part: &str) {
        let path = self.dir.path().join(part);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[100] ^= 0xff;
        std::fs::write(&path, bytes).unwrap();
    }

    pub fn remove(&self, part: &str) {
        std::fs::remove_file(self.dir.path().join(part)).unwrap();
    }
}

/// Serves `root` under `/rel/` and redirects `/moved/*` there, on 127.0.0.1.
pub async fn serve(root: PathBuf) -> u16 {
    serve_recording(root).await.0
}

/// The paths a server was asked for, in the order the requests arrived.
pub type Requested = Arc<Mutex<Vec<String>>>;

/// Like [`serve`], and records the path of every request.
pub async fn serve_recording(root: PathBuf) -> (u16, Requested) {
    let requested = Requested::default();
    let log = requested.clone();
    let record = move |request: Request, next: Next| {
        log.lock().unwrap().push(request.uri().path().to_owned());
        next.run(request)
    };
    let app = Router::new()
        .route(
            "/moved/{name}",
            get(
                |axum::extract::Path(name): axum::extract::Path<String>| async move {
                    (
                        StatusCode::FOUND,
                        [(header::LOCATION, format!("/rel/{name}"))],
                    )
                        .into_response()
                },
            ),
        )
        .nest_service("/rel", ServeDir::new(root))
        .layer(axum::middleware::from_fn(record));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (port, requested)
}

pub async fn blocking<T: Send + 'static>(job: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(job).await.unwrap()
}

/// An upstream initrd made of named files.
#[derive(Default)]
pub struct FakeInitrd(pub BTreeMap<String, Vec<u8>>);

impl FakeInitrd {
    pub fn with(mut self, path: &str, contents: impl Into<Vec<u8>>) -> Self {
        self.0.insert(path.to_owned(), contents.into());
        self
    }

    /// A busybox binary whose applet table names `applets`.
    pub fn with_busybox(self, path: &str, applets: &[&str]) -> Self {
        let mut table = b"\x7fELF...[\0[[\0".to_vec();
        for applet in applets {
            table.extend_from_slice(applet.as_bytes());
            table.push(0);
        }
        self.with(path, table)
    }
}

impl BaseInitrd for FakeInitrd {
    fn read_file(&self, path: &str) -> Result<Option<Vec<u8>>, BootError> {
        Ok(self.0.get(path).cloned())
    }
}

/// Busybox applets every sandbox gets (the shell and what the hooks and reconstructions use).
const APPLETS: &[&str] = &[
    "sh",
    "ash",
    "mount",
    "umount",
    "mkdir",
    "ls",
    "mv",
    "rm",
    "dd",
    "cat",
    "echo",
    "wget",
    "sha256sum",
    "stat",
    "touch",
    "printf",
    "grep",
    "sed",
    "rmdir",
    "ln",
    "chmod",
    "test",
    "[",
    "uname",
    "sleep",
    "tr",
    "tail",
    "sha512sum",
];

pub struct Sandbox {
    dir: tempfile::TempDir,
}

pub struct Run {
    pub success: bool,
    /// The hook asked the kernel to panic (SysRq `c`) and everything was stopped there.
    pub panicked: bool,
    pub console: String,
    pub output: String,
}

/// What the sandbox's kernel stand-in writes to the console when it panics.
pub const PANIC_LINE: &str = "Kernel panic - not syncing: sysrq triggered crash";

/// Progress messages the hooks print with the `repack: ` prefix (the boot gate's list,
/// `repack_bootgate::PROGRESS_PREFIXES`); every other `repack: ` line reports a failure.
const PROGRESS: &[&str] = &[
    "fetching ",
    "root filesystem verified",
    "casper will boot from ",
];

impl Run {
    /// The console lines that report a failure: `repack: <what failed> <url>`, and the stop.
    pub fn repack_lines(&self) -> Vec<&str> {
        self.console
            .lines()
            .filter_map(|line| line.strip_prefix("repack: ").map(|rest| (line, rest)))
            .filter(|(_, rest)| !PROGRESS.iter().any(|progress| rest.starts_with(progress)))
            .map(|(line, _)| line)
            .collect()
    }

    /// The console's progress lines (`repack: fetching …`, `repack: root filesystem verified`).
    pub fn progress_lines(&self) -> Vec<&str> {
        self.console
            .lines()
            .filter(|line| {
                line.strip_prefix("repack: ")
                    .is_some_and(|rest| PROGRESS.iter().any(|progress| rest.starts_with(progress)))
            })
            .collect()
    }
}

impl Sandbox {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for sub in [
            "bin", "sbin", "usr/bin", "usr/sbin", "lib", "dev", "proc", "run", "tmp", "etc",
            "conf", "new_root",
        ] {
            std::fs::create_dir_all(root.join(sub)).unwrap();
        }
        std::fs::copy(which("busybox"), root.join("bin/busybox")).unwrap();
        // In /bin and /usr/bin: mkinitcpio's PATH has no /bin (on Arch it is a symlink).
        for applet in APPLETS {
            std::os::unix::fs::symlink("busybox", root.join("bin").join(applet)).unwrap();
            std::os::unix::fs::symlink("/bin/busybox", root.join("usr/bin").join(applet)).unwrap();
        }
        std::fs::write(root.join("dev/console"), "").unwrap();
        std::fs::write(root.join("dev/null"), "").unwrap();
        let fifo = root.join("proc/sysrq-trigger");
        let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(made.success(), "mkfifo {}", fifo.display());
        Sandbox { dir }
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative.trim_start_matches('/'))
    }

    pub fn write(&self, relative: &str, contents: impl AsRef<[u8]>, mode: u32) {
        let path = self.path(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let _ = std::fs::remove_file(&path);
        std::fs::write(&path, contents).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    /// Writes a plan's overlay over the sandbox, as the kernel unpacks it over the base.
    pub fn apply(&self, plan: &BootPlan) {
        for file in &plan.overlay {
            self.write(&file.path, &file.contents, file.mode);
        }
    }

    /// Copies a host binary and the shared libraries it loads (curl for the curl families).
    pub fn install_host_binary(&self, name: &str) {
        let binary = which(name);
        let target = format!("usr/bin/{name}");
        self.write(&target, std::fs::read(&binary).unwrap(), 0o755);
        let ldd = Command::new("ldd").arg(&binary).output().unwrap();
        for line in String::from_utf8_lossy(&ldd.stdout).lines() {
            let path = line
                .split_whitespace()
                .find(|word| word.starts_with('/'))
                .map(Path::new);
            if let Some(path) = path {
                let real = std::fs::canonicalize(path).unwrap();
                self.write(path.to_str().unwrap(), std::fs::read(real).unwrap(), 0o755);
            }
        }
    }

    /// Runs `script` with busybox sh chrooted into the sandbox (working directory `/`), in
    /// its own user, mount and PID namespaces (host /dev/null bound in), with `path` as PATH,
    /// while the kernel stand-in watches `/proc/sysrq-trigger`.
    pub fn run_with_path(&self, script: &str, path: &str) -> Run {
        // The outer shell is PID 1 of the namespace: when it exits, the kernel kills the rest.
        let outer = r#"
busybox mount -o bind /dev/null "$1/dev/null" || exit 90
(
    if read -r key < "$1/proc/sysrq-trigger" && [ "$key" = c ]; then
        echo "$3" >> "$1/dev/console"
        : > "$1/.panicked"
        kill -KILL -1
    fi
) &
cd "$1" && PATH="$4" busybox chroot "$1" /bin/sh -c "cd / && $2"
"#;
        // A hook that neither finishes nor panics (e.g. halted in its fallback loop) is
        // killed after a minute, and the test fails on what it did not print.
        let output = Command::new("timeout")
            .args(["--signal=KILL", "60", "unshare"])
            .args(["--user", "--map-root-user", "--mount", "--pid", "--fork"])
            .arg(which("busybox"))
            .args(["sh", "-c", outer, "outer"])
            .arg(self.dir.path())
            .arg(script)
            .arg(PANIC_LINE)
            .arg(path)
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .output()
            .unwrap();
        Run {
            success: output.status.success(),
            panicked: self.path(".panicked").exists(),
            console: std::fs::read_to_string(self.path("dev/console")).unwrap(),
            output: format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ),
        }
    }
}

impl Sandbox {
    /// [`Sandbox::run_with_path`] with the PATH of initramfs-tools and dracut initrds.
    pub fn run(&self, script: &str) -> Run {
        self.run_with_path(script, "/usr/sbin:/usr/bin:/sbin:/bin")
    }
}

pub fn which(tool: &str) -> PathBuf {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join(tool))
        .find(|path| path.is_file())
        .unwrap_or_else(|| panic!("`{tool}` is not installed (busybox-static, curl, util-linux)"))
}

/// Script text that prints `MOUNTED <dir>` for each dir still a mount point (its device
/// differs from its parent's); busybox has stat but no mountpoint applet.
pub fn still_mounted_check(dirs: &[&str]) -> String {
    dirs.iter()
        .map(|dir| {
            format!(
                r#"if [ -d {dir} ] && [ "$(stat -c %d {dir})" != "$(stat -c %d {dir}/..)" ]; then echo "MOUNTED {dir}"; fi
"#
            )
        })
        .collect()
}
