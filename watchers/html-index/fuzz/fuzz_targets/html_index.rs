//! Fuzz target for the HTML index parser (links, ISO entries, version directories).
//! Run `cargo +nightly fuzz run html_index` from watchers/html-index. Seeds and regressions
//! live in `corpus/html_index/` and replay in `tests/it/corpus.rs`.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    repack_watch_html_index::fuzzing::html_index(data);
});
