//! Property tests: random trees split over random members with random codecs and padding
//! round-trip through write -> open with exact segment boundaries, entries and contents.
//!
//! The append properties only generate what they mean to test: the roundtrip ones build
//! bases and hooks that `appendix` must accept (so every case checks the roundtrip), and the
//! refusal one builds each refused shape on purpose and checks the exact error, that the base
//! really has that shape, and that nothing is written.

use std::collections::BTreeMap;

use proptest::prelude::*;
use repack_initrd::{Codec, EntryKind, Error, Initrd, Limits, Overlay, SegmentKind};

use crate::support::{Image, walk_newc};

#[derive(Debug, Clone)]
enum Node {
    File(Vec<u8>),
    Symlink(String),
}

fn path() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec!["a", "b", "etc", "bin", "x.sh", "lib"]),
        1..=3,
    )
    .prop_map(|c| c.join("/"))
}

fn node() -> impl Strategy<Value = Node> {
    prop_oneof![
        4 => prop::collection::vec(any::<u8>(), 0..3000).prop_map(Node::File),
        1 => "[a-z/]{1,12}".prop_map(Node::Symlink),
    ]
}

/// Paths that are no other path's ancestor (so every path is a leaf).
fn leaves(mut tree: BTreeMap<String, Node>) -> BTreeMap<String, Node> {
    let keys: Vec<String> = tree.keys().cloned().collect();
    for k in &keys {
        if keys.iter().any(|o| o.starts_with(&format!("{k}/"))) {
            tree.remove(k);
        }
    }
    tree
}

#[derive(Debug, Clone)]
struct Member {
    codec: Codec,
    pad: usize,
    /// Which leaves this member carries (by index), each with its own file content seed.
    picks: Vec<(usize, u8)>,
}

/// Codecs a member can have when another one follows it (legacy lz4 has no end marker).
const NOT_LAST: [Codec; 4] = [Codec::None, Codec::Gzip, Codec::Zstd, Codec::Xz];

fn member(codecs: Vec<Codec>) -> impl Strategy<Value = Member> {
    (
        prop::sample::select(codecs),
        0usize..40,
        prop::collection::vec((0usize..64, any::<u8>()), 0..8),
    )
        .prop_map(|(codec, pad, picks)| Member { codec, pad, picks })
}

/// One to four members; the last one's codec is one of `last`.
fn members(last: Vec<Codec>) -> impl Strategy<Value = Vec<Member>> {
    (0usize..4).prop_flat_map(move |n| {
        (
            prop::collection::vec(member(NOT_LAST.to_vec()), n),
            member(last.clone()),
        )
            .prop_map(|(mut v, last)| {
                v.push(last);
                v
            })
    })
}

/// The file the refusal property puts in one member, in a namespace of its own.
const ANCHOR: &str = "anchor/dir/file";

/// An image made of `members`, each carrying some leaves of `tree`, and what it should hold.
struct Built {
    img: Image,
    archives: Vec<Vec<u8>>,
    expected_files: BTreeMap<String, Vec<u8>>,
    expected_links: BTreeMap<String, String>,
}

