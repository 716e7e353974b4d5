//! archiso: the replaced `/hooks/archiso_pxe_http`, run by the mkinitcpio reconstruction of
//! `inits/mkinitcpio.rs` against a local server laid out as a repack release.

use crate::inits::assert_stopped_by_panic;
use crate::inits::mkinitcpio::{Flavor, boot};
use crate::support::{FakeInitrd, Release, Run, blocking, release, serve, still_mounted_check};
use repack_boot::{BootError, BootInputs, BootPlan, family};
use repack_core::{BootFamilyKind, FileRole, ManifestFile, ManifestPart, Sha256Digest};

/// archiso's main hook, reduced: run_hook's defaults (arch from uname, archisobasedir=arch,
/// copytoram=auto) and a mount handler that checks what archiso_mount_handler checks where
/// it looks: bootmnt a mount point, the image, and with checksum=y the sha512 file.
const ARCHISO: &str = r#"
run_hook () {
    arch="$(getarg arch "$(uname -m)")"
    copytoram="$(getarg copytoram auto)"
    archisobasedir="$(getarg archisobasedir arch)"
    archisodevice="$(getarg archisodevice)"
    export mount_handler="archiso_mount_handler"
}
archiso_mount_handler () {
    echo "HANDLER copytoram=$copytoram newroot=$1"
    if [ "$(stat -c %d /run/archiso/bootmnt 2>/dev/null)" = "$(stat -c %d /run/archiso)" ]; then
        echo "ERROR: '${archisodevice}' device did not show up after 30 seconds..."
        launch_interactive_shell
        return 1
    fi
    dir="/run/archiso/bootmnt/${archisobasedir}/${arch}"
    [ -f "$dir/airootfs.sfs" ] || { echo "ERROR: no root file system image found"; launch_interactive_shell; return 1; }
    if [ "$(getarg checksum)" = "y" ]; then
        if [ -f "$dir/airootfs.sha512" ]; then
            (cd "$dir" && sha512sum -c airootfs.sha512) || { echo "ERROR: one or more files are corrupted"; launch_interactive_shell; return 1; }
            echo "CHECKSUM OK"
        else
            echo "ERROR: checksum=y option specified but ${archisobasedir}/${arch}/airootfs.sha512 not found"
            launch_interactive_shell
            return 1
        fi
    fi
    echo "IMAGE $(sha256sum "$dir/airootfs.sfs")"
    mount -t tmpfs airootfs "$1"
}
"#;
/// archiso_pxe_common: its late hook looks at copytoram.
const PXE_COMMON: &str = r#"
run_hook () { :; }
run_latehook () { echo "LATEHOOK copytoram=$copytoram"; }
"#;
/// The other PXE hooks print nothing unless their arguments are given.
const PXE_NBD: &str = "run_hook () { :; }\n";
const STOCK_HTTP: &str = "run_hook () { echo STOCK HOOK RAN; }\n";

const FLAVOR: Flavor = Flavor {
    hooks: &[
        "archiso",
        "archiso_pxe_common",
        "archiso_pxe_nbd",
        "archiso_pxe_http",
        "archiso_pxe_nfs",
    ],
    late_hooks: &["archiso_pxe_common"],
    stock: &[
        ("archiso", ARCHISO),
        ("archiso_pxe_common", PXE_COMMON),
        ("archiso_pxe_nbd", PXE_NBD),
        ("archiso_pxe_http", STOCK_HTTP),
        ("archiso_pxe_nfs", PXE_NBD),
    ],
    httpspace: "/run/archiso/httpspace",
};

const CONFIG: &str = "EARLYHOOKS=\"\"\nHOOKS=\"archiso archiso_pxe_common archiso_pxe_nbd archiso_pxe_http archiso_pxe_nfs\"\nLATEHOOKS=\"archiso_pxe_common\"\n";

fn base_initrd() -> FakeInitrd {
    FakeInitrd::default()
        .with("config", CONFIG)
        .with("hooks/archiso", ARCHISO)
        .with("hooks/archiso_pxe_http", STOCK_HTTP)
        .with("usr/bin/curl", "\x7fELF")
        .with_busybox("usr/bin/busybox", &["sh", "sha256sum"])
}

fn plan_with(release: &Release, side_files: &[ManifestFile]) -> BootPlan {
    family(BootFamilyKind::Archiso)
        .unwrap()
        .plan(&BootInputs {
            rootfs: &release.files,
            side_files,
            initrd_size: 1 << 20,
            extra_args: &[],
            base: &base_initrd(),
        })
        .unwrap()
}

fn plan(release: &Release) -> BootPlan {
    plan_with(release, &[])
}

fn run(plan: &BootPlan, base_url: &str, extra: &str) -> Run {
    boot(
        &FLAVOR,
        plan,
        base_url,
        extra,
        &still_mounted_check(&[FLAVOR.httpspace]),
    )
}

