//! The overlay: a small set of files, directories and symlinks written as one newc archive.
//!
//! Invariants of the archive [`Overlay::to_newc`] writes: every parent directory is an
//! explicit entry that comes before its children; entries are sorted by path; every entry
//! has `nlink` 1, uid/gid 0, the same mtime (`SOURCE_DATE_EPOCH` or 0) and its own inode
//! number; the archive ends with `TRAILER!!!`. The same overlay always gives the same bytes.
//!
//! Written over a base image ([`crate::Initrd::append`]), the archive adapts to what the
//! kernel will find: parent directories the base already has (directly or through a
//! symlink such as `bin -> usr/bin`) are not emitted, because a directory entry over a
//! symlink would replace it and over a directory would change its mode; a file whose path
//! is a hard link in the base is preceded by a symlink entry at the same path, which makes
//! the kernel unlink the shared name instead of truncating the shared inode.

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::model::{Model, NodeKind};
use crate::newc::{self, Header, S_IFDIR, S_IFLNK, S_IFREG};

/// Environment variable that fixes timestamps for reproducible builds.
pub const SOURCE_DATE_EPOCH: &str = "SOURCE_DATE_EPOCH";

/// Target of the placeholder symlink written before a file that replaces a hard link.
const UNLINK_SHIM_TARGET: &str = "repack-unlink";

#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    File { mode: u32, data: Vec<u8> },
    Dir { mode: u32 },
    Symlink { target: String },
}

/// A set of entries to append to an initrd.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overlay {
    items: Vec<(String, Item)>,
    mtime: u32,
}

impl Default for Overlay {
    fn default() -> Self {
        Self::new()
    }
}

/// How the archive was adapted to the base it is appended to.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Adaptation {
    /// Parent directories not emitted because the base already provides them.
    pub existing_dirs: Vec<String>,
    /// Files whose path is a hard link in the base, unlinked first with a symlink entry.
    pub unlinked_hardlinks: Vec<String>,
}

impl Overlay {
    /// An empty overlay; mtime from `SOURCE_DATE_EPOCH` (0 when unset or invalid).
    pub fn new() -> Self {
        let mtime = std::env::var(SOURCE_DATE_EPOCH)
            .ok()
            .and_then(|v| v.trim().parse::<u32>().ok())
            .unwrap_or(0);
        Overlay {
            items: Vec::new(),
            mtime,
        }
    }

    /// Sets the mtime of every entry.
    pub fn mtime(mut self, mtime: u32) -> Self {
        self.mtime = mtime;
        self
    }

    /// Adds a regular file with permission bits `mode` (e.g. `0o755`).
    pub fn file(mut self, path: &str, mode: u32, data: impl Into<Vec<u8>>) -> Self {
        self.items.push((
            path.to_string(),
            Item::File {
                mode,
                data: data.into(),
            },
        ));
        self
    }

    /// Adds a directory with permission bits `mode`.
    pub fn dir(mut self, path: &str, mode: u32) -> Self {
        self.items.push((path.to_string(), Item::Dir { mode }));
        self
    }

    /// Adds a symlink.
    pub fn symlink(mut self, path: &str, target: &str) -> Self {
        self.items.push((
            path.to_string(),
            Item::Symlink {
                target: target.to_string(),
            },
        ));
        self
    }

    /// Paths added so far, in insertion order.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.items.iter().map(|(p, _)| p.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The archive on its own (every parent directory emitted, mode 0755).
    pub fn to_newc(&self) -> Result<Vec<u8>> {
        self.write(None).map(|(b, _)| b)
    }

    /// The archive adapted to `base` (see the module doc).
    pub(crate) fn to_newc_over(
        &self,
        base: &Model,
        segment_of: &dyn Fn(usize) -> usize,
    ) -> Result<(Vec<u8>, Adaptation)> {
        self.write(Some((base, segment_of)))
    }

    fn validated(&self) -> Result<BTreeMap<String, Item>> {
        let mut map = BTreeMap::new();
        for (path, item) in &self.items {
            check_path(path)?;
            let bad = |reason: &str| Error::InvalidOverlay {
                path: path.clone(),
                reason: reason.to_string(),
            };
            match item {
                Item::File { mode, data } => {
                    if *mode > 0o7777 {
                        return Err(bad("mode has bits beyond 0o7777"));
                    }
                    if data.len() as u64 > u64::from(u32::MAX) {
                        return Err(bad("newc cannot hold files of 4 GiB or more"));
                    }
                }
                Item::Dir { mode } if *mode > 0o7777 => {
                    return Err(bad("mode has bits beyond 0o7777"));
                }
                Item::Dir { .. } => {}
                Item::Symlink { target } => {
                    if target.is_empty()
                        || target.contains('\0')
                        || target.len() as u64 >= newc::PATH_MAX
                    {
                        return Err(bad(
                            "symlink target must be non-empty, without NUL, shorter than 4096 bytes",
                        ));
                    }
                }
            }
            if map.insert(path.clone(), item.clone()).is_some() {
                return Err(bad("added twice"));
            }
        }
        // A parent must not be a file or symlink of the overlay itself.
        for path in map.keys() {
            for parent in ancestors(path) {
                if let Some(item) = map.get(parent)
                    && !matches!(item, Item::Dir { .. })
                {
                    return Err(Error::InvalidOverlay {
                        path: path.clone(),
                        reason: format!("its parent `{parent}` is not a directory of the overlay"),
                    });
                }
            }
        }
        Ok(map)
    }

