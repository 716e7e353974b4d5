//! The real keys shipped in `keys/`, and a real clearsigned file: Debian's `InRelease` for
//! bookworm-updates (copied from /var/lib/apt/lists), signed by the bookworm archive key's
//! signing subkey and by the trixie archive key.

use crate::certs::time;
use crate::{fixture, repo_keys};
use repack_verify::{Fingerprint, Keyring, SignatureError};
use std::collections::BTreeSet;

const INRELEASE: &str = "debian-bookworm-updates-InRelease";
/// Debian Archive Automatic Signing Key (12/bookworm).
const BOOKWORM: &str = "B8B80B5B623EAB6AD8775C45B7C5D7D6350947F8";
/// Its signing subkey, which made the signature.
const BOOKWORM_SIGNING_SUBKEY: &str = "4CB50190207B4758A3F73A796ED0E7B82643E131";
/// The trixie archive key's signing subkey, which made the second signature.
const TRIXIE_SIGNING_SUBKEY: &str = "B8E5F13176D2A7A75220028078DBA3BC47EF2265";
/// Debian CD signing key.
const DEBIAN_CD: &str = "DF9B9C49EAA9298432589D76DA87E80D6294BE9B";
/// 2026-12-02: a day after the InRelease signatures (2026-12-01 02:14 UTC).
const CHECKED: u32 = 1_796_169_600;
/// 2031-01-20: after the bookworm key expired (2031-01-19).
const AFTER_EXPIRY: u32 = 1_926_633_600;

fn pin(hex: &str) -> Fingerprint {
    hex.parse().unwrap()
}

/// Every `*.asc` in keys/ with the fingerprint its name ends with.
fn shipped() -> Vec<(String, Fingerprint)> {
    let mut keys: Vec<_> = std::fs::read_dir(repo_keys())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".asc"))
        .map(|name| {
            let fingerprint = name
                .trim_end_matches(".asc")
                .rsplit('-')
                .next()
                .unwrap()
                .parse()
                .unwrap_or_else(|error| panic!("{name}: {error}"));
            (name, fingerprint)
        })
        .collect();
    keys.sort();
    keys
}

#[test]
fn every_shipped_key_loads_under_the_fingerprint_it_is_named_for() {
    let keys = shipped();
    assert!(keys.len() >= 7, "{keys:?}");
    for (name, fingerprint) in &keys {
        let keyring = Keyring::load_dir(&repo_keys(), std::slice::from_ref(fingerprint))
            .unwrap_or_else(|error| panic!("{name}: {error}"));
        assert_eq!(keyring.pinned(), std::slice::from_ref(fingerprint));
    }
    let all: Vec<Fingerprint> = keys.iter().map(|(_, fp)| fp.clone()).collect();
    assert_eq!(Keyring::load_dir(&repo_keys(), &all).unwrap().pinned(), all);
}

#[test]
fn keys_readme_lists_every_shipped_key() {
    let readme = std::fs::read_to_string(repo_keys().join("README.md")).unwrap();
    for (name, fingerprint) in shipped() {
        assert!(
            readme.contains(&name),
            "keys/README.md does not list {name}"
        );
        assert!(readme.contains(&fingerprint.to_string()), "{fingerprint}");
    }
    // Names of this directory's files, as the tables spell them (not paths elsewhere).
    let listed: BTreeSet<&str> = readme
        .split(|c: char| c.is_whitespace() || c == '`' || c == '|')
        .filter(|word| {
            word.ends_with(".asc")
                && word.starts_with(|c: char| c.is_ascii_lowercase())
                && !word.contains(['/', '<'])
        })
        .collect();
    assert!(listed.len() >= 7, "{listed:?}");
    for name in listed {
        assert!(
            repo_keys().join(name).exists(),
            "README lists missing {name}"
        );
    }
}

#[test]
fn debian_inrelease_verifies_by_the_bookworm_signing_subkey() {
    let keyring = Keyring::load_dir(&repo_keys(), &[pin(BOOKWORM)])
        .unwrap()
        .at(time(CHECKED));
    let signed = keyring
        .verify_clearsigned(&fixture(INRELEASE), INRELEASE)
        .unwrap();
    assert_eq!(signed.signature.pinned, pin(BOOKWORM));
    assert_eq!(signed.signature.key, pin(BOOKWORM_SIGNING_SUBKEY));
    assert!(
        signed
            .signature
            .user_id
            .as_deref()
            .unwrap()
            .contains("12/bookworm")
    );
    assert!(signed.text.starts_with("Origin: Debian\nLabel: Debian\n"));
    assert!(!signed.text.contains("BEGIN PGP"));
    assert!(signed.text.contains("Codename: bookworm-updates\n"));
}

#[test]
fn debian_inrelease_under_another_pin_names_both_issuers() {
    let keyring = Keyring::load_dir(&repo_keys(), &[pin(DEBIAN_CD)])
        .unwrap()
        .at(time(CHECKED));
    let error = keyring
        .verify_clearsigned(&fixture(INRELEASE), INRELEASE)
        .unwrap_err();
    match &error {
        SignatureError::UnpinnedKey { issuers, .. } => assert_eq!(
            issuers,
            &[
                BOOKWORM_SIGNING_SUBKEY.to_owned(),
                TRIXIE_SIGNING_SUBKEY.to_owned()
            ]
        ),
        other => panic!("unexpected {other}"),
    }
    assert!(error.to_string().contains(DEBIAN_CD), "{error}");
}

#[test]
fn debian_inrelease_after_the_key_expired_fails() {
    let keyring = Keyring::load_dir(&repo_keys(), &[pin(BOOKWORM)])
        .unwrap()
        .at(time(AFTER_EXPIRY));
    let error = keyring
        .verify_clearsigned(&fixture(INRELEASE), INRELEASE)
        .unwrap_err();
    assert_eq!(error.kind(), "signature-key-expired", "{error}");
    assert!(error.to_string().contains("2031-01-19"), "{error}");
}

#[test]
fn debian_inrelease_with_one_changed_byte_fails() {
    let keyring = Keyring::load_dir(&repo_keys(), &[pin(BOOKWORM)])
        .unwrap()
        .at(time(CHECKED));
    let document = String::from_utf8(fixture(INRELEASE)).unwrap();
    let tampered = document.replacen("Suite: oldstable-updates", "Suite: oldstable-updatez", 1);
    assert_ne!(tampered, document);
    let error = keyring
        .verify_clearsigned(tampered.as_bytes(), INRELEASE)
        .unwrap_err();
    assert_eq!(error.kind(), "signature-bad", "{error}");
    assert!(
        error.to_string().contains(BOOKWORM_SIGNING_SUBKEY),
        "{error}"
    );
}
