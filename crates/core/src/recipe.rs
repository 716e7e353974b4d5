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
    /// Forge repositories whose webhooks (`repack serve`) trigger a build of this recipe, as
    /// `<forge>:<path>` with forge `github`, `gitlab` or `forgejo` (e.g.
    /// `gitlab:archlinux/releng`). A `github` watcher's own repository needs no entry.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub webhooks: Vec<String>,
    /// Where releases appear; parsed and checked by `repack-watch`.
    pub watch: WatchTable,
    pub iso: IsoPaths,
}

/// The recipe's `[watch]` table, kept raw: where the upstream announces releases.
///
/// Its `kind` key names a feed kind (`checksums`, `html-index`, `json`, `yaml`, `github`, ...);
/// the other keys are that kind's settings plus the options every kind shares. Core only
/// checks that `kind` is there: `repack-watch` owns the registry of kinds, parses the table
/// into the kind's typed configuration and rejects unknown kinds and keys, so adding a kind
/// touches the registry and one new crate, nothing here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WatchTable(toml::Table);

/// Watch tables are compared as written. A TOML `nan` would make equality non-reflexive,
/// but no watch setting is a float, and the registry rejects unknown keys.
impl Eq for WatchTable {}

impl WatchTable {
    /// Wraps a table (tests and tools that build recipes in code).
    pub fn new(table: toml::Table) -> Self {
        WatchTable(table)
    }

    /// The `kind` key, when it is a string.
    pub fn kind(&self) -> Option<&str> {
        self.0.get("kind").and_then(toml::Value::as_str)
    }

    /// The `url` key, when it is a string (every kind but `github` has one), for messages.
    pub fn url(&self) -> Option<&str> {
        self.0.get("url").and_then(toml::Value::as_str)
    }

    /// Every key as written, `kind` included.
    pub fn table(&self) -> &toml::Table {
        &self.0
    }
}

