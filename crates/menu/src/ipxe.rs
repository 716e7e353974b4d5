//! The iPXE menu script.
//!
//! Shape of the output (labels are fixed names or `repack-item-<item>`):
//! 1. the `#!ipxe` header and `isset ${repack-base} || set repack-base <default>`;
//! 2. `repack-arch` from `${buildarch}` (`x86_64` also on 32-bit iPXE when
//!    `cpuid --ext 29` says the CPU is 64-bit; `arm64`; otherwise `none`);
//! 3. a preset `${repack-target}` (a recipe id, or an item name) jumps straight to its item;
//! 4. `:repack-menu`: one `item` per entry grouped by OS, each guarded by
//!    `iseq ${repack-arch} <arch>` so only bootable items are shown, then shell and exit;
//! 5. one `:repack-item-<recipe>-<arch>` section per entry: `kernel` (with `initrd=<name>`
//!    for EFI, then the release's command line, then `${repack-args}`), `initrd`, `boot`,
//!    each failing over to `:repack-failed`.
//!
//! `${repack-args}` lets an operator (or the boot gate) add kernel arguments to every item,
//! e.g. `console=ttyS0,115200`, without regenerating the menu: iPXE expands a setting before
//! it splits the line into words, so one setting may carry several arguments, and an unset
//! setting expands to nothing.

use crate::entry::{BASE_SETTING, MenuEntry, MenuError};
use crate::syntax;
use repack_core::Arch;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::time::Duration;

/// Label of the menu itself.
const MENU_LABEL: &str = "repack-menu";
/// Label every failed download or boot goes to.
const FAILED_LABEL: &str = "repack-failed";
/// Prefix of item labels: `repack-item-<item name>`.
const ITEM_LABEL_PREFIX: &str = "repack-item-";
/// Item names of the fixed items. They cannot collide with build items, whose names always
/// end in `-<arch>`.
const SHELL_ITEM: &str = "repack-shell";
const EXIT_ITEM: &str = "repack-exit";
/// Settings the script uses; operators may preset `repack-base`, `repack-target` and
/// `repack-args`.
const TARGET_SETTING: &str = "repack-target";
/// Extra kernel arguments appended to every kernel line; unset means none.
const ARGS_SETTING: &str = "repack-args";
const ARCH_SETTING: &str = "repack-arch";
const CHOICE_SETTING: &str = "repack-choice";
/// `repack-arch` on machines no release can boot.
const NO_ARCH: &str = "none";

/// Every architecture the menu can offer, in display order.
const ARCHES: [Arch; 2] = [Arch::X86_64, Arch::Arm64];

/// How the menu is presented. Invariant: every field passed the same checks as
/// [`MenuEntry`]'s (see [`MenuOptions::new`] and the setters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MenuOptions {
    base_url: String,
    title: String,
    timeout: Option<Duration>,
    default_recipe: Option<String>,
}

impl MenuOptions {
    /// Options with `base_url` as the default `${repack-base}` (where the release directories
    /// are served; a trailing `/` is dropped). The URL may itself use iPXE settings, e.g.
    /// `http://${next-server}/releases`.
    pub fn new(base_url: &str) -> Result<MenuOptions, MenuError> {
        let base_url = base_url.trim_end_matches('/');
        syntax::check_base_url(base_url).map_err(|reason| {
            MenuError::unsafe_value("menu options", "base URL", base_url, reason)
        })?;
        Ok(MenuOptions {
            base_url: base_url.to_owned(),
            title: "repack: live systems".to_owned(),
            timeout: None,
            default_recipe: None,
        })
    }

    /// The menu's title line.
    pub fn with_title(mut self, title: &str) -> Result<MenuOptions, MenuError> {
        syntax::check_text(title)
            .map_err(|reason| MenuError::unsafe_value("menu options", "title", title, reason))?;
        self.title = title.to_owned();
        Ok(self)
    }

    /// Boot the default item after `timeout` without a key press (capped at ~49 days, iPXE's
    /// limit). Without a timeout the menu waits.
    pub fn with_timeout(mut self, timeout: Duration) -> MenuOptions {
        self.timeout = Some(timeout);
        self
    }

    /// The recipe whose item is preselected (for this machine's architecture).
    pub fn with_default_recipe(mut self, recipe: &str) -> Result<MenuOptions, MenuError> {
        syntax::check_label(recipe).map_err(|reason| {
            MenuError::unsafe_value("menu options", "default recipe", recipe, reason)
        })?;
        self.default_recipe = Some(recipe.to_owned());
        Ok(self)
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }
}

