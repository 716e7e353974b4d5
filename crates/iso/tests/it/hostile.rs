//! Hostile images (issues 8 and 14): each is a real xorriso image with a few bytes patched,
//! named after its attack, and must be refused with its own error: never a panic, never a
//! hang, never a file that reads bytes it should not. The `iso-zisofs-*` attacks patch a
//! file xorriso compressed (Rock Ridge `ZF`): its pointer table, header, `ZF` entry or a
//! block.
//!
//! `corpus` replays the committed fuzz seeds (one per attack image) through [`run`] and
//! [`assert_refused`], so a seed that stopped carrying its attack fails too.

use std::io::Read;
use std::path::Path;
use std::sync::OnceLock;

use repack_iso::{Iso, IsoError, IsoImage, Limits, ReadAt};

use crate::support::{
    Item, SECTOR, iso, put_both32, record, record_lba, record_len, root_lba, set_record_lba,
    set_record_len, set_rr_name, set_zisofs_block_log2, set_zisofs_pointer, set_zisofs_size,
    susp_field, zisofs_iso, zisofs_pointer, zisofs_start,
};

/// What to do with a hostile image to trigger its error.
#[derive(Clone, Copy, Debug)]
pub enum Probe {
    Open,
    Lookup(&'static str),
    Walk,
    /// Look the file up and read it whole and streamed; both must fail the same way.
    Read(&'static str),
}

pub struct Attack {
    pub name: &'static str,
    pub image: Vec<u8>,
    pub limits: Limits,
    pub probe: Probe,
    /// Expected `IsoError::kind()`.
    pub expect: &'static str,
    /// Text the message or one of its causes must contain (the path or the reason).
    pub mentions: &'static str,
}

/// The unpatched base image: a few files whose records the attacks patch.
fn base() -> &'static [u8] {
    static BASE: OnceLock<Vec<u8>> = OnceLock::new();
    BASE.get_or_init(|| {
        iso(
            &[
                Item::File("victim.txt", b"victim contents"),
                Item::File("dir/inner.txt", b"inner"),
                Item::File("dir/sub/x.txt", b"x"),
                Item::File("m1", &[b'A'; 2048]),
                Item::File("m2", &[b'B'; 1000]),
                Item::File("y", b"1"),
                Item::File("yy", b"2"),
                Item::File("yyy", b"3"),
                Item::File("dupa", b"a"),
                Item::File("dupb", b"b"),
                Item::Symlink("link", "../../etc/passwd"),
            ],
            &[],
        )
        .bytes()
    })
}

fn patched(patch: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut image = base().to_vec();
    patch(&mut image);
    image
}

/// Turns `m1` + `m2` into one two-extent file `m1` (same identifier, NOT_FINAL on the first).
fn chain_m1_m2(image: &mut [u8]) -> (usize, usize) {
    let m1 = record(image, "M1.;1");
    let m2 = record(image, "M2.;1");
    image[m1 + 25] |= 0x80;
    image[m2 + 33..m2 + 38].copy_from_slice(b"M1.;1");
    (m1, m2)
}

/// The base of the `iso-zisofs-*` attacks: `big.bin` compressed by xorriso in two 64 KiB
/// blocks (3 pointers), next to a plain file.
fn zisofs_base() -> &'static [u8] {
    static BASE: OnceLock<Vec<u8>> = OnceLock::new();
    BASE.get_or_init(|| {
        let big: Vec<u8> = b"zisofs attack "
            .iter()
            .cycle()
            .take(BIG_SIZE as usize)
            .copied()
            .collect();
        zisofs_iso(
            &[
                Item::File("big.bin", &big),
                Item::File("plain.txt", b"plain"),
            ],
            "block_size=64k",
        )
        .bytes()
    })
}

fn zisofs_patched(patch: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut image = zisofs_base().to_vec();
    patch(&mut image);
    image
}

/// The ISO 9660 identifier xorriso gives `big.bin`.
const BIG: &str = "BIG.BIN;1";
/// Size of `big.bin`.
const BIG_SIZE: u32 = 100_000;

