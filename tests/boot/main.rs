//! Proof by booting: releases that `repack run` published from the real Debian live ISO
//! (tests/fixtures/make-debian-live.sh, rootfs split into three parts by the tests' 64 MiB
//! part size) network-boot in QEMU through iPXE and the published `menu.ipxe`, over HTTP on
//! 127.0.0.1 only (crates/bootgate).
//!
//! - The same published directory boots to the live system's marker through each firmware
//!   path: BIOS with iPXE as a kernel, BIOS through the NIC's iPXE ROM, UEFI (OVMF).
//! - A copy of it with one `.partN` corrupted on disk fails with the hook's
//!   `repack: sha256 mismatch … <url of that part>` line, before the root is mounted.
//! - The same live system with its initrd re-compressed by `lz4 -l` (mkinitramfs's
//!   COMPRESS=lz4) boots too: repack re-wraps that member as gzip before appending.
//! - A rebuild that only adds a kernel argument stores none of the root image again: its
//!   initrd's list names the first release's parts by URL, and it boots from them.
//! - A real dracut (dmsquash-live + livenet) live system in lorax's layout
//!   (tests/fixtures/make-dracut-live.sh, test recipe tests/recipes/dracut-live.toml) boots
//!   through `root=live:` with its root image split into parts, which stock dracut cannot do.
//!
//! The release is published once per test process and shared. At most two QEMUs run at a
//! time ([`BOOTS`]): on two cores a third slows every boot down. Each boot prints one
//! summary line to stderr, uncaptured; console logs stay in
//! `target/tmp/repack-boot/<pid>/` until the next run. A missing QEMU, iPXE, OVMF or
//! busybox fails the tests with the package to install.

use repack_bootgate::{
    BootOutcome, BootReport, BootSpec, DEFAULT_TIMEOUT, FailReason, Firmware, Tools, boot,
};
use repack_e2e::Env;
use repack_testkit::fixtures::{debian_live, dracut_live, sha256_file};
use repack_testkit::upstream::Served;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use tokio::sync::{OnceCell, Semaphore};

/// Boots running at once, across all tests of this binary.
static BOOTS: Semaphore = Semaphore::const_new(2);
/// The release every boot test starts from, published by the first test that needs it.
static PUBLISHED: OnceCell<Published> = OnceCell::const_new();

/// The recipe the tests publish and the menu target they boot.
const RECIPE: &str = "debian-live";
/// The parts the 64 MiB part size cuts the fixture's root image into.
const ROOTFS_PARTS: [&str; 3] = [
    "filesystem.squashfs",
    "filesystem.squashfs.part2",
    "filesystem.squashfs.part3",
];

struct Published {
    /// The output directory: `menu.ipxe` and `debian-live/<tag>/`.
    out: PathBuf,
    /// `debian-live/<tag>`, below `out`.
    location: String,
}

/// `target/tmp/repack-boot/<pid>`: this run's published release and console logs. Earlier
/// runs' directories are removed once their process is gone.
fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("repack-boot");
        std::fs::create_dir_all(&root).expect("target/tmp is writable");
        for entry in std::fs::read_dir(&root).expect("readable").flatten() {
            let name = entry.file_name();
            let alive = name
                .to_str()
                .and_then(|pid| pid.parse::<u32>().ok())
                .is_some_and(|pid| Path::new("/proc").join(pid.to_string()).exists());
            if !alive {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
        let dir = root.join(std::process::id().to_string());
        std::fs::create_dir_all(&dir).expect("scratch directory");
        dir
    })
}

/// Publishes the fixture ISO with `repack run` once, and moves the output directory out of
/// the environment (whose upstream stand-in belongs to one test's runtime).
async fn published() -> &'static Published {
    PUBLISHED
        .get_or_init(|| async {
            let fixture = debian_live();
            let env = Env::new(1).await;
            env.serve_release(
                "12.10.0",
                Served::file(&fixture.iso),
                &sha256_file(&fixture.iso),
            );
            env.repack(&["run", RECIPE]).await.assert_success();
            let out = scratch().join("published");
            move_dir(&env.output_dir(), &out);
            let location = only_release(&out);
            for part in ROOTFS_PARTS {
                assert!(
                    out.join(&location).join(part).is_file(),
                    "the root image is not split in {} parts: {part} is missing",
                    ROOTFS_PARTS.len()
                );
            }
            Published { out, location }
        })
        .await
}

/// `debian-live/<tag>`: the one release below `out`.
fn only_release(out: &Path) -> String {
    let tags: Vec<String> = std::fs::read_dir(out.join(RECIPE))
        .expect("a release directory")
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(tags.len(), 1, "{tags:?}");
    format!("{RECIPE}/{}", tags[0])
}

