//! The parsed list: entries in file order, looked up by name.

use repack_core::Sha256Digest;
use std::collections::HashMap;

/// Which of the accepted spellings a line used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LineForm {
    /// `<hex>  name` (GNU text mode).
    Gnu,
    /// `<hex> *name` (GNU binary mode).
    GnuBinary,
    /// `SHA256 (name) = <hex>` (BSD / `--tag`).
    Bsd,
}

/// One file named by a checksum list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChecksumEntry {
    /// The file name as listed, unescaped, with a leading `./` removed. May contain `/`
    /// (lists sometimes name files in subdirectories). Invariant: not empty, no NUL.
    pub name: String,
    pub sha256: Sha256Digest,
    /// 1-based line number of the entry in the list (its first occurrence).
    pub line: usize,
    pub form: LineForm,
}

/// A parsed checksum list. Invariant: every name occurs once (duplicates with the same
/// digest were merged into the first; duplicates with different digests were rejected).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChecksumList {
    entries: Vec<ChecksumEntry>,
    by_name: HashMap<String, usize>,
}

impl ChecksumList {
    /// Every entry, in the order of the list.
    pub fn entries(&self) -> &[ChecksumEntry] {
        &self.entries
    }

    /// The entry for `name` (as listed, without a leading `./`), if any.
    pub fn get(&self, name: &str) -> Option<&ChecksumEntry> {
        let name = name.strip_prefix("./").unwrap_or(name);
        self.by_name.get(name).map(|&index| &self.entries[index])
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
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
}
