//! [`Iso`]: an opened image. It checks the volume descriptors itself, lets hadris-iso decode
//! directory records and Rock Ridge entries, and checks every value hadris hands back
//! (extents, names, kinds, loops, depth, counts) before anything leaves this crate. The
//! Rock Ridge entries hadris drops, `ZF` (a zisofs-compressed file) and the continuation
//! areas it may sit in, it reads itself ([`crate::parse::rock_ridge`]), so a compressed file
//! is never handed out as if its stored bytes were its content.

use std::collections::HashSet;
use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use globset::GlobBuilder;
use hadris_iso::directory::DirectoryRef;
use hadris_iso::io::LogicalSector;
use hadris_iso::read::{DirEntry as RawEntry, IsoImage as Hadris};

use crate::error::IsoError;
use crate::extent::{Extent, ExtentReader, IsoFile, read_file};
use crate::names::{
    Namespace, check_name, decode_joliet, has_glob_meta, join, split_path, strip_version,
};
use crate::parse::rock_ridge::{self, RockRidgeError, ZfEntry};
use crate::parse::volume_descriptor::{
    self as vd, Descriptor, FIRST_DESCRIPTOR_SECTOR, MAX_DESCRIPTORS, SECTOR_SIZE, Volume,
};
use crate::source::{BlockReader, ReadAt};
use crate::{DirEntry, EntryKind, IsoImage, Limits};

/// POSIX file-type bits of a Rock Ridge `PX` mode.
const S_IFMT: u32 = 0o170000;
const S_IFSOCK: u32 = 0o140000;
const S_IFLNK: u32 = 0o120000;
const S_IFREG: u32 = 0o100000;
const S_IFBLK: u32 = 0o060000;
const S_IFDIR: u32 = 0o040000;
const S_IFCHR: u32 = 0o020000;
const S_IFIFO: u32 = 0o010000;

/// Most continuation areas followed for one record (the Linux kernel's `RR_MAX_CE_ENTRIES`).
const MAX_CONTINUATIONS: usize = 32;

/// A directory's location. Invariant: `lba * 2048 + len <= image_size` and
/// `len <= limits.max_dir_bytes`, checked by [`Iso::check_dir`] before it is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct DirLoc {
    lba: u64,
    len: u64,
}

/// One checked directory entry plus what is needed to descend into or read it.
struct Node {
    entry: DirEntry,
    /// Checked extents (regular files only; empty otherwise).
    extents: Vec<Extent>,
    /// The Rock Ridge `ZF`/`Z2` entry of a compressed regular file.
    compression: Option<ZfEntry>,
    raw: RawEntry,
}

/// An open ISO 9660 image. `S` is where the bytes come from (a [`File`] unless built with
/// [`Iso::from_source`]). `Iso<File>` is `Send + Sync`; all methods take `&self`.
pub struct Iso<S: ReadAt = File> {
    source: Arc<S>,
    reader: Hadris<BlockReader<Arc<S>>>,
    /// Length of the image in bytes when it was opened; every extent is checked against it.
    image_size: u64,
    namespace: Namespace,
    root: DirLoc,
    limits: Limits,
    /// Bytes before the first SUSP entry of every record (the root's `SP` entry; 0 without).
    susp_skip: usize,
}

impl<S: ReadAt> std::fmt::Debug for Iso<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Iso")
            .field("image_size", &self.image_size)
            .field("namespace", &self.namespace)
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

impl Iso<File> {
    /// Opens the image file at `path` with the default [`Limits`].
    pub fn open(path: &Path) -> Result<Self, IsoError> {
        Self::open_with_limits(path, Limits::default())
    }

    /// Opens the image file at `path` with explicit [`Limits`].
    pub fn open_with_limits(path: &Path, limits: Limits) -> Result<Self, IsoError> {
        let file = File::open(path).map_err(|source| IsoError::Open {
            path: path.to_owned(),
            source,
        })?;
        let meta = file.metadata().map_err(|source| IsoError::Open {
            path: path.to_owned(),
            source,
        })?;
        if !meta.is_file() {
            return Err(IsoError::Open {
                path: path.to_owned(),
                source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a regular file"),
            });
        }
        Self::from_source(file, limits)
    }
}