pub fn attacks() -> Vec<Attack> {
    let image_blocks = (base().len() / SECTOR) as u32;
    let default = Limits::default;
    let attack = |name, image, probe, expect, mentions| Attack {
        name,
        image,
        limits: default(),
        probe,
        expect,
        mentions,
    };
    vec![
        attack(
            "iso-extent-past-end",
            patched(|i| {
                let r = record(i, "VICTIM.TXT;1");
                set_record_lba(i, r, image_blocks + 10);
            }),
            Probe::Lookup("/victim.txt"),
            "iso-extent-past-end",
            "/victim.txt",
        ),
        attack(
            "iso-size-larger-than-image",
            patched(|i| {
                let r = record(i, "VICTIM.TXT;1");
                set_record_len(i, r, 0xFFFF_0000);
            }),
            Probe::Lookup("/victim.txt"),
            "iso-size-larger-than-image",
            "/victim.txt",
        ),
        attack(
            "iso-directory-loop",
            patched(|i| {
                let root = root_lba(i);
                let root_len = crate::support::get32(i, 16 * SECTOR + 156 + 10);
                let sub = record(i, "SUB");
                set_record_lba(i, sub, root);
                set_record_len(i, sub, root_len);
            }),
            Probe::Lookup("/dir/sub/dir/sub/x.txt"),
            "iso-directory-loop",
            "/dir/sub",
        ),
        attack(
            "iso-directory-loop-walk",
            patched(|i| {
                let root = root_lba(i);
                let root_len = crate::support::get32(i, 16 * SECTOR + 156 + 10);
                let sub = record(i, "SUB");
                set_record_lba(i, sub, root);
                set_record_len(i, sub, root_len);
            }),
            Probe::Walk,
            "iso-directory-loop",
            "/dir/sub",
        ),
        attack(
            "iso-directory-self-loop",
            patched(|i| {
                let dir = record(i, "DIR");
                let (lba, len) = (record_lba(i, dir), record_len(i, dir));
                let sub = record(i, "SUB");
                set_record_lba(i, sub, lba);
                set_record_len(i, sub, len);
            }),
            Probe::Lookup("/dir/sub/x.txt"),
            "iso-directory-loop",
            "/dir/sub",
        ),
        attack(
            "iso-multi-extent-overlap",
            patched(|i| {
                let (m1, m2) = chain_m1_m2(i);
                let lba = record_lba(i, m1);
                set_record_lba(i, m2, lba);
            }),
            Probe::Lookup("/m1"),
            "iso-overlapping-extents",
            "/m1",
        ),
        attack(
            "iso-multi-extent-past-end",
            patched(|i| {
                let (_, m2) = chain_m1_m2(i);
                set_record_lba(i, m2, image_blocks);
            }),
            Probe::Lookup("/m1"),
            "iso-extent-past-end",
            "/m1",
        ),
        attack(
            "iso-rr-name-dot",
            patched(|i| {
                let r = record(i, "Y.;1");
                set_rr_name(i, r, b".");
            }),
            Probe::Lookup("/victim.txt"),
            "iso-bad-name",
            "`.` and `..`",
        ),
        attack(
            "iso-rr-name-dot-flag",
            patched(|i| {
                let r = record(i, "Y.;1");
                let nm = susp_field(i, r, b"NM");
                i[nm + 4] = 0x02; // NM "CURRENT" flag: the name means `.`
            }),
            Probe::Lookup("/victim.txt"),
            "iso-bad-name",
            "`.` and `..`",
        ),
        attack(
            "iso-rr-name-dotdot",
            patched(|i| {
                let r = record(i, "YY.;1");
                set_rr_name(i, r, b"..");
            }),
            Probe::Lookup("/victim.txt"),
            "iso-bad-name",
            "\"..\"",
        ),
        attack(
            "iso-rr-name-slash",
            patched(|i| {
                let r = record(i, "YYY.;1");
                set_rr_name(i, r, b"a/b");
            }),
            Probe::Lookup("/victim.txt"),
            "iso-bad-name",
            "contains `/`",
        ),
        attack(
            "iso-rr-name-nul",
            patched(|i| {
                let r = record(i, "YYY.;1");
                set_rr_name(i, r, b"a\0b");
            }),
            Probe::Walk,
            "iso-bad-name",
            "contains NUL",
        ),
        attack(
            "iso-duplicate-name",
            patched(|i| {
                let r = record(i, "DUPB.;1");
                set_rr_name(i, r, b"dupa");
            }),
            Probe::Lookup("/dupa"),
            "iso-duplicate-name",
            "dupa",
        ),
        attack(
            "iso-device",
            patched(|i| {
                let r = record(i, "VICTIM.TXT;1");
                let px = susp_field(i, r, b"PX");
                put_both32(i, px + 4, 0o020644);
            }),
            Probe::Lookup("/victim.txt"),
            "iso-not-a-regular-file",
            "character device",
        ),
        attack(
            "iso-symlink-outside",
            base().to_vec(),
            Probe::Lookup("/link"),
            "iso-symlink",
            "../../etc/passwd",
        ),
        attack(
            "iso-recipe-path-directory",
            base().to_vec(),
            Probe::Lookup("/dir"),
            "iso-not-a-regular-file",
            "directory",
        ),
        attack(
            "iso-truncated",
            base()[..base().len() / 2].to_vec(),
            Probe::Open,
            "iso-truncated",
            "truncated",
        ),
        attack(
            "iso-not-iso9660",
            patched(|i| i[16 * SECTOR + 5] = b'2'),
            Probe::Open,
            "iso-not-iso9660",
            "CD001",
        ),
        attack(
            "iso-no-terminator",
            patched(|i| {
                for sector in 16..i.len() / SECTOR {
                    if i[sector * SECTOR] == 255
                        && &i[sector * SECTOR + 1..sector * SECTOR + 6] == b"CD001"
                    {
                        i[sector * SECTOR] = 3;
                    }
                }
            }),
            Probe::Open,
            "iso-not-iso9660",
            "sector",
        ),
        attack(
            "iso-path-table-huge",
            patched(|i| put_both32(i, 16 * SECTOR + 132, 0x7FFF_FFFF)),
            Probe::Open,
            "iso-not-iso9660",
            "path table",
        ),
        attack(
            "iso-root-past-end",
            patched(|i| put_both32(i, 16 * SECTOR + 156 + 2, 0x00FF_FFFF)),
            Probe::Open,
            "iso-extent-past-end",
            "`/`",
        ),
        Attack {
            limits: Limits {
                max_dir_entries: 4,
                ..Limits::default()
            },
            ..attack(
                "iso-too-many-entries",
                base().to_vec(),
                Probe::Lookup("/victim.txt"),
                "iso-too-many",
                "4 entries",
            )
        },
        Attack {
            limits: Limits {
                max_dir_bytes: 1024,
                ..Limits::default()
            },
            ..attack(
                "iso-directory-too-large",
                base().to_vec(),
                Probe::Open,
                "iso-too-many",
                "bytes",
            )
        },
        attack(
            "iso-deep-directory",
            deep_image(),
            Probe::Walk,
            "iso-too-deep",
            "limit is 64",
        ),
        attack(
            "iso-zisofs-pointer-past-end",
            zisofs_patched(|i| {
                let last = zisofs_pointer(i, 2);
                set_zisofs_pointer(i, 2, last + 4096);
            }),
            Probe::Read("/big.bin"),
            "iso-zisofs-pointer-past-end",
            "block 1 ends at byte",
        ),
        attack(
            "iso-zisofs-pointers-backwards",
            zisofs_patched(|i| {
                let first = zisofs_pointer(i, 0);
                set_zisofs_pointer(i, 1, first - 1);
            }),
            Probe::Read("/big.bin"),
            "iso-zisofs-pointers-backwards",
            "block 0 ends at byte",
        ),
        attack(
            "iso-zisofs-first-pointer",
            zisofs_patched(|i| set_zisofs_pointer(i, 0, 0)),
            Probe::Read("/big.bin"),
            "iso-zisofs-first-pointer",
            "block 0 starts at byte 0",
        ),
        attack(
            // Two 64 KiB blocks relabelled as 32 KiB ones of a 64 KiB file: same table, but
            // block 0 now inflates to twice its size.
            "iso-zisofs-block-overflow",
            zisofs_patched(|i| {
                set_zisofs_block_log2(i, BIG, 15);
                set_zisofs_size(i, BIG, 65_536, true);
            }),
            Probe::Read("/big.bin"),
            "iso-zisofs-block-overflow",
            "block 0",
        ),
        attack(
            "iso-zisofs-size-lie",
            zisofs_patched(|i| set_zisofs_size(i, BIG, BIG_SIZE + 1, false)),
            Probe::Read("/big.bin"),
            "iso-zisofs-header-mismatch",
            "uncompressed size",
        ),
        attack(
            // The header agrees, one block more: the table would be one pointer longer.
            "iso-zisofs-size-lie-larger",
            zisofs_patched(|i| set_zisofs_size(i, BIG, BIG_SIZE + 65_536, true)),
            Probe::Read("/big.bin"),
            "iso-zisofs-first-pointer",
            "pointer table",
        ),
        attack(
            // Same number of blocks: the last one inflates past the declared size.
            "iso-zisofs-size-lie-smaller",
            zisofs_patched(|i| set_zisofs_size(i, BIG, BIG_SIZE - 1, true)),
            Probe::Read("/big.bin"),
            "iso-zisofs-block-overflow",
            "block 1",
        ),
        attack(
            "iso-zisofs-size-huge",
            zisofs_patched(|i| set_zisofs_size(i, BIG, u32::MAX, true)),
            Probe::Read("/big.bin"),
            "iso-zisofs-table-truncated",
            "pointer table",
        ),
        attack(
            "iso-zisofs-bad-magic",
            zisofs_patched(|i| {
                let at = zisofs_start(i);
                i[at] ^= 0xFF;
            }),
            Probe::Read("/big.bin"),
            "iso-zisofs-bad-magic",
            "/big.bin",
        ),
        attack(
            "iso-zisofs-corrupt-block",
            zisofs_patched(|i| {
                // The second byte of block 1's zlib header: its check bits now fail.
                let at = zisofs_start(i) + zisofs_pointer(i, 1) as usize + 1;
                i[at] ^= 0x01;
            }),
            Probe::Read("/big.bin"),
            "iso-zisofs-inflate",
            "block 1",
        ),
        attack(
            "iso-zisofs-block-size",
            zisofs_patched(|i| set_zisofs_block_log2(i, BIG, 20)),
            Probe::Read("/big.bin"),
            "iso-zisofs-unsupported",
            "2^20",
        ),
        attack(
            "iso-zisofs-unknown-algorithm",
            zisofs_patched(|i| {
                let zf = susp_field(i, record(i, BIG), b"ZF");
                i[zf + 4..zf + 6].copy_from_slice(b"xz");
            }),
            Probe::Read("/big.bin"),
            "iso-zisofs-unsupported",
            "`xz`",
        ),
        attack(
            "iso-zisofs-bad-zf-entry",
            zisofs_patched(|i| {
                let zf = susp_field(i, record(i, BIG), b"ZF");
                i[zf + 8] ^= 0xFF; // little-endian size no longer matches big-endian
            }),
            Probe::Lookup("/big.bin"),
            "iso-bad-rock-ridge",
            "byte orders disagree",
        ),
    ]
}

