//! The fuzz harnesses, shared by `fuzz/fuzz_targets/*.rs` and the test that replays the
//! committed corpora. Errors are expected; panics, hangs and unbounded allocations are the
//! bugs these look for. Not a stable API.

use crate::{
    Fingerprint, IsoSignatureCheck, Keyring, Limits, parse_checksum_bytes, parse_checksum_list,
    parse_companion_checksum,
};
use std::sync::OnceLock;
use std::time::{Duration, UNIX_EPOCH};

/// The throwaway key the signed fixtures and seeds were made with (public half only), and
/// its fingerprint; both written by `tests/fixtures/make-fixtures.sh`.
const FIXTURE_KEY: &str = include_str!("../tests/fixtures/keys/repack-test-release.asc");
const FIXTURE_PIN: &str = include_str!("../tests/fixtures/keys/repack-test-release.fingerprint");
/// The data every signature input is checked over (signature seeds sign exactly this).
pub const SIGNED_DATA: &[u8] = b"repack fuzzing: the signed data\n";

fn keyring() -> &'static Keyring {
    static KEYRING: OnceLock<Keyring> = OnceLock::new();
    KEYRING.get_or_init(|| {
        let pin: Fingerprint = FIXTURE_PIN.trim().parse().expect("pin");
        Keyring::from_key_files(&[pin], [("fixture key", FIXTURE_KEY.as_bytes())])
            .expect("the fixture key loads")
            // 2026-01-01: fixed, so a replay never depends on the clock.
            .at(UNIX_EPOCH + Duration::from_secs(1_767_225_600))
    })
}

/// Checksum-list input: the list parsers (bytes and text) and the one-file companion parser.
pub fn checksum_list(data: &[u8]) {
    let limits = Limits {
        max_list_bytes: 1 << 20,
        max_line_bytes: 4096,
        max_entries: 1000,
    };
    if let Ok(list) = parse_checksum_bytes(data, &limits) {
        let _ = list.require_sha256_entries();
        for entry in list.entries() {
            assert!(!entry.name.is_empty());
            assert_eq!(list.get(&entry.name), Some(entry));
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = parse_checksum_list(text);
    }
    let _ = parse_companion_checksum(data, "manjaro-kde-25.0.10-251013-linux612.iso");
}

/// Detached-signature input (armoured or binary), checked over [`SIGNED_DATA`] at once and
/// streamed in two uneven chunks; both paths must agree.
pub fn signature(data: &[u8]) {
    let keyring = keyring();
    let one_shot = keyring.verify_detached(SIGNED_DATA, data, "fuzz.sig");
    match IsoSignatureCheck::new(data, keyring, "fuzz.sig") {
        Ok(mut check) => {
            let (head, tail) = SIGNED_DATA.split_at(7);
            check.update(head);
            check.update(tail);
            let streamed = check.finish().map_err(|error| error.kind());
            assert_eq!(streamed, one_shot.map_err(|error| error.kind()));
        }
        // Refused before any data: the one-shot check must not pass either, except for a
        // text-mode signature, which is fine over a list but refused over an image.
        Err(error) => assert!(one_shot.is_err() || error.kind() == "signature-unsupported"),
    }
}

/// Clearsigned-document input.
pub fn clearsigned(data: &[u8]) {
    if let Ok(clearsigned) = keyring().verify_clearsigned(data, "fuzz-CHECKSUM") {
        let _ = parse_checksum_bytes(clearsigned.text.as_bytes(), &Limits::DEFAULT);
    }
}

/// Key-file input, pinned to the fixture key's fingerprint.
pub fn key_file(data: &[u8]) {
    let pin: Fingerprint = FIXTURE_PIN.trim().parse().expect("pin");
    if let Ok(keyring) = Keyring::from_key_files(&[pin], [("fuzz.asc", data)]) {
        let _ = keyring.verify_detached(SIGNED_DATA, data, "fuzz.sig");
    }
}
