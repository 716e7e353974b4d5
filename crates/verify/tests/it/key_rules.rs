//! The rules about the signing key: subkeys count only when bound to the pinned primary
//! (with a back-signature) and allowed to sign; expired or revoked keys and subkeys fail;
//! the signature must fall within the key's validity.

use crate::certs::{
    Binding, CertSpec, DAY, KEY_CREATED, NOW, SIGNED_AT, SubkeySpec, TestKey, detached_binary,
    sign_data, time,
};
use pgp::composed::SignedPublicSubKey;
use repack_verify::{Keyring, SignatureError};

const LIST: &[u8] = b"0000000000000000000000000000000000000000000000000000000000000000  a.iso\n";

fn with_subkey(seed: u64, subkey: SubkeySpec) -> TestKey {
    let mut spec = CertSpec::new(seed);
    spec.subkeys = vec![subkey];
    spec.build()
}

/// Signs [`LIST`] with the key's first subkey at [`SIGNED_AT`] and checks it at [`NOW`].
fn by_subkey(key: &TestKey) -> Result<repack_verify::GoodSignature, SignatureError> {
    let signature = detached_binary(vec![sign_data(&key.subkeys[0], LIST, SIGNED_AT)]);
    key.keyring()
        .verify_detached(LIST, &signature, "SHA256SUMS.gpg")
}

fn by_primary(key: &TestKey, at: u32) -> Result<repack_verify::GoodSignature, SignatureError> {
    let signature = detached_binary(vec![sign_data(&key.primary, LIST, at)]);
    key.keyring()
        .verify_detached(LIST, &signature, "SHA256SUMS.gpg")
}

#[test]
fn bound_signing_subkey_is_accepted_as_the_pinned_key() {
    let key = with_subkey(10, SubkeySpec::default());
    let good = by_subkey(&key).unwrap();
    assert_eq!(good.pinned, key.fingerprint());
    assert_eq!(good.key, key.subkey_fingerprint(0));
}

#[test]
fn subkey_bound_by_another_primary_is_refused() {
    let key = with_subkey(
        11,
        SubkeySpec {
            binding: Binding::Foreign,
            ..SubkeySpec::default()
        },
    );
    let error = by_subkey(&key).unwrap_err();
    assert_eq!(error.kind(), "signature-subkey-not-bound", "{error}");
    let message = error.to_string();
    assert!(
        message.contains(&key.subkey_fingerprint(0).to_string()),
        "{message}"
    );
    assert!(
        message.contains(&key.fingerprint().to_string()),
        "{message}"
    );
}

#[test]
fn subkey_whose_binding_claims_the_pinned_key_but_does_not_verify_is_refused() {
    let key = with_subkey(
        60,
        SubkeySpec {
            binding: Binding::Forged,
            ..SubkeySpec::default()
        },
    );
    let error = by_subkey(&key).unwrap_err();
    assert_eq!(error.kind(), "signature-subkey-not-bound", "{error}");
    assert!(error.to_string().contains("no valid binding"), "{error}");
}

#[test]
fn subkey_whose_back_signature_does_not_verify_is_refused() {
    let key = with_subkey(
        61,
        SubkeySpec {
            binding: Binding::BadBackSignature,
            ..SubkeySpec::default()
        },
    );
    let error = by_subkey(&key).unwrap_err();
    assert_eq!(error.kind(), "signature-subkey-not-bound", "{error}");
    assert!(
        error.to_string().contains("back-signature does not verify"),
        "{error}"
    );
}

#[test]
fn subkey_without_back_signature_is_refused() {
    let key = with_subkey(
        12,
        SubkeySpec {
            binding: Binding::NoBackSignature,
            ..SubkeySpec::default()
        },
    );
    let error = by_subkey(&key).unwrap_err();
    assert_eq!(error.kind(), "signature-subkey-not-bound", "{error}");
    assert!(error.to_string().contains("back-signature"), "{error}");
}

