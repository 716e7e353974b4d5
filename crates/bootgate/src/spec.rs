//! [`BootSpec`]: what to boot, how, and what counts as success; [`Firmware`]: the three ways
//! a PC reaches iPXE.

use crate::error::BootGateError;
use std::path::PathBuf;
use std::time::Duration;

/// Marker the test live systems print on the console once they are up.
pub const DEFAULT_MARKER: &str = "REPACK-LIVE-OK";
/// RAM for the guest: live-boot copies the root image into RAM (notes/netboot-test.md).
pub const DEFAULT_MEMORY_MIB: u32 = 1536;
/// A full live boot takes 75–130 s under TCG, much longer on a busy host, where TCG guests
/// starve and their clocks jump.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);
/// Kernel arguments every gate boot adds: the console the gate reads, and an immediate
/// reset on a panic (which ends QEMU under `-no-reboot`).
pub const CONSOLE_ARGS: [&str; 2] = ["console=ttyS0,115200", "panic=-1"];

/// How the guest reaches iPXE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Firmware {
    /// SeaBIOS loads Debian's `ipxe.lkrn` as a kernel; the script is on its command line.
    BiosIpxeKernel,
    /// SeaBIOS runs the virtio NIC's own iPXE option ROM (a real PXE boot): DHCP hands out
    /// a boot file URL, which the gate serves.
    BiosNicRom,
    /// OVMF (UEFI) runs the NIC's EFI iPXE driver; otherwise as [`Firmware::BiosNicRom`].
    Uefi,
}

impl Firmware {
    pub const ALL: [Firmware; 3] = [
        Firmware::BiosIpxeKernel,
        Firmware::BiosNicRom,
        Firmware::Uefi,
    ];

    /// A stable name for logs and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Firmware::BiosIpxeKernel => "bios-ipxe-kernel",
            Firmware::BiosNicRom => "bios-nic-rom",
            Firmware::Uefi => "uefi",
        }
    }
}

impl std::fmt::Display for Firmware {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One boot to run.
#[derive(Debug, Clone)]
pub struct BootSpec {
    /// A published output directory: `menu.ipxe` at its root, releases below it.
    pub output_dir: PathBuf,
    /// The recipe id (or menu item name) preset as `repack-target`, so the menu boots it
    /// without showing itself.
    pub target: String,
    pub firmware: Firmware,
    pub memory_mib: u32,
    /// Virtual CPUs (`-smp`); 1 by default: two boots at once on two host cores.
    pub cpus: u32,
    /// From QEMU's start to the verdict; QEMU is killed when it passes.
    pub timeout: Duration,
    /// Appended after [`CONSOLE_ARGS`] through the menu's `repack-args` setting.
    pub extra_kernel_args: Vec<String>,
    /// The text that means the live system is up.
    pub marker: String,
    /// Receives every byte of the serial console as it arrives (created or truncated).
    pub console_log: PathBuf,
    /// After a failure line, how long to keep logging the console (until QEMU exits at the
    /// latest), so the log shows what the guest did next: a kernel panic, a prompt, a search.
    /// Zero stops at the failure line.
    pub after_failure: Duration,
}

impl BootSpec {
    /// A spec with the defaults above: boot `target` from `output_dir` through `firmware`,
    /// logging the console to `console_log`.
    pub fn new(
        output_dir: impl Into<PathBuf>,
        target: &str,
        firmware: Firmware,
        console_log: impl Into<PathBuf>,
    ) -> BootSpec {
        BootSpec {
            output_dir: output_dir.into(),
            target: target.to_owned(),
            firmware,
            memory_mib: DEFAULT_MEMORY_MIB,
            cpus: 1,
            timeout: DEFAULT_TIMEOUT,
            extra_kernel_args: Vec::new(),
            marker: DEFAULT_MARKER.to_owned(),
            console_log: console_log.into(),
            after_failure: Duration::ZERO,
        }
    }

    /// Every kernel argument the gate adds, in order.
    pub fn kernel_args(&self) -> Vec<&str> {
        CONSOLE_ARGS
            .iter()
            .copied()
            .chain(self.extra_kernel_args.iter().map(String::as_str))
            .collect()
    }

    /// Checks that every value can go into an iPXE script unchanged: iPXE has no quoting,
    /// splits words on whitespace and treats `${`, `&&`, `||`, `;` and `#…` specially.
    pub(crate) fn validate(&self) -> Result<(), BootGateError> {
        let invalid = |field, value: &str, reason| BootGateError::InvalidSpec {
            field,
            value: value.to_owned(),
            reason,
        };
        if self.target.is_empty()
            || !self
                .target
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(invalid(
                "target",
                &self.target,
                "is not a recipe id (letters, digits, `-`, `_`)",
            ));
        }
        for arg in &self.extra_kernel_args {
            if arg.is_empty() || !arg.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(invalid(
                    "kernel argument",
                    arg,
                    "is empty or has whitespace or non-ASCII characters",
                ));
            }
            if arg.contains("${") || arg.starts_with('#') || matches!(arg.as_str(), "&&" | "||") {
                return Err(invalid(
                    "kernel argument",
                    arg,
                    "would be interpreted by iPXE (`${`, `#`, `&&`, `||`)",
                ));
            }
            if arg.contains(';') || arg.contains('\'') || arg.contains('"') {
                return Err(invalid(
                    "kernel argument",
                    arg,
                    "has a `;` or a quote, which iPXE or the kernel would interpret",
                ));
            }
        }
        if self.marker.trim().is_empty() {
            return Err(invalid("marker", &self.marker, "is empty"));
        }
        if self.memory_mib < 128 {
            return Err(invalid(
                "memory",
                &self.memory_mib.to_string(),
                "is below 128 MiB",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> BootSpec {
        BootSpec::new("/out", "debian-live", Firmware::Uefi, "/tmp/console.log")
    }

    #[test]
    fn defaults_are_the_notes_values() {
        let spec = spec();
        assert_eq!(spec.memory_mib, 1536);
        assert_eq!(spec.timeout, Duration::from_secs(600));
        assert_eq!(spec.marker, "REPACK-LIVE-OK");
        assert_eq!(spec.kernel_args(), ["console=ttyS0,115200", "panic=-1"]);
        spec.validate().unwrap();
    }

    #[test]
    fn values_that_would_change_the_script_are_refused() {
        for target in ["", "debian live", "x&&y", "${a}", "a/b"] {
            let mut spec = spec();
            spec.target = target.to_owned();
            let error = spec.validate().unwrap_err();
            assert_eq!(error.kind(), "bootgate-invalid-spec", "{target}");
        }
        for arg in ["", "a b", "${x}", "&&", "#c", "a;b", "x\"", "é"] {
            let mut spec = spec();
            spec.extra_kernel_args = vec![arg.to_owned()];
            assert!(spec.validate().is_err(), "{arg:?} accepted");
        }
        let mut spec = spec();
        spec.extra_kernel_args = vec!["systemd.log_level=debug".into(), "quiet".into()];
        spec.validate().unwrap();
        assert_eq!(spec.kernel_args().len(), 4);
    }
}
