//! miso: the replaced `/hooks/miso_pxe_http` under busybox sh, inside the mkinitcpio
//! reconstruction of `mkinitcpio.rs`, with all four Manjaro images.

use crate::mkinitcpio::{Flavor, run};
use crate::support::{FakeInitrd, Release, blocking, release, serve};
use repack_boot::{BootInputs, BootPlan, family};
use repack_core::{BootFamilyKind, Sha256Digest};

/// miso's run_hook defaults and a mount handler that reports each image where
/// miso_mount_handler stacks them (livefs, mhwdfs, desktopfs, rootfs).
const MISO: &str = r#"
run_hook () {
    [ -z "${arch:-}" ] && arch="$(uname -m)"
    [ -z "${copytoram_size:-}" ] && copytoram_size="75%"
    misobasedir="$(getarg misobasedir manjaro)"
    mount_handler="miso_mount_handler"
}
miso_mount_handler () {
    echo "HANDLER copytoram=$copytoram newroot=$1"
    src="/run/miso/bootmnt/${misobasedir}/${arch}"
    for sfs in livefs mhwdfs desktopfs rootfs; do
        [ -f "$src/$sfs.sfs" ] && echo "IMAGE $(sha256sum "$src/$sfs.sfs")"
    done
    return 0
}
"#;
const PXE_COMMON: &str = r#"
run_latehook () { echo "LATEHOOK copytoram=$copytoram"; }
"#;

const FLAVOR: Flavor = Flavor {
    hooks: ["miso", "miso_pxe_common", "miso_pxe_http"],
    main_hook: MISO,
    common_hook: PXE_COMMON,
    httpspace: "/run/miso/httpspace",
};

const IMAGES: &[(&str, usize)] = &[
    ("rootfs.sfs", 9_000),
    ("desktopfs.sfs", 6_000),
    ("mhwdfs.sfs", 3_000),
    ("livefs.sfs", 2_000),
];

fn plan(release: &Release) -> BootPlan {
    let base = FakeInitrd::default()
        .with("hooks/miso", "run_hook() { :; }\n")
        .with("hooks/miso_pxe_http", "run_hook() { :; }\n")
        .with("usr/bin/curl", "\x7fELF")
        .with_busybox("usr/bin/busybox", &["sh", "sha256sum"]);
    family(BootFamilyKind::Miso)
        .unwrap()
        .plan(&BootInputs {
            rootfs: &release.files,
            initrd_size: 1 << 20,
            extra_args: &[],
            base: &base,
        })
        .unwrap()
}

#[tokio::test]
async fn fetches_all_four_images_through_a_redirect() {
    let release = release(IMAGES, 4096);
    let plan = plan(&release);
    let port = serve(release.dir.path().to_owned()).await;
    let url = format!("http://127.0.0.1:{port}/moved");
    let run = blocking(move || run(&FLAVOR, &plan, &url)).await;
    assert!(run.success, "{}\n{}", run.output, run.console);
    assert!(
        run.output.contains("HANDLER copytoram=n newroot=/new_root"),
        "{}",
        run.output
    );
    assert!(run.output.contains("LATEHOOK copytoram=y"));
    let images: Vec<&str> = run
        .output
        .lines()
        .filter(|l| l.starts_with("IMAGE "))
        .collect();
    assert_eq!(images.len(), 4, "{}", run.output);
    for (name, data) in &release.originals {
        let line = images.iter().find(|l| {
            l.ends_with(&format!(
                "/manjaro/{}/{name}",
                crate::archiso_hook::machine()
            ))
        });
        let line = line.unwrap_or_else(|| panic!("{name} missing: {}", run.output));
        assert!(line.contains(&Sha256Digest::of(data).to_string()), "{line}");
    }
    assert!(run.repack_lines().is_empty(), "{}", run.console);
}

#[tokio::test]
async fn corrupted_part_prints_one_line_and_unmounts() {
    let release = release(IMAGES, 4096);
    release.corrupt("desktopfs.sfs.part2");
    let plan = plan(&release);
    let port = serve(release.dir.path().to_owned()).await;
    let url = format!("http://127.0.0.1:{port}/rel");
    let run = blocking(move || run(&FLAVOR, &plan, &url)).await;
    assert!(!run.success);
    assert!(!run.output.contains("HANDLER copytoram"), "{}", run.output);
    assert!(!run.output.contains("MOUNTED"), "{}", run.output);
    let lines = run.repack_lines();
    assert_eq!(lines.len(), 1, "{}", run.console);
    assert!(
        lines[0].starts_with("repack: sha256 mismatch"),
        "{}",
        lines[0]
    );
    assert!(lines[0].ends_with(&format!("http://127.0.0.1:{port}/rel/desktopfs.sfs.part2")));
}

#[tokio::test]
async fn missing_image_is_a_download_failure() {
    let release = release(IMAGES, 4096);
    release.remove("livefs.sfs");
    let plan = plan(&release);
    let port = serve(release.dir.path().to_owned()).await;
    let url = format!("http://127.0.0.1:{port}/rel");
    let run = blocking(move || run(&FLAVOR, &plan, &url)).await;
    assert!(!run.success);
    assert_eq!(
        run.repack_lines(),
        [format!(
            "repack: download failed http://127.0.0.1:{port}/rel/livefs.sfs"
        )]
    );
}
