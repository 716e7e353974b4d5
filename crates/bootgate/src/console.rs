//! Reading a verdict from the serial console: [`clean`] turns raw console bytes into
//! plain text and [`Classifier`] decides, line by line, whether the boot passed, failed, or
//! is still going. Pure and synchronous, so every rule is unit-tested without QEMU.

/// Progress lines the families' hooks print with the `repack: ` prefix (`repack_say`,
/// `repack_log`), which may reach the console. Every other `repack: ` line is a failure
/// (`repack_fail`: `repack: <what failed> <url>`, see crates/boot/src/hooks/), as are the
/// menu's own `repack: ` messages (no such target, boot failed). A new progress message in
/// a hook must be added here: a test reads the hooks and fails until it is.
pub const PROGRESS_PREFIXES: [&str; 3] = [
    "fetching ",
    "root filesystem verified",
    "casper will boot from ",
];

/// The prefix of every line repack's hooks and menu print.
const REPACK_PREFIX: &str = "repack: ";

/// Why a boot failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailReason {
    /// A `repack: <what failed> <url>` line from a hook or the menu.
    RepackLine,
    /// The kernel could not unpack the initramfs (`Initramfs unpacking failed: …`).
    InitramfsUnpacking,
    /// `Kernel panic - not syncing: …`.
    KernelPanic,
    /// An interactive rescue shell waits for a person: `(initramfs)`, busybox's
    /// `built-in shell` banner, systemd's emergency mode.
    RescueShell,
    /// The guest powered off or reset (QEMU exits under `-no-reboot`) before the marker.
    GuestStopped,
    /// No verdict before the deadline; QEMU was killed.
    Timeout,
}

impl FailReason {
    /// A stable, machine-readable name.
    pub fn kind(&self) -> &'static str {
        match self {
            FailReason::RepackLine => "repack-line",
            FailReason::InitramfsUnpacking => "initramfs-unpacking",
            FailReason::KernelPanic => "kernel-panic",
            FailReason::RescueShell => "rescue-shell",
            FailReason::GuestStopped => "guest-stopped",
            FailReason::Timeout => "timeout",
        }
    }
}

impl std::fmt::Display for FailReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FailReason::RepackLine => "a repack hook or the menu reported a failure",
            FailReason::InitramfsUnpacking => "the kernel could not unpack the initramfs",
            FailReason::KernelPanic => "the kernel panicked",
            FailReason::RescueShell => "the guest dropped to a rescue shell",
            FailReason::GuestStopped => "the guest powered off or reset before the marker",
            FailReason::Timeout => "no verdict before the timeout",
        })
    }
}

/// What one console line means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Fail(FailReason),
}

/// Decides on each cleaned console line. Invariant: `marker` is not empty (checked by
/// [`BootSpec`](crate::BootSpec) validation).
#[derive(Debug, Clone)]
pub struct Classifier {
    marker: String,
}

impl Classifier {
    pub fn new(marker: &str) -> Classifier {
        Classifier {
            marker: marker.to_owned(),
        }
    }

    /// The verdict a complete line gives, if any. Failure rules are checked first: a line
    /// that is both (e.g. a hook echoing the marker in its error) fails.
    pub fn line(&self, line: &str) -> Option<Verdict> {
        if let Some(reason) = failure(line) {
            return Some(Verdict::Fail(reason));
        }
        if line.contains(&self.marker) {
            return Some(Verdict::Pass);
        }
        None
    }

    /// The verdict the unterminated tail of the console gives: prompts are printed without a
    /// line break and then wait for input, so they never complete a line.
    pub fn partial(&self, tail: &str) -> Option<Verdict> {
        is_prompt(tail).then_some(Verdict::Fail(FailReason::RescueShell))
    }
}