#[test]
fn subkey_without_any_binding_is_not_part_of_the_pinned_key() {
    let mut key = with_subkey(13, SubkeySpec::default());
    // Strip the binding: the subkey packet sits in the file with no signature at all.
    key.public.public_subkeys = vec![SignedPublicSubKey {
        key: key.subkeys[0].public_key().clone(),
        signatures: Vec::new(),
    }];
    let error = by_subkey(&key).unwrap_err();
    assert_eq!(error.kind(), "signature-unpinned-key", "{error}");
    assert!(
        error
            .to_string()
            .contains(&key.subkey_fingerprint(0).to_string()),
        "{error}"
    );
}

#[test]
fn subkey_whose_binding_does_not_allow_signing_is_refused() {
    let key = with_subkey(
        14,
        SubkeySpec {
            can_sign: false,
            ..SubkeySpec::default()
        },
    );
    let error = by_subkey(&key).unwrap_err();
    assert_eq!(error.kind(), "signature-key-not-for-signing", "{error}");
}

#[test]
fn primary_whose_flags_exclude_signing_is_refused() {
    let mut spec = CertSpec::new(15);
    spec.can_sign = false;
    let key = spec.build();
    let error = by_primary(&key, SIGNED_AT).unwrap_err();
    assert_eq!(error.kind(), "signature-key-not-for-signing", "{error}");
}

#[test]
fn key_expired_before_the_signature_is_refused() {
    let mut spec = CertSpec::new(16);
    spec.expires_after = Some(30 * DAY);
    let key = spec.build();
    let error = by_primary(&key, KEY_CREATED + 31 * DAY).unwrap_err();
    match &error {
        SignatureError::KeyExpired {
            key: fp,
            expired,
            made,
            ..
        } => {
            assert_eq!(fp, &key.fingerprint());
            assert_eq!(*expired, time(KEY_CREATED + 30 * DAY));
            assert_eq!(*made, time(KEY_CREATED + 31 * DAY));
        }
        other => panic!("unexpected {other}"),
    }
    assert!(
        error.to_string().contains("2025-01-31 00:00:00 UTC"),
        "{error}"
    );
}

#[test]
fn key_expired_since_the_signature_is_refused_now_but_not_then() {
    let mut spec = CertSpec::new(17);
    spec.expires_after = Some(200 * DAY);
    let key = spec.build();
    // Signed on day 150, while valid; checked at NOW (day 365), after expiry.
    let signature = detached_binary(vec![sign_data(&key.primary, LIST, KEY_CREATED + 150 * DAY)]);
    let error = key
        .keyring()
        .verify_detached(LIST, &signature, "SHA256SUMS.gpg")
        .unwrap_err();
    assert_eq!(error.kind(), "signature-key-expired");
    let then = key.keyring().at(time(KEY_CREATED + 160 * DAY));
    assert!(
        then.verify_detached(LIST, &signature, "SHA256SUMS.gpg")
            .is_ok()
    );
}

#[test]
fn expired_subkey_is_refused_naming_the_subkey() {
    let key = with_subkey(
        18,
        SubkeySpec {
            expires_after: Some(10 * DAY),
            ..SubkeySpec::default()
        },
    );
    let error = by_subkey(&key).unwrap_err();
    match &error {
        SignatureError::KeyExpired {
            key: fp, primary, ..
        } => {
            assert_eq!(fp, &key.subkey_fingerprint(0));
            assert_eq!(primary, &key.fingerprint());
        }
        other => panic!("unexpected {other}"),
    }
}

#[test]
fn subkey_of_an_expired_primary_is_refused() {
    let mut spec = CertSpec::new(19);
    spec.expires_after = Some(10 * DAY);
    spec.subkeys = vec![SubkeySpec::default()];
    let key = spec.build();
    let error = by_subkey(&key).unwrap_err();
    match &error {
        SignatureError::KeyExpired { key: fp, .. } => assert_eq!(fp, &key.fingerprint()),
        other => panic!("unexpected {other}"),
    }
}

