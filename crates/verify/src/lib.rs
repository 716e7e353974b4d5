//! Parse and query upstream checksum lists (`SHA256SUMS`, `CHECKSUM`, `sha256sums.txt`).
//!
//! [`parse_checksum_list`] turns the text of a list into a [`ChecksumList`] of
//! [`ChecksumEntry`]s, one per file name, each with its [`Sha256Digest`](repack_core::Sha256Digest). Both forms the
//! coreutils tools write are accepted, line by line and mixed if need be:
//!
//! ```text
//! # comment
//! 5f4e…c0de  debian-live-12.8.0-amd64-standard.iso     GNU, text mode
//! 5f4e…c0de *debian-live-12.8.0-amd64-standard.iso     GNU, binary mode
//! SHA256 (Fedora-Workstation-Live-41.iso) = 5f4e…c0de  BSD (`sha256sum --tag`, Fedora)
//! ```
//!
//! A leading `\` on a line means the name is escaped the way `sha256sum` escapes names that
//! contain `\`, a newline or a carriage return (`\\`, `\n`, `\r`).
//!
//! The list comes from outside, so parsing is strict and bounded: the text and each line are
//! capped ([`Limits`]), any line that is neither blank, a comment nor a SHA-256 entry is an
//! error naming its line number, and one name listed twice with different digests is an
//! error (the same digest twice is accepted once). Nothing here does I/O or panics on any
//! input, which makes the parser a fuzz target.
//!
//! This crate refuses to decide which entries matter (the watchers do) and does not verify
//! signatures yet: OpenPGP verification against pinned fingerprints will live in this crate
//! too, and will hand only the *signed* text to [`parse_checksum_list`].

mod error;
mod list;
mod parse;

pub use error::VerifyError;
pub use list::{ChecksumEntry, ChecksumList, LineForm};
pub use parse::{Limits, parse_checksum_list, parse_checksum_list_with};
