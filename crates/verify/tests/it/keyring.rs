//! Building a keyring: only pinned primary keys are kept, from armoured or binary files
//! holding one or many keys; a pin missing from the files is an error naming it.

use crate::certs::{CertSpec, NOW, SIGNED_AT, SubkeySpec, detached_binary, sign_data, time};
use repack_verify::{Fingerprint, Keyring, KeyringError};

#[test]
fn only_pinned_keys_are_kept_from_a_file_of_many() {
    let wanted = CertSpec::new(40).build();
    let other = CertSpec::new(41).build();
    // Two armour blocks in one file, and the same two keys in one block.
    let two_blocks = format!("{}\n{}", other.armoured(), wanted.armoured());
    let mut one_block = other.binary();
    one_block.extend(wanted.binary());
    for file in [two_blocks.into_bytes(), one_block] {
        let keyring = Keyring::from_key_files(&[wanted.fingerprint()], [("many", file.as_slice())])
            .unwrap()
            .at(time(NOW));
        assert_eq!(keyring.pinned(), [wanted.fingerprint()]);
        let by_other = detached_binary(vec![sign_data(&other.primary, b"list", SIGNED_AT)]);
        let error = keyring
            .verify_detached(b"list", &by_other, "sig")
            .unwrap_err();
        assert_eq!(error.kind(), "signature-unpinned-key", "{error}");
        let by_wanted = detached_binary(vec![sign_data(&wanted.primary, b"list", SIGNED_AT)]);
        assert!(keyring.verify_detached(b"list", &by_wanted, "sig").is_ok());
    }
}

#[test]
fn several_pins_across_several_files() {
    let first = CertSpec::new(42).build();
    let second = CertSpec::new(43).build();
    let keyring = Keyring::from_key_files(
        &[
            second.fingerprint(),
            first.fingerprint(),
            second.fingerprint(),
        ],
        [
            ("first.gpg", first.binary().as_slice()),
            ("second.asc", second.armoured().as_bytes()),
        ],
    )
    .unwrap()
    .at(time(NOW));
    assert_eq!(
        keyring.pinned(),
        [second.fingerprint(), first.fingerprint()]
    );
    for key in [&first, &second] {
        let signature = detached_binary(vec![sign_data(&key.primary, b"list", SIGNED_AT)]);
        let good = keyring.verify_detached(b"list", &signature, "sig").unwrap();
        assert_eq!(good.pinned, key.fingerprint());
    }
}

#[test]
fn missing_pinned_key_is_an_error_naming_it_and_the_files() {
    let present = CertSpec::new(44).build();
    let absent = CertSpec::new(45).build().fingerprint();
    let error = Keyring::from_key_files(
        &[present.fingerprint(), absent.clone()],
        [("keys/debian-cd.asc", present.armoured().as_bytes())],
    )
    .unwrap_err();
    assert_eq!(error.kind(), "key-not-found");
    let message = error.to_string();
    assert!(message.contains(&absent.to_string()), "{message}");
    assert!(message.contains("keys/debian-cd.asc"), "{message}");
    assert!(
        message.contains(&present.fingerprint().to_string()),
        "{message}"
    );
}

#[test]
fn pinning_a_subkey_is_refused_naming_the_primary() {
    let mut spec = CertSpec::new(46);
    spec.subkeys = vec![SubkeySpec::default()];
    let key = spec.build();
    let error = Keyring::from_key_files(
        &[key.subkey_fingerprint(0)],
        [("k.asc", key.armoured().as_bytes())],
    )
    .unwrap_err();
    assert_eq!(error.kind(), "key-pin-is-subkey");
    assert!(
        error.to_string().contains(&key.fingerprint().to_string()),
        "{error}"
    );
}

#[test]
fn no_pins_and_bad_files_are_refused() {
    let key = CertSpec::new(47).build();
    let error = Keyring::from_key_files(&[], [("k.asc", key.armoured().as_bytes())]).unwrap_err();
    assert!(matches!(error, KeyringError::NoPins));
    let pins = [key.fingerprint()];
    for (file, kind) in [
        (&b"hello"[..], "key-file-malformed"),
        (&b""[..], "key-file-malformed"),
        (
            &b"-----BEGIN PGP SIGNATURE-----\n\n-----END PGP SIGNATURE-----\n"[..],
            "key-file-malformed",
        ),
    ] {
        let error = Keyring::from_key_files(&pins, [("k.asc", file)]).unwrap_err();
        assert_eq!(error.kind(), kind, "{error}");
        assert!(error.to_string().contains("k.asc"), "{error}");
    }
    let huge = vec![b' '; repack_verify::MAX_KEY_FILE_BYTES + 1];
    let error = Keyring::from_key_files(&pins, [("k.asc", huge.as_slice())]).unwrap_err();
    assert_eq!(error.kind(), "key-file-too-large");
}

