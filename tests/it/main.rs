//! End-to-end tests of the `repack` binary on a real Debian live ISO (see
//! tests/fixtures/make-debian-live.sh) served from 127.0.0.1 through a mirror rewrite.
//!
//! - `run`: a release is published whole (files, parts, manifest, SHA256SUMS, catalogue,
//!   menu), the initrd keeps the upstream bytes and its overlay is readable by cpio, and a
//!   second run changes nothing.
//! - `failures`: corrupted, mislisted, incomplete and truncated images and an unreachable
//!   upstream fail with a clear error and publish nothing.
//! - `resume`: interrupted downloads resume with Range, in one run and across runs.

mod failures;
mod resume;
mod run;
