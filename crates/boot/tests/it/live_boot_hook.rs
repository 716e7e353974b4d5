//! live-boot: the overlay's `9999-repack.sh` inside the initramfs-tools and live-boot
//! reconstruction of `inits/initramfs_tools.rs` (components `/lib/live/boot/????-*` sourced
//! in glob order into one shell, `do_netmount` → `do_httpmount` for `fetch=`, `panic` when it
//! fails), with a real tmpfs, against a local HTTP server: parts are fetched in order, joined
//! and checked; failures print their line and stop the boot.

use crate::inits::assert_stopped_by_panic;
use crate::inits::initramfs_tools::boot_live;
use crate::support::{FakeInitrd, Release, Run, blocking, release, serve};
use repack_boot::{BootInputs, BootPlan, family};
use repack_core::{BootFamilyKind, Sha256Digest};

fn plan(release: &Release) -> BootPlan {
    let base = FakeInitrd::default()
        .with(
            "lib/live/boot/9990-mount-http.sh",
            "do_httpmount () { :; }\n",
        )
        .with_busybox("usr/bin/busybox", &["sh", "sha256sum", "wget"]);
    family(BootFamilyKind::LiveBoot)
        .unwrap()
        .plan(&BootInputs {
            rootfs: &release.files,
            side_files: &[],
            initrd_size: 1 << 20,
            extra_args: &[],
            base: &base,
        })
        .unwrap()
}

/// Boots with `fetch=` pointing below `base_url` (the plan's own command line).
fn run(plan: &BootPlan, base_url: &str) -> Run {
    boot_live(plan, base_url, "")
}

fn image_lines(release: &Release) -> Vec<String> {
    let mut lines: Vec<String> = release
        .originals
        .iter()
        .map(|(name, data)| {
            format!(
                "IMAGE {}  /run/live/medium/live/{name}",
                Sha256Digest::of(data)
            )
        })
        .collect();
    lines.sort();
    lines
}

fn images_seen(run: &Run) -> Vec<String> {
    let mut lines: Vec<String> = run
        .output
        .lines()
        .filter(|line| line.starts_with("IMAGE "))
        .map(str::to_owned)
        .collect();
    lines.sort();
    lines
}

#[tokio::test]
async fn fetches_every_part_of_every_image_and_joins_them_where_live_boot_looks() {
    let release = release(
        &[("filesystem.squashfs", 10_000), ("extra.squashfs", 2_500)],
        4096,
    );
    assert_eq!(release.files[0].parts.len(), 3);
    let plan = plan(&release);
    let port = serve(release.dir.path().to_owned()).await;
    let url = format!("http://127.0.0.1:{port}/rel");
    let run = blocking(move || run(&plan, &url)).await;
    assert!(run.success, "{}\n{}", run.output, run.console);
    assert!(
        !run.output.contains("STOCK do_httpmount RAN"),
        "{}",
        run.output
    );
    assert_eq!(images_seen(&run), image_lines(&release));
    assert!(run.output.contains("SWITCH_ROOT"), "{}", run.output);
    // Progress reaches the console (live-boot's own output goes to boot.log).
    let progress = run.progress_lines();
    assert!(
        progress[0].starts_with("repack: fetching 12500 bytes in 4 part(s)"),
        "{}",
        run.console
    );
    assert_eq!(progress[1], "repack: root filesystem verified");
    assert!(run.repack_lines().is_empty(), "{}", run.console);
    assert!(!run.panicked);
}

#[test]
fn the_component_sorts_after_the_stock_ones_and_needs_no_executable_bit() {
    let release = release(&[("filesystem.squashfs", 1_000)], 4096);
    let plan = plan(&release);
    let hook = &plan.overlay[0];
    assert_eq!(hook.path, "lib/live/boot/9999-repack.sh");
    assert!("9999-repack.sh" > "9990-mount-http.sh" && "9999-repack.sh" > "9990-toram-todisk.sh");
}

#[tokio::test]
async fn follows_redirects() {
    let release = release(&[("filesystem.squashfs", 5_000)], 4096);
    let plan = plan(&release);
    let port = serve(release.dir.path().to_owned()).await;
    let url = format!("http://127.0.0.1:{port}/moved");
    let run = blocking(move || run(&plan, &url)).await;
    assert!(run.success, "{}\n{}", run.output, run.console);
    assert_eq!(images_seen(&run), image_lines(&release));
}

#[tokio::test]
async fn corrupted_part_prints_its_line_and_panics_before_live_boot_does() {
    let release = release(&[("filesystem.squashfs", 10_000)], 4096);
    release.corrupt("filesystem.squashfs.part2");
    let plan = plan(&release);
    let port = serve(release.dir.path().to_owned()).await;
    let url = format!("http://127.0.0.1:{port}/rel");
    let run = blocking(move || run(&plan, &url)).await;
    assert!(!run.success);
    assert_stopped_by_panic(&run);
    assert!(
        !run.output.contains("Unable to find a live file system"),
        "{}",
        run.output
    );
    let lines = run.repack_lines();
    assert!(
        lines[0].starts_with("repack: sha256 mismatch"),
        "{}",
        lines[0]
    );
    assert!(
        lines[0].ends_with(&format!(
            "http://127.0.0.1:{port}/rel/filesystem.squashfs.part2"
        )),
        "{}",
        lines[0]
    );
}

#[tokio::test]
async fn missing_part_is_a_download_failure_naming_the_url() {
    let release = release(&[("filesystem.squashfs", 10_000)], 4096);
    release.remove("filesystem.squashfs.part3");
    let plan = plan(&release);
    let port = serve(release.dir.path().to_owned()).await;
    let url = format!("http://127.0.0.1:{port}/rel");
    let run = blocking(move || run(&plan, &url)).await;
    assert_stopped_by_panic(&run);
    assert_eq!(
        run.repack_lines()[0],
        format!("repack: download failed http://127.0.0.1:{port}/rel/filesystem.squashfs.part3")
    );
}

#[tokio::test]
async fn truncated_part_is_a_size_mismatch() {
    let release = release(&[("filesystem.squashfs", 10_000)], 4096);
    let part = release.dir.path().join("filesystem.squashfs");
    let bytes = std::fs::read(&part).unwrap();
    std::fs::write(&part, &bytes[..1000]).unwrap();
    let plan = plan(&release);
    let port = serve(release.dir.path().to_owned()).await;
    let url = format!("http://127.0.0.1:{port}/rel");
    let run = blocking(move || run(&plan, &url)).await;
    assert_stopped_by_panic(&run);
    assert!(
        run.repack_lines()[0].starts_with("repack: size mismatch (1000 bytes, expected 4096)"),
        "{}",
        run.console
    );
}

#[tokio::test]
async fn a_list_that_disagrees_with_the_server_fails_on_size() {
    // A list claiming a smaller part than the server sends fails on that part's size.
    let release = release(&[("filesystem.squashfs", 9_000)], 4096);
    let mut plan = plan(&release);
    let list = plan
        .overlay
        .iter_mut()
        .find(|file| file.path == repack_boot::ROOTFS_LIST_PATH)
        .unwrap();
    let text = String::from_utf8(list.contents.clone()).unwrap();
    list.contents = text.replacen(" 4096 ", " 4000 ", 1).into_bytes();
    let port = serve(release.dir.path().to_owned()).await;
    let url = format!("http://127.0.0.1:{port}/rel");
    let run = blocking(move || run(&plan, &url)).await;
    assert_stopped_by_panic(&run);
    assert!(
        run.repack_lines()[0].starts_with("repack: size mismatch (4096 bytes, expected 4000)"),
        "{}",
        run.console
    );
}
