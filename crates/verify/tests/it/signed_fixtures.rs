//! Signatures made by GnuPG (see `tests/fixtures/make-fixtures.sh`) in the shape each
//! upstream uses, verified by this crate; and what one changed byte does to them.

use crate::certs::{CertSpec, time};
use crate::{fixture, fixture_keyring, fixture_pin};
use repack_verify::{
    IsoSignatureCheck, LineForm, SignatureError, TrustError, verify_clearsigned_list,
    verify_detached_list,
};

const UBUNTU: &str = "ubuntu-24.04.3/SHA256SUMS";
const DEBIAN: &str = "debian-live-13.1.0/SHA256SUMS";
const FEDORA: &str = "fedora-42/Fedora-Workstation-42-1.1-x86_64-CHECKSUM";
const MINT: &str = "linuxmint-22.2/sha256sum.txt";
const ARCH_SIG: &str = "archlinux-2025.11.01/archlinux-2025.11.01-x86_64.iso.sig";

/// The stand-in image the Arch signature covers: byte i is (i*31 + 7) mod 251.
pub fn arch_image() -> Vec<u8> {
    (0..208_953u64)
        .map(|i| ((i * 31 + 7) % 251) as u8)
        .collect()
}

/// Changes one hex digit of the first entry (the digest of the first listed ISO).
fn tamper(list: &[u8]) -> Vec<u8> {
    let mut list = list.to_vec();
    let at = list
        .iter()
        .position(|b| b.is_ascii_hexdigit() && *b != b'0')
        .unwrap();
    list[at] = if list[at] == b'1' { b'2' } else { b'1' };
    list
}

fn signature_error(result: Result<repack_verify::VerifiedList, TrustError>) -> SignatureError {
    match result {
        Err(TrustError::Signature(error)) => error,
        other => panic!("expected a signature error, got {other:?}"),
    }
}

#[test]
fn ubuntu_list_with_binary_detached_signature() {
    let verified = verify_detached_list(
        &fixture(UBUNTU),
        &fixture(&format!("{UBUNTU}.gpg")),
        &fixture_keyring(),
        "ubuntu/SHA256SUMS",
    )
    .unwrap();
    assert_eq!(verified.signature.pinned, fixture_pin());
    assert_eq!(verified.signature.key, fixture_pin());
    // --faked-system-time 20250807T161500 in make-fixtures.sh.
    assert_eq!(verified.signature.created, time(1_754_583_300));
    let entry = verified
        .list
        .get("ubuntu-24.04.3-desktop-amd64.iso")
        .unwrap();
    assert_eq!(entry.form, LineForm::GnuBinary);
}

#[test]
fn debian_list_with_armoured_detached_signature() {
    let verified = verify_detached_list(
        &fixture(DEBIAN),
        &fixture(&format!("{DEBIAN}.sign")),
        &fixture_keyring(),
        "debian/SHA256SUMS",
    )
    .unwrap();
    assert_eq!(verified.list.len(), 8);
    assert!(
        verified
            .signature
            .user_id
            .as_deref()
            .unwrap()
            .contains("Repack Test Release Signing Key")
    );
}

#[test]
fn fedora_clearsigned_checksum() {
    let verified = verify_clearsigned_list(&fixture(FEDORA), &fixture_keyring(), FEDORA).unwrap();
    let entry = verified
        .list
        .get("Fedora-Workstation-Live-42-1.1.x86_64.iso")
        .unwrap();
    assert_eq!(
        (entry.form, entry.size, entry.line),
        (LineForm::Bsd, Some(2_398_523_392), 2)
    );
}

#[test]
fn mint_list_with_gpg_signature() {
    let verified = verify_detached_list(
        &fixture(MINT),
        &fixture(&format!("{MINT}.gpg")),
        &fixture_keyring(),
        MINT,
    )
    .unwrap();
    assert_eq!(verified.list.len(), 3);
}

#[test]
fn list_saved_with_bom_and_crlf_verifies_and_parses() {
    let verified = verify_detached_list(
        &fixture("windows-saved/SHA256SUMS"),
        &fixture("windows-saved/SHA256SUMS.gpg"),
        &fixture_keyring(),
        "windows-saved/SHA256SUMS",
    )
    .unwrap();
    assert_eq!(verified.list.len(), 2);
    assert_eq!(verified.list.entries()[0].line, 2);
}