    fn write(
        &self,
        base: Option<(&Model, &dyn Fn(usize) -> usize)>,
    ) -> Result<(Vec<u8>, Adaptation)> {
        let items = self.validated()?;
        // (path, is_shim) -> entry; the shim sorts just before its file.
        let mut entries: BTreeMap<(String, u8), (u32, Vec<u8>)> = BTreeMap::new();
        let mut adapt = Adaptation::default();
        let mut implicit = std::collections::BTreeSet::new();
        for path in items.keys() {
            for parent in ancestors(path) {
                if !items.contains_key(parent) {
                    implicit.insert(parent.to_string());
                }
            }
        }
        for dir in implicit {
            if let Some((model, seg)) = base
                && let Some(n) = model.resolve(&dir, true)
            {
                match model.nodes[n].kind {
                    NodeKind::Dir { .. } => {
                        adapt.existing_dirs.push(dir);
                        continue;
                    }
                    _ => {
                        return Err(Error::WouldReplace {
                            path: dir,
                            what: "a non-directory (a directory entry would replace it)",
                            segment: model.nodes[n].record.map(seg).unwrap_or(0),
                        });
                    }
                }
            }
            entries.insert((dir, 1), (S_IFDIR | 0o755, Vec::new()));
        }
        for (path, item) in &items {
            if let Some((model, seg)) = base
                && let Some(n) = model.resolve(path, false)
            {
                let node = &model.nodes[n];
                let segment = node.record.map(seg).unwrap_or(0);
                match (&node.kind, item) {
                    (NodeKind::Dir { children, .. }, Item::File { .. } | Item::Symlink { .. })
                        if !children.is_empty() =>
                    {
                        return Err(Error::WouldReplace {
                            path: path.clone(),
                            what: "a non-empty directory (the kernel would drop the entry)",
                            segment,
                        });
                    }
                    (
                        NodeKind::Symlink(_) | NodeKind::File | NodeKind::Special,
                        Item::Dir { .. },
                    ) => {
                        return Err(Error::WouldReplace {
                            path: path.clone(),
                            what: "a non-directory (a directory entry would replace it)",
                            segment,
                        });
                    }
                    (NodeKind::File, Item::File { .. }) if node.links > 1 => {
                        entries.insert(
                            (path.clone(), 0),
                            (S_IFLNK | 0o777, UNLINK_SHIM_TARGET.as_bytes().to_vec()),
                        );
                        adapt.unlinked_hardlinks.push(path.clone());
                    }
                    _ => {}
                }
            }
            let e = match item {
                Item::File { mode, data } => (S_IFREG | mode, data.clone()),
                Item::Dir { mode } => (S_IFDIR | mode, Vec::new()),
                Item::Symlink { target } => (S_IFLNK | 0o777, target.as_bytes().to_vec()),
            };
            entries.insert((path.clone(), 1), e);
        }
        let mut out = Vec::new();
        for (ino, ((path, _), (mode, data))) in entries.iter().enumerate() {
            let h = Header {
                ino: ino as u32 + 1,
                mode: *mode,
                nlink: 1,
                mtime: self.mtime,
                ..Header::default()
            };
            newc::write_entry(&mut out, &h, path, data);
        }
        newc::write_trailer(&mut out);
        Ok((out, adapt))
    }
}

/// Proper ancestors of a relative path, outermost first (`a`, `a/b` for `a/b/c`).
fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    path.match_indices('/').map(move |(i, _)| &path[..i])
}

fn check_path(path: &str) -> Result<()> {
    let bad = |reason: &str| {
        Err(Error::InvalidOverlay {
            path: path.to_string(),
            reason: reason.to_string(),
        })
    };
    if path.is_empty() {
        return bad("empty path");
    }
    if path.starts_with('/') {
        return bad("absolute path (write paths relative to the initramfs root, e.g. `etc/x`)");
    }
    if path.contains('\0') {
        return bad("NUL in path");
    }
    if path.len() as u64 >= newc::PATH_MAX {
        return bad("path of 4096 bytes or more (the kernel skips it)");
    }
    if path == newc::TRAILER {
        return bad("the name `TRAILER!!!` ends an archive");
    }
    for c in path.split('/') {
        match c {
            "" => return bad("empty path component (`//` or trailing `/`)"),
            "." | ".." => return bad("`.` or `..` component"),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parents_come_first_and_sorted() {
        let o = Overlay::new()
            .mtime(1)
            .file("a/b/c", 0o644, b"x".to_vec())
            .symlink("a/l", "b");
        let bytes = o.to_newc().unwrap();
        let names: Vec<String> = crate::testing::names(&bytes);
        assert_eq!(names, ["a", "a/b", "a/b/c", "a/l", "TRAILER!!!"]);
    }

    #[test]
    fn rejects_escapes_and_duplicates() {
        for p in ["/etc/x", "../x", "a/../b", "a//b", "a/", "", "TRAILER!!!"] {
            assert!(
                Overlay::new().file(p, 0o644, Vec::new()).to_newc().is_err(),
                "{p}"
            );
        }
        assert!(
            Overlay::new()
                .file("a", 0o644, Vec::new())
                .dir("a", 0o755)
                .to_newc()
                .is_err()
        );
        assert!(
            Overlay::new()
                .file("a", 0o644, Vec::new())
                .file("a/b", 0o644, Vec::new())
                .to_newc()
                .is_err()
        );
    }

    #[test]
    fn output_is_reproducible() {
        let make = || {
            Overlay::new()
                .mtime(7)
                .dir("z", 0o700)
                .file("m/x", 0o755, b"#!/bin/sh\n".to_vec())
        };
        assert_eq!(make().to_newc().unwrap(), make().to_newc().unwrap());
        for c in crate::Codec::ALL {
            let a = c.compress(&make().to_newc().unwrap()).unwrap();
            let b = c.compress(&make().to_newc().unwrap()).unwrap();
            assert_eq!(a, b, "{c}");
        }
    }
}
