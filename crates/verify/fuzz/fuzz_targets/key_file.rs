//! Fuzz target for key files (armoured or binary public keys).
//! Run `cargo +nightly fuzz run key_file` from crates/verify. Seeds and regressions live in
//! `corpus/key_file/` and replay in `tests/it/corpus.rs`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    repack_verify::fuzzing::key_file(data);
});
