//! `manifest.json` and `SHA256SUMS`, written last into a staging directory.

use crate::AssembleError;
use repack_core::Manifest;
use std::fs::File;
use std::io::Write;
use std::path::Path;

const MANIFEST: &str = "manifest.json";
const SUMS: &str = "SHA256SUMS";

/// Writes `SHA256SUMS` (every part the release stores, `sha256sum -c` compatible) then
/// `manifest.json`.
pub fn write_manifest(dir: &Path, manifest: &Manifest) -> Result<(), AssembleError> {
    let mut sums = String::new();
    for part in manifest.stored_parts() {
        sums.push_str(&format!("{}  {}\n", part.sha256, part.name));
    }
    write_synced(&dir.join(SUMS), sums.as_bytes())?;
    let mut json =
        serde_json::to_vec_pretty(manifest).map_err(|error| AssembleError::Manifest {
            path: dir.join(MANIFEST),
            message: error.to_string(),
        })?;
    json.push(b'\n');
    write_synced(&dir.join(MANIFEST), &json)
}

/// Reads a release's `manifest.json`.
pub fn read_manifest(dir: &Path) -> Result<Manifest, AssembleError> {
    let path = dir.join(MANIFEST);
    let text = std::fs::read(&path).map_err(|source| AssembleError::Io {
        action: "cannot read",
        path: path.clone(),
        source,
    })?;
    serde_json::from_slice(&text).map_err(|error| AssembleError::Manifest {
        path,
        message: error.to_string(),
    })
}

fn write_synced(path: &Path, data: &[u8]) -> Result<(), AssembleError> {
    let io_error = |action, source| AssembleError::Io {
        action,
        path: path.to_owned(),
        source,
    };
    let mut file = File::create(path).map_err(|e| io_error("cannot create", e))?;
    file.write_all(data)
        .map_err(|e| io_error("cannot write", e))?;
    file.sync_all().map_err(|e| io_error("cannot flush", e))
}
