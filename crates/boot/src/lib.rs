//! Boot families: what each distribution's live initrd needs to fetch its root over HTTP.
//!
//! A [`BootFamily`] turns the release being built (its root filesystem images, with every
//! part's size and sha256, see [`BootInputs`]) into a [`BootPlan`]: the files to append to
//! the upstream initrd as one overlay (additive hooks only, never a replaced upstream init
//! script), the kernel command line, and the RAM a network boot needs. Families may read the
//! base initrd through [`BaseInitrd`] to adapt to the upstream version they patch.
//!
//! Families: [`LiveBoot`] (Debian live-boot), [`Casper`] (Ubuntu), [`Dracut`] (dmsquash-live
//! and livenet), and the two mkinitcpio families [`mkinitcpio::ARCHISO`] (Arch) and
//! [`mkinitcpio::MISO`] (Manjaro). Every hook shares one shell library ([`HOOK_COMMON`]) that
//! fetches each part listed in the baked rootfs list (no probing), follows redirects, checks
//! size and sha256 as each part lands (written once, straight onto the end of its image, in a
//! tmpfs sized to the images alone), and on a failure
//! prints one `repack: <what failed> <url>` line on the console and ends the boot with a
//! kernel panic, so no family goes on searching, prompting or booting something else, and
//! `panic=N` reboots. Hooks use only what the upstream initrd has; a family refuses (with
//! [`BootError::MissingTool`]) an initrd that lacks a tool its hook needs.
//!
//! Each family's hook obeys the rules its init system applies to hooks (executable bits,
//! ORDER files, sourced or executed, environment and working directory): they are listed,
//! with their sources, in [`init_rules`], and the hook tests' reconstructions enforce them.
//!
//! This crate writes nothing: the initrd crate encodes the overlay, the assemble stage
//! publishes the files.

mod base_initrd;
pub mod casper;
pub mod dracut;
pub mod init_rules;
pub mod live_boot;
pub mod mkinitcpio;
mod rootfs_list;

use repack_core::{BootFamilyKind, ManifestFile};

pub use casper::Casper;
pub use dracut::Dracut;
pub use live_boot::LiveBoot;
pub use mkinitcpio::Mkinitcpio;
pub use rootfs_list::{ROOTFS_LIST_PATH, check_part_url, render_rootfs_list};

/// Shell helpers shared by every family's hook (fetch, check, join, fail, stop).
pub const HOOK_COMMON: &str = include_str!("hooks/common.sh");

/// One file to add to the initrd. Invariant: `path` is relative (no leading `/`), normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverlayFile {
    pub path: String,
    pub mode: u32,
    pub contents: Vec<u8>,
}

/// What a family produces for one release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootPlan {
    pub overlay: Vec<OverlayFile>,
    /// Kernel arguments; `{base}` stands for the release directory URL.
    pub cmdline: String,
    pub ram_mib: u64,
}

/// Read access to the upstream initrd being patched (effective content, later members win).
pub trait BaseInitrd {
    /// The content of `path` (relative), or `None` when the initrd has no such file.
    fn read_file(&self, path: &str) -> Result<Option<Vec<u8>>, BootError>;
}

/// The release a plan is made for.
pub struct BootInputs<'a> {
    /// Root filesystem images in stacking order, with their parts as published.
    pub rootfs: &'a [ManifestFile],
    /// The family's own side files published beside the images ([`BootFamily::side_files`]
    /// that the ISO has); the hook fetches and checks them with the images.
    pub side_files: &'a [ManifestFile],
    /// Size of the upstream initrd (it is unpacked into RAM at boot).
    pub initrd_size: u64,
    /// Extra arguments from the recipe, appended after the family's own.
    pub extra_args: &'a [String],
    pub base: &'a dyn BaseInitrd,
}

