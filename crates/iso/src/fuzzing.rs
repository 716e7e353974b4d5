//! The fuzz harness for the directory walker, shared by `fuzz/fuzz_targets/walk.rs` and the
//! test that replays the committed corpus. Not a stable API.

use crate::parse::volume_descriptor::{FIRST_DESCRIPTOR_SECTOR, SECTOR_SIZE};
use crate::{Iso, IsoImage, Limits};

/// Opens `data` as an image whose first 16 sectors (the system area, never parsed) are
/// implied zeros, walks the whole tree and reads every file it finds. Errors are expected;
/// panics, hangs and unbounded allocations are the bugs this looks for.
pub fn walk(data: &[u8]) {
    let mut image = vec![0u8; (FIRST_DESCRIPTOR_SECTOR * SECTOR_SIZE) as usize];
    image.extend_from_slice(data);
    let limits = Limits {
        max_depth: 16,
        max_dir_entries: 4096,
        max_dir_bytes: 1 << 20,
        max_walk_entries: 20_000,
        max_path_table_bytes: 1 << 20,
    };
    let Ok(iso) = Iso::from_source(image, limits) else {
        return;
    };
    let mut files = Vec::new();
    let _ = iso.walk("/", |path, entry| {
        if entry.kind == crate::EntryKind::File && files.len() < 64 {
            files.push(path.to_owned());
        }
    });
    for path in files {
        if let Ok(file) = iso.lookup(&path) {
            let _ = iso.read(&file, 1 << 20);
        }
        if let Some((dir, _)) = path.rsplit_once('/') {
            let _ = iso.resolve(&format!("{dir}/*"));
        }
    }
    let _ = iso.list("/");
}
