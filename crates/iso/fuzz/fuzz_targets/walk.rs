//! Fuzz target for the directory walker: `cargo +nightly fuzz run walk` (from crates/iso).
//! The input is an image from sector 16 on (the 32 KiB system area is implied zeros); the
//! harness opens it, walks every directory, resolves and reads every file it finds.
//! Seeds and regressions live in `corpus/walk/` and replay in `tests/it/corpus.rs`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    repack_iso::fuzzing::walk(data);
});
