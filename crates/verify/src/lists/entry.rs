//! The parsed list: SHA-256 entries in file order, looked up by name, plus the digests of
//! other algorithms the list carried (recorded, never used as SHA-256).

use crate::VerifyError;
use repack_core::Sha256Digest;
use std::collections::HashMap;

/// Which of the accepted spellings a line used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LineForm {
    /// `<hex>  name` (GNU text mode).
    Gnu,
    /// `<hex> *name` (GNU binary mode).
    GnuBinary,
    /// `SHA256 (name) = <hex>` (BSD / `--tag`).
    Bsd,
    /// A bare `<hex>` in a one-file companion (`X.iso.sha256`), which names no file: the
    /// entry takes the name of the file the companion accompanies.
    Bare,
}

/// One file named by a checksum list.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChecksumEntry {
    /// The file name as listed, unescaped, with leading `./` removed. May contain `/`
    /// (lists sometimes name files in subdirectories). Invariant: not empty, no NUL, does
    /// not start with `./`.
    pub name: String,
    pub sha256: Sha256Digest,
    /// 1-based line number of the entry in the list (its first occurrence).
    pub line: usize,
    pub form: LineForm,
    /// The size the list states for the file, from a `# <name>: <N> bytes` comment (Fedora's
    /// `CHECKSUM`); `None` when the list does not say.
    pub size: Option<u64>,
}

/// Digest algorithms other than SHA-256 that lists carry. Recognised so that a 128-digit
/// digest is never mistaken for anything else; never used to check a download.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OtherAlgorithm {
    /// `SHA512 (name) = <hex>`.
    Sha512,
    /// `BLAKE2b (name) = <hex>` (`b2sum --tag`).
    Blake2b,
    /// 128 hex digits in GNU form: `sha512sum` and `b2sum` output look the same, so the list
    /// alone cannot tell which (Debian's `SHA512SUMS`, Arch's `b2sums.txt`).
    Sha512OrBlake2b,
}

/// A line of a list that carries a digest of an [`OtherAlgorithm`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OtherDigest {
    /// The file name, unescaped, without leading `./`.
    pub name: String,
    pub algorithm: OtherAlgorithm,
    /// The digest in lowercase hex.
    pub hex: String,
    /// 1-based line number.
    pub line: usize,
}

/// A parsed checksum list. Invariant: every name occurs once among [`Self::entries`]
/// (duplicates with the same digest were merged into the first; duplicates with different
/// digests were rejected).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChecksumList {
    entries: Vec<ChecksumEntry>,
    by_name: HashMap<String, usize>,
    others: Vec<OtherDigest>,
    /// Lines in the parsed text (for the message when there is no entry).
    lines: usize,
}

impl ChecksumList {
    /// Every SHA-256 entry, in the order of the list.
    pub fn entries(&self) -> &[ChecksumEntry] {
        &self.entries
    }

    /// The entry for `name` (as listed; leading `./` are ignored), if any.
    pub fn get(&self, name: &str) -> Option<&ChecksumEntry> {
        self.by_name
            .get(without_dot_slash(name))
            .map(|&index| &self.entries[index])
    }

    /// Lines that carried a digest of another algorithm (SHA-512, BLAKE2b), in list order.
    pub fn other_digests(&self) -> &[OtherDigest] {
        &self.others
    }

    /// Number of SHA-256 entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the list has no SHA-256 entry (it may still have [`Self::other_digests`]).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Refuses a list without any SHA-256 entry: an empty file, only comments, or only
    /// digests of other algorithms (a `SHA512SUMS` or `b2sums.txt` fetched by mistake).
    pub fn require_sha256_entries(&self) -> Result<(), VerifyError> {
        if self.entries.is_empty() {
            return Err(VerifyError::NoSha256Entries {
                lines: self.lines,
                other_digests: self.others.len(),
                first_other_line: self.others.first().map(|other| other.line),
            });
        }
        Ok(())
    }

    /// Adds an entry; returns the existing one if the name is already present.
    pub(crate) fn insert(&mut self, entry: ChecksumEntry) -> Result<(), &ChecksumEntry> {
        if let Some(&index) = self.by_name.get(&entry.name) {
            return Err(&self.entries[index]);
        }
        self.by_name.insert(entry.name.clone(), self.entries.len());
        self.entries.push(entry);
        Ok(())
    }

    pub(crate) fn push_other(&mut self, other: OtherDigest) {
        self.others.push(other);
    }

    /// Entries plus other digests: what [`crate::Limits::max_entries`] bounds.
    pub(crate) fn total(&self) -> usize {
        self.entries.len() + self.others.len()
    }

    pub(crate) fn set_size(&mut self, name: &str, size: u64) {
        if let Some(&index) = self.by_name.get(name) {
            self.entries[index].size = Some(size);
        }
    }

    pub(crate) fn set_lines(&mut self, lines: usize) {
        self.lines = lines;
    }
}

/// `name` without any leading `./` (`././a.iso` is `a.iso`).
pub(crate) fn without_dot_slash(mut name: &str) -> &str {
    while let Some(rest) = name.strip_prefix("./") {
        name = rest;
    }
    name
}