fn move_dir(from: &Path, to: &Path) {
    let _ = std::fs::remove_dir_all(to);
    if std::fs::rename(from, to).is_err() {
        copy_tree(from, to, &|from, to| std::fs::copy(from, to).map(drop));
    }
}

/// Recreates the tree `from` at `to`, placing each file with `place`.
fn copy_tree(from: &Path, to: &Path, place: &dyn Fn(&Path, &Path) -> std::io::Result<()>) {
    std::fs::create_dir_all(to).expect("create directory");
    for entry in std::fs::read_dir(from).expect("readable") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_tree(&entry.path(), &target, place);
        } else {
            place(&entry.path(), &target)
                .unwrap_or_else(|error| panic!("{}: {error}", entry.path().display()));
        }
    }
}

/// Fails the test at once, naming the package, when `firmware` cannot be booted here.
fn require_tools(firmware: Firmware) {
    if let Err(error) = Tools::find(firmware) {
        panic!("cannot boot through {firmware}: {error}");
    }
}

/// Boots the debian-live release of `out` through `firmware`.
async fn boot_release(out: &Path, firmware: Firmware, name: &str) -> BootReport {
    boot_target(out, RECIPE, firmware, name).await
}

/// Boots menu item `target` of `out` through `firmware` (waiting for a boot slot) and prints
/// one summary line.
async fn boot_target(out: &Path, target: &str, firmware: Firmware, name: &str) -> BootReport {
    let console_log = scratch().join(format!("{name}.console.log"));
    boot_spec(BootSpec::new(out, target, firmware, console_log), name).await
}

/// Boots `spec` (waiting for a boot slot) and prints one summary line.
async fn boot_spec(spec: BootSpec, name: &str) -> BootReport {
    let _slot = BOOTS.acquire().await.expect("semaphore open");
    let firmware = spec.firmware;
    let report = boot(&spec)
        .await
        .unwrap_or_else(|error| panic!("{name}: the boot could not run: {error}"));
    // Straight to the process's stderr: libtest captures eprintln! of passing tests.
    let outcome = match &report.outcome {
        BootOutcome::Passed { .. } => "passed".to_owned(),
        BootOutcome::Failed { reason, .. } => format!("failed ({})", reason.kind()),
    };
    let _ = writeln!(
        std::io::stderr(),
        "boot {name}: firmware {firmware}, {outcome}, {:.1} s (console: {})",
        report.duration.as_secs_f64(),
        report.console_log.display()
    );
    report
}

fn console(report: &BootReport) -> String {
    String::from_utf8_lossy(&std::fs::read(&report.console_log).expect("console log")).into_owned()
}

/// The release reached the marker after the hook fetched and checked every part.
async fn reaches_the_marker(firmware: Firmware, name: &str) {
    require_tools(firmware);
    let published = published().await;
    let report = boot_release(&published.out, firmware, name).await;
    let BootOutcome::Passed { marker_line } = &report.outcome else {
        panic!("{}", report.summary());
    };
    assert!(marker_line.contains("REPACK-LIVE-OK"), "{marker_line}");
    let console = console(&report);
    assert!(
        console.contains(&format!(
            "repack: fetching {} bytes in {} part(s) from http://10.0.2.100/{}/",
            rootfs_size(&published.out.join(&published.location)),
            ROOTFS_PARTS.len(),
            published.location
        )),
        "the hook did not announce every part; console: {}",
        report.console_log.display()
    );
    assert!(console.contains("repack: root filesystem verified"));
    for name in ["vmlinuz", "initrd"].iter().chain(&ROOTFS_PARTS) {
        let path = format!("/{}/{name}", published.location);
        assert!(
            report
                .requests
                .iter()
                .any(|request| request.uri == path && request.status == 200),
            "{path} was not served: {:?}",
            report.requests
        );
    }
}

fn rootfs_size(release: &Path) -> u64 {
    ROOTFS_PARTS
        .iter()
        .map(|part| std::fs::metadata(release.join(part)).expect("part").len())
        .sum()
}

#[tokio::test]
async fn live_boot_bios_ipxe_kernel_reaches_the_marker() {
    reaches_the_marker(Firmware::BiosIpxeKernel, "live-boot-bios-ipxe-kernel").await;
}

#[tokio::test]
async fn live_boot_bios_nic_rom_reaches_the_marker() {
    reaches_the_marker(Firmware::BiosNicRom, "live-boot-bios-nic-rom").await;
}