#[test]
fn secret_key_files_are_refused() {
    let key = CertSpec::new(48).build();
    let secret = pgp::composed::SignedSecretKey::new(
        key.primary.clone(),
        key.public.details.clone(),
        Vec::new(),
        Vec::new(),
    )
    .to_armored_string(pgp::composed::ArmorOptions::default())
    .unwrap();
    let error =
        Keyring::from_key_files(&[key.fingerprint()], [("k.asc", secret.as_bytes())]).unwrap_err();
    assert_eq!(error.kind(), "key-file-malformed");
    assert!(error.to_string().contains("secret key"), "{error}");
}

#[test]
fn load_dir_finds_each_pin_by_file_name() {
    let dir = tempfile::tempdir().unwrap();
    let debian = CertSpec::new(49).build();
    let fedora = CertSpec::new(50).build();
    std::fs::write(
        dir.path()
            .join(format!("debian-cd-{}.asc", debian.fingerprint())),
        debian.armoured(),
    )
    .unwrap();
    std::fs::write(
        dir.path().join(format!(
            "fedora-release-42-{}.gpg",
            fedora.fingerprint().to_string().to_lowercase()
        )),
        fedora.binary(),
    )
    .unwrap();
    std::fs::write(dir.path().join("README.md"), "keys").unwrap();
    let keyring =
        Keyring::load_dir(dir.path(), &[debian.fingerprint(), fedora.fingerprint()]).unwrap();
    assert_eq!(
        keyring.pinned(),
        [debian.fingerprint(), fedora.fingerprint()]
    );

    let absent: Fingerprint = "843938DF228D22F7B3742BC0D94AA3F0EFE21092".parse().unwrap();
    let error = Keyring::load_dir(dir.path(), &[debian.fingerprint(), absent.clone()]).unwrap_err();
    assert_eq!(error.kind(), "key-file-missing");
    assert!(error.to_string().contains(&absent.to_string()), "{error}");

    // A file named for one key that holds another does not satisfy the pin.
    std::fs::write(
        dir.path().join(format!("ubuntu-cdimage-{absent}.asc")),
        debian.armoured(),
    )
    .unwrap();
    let error = Keyring::load_dir(dir.path(), &[absent]).unwrap_err();
    assert_eq!(error.kind(), "key-not-found", "{error}");

    let error = Keyring::load_dir(&dir.path().join("nope"), &[debian.fingerprint()]).unwrap_err();
    assert_eq!(error.kind(), "key-file-io");
}

#[test]
fn load_dirs_skips_missing_directories_and_names_every_one_searched() {
    let debian = CertSpec::new(51).build();
    let (first, second) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let missing = first.path().join("not-there");
    std::fs::write(
        second
            .path()
            .join(format!("debian-cd-{}.asc", debian.fingerprint())),
        debian.armoured(),
    )
    .unwrap();
    let dirs = [
        missing.clone(),
        first.path().to_owned(),
        second.path().to_owned(),
    ];
    let keyring = Keyring::load_dirs(&dirs, &[debian.fingerprint()]).unwrap();
    assert_eq!(keyring.pinned(), [debian.fingerprint()]);

    let absent: Fingerprint = "843938DF228D22F7B3742BC0D94AA3F0EFE21092".parse().unwrap();
    let error = Keyring::load_dirs(&dirs, &[absent]).unwrap_err();
    assert_eq!(error.kind(), "key-file-missing");
    for dir in &dirs {
        assert!(
            error.to_string().contains(&dir.display().to_string()),
            "{error}"
        );
    }
}

#[test]
fn key_ids_are_not_pins() {
    let error = "D94AA3F0EFE21092".parse::<Fingerprint>().unwrap_err();
    assert!(error.to_string().contains("key ID"), "{error}");
}
