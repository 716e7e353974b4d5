//! Integration tests of repack-iso against real images made by xorriso (which must be
//! installed: a missing xorriso fails the tests, it never skips them).
//!
//! Modules:
//! - `support`: fixture trees, xorriso invocation, byte-patching helpers.
//! - `real`: lookup, Rock Ridge/Joliet names, globs, deep paths, contents read by extent.
//! - `multi_extent`: a > 4 GiB file stored as several directory records.
//! - `zisofs`: files xorriso compressed (Rock Ridge `ZF`) read back exactly (issue 14).
//! - `hostile`: one patched image per attack (issues 8 and 14), each refused with its own
//!   error.
//! - `mutate`: random patches of metadata sectors and of zisofs files through the fuzz
//!   harnesses (proptest).
//! - `corpus`: replays the fuzz corpora in `fuzz/corpus/` as ordinary tests and checks that
//!   every seed named after an attack still carries it.

mod corpus;
mod hostile;
mod multi_extent;
mod mutate;
mod real;
mod support;
mod zisofs;
