//! The rules each family's init system applies to hooks, in our words, with where each was
//! read. A hook that breaks one of them is skipped or fails silently at boot (archiso's and
//! miso's hooks once were 0644 and never ran), so every rule below is enforced by the
//! reconstructions the hook tests run against (`crates/boot/tests/it/inits/`), and the
//! families' overlays are built to satisfy them.
//!
//! # mkinitcpio (archiso, miso)
//! Read in archlinux/mkinitcpio: `init`, `init_functions` (`run_hookfunctions`,
//! `parse_cmdline`, `getarg`, `launch_interactive_shell`, `default_mount_handler`),
//! `functions` (`parse_config`, `add_runscript`); archlinux/mkinitcpio-archiso: `hooks/archiso`,
//! `hooks/archiso_pxe_http`; Manjaro's miso hooks (manjaro-tools `initcpio/hooks/`).
//!
//! 1. Only hooks named in `/config` run, in its order: the build writes
//!    `EARLYHOOKS="…"`, `HOOKS="…"`, `LATEHOOKS="…"`, `CLEANUPHOOKS="…"` there, each listing
//!    only hooks whose script defines the matching function. A new file in `/hooks/` never
//!    runs; replacing a listed one does. (`init`: `. /config`, `run_hookfunctions … $HOOKS`.)
//! 2. A listed hook that is not executable is skipped without a word
//!    (`run_hookfunctions`: `[ -x "/hooks/$hook" ] || continue`). The build installs hooks
//!    0755. Ours is 0755.
//! 3. `disablehooks=a,b` on the kernel line makes those hooks 0644 before any runs
//!    (`init`), i.e. rule 2 turns them off: an operator can still disable ours.
//! 4. A hook is *sourced* into `/init`'s own shell (busybox ash, PID 1) after
//!    `unset run_hook`, and skipped when it defines no `run_hook` (`type run_hook`). Whatever
//!    it defines stays in `/init`'s shell (ours name everything `repack_…`), and `exit` in it
//!    ends PID 1, i.e. panics the kernel.
//! 5. `run_hook` gets no arguments; the working directory is `/`; `PATH` is
//!    `/usr/local/sbin:/usr/local/bin:/usr/bin`; the kernel command line has been parsed into
//!    shell variables (`key=value` sets `$key`, a bare word sets it to `y`, keys that are not
//!    shell names are skipped) and into `/tmp/cmdline`, which `getarg key [default]` reads.
//! 6. After every hook, `/init` runs `"$mount_handler" /new_root` (a hook may set
//!    `mount_handler`). If nothing is mounted on `/new_root` afterwards it runs the emergency
//!    hooks and `launch_interactive_shell --exec`: a prompt on the console, as PID 1.
//! 7. archiso's and miso's own failure paths (`_curl_get`, `_mnt_dev`, a missing image) call
//!    `launch_interactive_shell`, which waits at a prompt whatever `panic=` says.
//! 8. archiso: `archiso_mount_handler` needs `/run/archiso/bootmnt` to be a mount point
//!    (`mountpoint -q`) and finds the image at `${archisobasedir}/${arch}/airootfs.{sfs,erofs}`
//!    below it; `checksum=y` runs `sha512sum -c airootfs.sha512` in that directory and
//!    `verify=y`/`cms_verify=y` check `airootfs.<ext>.sig`/`.cms.sig` there; `arch` is
//!    `getarg arch "$(uname -m)"`. The stock HTTP hook sets `copytoram=y` for
//!    `archiso_pxe_common`'s late hook.
//!
//! # initramfs-tools (live-boot, casper)
//! Read in Debian's initramfs-tools-core (`init`, `scripts/functions`: `run_scripts`,
//! `panic`; `hook-functions`: `cache_run_scripts`), live-boot (`bin/live-boot`,
//! `lib/live/boot/9990-main.sh`, `9990-netboot.sh`, `9990-mount-http.sh`) and casper
//! (`scripts/casper`: `mountroot`, `find_livefs`, `check_dev`, `do_interactive_netmount`).
//!
//! 1. `/init` runs as PID 1 under busybox (or klibc) sh, sources `/scripts/functions`, then
//!    `. /scripts/${BOOT}` and calls `mountroot` in the same shell.
//! 2. At boot `run_scripts DIR` does nothing but source `DIR/ORDER`, which the build
//!    generated: for each script one line `DIR/name "$@"` (the script is *executed*, as a
//!    child: it needs the executable bit, and cannot set the caller's variables) followed by
//!    `[ -e /conf/param.conf ] && . /conf/param.conf` (how a script hands values back). A
//!    script not named in ORDER never runs.
//! 3. `panic MSG` prints MSG; with `panic=N` it reboots after N seconds (negative: at once,
//!    0: halts); without `panic=` it runs `/scripts/panic` and an interactive `(initramfs)`
//!    shell.
//! 4. live-boot: `/bin/live-boot` (sourced by `/scripts/live`) sources every existing
//!    `/lib/live/boot/????-*` in glob order: no executable bit needed, and `9999-*` comes
//!    after the stock `9990-*` files, so a function it defines replaces theirs. With
//!    `fetch=`, `do_netmount` calls `do_httpmount`; if that fails, `9990-main.sh` calls
//!    `panic "Unable to find a live file system on the network"` (rule 3). live-boot's
//!    variables (`mountpoint`, `LIVE_MEDIA_PATH`, `FETCH`) are shell variables of PID 1.
//! 5. casper: `mountroot` sends its own stdout and stderr to `casper.log` (copied to the
//!    console by a background `tail -f`), brings the network up when `ip=` is given, runs
//!    `/scripts/casper-premount` through `run_scripts` (rule 2), then, without `netboot=`,
//!    polls `find_livefs` for up to 60 s (`LIVEMEDIA` from `/conf/param.conf` first, taken as
//!    a directory without the UUID check), and when nothing is found asks "Attempt
//!    interactive netboot from a URL?" and reads the console, whatever `panic=` says.
//!
//! # dracut (dmsquash-live + livenet)
//! Read in dracut 059 / dracut-ng: `modules.d/99base/dracut-lib.sh` (`source_all`,
//! `source_hook`, `hookdir`), `40network/netroot.sh`, `90livenet/parse-livenet.sh`,
//! `livenetroot.sh`, `url-lib.sh`.
//!
//! 1. Hooks are `<hookdir>/<stage>/*.sh`, *sourced* in name order into one shell when they
//!    exist (`source_all`: `[ -e "$f" ] && . "$f"`): no executable bit needed, only names
//!    ending `.sh` count. `<hookdir>` is `/lib/dracut/hooks` up to dracut 059 and
//!    `/var/lib/dracut/hooks` in dracut-ng ≥ 110.
//! 2. `netroot.sh` finds the handler for `netroot=<scheme>:…` with
//!    `command -v <scheme>root` (an executable in `PATH`), dies with "No handler for netroot
//!    type" when there is none, and *executes* it as a child, `$handler $netif $netroot
//!    $NEWROOT`, once for every interface that comes up.
//! 3. A root that never appears ends in the initqueue timeout and `emergency_shell`: a prompt
//!    unless `rd.shell=0` (then a halt) or `rd.emergency=` says otherwise.
//!
//! # What repack's hooks do about them
//! - A file the init executes or tests with `-x` is written 0755 (casper's premount script,
//!   dracut's `repackroot`, the mkinitcpio hooks); sourced files are 0644.
//! - A hook goes where its init looks and is named there (ORDER, `/config`'s HOOKS, a
//!   `????-*` or `*.sh` name that sorts after the stock one it must follow); a family refuses
//!   an initrd where that cannot hold.
//! - Hooks sourced into PID 1's shell define only `repack_…` names, besides the functions they
//!   exist to replace (`do_httpmount`, `run_hook`).
//! - On a failure a hook writes `repack: <what failed> <url>` to `/dev/console` and `/dev/kmsg`
//!   itself (casper and live-boot send their output to log files) and then panics the kernel
//!   (SysRq `c`; PID 1 exiting where SysRq is missing): every family's own fatal path ends at a
//!   prompt (casper's netboot question, mkinitcpio's and initramfs-tools' shells, dracut's
//!   emergency shell) or goes on searching, and a child process cannot stop its parent.