/// Settings of this installation that change the published files, so they are part of the
/// build key ([`Recipe::build_hash`]). Settings that change only where or how files are
/// served (public URL, output directory, publisher credentials) are not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputSettings {
    /// Files above this size are split into `NAME`, `NAME.part2`, …
    pub part_size: u64,
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
    /// Occurs when a requested recipe id cannot name a recipe file at all.
    #[error("`{id}` is not a recipe id: {reason} (ids are lowercase letters, digits, `-` and `.`)")]
    InvalidId { id: String, reason: &'static str },
    /// Occurs when no recipe with the requested id exists in the recipe directories.
    #[error("no recipe `{id}`: looked for {file} in {searched}")]
    NotFound {
        id: String,
        file: String,
        searched: String,
    },
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
        if let Err(reason) = check_id(id) {
            return Err(RecipeError::InvalidId {
                id: id.to_owned(),
                reason,
            });
        }
        let file = format!("{id}.toml");
        for dir in dirs {
            let path = dir.join(&file);
            if path.is_file() {
                return Recipe::load(&path);
            }
        }
        let searched = if dirs.is_empty() {
            "no directory (recipe_dirs is empty)".to_owned()
        } else {
            dirs.iter()
                .map(|dir| {
                    if dir.is_dir() {
                        dir.display().to_string()
                    } else {
                        format!("{} (missing)", dir.display())
                    }
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        Err(RecipeError::NotFound {
            id: id.to_owned(),
            file,
            searched,
        })
    }

    fn validate(&self, path: &Path) -> Result<(), RecipeError> {
        let invalid = |reason: String| {
            Err(RecipeError::Invalid {
                path: path.to_owned(),
                reason,
            })
        };
        if let Err(reason) = check_id(&self.id) {
            return invalid(format!(
                "id `{}` is not valid: {reason} (ids are lowercase letters, digits, `-` and `.`)",
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
        // The kind's own keys are checked by repack-watch's registry (`WatchConfig::parse`),
        // which the binary runs right after loading a recipe.
        if self.watch.kind().is_none_or(str::is_empty) {
            return invalid("[watch] needs a `kind` string naming the feed kind".to_owned());
        }
        Ok(())
    }

    /// Digest of everything that shapes the published bytes besides the ISO: the recipe's
    /// id, arch, boot family, kernel arguments and ISO paths, and the installation's
    /// [`OutputSettings`] (a lower part size re-splits the root images, so it must be a new
    /// build, not "already published"). Display name, schedule and watch source are left out
    /// on purpose: changing them must not rebuild anything. Stored as the build key's
    /// `recipe_hash`.
    pub fn build_hash(&self, settings: &OutputSettings) -> Sha256Digest {
        #[derive(Serialize)]
        struct BuildInputs<'a> {
            id: &'a str,
            arch: Arch,
            boot: BootFamilyKind,
            kernel_args: &'a [String],
            iso: &'a IsoPaths,
            settings: &'a OutputSettings,
        }
        let inputs = BuildInputs {
            id: &self.id,
            arch: self.arch,
            boot: self.boot,
            kernel_args: &self.kernel_args,
            iso: &self.iso,
            settings,
        };
        let canonical = serde_json::to_vec(&inputs).expect("recipe inputs serialise");
        Sha256Digest::of(&canonical)
    }
}

/// Longest recipe id: it is part of file names, release tags and URLs.
pub const MAX_ID_LEN: usize = 64;

/// A recipe id names a file (`<id>.toml`), a published directory and a release tag, so it is
/// lowercase letters, digits, `-` and `.` (`ubuntu-24.04-live`), starts with a letter or
/// digit, and holds no `..` and no trailing `.`.
fn check_id(id: &str) -> Result<(), &'static str> {
    if id.is_empty() {
        return Err("it is empty");
    }
    if id.len() > MAX_ID_LEN {
        return Err("it is longer than 64 characters");
    }
    if !id
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
    {
        return Err("it holds a character other than a-z, 0-9, `-` and `.`");
    }
    if id.starts_with(['-', '.']) {
        return Err("it starts with `-` or `.`");
    }
    if id.ends_with('.') || id.contains("..") {
        return Err("it ends with `.` or holds `..`");
    }
    Ok(())
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
        assert_eq!(recipe.watch.kind(), Some("checksums"));
        assert_eq!(recipe.watch.url(), Some("https://cd.example/SHA256SUMS"));
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
    fn watch_table_without_kind_is_invalid() {
        let text = GOOD.replace("kind = \"checksums\"\n", "");
        let error = Recipe::from_toml(&text, path()).unwrap_err().to_string();
        assert!(error.contains("recipes/debian-live.toml"), "{error}");
        assert!(error.contains("kind"), "{error}");
    }

    #[test]
    fn watch_keys_are_kept_raw_for_the_registry() {
        // Checking the kind's keys is repack-watch's job: core keeps them as written.
        let text = GOOD.replace("[watch]", "[watch]\ndir_pattern = 'x'");
        let recipe = Recipe::from_toml(&text, path()).unwrap();
        assert_eq!(
            recipe
                .watch
                .table()
                .get("dir_pattern")
                .and_then(|v| v.as_str()),
            Some("x")
        );
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
        assert_eq!(base.build_hash(&SETTINGS), renamed.build_hash(&SETTINGS));
        let moved = Recipe::from_toml(
            &GOOD.replace("live/filesystem.squashfs", "live/other.squashfs"),
            path(),
        )
        .unwrap();
        assert_ne!(base.build_hash(&SETTINGS), moved.build_hash(&SETTINGS));
    }

    const SETTINGS: OutputSettings = OutputSettings {
        part_size: 2_097_151_999,
    };

    #[test]
    fn build_hash_changes_with_the_part_size() {
        let recipe = Recipe::from_toml(GOOD, path()).unwrap();
        let smaller = OutputSettings {
            part_size: 1_000_000_000,
        };
        assert_ne!(recipe.build_hash(&SETTINGS), recipe.build_hash(&smaller));
        assert_eq!(recipe.build_hash(&SETTINGS), recipe.build_hash(&SETTINGS));
    }

    #[test]
    fn ids_may_hold_dots_for_pinned_releases() {
        let text = GOOD.replace("id = \"debian-live\"", "id = \"ubuntu-24.04-live\"");
        let recipe = Recipe::from_toml(&text, Path::new("recipes/ubuntu-24.04-live.toml")).unwrap();
        assert_eq!(recipe.id, "ubuntu-24.04-live");
    }

    #[test]
    fn ids_with_leading_trailing_or_double_dots_are_refused_with_the_reason() {
        for (id, reason) in [
            (".hidden", "starts with"),
            ("-dash", "starts with"),
            ("ubuntu..live", "`..`"),
            ("ubuntu.", "ends with"),
            ("Ubuntu", "a-z"),
            ("a/b", "a-z"),
            ("", "empty"),
        ] {
            let error = Recipe::find(id, &[PathBuf::from("recipes")])
                .unwrap_err()
                .to_string();
            assert!(
                error.contains(reason) && error.contains(&format!("`{id}`")),
                "{id}: {error}"
            );
        }
    }

    #[test]
    fn a_missing_recipe_names_the_file_and_every_directory_searched() {
        let here = tempfile::tempdir().unwrap();
        let gone = here.path().join("gone");
        let error = Recipe::find("ubuntu-24.04-live", &[here.path().to_owned(), gone.clone()])
            .unwrap_err()
            .to_string();
        assert!(error.contains("ubuntu-24.04-live.toml"), "{error}");
        assert!(
            error.contains(&here.path().display().to_string()),
            "{error}"
        );
        assert!(
            error.contains(&format!("{} (missing)", gone.display())),
            "{error}"
        );
        let error = Recipe::find("debian-live", &[]).unwrap_err().to_string();
        assert!(error.contains("recipe_dirs is empty"), "{error}");
    }
}