impl<S: ReadAt> Iso<S> {
    /// Opens an image held by any [`ReadAt`] source (an in-memory `Vec<u8>`, a shared file).
    pub fn from_source(source: S, limits: Limits) -> Result<Self, IsoError> {
        let image_size = source.size().map_err(|source| IsoError::Read {
            path: "/".into(),
            offset: 0,
            len: 0,
            source,
        })?;
        let source = Arc::new(source);
        let volumes = preflight(&*source, image_size, &limits)?;
        let reader =
            Hadris::open(BlockReader::new(Arc::clone(&source), image_size)).map_err(|e| {
                IsoError::Malformed {
                    path: "/".into(),
                    reason: e.to_string(),
                }
            })?;
        let (namespace, root) = if reader.supports_rrip() {
            (Namespace::RockRidge, volumes.primary)
        } else if let Some(joliet) = volumes.joliet {
            (Namespace::Joliet, joliet)
        } else {
            (Namespace::Plain, volumes.primary)
        };
        let susp_skip = if namespace == Namespace::RockRidge {
            // SUSP 5.3: the `SP` entry opens the System Use area of the root's `.` record.
            let root_ref = DirectoryRef {
                extent: LogicalSector(root.lba as usize),
                size: root.len as usize,
            };
            reader
                .open_dir(root_ref)
                .entries()
                .next()
                .and_then(Result::ok)
                .and_then(|dot| rock_ridge::sp_skip(dot.record.system_use()))
                .map_or(0, usize::from)
        } else {
            0
        };
        Ok(Self {
            source,
            reader,
            image_size,
            namespace,
            root,
            limits,
            susp_skip,
        })
    }

    /// Which names this image is read through.
    pub fn namespace(&self) -> Namespace {
        self.namespace
    }

    /// The image length in bytes (as of opening).
    pub fn image_size(&self) -> u64 {
        self.image_size
    }

    /// The limits this image was opened with.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The byte source, e.g. to hand to [`ExtentReader::new`] on another thread.
    pub fn source(&self) -> &Arc<S> {
        &self.source
    }

    /// Reads a whole file, refusing files over `max_len` bytes.
    pub fn read(&self, file: &IsoFile, max_len: u64) -> Result<Vec<u8>, IsoError> {
        read_file(&*self.source, file, max_len)
    }

    /// A streaming reader over `file`'s bytes.
    pub fn reader(&self, file: &IsoFile) -> Result<ExtentReader<Arc<S>>, IsoError> {
        ExtentReader::new(Arc::clone(&self.source), file)
    }

    /// Visits every entry below `dir`, depth first, parents before children, with its
    /// absolute path. Bounded by [`Limits::max_depth`] and [`Limits::max_walk_entries`];
    /// a directory reached twice is a [`IsoError::DirectoryLoop`].
    pub fn walk(&self, dir: &str, mut visit: impl FnMut(&str, &DirEntry)) -> Result<(), IsoError> {
        let components = self.components(dir)?;
        let (loc, path) = self.walk_dirs(&components, dir)?;
        let mut seen = HashSet::from([self.root.lba, loc.lba]);
        let mut visited = 0u64;
        let mut stack = vec![(
            path.clone(),
            components.len(),
            self.read_dir(loc, &path)?.into_iter(),
        )];
        while let Some((parent, depth, nodes)) = stack.last_mut() {
            let Some(node) = nodes.next() else {
                stack.pop();
                continue;
            };
            let (parent, depth) = (parent.clone(), *depth);
            let path = join(&parent, &node.entry.name);
            visited += 1;
            if visited > self.limits.max_walk_entries {
                return Err(IsoError::TooMany {
                    path: dir.to_owned(),
                    what: "entries in one walk",
                    max: self.limits.max_walk_entries,
                });
            }
            visit(&path, &node.entry);
            if node.entry.kind != EntryKind::Directory {
                continue;
            }
            if depth + 1 > self.limits.max_depth {
                return Err(IsoError::TooDeep {
                    path,
                    depth: depth + 1,
                    max: self.limits.max_depth,
                });
            }
            let child = self.child_dir(&node, &path)?;
            if !seen.insert(child.lba) {
                return Err(IsoError::DirectoryLoop {
                    path,
                    lba: child.lba,
                });
            }
            let children = self.read_dir(child, &path)?;
            stack.push((path, depth + 1, children.into_iter()));
        }
        Ok(())
    }