fn deep_image() -> Vec<u8> {
    static DEEP: OnceLock<Vec<u8>> = OnceLock::new();
    DEEP.get_or_init(|| {
        let path: String = (0..70).map(|_| "d/").collect::<String>() + "leaf";
        iso(&[Item::File(&path, b"leaf")], &[]).bytes()
    })
    .clone()
}

/// Runs `probe` on an opened (or refused) image.
fn probe_iso<S: ReadAt>(opened: Result<Iso<S>, IsoError>, probe: Probe) -> Result<(), IsoError> {
    let iso = opened?;
    match probe {
        Probe::Open => Ok(()),
        Probe::Lookup(p) => iso.lookup(p).map(drop),
        Probe::Walk => iso.walk("/", |_, _| {}),
        Probe::Read(p) => {
            let file = iso.lookup(p)?;
            let whole = iso.read(&file, 1 << 30).map(drop);
            let streamed = iso.reader(&file).and_then(|mut reader| {
                reader.read_to_end(&mut Vec::new()).map(drop).map_err(|e| {
                    *e.into_inner()
                        .expect("a read error carries the IsoError")
                        .downcast::<IsoError>()
                        .expect("a read error carries the IsoError")
                })
            });
            match (whole, streamed) {
                (Err(whole), Err(streamed)) => {
                    assert_eq!(
                        whole.kind(),
                        streamed.kind(),
                        "read_file and ExtentReader disagree about `{p}`: {whole} / {streamed}"
                    );
                    Err(whole)
                }
                (Ok(()), Ok(())) => Ok(()),
                (whole, streamed) => {
                    panic!(
                        "read_file and ExtentReader disagree about `{p}`: {whole:?} / {streamed:?}"
                    )
                }
            }
        }
    }
}

