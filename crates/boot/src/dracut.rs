//! dracut dmsquash-live + livenet (Fedora and RHEL-like live images, lorax `pxeboot`).
//!
//! Hook point, two new files and nothing replaced:
//! - `<hookdir>/cmdline/29-repack-livenet.sh`: dracut sources every `cmdline` hook in one
//!   shell in name order; livenet's `29-parse-livenet.sh` sorts just before it and turns
//!   `root=live:<url>` into `netroot=livenet:<url>`. Ours renames that to `repack:<url>`.
//! - `sbin/repackroot`: the netroot handler for `repack:`. dracut's `/sbin/netroot` runs
//!   `<scheme>root <netif> <netroot> <newroot>` (found with `command -v`) once an interface
//!   is online, exactly where it would run `/sbin/livenetroot`. repackroot fetches every part
//!   of the baked rootfs list with curl and url-lib's `curl_args` (redirects, `proxy=`,
//!   `rd.noverifyssl`; url-lib's `fetch_url` itself refuses to write anywhere but a regular
//!   file, so it cannot stream) straight onto the end of each image in a tmpfs at
//!   `/run/repack` sized from the list, checks each part, and execs
//!   `/sbin/dmsquash-live-root <image>` as livenetroot does.
//!
//! `<hookdir>` is read from the initrd's `dracut-lib.sh` (`hookdir=`): `/lib/dracut/hooks` up
//! to dracut 059, `/var/lib/dracut/hooks` in dracut-ng (which installs every module's hooks
//! there and lists that directory first). The family also checks that livenet's own
//! `29-parse-livenet.sh` is in that directory, so our hook is known to sort right after it.
//!
//! sha256: dracut's base module ships no `sha256sum` (its install list has none, nor do
//! livenet, url-lib or dmsquash-live), and repack adds no binaries. The hook uses whichever
//! of `sha256sum`, `busybox sha256sum` or `openssl` the initrd has, and the family refuses an
//! initrd with none ([`BootError::MissingTool`]) rather than boot an unchecked image.
//!
//! Command line: `root=live:{base}/<image> rd.live.image rd.live.overlay.overlayfs=1 ip=dhcp
//! rd.neednet=1`. `rd.live.overlay.overlayfs=1` is needed for flat root images (no nested
//! `LiveOS/rootfs.img`): dracut 059's dmsquash-live-root only switches to overlayfs after it
//! has set up the writable overlay, so without it `/run/overlayfs` is never created and
//! `sysroot.mount` fails (seen booting tests/fixtures/make-dracut-live.sh). Nested images
//! work with overlayfs too.

use crate::base_initrd::{cmdline, first_file, hook_script, require_sha256};
use crate::{
    BaseInitrd, BootError, BootFamily, BootInputs, BootPlan, OverlayFile, ROOTFS_LIST_PATH,
    ram_needed_mib, render_rootfs_list,
};
use repack_core::BootFamilyKind;

/// The cmdline hook (complete script).
pub const CMDLINE_HOOK: &str = include_str!("hooks/dracut-cmdline.sh");
/// The family part of the netroot handler (the shared helpers go before it).
pub const HANDLER: &str = include_str!("hooks/dracut-repackroot.sh");
/// The cmdline hook's file name: `29-` like livenet's parser, and after it by name.
pub const CMDLINE_HOOK_NAME: &str = "29-repack-livenet.sh";
/// livenet's parser, which must sort just before ours in the same directory.
const LIVENET_PARSER: &str = "29-parse-livenet.sh";
/// The netroot handler, named `<scheme>root` for the `repack:` scheme.
pub const HANDLER_PATH: &str = "sbin/repackroot";
/// Where dracut installs its shell library (merged-/usr initrds reach it through `lib`).
const DRACUT_LIB: &str = "lib/dracut-lib.sh";
const URL_LIB: &str = "lib/url-lib.sh";
/// livenet's handler, in every layout dracut has used (`sbin` may be merged into `usr/bin`).
const LIVENETROOT: &[&str] = &[
    "sbin/livenetroot",
    "usr/sbin/livenetroot",
    "usr/bin/livenetroot",
    "bin/livenetroot",
];
const DMSQUASH_LIVE_ROOT: &[&str] = &[
    "sbin/dmsquash-live-root",
    "usr/sbin/dmsquash-live-root",
    "usr/bin/dmsquash-live-root",
    "bin/dmsquash-live-root",
];
const CURL: &[&str] = &["usr/bin/curl", "bin/curl"];