#[test]
fn revoked_key_is_refused_with_its_reason() {
    let mut spec = CertSpec::new(20);
    spec.revoked = true;
    let key = spec.build();
    let error = by_primary(&key, SIGNED_AT).unwrap_err();
    assert_eq!(error.kind(), "signature-key-revoked", "{error}");
    assert!(
        error.to_string().contains("test key compromised"),
        "{error}"
    );
    // Also when the signature predates the revocation: a compromised key proves nothing.
    let error = by_primary(&key, KEY_CREATED + 1).unwrap_err();
    assert_eq!(error.kind(), "signature-key-revoked");
}

#[test]
fn revoked_subkey_is_refused_and_a_revoked_primary_takes_its_subkeys() {
    let key = with_subkey(
        21,
        SubkeySpec {
            revoked: true,
            ..SubkeySpec::default()
        },
    );
    let error = by_subkey(&key).unwrap_err();
    match &error {
        SignatureError::KeyRevoked { key: fp, .. } => assert_eq!(fp, &key.subkey_fingerprint(0)),
        other => panic!("unexpected {other}"),
    }
    let mut spec = CertSpec::new(22);
    spec.revoked = true;
    spec.subkeys = vec![SubkeySpec::default()];
    let key = spec.build();
    assert_eq!(by_subkey(&key).unwrap_err().kind(), "signature-key-revoked");
}

#[test]
fn revocation_by_someone_else_is_ignored() {
    // A key-revocation signature made by another key and pasted into the file counts for
    // nothing: only the pinned key can revoke itself.
    let mut spec = CertSpec::new(23);
    spec.revoked = true;
    let revoked_elsewhere = spec.build();
    let mut key = CertSpec::new(24).build();
    key.public.details.revocation_signatures = revoked_elsewhere
        .public
        .details
        .revocation_signatures
        .clone();
    assert!(by_primary(&key, SIGNED_AT).is_ok());
}

#[test]
fn key_without_a_valid_self_signature_is_refused() {
    let mut key = CertSpec::new(25).build();
    let other = CertSpec::new(26).build();
    // Swap in another key's user-ID certification: it does not verify for this key.
    key.public.details.users = other.public.details.users.clone();
    let error = by_primary(&key, SIGNED_AT).unwrap_err();
    assert_eq!(error.kind(), "signature-key-invalid", "{error}");
    assert!(error.to_string().contains("self-signature"), "{error}");
}

#[test]
fn signature_before_the_subkey_existed_is_refused() {
    let key = with_subkey(
        27,
        SubkeySpec {
            created: SIGNED_AT + DAY,
            ..SubkeySpec::default()
        },
    );
    let error = by_subkey(&key).unwrap_err();
    assert_eq!(error.kind(), "signature-key-invalid", "{error}");
    assert!(
        error
            .to_string()
            .contains(&key.subkey_fingerprint(0).to_string()),
        "{error}"
    );
}

#[test]
fn the_reference_time_defaults_to_the_clock() {
    // A key that expired in 2025 (before NOW, and so before any clock this runs on) fails
    // without any `at`.
    const { assert!(NOW > KEY_CREATED + 200 * DAY) };
    let mut spec = CertSpec::new(28);
    spec.expires_after = Some(200 * DAY);
    let key = spec.build();
    let keyring =
        Keyring::from_key_files(&[key.fingerprint()], [("k.asc", key.armoured().as_bytes())])
            .unwrap();
    let signature = detached_binary(vec![sign_data(&key.primary, LIST, KEY_CREATED + DAY)]);
    let error = keyring
        .verify_detached(LIST, &signature, "SHA256SUMS.gpg")
        .unwrap_err();
    assert_eq!(error.kind(), "signature-key-expired");
}
