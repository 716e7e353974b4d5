//! Recipes: one TOML file per distro variant, saying where releases appear and how to
//! turn an ISO into network-bootable pieces.
//!
//! ```toml
//! id = "debian-live"
//! name = "Debian Live (standard)"
//! os = "debian"
//! arch = "x86_64"
//! schedule = "0 4 * * *"
//! boot = "live-boot"
//! kernel_args = []
//!
//! [watch]
//! kind = "checksums"
//! url = "https://cdimage.example/live/SHA256SUMS"
//! pattern = '^debian-live-(?P<version>[0-9.]+)-amd64-standard\.iso$'
//!
//! [iso]
//! kernel = "live/vmlinuz*"
//! initrd = "live/initrd.img*"
//! rootfs = ["live/filesystem.squashfs"]
//! ```
//! Unknown keys are errors that name the file, the line and the key.

use crate::{Arch, Sha256Digest};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};

/// A parsed, validated recipe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recipe {
    /// Lowercase letters, digits and `-`; used in paths, tags and the catalogue.
    pub id: String,
    /// Shown in menus.
    pub name: String,
    /// Distribution family, e.g. `debian`; groups menu entries.
    pub os: String,
    pub arch: Arch,
    /// Five-field cron line (UTC) for the scheduled worker.
    pub schedule: String,
    pub boot: BootFamilyKind,
    /// Extra kernel arguments appended after the family's own.
    #[serde(default)]
    pub kernel_args: Vec<String>,
    pub watch: WatchSource,
    pub iso: IsoPaths,
}

/// Where the upstream announces releases. One variant per feed kind; each kind is
/// implemented by one `repack-watch-<kind>` crate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum WatchSource {
    /// A `SHA256SUMS`-style list: `<sha256>  <file name>` lines (GNU or BSD form).
    Checksums {
        /// URL of the checksum list; ISO URLs are resolved relative to it.
        url: String,
        /// Regular expression matched against each file name; must have a `version` group.
        pattern: String,
    },
}

/// Paths inside the ISO. Globs (`*`, `?`, `[...]`) are allowed in the last component
/// and must match exactly one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IsoPaths {
    pub kernel: String,
    pub initrd: String,
    /// Root filesystem image(s), in the order the boot family stacks them.
    pub rootfs: Vec<String>,
}

/// The live-boot family of a distribution: how its initrd finds and mounts the root image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BootFamilyKind {
    /// Debian live-boot (`boot=live`).
    LiveBoot,
    /// Ubuntu casper (`boot=casper`).
    Casper,
    /// dracut dmsquash-live + livenet (`root=live:`).
    Dracut,
    /// Arch archiso (`archisobasedir=`).
    Archiso,
    /// Manjaro miso (`misobasedir=`).
    Miso,
}

impl BootFamilyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BootFamilyKind::LiveBoot => "live-boot",
            BootFamilyKind::Casper => "casper",
            BootFamilyKind::Dracut => "dracut",
            BootFamilyKind::Archiso => "archiso",
            BootFamilyKind::Miso => "miso",
        }
    }
}

impl fmt::Display for BootFamilyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Occurs when a recipe file cannot be read, parsed or validated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecipeError {
    /// Occurs when the file cannot be read.
    #[error("cannot read recipe {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Occurs when the TOML is malformed, a key is unknown or a value has the wrong type;
    /// the message names the line, column and key.
    #[error("recipe {path}: {message}")]
    Parse { path: PathBuf, message: String },
    /// Occurs when a value parses but makes no sense (bad id, empty rootfs list, ...).
    #[error("recipe {path}: {reason}")]
    Invalid { path: PathBuf, reason: String },
    /// Occurs when no recipe with the requested id exists in the recipe directories.
    #[error("no recipe `{id}` in {searched}")]
    NotFound { id: String, searched: String },
}

impl Recipe {
    /// Parses and validates a recipe from TOML text; `path` is only used in errors.
    pub fn from_toml(text: &str, path: &Path) -> Result<Recipe, RecipeError> {
        let recipe: Recipe = toml::from_str(text).map_err(|error| RecipeError::Parse {
            path: path.to_owned(),
            message: error.to_string().trim_end().to_owned(),
        })?;
        recipe.validate(path)?;
        Ok(recipe)
    }

    /// Reads and parses a recipe file.
    pub fn load(path: &Path) -> Result<Recipe, RecipeError> {
        let text = std::fs::read_to_string(path).map_err(|source| RecipeError::Read {
            path: path.to_owned(),
            source,
        })?;
        Recipe::from_toml(&text, path)
    }

