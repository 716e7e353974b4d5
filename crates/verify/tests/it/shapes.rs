//! Every upstream list shape, parsed from a fixture laid out like the real file (names,
//! separators, comments; digests are stand-ins). Signed shapes are parsed here from their
//! signed text only; `signed_fixtures` checks the signatures.

use crate::{fixture, fixture_keyring};
use repack_verify::{
    ChecksumList, Limits, LineForm, OtherAlgorithm, parse_checksum_bytes, parse_companion_checksum,
};

/// One line per entry: line, form, digest prefix, size, name; then the other digests.
fn render(list: &ChecksumList) -> String {
    let mut out = String::new();
    for entry in list.entries() {
        let size = entry
            .size
            .map(|size| size.to_string())
            .unwrap_or("-".into());
        out += &format!(
            "{:>2} {:<9} {}… {:>10} {}\n",
            entry.line,
            format!("{:?}", entry.form),
            &entry.sha256.to_hex()[..12],
            size,
            entry.name
        );
    }
    for other in list.other_digests() {
        out += &format!(
            "{:>2} {:?} {}… {}\n",
            other.line,
            other.algorithm,
            &other.hex[..12],
            other.name
        );
    }
    out
}

fn parse(path: &str) -> ChecksumList {
    let list = parse_checksum_bytes(&fixture(path), &Limits::DEFAULT).expect(path);
    list.require_sha256_entries().expect(path);
    list
}

#[test]
fn ubuntu_sha256sums() {
    let list = parse("ubuntu-24.04.3/SHA256SUMS");
    assert!(list.entries().iter().all(|e| e.form == LineForm::GnuBinary));
    insta::assert_snapshot!(render(&list));
}

#[test]
fn debian_live_sha256sums() {
    let list = parse("debian-live-13.1.0/SHA256SUMS");
    assert_eq!(list.len(), 8);
    assert!(list.get("debian-live-13.1.0-amd64-standard.iso").is_some());
    insta::assert_snapshot!(render(&list));
}

#[test]
fn fedora_checksum_from_its_signed_text() {
    let document = fixture("fedora-42/Fedora-Workstation-42-1.1-x86_64-CHECKSUM");
    let signed = fixture_keyring()
        .verify_clearsigned(&document, "Fedora-Workstation-42-1.1-x86_64-CHECKSUM")
        .unwrap();
    let list = parse_checksum_bytes(signed.text.as_bytes(), &Limits::DEFAULT).unwrap();
    let entry = list
        .get("Fedora-Workstation-Live-42-1.1.x86_64.iso")
        .unwrap();
    assert_eq!(entry.size, Some(2_398_523_392));
    assert_eq!(entry.form, LineForm::Bsd);
    insta::assert_snapshot!(render(&list));
}

#[test]
fn fedora_checksum_parsed_raw_lists_exactly_its_signed_text() {
    // Discovery (the watcher) reads the clearsigned list before the trust step verifies it:
    // the armour lines and the signature block are not entries, and what it finds is what
    // the signature covers.
    let raw = fixture("fedora-42/Fedora-Workstation-42-1.1-x86_64-CHECKSUM");
    let discovered = parse_checksum_bytes(&raw, &Limits::DEFAULT).unwrap();
    let signed = fixture_keyring()
        .verify_clearsigned(&raw, "Fedora-Workstation-42-1.1-x86_64-CHECKSUM")
        .unwrap();
    let verified = parse_checksum_bytes(signed.text.as_bytes(), &Limits::DEFAULT).unwrap();
    assert_eq!(discovered, verified);
    assert!(
        discovered
            .get("Fedora-Workstation-Live-42-1.1.x86_64.iso")
            .is_some()
    );
}

#[test]
fn arch_sha256sums_txt_with_the_alias() {
    let list = parse("archlinux-2025.11.01/sha256sums.txt");
    let dated = list.get("archlinux-2025.11.01-x86_64.iso").unwrap();
    let alias = list.get("archlinux-x86_64.iso").unwrap();
    assert_ne!(dated.line, alias.line);
    insta::assert_snapshot!(render(&list));
}

#[test]
fn arch_b2sums_txt_has_no_sha256_entry() {
    let list = parse_checksum_bytes(
        &fixture("archlinux-2025.11.01/b2sums.txt"),
        &Limits::DEFAULT,
    )
    .unwrap();
    assert!(list.is_empty());
    assert_eq!(list.other_digests().len(), 4);
    assert!(
        list.other_digests()
            .iter()
            .all(|other| other.algorithm == OtherAlgorithm::Sha512OrBlake2b)
    );
    let error = list.require_sha256_entries().unwrap_err();
    assert_eq!(error.kind(), "checksum-list-empty");
    insta::assert_snapshot!(error.to_string());
}

#[test]
fn manjaro_iso_sha256_companion() {
    let iso = "manjaro-kde-25.0.10-251013-linux612.iso";
    let entry =
        parse_companion_checksum(&fixture(&format!("manjaro-25.0.10/{iso}.sha256")), iso).unwrap();
    assert_eq!(entry.name, iso);
    assert_eq!(entry.form, LineForm::Gnu);
    assert_eq!(entry.line, 1);
}

#[test]
fn mint_sha256sum_txt() {
    let list = parse("linuxmint-22.2/sha256sum.txt");
    assert!(list.get("linuxmint-22.2-cinnamon-64bit.iso").is_some());
    insta::assert_snapshot!(render(&list));
}

#[test]
fn list_saved_with_bom_and_crlf() {
    let bytes = fixture("windows-saved/SHA256SUMS");
    assert!(bytes.starts_with(b"\xef\xbb\xbf") && bytes.windows(2).any(|w| w == b"\r\n"));
    let list = parse("windows-saved/SHA256SUMS");
    assert!(list.entries().iter().all(|e| !e.name.ends_with('\r')));
    insta::assert_snapshot!(render(&list));
}

#[test]
fn html_page_and_empty_file_are_refused() {
    let html = parse_checksum_bytes(&fixture("refused/SHA256SUMS.html"), &Limits::DEFAULT);
    assert_eq!(html.unwrap_err().kind(), "checksum-list-html");
    let empty = parse_checksum_bytes(&fixture("refused/SHA256SUMS.empty"), &Limits::DEFAULT)
        .unwrap()
        .require_sha256_entries();
    assert_eq!(empty.unwrap_err().kind(), "checksum-list-empty");
}
