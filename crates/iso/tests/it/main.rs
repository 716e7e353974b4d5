//! Integration tests of repack-iso against real images made by xorriso (which must be
//! installed: a missing xorriso fails the tests, it never skips them).
//!
//! Modules:
//! - `support`: fixture trees, xorriso invocation, byte-patching helpers.
//! - `real`: lookup, Rock Ridge/Joliet names, globs, deep paths, contents read by extent.
//! - `multi_extent`: a > 4 GiB file stored as several directory records.
//! - `hostile`: one patched image per attack (issue 8), each refused with its own error.
//! - `mutate`: random patches of metadata sectors through the fuzz harness (proptest).
//! - `corpus`: replays the fuzz corpus in `fuzz/corpus/walk` as an ordinary test.

mod corpus;
mod hostile;
mod multi_extent;
mod mutate;
mod real;
mod support;
