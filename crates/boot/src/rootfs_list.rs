//! The rootfs list baked into every patched initrd: the parts a hook downloads, in order.
//!
//! One line per part: `<file name> <part> <part size> <part sha256>`, separated by single
//! spaces, ending in a newline. `<part>` is the part's name in this release (fetched from the
//! release's base URL) or, for a part the release points at in an earlier release
//! ([`ManifestPart::url`](repack_core::ManifestPart::url)), its full `http://` or `https://`
//! URL. Hooks read it with `while read -r file part size sha`. It is written from the same
//! data as manifest.json, so hooks never probe for `.partN`.

use crate::BootError;
use repack_core::ManifestFile;

/// Where the list lives inside the initrd.
pub const ROOTFS_LIST_PATH: &str = "etc/repack/rootfs.list";

/// Renders the list; refuses names a shell script could misread.
pub fn render_rootfs_list(rootfs: &[ManifestFile]) -> Result<String, BootError> {
    let mut text = String::new();
    for file in rootfs {
        check_name(&file.name)?;
        for part in &file.parts {
            check_name(&part.name)?;
            let source = match &part.url {
                Some(url) => {
                    check_part_url(url)?;
                    url
                }
                None => &part.name,
            };
            text.push_str(&format!(
                "{} {} {} {}\n",
                file.name, source, part.size, part.sha256
            ));
        }
    }
    Ok(text)
}

fn check_name(name: &str) -> Result<(), BootError> {
    if repack_core::is_plain_name(name) {
        Ok(())
    } else {
        Err(BootError::UnsafeName(name.to_owned()))
    }
}

/// A URL the hooks can read with `read -r` and hand to wget or curl unquoted by nothing:
/// http(s), no whitespace, no shell metacharacters, no empty host.
pub fn check_part_url(url: &str) -> Result<(), BootError> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"));
    let allowed = |c: char| c.is_ascii_alphanumeric() || "-._~:/?=&%+@,".contains(c);
    match rest {
        Some(rest) if !rest.is_empty() && !rest.starts_with('/') && rest.chars().all(allowed) => {
            Ok(())
        }
        _ => Err(BootError::UnsafeUrl(url.to_owned())),
    }
}
