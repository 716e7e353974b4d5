//! Domain types shared by every repack stage, with no I/O.
//!
//! A [`Recipe`] (one TOML file per distro variant) says where to watch for releases and
//! which paths of the ISO hold the kernel, the initrd and the root filesystem image(s).
//! A watcher turns a recipe into [`Candidate`]s; the pipeline identifies each build by a
//! [`BuildKey`] (ISO sha256 + recipe hash + format version) so an unchanged input is never
//! rebuilt, and describes what it published in a [`Manifest`]. [`Version`] orders upstream
//! version strings the way people read them (`12.10.0` is newer than `12.8.0`).
//!
//! This crate refuses to do I/O beyond parsing text it is handed: file access, network and
//! databases live in the stage crates.

mod arch;
mod build_key;
mod candidate;
mod digest;
mod manifest;
mod mirror;
mod recipe;
mod version;

pub use arch::Arch;
pub use build_key::{BuildKey, FORMAT_VERSION};
pub use candidate::{Candidate, Checksum};
pub use digest::{DigestParseError, Sha256Digest};
pub use manifest::{FileRole, Manifest, ManifestFile, ManifestPart, SourceIso};
pub use mirror::{MirrorRewrite, MirrorRewriteError};
pub use recipe::{BootFamilyKind, IsoPaths, OutputSettings, Recipe, RecipeError, WatchTable};
pub use version::Version;

/// A plain file name: safe in URLs, in shell hooks (no quoting needed), on every filesystem,
/// and unable to escape a directory. Letters, digits and `._+-`, not starting with `.`.
pub fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 200
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'+' | b'-'))
}