/// Builds the image; member `anchor` (if any) also carries the file [`ANCHOR`].
fn build(tree: BTreeMap<String, Node>, members: &[Member], anchor: Option<usize>) -> Built {
    let tree = leaves(tree);
    let leaves: Vec<(&String, &Node)> = tree.iter().collect();
    let mut img = Image::new();
    let mut expected_files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut expected_links: BTreeMap<String, String> = BTreeMap::new();
    let mut archives = Vec::new();
    for (i, m) in members.iter().enumerate() {
        let mut o = Overlay::new().mtime(1_700_000_000);
        let mut seen = std::collections::BTreeSet::new();
        for &(pick, seed) in &m.picks {
            let (p, n) = leaves[pick % leaves.len()];
            if !seen.insert(p.clone()) {
                continue;
            }
            match n {
                Node::File(data) => {
                    let mut d = data.clone();
                    d.push(seed);
                    o = o.file(p, 0o644, d.clone());
                    expected_files.insert(p.clone(), d);
                }
                Node::Symlink(t) => {
                    o = o.symlink(p, t);
                    expected_links.insert(p.clone(), t.clone());
                }
            }
        }
        if anchor == Some(i) {
            o = o.file(ANCHOR, 0o644, b"anchor".to_vec());
            expected_files.insert(ANCHOR.to_string(), b"anchor".to_vec());
        }
        let archive = o.to_newc().expect("overlay");
        if m.codec == Codec::None || i == 0 {
            img.align(4);
        }
        img.member(m.codec, &archive);
        if i + 1 < members.len() {
            // After an uncompressed member the kernel insists on 4-aligned padding
            // ("broken padding" otherwise; the lint_rules tests cover that).
            img.pad(if m.codec == Codec::None {
                m.pad & !3
            } else {
                m.pad
            });
        }
        archives.push(archive);
    }
    Built {
        img,
        archives,
        expected_files,
        expected_links,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    #[test]
    fn random_images_split_exactly_and_read_back(
        tree in prop::collection::btree_map(path(), node(), 1..12),
        members in members(Codec::ALL.to_vec()),
    ) {
        let Built { img, archives, expected_files, expected_links } = build(tree, &members, None);
        let initrd = img.open();
        prop_assert!(initrd.fault().is_none(), "fault: {:?}", initrd.fault());
        let got: Vec<(u64, u64, SegmentKind)> = initrd.segments().iter().map(|s| (s.offset, s.len, s.kind)).collect();
        prop_assert_eq!(&got, &img.layout);

        // Entries of every member, in order, as an independent walker reads our archives.
        let entries = initrd.entries().expect("entries");
        let members_segs: Vec<usize> = initrd.segments().iter().filter(|s| s.kind != SegmentKind::Padding).map(|s| s.index).collect();
        prop_assert_eq!(members_segs.len(), archives.len());
        for (seg, archive) in members_segs.iter().zip(&archives) {
            let ours: Vec<(String, u32)> = entries.iter().filter(|e| e.segment == *seg).map(|e| (e.name.clone(), e.mode)).collect();
            let theirs: Vec<(String, u32)> = walk_newc(archive).into_iter().map(|(n, m, _)| (n, m)).collect();
            prop_assert_eq!(ours, theirs);
        }

        // Later members win.
        for (p, data) in &expected_files {
            prop_assert_eq!(initrd.read_file(p).expect("read"), Some(data.clone()), "{}", p);
        }
        let tree = initrd.tree();
        for (p, t) in &expected_links {
            let e = tree.iter().find(|e| &e.path == p).expect("symlink in tree");
            prop_assert_eq!(e.kind, EntryKind::Symlink);
            prop_assert_eq!(e.symlink_target.as_deref(), Some(t.as_str()));
        }
        let report = initrd.lint();
        prop_assert!(report.is_clean(), "{:?}", report.findings);
    }

    #[test]
    fn append_keeps_the_base_and_is_found_again(
        tree in prop::collection::btree_map(path(), node(), 1..6),
        codec in prop::sample::select(Codec::ALL.to_vec()),
        base_codec in prop::sample::select(vec![Codec::None, Codec::Gzip, Codec::Zstd, Codec::Xz]),
    ) {
        let tree = leaves(tree);
        let mut o = Overlay::new();
        for (p, n) in &tree {
            o = match n {
                Node::File(d) => o.file(p, 0o600, d.clone()),
                Node::Symlink(t) => o.symlink(p, t),
            };
        }
        let mut img = Image::new();
        img.member(base_codec, &o.to_newc().unwrap());
        let base = img.open();
        let hook = Overlay::new().file("repack/live/9999-repack.sh", 0o755, b"#!/bin/sh\necho hi\n".to_vec());
        let mut out = Vec::new();
        let report = base.append(&hook, codec, &mut out).expect("append");
        prop_assert_eq!(&out[..img.bytes.len()], &img.bytes[..]);
        prop_assert_eq!(report.overlay_offset % 4096, 0);
        prop_assert_eq!(report.total_len as usize, out.len());
        let patched = repack_initrd::Initrd::from_bytes(out, repack_initrd::Limits::small()).unwrap();
        let last = patched.segments().last().unwrap();
        prop_assert_eq!(last.offset, report.overlay_offset);
        prop_assert_eq!(last.len, report.overlay_len);
        prop_assert_eq!(
            patched.read_file("repack/live/9999-repack.sh").unwrap(),
            Some(b"#!/bin/sh\necho hi\n".to_vec())
        );
        prop_assert!(patched.lint().is_clean(), "{:?}", patched.lint().findings);
    }

    #[test]
    fn the_patched_image_parses_the_same_walked_on_or_from_the_start(
        tree in prop::collection::btree_map(path(), node(), 1..10),
        members in members(NOT_LAST.to_vec()),
        trailing_zeros in prop::sample::select(vec![0usize, 3, 4, 512, 4096]),
        codec in prop::sample::select(Codec::ALL.to_vec()),
        spot in any::<prop::sample::Index>(),
    ) {
        let Built { mut img, expected_files, expected_links, .. } = build(tree, &members, None);
        img.pad(trailing_zeros);
        let base = img.open();
        let (hook_path, existing_dirs) = hook_spot(&expected_files, &expected_links, spot);
        let hook_data = b"#!/bin/sh\necho hi\n".to_vec();
        let hook = Overlay::new().file(&hook_path, 0o755, hook_data.clone());
        // The base ends cleanly with a member that can be followed, and the hook replaces
        // no directory and goes under none of the base's files: appendix has no reason to
        // refuse (the refusals have their own property below).
        let appendix = base.appendix(&hook, codec).expect("a hook the base accepts");
        prop_assert_eq!(&appendix.report().adaptation.existing_dirs, &existing_dirs);
        prop_assert!(appendix.report().adaptation.unlinked_hardlinks.is_empty());
        let walked_on = base.patched(&appendix).expect("patched");
        let mut bytes = img.bytes.clone();
        bytes.extend_from_slice(appendix.bytes());
        let from_start = Initrd::from_bytes(bytes, Limits::small()).unwrap();
        prop_assert_eq!(walked_on.len(), from_start.len());
        prop_assert_eq!(walked_on.segments(), from_start.segments());
        prop_assert_eq!(walked_on.entries().unwrap(), from_start.entries().unwrap());
        prop_assert_eq!(walked_on.tree(), from_start.tree());
        prop_assert_eq!(walked_on.unpacked_size(), from_start.unpacked_size());
        prop_assert_eq!(walked_on.lint(), from_start.lint());
        prop_assert!(from_start.lint().is_clean(), "{:?}", from_start.lint().findings);
        prop_assert_eq!(walked_on.read_file(&hook_path).unwrap(), Some(hook_data.clone()));
        prop_assert_eq!(from_start.read_file(&hook_path).unwrap(), Some(hook_data));
        // Everything else the base held is still there.
        for (p, data) in expected_files.iter().filter(|(p, _)| **p != hook_path) {
            prop_assert_eq!(from_start.read_file(p).unwrap(), Some(data.clone()), "{}", p);
        }
        let tree = from_start.tree();
        for (p, target) in expected_links.iter().filter(|(p, _)| **p != hook_path) {
            let e = tree.iter().find(|e| &e.path == p).expect("symlink in tree");
            prop_assert_eq!(e.kind, EntryKind::Symlink);
            prop_assert_eq!(e.symlink_target.as_deref(), Some(target.as_str()));
        }
    }

    #[test]
    fn appendix_refuses_exactly_what_the_kernel_would_mishandle(
        tree in prop::collection::btree_map(path(), node(), 1..8),
        members in members(NOT_LAST.to_vec()),
        anchor in any::<prop::sample::Index>(),
        refusal in prop::sample::select(Refusal::ALL.to_vec()),
        invalid in prop::sample::select(vec!["../x", "/etc/x", "a//b", "a/./b", "x/", "", "TRAILER!!!"]),
        codec in prop::sample::select(Codec::ALL.to_vec()),
    ) {
        let mut members = members;
        if refusal == Refusal::Lz4LegacyBase {
            members.last_mut().expect("one member at least").codec = Codec::Lz4Legacy;
        }
        let anchor = anchor.index(members.len());
        let Built { img, .. } = build(tree, &members, Some(anchor));
        let base = img.open();
        prop_assert!(base.fault().is_none(), "{:?}", base.fault());
        let member_segments: Vec<&repack_initrd::Segment> =
            base.segments().iter().filter(|s| s.kind != SegmentKind::Padding).collect();
        let anchor_segment = member_segments[anchor].index;
        let last = member_segments.last().expect("a member");
        let hook = match refusal {
            Refusal::Lz4LegacyBase => Overlay::new().file("new/hook", 0o755, b"x".to_vec()),
            Refusal::ParentIsAFile => Overlay::new().file(&format!("{ANCHOR}/hook"), 0o755, b"x".to_vec()),
            Refusal::DirOverAFile => Overlay::new().dir(ANCHOR, 0o755),
            Refusal::FileOverANonEmptyDir => Overlay::new().file("anchor/dir", 0o644, b"x".to_vec()),
            Refusal::InvalidPath => Overlay::new().file(invalid, 0o644, b"x".to_vec()),
        };
        let err = base.appendix(&hook, codec).expect_err("a refused hook");
        match (refusal, &err) {
            (Refusal::Lz4LegacyBase, Error::Lz4LegacyBase { segment, offset }) => {
                prop_assert!(base.ends_with_lz4_legacy());
                prop_assert_eq!((*segment, *offset), (last.index, last.offset));
            }
            (Refusal::ParentIsAFile | Refusal::DirOverAFile, Error::WouldReplace { path, what, segment }) => {
                prop_assert_eq!(base.read_file(ANCHOR).unwrap(), Some(b"anchor".to_vec()), "the base has a file there");
                prop_assert_eq!(path.as_str(), ANCHOR);
                prop_assert!(what.contains("a non-directory"), "{}", what);
                prop_assert_eq!(*segment, anchor_segment);
            }
            (Refusal::FileOverANonEmptyDir, Error::WouldReplace { path, what, segment }) => {
                let tree = base.tree();
                let dir = tree.iter().find(|t| t.path == "anchor/dir").expect("the base has the directory");
                prop_assert_eq!(dir.kind, EntryKind::Dir);
                prop_assert!(tree.iter().any(|t| t.path.starts_with("anchor/dir/")), "and it is not empty");
                prop_assert_eq!(path.as_str(), "anchor/dir");
                prop_assert!(what.contains("a non-empty directory"), "{}", what);
                prop_assert_eq!(*segment, anchor_segment);
            }
            (Refusal::InvalidPath, Error::InvalidOverlay { path, .. }) => {
                prop_assert_eq!(path.as_str(), invalid);
            }
            (_, other) => prop_assert!(false, "{:?}: unexpected refusal {:?}", refusal, other),
        }
        // `append` refuses the same way and writes nothing.
        let mut out = Vec::new();
        let again = base.append(&hook, codec, &mut out).expect_err("refused again");
        prop_assert_eq!(again.kind(), err.kind());
        prop_assert!(out.is_empty());
    }
}

/// The ways [`Initrd::appendix`] must refuse, each with the rule it enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// The base ends with legacy lz4, which has no end marker.
    Lz4LegacyBase,
    /// The hook goes under a regular file of the base (a directory entry would replace it).
    ParentIsAFile,
    /// The hook is a directory at the path of a regular file of the base.
    DirOverAFile,
    /// The hook is a file at the path of a non-empty directory (the kernel drops it).
    FileOverANonEmptyDir,
    /// The hook's own path is invalid (escaping, empty component, trailer name...).
    InvalidPath,
}

