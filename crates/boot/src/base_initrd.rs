//! Build-time questions a family asks the upstream initrd: does a file exist, which busybox
//! applets are built in, which sha256 tool will a hook find at boot.
//!
//! Paths are relative and resolved the way the kernel leaves them ([`BaseInitrd::read_file`]
//! follows symlinks), so `sbin/x` also finds a merged-/usr `usr/sbin/x` or `usr/bin/x`.

use crate::{BaseInitrd, BootError};
use repack_core::BootFamilyKind;

/// Where busybox lives in the initrds repack patches (initramfs-tools, mkinitcpio, dracut's
/// busybox module).
const BUSYBOX_PATHS: &[&str] = &["usr/bin/busybox", "bin/busybox", "usr/sbin/busybox"];
const SHA256SUM_PATHS: &[&str] = &[
    "usr/bin/sha256sum",
    "bin/sha256sum",
    "usr/sbin/sha256sum",
    "sbin/sha256sum",
];
const OPENSSL_PATHS: &[&str] = &["usr/bin/openssl", "bin/openssl"];

/// The first of `paths` that holds a regular file in the initrd.
pub(crate) fn first_file<'p>(
    base: &dyn BaseInitrd,
    paths: &[&'p str],
) -> Result<Option<&'p str>, BootError> {
    for path in paths {
        if base.read_file(path)?.is_some() {
            return Ok(Some(path));
        }
    }
    Ok(None)
}

/// True when a busybox binary in the initrd has `applet` built in. Busybox keeps its applet
/// names as one NUL-separated, sorted string table, so the name appears as `\0name\0`.
pub(crate) fn busybox_has(base: &dyn BaseInitrd, applet: &str) -> Result<bool, BootError> {
    let needle: Vec<u8> = [b"\0", applet.as_bytes(), b"\0"].concat();
    for path in BUSYBOX_PATHS {
        if let Some(binary) = base.read_file(path)?
            && binary
                .windows(needle.len())
                .any(|window| window == needle.as_slice())
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// A command the hook runs: present as its own file or as a busybox applet.
pub(crate) fn has_command(base: &dyn BaseInitrd, name: &str) -> Result<bool, BootError> {
    let paths = [
        format!("usr/bin/{name}"),
        format!("bin/{name}"),
        format!("usr/sbin/{name}"),
        format!("sbin/{name}"),
    ];
    let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
    Ok(first_file(base, &paths)?.is_some() || busybox_has(base, name)?)
}

/// Checks that the hook's `repack_pick_hasher` will find a tool at boot, in the order it tries
/// them: `sha256sum`, `busybox sha256sum`, `openssl dgst -sha256`. repack adds no binaries,
/// so an initrd without any of them cannot check the parts and is refused.
pub(crate) fn require_sha256(
    base: &dyn BaseInitrd,
    family: BootFamilyKind,
) -> Result<&'static str, BootError> {
    if first_file(base, SHA256SUM_PATHS)?.is_some() {
        return Ok("sha256sum");
    }
    if busybox_has(base, "sha256sum")? {
        return Ok("busybox sha256sum");
    }
    if first_file(base, OPENSSL_PATHS)?.is_some() {
        return Ok("openssl");
    }
    Err(BootError::MissingTool {
        family,
        tool: "sha256 tool",
        looked_for: "sha256sum, a busybox with the sha256sum applet, openssl".to_owned(),
    })
}

/// Checks a download command the hook relies on.
pub(crate) fn require_command(
    base: &dyn BaseInitrd,
    family: BootFamilyKind,
    name: &'static str,
) -> Result<(), BootError> {
    if has_command(base, name)? {
        Ok(())
    } else {
        Err(BootError::MissingTool {
            family,
            tool: name,
            looked_for: format!("{name} in usr/bin, bin, usr/sbin, sbin, or as a busybox applet"),
        })
    }
}

/// The hook text for a family: a shebang, the shared helpers, then the family's own part.
pub(crate) fn hook_script(shebang: &str, family_part: &str) -> Vec<u8> {
    format!("{shebang}\n{}{family_part}", crate::HOOK_COMMON).into_bytes()
}

/// The family's own arguments followed by the recipe's.
pub(crate) fn cmdline(own: String, extra: &[String]) -> String {
    let mut line = own;
    for arg in extra {
        line.push(' ');
        line.push_str(arg);
    }
    line
}
