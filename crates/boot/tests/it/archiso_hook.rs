//! archiso: the replaced `/hooks/archiso_pxe_http` under busybox sh, inside the mkinitcpio
//! reconstruction of `mkinitcpio.rs`, against a local server laid out as a repack release.

use crate::mkinitcpio::{Flavor, run};
use crate::support::{FakeInitrd, Release, blocking, release, serve};
use repack_boot::{BootInputs, BootPlan, family};
use repack_core::{BootFamilyKind, Sha256Digest};

/// archiso's run_hook defaults (arch from uname, archisobasedir=arch, copytoram=auto) and a
/// mount handler that reports the image where archiso_mount_handler looks for it.
const ARCHISO: &str = r#"
run_hook () {
    arch="$(getarg arch "$(uname -m)")"
    archisobasedir="$(getarg archisobasedir arch)"
    copytoram="$(getarg copytoram auto)"
    mount_handler="archiso_mount_handler"
}
archiso_mount_handler () {
    echo "HANDLER copytoram=$copytoram newroot=$1"
    img="/run/archiso/bootmnt/${archisobasedir}/${arch}/airootfs.sfs"
    [ -f "$img" ] || { echo "ERROR: no root file system image found"; return 1; }
    echo "IMAGE $(sha256sum "$img")"
}
"#;
const PXE_COMMON: &str = r#"
run_latehook () { echo "LATEHOOK copytoram=$copytoram"; }
"#;

const FLAVOR: Flavor = Flavor {
    hooks: ["archiso", "archiso_pxe_common", "archiso_pxe_http"],
    main_hook: ARCHISO,
    common_hook: PXE_COMMON,
    httpspace: "/run/archiso/httpspace",
};

fn plan(release: &Release) -> BootPlan {
    let base = FakeInitrd::default()
        .with("hooks/archiso", "run_hook() { :; }\n")
        .with("hooks/archiso_pxe_http", "run_hook() { :; }\n")
        .with("usr/bin/curl", "\x7fELF")
        .with_busybox("usr/bin/busybox", &["sh", "sha256sum"]);
    family(BootFamilyKind::Archiso)
        .unwrap()
        .plan(&BootInputs {
            rootfs: &release.files,
            initrd_size: 1 << 20,
            extra_args: &[],
            base: &base,
        })
        .unwrap()
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
    let run = blocking(move || run(&FLAVOR, &plan, &url)).await;
    assert!(run.success, "{}\n{}", run.output, run.console);
    assert!(!run.output.contains("STOCK HOOK RAN"));
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
    assert!(run.repack_lines().is_empty(), "{}", run.console);
}

#[tokio::test]
async fn follows_redirects() {
    let release = release(&[("airootfs.sfs", 6_000)], 4096);
    let plan = plan(&release);
    let port = serve(release.dir.path().to_owned()).await;
    let url = format!("http://127.0.0.1:{port}/moved");
    let run = blocking(move || run(&FLAVOR, &plan, &url)).await;
    assert!(run.success, "{}\n{}", run.output, run.console);
    assert!(run.output.contains("IMAGE "), "{}", run.output);
}

#[tokio::test]
async fn corrupted_part_prints_one_line_unmounts_and_never_reaches_archiso() {
    let release = release(&[("airootfs.sfs", 10_000)], 4096);
    release.corrupt("airootfs.sfs.part3");
    let plan = plan(&release);
    let port = serve(release.dir.path().to_owned()).await;
    let url = format!("http://127.0.0.1:{port}/rel");
    let run = blocking(move || run(&FLAVOR, &plan, &url)).await;
    assert!(!run.success);
    assert!(
        run.output.contains("MOUNT HANDLER STATUS 1"),
        "{}",
        run.output
    );
    assert!(run.output.contains("INTERACTIVE SHELL"), "{}", run.output);
    assert!(!run.output.contains("HANDLER copytoram"), "{}", run.output);
    assert!(!run.output.contains("MOUNTED"), "{}", run.output);
    let lines = run.repack_lines();
    assert_eq!(lines.len(), 1, "{}", run.console);
    assert!(
        lines[0].starts_with("repack: sha256 mismatch (got "),
        "{}",
        lines[0]
    );
    assert!(lines[0].ends_with(&format!("http://127.0.0.1:{port}/rel/airootfs.sfs.part3")));
}

#[tokio::test]
async fn missing_part_is_a_download_failure() {
    let release = release(&[("airootfs.sfs", 10_000)], 4096);
    release.remove("airootfs.sfs.part2");
    let plan = plan(&release);
    let port = serve(release.dir.path().to_owned()).await;
    let url = format!("http://127.0.0.1:{port}/rel");
    let run = blocking(move || run(&FLAVOR, &plan, &url)).await;
    assert!(!run.success);
    assert!(!run.output.contains("MOUNTED"), "{}", run.output);
    assert_eq!(
        run.repack_lines(),
        [format!(
            "repack: download failed http://127.0.0.1:{port}/rel/airootfs.sfs.part2"
        )]
    );
}
