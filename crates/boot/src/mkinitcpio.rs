//! mkinitcpio families: Arch's archiso (Arch Linux, EndeavourOS, CachyOS, SystemRescue) and
//! Manjaro's miso. Both boot over HTTP through one hook file, `/hooks/<family>_pxe_http`, so
//! one implementation serves both with each family's names ([`ARCHISO`], [`MISO`]).
//!
//! Hook point: mkinitcpio's `/init` runs the hooks its `/config` names in `HOOKS`, skips any
//! that is not executable, sources the rest into its own shell and calls their `run_hook`
//! (the rules are in [`crate::init_rules`]). The HTTP hook is already named there, so
//! replacing that one file (mode 0755) is the family's additive hook point; its main hook
//! (`archiso`, `miso`) and `*_pxe_common` stay. The family refuses an initrd whose `/config`
//! does not name the HTTP hook: ours would never run.
//!
//! Ours keeps the stock contract: with `ip=` and `<family>_http_srv=` its `run_hook` sets
//! `copytoram=y` and a mount handler, which fetches every file of the baked rootfs list from
//! the release directory with curl, following redirects (miso's stock hook probes each image
//! with `curl --head | grep OK`, which breaks behind redirects; ours probes nothing), into a
//! tmpfs at `/run/<family>/httpspace` sized from the list, laid out as
//! `${<family>basedir}/${arch}/<name>`, checks and joins the parts, bind-mounts it on
//! `/run/<family>/bootmnt` and calls the family's own mount handler. `arch` comes from the
//! family's main hook (`uname -m` unless `arch=` is given), so arm64 builds find their own
//! directory.
//!
//! Side files: archiso's mount handler checks `airootfs.sha512` (`checksum=y`), a detached
//! OpenPGP signature (`verify=y`) and a CMS signature (`cms_verify=y`) beside the image.
//! [`Mkinitcpio::side_files`] names them, the pipeline publishes those the ISO has, and the
//! hook fetches them with the image, so those options keep working on top of repack's check.
//!
//! Command lines: `archisobasedir=arch archiso_http_srv={base}/ ip=dhcp`;
//! `misobasedir=manjaro miso_http_srv={base}/ ip=dhcp net.ifnames=0`.

use crate::base_initrd::{cmdline, first_file, hook_script, require_command, require_sha256};
use crate::{
    BootError, BootFamily, BootInputs, BootPlan, OverlayFile, ROOTFS_LIST_PATH, ram_needed_mib,
    render_rootfs_list,
};
use repack_core::{BootFamilyKind, ManifestFile};

/// The hook template; `@NAME@` placeholders are filled per family.
const HOOK_TEMPLATE: &str = include_str!("hooks/mkinitcpio_pxe_http.sh");
/// mkinitcpio's hook list, written at build time.
pub const CONFIG_PATH: &str = "config";
/// Hooks mkinitcpio only runs when they are executable (`[ -x /hooks/$hook ] || continue`).
pub const HOOK_MODE: u32 = 0o755;

/// One mkinitcpio family's names.
pub struct Mkinitcpio {
    pub kind: BootFamilyKind,
    /// The family's main hook, which defines its mount handler (`hooks/archiso`).
    pub main_hook: &'static str,
    /// The HTTP hook this family replaces (`archiso_pxe_http`), named in `/config`'s HOOKS.
    pub http_hook: &'static str,
    /// The kernel argument naming the release URL (`archiso_http_srv`).
    pub srv_arg: &'static str,
    /// The variable the main hook sets from `<family>basedir=` (`archisobasedir`).
    pub basedir_var: &'static str,
    /// The kernel argument value for the base directory (`arch`).
    pub basedir: &'static str,
    /// The family's run directory (`/run/archiso`).
    pub run_dir: &'static str,
    /// The family's mount handler, called once the images are in place.
    pub mount_handler: &'static str,
    /// Extra kernel arguments the family needs.
    pub extra_args: &'static str,
    /// Images the family boots: `required` must all be there, the rest are optional.
    pub required_images: &'static [&'static str],
    pub optional_images: &'static [&'static str],
    /// Exactly one image of `required_images` (archiso boots `.sfs` or `.erofs`).
    pub one_of_required: bool,
}

/// Arch's archiso.
pub const ARCHISO: Mkinitcpio = Mkinitcpio {
    kind: BootFamilyKind::Archiso,
    main_hook: "hooks/archiso",
    http_hook: "archiso_pxe_http",
    srv_arg: "archiso_http_srv",
    basedir_var: "archisobasedir",
    basedir: "arch",
    run_dir: "/run/archiso",
    mount_handler: "archiso_mount_handler",
    extra_args: "",
    required_images: &["airootfs.sfs", "airootfs.erofs"],
    optional_images: &[],
    one_of_required: true,
};

/// Manjaro's miso.
pub const MISO: Mkinitcpio = Mkinitcpio {
    kind: BootFamilyKind::Miso,
    main_hook: "hooks/miso",
    http_hook: "miso_pxe_http",
    srv_arg: "miso_http_srv",
    basedir_var: "misobasedir",
    basedir: "manjaro",
    run_dir: "/run/miso",
    mount_handler: "miso_mount_handler",
    extra_args: " net.ifnames=0",
    required_images: &["rootfs.sfs"],
    optional_images: &["desktopfs.sfs", "mhwdfs.sfs", "livefs.sfs"],
    one_of_required: false,
};

impl Mkinitcpio {
    /// Where the replaced hook lives in the initrd.
    pub fn hook_path(&self) -> String {
        format!("hooks/{}", self.http_hook)
    }

