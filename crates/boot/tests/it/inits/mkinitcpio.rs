//! mkinitcpio's `/init` and `init_functions`, reduced to what a hook can observe (rules 1–7
//! of `repack_boot::init_rules`, "mkinitcpio"): the hooks listed in `/config` run in order,
//! each only when executable, sourced into the one shell after `unset run_hook` and skipped
//! without `run_hook`; `disablehooks=` makes hooks 0644 first; PATH is mkinitcpio's and the
//! working directory `/`; the command line becomes shell variables and `/tmp/cmdline` for
//! `getarg`; then `"$mount_handler" /new_root`, the late and cleanup hooks, and when nothing
//! is mounted on `/new_root` the emergency shell. The family's main hook (`archiso`, `miso`)
//! is a stub that sets the same variables and whose mount handler checks what the real one
//! checks where it looks (bootmnt a mount point, the images, `checksum=y`'s sha512 file).

use crate::support::{Run, Sandbox};
use repack_boot::BootPlan;

/// mkinitcpio's PATH (`init`).
pub const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/bin";

pub struct Flavor {
    /// `/config`'s HOOKS, in order (the hook repack replaces among them).
    pub hooks: &'static [&'static str],
    /// `/config`'s LATEHOOKS.
    pub late_hooks: &'static [&'static str],
    /// The stub of each stock hook, by name (the replaced one included: its stock text).
    pub stock: &'static [(&'static str, &'static str)],
    pub httpspace: &'static str,
}

/// `init_functions`: msg, err, the prompt, the command line, run_hookfunctions.
pub const INIT_FUNCTIONS: &str = r#"
msg () { echo "$@"; }
err () { echo "ERROR: $*"; }
launch_interactive_shell () { echo "INTERACTIVE SHELL (mkinitcpio) $*"; }
parse_cmdline () {
    read -r repack_test_cmdline
    : > /tmp/cmdline
    for repack_test_word in $repack_test_cmdline; do
        case "$repack_test_word" in
            *=*) repack_test_key="${repack_test_word%%=*}"; repack_test_value="${repack_test_word#*=}" ;;
            *) repack_test_key="$repack_test_word"; repack_test_value="" ;;
        esac
        echo "$repack_test_key=${repack_test_value:-y}" >> /tmp/cmdline
        case "$repack_test_key" in
            [!a-zA-Z_]* | *[!a-zA-Z0-9_]*) ;;
            *) eval "$repack_test_key"='${repack_test_value:-y}' ;;
        esac
    done
}
getarg () {
    repack_test_raw="$(grep -s "^$1=" /tmp/cmdline | tail -n 1)"
    if [ -n "$repack_test_raw" ]; then
        repack_test_value="${repack_test_raw#*=}"
        printf '%s' "${repack_test_value:-$2}"
    else
        printf '%s' "$2"
    fi
}
run_hookfunctions () {
    repack_test_fn="$1"; repack_test_desc="$2"; shift 2
    for repack_test_hook in "$@"; do
        [ -x "/hooks/$repack_test_hook" ] || continue
        unset "$repack_test_fn"
        . "/hooks/$repack_test_hook"
        type "$repack_test_fn" > /dev/null 2>&1 || continue
        msg ":: running $repack_test_desc [$repack_test_hook]"
        "$repack_test_fn"
    done
}
"#;

/// `/init`, from the command line to switch_root.
pub const INIT: &str = r#"
mount_handler=default_mount_handler
. /init_functions
parse_cmdline < /proc/cmdline
for repack_test_off in $(getarg disablehooks | tr ',' ' '); do
    [ -e "/hooks/$repack_test_off" ] && chmod 644 "/hooks/$repack_test_off"
done
. /config
run_hookfunctions run_earlyhook 'early hook' $EARLYHOOKS
run_hookfunctions run_hook 'hook' $HOOKS
default_mount_handler () { err "Failed to mount '$root' on real root"; launch_interactive_shell; }
"$mount_handler" /new_root
run_hookfunctions run_latehook 'late hook' $LATEHOOKS
run_hookfunctions run_cleanuphook 'cleanup hook' $CLEANUPHOOKS
if [ "$(stat -c %d /)" = "$(stat -c %d /new_root)" ]; then
    err "Failed to mount the real root device."
    launch_interactive_shell --exec
    exit 1
fi
echo "SWITCH_ROOT /new_root"
"#;

/// Runs mkinitcpio's `/init` in a sandbox holding the stock hooks (0755, as the build
/// installs them), `/config`, the plan's overlay applied over them with its modes, and the
/// plan's command line (with `extra` appended) as `/proc/cmdline`. `check` runs afterwards.
pub fn boot(flavor: &Flavor, plan: &BootPlan, base_url: &str, extra: &str, check: &str) -> Run {
    let sandbox = Sandbox::new();
    sandbox.install_host_binary("curl");
    for (name, text) in flavor.stock {
        sandbox.write(&format!("hooks/{name}"), text, 0o755);
    }
    sandbox.write(
        "config",
        format!(
            "EARLYHOOKS=\"\"\nHOOKS=\"{}\"\nLATEHOOKS=\"{}\"\nCLEANUPHOOKS=\"\"\nEMERGENCYHOOKS=\"\"\n",
            flavor.hooks.join(" "),
            flavor.late_hooks.join(" ")
        ),
        0o644,
    );
    sandbox.write("init_functions", INIT_FUNCTIONS, 0o644);
    sandbox.apply(plan);
    sandbox.write(
        "proc/cmdline",
        format!("{}{extra}\n", plan.cmdline.replace("{base}", base_url)),
        0o444,
    );
    sandbox.run_with_path(&format!("{INIT}\n{check}"), PATH)
}
