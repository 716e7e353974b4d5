//! Replays every entry on a model of the kernel's rootfs, to know what the image produces.
//!
//! The kernel applies entries with VFS calls whose side effects decide the result: a later
//! regular file with the same path *truncates the existing inode* (hard-linked paths change
//! with it); a symlink entry first unlinks whatever is at its path; a directory entry on an
//! existing directory only changes its mode; an entry whose parent directory does not exist
//! is dropped silently; `nlink >= 2` entries with the same (ino, dev) are linked through a
//! table that `TRAILER!!!` resets. Intermediate symlinks are followed (merged-/usr images
//! put `bin -> usr/bin` in the archive). [`Model`] records what happened to each entry, so
//! listings can show the effective tree and what was overridden, and lint can flag entries
//! the kernel drops or hard links it destroys. The same replay keeps the rootfs's memory
//! occupancy after every entry (see [`crate::size`] for what the kernel holds), so the
//! unpacked size and its peak come from the headers alone.

use std::collections::{BTreeMap, HashMap};

use crate::newc::{S_IFDIR, S_IFLNK, S_IFMT, S_IFREG};
use crate::size;
use crate::split::Record;

pub(crate) type NodeId = usize;

const ROOT: NodeId = 0;
const MAX_SYMLINKS: u32 = 40;

#[derive(Debug, Clone)]
pub(crate) enum NodeKind {
    Dir {
        children: BTreeMap<Vec<u8>, NodeId>,
        parent: NodeId,
        /// Its name in the parent (empty for the root); directories have exactly one.
        name: Vec<u8>,
    },
    File,
    Symlink(Vec<u8>),
    Special,
}

#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub kind: NodeKind,
    /// Record that last created or changed this node (metadata).
    pub record: Option<usize>,
    /// For files: record whose body is the content (None: empty).
    pub content: Option<usize>,
    /// Number of directory entries pointing here.
    pub links: u32,
    /// For files: bytes the kernel wrote into the inode (the last body written to it).
    pub data: u64,
}

/// What became of one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fate {
    /// Its effect is visible in the final tree.
    Applied,
    /// A later entry (index into records) replaced or rewrote it.
    Overridden { by: usize },
    /// The kernel creates nothing for it.
    Dropped { reason: DropReason },
    /// The kernel skips the header (see [`crate::machine::Ignored`]).
    Ignored,
    /// `TRAILER!!!`.
    Trailer,
}

/// Why the kernel creates nothing for an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DropReason {
    /// A directory on the way does not exist (`missing` is the first missing path).
    MissingParent { missing: String },
    /// A component on the way is not a directory.
    NotADirectory { component: String },
    /// Too many levels of symbolic links.
    SymlinkLoop,
    /// Something that cannot be replaced is in the way (e.g. a non-empty directory).
    Occupied,
    /// A hard link whose first name no longer resolves.
    LinkTargetMissing,
}

impl DropReason {
    pub fn describe(&self) -> String {
        match self {
            DropReason::MissingParent { missing } => {
                format!("its parent directory `{missing}` does not exist when it is unpacked")
            }
            DropReason::NotADirectory { component } => {
                format!("`{component}` on its path is not a directory")
            }
            DropReason::SymlinkLoop => "too many levels of symbolic links on its path".into(),
            DropReason::Occupied => "a non-empty directory is in the way".into(),
            DropReason::LinkTargetMissing => {
                "it is a hard link whose first name no longer exists".into()
            }
        }
    }
}

