//! Property tests: random trees split over random members with random codecs and padding
//! round-trip through write -> open with exact segment boundaries, entries and contents.

use std::collections::BTreeMap;

use proptest::prelude::*;
use repack_initrd::{Codec, EntryKind, Overlay, SegmentKind};

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

fn member(last: bool) -> impl Strategy<Value = Member> {
    let codecs = if last {
        Codec::ALL.to_vec()
    } else {
        vec![Codec::None, Codec::Gzip, Codec::Zstd, Codec::Xz]
    };
    (
        prop::sample::select(codecs),
        0usize..40,
        prop::collection::vec((0usize..64, any::<u8>()), 0..8),
    )
        .prop_map(|(codec, pad, picks)| Member { codec, pad, picks })
}

fn members() -> impl Strategy<Value = Vec<Member>> {
    (0usize..4).prop_flat_map(|n| {
        (prop::collection::vec(member(false), n), member(true)).prop_map(|(mut v, last)| {
            v.push(last);
            v
        })
    })
}

/// An image made of `members`, each carrying some leaves of `tree`, and what it should hold.
struct Built {
    img: Image,
    archives: Vec<Vec<u8>>,
    expected_files: BTreeMap<String, Vec<u8>>,
    expected_links: BTreeMap<String, String>,
}

fn build(tree: BTreeMap<String, Node>, members: &[Member]) -> Built {
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
        members in members(),
    ) {
        let Built { img, archives, expected_files, expected_links } = build(tree, &members);
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
        members in members(),
        trailing_zeros in prop::sample::select(vec![0usize, 3, 4, 512, 4096]),
        codec in prop::sample::select(Codec::ALL.to_vec()),
        hook_path in prop::sample::select(vec!["a/x.sh", "etc/b", "bin/a", "new/dir/hook"]),
    ) {
        let Built { mut img, .. } = build(tree, &members);
        img.pad(trailing_zeros);
        let base = img.open();
        let hook = Overlay::new().file(hook_path, 0o755, b"#!/bin/sh\necho hi\n".to_vec());
        let appendix = match base.appendix(&hook, codec) {
            Ok(a) => a,
            // Refusals (a legacy-lz4 base, an overlay the base forbids) are tested elsewhere.
            Err(_) => return Ok(()),
        };
        let walked_on = base.patched(&appendix).expect("patched");
        let mut bytes = img.bytes.clone();
        bytes.extend_from_slice(appendix.bytes());
        let from_start = repack_initrd::Initrd::from_bytes(bytes, repack_initrd::Limits::small()).unwrap();
        prop_assert_eq!(walked_on.len(), from_start.len());
        prop_assert_eq!(walked_on.segments(), from_start.segments());
        prop_assert_eq!(walked_on.entries().unwrap(), from_start.entries().unwrap());
        prop_assert_eq!(walked_on.tree(), from_start.tree());
        prop_assert_eq!(walked_on.lint(), from_start.lint());
        prop_assert_eq!(
            walked_on.read_file(hook_path).unwrap(),
            Some(b"#!/bin/sh\necho hi\n".to_vec())
        );
    }
}
