//! Integration tests of checksum-list parsing.
//!
//! Modules:
//! - `formats`: GNU and BSD forms, comments, real-world shapes (Debian, Ubuntu, Fedora).
//! - `errors`: malformed lines name their line; duplicates; limits.
//! - `never_panics`: property tests over arbitrary and near-valid text.

mod errors;
mod formats;
mod never_panics;

/// A digest made of one repeated hex digit, e.g. `hex('a')`.
pub fn hex(c: char) -> String {
    c.to_string().repeat(64)
}
