//! Fuzz target for version parsing and ordering (up to three versions, one per line).
//! Run `cargo +nightly fuzz run versions` from watchers/watch. Seeds and regressions live in
//! `corpus/versions/` and replay in `tests/it/corpus.rs`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    repack_watch::fuzzing::versions(data);
});