#[tokio::test]
async fn live_boot_uefi_reaches_the_marker() {
    reaches_the_marker(Firmware::Uefi, "live-boot-uefi").await;
}

/// Issue 4: "a second boot with one part corrupted that must fail with the clear line and no
/// mount". The bytes change, the size does not, so only the sha256 check can catch it. The
/// first part is the bad one: its last bytes are hashed while the second downloads, so the
/// hook may fetch that one, never the third.
#[tokio::test]
async fn live_boot_bios_ipxe_kernel_fails_on_a_corrupted_part() {
    let firmware = Firmware::BiosIpxeKernel;
    require_tools(firmware);
    let published = published().await;
    let out = scratch().join("corrupted");
    let _ = std::fs::remove_dir_all(&out);
    // Hard links are enough for the files left alone; the corrupted part is a real copy.
    copy_tree(&published.out, &out, &|from, to| {
        std::fs::hard_link(from, to).or_else(|_| std::fs::copy(from, to).map(drop))
    });
    let bad_part = ROOTFS_PARTS[0];
    let bad = out.join(&published.location).join(bad_part);
    let mut bytes = std::fs::read(&bad).expect("first part");
    std::fs::remove_file(&bad).expect("unlink the shared part");
    let middle = bytes.len() / 2;
    for byte in &mut bytes[middle..middle + 4096] {
        *byte ^= 0x5a;
    }
    std::fs::write(&bad, &bytes).expect("corrupted part written");

    // Keep the console after the hook's line: the boot must end in a kernel panic (the gate
    // boots with panic=-1 and -no-reboot, so QEMU exits there), not in live-boot's shell.
    let mut spec = BootSpec::new(
        &out,
        RECIPE,
        firmware,
        scratch().join("live-boot-corrupted-part.console.log"),
    );
    spec.after_failure = std::time::Duration::from_secs(60);
    let report = boot_spec(spec, "live-boot-corrupted-part").await;
    let url = format!("http://10.0.2.100/{}/{bad_part}", published.location);
    match &report.outcome {
        BootOutcome::Failed {
            reason: FailReason::RepackLine,
            line: Some(line),
        } => {
            assert!(
                line.starts_with("repack: sha256 mismatch (got ") && line.ends_with(&url),
                "not the hook's line for {url}: {line}"
            );
        }
        _ => panic!("expected the hook's sha256 line: {}", report.summary()),
    }
    let console = console(&report);
    assert!(!console.contains("REPACK-LIVE-OK"), "the marker appeared");
    let stop = console
        .find("repack: stopping the boot with a kernel panic")
        .unwrap_or_else(|| panic!("no stop line after the failure:\n{console}"));
    assert!(
        console[stop..].contains("Kernel panic - not syncing: sysrq triggered crash"),
        "the hook's failure did not end in a kernel panic:\n{}",
        &console[stop..]
    );
    for prompt in [
        "(initramfs)",
        "Unable to find a live file system",
        "BusyBox v",
    ] {
        assert!(
            !console[stop..].contains(prompt),
            "live-boot went on to `{prompt}` after the hook failed"
        );
    }
    // The hook stops at the part after the bad one at the latest: the third is never
    // fetched, nothing is mounted.
    assert!(!console.contains("repack: root filesystem verified"));
    let part3 = format!("/{}/{}", published.location, ROOTFS_PARTS[2]);
    assert!(
        !report.requested(&part3),
        "fetching went on past the part after the bad one"
    );
    assert!(
        report.duration < DEFAULT_TIMEOUT / 2,
        "the failure was not caught as it was printed: {}",
        report.summary()
    );
}

