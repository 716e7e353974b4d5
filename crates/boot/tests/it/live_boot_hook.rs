//! Runs `9999-repack.sh` under busybox sh, the shell of Debian's initrds, against a local
//! HTTP server: parts are fetched in order, joined and checked; failures print the one line.

use crate::support::{Release, release, serve};
use repack_boot::render_rootfs_list;
use std::path::PathBuf;
use std::process::Command;

const APPLETS: &[&str] = &[
    "sh",
    "wget",
    "sha256sum",
    "wc",
    "cat",
    "mv",
    "rm",
    "mkdir",
    "echo",
];

struct HookRun {
    success: bool,
    console: String,
    mounts: String,
    medium: PathBuf,
    _sandbox: tempfile::TempDir,
}

/// Runs the hook the way live-boot does: source every component, then call do_httpmount.
fn run_hook(list: &str, fetch: &str) -> HookRun {
    let busybox = which("busybox");
    let sandbox = tempfile::tempdir().unwrap();
    let bin = sandbox.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    for applet in APPLETS {
        std::os::unix::fs::symlink(&busybox, bin.join(applet)).unwrap();
    }
    let hook = sandbox.path().join("9999-repack.sh");
    std::fs::write(&hook, repack_boot_hook()).unwrap();
    let list_path = sandbox.path().join("rootfs.list");
    std::fs::write(&list_path, list).unwrap();
    let medium = sandbox.path().join("run/live/medium");
    let console = sandbox.path().join("console");
    std::fs::write(&console, "").unwrap();
    let mounts = sandbox.path().join("mounts");
    // live-boot's interface: these variables are set by 0001-init-vars.sh and the cmdline.
    let script = format!(
        r#"
mount () {{ echo "mount $*" >> "{mounts}"; }}
umount () {{ echo "umount $*" >> "{mounts}"; }}
mountpoint="{medium}"
LIVE_MEDIA_PATH=live
FETCH="{fetch}"
. "{hook}"
do_httpmount
"#,
        mounts = mounts.display(),
        medium = medium.display(),
        hook = hook.display(),
    );
    let status = Command::new(&busybox)
        .arg("sh")
        .arg("-c")
        .arg(script)
        .env_clear()
        .env("PATH", &bin)
        .env("REPACK_LIST", &list_path)
        .env("REPACK_CONSOLE", &console)
        .status()
        .unwrap();
    HookRun {
        success: status.success(),
        console: std::fs::read_to_string(&console).unwrap(),
        mounts: std::fs::read_to_string(&mounts).unwrap_or_default(),
        medium,
        _sandbox: sandbox,
    }
}

fn repack_boot_hook() -> &'static str {
    repack_boot::live_boot::HOOK
}

fn which(tool: &str) -> PathBuf {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join(tool))
        .find(|path| path.is_file())
        .unwrap_or_else(|| panic!("`{tool}` is not installed (apt-get install busybox-static)"))
}

async fn blocking<T: Send + 'static>(job: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(job).await.unwrap()
}

fn assert_images_match(run: &HookRun, release: &Release) {
    for (name, data) in &release.originals {
        let got = std::fs::read(run.medium.join("live").join(name)).unwrap();
        assert!(got == *data, "{name} differs after joining its parts");
    }
    assert!(!run.medium.join("live/.repack-part").exists());
}

#[tokio::test]
async fn fetches_every_part_of_every_image_and_joins_them() {
    let release = release(
        &[("filesystem.squashfs", 10_000), ("extra.squashfs", 2_500)],
        4096,
    );
    assert_eq!(release.files[0].parts.len(), 3);
    let port = serve(release.dir.path().to_owned()).await;
    let list = render_rootfs_list(&release.files).unwrap();
    let fetch = format!("http://127.0.0.1:{port}/rel/filesystem.squashfs");
    let run = blocking(move || run_hook(&list, &fetch)).await;
    assert!(run.success, "hook failed: {}", run.console);
    assert_images_match(&run, &release);
    // One tmpfs sized for 12,500 bytes of images + the largest part (4096) + 16 MiB.
    assert!(
        run.mounts.contains(&format!(
            "-t tmpfs -o size={},mode=0755",
            12_500 + 4096 + 16_777_216
        )),
        "{}",
        run.mounts
    );
    assert!(
        run.console
            .contains("repack: fetching 12500 bytes in 4 part(s)")
    );
}

#[tokio::test]
async fn follows_redirects() {
    let release = release(&[("filesystem.squashfs", 5_000)], 4096);
    let port = serve(release.dir.path().to_owned()).await;
    let list = render_rootfs_list(&release.files).unwrap();
    let fetch = format!("http://127.0.0.1:{port}/moved/filesystem.squashfs");
    let run = blocking(move || run_hook(&list, &fetch)).await;
    assert!(run.success, "hook failed: {}", run.console);
    assert_images_match(&run, &release);
}

#[tokio::test]
async fn corrupted_part_stops_with_one_clear_line_and_unmounts() {
    let release = release(&[("filesystem.squashfs", 10_000)], 4096);
    let part2 = release.dir.path().join("filesystem.squashfs.part2");
    let mut bytes = std::fs::read(&part2).unwrap();
    bytes[100] ^= 0xff;
    std::fs::write(&part2, bytes).unwrap();
    let port = serve(release.dir.path().to_owned()).await;
    let list = render_rootfs_list(&release.files).unwrap();
    let fetch = format!("http://127.0.0.1:{port}/rel/filesystem.squashfs");
    let run = blocking(move || run_hook(&list, &fetch)).await;
    assert!(!run.success);
    let url = format!("http://127.0.0.1:{port}/rel/filesystem.squashfs.part2");
    let line = run
        .console
        .lines()
        .find(|line| line.contains("mismatch"))
        .unwrap_or_else(|| panic!("no failure line in {:?}", run.console));
    assert!(line.starts_with("repack: sha256 mismatch"), "{line}");
    assert!(line.ends_with(&url), "{line}");
    assert!(run.mounts.contains("umount"), "{}", run.mounts);
}

#[tokio::test]
async fn missing_part_is_a_download_failure_naming_the_url() {
    let release = release(&[("filesystem.squashfs", 10_000)], 4096);
    std::fs::remove_file(release.dir.path().join("filesystem.squashfs.part3")).unwrap();
    let port = serve(release.dir.path().to_owned()).await;
    let list = render_rootfs_list(&release.files).unwrap();
    let fetch = format!("http://127.0.0.1:{port}/rel/filesystem.squashfs");
    let run = blocking(move || run_hook(&list, &fetch)).await;
    assert!(!run.success);
    let url = format!("http://127.0.0.1:{port}/rel/filesystem.squashfs.part3");
    assert!(
        run.console
            .contains(&format!("repack: download failed {url}")),
        "{}",
        run.console
    );
}

#[tokio::test]
async fn truncated_part_is_a_size_mismatch() {
    let release = release(&[("filesystem.squashfs", 10_000)], 4096);
    let part = release.dir.path().join("filesystem.squashfs");
    let bytes = std::fs::read(&part).unwrap();
    std::fs::write(&part, &bytes[..1000]).unwrap();
    let port = serve(release.dir.path().to_owned()).await;
    let list = render_rootfs_list(&release.files).unwrap();
    let fetch = format!("http://127.0.0.1:{port}/rel/filesystem.squashfs");
    let run = blocking(move || run_hook(&list, &fetch)).await;
    assert!(!run.success);
    assert!(
        run.console
            .contains("repack: size mismatch (1000 bytes, expected 4096)"),
        "{}",
        run.console
    );
}
