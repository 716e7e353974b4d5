//! The gate against real QEMU and iPXE, with hand-written `menu.ipxe` probes instead of a
//! live system, so each boot ends within seconds of iPXE starting:
//! - every firmware path runs the preset settings into the menu and keeps the guest on the
//!   gate's server (the probe request carries `repack-target` and `repack-args`);
//! - a failure line ends the boot at once, a marker passes, silence times out, and QEMU
//!   is gone after each;
//! - specs and directories the gate cannot boot are refused before QEMU starts.
//!
//! Real live-system boots are in the e2e crate (tests/boot/).

use repack_bootgate::{BootOutcome, BootReport, BootSpec, FailReason, Firmware, boot};
use std::path::Path;
use std::time::Duration;

/// An output directory whose menu is `menu`, and a console log path inside it.
fn output_dir(menu: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("menu.ipxe"), menu).unwrap();
    dir
}

fn spec(dir: &Path, firmware: Firmware, timeout: Duration) -> BootSpec {
    let mut spec = BootSpec::new(
        dir,
        "debian-live",
        firmware,
        dir.join(format!("{firmware}.console.log")),
    );
    spec.memory_mib = 256;
    spec.timeout = timeout;
    spec.extra_kernel_args = vec!["quiet".to_owned()];
    spec
}

async fn run(spec: &BootSpec) -> BootReport {
    let report = boot(spec).await.unwrap_or_else(|error| panic!("{error}"));
    eprintln!("{}", report.summary());
    assert_no_qemu_left(&report);
    report
}

/// The boot's QEMU is gone: no process runs with its guestfwd command line.
fn assert_no_qemu_left(report: &BootReport) {
    let forward = format!("nc 127.0.0.1 {}", report.server_port);
    if let Some(cmdline) = running_qemu_with(&forward) {
        panic!("QEMU is still running: {cmdline}");
    }
}

/// The command line of a live QEMU process whose arguments contain `needle` (zombies have
/// an empty command line and do not count).
fn running_qemu_with(needle: &str) -> Option<String> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|entry| std::fs::read(entry.path().join("cmdline")).ok())
        .map(|cmdline| String::from_utf8_lossy(&cmdline).replace('\0', " "))
        .find(|cmdline| cmdline.contains("qemu-system") && cmdline.contains(needle))
}

/// Percent-decoding, for the probe's query.
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// Fetches a probe URL that carries the preset settings, then resets the machine (which
/// ends QEMU under -no-reboot).
const PROBE_MENU: &str = "#!ipxe\n\
    imgfetch ${repack-base}/probe?target=${repack-target}&args=${repack-args:uristring} ||\n\
    reboot\n";

async fn settings_reach_the_menu(firmware: Firmware) {
    let dir = output_dir(PROBE_MENU);
    let report = run(&spec(dir.path(), firmware, Duration::from_secs(240))).await;
    assert!(
        matches!(
            report.outcome,
            BootOutcome::Failed {
                reason: FailReason::GuestStopped,
                ..
            }
        ),
        "{}",
        report.summary()
    );
    let uris: Vec<&str> = report.requests.iter().map(|r| r.uri.as_str()).collect();
    let probe = uris
        .iter()
        .find(|uri| uri.starts_with("/probe?"))
        .unwrap_or_else(|| panic!("no probe request: {uris:?}"));
    assert_eq!(
        decode(probe),
        "/probe?target=debian-live&args=console=ttyS0,115200 panic=-1 quiet"
    );
    let expected_first = match firmware {
        Firmware::BiosIpxeKernel => "/menu.ipxe",
        Firmware::BiosNicRom | Firmware::Uefi => "/repack-bootgate.ipxe",
    };
    assert_eq!(uris[0], expected_first, "{uris:?}");
    assert!(report.requested("/menu.ipxe"));
}

#[tokio::test]
async fn bios_ipxe_kernel_presets_the_menu_settings() {
    settings_reach_the_menu(Firmware::BiosIpxeKernel).await;
}

#[tokio::test]
async fn bios_nic_rom_presets_the_menu_settings() {
    settings_reach_the_menu(Firmware::BiosNicRom).await;
}

#[tokio::test]
async fn uefi_presets_the_menu_settings() {
    settings_reach_the_menu(Firmware::Uefi).await;
}