/// A regular-file entry that rewrote an inode shared with other paths.
#[derive(Debug, Clone)]
pub(crate) struct SharedOverwrite {
    pub record: usize,
    pub node: NodeId,
    /// The record that created the shared inode.
    pub original: Option<usize>,
    /// Other paths of the inode at that moment.
    pub others: Vec<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Model {
    pub nodes: Vec<Node>,
    pub fates: Vec<Fate>,
    pub shared_overwrites: Vec<SharedOverwrite>,
    /// Directory entries that replaced a symlink: (record, record of the symlink, path).
    pub replaced_symlinks: Vec<(usize, Option<usize>, String)>,
    /// Per record: the path where it landed (after following directory symlinks).
    pub landed: Vec<Option<String>>,
    /// Memory the rootfs holds now (during the replay) or at the end: the cost of every
    /// inode still linked (`size::inode_cost`), the root excluded.
    pub resident: u64,
    /// Per record: `resident` right after the kernel applied it.
    pub occupancy: Vec<u64>,
    /// The largest value `resident` took.
    pub peak: u64,
}

enum Lookup {
    /// Parent directory and final name (None: the name designates an existing directory
    /// itself, like `.` or `a/..`).
    Found(NodeId, Option<Vec<u8>>),
    Failed(DropReason),
}

fn components(name: &[u8]) -> Vec<&[u8]> {
    name.split(|&b| b == b'/')
        .filter(|c| !c.is_empty() && *c != b".")
        .collect()
}

/// The lexical, normalised form of an archive name: no leading `/` or `./`.
pub(crate) fn normalize(name: &[u8]) -> String {
    let parts: Vec<String> = components(name)
        .iter()
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    parts.join("/")
}

impl Model {
    pub(crate) fn build(records: &[Record]) -> Model {
        let mut m = Model {
            nodes: vec![Node {
                kind: NodeKind::Dir {
                    children: BTreeMap::new(),
                    parent: ROOT,
                    name: Vec::new(),
                },
                record: None,
                content: None,
                links: 1,
                data: 0,
            }],
            fates: vec![Fate::Applied; records.len()],
            shared_overwrites: Vec::new(),
            replaced_symlinks: Vec::new(),
            landed: vec![None; records.len()],
            resident: 0,
            occupancy: Vec::with_capacity(records.len()),
            peak: 0,
        };
        let mut table: HashMap<(u32, u32, u32, u32), Vec<u8>> = HashMap::new();
        for (i, r) in records.iter().enumerate() {
            m.apply(i, r, &mut table);
            m.peak = m.peak.max(m.resident);
            m.occupancy.push(m.resident);
        }
        m.keep_lasting_overwrites();
        m
    }

    /// Keeps only the shared overwrites whose damage lasts: another path still shares the
    /// rewritten inode at the end and was not bound to it again after the overwrite (an
    /// archive that re-creates a whole hard-link group restores every member).
    fn keep_lasting_overwrites(&mut self) {
        if self.shared_overwrites.is_empty() {
            return;
        }
        let mut binder: HashMap<&str, usize> = HashMap::new();
        for (i, p) in self.landed.iter().enumerate() {
            if let (Some(p), false) = (p, matches!(self.fates[i], Fate::Dropped { .. })) {
                binder.insert(p.as_str(), i);
            }
        }
        // One walk for all overwrites: the final paths of every shared inode.
        let wanted: std::collections::HashSet<NodeId> =
            self.shared_overwrites.iter().map(|s| s.node).collect();
        let mut paths: HashMap<NodeId, Vec<String>> = HashMap::new();
        self.walk(ROOT, "", &mut |path, id| {
            if wanted.contains(&id) {
                paths.entry(id).or_default().push(path.to_string());
            }
        });
        let mut kept = Vec::new();
        for mut so in std::mem::take(&mut self.shared_overwrites) {
            let me = self.landed[so.record].as_deref();
            so.others = paths
                .get(&so.node)
                .into_iter()
                .flatten()
                .filter(|p| {
                    Some(p.as_str()) != me && binder.get(p.as_str()).is_none_or(|&b| b < so.record)
                })
                .cloned()
                .collect();
            if !so.others.is_empty() {
                kept.push(so);
            }
        }
        self.shared_overwrites = kept;
    }

    fn children(&self, dir: NodeId) -> &BTreeMap<Vec<u8>, NodeId> {
        match &self.nodes[dir].kind {
            NodeKind::Dir { children, .. } => children,
            _ => unreachable!("children of a non-directory"),
        }
    }

    fn children_mut(&mut self, dir: NodeId) -> &mut BTreeMap<Vec<u8>, NodeId> {
        match &mut self.nodes[dir].kind {
            NodeKind::Dir { children, .. } => children,
            _ => unreachable!("children of a non-directory"),
        }
    }

    fn parent_of(&self, dir: NodeId) -> NodeId {
        match &self.nodes[dir].kind {
            NodeKind::Dir { parent, .. } => *parent,
            _ => ROOT,
        }
    }

    /// Path of a directory node, `""` for the root.
    pub(crate) fn dir_path(&self, mut dir: NodeId) -> String {
        let mut parts = Vec::new();
        while dir != ROOT {
            match &self.nodes[dir].kind {
                NodeKind::Dir { parent, name, .. } => {
                    parts.push(String::from_utf8_lossy(name).into_owned());
                    dir = *parent;
                }
                _ => break,
            }
        }
        parts.reverse();
        parts.join("/")
    }

