//! miso: the replaced `/hooks/miso_pxe_http`, run by the mkinitcpio reconstruction of
//! `inits/mkinitcpio.rs`, with all four Manjaro images.

use crate::inits::assert_stopped_by_panic;
use crate::inits::mkinitcpio::{Flavor, boot};
use crate::support::{FakeInitrd, Release, Run, blocking, release, serve, still_mounted_check};
use repack_boot::{BootInputs, BootPlan, family};
use repack_core::{BootFamilyKind, Sha256Digest};

/// miso's main hook, reduced: run_hook's defaults and a mount handler that needs bootmnt
/// mounted and reports each image where miso_mount_handler stacks them.
const MISO: &str = r#"
run_hook () {
    [ -z "${arch:-}" ] && arch="$(uname -m)"
    [ -z "${copytoram_size:-}" ] && copytoram_size="75%"
    misobasedir="$(getarg misobasedir manjaro)"
    mount_handler="miso_mount_handler"
}
miso_mount_handler () {
    echo "HANDLER copytoram=$copytoram newroot=$1"
    if [ "$(stat -c %d /run/miso/bootmnt 2>/dev/null)" = "$(stat -c %d /run/miso)" ]; then
        echo "ERROR: '${misodevice:-}' device did not show up after 30 seconds..."
        launch_interactive_shell
        return 1
    fi
    src="/run/miso/bootmnt/${misobasedir}/${arch}"
    for sfs in livefs mhwdfs desktopfs rootfs; do
        [ -f "$src/$sfs.sfs" ] && echo "IMAGE $(sha256sum "$src/$sfs.sfs")"
    done
    mount -t tmpfs rootfs "$1"
}
"#;
const PXE_COMMON: &str = r#"
run_hook () { :; }
run_latehook () { echo "LATEHOOK copytoram=$copytoram"; }
"#;
const STOCK_HTTP: &str = "run_hook () { echo STOCK HOOK RAN; }\n";

const FLAVOR: Flavor = Flavor {
    hooks: &["miso", "miso_pxe_common", "miso_pxe_http"],
    late_hooks: &["miso_pxe_common"],
    stock: &[
        ("miso", MISO),
        ("miso_pxe_common", PXE_COMMON),
        ("miso_pxe_http", STOCK_HTTP),
    ],
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
        .with(
            "config",
            "HOOKS=\"miso miso_pxe_common miso_pxe_http\"\nLATEHOOKS=\"miso_pxe_common\"\n",
        )
        .with("hooks/miso", MISO)
        .with("hooks/miso_pxe_http", STOCK_HTTP)
        .with("usr/bin/curl", "\x7fELF")
        .with_busybox("usr/bin/busybox", &["sh", "sha256sum"]);
    family(BootFamilyKind::Miso)
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

fn run(plan: &BootPlan, base_url: &str) -> Run {
    boot(
        &FLAVOR,
        plan,
        base_url,
        "",
        &still_mounted_check(&[FLAVOR.httpspace]),
    )
}

#[tokio::test]
async fn fetches_all_four_images_through_a_redirect() {
    let release = release(IMAGES, 4096);
    let plan = plan(&release);
    let port = serve(release.dir.path().to_owned()).await;
    let url = format!("http://127.0.0.1:{port}/moved");
    let run = blocking(move || run(&plan, &url)).await;
    assert!(run.success, "{}\n{}", run.output, run.console);
    assert!(
        run.output.contains("HANDLER copytoram=n newroot=/new_root"),
        "{}",
        run.output
    );
    assert!(run.output.contains("LATEHOOK copytoram=y"));
    assert!(
        run.output.contains(":: running hook [miso_pxe_http]"),
        "{}",
        run.output
    );
    assert!(run.output.contains("SWITCH_ROOT"), "{}", run.output);
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
async fn corrupted_part_prints_its_line_and_panics_before_miso_prompts() {
    let release = release(IMAGES, 4096);
    release.corrupt("desktopfs.sfs.part2");
    let plan = plan(&release);
    let port = serve(release.dir.path().to_owned()).await;
    let url = format!("http://127.0.0.1:{port}/rel");
    let run = blocking(move || run(&plan, &url)).await;
    assert!(!run.success);
    assert_stopped_by_panic(&run);
    assert!(!run.output.contains("HANDLER copytoram"), "{}", run.output);
    let lines = run.repack_lines();
    assert_eq!(lines.len(), 2, "{}", run.console);
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
    let run = blocking(move || run(&plan, &url)).await;
    assert!(!run.success);
    assert_stopped_by_panic(&run);
    assert_eq!(
        run.repack_lines()[0],
        format!("repack: download failed http://127.0.0.1:{port}/rel/livefs.sfs")
    );
}

#[test]
fn the_hook_is_executable_because_mkinitcpio_skips_any_other() {
    let release = release(IMAGES, 4096);
    let plan = plan(&release);
    let hook = plan
        .overlay
        .iter()
        .find(|file| file.path == "hooks/miso_pxe_http")
        .unwrap();
    assert_eq!(hook.mode, 0o755);
}
