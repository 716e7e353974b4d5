//! `manifest.json`: the complete description of one published release.

use crate::{Arch, BootFamilyKind, Sha256Digest};
use serde::{Deserialize, Serialize};

/// Everything a consumer (menu, mirror, boot hook, auditor) needs to know about a release.
/// Every published file is listed with its size and sha256, and so is every part of a split
/// file: nobody has to probe for `.partN` names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format_version: u32,
    pub recipe: String,
    /// The recipe's display name and OS family at build time (menus show and group by them).
    pub name: String,
    pub os: String,
    pub recipe_hash: Sha256Digest,
    pub build_key: Sha256Digest,
    pub version: String,
    pub arch: Arch,
    pub tag: String,
    pub boot_family: BootFamilyKind,
    /// Kernel arguments; `{base}` stands for the URL of the release directory (no trailing `/`).
    pub cmdline: String,
    /// RAM (MiB) a network boot needs: the root images land in RAM.
    pub ram_mib: u64,
    pub source: SourceIso,
    pub files: Vec<ManifestFile>,
    pub repack_version: String,
}

/// Where the release came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceIso {
    pub url: String,
    pub sha256: Sha256Digest,
    pub size: u64,
}

/// What a published file is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileRole {
    Kernel,
    Initrd,
    Rootfs,
    /// A boot family's own file published beside a root image, byte for byte from the ISO
    /// (archiso's `airootfs.sha512` and signatures), so the family's native options
    /// (`checksum=y`, `verify=y`) keep working on top of repack's own check.
    Side,
}

/// One logical file of the release. `size` describes the whole file; `parts` lists the pieces
/// it is stored as, in order (one part named like the file when it was not split; otherwise
/// `NAME`, `NAME.part2`, `NAME.part3`, … as netboot.xyz names them), each with its sha256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestFile {
    pub name: String,
    pub role: FileRole,
    pub size: u64,
    /// The whole file's sha256 when it is stored in one part (the part's digest). A split
    /// file has none: every byte is covered by its parts' digests, which are what clients
    /// check, and a whole-file digest would cost the build a third SHA-256 pass over the
    /// largest files it handles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<Sha256Digest>,
    pub parts: Vec<ManifestPart>,
}

/// One stored piece of a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestPart {
    /// The part's name in this release (`NAME`, `NAME.partN`).
    pub name: String,
    pub size: u64,
    pub sha256: Sha256Digest,
    /// Set when this release does not store the part itself: the full URL of a byte-identical
    /// part (same size and sha256) that an earlier release of the same recipe published, so
    /// the same bytes are never uploaded twice. Boot hooks download it from there; the
    /// release that holds it is kept for as long as a kept release points into it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl ManifestPart {
    /// A part stored in this release under `name`.
    pub fn stored(name: impl Into<String>, size: u64, sha256: Sha256Digest) -> Self {
        ManifestPart {
            name: name.into(),
            size,
            sha256,
            url: None,
        }
    }

    /// Whether this release stores the part (rather than pointing at an earlier one's).
    pub fn is_stored_here(&self) -> bool {
        self.url.is_none()
    }
}

impl Manifest {
    /// The file that plays `role` (the first one, for rootfs layers use [`Manifest::files_with_role`]).
    pub fn file(&self, role: FileRole) -> Option<&ManifestFile> {
        self.files.iter().find(|file| file.role == role)
    }

    pub fn files_with_role(&self, role: FileRole) -> impl Iterator<Item = &ManifestFile> {
        self.files.iter().filter(move |file| file.role == role)
    }

    /// Every part this release stores, in publishing order (not the parts it points at in
    /// earlier releases).
    pub fn stored_parts(&self) -> impl Iterator<Item = &ManifestPart> {
        self.files
            .iter()
            .flat_map(|file| file.parts.iter())
            .filter(|part| part.is_stored_here())
    }

    /// Every stored object name, in publishing order.
    pub fn stored_names(&self) -> impl Iterator<Item = &str> {
        self.stored_parts().map(|part| part.name.as_str())
    }

    /// The URLs of the parts this release points at in earlier releases.
    pub fn borrowed_urls(&self) -> impl Iterator<Item = &str> {
        self.files
            .iter()
            .flat_map(|file| file.parts.iter())
            .filter_map(|part| part.url.as_deref())
    }

    /// The kernel command line with `{base}` replaced by the release directory's URL.
    pub fn cmdline_for(&self, base_url: &str) -> String {
        self.cmdline
            .replace("{base}", base_url.trim_end_matches('/'))
    }
}