    fn components<'p>(&self, path: &'p str) -> Result<Vec<&'p str>, IsoError> {
        let components = split_path(path)?;
        if components.len() > self.limits.max_depth {
            return Err(IsoError::TooDeep {
                path: path.to_owned(),
                depth: components.len(),
                max: self.limits.max_depth,
            });
        }
        Ok(components)
    }

    /// Follows `components` from the root; each must be a directory.
    fn walk_dirs(&self, components: &[&str], asked: &str) -> Result<(DirLoc, String), IsoError> {
        self.walk_components(components, asked, false)
    }

    /// [`Iso::walk_dirs`]; with `globs`, a component that names no directory literally but
    /// holds a wildcard must match exactly one directory (Pop!_OS keeps casper in
    /// `casper_<iso name>/`, a name that changes with every build).
    fn walk_components(
        &self,
        components: &[&str],
        asked: &str,
        globs: bool,
    ) -> Result<(DirLoc, String), IsoError> {
        let mut loc = self.root;
        let mut path = String::from("/");
        let mut ancestors = vec![self.root.lba];
        for component in components {
            let node = match self.find_in(loc, &path, component) {
                // A directory literally named `*` is fine; else the wildcard is matched.
                Err(IsoError::NotFound { .. }) if has_glob_meta(component) => {
                    if !globs {
                        return Err(IsoError::InvalidPath {
                            path: asked.to_owned(),
                            reason: "wildcards are only allowed where a pattern is resolved",
                        });
                    }
                    self.one_dir_matching(loc, &path, component, asked)?
                }
                found => found?,
            };
            let child_path = join(&path, &node.entry.name);
            match node.entry.kind {
                EntryKind::Directory => {}
                EntryKind::Symlink => {
                    return Err(IsoError::Symlink {
                        path: child_path,
                        target: node.entry.symlink_target.clone().unwrap_or_default(),
                    });
                }
                _ => return Err(IsoError::NotADirectory { path: child_path }),
            }
            let child = self.child_dir(&node, &child_path)?;
            if ancestors.contains(&child.lba) {
                return Err(IsoError::DirectoryLoop {
                    path: child_path,
                    lba: child.lba,
                });
            }
            ancestors.push(child.lba);
            loc = child;
            path = child_path;
        }
        Ok((loc, path))
    }

    /// The one directory entry of directory `path` whose name matches `component` (a glob).
    fn one_dir_matching(
        &self,
        loc: DirLoc,
        path: &str,
        component: &str,
        asked: &str,
    ) -> Result<Node, IsoError> {
        let glob = GlobBuilder::new(component)
            .literal_separator(true)
            .build()
            .map_err(|source| IsoError::Pattern {
                pattern: asked.to_owned(),
                source,
            })?
            .compile_matcher();
        let (mut dirs, others): (Vec<Node>, Vec<Node>) = self
            .read_dir(loc, path)?
            .into_iter()
            .filter(|node| glob.is_match(&node.entry.name))
            .partition(|node| node.entry.kind == EntryKind::Directory);
        match dirs.len() {
            1 => Ok(dirs.pop().expect("one match")),
            0 => Err(IsoError::NoMatch {
                pattern: asked.to_owned(),
                others: others
                    .iter()
                    .map(|n| format!("{} ({})", join(path, &n.entry.name), n.entry.kind.as_str()))
                    .collect(),
            }),
            _ => Err(IsoError::Ambiguous {
                pattern: asked.to_owned(),
                matches: dirs.iter().map(|n| join(path, &n.entry.name)).collect(),
            }),
        }
    }

    fn find_in(&self, loc: DirLoc, path: &str, name: &str) -> Result<Node, IsoError> {
        let nodes = self.read_dir(loc, path)?;
        let plain = self.namespace == Namespace::Plain;
        nodes
            .into_iter()
            .find(|n| n.entry.name == name || (plain && n.entry.name.eq_ignore_ascii_case(name)))
            .ok_or_else(|| IsoError::NotFound {
                path: join(path, name),
            })
    }

    fn regular_file(node: Node, path: String) -> Result<IsoFile, IsoError> {
        match node.entry.kind {
            EntryKind::File => Ok(IsoFile::located(path, node.extents, node.compression)),
            EntryKind::Symlink => Err(IsoError::Symlink {
                path,
                target: node.entry.symlink_target.unwrap_or_default(),
            }),
            kind => Err(IsoError::NotARegularFile {
                path,
                kind: kind.as_str(),
            }),
        }
    }

    /// Checks a directory's extent against the image and the size limit.
    fn check_dir(&self, path: &str, loc: DirLoc) -> Result<(), IsoError> {
        let end = loc.lba.saturating_mul(SECTOR_SIZE).saturating_add(loc.len);
        if end > self.image_size {
            return Err(IsoError::ExtentPastEnd {
                path: path.to_owned(),
                lba: loc.lba,
                len: loc.len,
                image_size: self.image_size,
            });
        }
        if loc.len > self.limits.max_dir_bytes {
            return Err(IsoError::TooMany {
                path: path.to_owned(),
                what: "bytes",
                max: self.limits.max_dir_bytes,
            });
        }
        Ok(())
    }

    /// Where the directory described by `node` is (following a Rock Ridge `CL` link).
    fn child_dir(&self, node: &Node, path: &str) -> Result<DirLoc, IsoError> {
        if let Some(cl) = node.raw.rrip.as_ref().and_then(|r| r.child_link) {
            let cl = u64::from(cl);
            if (cl + 1) * SECTOR_SIZE > self.image_size {
                return Err(IsoError::ExtentPastEnd {
                    path: path.to_owned(),
                    lba: cl,
                    len: SECTOR_SIZE,
                    image_size: self.image_size,
                });
            }
        }
        let dir_ref = node
            .raw
            .as_dir_ref(&self.reader)
            .map_err(|e| IsoError::Malformed {
                path: path.to_owned(),
                reason: e.to_string(),
            })?;
        let loc = DirLoc {
            lba: dir_ref.extent.0 as u64,
            len: dir_ref.size as u64,
        };
        self.check_dir(path, loc)?;
        Ok(loc)
    }

    /// Reads and checks one directory. `path` is only used in errors and entry paths.
    fn read_dir(&self, loc: DirLoc, path: &str) -> Result<Vec<Node>, IsoError> {
        self.check_dir(path, loc)?;
        let dir = self.reader.open_dir(DirectoryRef {
            extent: LogicalSector(loc.lba as usize),
            size: loc.len as usize,
        });
        let mut nodes = Vec::new();
        let mut names = HashSet::new();
        for raw in dir.entries() {
            let raw = raw.map_err(|e| IsoError::Malformed {
                path: path.to_owned(),
                reason: e.to_string(),
            })?;
            if raw.record.is_special() {
                continue;
            }
            if nodes.len() >= self.limits.max_dir_entries {
                return Err(IsoError::TooMany {
                    path: path.to_owned(),
                    what: "entries",
                    max: self.limits.max_dir_entries as u64,
                });
            }
            let name = self.name_of(&raw, path)?;
            check_name(path, &name)?;
            if !names.insert(name.clone()) {
                return Err(IsoError::DuplicateName {
                    dir: path.to_owned(),
                    name,
                });
            }
            nodes.push(self.describe(raw, name, path)?);
        }
        Ok(nodes)
    }

    fn name_of(&self, raw: &RawEntry, dir: &str) -> Result<String, IsoError> {
        let plain = || strip_version(&String::from_utf8_lossy(raw.name()), true).to_owned();
        match self.namespace {
            Namespace::RockRidge => Ok(raw
                .rrip
                .as_ref()
                .and_then(|r| r.alternate_name.clone())
                .unwrap_or_else(plain)),
            Namespace::Joliet => match decode_joliet(raw.name()) {
                Some(name) => Ok(strip_version(&name, false).to_owned()),
                None => Err(IsoError::BadName {
                    dir: dir.to_owned(),
                    name: String::from_utf8_lossy(raw.name()).into_owned(),
                    reason: "not valid UTF-16 (Joliet)",
                }),
            },
            Namespace::Plain => Ok(plain()),
        }
    }

    fn describe(&self, raw: RawEntry, name: String, dir: &str) -> Result<Node, IsoError> {
        let path = join(dir, &name);
        let rrip = raw.rrip.as_ref();
        let mode = rrip
            .and_then(|r| r.posix_attributes)
            .map(|px| px.file_mode.read());
        let symlink_target = rrip.and_then(|r| r.symlink_target.clone());
        let kind = if raw.is_directory() {
            EntryKind::Directory
        } else if symlink_target.is_some() {
            EntryKind::Symlink
        } else {
            match mode.map(|m| m & S_IFMT) {
                None | Some(0) | Some(S_IFREG) => EntryKind::File,
                Some(S_IFLNK) => EntryKind::Symlink,
                Some(S_IFCHR) => EntryKind::CharDevice,
                Some(S_IFBLK) => EntryKind::BlockDevice,
                Some(S_IFIFO) => EntryKind::Fifo,
                Some(S_IFSOCK) => EntryKind::Socket,
                Some(S_IFDIR) | Some(_) => EntryKind::Other,
            }
        };
        let (size, extents, compression) = if kind == EntryKind::File {
            let (stored, extents) = self.check_extents(&path, &raw)?;
            let compression = match self.namespace {
                Namespace::RockRidge => self.compression_of(&raw, &path)?,
                Namespace::Joliet | Namespace::Plain => None,
            };
            let size = compression
                .and_then(|zf| zf.uncompressed_size)
                .unwrap_or(stored);
            (size, extents, compression)
        } else {
            (u64::from(raw.header().data_len.read()), Vec::new(), None)
        };
        Ok(Node {
            entry: DirEntry {
                name,
                kind,
                size,
                mode,
                symlink_target,
            },
            extents,
            compression,
            raw,
        })
    }

    /// The `ZF`/`Z2` entry of a file's record, in its own System Use area or in one of the
    /// continuation areas chained from it (each checked to lie inside the image and inside
    /// its logical block, as the kernel requires).
    fn compression_of(&self, raw: &RawEntry, path: &str) -> Result<Option<ZfEntry>, IsoError> {
        let fail = |source| IsoError::RockRidge {
            path: path.to_owned(),
            source,
        };
        let mut scan = rock_ridge::scan(raw.record.system_use(), self.susp_skip).map_err(fail)?;
        let mut zf = scan.zf;
        let mut area = Vec::new();
        let mut followed = 0;
        while let Some(ce) = scan.continuation {
            followed += 1;
            if followed > MAX_CONTINUATIONS {
                return Err(fail(RockRidgeError::BadContinuation(
                    "more than 32 chained continuation areas",
                )));
            }
            let len = u64::from(ce.len);
            if u64::from(ce.offset) + len > SECTOR_SIZE {
                return Err(fail(RockRidgeError::BadContinuation(
                    "the area runs past the end of its logical block",
                )));
            }
            let offset = u64::from(ce.lba) * SECTOR_SIZE + u64::from(ce.offset);
            if offset + len > self.image_size {
                return Err(IsoError::ExtentPastEnd {
                    path: path.to_owned(),
                    lba: u64::from(ce.lba),
                    len,
                    image_size: self.image_size,
                });
            }
            area.resize(len as usize, 0);
            self.source
                .read_exact_at(&mut area, offset)
                .map_err(|source| IsoError::Read {
                    path: path.to_owned(),
                    offset,
                    len,
                    source,
                })?;
            scan = rock_ridge::scan(&area, 0).map_err(fail)?;
            match (zf, scan.zf) {
                (Some(_), Some(_)) => return Err(fail(RockRidgeError::DuplicateZf)),
                (None, found) => zf = found,
                (Some(_), None) => {}
            }
        }
        Ok(zf)
    }

    /// Turns hadris's extents into checked byte ranges: inside the image, total no larger
    /// than the image, no two overlapping.
    fn check_extents(&self, path: &str, raw: &RawEntry) -> Result<(u64, Vec<Extent>), IsoError> {
        let raw_extents: Vec<(u64, u64)> = raw
            .extents()
            .map(|e| (e.sector.0 as u64, u64::from(e.length)))
            .collect();
        let size: u64 = raw_extents.iter().map(|&(_, len)| len).sum();
        if size > self.image_size {
            return Err(IsoError::SizeLargerThanImage {
                path: path.to_owned(),
                size,
                image_size: self.image_size,
            });
        }
        let mut extents = Vec::with_capacity(raw_extents.len());
        for &(lba, len) in &raw_extents {
            if len == 0 {
                continue;
            }
            let offset = lba * SECTOR_SIZE;
            if offset + len > self.image_size {
                return Err(IsoError::ExtentPastEnd {
                    path: path.to_owned(),
                    lba,
                    len,
                    image_size: self.image_size,
                });
            }
            extents.push(Extent { offset, len });
        }
        let mut sorted = extents.clone();
        sorted.sort_by_key(|e| e.offset);
        if let Some(w) = sorted.windows(2).find(|w| w[0].end() > w[1].offset) {
            return Err(IsoError::OverlappingExtents {
                path: path.to_owned(),
                first: w[0].offset / SECTOR_SIZE,
                second: w[1].offset / SECTOR_SIZE,
            });
        }
        Ok((size, extents))
    }
}