fn failure(line: &str) -> Option<FailReason> {
    let text = strip_kernel_timestamp(line);
    if let Some(message) = text.strip_prefix(REPACK_PREFIX)
        && !PROGRESS_PREFIXES
            .iter()
            .any(|progress| message.starts_with(progress))
    {
        return Some(FailReason::RepackLine);
    }
    if text.contains("Initramfs unpacking failed") {
        return Some(FailReason::InitramfsUnpacking);
    }
    if text.contains("Kernel panic") {
        return Some(FailReason::KernelPanic);
    }
    let busybox_shell = text.contains("BusyBox v") && text.contains("built-in shell");
    if busybox_shell
        || is_prompt(text)
        || text.contains("Give root password for maintenance")
        || text.contains("You are in emergency mode")
        || text.contains("Press Enter for maintenance")
    {
        return Some(FailReason::RescueShell);
    }
    None
}

fn is_prompt(text: &str) -> bool {
    let text = text.trim_start();
    text.starts_with("(initramfs)") || text.contains("Give root password for maintenance")
}

/// `[   12.345678] text` -> `text` (lines that reach the console through the kernel log).
fn strip_kernel_timestamp(line: &str) -> &str {
    let trimmed = line.trim_start();
    if let Some(rest) = trimmed.strip_prefix('[')
        && let Some((stamp, text)) = rest.split_once(']')
        && !stamp.trim().is_empty()
        && stamp
            .trim()
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.')
    {
        return text.strip_prefix(' ').unwrap_or(text);
    }
    trimmed
}

