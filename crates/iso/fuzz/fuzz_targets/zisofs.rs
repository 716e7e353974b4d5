//! Fuzz target for the zisofs decoder: `cargo +nightly fuzz run zisofs` (from crates/iso).
//! The input is a compressed file's stored bytes (header, block pointer table, zlib blocks);
//! its `ZF` entry is the one its own header implies. The harness decodes it whole and
//! streamed and checks that both agree. Seeds live in `corpus/zisofs/` and replay in
//! `tests/it/corpus.rs`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    repack_iso::fuzzing::zisofs(data);
});
