//! Fuzz target: any bytes as an initrd image; parsing, listing, lint, reads and append must
//! never panic, and segments must always cover the image exactly.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    repack_initrd::fuzz::exercise(data);
});
