//! The incremental check of a detached signature over an image: fed in chunks of any size it
//! reaches the one-shot verdict, and whatever the data cannot fix is refused before the
//! first byte.

use crate::certs::{
    CertSpec, DAY, KEY_CREATED, SIGNED_AT, SubkeySpec, TestKey, config, detached_armoured,
    detached_binary, sign_data,
};
use pgp::packet::SignatureType;
use pgp::types::Password;
use proptest::prelude::*;
use repack_verify::IsoSignatureCheck;

const LABEL: &str = "https://mirror.example/iso/2025.11.01/archlinux-2025.11.01-x86_64.iso.sig";

/// 300 KiB of a non-repeating pattern standing in for an image.
fn image() -> Vec<u8> {
    (0..300 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

fn stream(
    key: &TestKey,
    signature: &[u8],
    data: &[u8],
    chunks: &[usize],
) -> Result<repack_verify::GoodSignature, repack_verify::SignatureError> {
    let mut check = IsoSignatureCheck::new(signature, &key.keyring(), LABEL)?;
    let mut rest = data;
    for &size in chunks.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (chunk, tail) = rest.split_at(size.clamp(1, rest.len()));
        check.update(chunk);
        rest = tail;
    }
    assert_eq!(check.bytes(), data.len() as u64);
    check.finish()
}

#[test]
fn streamed_in_odd_chunks_equals_one_shot() {
    let key = CertSpec::new(30).build();
    let data = image();
    let signature = detached_binary(vec![sign_data(&key.primary, &data, SIGNED_AT)]);
    let one_shot = key
        .keyring()
        .verify_detached(&data, &signature, LABEL)
        .unwrap();
    for chunks in [
        &[1usize, 3, 8191][..],
        &[65_536],
        &[data.len()],
        &[7, 1_000_003],
    ] {
        assert_eq!(stream(&key, &signature, &data, chunks).unwrap(), one_shot);
    }
}

#[test]
fn streamed_armoured_signature_by_a_subkey() {
    let mut spec = CertSpec::new(31);
    spec.subkeys = vec![SubkeySpec::default()];
    let key = spec.build();
    let data = image();
    let signature = detached_armoured(sign_data(&key.subkeys[0], &data, SIGNED_AT));
    let good = stream(&key, signature.as_bytes(), &data, &[4096]).unwrap();
    assert_eq!(good.key, key.subkey_fingerprint(0));
}

#[test]
fn streamed_v6_signature_with_its_salt() {
    let mut spec = CertSpec::new(40);
    spec.v6 = true;
    let key = spec.build();
    let data = image();
    let signature = detached_binary(vec![sign_data(&key.primary, &data, SIGNED_AT)]);
    let one_shot = key
        .keyring()
        .verify_detached(&data, &signature, LABEL)
        .unwrap();
    assert_eq!(
        stream(&key, &signature, &data, &[333, 77_777]).unwrap(),
        one_shot
    );
    let error = stream(&key, &signature, &data[1..], &[4096]).unwrap_err();
    assert_eq!(error.kind(), "signature-bad");
}

#[test]
fn one_flipped_bit_anywhere_fails() {
    let key = CertSpec::new(32).build();
    let data = image();
    let signature = detached_binary(vec![sign_data(&key.primary, &data, SIGNED_AT)]);
    for at in [0, 4095, 4096, data.len() - 1] {
        let mut changed = data.clone();
        changed[at] ^= 0x10;
        let error = stream(&key, &signature, &changed, &[4096]).unwrap_err();
        assert_eq!(error.kind(), "signature-bad", "byte {at}: {error}");
        assert!(error.to_string().contains(LABEL), "{error}");
    }
    let error = stream(&key, &signature, &data[..data.len() - 1], &[4096]).unwrap_err();
    assert_eq!(error.kind(), "signature-bad");
}

#[test]
fn unpinned_expired_and_revoked_keys_fail_before_any_data() {
    let pinned = CertSpec::new(33).build();
    let stranger = CertSpec::new(34).build();
    let signature = detached_binary(vec![sign_data(&stranger.primary, b"x", SIGNED_AT)]);
    let error = IsoSignatureCheck::new(&signature, &pinned.keyring(), LABEL).unwrap_err();
    assert_eq!(error.kind(), "signature-unpinned-key");

    let mut spec = CertSpec::new(35);
    spec.expires_after = Some(10 * DAY);
    let expired = spec.build();
    let signature = detached_binary(vec![sign_data(&expired.primary, b"x", KEY_CREATED + DAY)]);
    let error = IsoSignatureCheck::new(&signature, &expired.keyring(), LABEL).unwrap_err();
    assert_eq!(error.kind(), "signature-key-expired");

    let mut spec = CertSpec::new(36);
    spec.revoked = true;
    let revoked = spec.build();
    let signature = detached_binary(vec![sign_data(&revoked.primary, b"x", SIGNED_AT)]);
    let error = IsoSignatureCheck::new(&signature, &revoked.keyring(), LABEL).unwrap_err();
    assert_eq!(error.kind(), "signature-key-revoked");
}

#[test]
fn text_mode_signature_is_refused_for_an_image() {
    let key = CertSpec::new(37).build();
    let sig = config(SignatureType::Text, &key.primary, SIGNED_AT, Vec::new())
        .sign(&key.primary, &Password::empty(), &b"line\n"[..])
        .unwrap();
    let signature = detached_binary(vec![sig]);
    // Fine over text in memory, refused over an image.
    assert!(
        key.keyring()
            .verify_detached(b"line\n", &signature, LABEL)
            .is_ok()
    );
    let error = IsoSignatureCheck::new(&signature, &key.keyring(), LABEL).unwrap_err();
    assert_eq!(error.kind(), "signature-unsupported", "{error}");
}

#[test]
fn the_check_is_send_and_owns_its_keyring() {
    fn assert_send_static<T: Send + 'static>(_: &T) {}
    let key = CertSpec::new(38).build();
    let signature = detached_binary(vec![sign_data(&key.primary, b"abc", SIGNED_AT)]);
    let check = {
        let keyring = key.keyring();
        IsoSignatureCheck::new(&signature, &keyring, LABEL).unwrap()
    };
    assert_send_static(&check);
    let handle = std::thread::spawn(move || {
        let mut check = check;
        check.update(b"ab");
        check.update(b"c");
        check.finish()
    });
    assert!(handle.join().unwrap().is_ok());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn any_chunking_reaches_the_one_shot_verdict(
        cuts in proptest::collection::vec(1usize..20_000, 1..12),
        tamper in proptest::option::of(0usize..300 * 1024),
    ) {
        let key = CertSpec::new(39).build();
        let mut data = image();
        let signature = detached_binary(vec![sign_data(&key.primary, &data, SIGNED_AT)]);
        if let Some(at) = tamper {
            data[at] ^= 1;
        }
        let one_shot = key.keyring().verify_detached(&data, &signature, LABEL);
        let streamed = stream(&key, &signature, &data, &cuts);
        prop_assert_eq!(streamed.map_err(|e| e.kind()), one_shot.map_err(|e| e.kind()));
    }
}
