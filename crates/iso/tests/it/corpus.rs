//! Replays the committed fuzz corpus (`fuzz/corpus/walk`) through the same harness the
//! cargo-fuzz target uses, so every input that ever mattered keeps being checked.

use std::path::Path;

#[test]
fn fuzz_corpus_replays_without_panics() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/walk");
    let mut replayed = 0;
    for entry in std::fs::read_dir(&dir).expect("fuzz/corpus/walk is committed") {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        repack_iso::fuzzing::walk(&data);
        replayed += 1;
    }
    assert!(
        replayed >= 10,
        "only {replayed} corpus inputs in {}",
        dir.display()
    );
}
