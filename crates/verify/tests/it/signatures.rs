//! Signatures made here with rPGP over lists, in each framing, and the rules about the
//! signature packet itself: who made it, its hash, its creation and expiry, how several
//! packets combine, and what is not a signature at all.

use crate::certs::{
    CertSpec, DAY, NOW, SIGNED_AT, clearsign, config, detached_armoured, detached_binary,
    sign_data, time,
};
use pgp::crypto::hash::HashAlgorithm;
use pgp::packet::{SignatureType, SubpacketData};
use pgp::types::{Duration as PgpDuration, Password};
use repack_verify::{
    Keyring, MAX_SIGNATURE_BYTES, SignatureError, verify_clearsigned_list, verify_detached_list,
};

const LIST: &str = "6c9d0c6f3b4f4a1f7f2a0b5b8f8b1f0a9b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e  debian-live-13.1.0-amd64-gnome.iso\n";
const LABEL: &str = "https://cd.example/debian/13.1.0/SHA256SUMS.sign";

fn detached(keyring: &Keyring, signature: &[u8]) -> Result<(), SignatureError> {
    keyring
        .verify_detached(LIST.as_bytes(), signature, LABEL)
        .map(|_| ())
}

#[test]
fn good_detached_binary_signature() {
    let key = CertSpec::new(1).build();
    let signature = detached_binary(vec![sign_data(&key.primary, LIST.as_bytes(), SIGNED_AT)]);
    let verified =
        verify_detached_list(LIST.as_bytes(), &signature, &key.keyring(), LABEL).unwrap();
    assert_eq!(verified.signature.pinned, key.fingerprint());
    assert_eq!(verified.signature.key, key.fingerprint());
    assert_eq!(verified.signature.created, time(SIGNED_AT));
    assert_eq!(verified.list.len(), 1);
}

#[test]
fn good_detached_armoured_signature() {
    let key = CertSpec::new(1).build();
    let signature = detached_armoured(sign_data(&key.primary, LIST.as_bytes(), SIGNED_AT));
    assert!(signature.starts_with("-----BEGIN PGP SIGNATURE-----"));
    let verified =
        verify_detached_list(LIST.as_bytes(), signature.as_bytes(), &key.keyring(), LABEL).unwrap();
    assert_eq!(verified.signature.key, key.fingerprint());
}

#[test]
fn good_clearsigned_list_hands_out_only_the_signed_text() {
    let key = CertSpec::new(1).build();
    let text = format!(
        "# Fedora-Workstation-Live-42-1.1.x86_64.iso: 42 bytes\nSHA256 (Fedora-Workstation-Live-42-1.1.x86_64.iso) = {}\n",
        "ab".repeat(32)
    );
    let document = clearsign(&key.primary, &text, SIGNED_AT);
    let clearsigned = key
        .keyring()
        .verify_clearsigned(document.as_bytes(), "CHECKSUM")
        .unwrap();
    assert_eq!(clearsigned.text.trim_end(), text.trim_end());
    let verified =
        verify_clearsigned_list(document.as_bytes(), &key.keyring(), "CHECKSUM").unwrap();
    assert_eq!(verified.list.entries()[0].size, Some(42));
}

#[test]
fn rsa_keys_verify_too() {
    let mut spec = CertSpec::new(2);
    spec.rsa = true;
    let key = spec.build();
    let signature = detached_binary(vec![sign_data(&key.primary, LIST.as_bytes(), SIGNED_AT)]);
    assert_eq!(detached(&key.keyring(), &signature), Ok(()));
    let tampered = LIST.replace("gnome", "gnomf");
    let error = key
        .keyring()
        .verify_detached(tampered.as_bytes(), &signature, LABEL)
        .unwrap_err();
    assert_eq!(error.kind(), "signature-bad");
}