/// Console bytes as plain text: invalid UTF-8 replaced, ANSI escape sequences (iPXE and
/// OVMF colour and move the cursor) and other control characters (`\r`, backspaces)
/// removed, tabs kept.
pub fn clean(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => match chars.next() {
                // CSI: parameters and intermediates, then one final byte in @..=~.
                Some('[') => {
                    for c in chars.by_ref() {
                        if ('@'..='~').contains(&c) {
                            break;
                        }
                    }
                }
                // Character-set selection and similar: one more byte.
                Some('(' | ')' | '#' | '%') => {
                    chars.next();
                }
                _ => {}
            },
            '\t' => out.push(c),
            // iPXE erases its countdown dots with backspaces.
            '\u{8}' => {
                out.pop();
            }
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(line: &str) -> Option<Verdict> {
        Classifier::new("REPACK-LIVE-OK").line(&clean(line.as_bytes()))
    }

    fn fails(line: &str) -> FailReason {
        match verdict(line) {
            Some(Verdict::Fail(reason)) => reason,
            other => panic!("{line:?} gave {other:?}"),
        }
    }

    #[test]
    fn the_marker_passes() {
        assert_eq!(
            verdict("REPACK-LIVE-OK x86_64 root=overlay:overlay\r"),
            Some(Verdict::Pass)
        );
        assert_eq!(
            Classifier::new("HELLO").line("REPACK-LIVE-OK"),
            None,
            "the marker is configurable"
        );
    }

    #[test]
    fn hook_failure_lines_fail_and_progress_lines_do_not() {
        assert_eq!(
            fails(
                "repack: sha256 mismatch (got 00ff) http://10.0.2.100/debian-live/1/filesystem.squashfs.part2"
            ),
            FailReason::RepackLine
        );
        assert_eq!(
            fails("[   41.204518] repack: download failed http://10.0.2.100/x"),
            FailReason::RepackLine,
            "through /dev/kmsg"
        );
        assert_eq!(
            fails("repack: nothing named nope boots on x86_64, showing the menu"),
            FailReason::RepackLine
        );
        assert_eq!(
            verdict("repack: fetching 158711808 bytes in 3 part(s) from http://10.0.2.100/a/"),
            None
        );
        assert_eq!(verdict("repack: root filesystem verified, booting"), None);
        assert_eq!(
            verdict("Begin: Running /scripts/repack: hooks ... done."),
            None,
            "only at the start of a line"
        );
    }

    #[test]
    fn kernel_and_initramfs_failures_fail() {
        assert_eq!(
            fails(
                "[    0.912345] Initramfs unpacking failed: invalid magic at start of compressed archive"
            ),
            FailReason::InitramfsUnpacking
        );
        assert_eq!(
            fails("[    3.1] Kernel panic - not syncing: VFS: Unable to mount root fs"),
            FailReason::KernelPanic
        );
    }

    #[test]
    fn rescue_shells_fail_even_without_a_line_break() {
        assert_eq!(
            fails("BusyBox v1.35.0 (Debian 1:1.35.0-4+b3) built-in shell (ash)"),
            FailReason::RescueShell
        );
        assert_eq!(
            fails("Give root password for maintenance"),
            FailReason::RescueShell
        );
        assert_eq!(
            fails("You are in emergency mode. After logging in, type \"journalctl -xb\""),
            FailReason::RescueShell
        );
        let classifier = Classifier::new("REPACK-LIVE-OK");
        assert_eq!(
            classifier.partial(&clean(b"\x1b[0m(initramfs) ")),
            Some(Verdict::Fail(FailReason::RescueShell))
        );
        assert_eq!(classifier.partial("Loading, please wait..."), None);
    }

    #[test]
    fn ordinary_boot_lines_say_nothing() {
        for line in [
            "[    0.000000] Linux version 6.1.0-28-amd64",
            "[    0.000000] Command line: BOOT_IMAGE=vmlinuz initrd=initrd boot=live panic=-1",
            "Begin: Loading essential drivers ... done.",
            "[  OK  ] Reached target multi-user.target - Multi-User System.",
            "http://10.0.2.100/menu.ipxe... ok",
        ] {
            assert_eq!(verdict(line), None, "{line}");
        }
    }

    #[test]
    fn clean_removes_escapes_and_control_characters() {
        assert_eq!(
            clean(b"\x1b[1m\x1b[37m\x1b[40miPXE 1.0.0\x1b[0m -- ok\r"),
            "iPXE 1.0.0 -- ok"
        );
        assert_eq!(clean(b"Ctrl-B...\x08 \x08\x08 \x08net0"), "Ctrl-B.net0");
        assert_eq!(clean(b"\x1b(Bplain\xff"), "plain\u{fffd}");
    }

    /// Every message the families' hooks print through `repack_say` or `repack_log` is
    /// progress, and every one through `repack_fail` is a failure, so a new hook message
    /// cannot fail a good boot or slip past as progress.
    #[test]
    fn every_hook_message_is_classified_as_its_author_meant() {
        let hooks = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../boot/src/hooks");
        let classifier = Classifier::new("REPACK-LIVE-OK");
        let (mut progress, mut failures) = (0, 0);
        for entry in std::fs::read_dir(&hooks).expect("crates/boot/src/hooks") {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            for line in text.lines().map(str::trim) {
                let (function, rest) = match line.split_once(' ') {
                    Some(pair) => pair,
                    None => continue,
                };
                let Some(message) = rest.strip_prefix('"').and_then(|m| m.split('"').next()) else {
                    continue;
                };
                if message.starts_with('$') {
                    // `repack_say "$*"`: passing on a caller's message.
                    continue;
                }
                let console = format!("repack: {message} http://10.0.2.100/r/file");
                match function {
                    "repack_say" | "repack_log" => {
                        progress += 1;
                        assert_eq!(
                            classifier.line(&console),
                            None,
                            "{}: {line}",
                            path.display()
                        );
                    }
                    "repack_fail" => {
                        failures += 1;
                        assert_eq!(
                            classifier.line(&console),
                            Some(Verdict::Fail(FailReason::RepackLine)),
                            "{}: {line}",
                            path.display()
                        );
                    }
                    _ => {}
                }
            }
        }
        assert!(
            progress >= 2 && failures >= 5,
            "{progress} {failures}: hooks not found"
        );
    }

    #[test]
    fn kernel_timestamps_are_recognised_only_when_numeric() {
        assert_eq!(strip_kernel_timestamp("[   12.5] repack: x"), "repack: x");
        assert_eq!(
            strip_kernel_timestamp("[  OK  ] repack: x"),
            "[  OK  ] repack: x"
        );
    }
}
