//! Fuzz target for detached signatures (armour and packets), checked one-shot and streamed.
//! Run `cargo +nightly fuzz run signature` from crates/verify. Seeds and regressions live in
//! `corpus/signature/` and replay in `tests/it/corpus.rs`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    repack_verify::fuzzing::signature(data);
});
