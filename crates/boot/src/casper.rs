//! Ubuntu casper (Ubuntu and flavours, Mint, Pop!_OS, Zorin, elementary).
//!
//! Hook point: casper's `mountroot` runs `/scripts/casper-premount/ORDER`, a list of scripts
//! each followed by `. /conf/param.conf`; a script that ORDER does not name never runs. The
//! overlay adds `scripts/casper-premount/99repack` and an ORDER that keeps every line of the
//! base's ORDER and names 99repack last. (A base without ORDER lets initramfs-tools order the
//! directory itself, which finds 99repack unaided, so no ORDER is written then.)
//!
//! At boot, with `repack.base=<release URL>` and `ip=dhcp` (casper brings the network up
//! before premount when `ip=` is given), 99repack downloads the images of the baked rootfs
//! list into a tmpfs at `/run/repack/casper/`, checks and joins the parts, and writes
//! `LIVEMEDIA=/run/repack` to `/conf/param.conf`; casper's `find_livefs` takes that directory
//! (no UUID check) and stacks the layers itself. No `netboot=`/`url=`: those would send
//! casper down its ISO-download path instead.
//!
//! Layers: Ubuntu 23.04+ stacks `minimal.squashfs`, `minimal.standard.squashfs`,
//! `minimal.standard.live.squashfs`, chosen by `LAYERFS_PATH` in the initrd's
//! `conf/conf.d/default-layer.conf` (or `layerfs-path=` on the command line): casper mounts
//! that layer and every parent named by dropping one dot-component at a time. The family
//! reads that file at build time and bakes exactly that chain, base first, into the list (a
//! release may carry more layers, e.g. language packs, which the default boot never mounts);
//! without `LAYERFS_PATH` (≤ 22.04, `filesystem.squashfs`) casper mounts every image, so all
//! are listed.

use crate::base_initrd::{cmdline, first_file, hook_script, require_command, require_sha256};
use crate::{
    BaseInitrd, BootError, BootFamily, BootInputs, BootPlan, OverlayFile, ROOTFS_LIST_PATH,
    ram_needed_mib, render_rootfs_list,
};
use repack_core::{BootFamilyKind, ManifestFile};

/// The family part of the premount script (the shared helpers go before it).
pub const HOOK: &str = include_str!("hooks/casper-premount.sh");
/// casper's premount directory, its ORDER file, and our script in it.
pub const PREMOUNT_DIR: &str = "scripts/casper-premount";
pub const ORDER_PATH: &str = "scripts/casper-premount/ORDER";
pub const HOOK_PATH: &str = "scripts/casper-premount/99repack";
/// Where livecd-rootfs records the default layer.
pub const DEFAULT_LAYER_CONF: &str = "conf/conf.d/default-layer.conf";
/// casper's main script: its presence is what makes an initrd a casper initrd.
const CASPER_SCRIPT: &str = "scripts/casper";

/// The casper family.
pub struct Casper;

impl BootFamily for Casper {
    fn kind(&self) -> BootFamilyKind {
        BootFamilyKind::Casper
    }

    fn plan(&self, inputs: &BootInputs<'_>) -> Result<BootPlan, BootError> {
        let base = inputs.base;
        if first_file(base, &[CASPER_SCRIPT])?.is_none() {
            return Err(BootError::NotThisFamily {
                family: BootFamilyKind::Casper,
                reason: format!("it has no {CASPER_SCRIPT} (is casper installed?)"),
            });
        }
        require_command(base, BootFamilyKind::Casper, "wget")?;
        require_sha256(base, BootFamilyKind::Casper)?;

        let layer = layer_override(inputs.extra_args).map_or_else(|| default_layer(base), Ok)?;
        let rootfs = layer_chain(inputs.rootfs, layer.as_deref())?;
        let list = render_rootfs_list(&rootfs)?;

        let mut overlay = vec![OverlayFile {
            path: HOOK_PATH.to_owned(),
            mode: 0o755,
            contents: hook_script("#!/bin/sh", HOOK),
        }];
        if let Some(order) = base.read_file(ORDER_PATH)? {
            overlay.push(OverlayFile {
                path: ORDER_PATH.to_owned(),
                mode: 0o644,
                contents: order_with_hook(&order),
            });
        }
        overlay.push(OverlayFile {
            path: ROOTFS_LIST_PATH.to_owned(),
            mode: 0o644,
            contents: list.into_bytes(),
        });
        Ok(BootPlan {
            overlay,
            cmdline: cmdline(
                "boot=casper repack.base={base}/ ip=dhcp".to_owned(),
                inputs.extra_args,
            ),
            ram_mib: ram_needed_mib(&rootfs, inputs.initrd_size),
        })
    }
}

