//! casper: runs the real overlay (99repack + rewritten ORDER + rootfs list) under busybox sh
//! against a reconstruction of casper's side of the interface, read from casper 1.498's
//! `scripts/casper` (`mountroot`, `find_livefs`, `check_dev`, `setup_overlay`; mirrored on
//! GitHub as lucasgertke11-bot/casper_modo_antigo) and initramfs-tools' `run_scripts`:
//! `/conf/conf.d/*` sourced first, `ORDER` sourced (each script a child, `/conf/param.conf`
//! re-read after each), then `LIVEMEDIA` taken as a directory holding `casper/*.squashfs`
//! and the layer chain built from `LAYERFS_PATH` by dropping dot-components.

use crate::support::{FakeInitrd, Release, Sandbox, blocking, release, serve, still_mounted_check};
use repack_boot::{BootInputs, BootPlan, family};
use repack_core::{BootFamilyKind, Sha256Digest};

const STOCK_ORDER: &str = "/scripts/casper-premount/10driver_updates \"$@\"\n[ -e /conf/param.conf ] && . /conf/param.conf\n";

const MOUNTROOT: &str = r#"
for repack_test_conf in /conf/conf.d/*; do [ -f "$repack_test_conf" ] && . "$repack_test_conf"; done
LIVE_MEDIA_PATH=casper
LIVEMEDIA=""
# initramfs-tools run_scripts with an ORDER file: source it.
[ -f /scripts/casper-premount/ORDER ] && . /scripts/casper-premount/ORDER
__CHECK__
# find_livefs -> check_dev: a LIVEMEDIA directory holding casper/*.squashfs, no UUID check.
if [ -z "$LIVEMEDIA" ] || [ ! -d "$LIVEMEDIA/$LIVE_MEDIA_PATH" ]; then echo "NO LIVEMEDIA"; exit 3; fi
dir="$LIVEMEDIA/$LIVE_MEDIA_PATH"
set -- "$dir"/*.squashfs
[ -e "$1" ] || { echo "NOT A CASPER PATH"; exit 3; }
# setup_overlay: the layer chain from LAYERFS_PATH, or every image.
if [ -n "${LAYERFS_PATH:-}" ]; then
    name=${LAYERFS_PATH%.*}; ext=${LAYERFS_PATH##*.}
    while :; do
        [ -f "$dir/$name.$ext" ] || { echo "MISSING LAYER $name.$ext"; exit 4; }
        echo "LAYER $(sha256sum "$dir/$name.$ext")"
        parent=${name%.*}; [ "$parent" = "$name" ] && break; name=$parent
    done
else
    for image in "$dir"/*.squashfs; do echo "LAYER $(sha256sum "$image")"; done
fi
echo "LIVEMEDIA=$LIVEMEDIA"
"#;

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
            initrd_size: 1 << 20,
            extra_args: &[],
            base,
        })
        .unwrap()
}

fn run(plan: &BootPlan, layer: Option<&str>, base_url: &str) -> crate::support::Run {
    let sandbox = Sandbox::new();
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
    sandbox.write("conf/param.conf", "", 0o644);
    sandbox.apply(plan);
    let cmdline = plan.cmdline.replace("{base}", base_url);
    sandbox.write("proc/cmdline", format!("{cmdline}\n"), 0o444);
    let check = format!("cat /tmp/ran\n{}", still_mounted_check(&["/run/repack"]));
    sandbox.run(&MOUNTROOT.replace("__CHECK__", &check))
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
async fn corrupted_part_prints_one_line_and_leaves_nothing_mounted() {
    let release = release(LAYERS, 4096);
    release.corrupt("minimal.squashfs.part2");
    let base = base(Some("minimal.standard.live.squashfs"));
    let plan = plan(&release, &base);
    let port = serve(release.dir.path().to_owned()).await;
    let url = format!("http://127.0.0.1:{port}/rel");
    let run = blocking(move || run(&plan, Some("minimal.standard.live.squashfs"), &url)).await;
    assert!(!run.success);
    assert!(run.output.contains("NO LIVEMEDIA"), "{}", run.output);
    assert!(!run.output.contains("MOUNTED"), "{}", run.output);
    let lines = run.repack_lines();
    assert_eq!(lines.len(), 1, "{}", run.console);
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
async fn missing_part_is_a_download_failure_and_the_script_exits_non_zero() {
    let release = release(LAYERS, 4096);
    release.remove("minimal.standard.squashfs.part2");
    let base = base(Some("minimal.standard.live.squashfs"));
    let plan = plan(&release, &base);
    let port = serve(release.dir.path().to_owned()).await;
    let url = format!("http://127.0.0.1:{port}/rel");
    let run = blocking(move || {
        let sandbox = Sandbox::new();
        sandbox.apply(&plan);
        sandbox.write("proc/cmdline", plan.cmdline.replace("{base}", &url), 0o444);
        sandbox.run(&format!(
            "/scripts/casper-premount/99repack; echo \"EXIT $?\"\ncat /conf/param.conf\n{}",
            still_mounted_check(&["/run/repack"])
        ))
    })
    .await;
    assert!(run.output.contains("EXIT 1"), "{}", run.output);
    assert!(!run.output.contains("LIVEMEDIA"), "{}", run.output);
    assert!(!run.output.contains("MOUNTED"), "{}", run.output);
    assert_eq!(
        run.repack_lines(),
        [format!(
            "repack: download failed http://127.0.0.1:{port}/rel/minimal.standard.squashfs.part2"
        )]
    );
}
