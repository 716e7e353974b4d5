//! Integration tests of repack-boot.
//!
//! - `live_boot_hook`: runs the real live-boot hook under busybox sh against an HTTP server on
//!   127.0.0.1, with live-boot's interface (`mountpoint`, `LIVE_MEDIA_PATH`, `FETCH`)
//!   reconstructed and `mount` stubbed.
//! - `plans`: the overlay, command line and RAM each family produces.

mod live_boot_hook;
mod plans;