/// The base's ORDER with our script appended in ORDER's own form (run it, then re-read
/// `/conf/param.conf`), every existing line kept as it was.
pub fn order_with_hook(order: &[u8]) -> Vec<u8> {
    let mut out = order.to_vec();
    if !out.is_empty() && !out.ends_with(b"\n") {
        out.push(b'\n');
    }
    out.extend_from_slice(
        format!("/{HOOK_PATH} \"$@\"\n[ -e /conf/param.conf ] && . /conf/param.conf\n").as_bytes(),
    );
    out
}

/// `layerfs-path=` from the recipe's arguments: it overrides the initrd's default, as casper does.
fn layer_override(extra_args: &[String]) -> Option<Option<String>> {
    extra_args
        .iter()
        .rev()
        .find_map(|arg| arg.strip_prefix("layerfs-path="))
        .map(|value| Some(value.to_owned()).filter(|value| !value.is_empty()))
}

/// `LAYERFS_PATH` from the initrd's `default-layer.conf`, `None` when absent or empty.
fn default_layer(base: &dyn BaseInitrd) -> Result<Option<String>, BootError> {
    let Some(conf) = base.read_file(DEFAULT_LAYER_CONF)? else {
        return Ok(None);
    };
    let text = String::from_utf8_lossy(&conf);
    let value = text
        .lines()
        .rev()
        .map(str::trim)
        .filter_map(|line| {
            line.strip_prefix("export ")
                .unwrap_or(line)
                .trim_start()
                .strip_prefix("LAYERFS_PATH=")
        })
        .next()
        .map(|value| value.trim().trim_matches(['"', '\'']).to_owned());
    Ok(value.filter(|value| !value.is_empty()))
}

/// The images casper mounts for `layer`, base first: `a.b.c.squashfs` needs `a.squashfs`,
/// `a.b.squashfs` and itself. Without a layer, every image of the release.
fn layer_chain(
    rootfs: &[ManifestFile],
    layer: Option<&str>,
) -> Result<Vec<ManifestFile>, BootError> {
    let unexpected = |reason: String| BootError::UnexpectedRootfs {
        family: BootFamilyKind::Casper,
        reason,
    };
    if rootfs.is_empty() {
        return Err(unexpected("no root filesystem image to fetch".to_owned()));
    }
    let Some(layer) = layer else {
        return Ok(rootfs.to_vec());
    };
    if layer.contains('/') {
        return Err(unexpected(format!(
            "LAYERFS_PATH `{layer}` is a path; only a layer name in the casper directory is supported"
        )));
    }
    let (stem, extension) = layer
        .rsplit_once('.')
        .ok_or_else(|| unexpected(format!("LAYERFS_PATH `{layer}` has no extension")))?;
    let mut names = Vec::new();
    let mut current = stem;
    loop {
        names.push(format!("{current}.{extension}"));
        match current.rsplit_once('.') {
            Some((parent, _)) => current = parent,
            None => break,
        }
    }
    names.reverse();
    names
        .iter()
        .map(|name| {
            rootfs
                .iter()
                .find(|file| &file.name == name)
                .cloned()
                .ok_or_else(|| {
                    unexpected(format!(
                        "layer `{name}` (needed by LAYERFS_PATH `{layer}`) is not among the release's images ({})",
                        rootfs.iter().map(|file| file.name.as_str()).collect::<Vec<_>>().join(", ")
                    ))
                })
        })
        .collect()
}
