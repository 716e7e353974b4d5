//! [`MenuEntry`]: one bootable release as the menus see it, validated on construction.

use crate::syntax;
use repack_core::{Arch, BootFamilyKind, FileRole, Manifest};

/// The iPXE setting that holds the base URL of all releases. Operators may preset it.
pub(crate) const BASE_SETTING: &str = "repack-base";

/// A value could not be placed in a menu, or a manifest lacks what a menu needs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MenuError {
    /// Occurs when a value would break or change the meaning of the iPXE script (a line break,
    /// `${`, a `#` word, a label character outside `[A-Za-z0-9_.-]`, ...). Nothing was rendered.
    #[error("{field} of `{recipe}` cannot go into a boot menu: it {reason} (value: {value})")]
    Unsafe {
        /// The recipe id as given (escaped for display), or `menu options`.
        recipe: String,
        field: &'static str,
        /// The refused value, escaped (`{:?}`) and cut to 100 characters.
        value: String,
        reason: &'static str,
    },

    /// Occurs when the manifest lists no file (or more than one) for the kernel or the initrd.
    #[error(
        "release {tag} of `{recipe}` has {count} {role:?} files in its manifest; a menu needs exactly one"
    )]
    BootFile {
        recipe: String,
        tag: String,
        role: FileRole,
        count: usize,
    },

    /// Occurs when the kernel or the initrd is stored in parts: iPXE fetches each as one file.
    #[error("release {tag} of `{recipe}`: {name} is stored in {parts} parts; iPXE needs it whole")]
    SplitBootFile {
        recipe: String,
        tag: String,
        name: String,
        parts: usize,
    },

    /// Occurs when the YAML serializer fails (not expected for validated entries).
    #[error("cannot write endpoints.yml: {message}")]
    Yaml { message: String },
}

impl MenuError {
    /// A stable, machine-readable name of the failure.
    pub fn kind(&self) -> &'static str {
        match self {
            MenuError::Unsafe { .. } => "menu-unsafe-value",
            MenuError::BootFile { .. } => "menu-boot-file",
            MenuError::SplitBootFile { .. } => "menu-split-boot-file",
            MenuError::Yaml { .. } => "menu-yaml",
        }
    }

    pub(crate) fn unsafe_value(
        recipe: &str,
        field: &'static str,
        value: &str,
        reason: &'static str,
    ) -> MenuError {
        let shown = |text: &str| {
            let escaped = format!("{text:?}");
            if escaped.chars().count() > 100 {
                format!("{}…", escaped.chars().take(100).collect::<String>())
            } else {
                escaped
            }
        };
        MenuError::Unsafe {
            recipe: shown(recipe).trim_matches('"').to_owned(),
            field,
            value: shown(value),
            reason,
        }
    }
}

/// One bootable release, ready for the menus.
///
/// Invariant (checked by [`MenuEntry::from_manifest`], the only constructor): every field is
/// safe to place in an iPXE script as the renderers do. `id` is a label
/// (`[A-Za-z0-9_-]`, not starting with `-`); `name`, `os` and `version` are display text;
/// `path`, `kernel`, `initrd` and `files` are URL-safe names; `cmdline` holds no iPXE syntax
/// except the `${repack-base}` reference put there for `{base}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MenuEntry {
    id: String,
    name: String,
    os: String,
    version: String,
    arch: Arch,
    boot_family: BootFamilyKind,
    path: String,
    kernel: String,
    initrd: String,
    cmdline: String,
    ram_mib: u64,
    files: Vec<String>,
}

impl MenuEntry {
    /// Builds the entry of a published release.
    ///
    /// - `manifest`: the release's manifest (recipe id, display name, OS family, version, arch,
    ///   boot family, files, cmdline, RAM needed); menus group entries by OS;
    /// - `path`: the release directory relative to the menu base URL, e.g.
    ///   `debian-live/12.8.0-1a2b3c4d` (no leading or trailing `/`).
    pub fn from_manifest(manifest: &Manifest, path: &str) -> Result<MenuEntry, MenuError> {
        let recipe = manifest.recipe.as_str();
        let (name, os) = (manifest.name.as_str(), manifest.os.as_str());
        let check =
            |field: &'static str, value: &str, rule: fn(&str) -> Result<(), &'static str>| {
                rule(value).map_err(|reason| MenuError::unsafe_value(recipe, field, value, reason))
            };
        check("recipe id", recipe, syntax::check_label)?;
        check("name", name, syntax::check_text)?;
        check("os", os, syntax::check_text)?;
        check("version", &manifest.version, syntax::check_text)?;
        check("path", path, syntax::check_path)?;
        check("cmdline", &manifest.cmdline, syntax::check_cmdline)?;

        let boot_file = |role: FileRole| -> Result<String, MenuError> {
            let mut files = manifest.files_with_role(role);
            let (Some(file), None) = (files.next(), files.next()) else {
                return Err(MenuError::BootFile {
                    recipe: recipe.to_owned(),
                    tag: manifest.tag.clone(),
                    role,
                    count: manifest.files_with_role(role).count(),
                });
            };
            // A file is stored under its own name when it is not split.
            if file.parts.len() != 1 || file.parts[0].name != file.name {
                return Err(MenuError::SplitBootFile {
                    recipe: recipe.to_owned(),
                    tag: manifest.tag.clone(),
                    name: file.name.clone(),
                    parts: file.parts.len(),
                });
            }
            Ok(file.name.clone())
        };
        let kernel = boot_file(FileRole::Kernel)?;
        let initrd = boot_file(FileRole::Initrd)?;

        let files: Vec<String> = manifest.stored_names().map(str::to_owned).collect();
        for file in &files {
            check("stored file name", file, syntax::check_file_name)?;
        }

        let cmdline = manifest.cmdline_for(&format!("${{{BASE_SETTING}}}/{path}"));
        Ok(MenuEntry {
            id: recipe.to_owned(),
            name: name.to_owned(),
            os: os.to_owned(),
            version: manifest.version.clone(),
            arch: manifest.arch,
            boot_family: manifest.boot_family,
            path: path.to_owned(),
            kernel,
            initrd,
            cmdline,
            ram_mib: manifest.ram_mib,
            files,
        })
    }

    /// The recipe id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The menu item name (and, prefixed, its label): `<recipe>-<arch>`, unique per current
    /// build because the catalogue keeps one current build per (recipe, arch).
    pub fn item_name(&self) -> String {
        format!("{}-{}", self.id, self.arch.as_str())
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn os(&self) -> &str {
        &self.os
    }

    pub fn version(&self) -> &str {
        &self.version
    }

    pub fn arch(&self) -> Arch {
        self.arch
    }

    pub fn boot_family(&self) -> BootFamilyKind {
        self.boot_family
    }

    /// The release directory relative to the base URL.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The kernel's file name in the release directory.
    pub fn kernel(&self) -> &str {
        &self.kernel
    }

    /// The initrd's file name in the release directory (also its iPXE image name).
    pub fn initrd(&self) -> &str {
        &self.initrd
    }

    /// The kernel arguments, with `{base}` replaced by `${repack-base}/<path>` so iPXE
    /// substitutes the base URL at boot time.
    pub fn cmdline(&self) -> &str {
        &self.cmdline
    }

    /// RAM (MiB) the live system needs.
    pub fn ram_mib(&self) -> u64 {
        self.ram_mib
    }

    /// Every stored object name of the release (parts included), in publishing order.
    pub fn files(&self) -> &[String] {
        &self.files
    }
}
