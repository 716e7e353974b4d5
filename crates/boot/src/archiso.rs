//! Arch archiso (Arch Linux, EndeavourOS, CachyOS, SystemRescue).
//!
//! Hook point: mkinitcpio's `/init` sources each file named in its HOOKS from `/hooks/` and
//! calls its `run_hook`; archiso keeps the HTTP boot in the single file
//! `/hooks/archiso_pxe_http`, so replacing that file is archiso's additive hook point (the
//! shared notes say so; archiso's own `archiso` and `archiso_pxe_common` hooks stay). Ours
//! keeps the stock contract: with `ip=` and `archiso_http_srv=` its `run_hook` sets
//! `copytoram=y` and a mount handler, which fetches every part of the baked rootfs list from
//! `archiso_http_srv` (flat: the release directory) with curl into a tmpfs at
//! `/run/archiso/httpspace` sized from the list, laid out as
//! `${archisobasedir}/${arch}/airootfs.sfs`, checks and joins the parts, bind-mounts it on
//! `/run/archiso/bootmnt` and calls archiso's `archiso_mount_handler`. `arch` comes from
//! archiso (`uname -m` unless `arch=` is given), so arm64 builds find their own directory.
//!
//! Command line: `archisobasedir=arch archiso_http_srv={base}/ ip=dhcp`.

use crate::base_initrd::{cmdline, first_file, hook_script, require_command, require_sha256};
use crate::{
    BootError, BootFamily, BootInputs, BootPlan, OverlayFile, ROOTFS_LIST_PATH, ram_needed_mib,
    render_rootfs_list,
};
use repack_core::BootFamilyKind;

/// The family part of the hook (the shared helpers go before it).
pub const HOOK: &str = include_str!("hooks/archiso_pxe_http.sh");
/// The stock hook file this family replaces.
pub const HOOK_PATH: &str = "hooks/archiso_pxe_http";
/// archiso's main hook, which defines `archiso_mount_handler`.
const ARCHISO_HOOK: &str = "hooks/archiso";
/// The image names archiso's mount handler looks for.
const IMAGE_NAMES: &[&str] = &["airootfs.sfs", "airootfs.erofs"];

/// The archiso family.
pub struct Archiso;

impl BootFamily for Archiso {
    fn kind(&self) -> BootFamilyKind {
        BootFamilyKind::Archiso
    }

    fn plan(&self, inputs: &BootInputs<'_>) -> Result<BootPlan, BootError> {
        let base = inputs.base;
        for path in [ARCHISO_HOOK, HOOK_PATH] {
            if first_file(base, &[path])?.is_none() {
                return Err(BootError::NotThisFamily {
                    family: BootFamilyKind::Archiso,
                    reason: format!(
                        "it has no {path} (is it built with the archiso and archiso_pxe_http hooks?)"
                    ),
                });
            }
        }
        require_command(base, BootFamilyKind::Archiso, "curl")?;
        require_sha256(base, BootFamilyKind::Archiso)?;
        match inputs.rootfs {
            [image] if IMAGE_NAMES.contains(&image.name.as_str()) => {}
            other => {
                return Err(BootError::UnexpectedRootfs {
                    family: BootFamilyKind::Archiso,
                    reason: format!(
                        "archiso boots one image named {}, the release has: {}",
                        IMAGE_NAMES.join(" or "),
                        other
                            .iter()
                            .map(|file| file.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                });
            }
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
                "archisobasedir=arch archiso_http_srv={base}/ ip=dhcp".to_owned(),
                inputs.extra_args,
            ),
            ram_mib: ram_needed_mib(inputs.rootfs, inputs.initrd_size),
        })
    }
}