#[test]
fn v6_keys_are_pinned_by_their_64_digit_fingerprint() {
    let mut spec = CertSpec::new(5);
    spec.v6 = true;
    spec.subkeys = vec![crate::certs::SubkeySpec::default()];
    let key = spec.build();
    assert!(key.fingerprint().is_v6());
    assert_eq!(key.fingerprint().to_string().len(), 64);
    let by_primary = detached_binary(vec![sign_data(&key.primary, LIST.as_bytes(), SIGNED_AT)]);
    let good = key
        .keyring()
        .verify_detached(LIST.as_bytes(), &by_primary, LABEL)
        .unwrap();
    assert_eq!(good.pinned, key.fingerprint());
    let by_subkey = detached_armoured(sign_data(&key.subkeys[0], LIST.as_bytes(), SIGNED_AT));
    let good = key
        .keyring()
        .verify_detached(LIST.as_bytes(), by_subkey.as_bytes(), LABEL)
        .unwrap();
    assert_eq!(good.key, key.subkey_fingerprint(0));
    let error = key
        .keyring()
        .verify_detached(b"another list", &by_primary, LABEL)
        .unwrap_err();
    assert_eq!(error.kind(), "signature-bad");
}

#[test]
fn tampered_list_is_a_bad_signature_naming_signature_and_key() {
    let key = CertSpec::new(1).build();
    let signature = detached_binary(vec![sign_data(&key.primary, LIST.as_bytes(), SIGNED_AT)]);
    let mut tampered = LIST.as_bytes().to_vec();
    tampered[0] = b'7';
    let error = key
        .keyring()
        .verify_detached(&tampered, &signature, LABEL)
        .unwrap_err();
    assert!(
        matches!(error, SignatureError::BadSignature { .. }),
        "{error}"
    );
    assert_eq!(error.signature(), LABEL);
    let message = error.to_string();
    assert!(
        message.contains(LABEL) && message.contains(&key.fingerprint().to_string()),
        "{message}"
    );
}

#[test]
fn signature_by_an_unpinned_key_names_its_fingerprint() {
    let pinned = CertSpec::new(1).build();
    let stranger = CertSpec::new(3).build();
    let signature = detached_binary(vec![sign_data(
        &stranger.primary,
        LIST.as_bytes(),
        SIGNED_AT,
    )]);
    let error = pinned
        .keyring()
        .verify_detached(LIST.as_bytes(), &signature, LABEL)
        .unwrap_err();
    match &error {
        SignatureError::UnpinnedKey {
            issuers,
            pinned: pins,
            ..
        } => {
            assert_eq!(issuers, &[stranger.fingerprint().to_string()]);
            assert_eq!(pins, &[pinned.fingerprint()]);
        }
        other => panic!("unexpected {other}"),
    }
    assert_eq!(error.kind(), "signature-unpinned-key");
}

#[test]
fn signature_naming_only_a_key_id_is_matched_by_it() {
    let key = CertSpec::new(1).build();
    let mut config = config(SignatureType::Binary, &key.primary, SIGNED_AT, Vec::new());
    // Keep the creation time, drop the issuer fingerprint: the key ID (unhashed) remains.
    config
        .hashed_subpackets
        .retain(|packet| !matches!(packet.data, SubpacketData::IssuerFingerprint(_)));
    let sig = config
        .sign(&key.primary, &Password::empty(), LIST.as_bytes())
        .unwrap();
    assert_eq!(
        detached(&key.keyring(), &detached_binary(vec![sig.clone()])),
        Ok(())
    );
    let stranger = CertSpec::new(3).build();
    let error = detached(&stranger.keyring(), &detached_binary(vec![sig])).unwrap_err();
    let expected = format!("key ID {}", &key.fingerprint().to_string()[24..]);
    assert!(error.to_string().contains(&expected), "{error}");
}

#[test]
fn weak_hashes_are_refused() {
    // rPGP will not make an Ed25519 signature over SHA-1; RSA still can.
    let mut spec = CertSpec::new(2);
    spec.rsa = true;
    let key = spec.build();
    let mut config = config(SignatureType::Binary, &key.primary, SIGNED_AT, Vec::new());
    config.hash_alg = HashAlgorithm::Sha1;
    let sig = config
        .sign(&key.primary, &Password::empty(), LIST.as_bytes())
        .unwrap();
    let error = detached(&key.keyring(), &detached_binary(vec![sig])).unwrap_err();
    assert_eq!(error.kind(), "signature-weak-hash", "{error}");
    assert!(error.to_string().contains("Sha1"), "{error}");
}

