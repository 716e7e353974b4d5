//! [`BootGateError`]: why a boot could not be *run*. A guest that boots and fails is not an
//! error but a [`BootOutcome::Failed`](crate::BootOutcome::Failed) report.

use std::path::PathBuf;

/// The gate could not start or watch a boot; no verdict about the release was reached.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BootGateError {
    /// Occurs when a program or firmware file the chosen firmware path needs is not installed.
    #[error(
        "{what} is missing (looked for {looked}); install the Debian package `{package}` \
         (scripts/install-deps.sh does)"
    )]
    MissingTool {
        what: &'static str,
        package: &'static str,
        /// Every place that was searched, joined for display.
        looked: String,
    },

    /// Occurs when the output directory has no `menu.ipxe` at its root.
    #[error("{} has no menu.ipxe: it is not a published output directory", dir.display())]
    NotAnOutputDir { dir: PathBuf },

    /// Occurs when a spec value cannot be placed in an iPXE script or a kernel command line
    /// without changing its meaning (whitespace in the target, `${` or `&&` in an argument).
    #[error("boot spec {field} {value:?} {reason}; nothing was started")]
    InvalidSpec {
        field: &'static str,
        value: String,
        reason: &'static str,
    },

    /// Occurs when a scratch file (console log, UEFI variable store, QMP socket dir) cannot
    /// be created or written.
    #[error("cannot {action} {}", path.display())]
    Scratch {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// Occurs when the HTTP server for the guest cannot listen on 127.0.0.1.
    #[error("cannot serve {} on 127.0.0.1", dir.display())]
    Serve {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// Occurs when QEMU cannot be started at all.
    #[error("cannot start {}", qemu.display())]
    Spawn {
        qemu: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// Occurs when QEMU itself fails (bad option, unreadable firmware) or is killed by
    /// someone else, as opposed to the guest powering off or resetting (exit status 0 under
    /// `-no-reboot`), which is a failed boot.
    #[error("QEMU failed ({status}) before the guest reached a verdict; its stderr: {stderr}")]
    Qemu { status: String, stderr: String },

    /// Occurs when reading QEMU's serial console fails.
    #[error("cannot read the serial console of QEMU")]
    Console(#[source] std::io::Error),
}

impl BootGateError {
    /// A stable, machine-readable name of the failure.
    pub fn kind(&self) -> &'static str {
        match self {
            BootGateError::MissingTool { .. } => "bootgate-missing-tool",
            BootGateError::NotAnOutputDir { .. } => "bootgate-not-an-output-dir",
            BootGateError::InvalidSpec { .. } => "bootgate-invalid-spec",
            BootGateError::Scratch { .. } => "bootgate-scratch",
            BootGateError::Serve { .. } => "bootgate-serve",
            BootGateError::Spawn { .. } => "bootgate-spawn",
            BootGateError::Qemu { .. } => "bootgate-qemu",
            BootGateError::Console(_) => "bootgate-console",
        }
    }
}
