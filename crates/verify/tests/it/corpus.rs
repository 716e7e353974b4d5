//! Replays the committed fuzz corpora (`fuzz/corpus/<target>/`) through the same harnesses
//! the cargo-fuzz targets use, so every input that ever mattered keeps being checked.

use std::path::Path;

fn replay(target: &str, harness: fn(&[u8]), at_least: usize) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut replayed = 0;
    for entry in
        std::fs::read_dir(&dir).unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
    {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        harness(&data);
        replayed += 1;
    }
    assert!(
        replayed >= at_least,
        "only {replayed} inputs in {}",
        dir.display()
    );
}

#[test]
fn checksum_list_corpus_replays() {
    replay("checksum_list", repack_verify::fuzzing::checksum_list, 8);
}

#[test]
fn signature_corpus_replays() {
    replay("signature", repack_verify::fuzzing::signature, 7);
}

#[test]
fn clearsigned_corpus_replays() {
    replay("clearsigned", repack_verify::fuzzing::clearsigned, 3);
}

#[test]
fn key_file_corpus_replays() {
    replay("key_file", repack_verify::fuzzing::key_file, 3);
}

/// The seeds reach the deep paths: a good signature, a bad one, a good clearsigned list.
#[test]
fn seeds_cover_the_verdicts() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let read = |path: &str| std::fs::read(corpus.join(path)).unwrap();
    let keyring = crate::fixture_keyring();
    let data = repack_verify::fuzzing::SIGNED_DATA;
    assert!(
        keyring
            .verify_detached(data, &read("signature/binary"), "s")
            .is_ok()
    );
    assert!(
        keyring
            .verify_detached(data, &read("signature/armoured"), "s")
            .is_ok()
    );
    let kind = |path: &str| {
        keyring
            .verify_detached(data, &read(path), "s")
            .unwrap_err()
            .kind()
    };
    assert_eq!(kind("signature/over-other-data"), "signature-bad");
    assert_eq!(kind("signature/sha1"), "signature-weak-hash");
    assert_eq!(
        kind("signature/public-key-not-signature"),
        "signature-malformed"
    );
    assert!(
        keyring
            .verify_clearsigned(&read("clearsigned/fedora-checksum"), "c")
            .is_ok()
    );
    assert_eq!(
        keyring
            .verify_clearsigned(&read("clearsigned/fedora-checksum-tampered"), "c")
            .unwrap_err()
            .kind(),
        "signature-bad"
    );
}
