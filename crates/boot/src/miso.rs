//! Manjaro miso (Manjaro and its spins).
//!
//! Hook point: like archiso, mkinitcpio sources `/hooks/miso_pxe_http` into `/init`, and
//! that single file is miso's HTTP boot, so replacing it is the additive hook point (miso's
//! own `miso` and `miso_pxe_common` hooks stay). Ours keeps the stock contract: with `ip=`
//! and `miso_http_srv=` its `run_hook` sets `copytoram=y` and a mount handler, which fetches
//! every image the release has (`rootfs`, `desktopfs`, `mhwdfs`, `livefs`) and every part
//! from `miso_http_srv` (flat: the release directory) with curl, following redirects (the
//! stock hook probes each image with `curl --head | grep OK`, which breaks behind
//! redirects; ours probes nothing), into a tmpfs at `/run/miso/httpspace` sized from the
//! list, laid out as `${misobasedir}/${arch}/<image>.sfs`, checks and joins the parts,
//! bind-mounts it on `/run/miso/bootmnt` and calls miso's `miso_mount_handler`.
//!
//! Command line: `misobasedir=manjaro miso_http_srv={base}/ ip=dhcp net.ifnames=0`.

use crate::base_initrd::{cmdline, first_file, hook_script, require_command, require_sha256};
use crate::{
    BootError, BootFamily, BootInputs, BootPlan, OverlayFile, ROOTFS_LIST_PATH, ram_needed_mib,
    render_rootfs_list,
};
use repack_core::BootFamilyKind;

/// The family part of the hook (the shared helpers go before it).
pub const HOOK: &str = include_str!("hooks/miso_pxe_http.sh");
/// The stock hook file this family replaces.
pub const HOOK_PATH: &str = "hooks/miso_pxe_http";
/// miso's main hook, which defines `miso_mount_handler`.
const MISO_HOOK: &str = "hooks/miso";
/// The images miso's mount handler stacks (it skips the ones a release does not have).
const IMAGE_NAMES: &[&str] = &["rootfs.sfs", "desktopfs.sfs", "mhwdfs.sfs", "livefs.sfs"];

/// The miso family.
pub struct Miso;

impl BootFamily for Miso {
    fn kind(&self) -> BootFamilyKind {
        BootFamilyKind::Miso
    }

    fn plan(&self, inputs: &BootInputs<'_>) -> Result<BootPlan, BootError> {
        let base = inputs.base;
        for path in [MISO_HOOK, HOOK_PATH] {
            if first_file(base, &[path])?.is_none() {
                return Err(BootError::NotThisFamily {
                    family: BootFamilyKind::Miso,
                    reason: format!(
                        "it has no {path} (is it built with the miso and miso_pxe_http hooks?)"
                    ),
                });
            }
        }
        require_command(base, BootFamilyKind::Miso, "curl")?;
        require_sha256(base, BootFamilyKind::Miso)?;
        let names: Vec<&str> = inputs
            .rootfs
            .iter()
            .map(|file| file.name.as_str())
            .collect();
        if !names.contains(&"rootfs.sfs") || names.iter().any(|name| !IMAGE_NAMES.contains(name)) {
            return Err(BootError::UnexpectedRootfs {
                family: BootFamilyKind::Miso,
                reason: format!(
                    "miso boots rootfs.sfs plus any of desktopfs.sfs, mhwdfs.sfs, livefs.sfs; the release has: {}",
                    names.join(", ")
                ),
            });
        }
        let list = render_rootfs_list(inputs.rootfs)?;
        Ok(BootPlan {
            overlay: vec![
                OverlayFile {
                    path: HOOK_PATH.to_owned(),
                    mode: 0o644,
                    contents: hook_script("#!/usr/bin/ash", HOOK),
                },
                OverlayFile {
                    path: ROOTFS_LIST_PATH.to_owned(),
                    mode: 0o644,
                    contents: list.into_bytes(),
                },
            ],
            cmdline: cmdline(
                "misobasedir=manjaro miso_http_srv={base}/ ip=dhcp net.ifnames=0".to_owned(),
                inputs.extra_args,
            ),
            ram_mib: ram_needed_mib(inputs.rootfs, inputs.initrd_size),
        })
    }
}
