//! casper: the real overlay (99repack + rewritten ORDER + rootfs list) inside the
//! initramfs-tools and casper reconstruction of `inits/initramfs_tools.rs` (read from casper's
//! `scripts/casper`: `mountroot`, `find_livefs`, `check_dev`, `do_interactive_netmount`, and
//! initramfs-tools' `run_scripts` and `panic`): `/conf/conf.d/*` sourced first, `ORDER` sourced
//! (each script *executed* as a child, `/conf/param.conf` re-read after each), then
//! `LIVEMEDIA` taken as a directory holding `casper/*.squashfs` and the layer chain built from
//! `LAYERFS_PATH` by dropping dot-components, or the search and the netboot question.

use crate::inits::assert_stopped_by_panic;
use crate::inits::initramfs_tools::{boot_casper, sandbox};
use crate::support::{FakeInitrd, Release, blocking, release, serve, still_mounted_check};
use repack_boot::{BootInputs, BootPlan, family};
use repack_core::{BootFamilyKind, Sha256Digest};

const STOCK_ORDER: &str = "/scripts/casper-premount/10driver_updates \"$@\"\n[ -e /conf/param.conf ] && . /conf/param.conf\n";

fn base(layer: Option<&str>) -> FakeInitrd {
    let base = FakeInitrd::default()
        .with("scripts/casper", "#!/bin/sh\n")
        .with("scripts/casper-premount/ORDER", STOCK_ORDER)
        .with_busybox("usr/bin/busybox", &["sh", "sha256sum", "wget"]);
    match layer {
        Some(layer) => base.with(
            "conf/conf.d/default-layer.conf",
            format!("LAYERFS_PATH={layer}\n"),
        ),
        None => base,
    }
}

fn plan(release: &Release, base: &FakeInitrd) -> BootPlan {
    family(BootFamilyKind::Casper)
        .unwrap()
        .plan(&BootInputs {
            rootfs: &release.files,
            side_files: &[],
            initrd_size: 1 << 20,
            extra_args: &[],
            base,
        })
        .unwrap()
}

fn run(plan: &BootPlan, layer: Option<&str>, base_url: &str) -> crate::support::Run {
    run_with(plan, layer, base_url, "")
}

fn run_with(
    plan: &BootPlan,
    layer: Option<&str>,
    base_url: &str,
    extra: &str,
) -> crate::support::Run {
    // The stock files first; the plan's own ORDER (applied after them) replaces the stock one.
    let sandbox = sandbox(plan, base_url, extra);
    sandbox.write(
        "scripts/casper-premount/10driver_updates",
        "#!/bin/sh\necho driver-updates-ran >> /tmp/ran\n",
        0o755,
    );
    sandbox.write("scripts/casper-premount/ORDER", STOCK_ORDER, 0o644);
    if let Some(layer) = layer {
        sandbox.write(
            "conf/conf.d/default-layer.conf",
            format!("LAYERFS_PATH={layer}\n"),
            0o644,
        );
    }
    sandbox.apply(plan);
    let check = format!("cat /tmp/ran\n{}", still_mounted_check(&["/run/repack"]));
    boot_casper(&sandbox, &check)
}

fn layer_lines(release: &Release, names: &[&str]) -> Vec<String> {
    names
        .iter()
        .map(|name| {
            let data = &release.originals.iter().find(|(n, _)| n == name).unwrap().1;
            format!(
                "LAYER {}  /run/repack/casper/{name}",
                Sha256Digest::of(data)
            )
        })
        .collect()
}

const LAYERS: &[(&str, usize)] = &[
    ("minimal.squashfs", 9_000),
    ("minimal.standard.squashfs", 5_000),
    ("minimal.standard.live.squashfs", 3_000),
    ("minimal.fr.squashfs", 2_000),
];

