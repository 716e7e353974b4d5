//! The rootfs list baked into every patched initrd: the parts a hook downloads, in order.
//!
//! One line per stored part: `<file name> <part name> <part size> <part sha256>`, separated by
//! single spaces, ending in a newline. Hooks read it with `while read -r file part size sha`.
//! It is written from the same data as manifest.json, so hooks never probe for `.partN`.

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
            text.push_str(&format!(
                "{} {} {} {}\n",
                file.name, part.name, part.size, part.sha256
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
