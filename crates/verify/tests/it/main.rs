//! Integration tests of repack-verify.
//!
//! Modules:
//! - `formats`: GNU and BSD forms, comments, CRLF and BOM, other algorithms, companions.
//! - `errors`: malformed lines name their line; duplicates; HTML; empty lists; limits.
//! - `never_panics`: property tests over arbitrary and near-valid text.
//! - `shapes`: every upstream list shape, parsed from fixtures shaped like the real files.
//! - `signed_fixtures`: signatures made by GnuPG (fixtures) in every upstream shape, and
//!   tampering with them.
//! - `signatures`: rPGP-made detached, armoured and clearsigned signatures, and the packet
//!   rules (unpinned, weak hash, expiry of the signature, several packets).
//! - `key_rules`: subkey bindings, expiry and revocation of keys and subkeys.
//! - `streamed`: the incremental image check against the one-shot check.
//! - `keyring`: building keyrings from key files and directories; missing keys.
//! - `real_keys`: the keys shipped in `keys/`, and Debian's real `InRelease`.
//! - `corpus`: the fuzz corpora replay.

mod certs;
mod corpus;
mod errors;
mod formats;
mod key_rules;
mod keyring;
mod never_panics;
mod real_keys;
mod shapes;
mod signatures;
mod signed_fixtures;
mod streamed;

use std::path::{Path, PathBuf};

/// A digest made of one repeated hex digit, e.g. `hex('a')`.
pub fn hex(c: char) -> String {
    c.to_string().repeat(64)
}

/// `tests/fixtures/<path>`.
pub fn fixture_path(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path)
}

/// The bytes of `tests/fixtures/<path>`.
pub fn fixture(path: &str) -> Vec<u8> {
    let path = fixture_path(path);
    std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// The repository's `keys/` directory.
pub fn repo_keys() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../keys")
}

/// The keyring of the GnuPG-made fixtures: their throwaway key, checked at 2026-01-01.
pub fn fixture_keyring() -> repack_verify::Keyring {
    repack_verify::Keyring::from_key_files(
        &[fixture_pin()],
        [(
            "repack-test-release.asc",
            fixture("keys/repack-test-release.asc").as_slice(),
        )],
    )
    .expect("fixture keyring")
    .at(certs::time(certs::NOW))
}

/// The fingerprint of the fixtures' throwaway key.
pub fn fixture_pin() -> repack_verify::Fingerprint {
    String::from_utf8(fixture("keys/repack-test-release.fingerprint"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}
