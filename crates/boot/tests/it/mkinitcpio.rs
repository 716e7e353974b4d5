//! A reconstruction of the mkinitcpio side of the archiso and miso interface, read from
//! archlinux/mkinitcpio (`init`, `init_functions`: `getarg`, `msg`, `launch_interactive_shell`,
//! hooks sourced from `/hooks/<name>` in HOOKS order with `run_hook`, then
//! `"$mount_handler" /new_root`, then `run_latehook`), archlinux/mkinitcpio-archiso
//! (`hooks/archiso`, `hooks/archiso_pxe_common`) and Manjaro's miso hooks (as forked in
//! garuda-linux/garuda-tools `initcpio/hooks/miso`): the family's main hook is a stub that
//! sets the same variables and whose mount handler prints what it finds where the real one
//! looks for the images.

use crate::support::{Run, Sandbox, still_mounted_check};
use repack_boot::BootPlan;

pub struct Flavor {
    /// HOOKS, in order; the last one is the replaced `*_pxe_http`.
    pub hooks: [&'static str; 3],
    /// The main hook stub (defines run_hook and the family's mount handler).
    pub main_hook: &'static str,
    /// The pxe_common stub (its late hook looks at copytoram).
    pub common_hook: &'static str,
    pub httpspace: &'static str,
}

pub const INIT_FUNCTIONS: &str = r#"
msg () { echo "$@"; }
launch_interactive_shell () { echo "INTERACTIVE SHELL"; }
getarg () {
    for repack_test_arg in $(cat /proc/cmdline); do
        case "$repack_test_arg" in
            "$1="*) echo "${repack_test_arg#*=}"; return 0 ;;
            "$1") echo y; return 0 ;;
        esac
    done
    [ -n "${2:-}" ] && echo "$2"
    return 0
}
"#;

pub fn run(flavor: &Flavor, plan: &BootPlan, base_url: &str) -> Run {
    let sandbox = Sandbox::new();
    sandbox.install_host_binary("curl");
    sandbox.write(
        &format!("hooks/{}", flavor.hooks[0]),
        flavor.main_hook,
        0o644,
    );
    sandbox.write(
        &format!("hooks/{}", flavor.hooks[1]),
        flavor.common_hook,
        0o644,
    );
    sandbox.write(
        &format!("hooks/{}", flavor.hooks[2]),
        "run_hook () { echo STOCK HOOK RAN; }\n",
        0o644,
    );
    sandbox.apply(plan);
    sandbox.write(
        "proc/cmdline",
        format!("{}\n", plan.cmdline.replace("{base}", base_url)),
        0o444,
    );
    let script = format!(
        r#"{INIT_FUNCTIONS}
mount_handler=default_mount_handler
for hook in {hooks}; do
    unset -f run_hook run_latehook
    . "/hooks/$hook"
    if command -v run_hook > /dev/null; then run_hook; fi
done
"$mount_handler" /new_root
status=$?
echo "MOUNT HANDLER STATUS $status"
. /hooks/{common}
run_latehook
{check}
exit $status
"#,
        hooks = flavor.hooks.join(" "),
        common = flavor.hooks[1],
        check = still_mounted_check(&[flavor.httpspace]),
    );
    sandbox.run(&script)
}