pub fn machine() -> String {
    String::from_utf8(
        std::process::Command::new("uname")
            .arg("-m")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
    .to_owned()
}

#[tokio::test]
async fn joins_every_part_where_archiso_looks_and_skips_the_second_copy() {
    let release = release(&[("airootfs.sfs", 10_000)], 4096);
    let plan = plan(&release);
    let port = serve(release.dir.path().to_owned()).await;
    let url = format!("http://127.0.0.1:{port}/rel");
    let run = blocking(move || run(&plan, &url, "")).await;
    assert!(run.success, "{}\n{}", run.output, run.console);
    assert!(!run.output.contains("STOCK HOOK RAN"));
    assert!(
        run.output.contains(":: running hook [archiso_pxe_http]"),
        "mkinitcpio ran the replaced hook: {}",
        run.output
    );
    assert!(
        run.output.contains("HANDLER copytoram=n newroot=/new_root"),
        "{}",
        run.output
    );
    assert!(
        run.output.contains("LATEHOOK copytoram=y"),
        "{}",
        run.output
    );
    assert!(
        run.output.contains("MOUNTED /run/archiso/httpspace"),
        "{}",
        run.output
    );
    let expected = format!(
        "IMAGE {}  /run/archiso/bootmnt/arch/{}/airootfs.sfs",
        Sha256Digest::of(&release.originals[0].1),
        machine()
    );
    assert!(run.output.contains(&expected), "{}", run.output);
    assert!(run.output.contains("SWITCH_ROOT"), "{}", run.output);
    assert!(run.repack_lines().is_empty(), "{}", run.console);
    assert!(!run.panicked);
}

#[test]
fn the_hook_is_executable_because_mkinitcpio_skips_any_other() {
    let release = release(&[("airootfs.sfs", 1_000)], 4096);
    let plan = plan(&release);
    let hook = plan
        .overlay
        .iter()
        .find(|file| file.path == "hooks/archiso_pxe_http")
        .unwrap();
    assert_eq!(hook.mode, 0o755);
    assert!(hook.contents.starts_with(b"#!/usr/bin/ash\n"));
}

#[tokio::test]
async fn a_hook_without_the_executable_bit_never_runs() {
    // The reconstruction applies mkinitcpio's `[ -x /hooks/$hook ] || continue`: with the
    // mode the overlay once had, the boot ends where the issue saw it, at archiso's prompt.
    let release = release(&[("airootfs.sfs", 4_000)], 4096);
    let mut plan = plan(&release);
    for file in &mut plan.overlay {
        if file.path == "hooks/archiso_pxe_http" {
            file.mode = 0o644;
        }
    }
    let port = serve(release.dir.path().to_owned()).await;
    let url = format!("http://127.0.0.1:{port}/rel");
    let run = blocking(move || run(&plan, &url, "")).await;
    assert!(!run.success);
    assert!(!run.output.contains("[archiso_pxe_http]"), "{}", run.output);
    assert!(
        run.output
            .contains("ERROR: '' device did not show up after 30 seconds"),
        "{}",
        run.output
    );
    assert!(run.output.contains("INTERACTIVE SHELL"), "{}", run.output);
}

#[tokio::test]
async fn disablehooks_turns_ours_off_like_any_other() {
    let release = release(&[("airootfs.sfs", 4_000)], 4096);
    let plan = plan(&release);
    let port = serve(release.dir.path().to_owned()).await;
    let url = format!("http://127.0.0.1:{port}/rel");
    let run = blocking(move || run(&plan, &url, " disablehooks=archiso_pxe_http")).await;
    assert!(!run.output.contains("[archiso_pxe_http]"), "{}", run.output);
    assert!(run.repack_lines().is_empty(), "{}", run.console);
}

#[test]
fn an_initrd_whose_config_does_not_run_the_http_hook_is_refused() {
    let release = release(&[("airootfs.sfs", 1_000)], 4096);
    let base = base_initrd().with(
        "config",
        "HOOKS=\"archiso archiso_pxe_common archiso_pxe_nbd\"\n",
    );
    let error = family(BootFamilyKind::Archiso)
        .unwrap()
        .plan(&BootInputs {
            rootfs: &release.files,
            side_files: &[],
            initrd_size: 1 << 20,
            extra_args: &[],
            base: &base,
        })
        .unwrap_err();
    assert!(matches!(error, BootError::NotThisFamily { .. }), "{error}");
    assert!(error.to_string().contains("archiso_pxe_http"), "{error}");
}

#[tokio::test]
async fn follows_redirects() {
    let release = release(&[("airootfs.sfs", 6_000)], 4096);
    let plan = plan(&release);
    let port = serve(release.dir.path().to_owned()).await;
    let url = format!("http://127.0.0.1:{port}/moved");
    let run = blocking(move || run(&plan, &url, "")).await;
    assert!(run.success, "{}\n{}", run.output, run.console);
    assert!(run.output.contains("IMAGE "), "{}", run.output);
}

/// Publishes `airootfs.sha512` as upstream has it (sha512sum output for the image) beside the
/// release and returns it as the side file the pipeline would hand the family.
fn publish_sha512(release: &Release) -> ManifestFile {
    // The release holds the image in parts; upstream hashed the whole image.
    let scratch = tempfile::tempdir().unwrap();
    std::fs::write(scratch.path().join("airootfs.sfs"), &release.originals[0].1).unwrap();
    let output = std::process::Command::new("sha512sum")
        .arg("airootfs.sfs")
        .current_dir(scratch.path())
        .output()
        .unwrap();
    assert!(output.status.success());
    std::fs::write(release.dir.path().join("airootfs.sha512"), &output.stdout).unwrap();
    ManifestFile {
        name: "airootfs.sha512".to_owned(),
        role: FileRole::Side,
        size: output.stdout.len() as u64,
        sha256: Some(Sha256Digest::of(&output.stdout)),
        parts: vec![ManifestPart {
            name: "airootfs.sha512".to_owned(),
            size: output.stdout.len() as u64,
            sha256: Sha256Digest::of(&output.stdout),
            url: None,
        }],
    }
}

#[tokio::test]
async fn archisos_own_checksum_option_works_with_the_published_sha512() {
    let release = release(&[("airootfs.sfs", 10_000)], 4096);
    let side = publish_sha512(&release);
    let plan = plan_with(&release, &[side]);
    let port = serve(release.dir.path().to_owned()).await;
    let url = format!("http://127.0.0.1:{port}/rel");
    let run = blocking(move || run(&plan, &url, " checksum=y")).await;
    assert!(run.success, "{}\n{}", run.output, run.console);
    assert!(run.output.contains("airootfs.sfs: OK"), "{}", run.output);
    assert!(run.output.contains("CHECKSUM OK"), "{}", run.output);
    assert!(!run.output.contains("not found"), "{}", run.output);
}

#[tokio::test]
async fn without_the_side_file_checksum_y_fails_as_the_issue_saw_it() {
    // The reconstruction checks what archiso checks: with no sha512 published, checksum=y
    // stops at archiso's own error, so the test above proves the side file is what fixes it.
    let release = release(&[("airootfs.sfs", 4_000)], 4096);
    let plan = plan(&release);
    let port = serve(release.dir.path().to_owned()).await;
    let url = format!("http://127.0.0.1:{port}/rel");
    let run = blocking(move || run(&plan, &url, " checksum=y")).await;
    assert!(
        run.output.contains(&format!(
            "checksum=y option specified but arch/{}/airootfs.sha512 not found",
            machine()
        )),
        "{}",
        run.output
    );
}

#[tokio::test]
async fn a_tampered_side_file_fails_repacks_own_check_first() {
    let release = release(&[("airootfs.sfs", 4_000)], 4096);
    let side = publish_sha512(&release);
    std::fs::write(
        release.dir.path().join("airootfs.sha512"),
        format!("{}  airootfs.sfs\n", "0".repeat(128)),
    )
    .unwrap();
    let plan = plan_with(&release, &[side]);
    let port = serve(release.dir.path().to_owned()).await;
    let url = format!("http://127.0.0.1:{port}/rel");
    let run = blocking(move || run(&plan, &url, " checksum=y")).await;
    assert_stopped_by_panic(&run);
    assert!(
        run.repack_lines()[0].ends_with(&format!("http://127.0.0.1:{port}/rel/airootfs.sha512")),
        "{}",
        run.console
    );
}

#[tokio::test]
async fn corrupted_part_prints_its_line_and_panics_before_archiso_prompts() {
    let release = release(&[("airootfs.sfs", 10_000)], 4096);
    release.corrupt("airootfs.sfs.part3");
    let plan = plan(&release);
    let port = serve(release.dir.path().to_owned()).await;
    let url = format!("http://127.0.0.1:{port}/rel");
    let run = blocking(move || run(&plan, &url, " panic=-1")).await;
    assert!(!run.success);
    assert_stopped_by_panic(&run);
    assert!(!run.output.contains("HANDLER copytoram"), "{}", run.output);
    let lines = run.repack_lines();
    assert_eq!(lines.len(), 2, "{}", run.console);
    assert!(
        lines[0].starts_with("repack: sha256 mismatch (got "),
        "{}",
        lines[0]
    );
    assert!(lines[0].ends_with(&format!("http://127.0.0.1:{port}/rel/airootfs.sfs.part3")));
}

#[tokio::test]
async fn missing_part_is_a_download_failure_and_stops_the_boot() {
    let release = release(&[("airootfs.sfs", 10_000)], 4096);
    release.remove("airootfs.sfs.part2");
    let plan = plan(&release);
    let port = serve(release.dir.path().to_owned()).await;
    let url = format!("http://127.0.0.1:{port}/rel");
    let run = blocking(move || run(&plan, &url, "")).await;
    assert_stopped_by_panic(&run);
    assert_eq!(
        run.repack_lines()[0],
        format!("repack: download failed http://127.0.0.1:{port}/rel/airootfs.sfs.part2")
    );
}
