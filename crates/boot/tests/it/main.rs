//! Integration tests of repack-boot.
//!
//! - `live_boot_hook`, `casper_hook`, `dracut_hook`, `archiso_hook`, `miso_hook`: run each
//!   family's real hook under busybox sh, chrooted into a sandbox in a user + mount + PID
//!   namespace (real tmpfs and bind mounts, a kernel-panic stand-in), inside a reconstruction
//!   of the family's init system and against a local server.
//! - `common_hook`: the fetch code every hook shares, on its own: written once onto each
//!   image in a tmpfs of the images' size, hashed back while it grows, and what a failure
//!   leaves.
//! - `inits`: those reconstructions (mkinitcpio, initramfs-tools with live-boot and casper,
//!   dracut), each enforcing the rules `repack_boot::init_rules` lists.
//! - `plans`: the overlay, command line and RAM each family produces.
//! - `support`: the shared release, server, fake initrd and sandbox.

mod archiso_hook;
mod casper_hook;
mod common_hook;
mod dracut_hook;
mod inits;
mod live_boot_hook;
mod miso_hook;
mod plans;
mod plans_families;
mod support;