/// Renders the iPXE menu offering `entries` (normally the current build of every
/// (recipe, arch)). Items are grouped by OS and sorted by name; a second entry with the same
/// recipe and arch is left out (with a comment), as the catalogue never produces one. An empty
/// list still renders a working script whose menu says that nothing is published.
pub fn render_ipxe(entries: &[MenuEntry], options: &MenuOptions) -> String {
    let entries = unique_sorted(entries);
    let mut out = Script::default();

    out.line("#!ipxe");
    out.line("# repack boot menu: one item per current build, generated from the catalogue.");
    out.line("# Do not edit: `repack menu` rewrites this file.");
    out.line("#");
    out.line("# Settings that may be preset before chaining to this script:");
    out.line("#   repack-base    base URL of the release directories (default below)");
    out.line("#   repack-target  recipe id (or item name) to boot without showing the menu");
    out.line(format!(
        "#   {ARGS_SETTING}    extra kernel arguments for every item (e.g. console=ttyS0,115200)"
    ));
    out.blank();
    out.line(format!(
        "isset ${{{BASE_SETTING}}} || set {BASE_SETTING} {}",
        options.base_url
    ));
    out.blank();
    out.line(
        "# The architecture this machine boots: 32-bit iPXE on a 64-bit CPU counts as x86_64.",
    );
    out.line(format!("set {ARCH_SETTING} {NO_ARCH}"));
    out.line(format!(
        "iseq ${{buildarch}} x86_64 && set {ARCH_SETTING} {} ||",
        Arch::X86_64.as_str()
    ));
    out.line(format!(
        "iseq ${{buildarch}} i386 && cpuid --ext 29 && set {ARCH_SETTING} {} ||",
        Arch::X86_64.as_str()
    ));
    out.line(format!(
        "iseq ${{buildarch}} arm64 && set {ARCH_SETTING} {} ||",
        Arch::Arm64.as_str()
    ));
    out.blank();
    out.line("# Unattended boots: jump straight to the preset target's item.");
    out.line(format!(
        "isset ${{{TARGET_SETTING}}} && goto {ITEM_LABEL_PREFIX}${{{TARGET_SETTING}}}-${{{ARCH_SETTING}}} ||"
    ));
    out.line(format!(
        "isset ${{{TARGET_SETTING}}} && goto {ITEM_LABEL_PREFIX}${{{TARGET_SETTING}}} ||"
    ));
    out.line(format!(
        "isset ${{{TARGET_SETTING}}} && echo repack: nothing named ${{{TARGET_SETTING}}} boots on ${{{ARCH_SETTING}}}, showing the menu ||"
    ));
    out.blank();

    render_menu(&mut out, &entries, options);
    for entry in &entries {
        render_item(&mut out, entry);
    }
    render_fixed_sections(&mut out);
    out.text
}

/// Entries sorted by (os, name, recipe, arch) with duplicate item names removed.
fn unique_sorted(entries: &[MenuEntry]) -> Vec<&MenuEntry> {
    let mut sorted: Vec<&MenuEntry> = entries.iter().collect();
    sorted.sort_by(|a, b| {
        (a.os(), a.name(), a.id(), a.arch()).cmp(&(b.os(), b.name(), b.id(), b.arch()))
    });
    let mut seen = BTreeSet::new();
    sorted.retain(|entry| seen.insert(entry.item_name()));
    sorted
}

fn render_menu(out: &mut Script, entries: &[&MenuEntry], options: &MenuOptions) {
    out.label(MENU_LABEL);
    out.line(format!("menu -- {}", options.title));

    if entries.is_empty() {
        out.line("item --gap -- No live systems have been published yet.");
    } else {
        let mut by_os: BTreeMap<&str, Vec<&MenuEntry>> = BTreeMap::new();
        for entry in entries {
            by_os.entry(entry.os()).or_default().push(entry);
        }
        for (os, group) in &by_os {
            // One guarded header line per arch present: exactly one matches at boot, and a
            // group with nothing for this machine shows no header.
            for arch in ARCHES {
                if group.iter().any(|entry| entry.arch() == arch) {
                    out.line(format!("{} && item --gap -- {os} ||", arch_guard(arch)));
                }
            }
            for entry in group {
                out.line(format!(
                    "{} && item {} {} {} ({}, needs {} RAM) ||",
                    arch_guard(entry.arch()),
                    entry.item_name(),
                    entry.name(),
                    entry.version(),
                    entry.arch(),
                    ram(entry.ram_mib()),
                ));
            }
        }
        for arch in ARCHES {
            if !entries.iter().any(|entry| entry.arch() == arch) {
                out.line(format!(
                    "{} && item --gap -- No live systems are published for {arch}. ||",
                    arch_guard(arch)
                ));
            }
        }
    }
    out.line(format!(
        "iseq ${{{ARCH_SETTING}}} {NO_ARCH} && item --gap -- This machine (${{buildarch}}) can boot none of the live systems. ||"
    ));
    out.line("item --gap");
    out.line(format!("item {SHELL_ITEM} iPXE shell"));
    out.line(format!("item {EXIT_ITEM} Exit this menu"));

    let mut choose = String::from("choose");
    if let Some(timeout) = options.timeout {
        let ms = u32::try_from(timeout.as_millis()).unwrap_or(u32::MAX);
        let _ = write!(choose, " --timeout {ms}");
    }
    if let Some(recipe) = &options.default_recipe {
        let _ = write!(choose, " --default {recipe}-${{{ARCH_SETTING}}}");
    }
    out.line(format!(
        "{choose} {CHOICE_SETTING} || goto {ITEM_LABEL_PREFIX}{EXIT_ITEM}"
    ));
    out.line(format!(
        "goto {ITEM_LABEL_PREFIX}${{{CHOICE_SETTING}}} || goto {MENU_LABEL}"
    ));
    out.blank();
}

