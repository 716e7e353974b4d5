//! Replays the committed fuzz corpora through the same harnesses the cargo-fuzz targets use,
//! so every input that ever mattered keeps being checked, and checks that each seed named
//! after an attack still carries it: a seed that silently became harmless (a regenerated
//! image that no longer trips the check, a check that stopped firing) fails here.
//!
//! - `fuzz/corpus/walk`: images without their 32 KiB system area. `iso-clean` and
//!   `iso-zisofs-clean` must open, walk and read cleanly; every other `iso-*` seed must be
//!   refused with the error of the attack of the same name in `hostile` (seeds are written
//!   by `hostile::fuzz_corpus_has_a_seed_for_every_attack`). Inputs with other names (as
//!   libFuzzer names what it finds) are replayed only.
//! - `fuzz/corpus/zisofs`: stored zisofs files. `zisofs-clean-*` must decode; the others,
//!   named after their attack, must fail with the error kind [`ZISOFS_SEEDS`] gives.

use std::path::{Path, PathBuf};

use repack_iso::{ExtentReader, IsoError, IsoImage, Limits, read_file};

use crate::hostile::{assert_refused, attacks, run};
use crate::support::SECTOR;

fn corpus(name: &str) -> Vec<(String, Vec<u8>)> {
    let dir = corpus_dir(name);
    let mut seeds: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{} is committed: {e}", dir.display()))
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    seeds.sort();
    seeds
}

fn corpus_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(name)
}

/// A walk seed as the image it stands for: the implied zero system area, then the seed.
fn image_of(seed: &[u8]) -> Vec<u8> {
    let mut image = vec![0u8; 16 * SECTOR];
    image.extend_from_slice(seed);
    image
}

#[test]
fn fuzz_corpus_replays_without_panics() {
    let seeds = corpus("walk");
    for (_, data) in &seeds {
        repack_iso::fuzzing::walk(data);
    }
    assert!(seeds.len() >= 10, "only {} walk corpus inputs", seeds.len());
    let seeds = corpus("zisofs");
    for (_, data) in &seeds {
        repack_iso::fuzzing::zisofs(data);
    }
    assert!(
        seeds.len() >= 3,
        "only {} zisofs corpus inputs",
        seeds.len()
    );
}

#[test]
fn every_attack_seed_still_carries_its_attack() {
    let attacks = attacks();
    let mut checked = Vec::new();
    for (name, data) in corpus("walk") {
        if !name.starts_with("iso-") {
            continue;
        }
        let image = image_of(&data);
        if name.ends_with("-clean") {
            let iso = repack_iso::Iso::from_source(image, Limits::default())
                .unwrap_or_else(|e| panic!("seed `{name}` must open cleanly: {e}"));
            let mut files = Vec::new();
            iso.walk("/", |path, entry| {
                if entry.kind == repack_iso::EntryKind::File {
                    files.push(path.to_owned());
                }
            })
            .unwrap_or_else(|e| panic!("seed `{name}` must walk cleanly: {e}"));
            assert!(!files.is_empty(), "seed `{name}` holds no files");
            for path in files {
                let file = iso.lookup(&path).unwrap();
                iso.read(&file, 1 << 20)
                    .unwrap_or_else(|e| panic!("seed `{name}`: `{path}` must read: {e}"));
            }
            checked.push(name);
            continue;
        }
        let attack = attacks.iter().find(|a| a.name == name).unwrap_or_else(|| {
            panic!("seed `{name}` is named like an attack but `hostile` has no such attack")
        });
        assert_refused(attack, run(attack, image), "seed");
        checked.push(name);
    }
    for expected in [
        "iso-clean",
        "iso-extent-past-end",
        "iso-directory-loop",
        "iso-zisofs-clean",
        "iso-zisofs-pointer-past-end",
        "iso-zisofs-block-overflow",
    ] {
        assert!(
            checked.iter().any(|c| c == expected),
            "seed `{expected}` was not checked"
        );
    }
}

/// The zisofs corpus: name, stored bytes (as [`repack_iso::fuzzing::encode_zisofs`] writes
/// them, then patched), and the error kind decoding must fail with (`None`: it decodes).
type ZisofsSeed = (&'static str, Vec<u8>, Option<&'static str>);

/// Little-endian `u32` at `at`.
fn le32(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
}

fn put_le32(bytes: &mut [u8], at: usize, value: u32) {
    bytes[at..at + 4].copy_from_slice(&value.to_le_bytes());
}