impl<S: ReadAt> IsoImage for Iso<S> {
    fn list(&self, dir: &str) -> Result<Vec<DirEntry>, IsoError> {
        let components = self.components(dir)?;
        let (loc, path) = self.walk_dirs(&components, dir)?;
        Ok(self
            .read_dir(loc, &path)?
            .into_iter()
            .map(|n| n.entry)
            .collect())
    }

    fn lookup(&self, path: &str) -> Result<IsoFile, IsoError> {
        let components = self.components(path)?;
        let Some((last, parents)) = components.split_last() else {
            return Err(IsoError::NotARegularFile {
                path: "/".into(),
                kind: EntryKind::Directory.as_str(),
            });
        };
        let (loc, dir) = self.walk_dirs(parents, path)?;
        let node = self.find_in(loc, &dir, last)?;
        let full = join(&dir, &node.entry.name);
        Self::regular_file(node, full)
    }

    fn resolve(&self, pattern: &str) -> Result<IsoFile, IsoError> {
        let components = self.components(pattern)?;
        let Some((last, parents)) = components.split_last() else {
            return self.lookup(pattern);
        };
        if !components.iter().any(|component| has_glob_meta(component)) {
            return self.lookup(pattern);
        }
        let glob = GlobBuilder::new(last)
            .literal_separator(true)
            .build()
            .map_err(|source| IsoError::Pattern {
                pattern: pattern.to_owned(),
                source,
            })?
            .compile_matcher();
        let (loc, dir) = self.walk_components(parents, pattern, true)?;
        let (files, others): (Vec<Node>, Vec<Node>) = self
            .read_dir(loc, &dir)?
            .into_iter()
            .filter(|n| glob.is_match(&n.entry.name))
            .partition(|n| n.entry.kind == EntryKind::File);
        let mut files = files;
        match files.len() {
            1 => {
                let node = files.pop().expect("one match");
                let path = join(&dir, &node.entry.name);
                Self::regular_file(node, path)
            }
            0 => Err(IsoError::NoMatch {
                pattern: pattern.to_owned(),
                others: others
                    .iter()
                    .map(|n| format!("{} ({})", join(&dir, &n.entry.name), n.entry.kind.as_str()))
                    .collect(),
            }),
            _ => Err(IsoError::Ambiguous {
                pattern: pattern.to_owned(),
                matches: files.iter().map(|n| join(&dir, &n.entry.name)).collect(),
            }),
        }
    }
}

