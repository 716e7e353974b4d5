//! dracut's side, reduced to what a hook can observe (rules 1–3 of
//! `repack_boot::init_rules`, "dracut"), read from dracut 059 / dracut-ng: `dracut-lib.sh`
//! (`getarg`, `info`, `warn`, `hookdir`, `source_all`/`source_hook`: every existing
//! `<hookdir>/<stage>/*.sh` sourced in name order into one shell), livenet's
//! `parse-livenet.sh` (`root=live:<url>` → `netroot=livenet:<url>`), `netroot.sh`
//! (`handler=$(command -v <scheme>root)`, "No handler" when it does not exist, then executed as
//! a child for each interface that comes up), url-lib's `curl_args` and `fetch_url URL
//! OUTFILE` (regular files only), a `dmsquash-live-root` stub that reports the
//! file it is handed, and the initqueue timeout that ends in the emergency shell when no root
//! appeared. Bash is the shell of real dracut initrds; busybox sh is stricter.

use crate::support::{FakeInitrd, Run, Sandbox};
use repack_boot::BootPlan;

/// dracut-ng's hook directory (dracut ≤ 059 used `/lib/dracut/hooks`).
pub const HOOKDIR: &str = "var/lib/dracut/hooks";

pub const DRACUT_LIB: &str = r#"
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
die () { echo "dracut FATAL: $*"; echo "EMERGENCY SHELL (dracut)"; exit 1; }
source_all () {
    [ -d "/$1" ] || return 0
    for repack_test_f in "/$1"/*.sh; do
        [ -e "$repack_test_f" ] && . "$repack_test_f"
    done
}
source_hook () { source_all "$hookdir/$1"; }
"#;
/// url-lib's `curl_args` (redirects, HTTP errors fail; `--insecure` for rd.noverifyssl and
/// `--proxy` for proxy= are added the same way) and its `fetch_url`, which refuses any output
/// that is not a regular file afterwards (`[ -f "$outloc" ]`, return 253): it cannot write
/// to a pipe, which is why the hook runs curl itself with these arguments.
pub const URL_LIB: &str = r#"
curl_args="--globoff --location --retry 3 --retry-connrefused --fail --show-error"
getarg rd.noverifyssl > /dev/null && curl_args="$curl_args --insecure"
repack_test_proxy=$(getarg proxy=) && curl_args="$curl_args --proxy $repack_test_proxy"
fetch_url () {
    curl $curl_args --output "$2" -- "$1" || return $?
    if ! [ -f "$2" ]; then warn "Downloading '$1' failed!"; return 253; fi
}
"#;
/// livenet's parser, reduced to what it does for an http root.
pub const PARSE_LIVENET: &str = r#"
[ -z "${root:-}" ] && root=$(getarg root=)
case "$root" in live:http://*|live:https://*) netroot="livenet:${root#live:}"; root=livenet; rootok=1 ;; esac
"#;
pub const DMSQUASH_LIVE_ROOT: &str = "#!/bin/sh\necho \"DMSQUASH-LIVE-ROOT $(sha256sum \"$1\")\"\n";
pub const LIVENETROOT: &str = "#!/bin/sh\necho LIVENETROOT RAN\n";

/// The upstream initrd's files the dracut family reads at build time and the hooks use.
pub fn base() -> FakeInitrd {
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

/// Boots: the cmdline hooks, then `netroot.sh` for two interfaces, then the initqueue's
/// verdict. `check` runs when a root was handed over.
pub fn boot(plan: &BootPlan, base_url: &str, check: &str) -> Run {
    let sandbox = Sandbox::new();
    sandbox.install_host_binary("curl");
    for (path, contents) in &base().0 {
        if !path.ends_with("curl") && !path.ends_with("sha256sum") {
            let mode = if path.starts_with("sbin/") {
                0o755
            } else {
                0o644
            };
            sandbox.write(path, contents, mode);
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
for netif in eth0 eth1; do
    handler=${{netroot%%:*}}
    handler=$(command -v "${{handler}}root")
    if [ -z "$netroot" ] || [ ! -e "$handler" ]; then die "No handler for netroot type '$netroot'"; fi
    "$handler" "$netif" "$netroot" /sysroot
    echo "HANDLER STATUS $?"
done
if [ -z "$(ls /run/repack 2>/dev/null)" ]; then
    warn "Could not boot."
    echo "EMERGENCY SHELL (dracut)"
    exit 1
fi
{check}"#
    );
    sandbox.run(&script)
}