/// Issue 17, "never the same bytes twice": a rebuild whose root image is unchanged (only
/// a kernel argument was added) stores no part of it; the rootfs list in its initrd names the
/// first release's parts by full URL, and the real live-boot initrd fetches them from there
/// and boots to the marker.
#[tokio::test]
async fn live_boot_rebuild_fetches_the_earlier_releases_parts_by_url() {
    let firmware = Firmware::BiosIpxeKernel;
    require_tools(firmware);
    let fixture = debian_live();
    let env = Env::new(1).await;
    env.serve_release(
        "12.10.0",
        Served::file(&fixture.iso),
        &sha256_file(&fixture.iso),
    );
    let reuse = [("REPACK_REUSE_PARTS", "true")];
    env.repack_with_env(&["run", RECIPE], &reuse)
        .await
        .assert_success();
    let catalog = env.catalog().await;
    let current = || async {
        catalog
            .current(RECIPE, repack_core::Arch::X86_64)
            .await
            .expect("catalogue readable")
            .expect("a current build")
            .location
    };
    let first = current().await;
    env.with_recipe_override(
        RECIPE,
        "kernel_args = []",
        "kernel_args = [\"reusetest=1\"]",
    );
    env.repack_with_env(&["run", RECIPE], &reuse)
        .await
        .assert_success();
    let second = current().await;
    assert_ne!(first, second);
    let out = scratch().join("reusing");
    move_dir(&env.output_dir(), &out);
    for part in ROOTFS_PARTS {
        assert!(out.join(&first).join(part).is_file(), "{first}/{part}");
        assert!(
            !out.join(&second).join(part).exists(),
            "{second}/{part} stored again"
        );
    }

    let report = boot_release(&out, firmware, "live-boot-reused-parts").await;
    let BootOutcome::Passed { marker_line } = &report.outcome else {
        panic!("{}", report.summary());
    };
    assert!(marker_line.contains("REPACK-LIVE-OK"), "{marker_line}");
    let console = console(&report);
    assert!(console.contains("repack: root filesystem verified"));
    assert!(
        console.contains("reusetest=1"),
        "the rebuild's kernel command line booted"
    );
    assert!(report.requested(&format!("/{second}/initrd")));
    for part in ROOTFS_PARTS {
        assert!(
            report.requested(&format!("/{first}/{part}")),
            "{part} was not fetched from the first release: {:?}",
            report.requests
        );
        assert!(!report.requested(&format!("/{second}/{part}")));
    }
}

/// An upstream initrd whose main archive is legacy lz4 (`lz4 -l`, as mkinitramfs's
/// COMPRESS=lz4 makes it): published with that member re-wrapped as gzip (same cpio bytes)
/// and the overlay after it, it boots to the marker with every part fetched and checked.
#[tokio::test]
async fn live_boot_from_a_legacy_lz4_initrd_reaches_the_marker() {
    let firmware = Firmware::BiosIpxeKernel;
    require_tools(firmware);
    let fixture = debian_live();
    let work = tempfile::tempdir().unwrap();
    let lz4 = repack_e2e::fixture_initrd_as_legacy_lz4(work.path());
    let iso = repack_e2e::live_iso(work.path(), &lz4, &fixture.squashfs);
    let env = Env::new(1).await;
    env.serve_release("12.10.0", Served::file(&iso), &sha256_file(&iso));
    env.repack(&["run", RECIPE]).await.assert_success();
    let out = scratch().join("lz4-published");
    move_dir(&env.output_dir(), &out);
    let location = only_release(&out);

    let report = boot_release(&out, firmware, "live-boot-lz4-initrd").await;
    let BootOutcome::Passed { marker_line } = &report.outcome else {
        panic!("{}", report.summary());
    };
    assert!(marker_line.contains("REPACK-LIVE-OK"), "{marker_line}");
    assert!(console(&report).contains("repack: root filesystem verified"));
    assert!(report.requested(&format!("/{location}/initrd")));
}

/// Issue 4, "dracut, real": a dracut-built initrd with livenet boots a root image split into
/// parts through repack's netroot handler.
#[tokio::test]
async fn dracut_bios_ipxe_kernel_reaches_the_marker() {
    let firmware = Firmware::BiosIpxeKernel;
    require_tools(firmware);
    let fixture = dracut_live();
    let env = Env::new(1).await;
    env.serve_listed(
        "/dracut-live",
        "dracut-live-41.1-x86_64.iso",
        Served::file(&fixture.iso),
        &sha256_file(&fixture.iso),
    );
    env.repack(&["run", "dracut-live"]).await.assert_success();
    let out = scratch().join("dracut-published");
    move_dir(&env.output_dir(), &out);
    let tags: Vec<String> = std::fs::read_dir(out.join("dracut-live"))
        .expect("a release directory")
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(tags.len(), 1, "{tags:?}");
    let release = out.join("dracut-live").join(&tags[0]);
    assert!(
        release.join("squashfs.img.part3").is_file(),
        "the root image is not split in at least three parts"
    );

    let report = boot_target(&out, "dracut-live", firmware, "dracut-bios-ipxe-kernel").await;
    let BootOutcome::Passed { marker_line } = &report.outcome else {
        panic!("{}", report.summary());
    };
    assert!(marker_line.contains("REPACK-LIVE-OK"), "{marker_line}");
    for part in ["squashfs.img", "squashfs.img.part2", "squashfs.img.part3"] {
        let path = format!("/dracut-live/{}/{part}", tags[0]);
        assert!(report.requested(&path), "{path} was not fetched");
    }
}