/// Occurs when a family cannot make a plan for a release.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BootError {
    /// Occurs when the recipe names a family this version of repack cannot patch yet.
    #[error("boot family `{0}` is not supported yet")]
    Unsupported(BootFamilyKind),
    /// Occurs when the base initrd lacks what the family needs (e.g. live-boot's scripts).
    #[error("the upstream initrd is not a {family} initrd: {reason}")]
    NotThisFamily {
        family: BootFamilyKind,
        reason: String,
    },
    /// Occurs when a published name cannot be used safely in a shell script or URL.
    #[error("file name `{0}` is not safe for a boot hook (allowed: letters, digits, `._+-`)")]
    UnsafeName(String),
    /// Occurs when a part a release points at (in an earlier release) has a URL a boot hook
    /// cannot use as it is.
    #[error(
        "part URL `{0}` is not usable by a boot hook (an http:// or https:// URL of letters, \
         digits and `-._~:/?=&%+@,` only)"
    )]
    UnsafeUrl(String),
    /// Occurs when reading the base initrd fails.
    #[error("cannot read `{path}` from the upstream initrd: {message}")]
    BaseInitrd { path: String, message: String },
    /// Occurs when the upstream initrd lacks a program the hook needs at boot (repack adds
    /// no binaries, so the release could not fetch or check its root: nothing is built).
    #[error(
        "the upstream {family} initrd has no {tool} for the repack hook (looked for {looked_for}); \
         repack adds no binaries, so this initrd cannot fetch and check its root over HTTP"
    )]
    MissingTool {
        family: BootFamilyKind,
        tool: &'static str,
        looked_for: String,
    },
    /// Occurs when the release's root images are not what the family boots (e.g. an archiso
    /// release without `airootfs.sfs`, a casper layer chain with a layer missing).
    #[error("the root images do not fit the {family} family: {reason}")]
    UnexpectedRootfs {
        family: BootFamilyKind,
        reason: String,
    },
}

impl BootError {
    /// A stable identifier of the failure, for logs, metrics and the catalogue.
    pub fn kind(&self) -> &'static str {
        match self {
            BootError::Unsupported(_) => "boot-unsupported-family",
            BootError::NotThisFamily { .. } => "boot-not-this-family",
            BootError::UnsafeName(_) => "boot-unsafe-name",
            BootError::UnsafeUrl(_) => "boot-unsafe-url",
            BootError::BaseInitrd { .. } => "boot-base-initrd",
            BootError::MissingTool { .. } => "boot-missing-tool",
            BootError::UnexpectedRootfs { .. } => "boot-unexpected-rootfs",
        }
    }
}

/// A live-boot family: overlay, command line and RAM for one release.
pub trait BootFamily {
    fn kind(&self) -> BootFamilyKind;
    fn plan(&self, inputs: &BootInputs<'_>) -> Result<BootPlan, BootError>;

    /// Names of the family's own files that sit beside root image `image` (a file name) on
    /// upstream media and that its init reads on request, e.g. archiso's `airootfs.sha512`.
    /// The pipeline publishes those the ISO has, unchanged. None by default.
    fn side_files(&self, _image: &str) -> Vec<String> {
        Vec::new()
    }
}

/// The family implementation for `kind`.
pub fn family(kind: BootFamilyKind) -> Result<&'static dyn BootFamily, BootError> {
    match kind {
        BootFamilyKind::LiveBoot => Ok(&LiveBoot),
        BootFamilyKind::Casper => Ok(&Casper),
        BootFamilyKind::Dracut => Ok(&Dracut),
        BootFamilyKind::Archiso => Ok(&mkinitcpio::ARCHISO),
        BootFamilyKind::Miso => Ok(&mkinitcpio::MISO),
    }
}

/// RAM a boot needs when the root images are downloaded into memory: the images (each part
/// is written straight onto the end of its image, so no part is held twice), the unpacked
/// initrd (about three times its compressed size) and room for the running system, rounded
/// up to 256 MiB.
pub fn ram_needed_mib(rootfs: &[ManifestFile], initrd_size: u64) -> u64 {
    const MIB: u64 = 1024 * 1024;
    let images: u64 = rootfs.iter().map(|file| file.size).sum();
    let bytes = images + initrd_size.saturating_mul(3) + 512 * MIB;
    bytes.div_ceil(256 * MIB) * 256
}