/// Runs `attack`'s probe on `image` (a whole image, system area included), in memory.
pub fn run(attack: &Attack, image: Vec<u8>) -> Result<(), IsoError> {
    probe_iso(Iso::from_source(image, attack.limits.clone()), attack.probe)
}

/// Checks that `result` is `attack`'s refusal: its error kind, and its message (or a cause)
/// mentioning what it must. `origin` says where the image came from.
pub fn assert_refused(attack: &Attack, result: Result<(), IsoError>, origin: &str) {
    let name = attack.name;
    let err = match result {
        Ok(()) => panic!("{origin} `{name}` was accepted: it no longer carries its attack"),
        Err(err) => err,
    };
    assert_eq!(err.kind(), attack.expect, "{origin} `{name}`: {err}");
    let mut message = err.to_string();
    let mut cause = std::error::Error::source(&err);
    while let Some(inner) = cause {
        message.push_str(": ");
        message.push_str(&inner.to_string());
        cause = inner.source();
    }
    assert!(
        message.contains(attack.mentions),
        "{origin} `{name}`: `{message}` does not mention `{}`",
        attack.mentions
    );
}

fn check(name: &str) {
    let attack = attacks()
        .into_iter()
        .find(|a| a.name == name)
        .expect("attack");
    // Through a file on disk, as a build opens images.
    let dir = tempfile::tempdir().unwrap();
    let path = crate::support::write_image(dir.path(), &format!("{name}.iso"), &attack.image);
    let result = probe_iso(
        Iso::open_with_limits(&path, attack.limits.clone()),
        attack.probe,
    );
    assert_refused(&attack, result, "attack");
    // And the fuzz harness survives it.
    repack_iso::fuzzing::walk(attack.image.get(16 * SECTOR..).unwrap_or_default());
}