/// The directory roots the volume descriptors declare, after checking them.
struct Volumes {
    primary: DirLoc,
    joliet: Option<DirLoc>,
}

/// Reads and checks the volume descriptor set before hadris-iso sees the image: every
/// location and size hadris will trust when opening (root directories, path table,
/// volume size) must lie inside the image and under the limits.
fn preflight<S: ReadAt + ?Sized>(
    source: &S,
    image_size: u64,
    limits: &Limits,
) -> Result<Volumes, IsoError> {
    let mut primary = None;
    let mut joliet = None;
    let mut terminated = false;
    let mut sector = vec![0u8; SECTOR_SIZE as usize];
    for index in FIRST_DESCRIPTOR_SECTOR..FIRST_DESCRIPTOR_SECTOR + MAX_DESCRIPTORS {
        let offset = index * SECTOR_SIZE;
        if offset + SECTOR_SIZE > image_size {
            return Err(IsoError::NotIso {
                sector: index,
                reason: format!(
                    "the {image_size}-byte image ends before the volume descriptor set does"
                ),
            });
        }
        source
            .read_exact_at(&mut sector, offset)
            .map_err(|source| IsoError::Read {
                path: "/".into(),
                offset,
                len: SECTOR_SIZE,
                source,
            })?;
        let descriptor = vd::parse(&sector).map_err(|e| IsoError::NotIso {
            sector: index,
            reason: e.to_string(),
        })?;
        match descriptor {
            Descriptor::Primary(volume) if primary.is_none() => {
                primary = Some(check_volume(&volume, index, image_size, limits, true)?);
            }
            Descriptor::Supplementary {
                volume,
                joliet: true,
            } if joliet.is_none() => {
                joliet = Some(check_volume(&volume, index, image_size, limits, false)?);
            }
            Descriptor::Terminator => {
                terminated = true;
                break;
            }
            _ => {}
        }
    }
    if !terminated {
        return Err(IsoError::NotIso {
            sector: FIRST_DESCRIPTOR_SECTOR + MAX_DESCRIPTORS,
            reason: format!("no set terminator within {MAX_DESCRIPTORS} descriptors"),
        });
    }
    let Some(primary) = primary else {
        return Err(IsoError::NotIso {
            sector: FIRST_DESCRIPTOR_SECTOR,
            reason: "no primary volume descriptor".into(),
        });
    };
    Ok(Volumes { primary, joliet })
}