#[test]
fn signature_without_creation_time_is_malformed() {
    let key = CertSpec::new(1).build();
    let mut config = config(SignatureType::Binary, &key.primary, SIGNED_AT, Vec::new());
    config
        .hashed_subpackets
        .retain(|packet| !matches!(packet.data, SubpacketData::SignatureCreationTime(_)));
    let sig = config
        .sign(&key.primary, &Password::empty(), LIST.as_bytes())
        .unwrap();
    let error = detached(&key.keyring(), &detached_binary(vec![sig])).unwrap_err();
    assert_eq!(error.kind(), "signature-malformed", "{error}");
    assert!(error.to_string().contains("creation time"), "{error}");
}

#[test]
fn expired_signature_is_refused() {
    let key = CertSpec::new(1).build();
    let lifetime = SubpacketData::SignatureExpirationTime(PgpDuration::from_secs(DAY));
    let sig = config(
        SignatureType::Binary,
        &key.primary,
        SIGNED_AT,
        vec![lifetime],
    )
    .sign(&key.primary, &Password::empty(), LIST.as_bytes())
    .unwrap();
    let signature = detached_binary(vec![sig]);
    let error = detached(&key.keyring(), &signature).unwrap_err();
    assert_eq!(error.kind(), "signature-expired", "{error}");
    // The same signature checked within its day passes.
    let early = key.keyring().at(time(SIGNED_AT + DAY / 2));
    assert_eq!(detached(&early, &signature), Ok(()));
}

#[test]
fn signature_older_than_its_key_is_refused() {
    let key = CertSpec::new(1).build();
    let signature = detached_binary(vec![sign_data(
        &key.primary,
        LIST.as_bytes(),
        crate::certs::KEY_CREATED - DAY,
    )]);
    let error = detached(&key.keyring(), &signature).unwrap_err();
    assert_eq!(error.kind(), "signature-key-invalid", "{error}");
    assert!(error.to_string().contains("predates"), "{error}");
}

#[test]
fn a_pinned_good_signature_passes_beside_an_unpinned_one() {
    let key = CertSpec::new(1).build();
    let stranger = CertSpec::new(3).build();
    let signature = detached_binary(vec![
        sign_data(&stranger.primary, LIST.as_bytes(), SIGNED_AT),
        sign_data(&key.primary, LIST.as_bytes(), SIGNED_AT),
    ]);
    let good = key
        .keyring()
        .verify_detached(LIST.as_bytes(), &signature, LABEL)
        .unwrap();
    assert_eq!(good.pinned, key.fingerprint());
}

#[test]
fn a_bad_pinned_signature_fails_even_beside_a_good_one() {
    let first = CertSpec::new(1).build();
    let second = CertSpec::new(4).build();
    let keyring = Keyring::from_key_files(
        &[first.fingerprint(), second.fingerprint()],
        [
            ("first.asc", first.armoured().as_bytes()),
            ("second.asc", second.armoured().as_bytes()),
        ],
    )
    .unwrap()
    .at(time(NOW));
    let signature = detached_binary(vec![
        sign_data(&first.primary, LIST.as_bytes(), SIGNED_AT),
        sign_data(&second.primary, b"some other list", SIGNED_AT),
    ]);
    let error = detached(&keyring, &signature).unwrap_err();
    assert_eq!(error.kind(), "signature-bad", "{error}");
    assert!(
        error
            .to_string()
            .contains(&second.fingerprint().to_string()),
        "{error}"
    );
}

