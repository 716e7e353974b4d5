//! Integration tests of repack-initrd (one binary; modules below).
//!
//! Tests that need external tools (`cpio`, `lsinitramfs`, `zstd`, `xz`, `lz4`, `gzip`,
//! `bzip2`) fail with a message naming the missing tool; `.ci/run` installs them.

// Builders for multi-member images and helpers that run external tools.
mod support;
// Property tests: random trees x codecs x member counts round-trip with exact boundaries;
// appends of generated-valid hooks round-trip, generated-invalid ones are refused exactly.
mod roundtrip;
// Our listing and overlays against cpio, lsinitramfs and the compressor CLIs.
mod tools;
// One failing and one passing fixture per lint rule.
mod lint_rules;
// Append behaviours: untouched base, alignment, hard links, directory symlinks, refusals.
mod append;
// QEMU boots of a real Debian kernel + initrd: the kernel agrees with lint.
mod boot;
// Hostile input: bombs (refused when opened, reported with their size when linted),
// truncation, garbage; and the fuzz corpus replayed.
mod hostile;