    /// The hook text: shebang, shared helpers, then the template with this family's names.
    pub fn hook(&self) -> Vec<u8> {
        let part = HOOK_TEMPLATE
            .replace("@FAMILY@", self.kind.as_str())
            .replace("@HOOK@", self.http_hook)
            .replace("@SRV_ARG@", self.srv_arg)
            .replace("@BASEDIR@", self.basedir_var)
            .replace("@RUN_DIR@", self.run_dir)
            .replace("@HANDLER@", self.mount_handler);
        hook_script("#!/usr/bin/ash", &part)
    }

    /// The family's own files that sit beside root image `image` on upstream media, which its
    /// mount handler reads when asked to (archiso: `checksum=y` reads `<stem>.sha512`,
    /// `verify=y` `<image>.sig`, `cms_verify=y` `<image>.cms.sig`). miso's hooks are a fork
    /// of archiso's; the same names are offered and published only where the ISO has them.
    pub fn side_files(&self, image: &str) -> Vec<String> {
        let stem = image.split('.').next().unwrap_or(image);
        vec![
            format!("{stem}.sha512"),
            format!("{image}.sig"),
            format!("{image}.cms.sig"),
        ]
    }

    fn check_images(&self, rootfs: &[ManifestFile]) -> Result<(), BootError> {
        let names: Vec<&str> = rootfs.iter().map(|file| file.name.as_str()).collect();
        let required = names
            .iter()
            .filter(|name| self.required_images.contains(name))
            .count();
        let unknown = names.iter().any(|name| {
            !self.required_images.contains(name) && !self.optional_images.contains(name)
        });
        let fits = if self.one_of_required {
            required == 1
        } else {
            required == self.required_images.len()
        };
        if fits && !unknown {
            return Ok(());
        }
        let wanted = if self.one_of_required {
            format!("one image named {}", self.required_images.join(" or "))
        } else {
            format!(
                "{} plus any of {}",
                self.required_images.join(", "),
                self.optional_images.join(", ")
            )
        };
        Err(BootError::UnexpectedRootfs {
            family: self.kind,
            reason: format!(
                "{} boots {wanted}; the release has: {}",
                self.kind,
                names.join(", ")
            ),
        })
    }

    /// Checks the initrd's `/config` names our hook in HOOKS (mkinitcpio runs no other).
    fn check_config(&self, inputs: &BootInputs<'_>) -> Result<(), BootError> {
        let config =
            inputs
                .base
                .read_file(CONFIG_PATH)?
                .ok_or_else(|| BootError::NotThisFamily {
                    family: self.kind,
                    reason: format!("it has no /{CONFIG_PATH} (is it a mkinitcpio initrd?)"),
                })?;
        let config = String::from_utf8_lossy(&config);
        if config_hooks(&config).any(|hook| hook == self.http_hook) {
            Ok(())
        } else {
            Err(BootError::NotThisFamily {
                family: self.kind,
                reason: format!(
                    "its /{CONFIG_PATH} does not name {} in HOOKS, so mkinitcpio would never run it",
                    self.http_hook
                ),
            })
        }
    }
}

/// The hook names of the `HOOKS=` line of a mkinitcpio `/config`. mkinitcpio's
/// `parse_config` writes it as `HOOKS="a b c"`, listing only hooks whose script defines
/// `run_hook`; other quotings and a `HOOKS=(a b c)` array are read too.
pub fn config_hooks(config: &str) -> impl Iterator<Item = &str> {
    config
        .lines()
        .filter_map(|line| line.trim().strip_prefix("HOOKS="))
        .flat_map(|value| {
            value
                .trim_matches(|c| matches!(c, '\'' | '"' | '(' | ')'))
                .split_whitespace()
                .map(|hook| hook.trim_matches(|c| matches!(c, '\'' | '"')))
        })
}

impl BootFamily for Mkinitcpio {
    fn kind(&self) -> BootFamilyKind {
        self.kind
    }

    fn plan(&self, inputs: &BootInputs<'_>) -> Result<BootPlan, BootError> {
        let base = inputs.base;
        let hook_path = self.hook_path();
        for path in [self.main_hook, hook_path.as_str()] {
            if first_file(base, &[path])?.is_none() {
                return Err(BootError::NotThisFamily {
                    family: self.kind,
                    reason: format!(
                        "it has no {path} (is it built with the {} and {} hooks?)",
                        self.main_hook.trim_start_matches("hooks/"),
                        self.http_hook
                    ),
                });
            }
        }
        self.check_config(inputs)?;
        require_command(base, self.kind, "curl")?;
        require_sha256(base, self.kind)?;
        self.check_images(inputs.rootfs)?;
        let listed: Vec<ManifestFile> = inputs
            .rootfs
            .iter()
            .chain(inputs.side_files)
            .cloned()
            .collect();
        let list = render_rootfs_list(&listed)?;
        Ok(BootPlan {
            overlay: vec![
                OverlayFile {
                    path: hook_path,
                    mode: HOOK_MODE,
                    contents: self.hook(),
                },
                OverlayFile {
                    path: ROOTFS_LIST_PATH.to_owned(),
                    mode: 0o644,
                    contents: list.into_bytes(),
                },
            ],
            cmdline: cmdline(
                format!(
                    "{}={} {}={{base}}/ ip=dhcp{}",
                    self.basedir_var, self.basedir, self.srv_arg, self.extra_args
                ),
                inputs.extra_args,
            ),
            ram_mib: ram_needed_mib(&listed, inputs.initrd_size),
        })
    }

    fn side_files(&self, image: &str) -> Vec<String> {
        Mkinitcpio::side_files(self, image)
    }
}