/// Seeds of the zisofs fuzz target. Pointers start at byte 16; the content has 4 blocks of
/// 32 KiB (noise, zeros, text, text tail).
pub fn zisofs_seeds() -> Vec<ZisofsSeed> {
    let mut content = crate::zisofs::noise(32_768, 5);
    content.extend(std::iter::repeat_n(0u8, 32_768));
    content.extend(b"zisofs seed ".iter().cycle().take(40_000).copied());
    let clean = repack_iso::fuzzing::encode_zisofs(&content, 15);
    let patched = |patch: &dyn Fn(&mut Vec<u8>)| {
        let mut bytes = clean.clone();
        patch(&mut bytes);
        bytes
    };
    let last = 16 + 4 * 4;
    vec![
        ("zisofs-clean-32k", clean.clone(), None),
        (
            "zisofs-clean-128k",
            repack_iso::fuzzing::encode_zisofs(&content, 17),
            None,
        ),
        (
            "zisofs-pointer-past-end",
            patched(&|b| {
                let end = b.len() as u32;
                put_le32(b, last, end + 1);
            }),
            Some("iso-zisofs-pointer-past-end"),
        ),
        (
            "zisofs-pointers-backwards",
            patched(&|b| {
                let first = le32(b, 16);
                put_le32(b, 20, first - 1);
            }),
            Some("iso-zisofs-pointers-backwards"),
        ),
        (
            "zisofs-size-lie",
            // The header (from which the fuzz target takes its ZF entry) claims one block
            // more than the table was written for.
            patched(&|b| {
                let size = le32(b, 8);
                put_le32(b, 8, size + 32_768);
            }),
            Some("iso-zisofs-first-pointer"),
        ),
        (
            "zisofs-block-overflow",
            // Block 0 (32 KiB of noise, stored) relabelled as the 16 KiB last block of a
            // one-block file: inflating it overflows. One pointer less: the table shrinks
            // by 4 bytes, and every pointer moves with it.
            {
                let mut bytes = clean[..16].to_vec();
                put_le32(&mut bytes, 8, 16_384);
                let (start, end) = (le32(&clean, 16) as usize, le32(&clean, 20) as usize);
                let block = &clean[start..end];
                bytes.extend_from_slice(&24u32.to_le_bytes());
                bytes.extend_from_slice(&(24 + block.len() as u32).to_le_bytes());
                bytes.extend_from_slice(block);
                bytes
            },
            Some("iso-zisofs-block-overflow"),
        ),
    ]
}

/// Decodes a zisofs seed as the fuzz target does, whole and streamed (which must agree).
fn decode(bytes: &[u8]) -> Result<Vec<u8>, IsoError> {
    let file = repack_iso::fuzzing::stored_file(bytes);
    let whole = read_file(bytes, &file, 1 << 20);
    let mut streamed = Vec::new();
    let stream = ExtentReader::new(bytes, &file).and_then(|mut reader| {
        std::io::Read::read_to_end(&mut reader, &mut streamed).map_err(|e| {
            *e.into_inner()
                .expect("carries the IsoError")
                .downcast::<IsoError>()
                .expect("carries the IsoError")
        })
    });
    match (&whole, stream) {
        (Ok(whole), Ok(_)) => assert_eq!(*whole, streamed),
        (Err(a), Err(b)) => assert_eq!(a.kind(), b.kind()),
        (a, b) => panic!("read_file and ExtentReader disagree: {a:?} / {b:?}"),
    }
    whole
}

/// `REPACK_WRITE_FUZZ_CORPUS=1` writes the zisofs seeds first.
#[test]
fn every_zisofs_seed_still_carries_its_attack() {
    let dir = corpus_dir("zisofs");
    let seeds = zisofs_seeds();
    if std::env::var_os("REPACK_WRITE_FUZZ_CORPUS").is_some() {
        std::fs::create_dir_all(&dir).unwrap();
        for (name, bytes, _) in &seeds {
            std::fs::write(dir.join(name), bytes).unwrap();
        }
    }
    let committed = corpus("zisofs");
    for (name, bytes, expect) in &seeds {
        let (_, data) = committed
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| {
                panic!("zisofs seed `{name}` is not committed; write it with REPACK_WRITE_FUZZ_CORPUS=1")
            });
        // The committed bytes are checked, not the ones built here.
        match (decode(data), expect) {
            (Ok(content), None) => {
                assert_eq!(content.len() as u64, u64::from(le32(bytes, 8)), "{name}")
            }
            (Err(err), Some(kind)) => assert_eq!(err.kind(), *kind, "seed `{name}`: {err}"),
            (Ok(_), Some(kind)) => {
                panic!("seed `{name}` decodes: it no longer fails with {kind}")
            }
            (Err(err), None) => panic!("seed `{name}` must decode: {err}"),
        }
    }
    for (name, _) in &committed {
        if name.starts_with("zisofs-") {
            assert!(
                seeds.iter().any(|(n, _, _)| n == name),
                "seed `{name}` is named like an attack but has no expectation here"
            );
        }
    }
}