    fn join(&self, dir: NodeId, name: &[u8]) -> String {
        let d = self.dir_path(dir);
        let n = String::from_utf8_lossy(name);
        if d.is_empty() {
            n.into_owned()
        } else {
            format!("{d}/{n}")
        }
    }

    /// Walks `name` from `start`; every component but the last must be a directory
    /// (symlinks followed).
    fn lookup_parent(&self, start: NodeId, name: &[u8], depth: &mut u32) -> Lookup {
        let base = if name.first() == Some(&b'/') {
            ROOT
        } else {
            start
        };
        let comps = components(name);
        let Some((last, init)) = comps.split_last() else {
            return Lookup::Found(base, None);
        };
        let mut cur = base;
        for c in init {
            match self.step(cur, c, depth) {
                Ok(n) => cur = n,
                Err(e) => return Lookup::Failed(e),
            }
        }
        if *last == b".." {
            return Lookup::Found(self.parent_of(cur), None);
        }
        Lookup::Found(cur, Some(last.to_vec()))
    }

    /// One component from directory `cur`, following a symlink to a directory.
    fn step(&self, cur: NodeId, c: &[u8], depth: &mut u32) -> Result<NodeId, DropReason> {
        if c == b".." {
            return Ok(self.parent_of(cur));
        }
        let Some(&n) = self.children(cur).get(c) else {
            return Err(DropReason::MissingParent {
                missing: self.join(cur, c),
            });
        };
        match &self.nodes[n].kind {
            NodeKind::Dir { .. } => Ok(n),
            NodeKind::Symlink(target) => {
                *depth += 1;
                if *depth > MAX_SYMLINKS {
                    return Err(DropReason::SymlinkLoop);
                }
                let target = target.clone();
                match self.resolve_from(cur, &target, true, depth)? {
                    Some(t) if matches!(self.nodes[t].kind, NodeKind::Dir { .. }) => Ok(t),
                    Some(_) => Err(DropReason::NotADirectory {
                        component: self.join(cur, c),
                    }),
                    None => Err(DropReason::MissingParent {
                        missing: self.join(cur, c),
                    }),
                }
            }
            _ => Err(DropReason::NotADirectory {
                component: self.join(cur, c),
            }),
        }
    }

    /// Resolves a whole path; `Ok(None)` when the last component does not exist.
    fn resolve_from(
        &self,
        start: NodeId,
        name: &[u8],
        follow_last: bool,
        depth: &mut u32,
    ) -> Result<Option<NodeId>, DropReason> {
        match self.lookup_parent(start, name, depth) {
            Lookup::Failed(e) => Err(e),
            Lookup::Found(dir, None) => Ok(Some(dir)),
            Lookup::Found(dir, Some(last)) => {
                let Some(&n) = self.children(dir).get(&last) else {
                    return Ok(None);
                };
                if let (true, NodeKind::Symlink(t)) = (follow_last, &self.nodes[n].kind) {
                    *depth += 1;
                    if *depth > MAX_SYMLINKS {
                        return Err(DropReason::SymlinkLoop);
                    }
                    let t = t.clone();
                    return self.resolve_from(dir, &t, true, depth);
                }
                Ok(Some(n))
            }
        }
    }

    /// Resolves `path` from the root, following symlinks; the node if it exists.
    pub(crate) fn resolve(&self, path: &str, follow_last: bool) -> Option<NodeId> {
        self.resolve_from(ROOT, path.as_bytes(), follow_last, &mut 0)
            .ok()
            .flatten()
    }

    /// Depth-first walk over every (path, node) below `dir`, sorted by name.
    pub(crate) fn walk(&self, dir: NodeId, prefix: &str, f: &mut dyn FnMut(&str, NodeId)) {
        for (name, &id) in self.children(dir) {
            let name = String::from_utf8_lossy(name);
            let path = if prefix.is_empty() {
                name.into_owned()
            } else {
                format!("{prefix}/{name}")
            };
            f(&path, id);
            if matches!(self.nodes[id].kind, NodeKind::Dir { .. }) {
                self.walk(id, &path, f);
            }
        }
    }

    /// A new inode linked once; `data` is the body written into a file.
    fn new_node(&mut self, kind: NodeKind, record: usize, data: u64) -> NodeId {
        self.nodes.push(Node {
            kind,
            record: Some(record),
            content: Some(record),
            links: 1,
            data,
        });
        let id = self.nodes.len() - 1;
        self.resident += self.cost(id);
        id
    }

