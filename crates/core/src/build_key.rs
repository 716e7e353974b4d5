//! The identity of a build: same key, same output, nothing to do.

use crate::Sha256Digest;
use serde::{Deserialize, Serialize};
use sha2::Digest as _;

/// Bump when the published layout or the patch applied to initrds changes in a way that makes
/// earlier releases different from what this version would produce. 2: the hooks write each
/// part straight onto the end of its image (a boot needs the images' size in RAM, not + a part).
pub const FORMAT_VERSION: u32 = 2;

/// Identifies a build by its inputs only: the upstream ISO's bytes, the parts of the recipe that
/// shape the output, and the pipeline's format version. Rebuilding repack or editing a recipe's
/// display name or schedule does not change it (no rebuild storms).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BuildKey {
    pub iso_sha256: Sha256Digest,
    pub recipe_hash: Sha256Digest,
    pub format_version: u32,
}

impl BuildKey {
    pub fn new(iso_sha256: Sha256Digest, recipe_hash: Sha256Digest) -> Self {
        BuildKey {
            iso_sha256,
            recipe_hash,
            format_version: FORMAT_VERSION,
        }
    }

    /// One digest over the three parts, used as the primary key of a build.
    pub fn id(&self) -> Sha256Digest {
        let mut hasher = sha2::Sha256::new();
        hasher.update(b"repack-build-key\n");
        hasher.update(self.iso_sha256.as_bytes());
        hasher.update(self.recipe_hash.as_bytes());
        hasher.update(self.format_version.to_be_bytes());
        Sha256Digest::from_bytes(hasher.finalize().into())
    }

    /// The release tag: upstream version plus 8 hex digits of the key, e.g. `12.8.0-1a2b3c4d`.
    pub fn tag(&self, version: &str) -> String {
        let id = self.id().to_hex();
        format!("{version}-{}", &id[..8])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_changes_with_each_input() {
        let iso = Sha256Digest::of(b"iso");
        let recipe = Sha256Digest::of(b"recipe");
        let base = BuildKey::new(iso, recipe);
        assert_ne!(
            base.id(),
            BuildKey::new(Sha256Digest::of(b"other"), recipe).id()
        );
        assert_ne!(
            base.id(),
            BuildKey::new(iso, Sha256Digest::of(b"other")).id()
        );
        let mut bumped = base.clone();
        bumped.format_version += 1;
        assert_ne!(base.id(), bumped.id());
        assert_eq!(base.id(), BuildKey::new(iso, recipe).id());
    }

    #[test]
    fn tag_is_version_and_eight_hex_digits() {
        let key = BuildKey::new(Sha256Digest::of(b"a"), Sha256Digest::of(b"b"));
        let tag = key.tag("12.8.0");
        assert!(tag.starts_with("12.8.0-"));
        assert_eq!(tag.len(), "12.8.0-".len() + 8);
    }
}
