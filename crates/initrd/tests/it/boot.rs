//! The lint is grounded in the kernel: a real Debian kernel boots, under QEMU, a real
//! mkinitramfs initrd (the testkit's Debian live fixture) patched three ways.
//!
//! - `append` (overlay replacing the busybox hard link `usr/bin/wget`): lint is clean, the
//!   overlay's init runs and busybox still works.
//! - the same overlay as a CRC64 xz member: lint says `xz-unsupported-check`, and the kernel
//!   prints "Initramfs unpacking failed" and never runs the overlay.
//! - the same overlay written naively (no unlink first): lint says `hardlink-overwrite`, and
//!   the kernel really destroys busybox (no shell can start).
//!
//! Needs `qemu-system-x86_64` (TCG; KVM does not work on these machines).

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use repack_initrd::{Codec, Initrd, Limits, Overlay};

use crate::support::require;

const INIT: &[u8] = b"#!/bin/sh\necho REPACK-OVERLAY-RAN\n/bin/busybox true && echo REPACK-BUSYBOX-OK\n/bin/busybox poweroff -f\n";

fn overlay() -> Overlay {
    Overlay::new()
        .mtime(1_700_000_000)
        .file("repack-test-init", 0o755, INIT.to_vec())
        .file(
            "usr/bin/wget",
            0o755,
            b"#!/bin/sh\necho not busybox\n".to_vec(),
        )
}

/// Boots `initrd` with `rdinit=/repack-test-init` and returns the console lines up to (and
/// including) the first line for which `stop` is true, or up to power-off.
fn boot(kernel: &Path, initrd: &Path, stop: impl Fn(&str) -> bool) -> Vec<String> {
    require("qemu-system-x86_64");
    let mut child = Command::new("qemu-system-x86_64")
        .args([
            "-m", "1024", "-smp", "1", "-display", "none", "-serial", "stdio", "-monitor", "none",
        ])
        .args(["-no-reboot", "-accel", "tcg", "-kernel"])
        .arg(kernel)
        .arg("-initrd")
        .arg(initrd)
        .args([
            "-append",
            "console=ttyS0,115200 panic=-1 rdinit=/repack-test-init",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start qemu");
    let out = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).split(b'\n') {
            let Ok(line) = line else { break };
            if tx
                .send(String::from_utf8_lossy(&line).trim_end().to_string())
                .is_err()
            {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(400);
    let mut lines = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                let done = stop(&line);
                lines.push(line);
                if done {
                    break;
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("boot timed out; console:\n{}", lines.join("\n"));
            }
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    lines
}

fn has(lines: &[String], s: &str) -> bool {
    lines.iter().any(|l| l.contains(s))
}

fn xz_crc64(data: &[u8]) -> Vec<u8> {
    let s = liblzma::stream::Stream::new_easy_encoder(6, liblzma::stream::Check::Crc64).unwrap();
    let mut e = liblzma::write::XzEncoder::new_stream(Vec::new(), s);
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// The base bytes, zero-padded to 4096, then `member`.
fn concat(base: &[u8], member: &[u8]) -> Vec<u8> {
    let mut v = base.to_vec();
    v.resize(base.len().div_ceil(4096) * 4096, 0);
    v.extend_from_slice(member);
    v
}

#[test]
fn the_kernel_agrees_with_lint() {
    let live = repack_testkit::fixtures::debian_live();
    let base_bytes = std::fs::read(&live.initrd).unwrap();
    let base = Initrd::open(&live.initrd).unwrap();
    assert!(base.lint().is_clean(), "{:#?}", base.lint().findings);
    let tmp = tempfile::tempdir().unwrap();

    // 1. repack's append: clean, and it runs.
    let good = tmp.path().join("good.img");
    let mut f = std::fs::File::create(&good).unwrap();
    let report = base.append(&overlay(), Codec::Gzip, &mut f).unwrap();
    drop(f);
    assert_eq!(report.adaptation.unlinked_hardlinks, ["usr/bin/wget"]);
    assert!(repack_initrd::lint(&good).unwrap().is_clean());
    let lines = boot(&live.vmlinuz, &good, |l| {
        l.contains("REPACK-BUSYBOX-OK") || l.contains("Kernel panic")
    });
    assert!(
        has(&lines, "REPACK-OVERLAY-RAN"),
        "overlay did not run:\n{}",
        lines.join("\n")
    );
    assert!(
        has(&lines, "REPACK-BUSYBOX-OK"),
        "busybox broken:\n{}",
        lines.join("\n")
    );
    assert!(
        !has(&lines, "Initramfs unpacking failed"),
        "{}",
        lines.join("\n")
    );

    // 2. The same overlay as CRC64 xz: lint rejects it, and the kernel ignores it.
    let mut adapted = Vec::new();
    base.append(&overlay(), Codec::None, &mut adapted).unwrap();
    let newc = &adapted[report.overlay_offset as usize..];
    let crc64 = tmp.path().join("crc64.img");
    std::fs::write(&crc64, concat(&base_bytes, &xz_crc64(newc))).unwrap();
    let lint = repack_initrd::lint(&crc64).unwrap();
    assert!(lint.has("xz-unsupported-check"), "{:#?}", lint.findings);
    let lines = boot(&live.vmlinuz, &crc64, |l| {
        l.contains("Run /init as init process")
            || l.contains("REPACK-OVERLAY-RAN")
            || l.contains("Kernel panic")
    });
    assert!(
        has(&lines, "Initramfs unpacking failed"),
        "{}",
        lines.join("\n")
    );
    assert!(!has(&lines, "REPACK-OVERLAY-RAN"), "{}", lines.join("\n"));

    // 3. Written naively (no symlink entry first): lint flags it; the kernel truncates the
    //    shared busybox inode and no shell can start.
    let naive = Codec::Gzip.compress(&overlay().to_newc().unwrap()).unwrap();
    let naive_img = tmp.path().join("naive.img");
    std::fs::write(&naive_img, concat(&base_bytes, &naive)).unwrap();
    let lint = Initrd::open_with(&naive_img, Limits::default())
        .unwrap()
        .lint();
    assert!(lint.has("hardlink-overwrite"), "{:#?}", lint.findings);
    let lines = boot(&live.vmlinuz, &naive_img, |l| {
        l.contains("Kernel panic")
            || l.contains("REPACK-BUSYBOX-OK")
            || l.contains("No working init found")
    });
    assert!(!has(&lines, "REPACK-BUSYBOX-OK"), "{}", lines.join("\n"));
    assert!(
        has(&lines, "No working init found") || has(&lines, "Kernel panic"),
        "{}",
        lines.join("\n")
    );
}