#[test]
fn inputs_that_are_not_signatures() {
    let key = CertSpec::new(1).build();
    let keyring = key.keyring();
    assert_eq!(
        detached(&keyring, b"").unwrap_err().kind(),
        "signature-missing"
    );
    assert_eq!(
        detached(&keyring, b"<html>404</html>").unwrap_err().kind(),
        "signature-malformed"
    );
    let key_block = detached(&keyring, key.armoured().as_bytes()).unwrap_err();
    assert_eq!(key_block.kind(), "signature-malformed", "{key_block}");
    let truncated = detached_binary(vec![sign_data(&key.primary, LIST.as_bytes(), SIGNED_AT)]);
    let error = detached(&keyring, &truncated[..truncated.len() - 9]).unwrap_err();
    assert!(
        matches!(error.kind(), "signature-malformed" | "signature-missing"),
        "{error}"
    );
    let huge = vec![0x88; MAX_SIGNATURE_BYTES + 1];
    assert_eq!(
        detached(&keyring, &huge).unwrap_err().kind(),
        "signature-too-large"
    );
    let garbage_armour = "-----BEGIN PGP SIGNATURE-----\n\n!!!!\n-----END PGP SIGNATURE-----\n";
    assert_eq!(
        detached(&keyring, garbage_armour.as_bytes())
            .unwrap_err()
            .kind(),
        "signature-malformed"
    );
}

#[test]
fn documents_that_are_not_clearsigned() {
    let key = CertSpec::new(1).build();
    let keyring = key.keyring();
    let plain = keyring
        .verify_clearsigned(LIST.as_bytes(), "CHECKSUM")
        .unwrap_err();
    assert_eq!(plain.kind(), "signature-malformed");
    let armoured = detached_armoured(sign_data(&key.primary, LIST.as_bytes(), SIGNED_AT));
    let error = keyring
        .verify_clearsigned(armoured.as_bytes(), "CHECKSUM")
        .unwrap_err();
    assert_eq!(error.kind(), "signature-malformed");
    let error = keyring
        .verify_clearsigned(&[0xff, 0xfe], "CHECKSUM")
        .unwrap_err();
    assert_eq!(error.kind(), "signature-malformed");
}

#[test]
fn clearsigned_by_an_unpinned_key_is_refused() {
    let key = CertSpec::new(1).build();
    let stranger = CertSpec::new(3).build();
    let document = clearsign(&stranger.primary, LIST, SIGNED_AT);
    let error =
        verify_clearsigned_list(document.as_bytes(), &key.keyring(), "CHECKSUM").unwrap_err();
    assert_eq!(error.kind(), "signature-unpinned-key");
    assert!(
        error
            .to_string()
            .contains(&stranger.fingerprint().to_string()),
        "{error}"
    );
}

#[test]
fn discovery_reads_a_clearsigned_list_from_its_signed_text() {
    // The watcher parses Fedora's CHECKSUM before the trust step verifies it: the framing
    // and the signature block are not entries, and a dash-escaped line reads unescaped.
    let key = CertSpec::new(1).build();
    let text = format!(
        "# Fedora-Workstation-Live-42-1.1.x86_64.iso: 42 bytes\nSHA256 (Fedora-Workstation-Live-42-1.1.x86_64.iso) = {}\n-- a comment line that needs dash escaping\n",
        "ab".repeat(32)
    )
    .replace("-- a comment", "# -- a comment");
    let document = clearsign(&key.primary, &text, SIGNED_AT);
    assert!(document.starts_with("-----BEGIN PGP SIGNED MESSAGE-----"));
    let list = repack_verify::parse_checksum_list(&document).unwrap();
    assert_eq!(list.entries().len(), 1);
    assert_eq!(list.entries()[0].size, Some(42));
    assert_eq!(list, repack_verify::parse_checksum_list(&text).unwrap());

    // Broken framing is an error naming what it is, not an empty list.
    let cut = document.replace("-----BEGIN PGP SIGNATURE-----", "");
    let error = repack_verify::parse_checksum_list(&cut).unwrap_err();
    assert_eq!(error.kind(), "checksum-line-malformed");
    assert!(error.to_string().contains("clearsigned"), "{error}");
}