/// Checks one primary/supplementary descriptor (for the primary also the declared volume
/// size and the path table, which hadris-iso reads whole); returns its root.
fn check_volume(
    volume: &Volume,
    sector: u64,
    image_size: u64,
    limits: &Limits,
    primary: bool,
) -> Result<DirLoc, IsoError> {
    if u64::from(volume.block_size) != SECTOR_SIZE {
        return Err(IsoError::NotIso {
            sector,
            reason: format!(
                "logical block size {} (only 2048 is supported)",
                volume.block_size
            ),
        });
    }
    let declared = u64::from(volume.volume_blocks) * SECTOR_SIZE;
    if primary && declared > image_size {
        // Checked first: a truncated download is the likeliest cause of everything below.
        return Err(IsoError::Truncated {
            declared,
            actual: image_size,
        });
    }
    let root = DirLoc {
        lba: u64::from(volume.root.lba),
        len: u64::from(volume.root.len),
    };
    if root.len == 0 {
        return Err(IsoError::NotIso {
            sector,
            reason: "the root directory is empty".into(),
        });
    }
    if root.lba * SECTOR_SIZE + root.len > image_size {
        return Err(IsoError::ExtentPastEnd {
            path: "/".into(),
            lba: root.lba,
            len: root.len,
            image_size,
        });
    }
    if root.len > limits.max_dir_bytes {
        return Err(IsoError::TooMany {
            path: "/".into(),
            what: "bytes",
            max: limits.max_dir_bytes,
        });
    }
    if primary {
        // hadris-iso reads the whole path table when it opens the image.
        let size = u64::from(volume.path_table_size);
        if size > limits.max_path_table_bytes {
            return Err(IsoError::NotIso {
                sector,
                reason: format!(
                    "path table of {size} bytes exceeds the limit of {}",
                    limits.max_path_table_bytes
                ),
            });
        }
        for lba in [volume.path_table_l, volume.path_table_m] {
            let lba = u64::from(lba);
            if lba * SECTOR_SIZE + size > image_size {
                return Err(IsoError::ExtentPastEnd {
                    path: "(path table)".into(),
                    lba,
                    len: size,
                    image_size,
                });
            }
        }
    }
    Ok(root)
}