    /// Finds `<id>.toml` in the first directory of `dirs` that has it.
    pub fn find(id: &str, dirs: &[PathBuf]) -> Result<Recipe, RecipeError> {
        if !is_valid_id(id) {
            return Err(RecipeError::NotFound {
                id: id.to_owned(),
                searched: "(ids are lowercase letters, digits and `-`)".to_owned(),
            });
        }
        for dir in dirs {
            let path = dir.join(format!("{id}.toml"));
            if path.is_file() {
                return Recipe::load(&path);
            }
        }
        Err(RecipeError::NotFound {
            id: id.to_owned(),
            searched: dirs
                .iter()
                .map(|dir| dir.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        })
    }

    fn validate(&self, path: &Path) -> Result<(), RecipeError> {
        let invalid = |reason: String| {
            Err(RecipeError::Invalid {
                path: path.to_owned(),
                reason,
            })
        };
        if !is_valid_id(&self.id) {
            return invalid(format!(
                "id `{}` must be lowercase letters, digits and `-`",
                self.id
            ));
        }
        if let Some(stem) = path.file_stem().and_then(|stem| stem.to_str())
            && path.extension().is_some_and(|ext| ext == "toml")
            && stem != self.id
        {
            return invalid(format!(
                "id `{}` differs from the file name `{stem}.toml`",
                self.id
            ));
        }
        if self.schedule.split_whitespace().count() != 5 {
            return invalid(format!(
                "schedule `{}` must be a five-field cron line",
                self.schedule
            ));
        }
        if self.iso.rootfs.is_empty() {
            return invalid("iso.rootfs must list at least one image".to_owned());
        }
        let paths = [&self.iso.kernel, &self.iso.initrd]
            .into_iter()
            .chain(self.iso.rootfs.iter());
        for iso_path in paths {
            if iso_path.is_empty()
                || iso_path.split('/').any(|part| part == ".." || part == ".")
                || iso_path.contains('\0')
            {
                return invalid(format!("ISO path `{iso_path}` is empty or not normalised"));
            }
        }
        for arg in &self.kernel_args {
            if arg.is_empty() || arg.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return invalid(format!(
                    "kernel argument `{arg}` must be one word without spaces"
                ));
            }
        }
        match &self.watch {
            WatchSource::Checksums { url, pattern } => {
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return invalid(format!("watch.url `{url}` must be an http(s) URL"));
                }
                match regex::Regex::new(pattern) {
                    Ok(regex) if regex.capture_names().flatten().any(|n| n == "version") => {}
                    Ok(_) => {
                        return invalid(format!(
                            "watch.pattern `{pattern}` needs a `(?P<version>...)` group"
                        ));
                    }
                    Err(error) => return invalid(format!("watch.pattern: {error}")),
                }
            }
        }
        Ok(())
    }

    /// Digest of the parts of the recipe that shape the published bytes (id, arch, boot
    /// family, kernel arguments, ISO paths). Display name, schedule and watch source are
    /// left out on purpose: changing them must not rebuild anything.
    pub fn build_hash(&self) -> Sha256Digest {
        #[derive(Serialize)]
        struct BuildInputs<'a> {
            id: &'a str,
            arch: Arch,
            boot: BootFamilyKind,
            kernel_args: &'a [String],
            iso: &'a IsoPaths,
        }
        let inputs = BuildInputs {
            id: &self.id,
            arch: self.arch,
            boot: self.boot,
            kernel_args: &self.kernel_args,
            iso: &self.iso,
        };
        let canonical = serde_json::to_vec(&inputs).expect("recipe inputs serialise");
        Sha256Digest::of(&canonical)
    }
}

fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.starts_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
id = "debian-live"
name = "Debian Live"
os = "debian"
arch = "x86_64"
schedule = "0 4 * * *"
boot = "live-boot"

[watch]
kind = "checksums"
url = "https://cd.example/SHA256SUMS"
pattern = '^debian-live-(?P<version>[0-9.]+)-amd64-standard\.iso$'

[iso]
kernel = "live/vmlinuz*"
initrd = "live/initrd.img*"
rootfs = ["live/filesystem.squashfs"]
"#;

    fn path() -> &'static Path {
        Path::new("recipes/debian-live.toml")
    }

    #[test]
    fn parses_a_complete_recipe() {
        let recipe = Recipe::from_toml(GOOD, path()).unwrap();
        assert_eq!(recipe.id, "debian-live");
        assert_eq!(recipe.boot, BootFamilyKind::LiveBoot);
        assert!(recipe.kernel_args.is_empty());
        assert!(matches!(recipe.watch, WatchSource::Checksums { .. }));
    }

    #[test]
    fn unknown_key_names_file_line_and_key() {
        let text = GOOD.replace("os = \"debian\"", "os = \"debian\"\nflavour = \"x\"");
        let error = Recipe::from_toml(&text, path()).unwrap_err().to_string();
        assert!(error.contains("recipes/debian-live.toml"), "{error}");
        assert!(error.contains("line 5"), "{error}");
        assert!(error.contains("flavour"), "{error}");
    }

    #[test]
    fn unknown_key_in_a_table_is_an_error_too() {
        let text = GOOD.replace("[iso]", "[iso]\nkernal = \"x\"");
        let error = Recipe::from_toml(&text, path()).unwrap_err().to_string();
        assert!(error.contains("kernal"), "{error}");
    }

    #[test]
    fn pattern_without_version_group_is_invalid() {
        let text = GOOD.replace("(?P<version>[0-9.]+)", "[0-9.]+");
        let error = Recipe::from_toml(&text, path()).unwrap_err().to_string();
        assert!(error.contains("version"), "{error}");
    }

    #[test]
    fn id_must_match_file_name() {
        let error = Recipe::from_toml(GOOD, Path::new("recipes/other.toml"))
            .unwrap_err()
            .to_string();
        assert!(error.contains("other.toml"), "{error}");
    }

    #[test]
    fn escaping_iso_paths_are_invalid() {
        let text = GOOD.replace("live/filesystem.squashfs", "../etc/shadow");
        assert!(Recipe::from_toml(&text, path()).is_err());
    }

    #[test]
    fn build_hash_ignores_name_and_schedule_but_not_paths() {
        let base = Recipe::from_toml(GOOD, path()).unwrap();
        let renamed = Recipe::from_toml(
            &GOOD
                .replace("Debian Live\"", "Debian Live 12\"")
                .replace("0 4 * * *", "0 5 * * *"),
            path(),
        )
        .unwrap();
        assert_eq!(base.build_hash(), renamed.build_hash());
        let moved = Recipe::from_toml(
            &GOOD.replace("live/filesystem.squashfs", "live/other.squashfs"),
            path(),
        )
        .unwrap();
        assert_ne!(base.build_hash(), moved.build_hash());
    }
}
