//! Checksum lists of every upstream shape, parsed strictly and without I/O.
//!
//! ```text
//! # comment
//! 5f4e…c0de  debian-live-13.1.0-amd64-standard.iso      GNU, text mode (Debian, Arch)
//! 5f4e…c0de *ubuntu-24.04.3-desktop-amd64.iso           GNU, binary mode (Ubuntu, Mint)
//! # Fedora-Workstation-Live-42-1.1.x86_64.iso: 2398523392 bytes     size comment (Fedora)
//! SHA256 (Fedora-Workstation-Live-42-1.1.x86_64.iso) = 5f4e…c0de    BSD (`sha256sum --tag`)
//! ```
//!
//! A leading `\` on a line means the name is escaped the way `sha256sum` escapes names that
//! contain `\`, a newline or a carriage return (`\\`, `\n`, `\r`). LF and CRLF line ends and
//! a UTF-8 byte-order mark are accepted. SHA-512 and BLAKE2b lines (by BSD tag, or 128 hex
//! digits in GNU form) are recorded as [`OtherDigest`]s, never taken for SHA-256.
//!
//! The list comes from outside, so parsing is strict and bounded: the text and each line are
//! capped ([`Limits`], checked before parsing), any line that is neither blank, a comment nor
//! an entry is an error naming its line number and what was wrong, a line starting with `<`
//! is an HTML page, and one name listed twice with different digests is an error. Nothing
//! here panics on any input, which makes the parser a fuzz target.

mod entry;
mod error;
mod line;
mod parse;
mod single;

pub use entry::{ChecksumEntry, ChecksumList, LineForm, OtherAlgorithm, OtherDigest};
pub use error::VerifyError;
pub use parse::{
    Limits, MAX_LIST_BYTES, parse_checksum_bytes, parse_checksum_list, parse_checksum_list_with,
};
pub use single::{MAX_COMPANION_BYTES, parse_companion_checksum};