    /// The unpacked tree in numbers: (regular files, their data bytes, inodes), each inode
    /// once and the root excluded.
    pub(crate) fn totals(&self) -> (u64, u64, u64) {
        let (mut files, mut data, mut inodes) = (0, 0, 0);
        for node in self.nodes.iter().skip(1).filter(|n| n.links > 0) {
            inodes += 1;
            if matches!(node.kind, NodeKind::File) {
                files += 1;
                data += node.data;
            }
        }
        (files, data, inodes)
    }

    /// Memory one inode holds (see [`crate::size`]).
    fn cost(&self, n: NodeId) -> u64 {
        let node = &self.nodes[n];
        match &node.kind {
            NodeKind::File => size::inode_cost(Some(node.data), None),
            NodeKind::Symlink(target) => size::inode_cost(None, Some(target.len())),
            _ => size::inode_cost(None, None),
        }
    }

    /// Takes inode `n`'s memory off the total: its last link is gone (the kernel frees it
    /// and its pages), or its data is about to be replaced.
    fn release(&mut self, n: NodeId) {
        let cost = self.cost(n);
        debug_assert!(self.resident >= cost, "released more than was charged");
        self.resident = self.resident.saturating_sub(cost);
    }

    /// A body of `data` bytes is written into file `n` from offset 0, replacing the old one
    /// (`O_TRUNC`, or `ftruncate` to the new size for a further hard link).
    fn rewrite(&mut self, n: NodeId, data: u64) {
        self.release(n);
        self.nodes[n].data = data;
        self.resident += self.cost(n);
    }

    fn mark_overridden(&mut self, node: NodeId, by: usize) {
        let n = &self.nodes[node];
        for r in [n.record, n.content].into_iter().flatten() {
            if r != by && self.fates[r] == Fate::Applied {
                self.fates[r] = Fate::Overridden { by };
            }
        }
    }

    /// The kernel's `clean_path`: remove what is at `dir/last` unless it has the type
    /// `want` (`0` removes anything). Returns what remains there.
    fn clean(&mut self, dir: NodeId, last: &[u8], want: u32, by: usize) -> Option<NodeId> {
        let &n = self.children(dir).get(last)?;
        let have = match self.nodes[n].kind {
            NodeKind::Dir { .. } => S_IFDIR,
            NodeKind::File => S_IFREG,
            NodeKind::Symlink(_) => S_IFLNK,
            NodeKind::Special => 1,
        };
        if want != 0 && have == want {
            return Some(n);
        }
        if want == S_IFDIR && have == S_IFLNK {
            let path = self.join(dir, last);
            self.replaced_symlinks
                .push((by, self.nodes[n].record, path));
        }
        if let NodeKind::Dir { children, .. } = &self.nodes[n].kind
            && !children.is_empty()
        {
            return Some(n); // rmdir fails
        }
        self.children_mut(dir).remove(last);
        self.nodes[n].links -= 1;
        if self.nodes[n].links == 0 {
            self.mark_overridden(n, by);
            self.release(n);
        }
        None
    }

