//! Debian live-boot (Debian Live, Kali, Parrot, grml, Clonezilla).
//!
//! live-boot sources every `/lib/live/boot/????-*` file in order (see
//! [`crate::init_rules`]), so our hook `9999-repack.sh` comes after the stock `9990-*`
//! components and redefines `do_httpmount` alone: `boot=live fetch=<base>/<first image>` then
//! downloads every image and part listed in the baked rootfs list, sha256-checked, into a
//! sized tmpfs, with the shared helpers every family uses. Nothing upstream is replaced.

use crate::base_initrd::{hook_script, require_command, require_sha256};
use crate::{
    BaseInitrd, BootError, BootFamily, BootInputs, BootPlan, OverlayFile, ROOTFS_LIST_PATH,
    ram_needed_mib, render_rootfs_list,
};
use repack_core::BootFamilyKind;

/// The family part of the hook (the shared helpers go before it), sourced by live-boot's
/// `/bin/live-boot`.
pub const HOOK: &str = include_str!("hooks/live-boot-9999-repack.sh");
/// The hook's file name; it sorts after every stock component.
pub const HOOK_NAME: &str = "9999-repack.sh";
/// Where live-boot keeps its components: merged-/usr initrds (Debian 12+) have the real
/// directory under `usr/` and `lib` as a symlink, older ones a real `lib/`.
const COMPONENT_DIRS: &[&str] = &["usr/lib/live/boot", "lib/live/boot"];
/// A stock component that must exist in a live-boot initrd (it defines `do_httpmount`).
const STOCK_HTTP_COMPONENT: &str = "9990-mount-http.sh";

/// The live-boot family.
pub struct LiveBoot;

impl BootFamily for LiveBoot {
    fn kind(&self) -> BootFamilyKind {
        BootFamilyKind::LiveBoot
    }

    fn plan(&self, inputs: &BootInputs<'_>) -> Result<BootPlan, BootError> {
        let component_dir = find_component_dir(inputs.base)?;
        require_command(inputs.base, BootFamilyKind::LiveBoot, "wget")?;
        require_sha256(inputs.base, BootFamilyKind::LiveBoot)?;
        let first = inputs.rootfs.first().ok_or(BootError::NotThisFamily {
            family: BootFamilyKind::LiveBoot,
            reason: "no root filesystem image to fetch".to_owned(),
        })?;
        let list = render_rootfs_list(inputs.rootfs)?;
        let mut cmdline = format!("boot=live fetch={{base}}/{} ip=dhcp", first.name);
        for arg in inputs.extra_args {
            cmdline.push(' ');
            cmdline.push_str(arg);
        }
        Ok(BootPlan {
            overlay: vec![
                OverlayFile {
                    path: format!("{component_dir}/{HOOK_NAME}"),
                    mode: 0o644,
                    contents: hook_script("#!/bin/sh", HOOK),
                },
                OverlayFile {
                    path: ROOTFS_LIST_PATH.to_owned(),
                    mode: 0o644,
                    contents: list.into_bytes(),
                },
            ],
            cmdline,
            ram_mib: ram_needed_mib(inputs.rootfs, inputs.initrd_size),
        })
    }
}

/// The directory that really holds live-boot's components in this initrd, so the hook is
/// written as a regular file next to them and never through a symlinked parent.
fn find_component_dir(base: &dyn BaseInitrd) -> Result<&'static str, BootError> {
    for dir in COMPONENT_DIRS {
        if base
            .read_file(&format!("{dir}/{STOCK_HTTP_COMPONENT}"))?
            .is_some()
        {
            return Ok(dir);
        }
    }
    Err(BootError::NotThisFamily {
        family: BootFamilyKind::LiveBoot,
        reason: format!(
            "it has no {STOCK_HTTP_COMPONENT} in {} (is live-boot installed?)",
            COMPONENT_DIRS.join(" or ")
        ),
    })
}