impl Refusal {
    const ALL: [Refusal; 5] = [
        Refusal::Lz4LegacyBase,
        Refusal::ParentIsAFile,
        Refusal::DirOverAFile,
        Refusal::FileOverANonEmptyDir,
        Refusal::InvalidPath,
    ];
}

/// A path for a hook file that the base built from these files and symlinks accepts, picked
/// by `spot` among: under new directories, a new name in each directory of the base, over
/// each file (replaced) and over each symlink (unlinked by the kernel first). Returns it with
/// the directories the overlay must find in the base (and so not emit).
fn hook_spot(
    files: &BTreeMap<String, Vec<u8>>,
    links: &BTreeMap<String, String>,
    spot: prop::sample::Index,
) -> (String, Vec<String>) {
    let ancestors = |p: &str| -> Vec<String> {
        p.match_indices('/')
            .map(|(i, _)| p[..i].to_string())
            .collect()
    };
    let mut dirs = std::collections::BTreeSet::new();
    for p in files.keys().chain(links.keys()) {
        dirs.extend(ancestors(p));
    }
    let mut spots = vec!["new/dir/hook".to_string()];
    spots.extend(dirs.iter().map(|d| format!("{d}/repack-hook")));
    spots.extend(files.keys().cloned());
    spots.extend(links.keys().cloned());
    let path = spot.get(&spots).clone();
    let existing = if path == "new/dir/hook" {
        Vec::new()
    } else {
        ancestors(&path)
    };
    (path, existing)
}