fn render_item(out: &mut Script, entry: &MenuEntry) {
    let dir = format!("${{{BASE_SETTING}}}/{}", entry.path());
    out.label(&format!("{ITEM_LABEL_PREFIX}{}", entry.item_name()));
    out.line(format!(
        "echo Booting {} {} ({}, {}) from {dir}",
        entry.name(),
        entry.version(),
        entry.arch(),
        entry.boot_family()
    ));
    out.line("imgfree");
    // `initrd=<name>` lets the EFI stub of older kernels find the initrd; BIOS ignores it.
    let mut kernel = format!("kernel {dir}/{} initrd={}", entry.kernel(), entry.initrd());
    if !entry.cmdline().trim().is_empty() {
        kernel.push(' ');
        kernel.push_str(entry.cmdline().trim());
    }
    // Last, so an operator's argument wins over the release's where the kernel takes the
    // last occurrence (e.g. `console=`).
    let _ = write!(kernel, " ${{{ARGS_SETTING}}} || goto {FAILED_LABEL}");
    out.line(kernel);
    out.line(format!(
        "initrd --name {initrd} {dir}/{initrd} || goto {FAILED_LABEL}",
        initrd = entry.initrd()
    ));
    out.line(format!("boot || goto {FAILED_LABEL}"));
    out.blank();
}

fn render_fixed_sections(out: &mut Script) {
    out.label(FAILED_LABEL);
    out.line("echo repack: the boot failed (see the messages above).");
    out.line("prompt --timeout 15000 Press any key to return to the menu. ||");
    out.line(format!("goto {MENU_LABEL}"));
    out.blank();
    out.label(&format!("{ITEM_LABEL_PREFIX}{SHELL_ITEM}"));
    out.line("echo Type `exit` to return to the menu.");
    out.line("shell ||");
    out.line(format!("goto {MENU_LABEL}"));
    out.blank();
    out.label(&format!("{ITEM_LABEL_PREFIX}{EXIT_ITEM}"));
    out.line("exit");
}

/// `iseq ${repack-arch} <arch>`: true on machines that boot `arch`.
fn arch_guard(arch: Arch) -> String {
    format!("iseq ${{{ARCH_SETTING}}} {}", arch.as_str())
}

/// RAM for display: whole GiB when exact, MiB otherwise.
fn ram(mib: u64) -> String {
    if mib >= 1024 && mib.is_multiple_of(1024) {
        format!("{} GiB", mib / 1024)
    } else {
        format!("{mib} MiB")
    }
}

/// The script being written, one `\n`-terminated line at a time.
#[derive(Default)]
struct Script {
    text: String,
}

impl Script {
    /// Appends one line. Callers pass only fixed text and validated values; the debug
    /// assertion guards the invariant that a line never contains a line break.
    fn line(&mut self, line: impl AsRef<str>) {
        let line = line.as_ref();
        debug_assert!(!line.contains(['\n', '\r']), "line break inside {line:?}");
        self.text.push_str(line);
        self.text.push('\n');
    }

    fn label(&mut self, label: &str) {
        self.line(format!(":{label}"));
    }

    fn blank(&mut self) {
        self.text.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::ram;

    #[test]
    fn ram_is_shown_in_gib_when_exact() {
        assert_eq!(ram(2048), "2 GiB");
        assert_eq!(ram(1536), "1536 MiB");
        assert_eq!(ram(512), "512 MiB");
    }
}
