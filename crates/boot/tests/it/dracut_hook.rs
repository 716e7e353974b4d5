//! dracut: the cmdline hook and `/sbin/repackroot` under busybox sh against a
//! reconstruction of dracut's side, read from dracut-ng/dracut: `dracut-lib.sh` (`getarg`,
//! `info`, `warn`, `hookdir`), `source_hook cmdline` sourcing `<hookdir>/cmdline/*.sh` in
//! name order in one shell, livenet's `29-parse-livenet.sh` (root=live:<url> ->
//! netroot=livenet:<url>), `45net-lib/netroot.sh` (`handler=$(command -v ${netroot%%:*}root)`
//! then `$handler <netif> <netroot> <newroot>`), url-lib's `fetch_url URL OUTFILE` (curl
//! following redirects, failing on HTTP errors) and a `dmsquash-live-root` stub that reports
//! the file it is handed. Bash is the shell of real dracut initrds; busybox sh is stricter.

use crate::support::{
    FakeInitrd, Release, Run, Sandbox, blocking, release, serve, still_mounted_check,
};
use repack_boot::{BootInputs, BootPlan, family};
use repack_core::{BootFamilyKind, Sha256Digest};

const HOOKDIR: &str = "var/lib/dracut/hooks";

const DRACUT_LIB: &str = r#"
hookdir=/var/lib/dracut/hooks
export hookdir
getarg () {
    for repack_test_arg in $(cat /proc/cmdline); do
        case "$repack_test_arg" in "$1"*) echo "${repack_test_arg#"$1"}"; return 0 ;; esac
    done
    return 1
}
info () { echo "dracut: $*"; }
warn () { echo "dracut Warning: $*"; }
source_hook () { for f in "$hookdir/$1"/*.sh; do [ -f "$f" ] && . "$f"; done; }
"#;
const URL_LIB: &str = r#"
fetch_url () { curl --globoff --location --fail --show-error --silent --output "$2" -- "$1"; }
"#;
/// livenet's parser, reduced to what it does for an http root.
const PARSE_LIVENET: &str = r#"
[ -z "${root:-}" ] && root=$(getarg root=)
case "$root" in live:http://*|live:https://*) netroot="livenet:${root#live:}"; root=livenet; rootok=1 ;; esac
"#;
const DMSQUASH_LIVE_ROOT: &str = "#!/bin/sh\necho \"DMSQUASH-LIVE-ROOT $(sha256sum \"$1\")\"\n";
const LIVENETROOT: &str = "#!/bin/sh\necho LIVENETROOT RAN\n";

fn base() -> FakeInitrd {
    FakeInitrd::default()
        .with("lib/dracut-lib.sh", DRACUT_LIB)
        .with("lib/url-lib.sh", URL_LIB)
        .with("sbin/livenetroot", LIVENETROOT)
        .with("sbin/dmsquash-live-root", DMSQUASH_LIVE_ROOT)
        .with(
            &format!("{HOOKDIR}/cmdline/29-parse-livenet.sh"),
            PARSE_LIVENET,
        )
        .with("usr/bin/curl", "\x7fELF")
        .with("usr/bin/sha256sum", "\x7fELF")
}

fn plan(release: &Release) -> BootPlan {
    family(BootFamilyKind::Dracut)
        .unwrap()
        .plan(&BootInputs {
            rootfs: &release.files,
            initrd_size: 1 << 20,
            extra_args: &[],
            base: &base(),
        })
        .unwrap()
}

fn run(plan: &BootPlan, base_url: &str) -> Run {
    let sandbox = Sandbox::new();
    sandbox.install_host_binary("curl");
    for (path, contents) in &base().0 {
        if !path.ends_with("curl") && !path.ends_with("sha256sum") {
            sandbox.write(path, contents, 0o755);
        }
    }
    sandbox.apply(plan);
    sandbox.write(
        "proc/cmdline",
        format!("{}\n", plan.cmdline.replace("{base}", base_url)),
        0o444,
    );
    let script = format!(
        r#". /lib/dracut-lib.sh
source_hook cmdline
export root netroot
echo "NETROOT $netroot"
# netroot.sh, once for each of two interfaces coming up.
for netif in eth0 eth1; do
    handler=$(command -v "${{netroot%%:*}}root")
    [ -n "$handler" ] || {{ echo "No handler for netroot type '$netroot'"; exit 5; }}
    "$handler" "$netif" "$netroot" /sysroot
    echo "HANDLER STATUS $?"
done
{check}"#,
        check = still_mounted_check(&["/run/repack"])
    );
    sandbox.run(&script)
}

#[tokio::test]
async fn livenet_root_becomes_repack_and_the_joined_image_reaches_dmsquash_live() {
    let release = release(&[("squashfs.img", 10_000)], 4096);
    let plan = plan(&release);
    let port = serve(release.dir.path().to_owned()).await;
    let url = format!("http://127.0.0.1:{port}/rel");
    let run = blocking(move || run(&plan, &url)).await;
    assert!(run.success, "{}\n{}", run.output, run.console);
    assert!(
        run.output.contains(&format!(
            "NETROOT repack:http://127.0.0.1:{port}/rel/squashfs.img"
        )),
        "{}",
        run.output
    );
    assert!(!run.output.contains("LIVENETROOT RAN"));
    let expected = format!(
        "DMSQUASH-LIVE-ROOT {}  /run/repack/squashfs.img",
        Sha256Digest::of(&release.originals[0].1)
    );
    // The second interface finds the work done and hands nothing over twice.
    assert_eq!(
        run.output.matches("DMSQUASH-LIVE-ROOT").count(),
        1,
        "{}",
        run.output
    );
    assert!(run.output.contains(&expected), "{}", run.output);
    assert!(run.repack_lines().is_empty(), "{}", run.console);
}

#[tokio::test]
async fn follows_redirects() {
    let release = release(&[("squashfs.img", 5_000)], 4096);
    let plan = plan(&release);
    let port = serve(release.dir.path().to_owned()).await;
    let url = format!("http://127.0.0.1:{port}/moved");
    let run = blocking(move || run(&plan, &url)).await;
    assert!(run.success, "{}\n{}", run.output, run.console);
    assert!(run.output.contains("DMSQUASH-LIVE-ROOT"), "{}", run.output);
}

#[tokio::test]
async fn corrupted_part_prints_one_line_exits_non_zero_and_unmounts() {
    let release = release(&[("squashfs.img", 10_000)], 4096);
    release.corrupt("squashfs.img.part2");
    let plan = plan(&release);
    let port = serve(release.dir.path().to_owned()).await;
    let url = format!("http://127.0.0.1:{port}/rel");
    let run = blocking(move || run(&plan, &url)).await;
    assert!(run.output.contains("HANDLER STATUS 1"), "{}", run.output);
    assert!(!run.output.contains("DMSQUASH-LIVE-ROOT"), "{}", run.output);
    assert!(!run.output.contains("MOUNTED"), "{}", run.output);
    let lines = run.repack_lines();
    assert_eq!(lines.len(), 1, "{}", run.console);
    assert!(
        lines[0].starts_with("repack: sha256 mismatch (got "),
        "{}",
        lines[0]
    );
    assert!(lines[0].ends_with(&format!("http://127.0.0.1:{port}/rel/squashfs.img.part2")));
}

#[tokio::test]
async fn missing_part_is_a_download_failure() {
    let release = release(&[("squashfs.img", 10_000)], 4096);
    release.remove("squashfs.img.part3");
    let plan = plan(&release);
    let port = serve(release.dir.path().to_owned()).await;
    let url = format!("http://127.0.0.1:{port}/rel");
    let run = blocking(move || run(&plan, &url)).await;
    assert!(run.output.contains("HANDLER STATUS 1"), "{}", run.output);
    assert_eq!(
        run.repack_lines(),
        [format!(
            "repack: download failed http://127.0.0.1:{port}/rel/squashfs.img.part3"
        )]
    );
}