macro_rules! hostile {
    ($($test:ident => $name:literal,)*) => {
        $(#[test] fn $test() { check($name); })*

        #[test]
        fn every_attack_has_a_test() {
            let tested = [$($name),*];
            for attack in attacks() {
                assert!(tested.contains(&attack.name), "{} has no test", attack.name);
            }
        }
    };
}

hostile! {
    iso_extent_past_end => "iso-extent-past-end",
    iso_size_larger_than_image => "iso-size-larger-than-image",
    iso_directory_loop => "iso-directory-loop",
    iso_directory_loop_walk => "iso-directory-loop-walk",
    iso_directory_self_loop => "iso-directory-self-loop",
    iso_multi_extent_overlap => "iso-multi-extent-overlap",
    iso_multi_extent_past_end => "iso-multi-extent-past-end",
    iso_rr_name_dot => "iso-rr-name-dot",
    iso_rr_name_dot_flag => "iso-rr-name-dot-flag",
    iso_rr_name_dotdot => "iso-rr-name-dotdot",
    iso_rr_name_slash => "iso-rr-name-slash",
    iso_rr_name_nul => "iso-rr-name-nul",
    iso_duplicate_name => "iso-duplicate-name",
    iso_device => "iso-device",
    iso_symlink_outside => "iso-symlink-outside",
    iso_recipe_path_directory => "iso-recipe-path-directory",
    iso_truncated => "iso-truncated",
    iso_not_iso9660 => "iso-not-iso9660",
    iso_no_terminator => "iso-no-terminator",
    iso_path_table_huge => "iso-path-table-huge",
    iso_root_past_end => "iso-root-past-end",
    iso_too_many_entries => "iso-too-many-entries",
    iso_directory_too_large => "iso-directory-too-large",
    iso_deep_directory => "iso-deep-directory",
    iso_zisofs_pointer_past_end => "iso-zisofs-pointer-past-end",
    iso_zisofs_pointers_backwards => "iso-zisofs-pointers-backwards",
    iso_zisofs_first_pointer => "iso-zisofs-first-pointer",
    iso_zisofs_block_overflow => "iso-zisofs-block-overflow",
    iso_zisofs_size_lie => "iso-zisofs-size-lie",
    iso_zisofs_size_lie_larger => "iso-zisofs-size-lie-larger",
    iso_zisofs_size_lie_smaller => "iso-zisofs-size-lie-smaller",
    iso_zisofs_size_huge => "iso-zisofs-size-huge",
    iso_zisofs_bad_magic => "iso-zisofs-bad-magic",
    iso_zisofs_corrupt_block => "iso-zisofs-corrupt-block",
    iso_zisofs_block_size => "iso-zisofs-block-size",
    iso_zisofs_unknown_algorithm => "iso-zisofs-unknown-algorithm",
    iso_zisofs_bad_zf_entry => "iso-zisofs-bad-zf-entry",
}

/// The patch that builds the overlap attack, minus the overlap, is a valid two-extent file:
/// proves the chain is read as one file and that the attacks above change only one thing.
#[test]
fn patched_multi_extent_chain_reads_as_one_file() {
    let image = patched(|i| {
        chain_m1_m2(i);
    });
    let dir = tempfile::tempdir().unwrap();
    let path = crate::support::write_image(dir.path(), "chain.iso", &image);
    let iso = repack_iso::open(&path).unwrap();
    let file = iso.lookup("/m1").unwrap();
    assert_eq!(file.extents().unwrap().len(), 2);
    let mut expected = vec![b'A'; 2048];
    expected.extend_from_slice(&[b'B'; 1000]);
    assert_eq!(iso.read(&file, 4096).unwrap(), expected);
    assert!(matches!(iso.lookup("/m2"), Err(IsoError::NotFound { .. })));
}

/// The unpatched zisofs base decodes, so every `iso-zisofs-*` failure is its patch's doing.
#[test]
fn zisofs_base_image_is_clean() {
    let iso = Iso::from_source(zisofs_base().to_vec(), Limits::default()).unwrap();
    let file = iso.lookup("/big.bin").unwrap();
    assert_eq!(file.compression().map(|zf| zf.block_size_log2), Some(16));
    assert_eq!(file.size, u64::from(BIG_SIZE));
    let data = iso.read(&file, u64::MAX).unwrap();
    assert!(data.starts_with(b"zisofs attack zisofs attack "));
    assert!(file.stored_size() < 4096, "the seeds stay small");
    assert_eq!(
        probe_iso(Ok(iso), Probe::Read("/big.bin")).map_err(|e| e.to_string()),
        Ok(())
    );
}

#[test]
fn base_image_is_clean() {
    let dir = tempfile::tempdir().unwrap();
    let path = crate::support::write_image(dir.path(), "base.iso", base());
    let iso = repack_iso::open(&path).unwrap();
    iso.walk("/", |_, _| {}).unwrap();
    assert_eq!(
        iso.read(&iso.lookup("/victim.txt").unwrap(), 100).unwrap(),
        b"victim contents"
    );
    let deep = crate::support::write_image(dir.path(), "deep.iso", &deep_image());
    let deep = repack_iso::open(&deep).unwrap();
    let path: String = (0..70).map(|_| "/d").collect::<String>() + "/leaf";
    assert_eq!(deep.lookup(&path).unwrap_err().kind(), "iso-too-deep");
    let ok: String = (0..60).map(|_| "/d").collect::<String>();
    assert!(deep.list(&ok).is_ok());
}

/// Every attack has a seed in the committed fuzz corpus (images without their 32 KiB system
/// area, the harness's input format). `REPACK_WRITE_FUZZ_CORPUS=1 cargo test -p repack-iso
/// --test it fuzz_corpus` regenerates the seeds first.
#[test]
fn fuzz_corpus_has_a_seed_for_every_attack() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/walk");
    let write = std::env::var_os("REPACK_WRITE_FUZZ_CORPUS").is_some();
    if write {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("iso-clean"), &base()[16 * SECTOR..]).unwrap();
        std::fs::write(dir.join("iso-zisofs-clean"), &zisofs_base()[16 * SECTOR..]).unwrap();
    }
    let mut written = vec![base().to_vec(), zisofs_base().to_vec()];
    for attack in attacks() {
        // The deep image is large and other attacks differ only in limits or probes.
        if attack.name == "iso-deep-directory" || written.contains(&attack.image) {
            continue;
        }
        let seed = dir.join(attack.name);
        if write {
            let input = attack.image.get(16 * SECTOR..).unwrap_or_default();
            std::fs::write(&seed, input).unwrap();
        }
        assert!(
            seed.is_file(),
            "{} has no fuzz seed; regenerate with REPACK_WRITE_FUZZ_CORPUS=1",
            attack.name
        );
        written.push(attack.image);
    }
}
