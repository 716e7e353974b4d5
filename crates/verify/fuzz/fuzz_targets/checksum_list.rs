//! Fuzz target for the checksum-list parsers (lists, one-file companions).
//! Run `cargo +nightly fuzz run checksum_list` from crates/verify. Seeds and regressions live in
//! `corpus/checksum_list/` and replay in `tests/it/corpus.rs`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    repack_verify::fuzzing::checksum_list(data);
});