/// The dracut family.
pub struct Dracut;

impl BootFamily for Dracut {
    fn kind(&self) -> BootFamilyKind {
        BootFamilyKind::Dracut
    }

    fn plan(&self, inputs: &BootInputs<'_>) -> Result<BootPlan, BootError> {
        let base = inputs.base;
        let hookdir = hook_dir(base)?;
        for (what, paths) in [
            ("livenet (sbin/livenetroot)", LIVENETROOT),
            (
                "dmsquash-live (sbin/dmsquash-live-root)",
                DMSQUASH_LIVE_ROOT,
            ),
            ("url-lib (lib/url-lib.sh)", &[URL_LIB][..]),
        ] {
            if first_file(base, paths)?.is_none() {
                return Err(not_dracut(format!(
                    "it has no {what}; build it with `dracut --add \"dmsquash-live livenet\"`"
                )));
            }
        }
        let livenet_parser = format!("{hookdir}/cmdline/{LIVENET_PARSER}");
        if base.read_file(&livenet_parser)?.is_none() {
            return Err(not_dracut(format!(
                "livenet's cmdline hook is not at {livenet_parser}, so a hook there would not run after it"
            )));
        }
        if first_file(base, CURL)?.is_none() {
            return Err(BootError::MissingTool {
                family: BootFamilyKind::Dracut,
                tool: "curl",
                looked_for: CURL.join(", "),
            });
        }
        require_sha256(base, BootFamilyKind::Dracut)?;

        let [image] = inputs.rootfs else {
            return Err(BootError::UnexpectedRootfs {
                family: BootFamilyKind::Dracut,
                reason: format!(
                    "dmsquash-live boots exactly one image, the release has {}",
                    inputs.rootfs.len()
                ),
            });
        };
        let list = render_rootfs_list(inputs.rootfs)?;
        Ok(BootPlan {
            overlay: vec![
                OverlayFile {
                    path: format!("{hookdir}/cmdline/{CMDLINE_HOOK_NAME}"),
                    mode: 0o755,
                    contents: CMDLINE_HOOK.as_bytes().to_vec(),
                },
                OverlayFile {
                    path: HANDLER_PATH.to_owned(),
                    mode: 0o755,
                    contents: hook_script("#!/bin/sh", HANDLER),
                },
                OverlayFile {
                    path: ROOTFS_LIST_PATH.to_owned(),
                    mode: 0o644,
                    contents: list.into_bytes(),
                },
            ],
            cmdline: cmdline(
                format!(
                    "root=live:{{base}}/{} rd.live.image rd.live.overlay.overlayfs=1 ip=dhcp rd.neednet=1",
                    image.name
                ),
                inputs.extra_args,
            ),
            ram_mib: ram_needed_mib(inputs.rootfs, inputs.initrd_size),
        })
    }
}

fn not_dracut(reason: String) -> BootError {
    BootError::NotThisFamily {
        family: BootFamilyKind::Dracut,
        reason,
    }
}

/// The hook directory this initrd's dracut sources, relative (`lib/dracut/hooks`,
/// `var/lib/dracut/hooks`), from the `hookdir=` assignment in its `dracut-lib.sh`.
pub fn hook_dir(base: &dyn BaseInitrd) -> Result<String, BootError> {
    let lib = base
        .read_file(DRACUT_LIB)?
        .ok_or_else(|| not_dracut(format!("it has no {DRACUT_LIB}")))?;
    let text = String::from_utf8_lossy(&lib);
    let value = text
        .lines()
        .map(str::trim)
        .filter_map(|line| {
            line.strip_prefix("export ")
                .unwrap_or(line)
                .trim_start()
                .strip_prefix("hookdir=")
        })
        .map(|value| value.trim().trim_matches(['"', '\'']))
        .find(|value| !value.is_empty())
        .ok_or_else(|| not_dracut(format!("its {DRACUT_LIB} does not set hookdir")))?;
    let relative = value.trim_start_matches('/').trim_end_matches('/');
    let plain = value.starts_with('/')
        && !relative.is_empty()
        && relative.split('/').all(|component| {
            !component.is_empty()
                && component != "."
                && component != ".."
                && component
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        });
    if !plain {
        return Err(not_dracut(format!(
            "its {DRACUT_LIB} sets hookdir to `{value}`, not a plain absolute path"
        )));
    }
    Ok(relative.to_owned())
}
