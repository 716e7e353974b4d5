//! initramfs-tools' `/init` and `scripts/functions`, reduced to what a hook can observe (rules
//! 1–5 of `repack_boot::init_rules`, "initramfs-tools"), with the two families that run on
//! it: live-boot (components `/lib/live/boot/????-*` sourced in glob order when they exist,
//! `do_netmount` → `do_httpmount` for `fetch=`, `panic` when it fails) and casper (premount
//! scripts run through `run_scripts`, i.e. by sourcing the ORDER file, which *executes* each
//! script as a child and re-reads `/conf/param.conf`; then `LIVEMEDIA` as a directory without
//! UUID check, the other media searched, and the interactive netboot question).

use crate::support::{Run, Sandbox};
use repack_boot::BootPlan;

/// `scripts/functions`: `panic` (reboot or halt with `panic=`, else the rescue shell) and the
/// boot-time `run_scripts`, which only sources ORDER.
pub const FUNCTIONS: &str = r#"
panic () {
    echo "$@"
    if [ -n "${panic:-}" ]; then
        echo "Rebooting automatically due to panic= boot argument"
        exit 1
    fi
    echo "(initramfs) SHELL"
}
run_scripts () {
    [ -d "$1" ] || return 0
    repack_test_dir="$1"
    shift
    . "$repack_test_dir/ORDER"
}
"#;

/// `/init` up to `mountroot`: the command line into variables, conf.d sourced.
pub const INIT_HEAD: &str = r#"
. /scripts/functions
for repack_test_x in $(cat /proc/cmdline); do
    case "$repack_test_x" in
        panic=*) panic="${repack_test_x#panic=}" ;;
        fetch=*) FETCH="${repack_test_x#fetch=}" ;;
        layerfs-path=*) LAYERFS_PATH="${repack_test_x#layerfs-path=}" ;;
    esac
done
for repack_test_conf in /conf/conf.d/*; do [ -f "$repack_test_conf" ] && . "$repack_test_conf"; done
"#;

/// live-boot's `/bin/live-boot` and `9990-main.sh`'s network path, then what `Live` does
/// with the medium: list the images it would mount and switch root.
pub const LIVE_BOOT: &str = r#"
mountpoint=/run/live/medium
LIVE_MEDIA_PATH=live
for repack_test_component in /lib/live/boot/????-*; do
    if [ -e "$repack_test_component" ]; then . "$repack_test_component"; fi
done
do_netmount () { do_httpmount; return $?; }
if [ -n "${FETCH:-}" ]; then
    if do_netmount; then
        livefs_root="${mountpoint}"
    else
        panic "Unable to find a live file system on the network"
        exit 1
    fi
else
    echo "SEARCHING local media"
    exit 1
fi
for repack_test_image in "$livefs_root/$LIVE_MEDIA_PATH"/*.squashfs; do
    [ -f "$repack_test_image" ] && echo "IMAGE $(sha256sum "$repack_test_image")"
done
echo "SWITCH_ROOT"
"#;

/// The stock live-boot component that defines `do_httpmount` (replaced by ours).
pub const LIVE_BOOT_STOCK_HTTP: &str =
    "do_httpmount () { echo \"STOCK do_httpmount RAN\"; return 1; }\n";

/// casper's `mountroot`: premount scripts through ORDER, then `find_livefs` (LIVEMEDIA first,
/// as a directory holding `casper/*.squashfs`, no UUID check), the layer chain from
/// LAYERFS_PATH (or every image), or, when nothing is found, the other media and the
/// interactive netboot question.
pub const CASPER: &str = r#"
LIVE_MEDIA_PATH=casper
LIVEMEDIA=""
run_scripts /scripts/casper-premount
__CHECK__
if [ -z "$LIVEMEDIA" ] || [ ! -d "$LIVEMEDIA/$LIVE_MEDIA_PATH" ]; then
    echo "SEARCHING /dev/sr0: can't open /dev/sr0"
    echo "Unable to find a medium containing a live file system"
    echo "Attempt interactive netboot from a URL?"
    read -r RET < /dev/null || true
    panic "Unable to find a medium containing a live file system"
    exit 3
fi
dir="$LIVEMEDIA/$LIVE_MEDIA_PATH"
set -- "$dir"/*.squashfs
[ -e "$1" ] || { echo "NOT A CASPER PATH"; exit 3; }
if [ -n "${LAYERFS_PATH:-}" ]; then
    name=${LAYERFS_PATH%.*}; ext=${LAYERFS_PATH##*.}
    while :; do
        [ -f "$dir/$name.$ext" ] || { panic "File system layers are missing: $name.$ext"; exit 4; }
        echo "LAYER $(sha256sum "$dir/$name.$ext")"
        parent=${name%.*}; [ "$parent" = "$name" ] && break; name=$parent
    done
else
    for image in "$dir"/*.squashfs; do echo "LAYER $(sha256sum "$image")"; done
fi
echo "LIVEMEDIA=$LIVEMEDIA"
echo "SWITCH_ROOT"
"#;

/// A sandbox with initramfs-tools' functions in place and the plan's command line plus
/// `extra` as `/proc/cmdline`; the caller writes the stock files, then applies the plan.
pub fn sandbox(plan: &BootPlan, base_url: &str, extra: &str) -> Sandbox {
    let sandbox = Sandbox::new();
    sandbox.write("scripts/functions", FUNCTIONS, 0o644);
    sandbox.write("conf/param.conf", "", 0o644);
    sandbox.write(
        "proc/cmdline",
        format!("{}{extra}\n", plan.cmdline.replace("{base}", base_url)),
        0o444,
    );
    sandbox
}

/// Boots live-boot: its stock components in `/lib/live/boot/`, ours as the plan placed it.
pub fn boot_live(plan: &BootPlan, base_url: &str, extra: &str) -> Run {
    let sandbox = sandbox(plan, base_url, extra);
    sandbox.write(
        "lib/live/boot/0001-init-vars.sh",
        "LIVE_BOOT_CMDLINE=\"$(cat /proc/cmdline)\"\n",
        0o644,
    );
    sandbox.write(
        "lib/live/boot/9990-mount-http.sh",
        LIVE_BOOT_STOCK_HTTP,
        0o644,
    );
    sandbox.apply(plan);
    sandbox.run(&format!("{INIT_HEAD}{LIVE_BOOT}"))
}

/// Runs `/init` up to casper's mountroot; `check` runs right after the premount scripts.
pub fn boot_casper(sandbox: &Sandbox, check: &str) -> Run {
    sandbox.run(&format!(
        "{INIT_HEAD}{}",
        CASPER.replace("__CHECK__", check)
    ))
}