    fn apply(&mut self, i: usize, r: &Record, table: &mut HashMap<(u32, u32, u32, u32), Vec<u8>>) {
        let raw = &r.raw;
        if raw.is_trailer {
            table.clear();
            self.fates[i] = Fate::Trailer;
            return;
        }
        if raw.ignored.is_some() {
            self.fates[i] = Fate::Ignored;
            return;
        }
        let h = raw.header;
        let kind = h.mode & S_IFMT;
        let mut depth = 0;
        let (dir, last) = match self.lookup_parent(ROOT, &raw.name, &mut depth) {
            Lookup::Failed(reason) => {
                self.fates[i] = Fate::Dropped { reason };
                return;
            }
            Lookup::Found(dir, None) => {
                // `.` or `x/..`: an existing directory; only a directory entry changes it.
                if kind == S_IFDIR {
                    let old = self.nodes[dir].record;
                    if let Some(o) = old {
                        self.fates[o] = Fate::Overridden { by: i };
                    }
                    self.nodes[dir].record = Some(i);
                    self.landed[i] = Some(self.dir_path(dir));
                } else {
                    self.fates[i] = Fate::Dropped {
                        reason: DropReason::Occupied,
                    };
                }
                return;
            }
            Lookup::Found(dir, Some(last)) => (dir, last),
        };
        self.landed[i] = Some(self.join(dir, &last));
        let want = if kind == S_IFLNK { 0 } else { kind };
        let existing = self.clean(
            dir,
            &last,
            if kind == S_IFREG || kind == S_IFDIR {
                want
            } else {
                0
            },
            i,
        );
        match kind {
            S_IFDIR => match existing {
                Some(n) if matches!(self.nodes[n].kind, NodeKind::Dir { .. }) => {
                    if let Some(o) = self.nodes[n].record
                        && self.fates[o] == Fate::Applied
                    {
                        self.fates[o] = Fate::Overridden { by: i };
                    }
                    self.nodes[n].record = Some(i);
                }
                Some(_) => {
                    self.fates[i] = Fate::Dropped {
                        reason: DropReason::Occupied,
                    }
                }
                None => {
                    let n = self.new_node(
                        NodeKind::Dir {
                            children: BTreeMap::new(),
                            parent: dir,
                            name: last.clone(),
                        },
                        i,
                        0,
                    );
                    self.nodes[n].content = None;
                    self.children_mut(dir).insert(last, n);
                }
            },
            S_IFREG => {
                if h.nlink >= 2 {
                    let key = (h.ino, h.devmajor, h.devminor, kind);
                    if let Some(old) = table.get(&key).cloned() {
                        let body = (h.filesize > 0).then_some(r.present);
                        self.hard_link(i, dir, &last, &old, body);
                        return;
                    }
                    table.insert(key, raw.name.clone());
                }
                match existing {
                    Some(n) if matches!(self.nodes[n].kind, NodeKind::File) => {
                        // O_TRUNC on the existing inode: every hard link of it changes.
                        if self.nodes[n].links > 1 {
                            self.shared_overwrites.push(SharedOverwrite {
                                record: i,
                                node: n,
                                original: self.nodes[n].record,
                                others: Vec::new(),
                            });
                        }
                        self.mark_overridden(n, i);
                        self.nodes[n].record = Some(i);
                        self.nodes[n].content = Some(i);
                        self.rewrite(n, r.present);
                    }
                    Some(_) => {
                        self.fates[i] = Fate::Dropped {
                            reason: DropReason::Occupied,
                        }
                    }
                    None => {
                        let n = self.new_node(NodeKind::File, i, r.present);
                        self.children_mut(dir).insert(last, n);
                    }
                }
            }
            S_IFLNK => {
                if existing.is_some() {
                    self.fates[i] = Fate::Dropped {
                        reason: DropReason::Occupied,
                    };
                    return;
                }
                let target = raw.symlink_target.clone().unwrap_or_default();
                let n = self.new_node(NodeKind::Symlink(target), i, 0);
                self.nodes[n].content = None;
                self.children_mut(dir).insert(last, n);
            }
            _ => {
                if h.nlink >= 2 {
                    let key = (h.ino, h.devmajor, h.devminor, kind);
                    if let Some(old) = table.get(&key).cloned() {
                        self.hard_link(i, dir, &last, &old, None);
                        return;
                    }
                    table.insert(key, raw.name.clone());
                }
                if existing.is_some() {
                    self.fates[i] = Fate::Dropped {
                        reason: DropReason::Occupied,
                    };
                    return;
                }
                let n = self.new_node(NodeKind::Special, i, 0);
                self.nodes[n].content = None;
                self.children_mut(dir).insert(last, n);
            }
        }
    }

    /// `link(old, dir/last)` after removing whatever is at `dir/last`; the body (if any, of
    /// `body` bytes) is then written into the shared inode without `O_TRUNC`.
    fn hard_link(&mut self, i: usize, dir: NodeId, last: &[u8], old: &[u8], body: Option<u64>) {
        let _ = self.clean(dir, last, 0, i);
        let target = self.resolve_from(ROOT, old, false, &mut 0).ok().flatten();
        let Some(t) = target.filter(|&t| !matches!(self.nodes[t].kind, NodeKind::Dir { .. }))
        else {
            self.fates[i] = Fate::Dropped {
                reason: DropReason::LinkTargetMissing,
            };
            return;
        };
        if self.children(dir).contains_key(last) {
            self.fates[i] = Fate::Dropped {
                reason: DropReason::Occupied,
            };
            return;
        }
        self.children_mut(dir).insert(last.to_vec(), t);
        self.nodes[t].links += 1;
        if let Some(data) = body {
            if let Some(c) = self.nodes[t].content
                && self.fates[c] == Fate::Applied
                && self.nodes[t].record != Some(c)
            {
                self.fates[c] = Fate::Overridden { by: i };
            }
            self.nodes[t].content = Some(i);
            self.rewrite(t, data);
        }
    }
}