#[tokio::test]
async fn fetches_the_default_layer_chain_and_hands_casper_a_directory() {
    let release = release(LAYERS, 4096);
    let base = base(Some("minimal.standard.live.squashfs"));
    let plan = plan(&release, &base);
    let port = serve(release.dir.path().to_owned()).await;
    let url = format!("http://127.0.0.1:{port}/rel");
    let run = blocking(move || run(&plan, Some("minimal.standard.live.squashfs"), &url)).await;
    assert!(run.success, "{}\n{}", run.output, run.console);
    assert!(
        run.output.contains("driver-updates-ran"),
        "stock premount script must still run"
    );
    assert!(run.output.contains("MOUNTED /run/repack"), "{}", run.output);
    assert!(run.output.contains("LIVEMEDIA=/run/repack"));
    // casper lists the chain top first; the language layer is never fetched.
    let expected = layer_lines(
        &release,
        &[
            "minimal.standard.live.squashfs",
            "minimal.standard.squashfs",
            "minimal.squashfs",
        ],
    );
    let got: Vec<&str> = run
        .output
        .lines()
        .filter(|l| l.starts_with("LAYER"))
        .collect();
    assert_eq!(got, expected);
    assert!(
        run.repack_lines().is_empty(),
        "success prints nothing on the console: {}",
        run.console
    );
}

#[tokio::test]
async fn single_image_releases_without_a_default_layer_follow_redirects() {
    let release = release(&[("filesystem.squashfs", 10_000)], 4096);
    let base = base(None);
    let plan = plan(&release, &base);
    let port = serve(release.dir.path().to_owned()).await;
    let url = format!("http://127.0.0.1:{port}/moved");
    let run = blocking(move || run(&plan, None, &url)).await;
    assert!(run.success, "{}\n{}", run.output, run.console);
    let got: Vec<&str> = run
        .output
        .lines()
        .filter(|l| l.starts_with("LAYER"))
        .collect();
    assert_eq!(got, layer_lines(&release, &["filesystem.squashfs"]));
}

#[tokio::test]
async fn corrupted_part_prints_its_line_and_panics_before_casper_searches_or_asks() {
    let release = release(LAYERS, 4096);
    release.corrupt("minimal.squashfs.part2");
    let base = base(Some("minimal.standard.live.squashfs"));
    let plan = plan(&release, &base);
    let port = serve(release.dir.path().to_owned()).await;
    let url = format!("http://127.0.0.1:{port}/rel");
    // Even with panic=-1, casper itself would ask its netboot question: ours must stop first.
    let run = blocking(move || {
        run_with(
            &plan,
            Some("minimal.standard.live.squashfs"),
            &url,
            " panic=-1",
        )
    })
    .await;
    assert!(!run.success);
    assert_stopped_by_panic(&run);
    assert!(!run.output.contains("LIVEMEDIA="), "{}", run.output);
    let lines = run.repack_lines();
    assert_eq!(lines.len(), 2, "{}", run.console);
    assert!(
        lines[0].starts_with("repack: sha256 mismatch (got "),
        "{}",
        lines[0]
    );
    assert!(
        lines[0].ends_with(&format!(
            "http://127.0.0.1:{port}/rel/minimal.squashfs.part2"
        )),
        "{}",
        lines[0]
    );
}

#[tokio::test]
async fn missing_part_is_a_download_failure_and_stops_the_boot() {
    let release = release(LAYERS, 4096);
    release.remove("minimal.standard.squashfs.part2");
    let base = base(Some("minimal.standard.live.squashfs"));
    let plan = plan(&release, &base);
    let port = serve(release.dir.path().to_owned()).await;
    let url = format!("http://127.0.0.1:{port}/rel");
    let run = blocking(move || run(&plan, Some("minimal.standard.live.squashfs"), &url)).await;
    assert_stopped_by_panic(&run);
    assert_eq!(
        run.repack_lines()[0],
        format!(
            "repack: download failed http://127.0.0.1:{port}/rel/minimal.standard.squashfs.part2"
        )
    );
}

#[tokio::test]
async fn a_premount_script_without_the_executable_bit_never_runs() {
    // The reconstruction runs ORDER as initramfs-tools does: each line executes its script.
    // Without 0755 the script fails to start and casper goes on to its search and question.
    let release = release(&[("filesystem.squashfs", 4_000)], 4096);
    let base = base(None);
    let mut plan = plan(&release, &base);
    let hook = plan
        .overlay
        .iter_mut()
        .find(|file| file.path == repack_boot::casper::HOOK_PATH)
        .unwrap();
    assert_eq!(hook.mode, 0o755, "ORDER executes premount scripts");
    hook.mode = 0o644;
    let port = serve(release.dir.path().to_owned()).await;
    let url = format!("http://127.0.0.1:{port}/rel");
    let run = blocking(move || run(&plan, None, &url)).await;
    assert!(!run.panicked);
    assert!(
        run.output
            .contains("Attempt interactive netboot from a URL?"),
        "{}",
        run.output
    );
}
