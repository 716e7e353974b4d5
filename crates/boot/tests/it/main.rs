//! Integration tests of repack-boot.
//!
//! - `live_boot_hook`: runs the real live-boot hook under busybox sh against an HTTP server on
//!   127.0.0.1, with live-boot's interface (`mountpoint`, `LIVE_MEDIA_PATH`, `FETCH`)
//!   reconstructed and `mount` stubbed.
//! - `casper_hook`, `dracut_hook`, `archiso_hook`, `miso_hook`: run each family's real hook
//!   under busybox sh, chrooted into a sandbox in a user + mount namespace (real tmpfs and
//!   bind mounts), against a reconstruction of the family's interface and a local server.
//! - `plans`: the overlay, command line and RAM each family produces.
//! - `support`: the shared release, server, fake initrd and sandbox.

mod archiso_hook;
mod casper_hook;
mod dracut_hook;
mod live_boot_hook;
mod miso_hook;
mod mkinitcpio;
mod plans;
mod plans_families;
mod support;