#[test]
fn one_changed_byte_in_a_detached_list_is_a_bad_signature() {
    for (list, signature) in [
        (UBUNTU, format!("{UBUNTU}.gpg")),
        (DEBIAN, format!("{DEBIAN}.sign")),
        (MINT, format!("{MINT}.gpg")),
    ] {
        let error = signature_error(verify_detached_list(
            &tamper(&fixture(list)),
            &fixture(&signature),
            &fixture_keyring(),
            list,
        ));
        assert_eq!(error.kind(), "signature-bad", "{list}: {error}");
        let message = error.to_string();
        assert!(message.contains(list), "{message}");
        assert!(message.contains(&fixture_pin().to_string()), "{message}");
    }
}

#[test]
fn one_changed_byte_in_a_clearsigned_list_is_a_bad_signature() {
    let document = String::from_utf8(fixture(FEDORA)).unwrap();
    let tampered = document.replacen("2398523392 bytes", "2398523393 bytes", 1);
    assert_ne!(tampered, document);
    let error = signature_error(verify_clearsigned_list(
        tampered.as_bytes(),
        &fixture_keyring(),
        FEDORA,
    ));
    assert_eq!(error.kind(), "signature-bad", "{error}");
}

#[test]
fn text_outside_the_signed_block_is_refused() {
    let document = String::from_utf8(fixture(FEDORA)).unwrap();
    let evil = format!(
        "SHA256 (Fedora-Workstation-Live-42-1.1.x86_64.iso) = {}\n",
        "e".repeat(64)
    );
    for forged in [format!("{evil}{document}"), format!("{document}{evil}")] {
        let error = signature_error(verify_clearsigned_list(
            forged.as_bytes(),
            &fixture_keyring(),
            FEDORA,
        ));
        assert_eq!(error.kind(), "signature-malformed", "{error}");
    }
}

#[test]
fn a_signature_of_another_list_is_a_bad_signature() {
    let error = signature_error(verify_detached_list(
        &fixture(DEBIAN),
        &fixture(&format!("{UBUNTU}.gpg")),
        &fixture_keyring(),
        DEBIAN,
    ));
    assert_eq!(error.kind(), "signature-bad");
}

#[test]
fn a_good_signature_by_a_key_not_pinned_is_refused_naming_it() {
    let other = CertSpec::new(1).build().keyring();
    let error = signature_error(verify_detached_list(
        &fixture(UBUNTU),
        &fixture(&format!("{UBUNTU}.gpg")),
        &other,
        "https://releases.example/24.04.3/SHA256SUMS.gpg",
    ));
    assert_eq!(error.kind(), "signature-unpinned-key");
    let message = error.to_string();
    assert!(message.contains(&fixture_pin().to_string()), "{message}");
    assert!(message.contains("SHA256SUMS.gpg"), "{message}");
}

#[test]
fn a_signed_html_page_or_empty_list_is_still_refused() {
    for (list, kind) in [
        ("refused/SHA256SUMS.html", "checksum-list-html"),
        ("refused/SHA256SUMS.empty", "checksum-list-empty"),
    ] {
        let error = verify_detached_list(
            &fixture(list),
            &fixture(&format!("{list}.gpg")),
            &fixture_keyring(),
            list,
        )
        .unwrap_err();
        assert_eq!(error.kind(), kind, "{error}");
        assert!(matches!(error, TrustError::List { .. }));
        assert!(error.to_string().contains(list), "{error}");
    }
}

#[test]
fn arch_iso_signature_streamed_in_odd_chunks() {
    let image = arch_image();
    let signature = fixture(ARCH_SIG);
    let keyring = fixture_keyring();
    let one_shot = keyring
        .verify_detached(&image, &signature, ARCH_SIG)
        .unwrap();
    let mut check = IsoSignatureCheck::new(&signature, &keyring, ARCH_SIG).unwrap();
    let mut rest = image.as_slice();
    for size in [1, 7, 4093, 65_537, 3, 0, 100_000].into_iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (chunk, tail) = rest.split_at(size.min(rest.len()));
        check.update(chunk);
        rest = tail;
    }
    assert_eq!(check.bytes(), image.len() as u64);
    assert_eq!(check.finish().unwrap(), one_shot);
}

#[test]
fn arch_iso_signature_fails_on_a_changed_or_short_image() {
    let signature = fixture(ARCH_SIG);
    let keyring = fixture_keyring();
    let mut changed = arch_image();
    changed[123_456] ^= 1;
    let short = &arch_image()[..208_952];
    for image in [changed.as_slice(), short] {
        let mut check = IsoSignatureCheck::new(&signature, &keyring, ARCH_SIG).unwrap();
        check.update(image);
        let error = check.finish().unwrap_err();
        assert_eq!(error.kind(), "signature-bad", "{error}");
    }
}
