//! Fuzz target for clearsigned documents (cleartext framework, armour, packets).
//! Run `cargo +nightly fuzz run clearsigned` from crates/verify. Seeds and regressions live in
//! `corpus/clearsigned/` and replay in `tests/it/corpus.rs`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    repack_verify::fuzzing::clearsigned(data);
});