/// Under UEFI iPXE's own output reaches the serial console, so a menu can print lines.
#[tokio::test]
async fn a_failure_line_ends_the_boot_at_once_and_a_marker_passes() {
    let failing = output_dir(
        "#!ipxe\n\
         echo repack: sha256 mismatch (got 00) http://10.0.2.100/r/filesystem.squashfs.part2\n\
         shell\n",
    );
    let timeout = Duration::from_secs(300);
    let report = run(&spec(failing.path(), Firmware::Uefi, timeout)).await;
    assert_eq!(
        report.outcome,
        BootOutcome::Failed {
            reason: FailReason::RepackLine,
            line: Some(
                "repack: sha256 mismatch (got 00) http://10.0.2.100/r/filesystem.squashfs.part2"
                    .to_owned()
            )
        }
    );
    assert!(report.duration < timeout / 2, "{}", report.summary());
    let console = std::fs::read(&report.console_log).unwrap();
    assert!(String::from_utf8_lossy(&console).contains("sha256 mismatch"));

    let passing = output_dir("#!ipxe\necho REPACK-LIVE-OK from the menu\nshell\n");
    let report = run(&spec(passing.path(), Firmware::Uefi, timeout)).await;
    assert_eq!(
        report.outcome,
        BootOutcome::Passed {
            marker_line: "REPACK-LIVE-OK from the menu".to_owned()
        }
    );
}

#[tokio::test]
async fn silence_times_out_kills_qemu_and_keeps_a_screenshot() {
    // Debian's BIOS iPXE prints only to VGA: the serial console stays silent.
    let dir = output_dir("#!ipxe\nshell\n");
    let timeout = Duration::from_secs(20);
    let report = run(&spec(dir.path(), Firmware::BiosIpxeKernel, timeout)).await;
    assert!(
        matches!(
            report.outcome,
            BootOutcome::Failed {
                reason: FailReason::Timeout,
                ..
            }
        ),
        "{}",
        report.summary()
    );
    assert!(report.duration >= timeout);
    let screenshot = report.screendump.expect("a screenshot of the VGA screen");
    let image = std::fs::read(&screenshot).unwrap();
    assert!(image.starts_with(b"P6"), "a PPM image");
}

#[tokio::test]
async fn dropping_a_boot_half_way_kills_qemu() {
    let dir = output_dir("#!ipxe\nshell\n");
    let mut spec = spec(
        dir.path(),
        Firmware::BiosIpxeKernel,
        Duration::from_secs(300),
    );
    // BIOS iPXE gets its script on QEMU's command line: this token finds the process.
    let token = format!("repack.bootgate-drop-test={}", std::process::id());
    spec.extra_kernel_args = vec![token.clone()];
    let mut running = Box::pin(boot(&spec));
    tokio::select! {
        result = &mut running => panic!("the boot ended by itself: {result:?}"),
        () = tokio::time::sleep(Duration::from_secs(4)) => {}
    }
    assert!(
        running_qemu_with(&token).is_some(),
        "QEMU is not found by its command line while it runs"
    );
    drop(running);
    // The kill is sent when the child is dropped; give the kernel a moment to deliver it.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while let Some(cmdline) = running_qemu_with(&token) {
        assert!(
            std::time::Instant::now() < deadline,
            "QEMU outlived its boot: {cmdline}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn what_cannot_be_booted_is_refused_before_qemu_starts() {
    let empty = tempfile::tempdir().unwrap();
    let log = empty.path().join("console.log");
    let spec = BootSpec::new(empty.path(), "debian-live", Firmware::BiosIpxeKernel, &log);
    let error = boot(&spec).await.unwrap_err();
    assert_eq!(error.kind(), "bootgate-not-an-output-dir", "{error}");
    assert!(error.to_string().contains("has no menu.ipxe"), "{error}");

    let dir = output_dir(PROBE_MENU);
    let mut spec = BootSpec::new(dir.path(), "debian-live", Firmware::Uefi, &log);
    spec.extra_kernel_args = vec!["console=ttyS0 && shell".to_owned()];
    let error = boot(&spec).await.unwrap_err();
    assert_eq!(error.kind(), "bootgate-invalid-spec", "{error}");
    assert!(!log.exists(), "nothing was started");
}
