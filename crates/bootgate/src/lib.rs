//! The boot gate: proof that a published release network-boots. [`boot`] serves a
//! published output directory over HTTP on 127.0.0.1 (one server per boot, on a fresh port),
//! starts QEMU under TCG with a [`Firmware`] that reaches iPXE (BIOS `ipxe.lkrn`, the NIC's
//! option ROM under BIOS, or the NIC's EFI driver under OVMF), presets the published
//! `menu.ipxe`'s settings (`repack-base`, `repack-target`, `repack-args`) and chains it, then
//! reads the serial console line by line until the live system's marker or a failure line.
//!
//! A [`BootSpec`] says what to boot and how; a [`BootReport`] says how it ended
//! ([`BootOutcome`]), how long it took, what the guest fetched and where the full console is.
//! The guest's network is contained: it reaches nothing but this gate's server (see
//! `qemu.rs`). Failure is detected as it is printed ([`FailReason`]: a hook's
//! `repack: <what failed> <url>` line, an initramfs the kernel cannot unpack, a panic, a
//! rescue shell), not by waiting for the timeout, and QEMU is killed whatever happens,
//! including when the boot future is dropped.
//!
//! It does not build or publish anything, does not pick the firmware or RAM from the
//! manifest (the caller decides), and never uses KVM (it does not work on the machines this
//! runs on).

mod console;
mod error;
mod gate;
mod qemu;
mod script;
mod serve;
mod spec;
mod tools;

pub use console::{FailReason, PROGRESS_PREFIXES};
pub use error::BootGateError;
pub use gate::{BootOutcome, BootReport, boot};
pub use script::{BOOT_FILE_PATH, GUEST_SERVER_IP};
pub use serve::ServedRequest;
pub use spec::{
    BootSpec, CONSOLE_ARGS, DEFAULT_MARKER, DEFAULT_MEMORY_MIB, DEFAULT_TIMEOUT, Firmware,
};
pub use tools::Tools;
